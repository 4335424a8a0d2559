"""Helpers shared by the built-in readers: encoding detection and size guards.

Private to ``ogcrm_plugins.readers``; third-party readers depend only on the plugin
contract (``ogcrm.pipeline.contracts``), not on this module.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from ogcrm.pipeline.errors import ReaderError

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: cp1252 leaves these bytes undefined; a file holding them is latin-1 at best.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_BLOCK = 1 << 20


def bom_encoding(head: bytes) -> str | None:
    for bom, name in BOMS:
        if head.startswith(bom):
            return name
    return None


def guess_encoding(head: bytes) -> str:
    """A provisional encoding from the first bytes: BOM, else UTF-8 if it decodes, else
    cp1252 (or latin-1 when bytes cp1252 leaves undefined occur)."""
    if bom := bom_encoding(head):
        return bom
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a multibyte character cut by the sample's end
            return "utf-8"
    return "latin-1" if _CP1252_UNDEFINED & set(head) else "cp1252"


def resolve_encoding(path: Path, provisional: str, *, display_name: str) -> str:
    """Check the whole file against ``provisional``; return the encoding to read it with.

    Deterministic ladder: a BOM decides; otherwise strict UTF-8 over the whole stream.
    A file that stops being UTF-8 after showing real UTF-8 characters is corrupt, and the
    error names the byte offset and row; one that never showed any is cp1252 (or latin-1).
    """
    if provisional not in ("utf-8", "cp1252", "latin-1"):
        return provisional
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    saw_multibyte = False
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            try:
                decoder.decode(block, final=len(block) < _BLOCK)
            except UnicodeDecodeError as exc:
                bad = offset + exc.start
                if not saw_multibyte and block[: exc.start].isascii():
                    return _single_byte(path)
                raise ReaderError(
                    display_name,
                    f"invalid UTF-8 byte 0x{block[exc.start]:02x} at byte offset {bad}; "
                    "the file is UTF-8 up to there (re-save it as UTF-8, or set the encoding)",
                    row=_line_at(path, bad),
                ) from None
            saw_multibyte = saw_multibyte or not block.isascii()  # C speed, not a byte loop
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ReaderError(
                display_name,
                "file ends inside a UTF-8 character (truncated?)",
                row=_line_at(path, offset),
            ) from None
    return "utf-8"


def _line_at(path: Path, offset: int) -> int:
    """The 1-based line holding byte ``offset``: counted only for a file being refused,
    so a good file's pass does not pay for it."""
    line = 1
    with path.open("rb") as fh:
        while offset > 0 and (block := fh.read(min(_BLOCK, offset))):
            line += block.count(b"\n")
            offset -= len(block)
    return line


def _single_byte(path: Path) -> str:
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            if _CP1252_UNDEFINED & set(block):
                return "latin-1"
    return "cp1252"


def looks_binary(head: bytes) -> bool:
    """NUL bytes outside UTF-16/32 text, or mostly control characters: not a text file."""
    if bom_encoding(head) in ("utf-16", "utf-32"):
        return False
    if b"\x00" in head:
        return True
    sample = head[:4096]
    if not sample:
        return False
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls / len(sample) > 0.05


#: Limits checked from a zip's central directory before anything is decompressed.
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_TOTAL_BYTES = 2 * 1024**3
ZIP_MAX_RATIO = 200


def check_zip(path: Path, *, display_name: str) -> list[str]:
    """Refuse zip bombs and unsafe member names before decompressing anything.

    Checks every central-directory entry: count, declared total size, compression ratio,
    absolute or ``..`` paths, and symlinks. Returns the member names. (Python 3.11.7's
    zipfile lacks the CVE-2024-0450 overlap check, so these limits are the guard.)
    """
    import stat
    import zipfile

    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ReaderError(display_name, f"not a valid zip archive: {exc}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > ZIP_MAX_ENTRIES:
            raise ReaderError(
                display_name,
                f"archive has {len(infos)} entries; at most {ZIP_MAX_ENTRIES} are accepted",
            )
        total = 0
        for info in infos:
            name = info.filename
            if (
                name.startswith(("/", "\\"))
                or ".." in Path(name.replace("\\", "/")).parts
                or ":" in name
            ):
                raise ReaderError(
                    display_name, f"archive entry {name!r} points outside the archive"
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ReaderError(display_name, f"archive entry {name!r} is a symbolic link")
            total += info.file_size
            if info.file_size > 1_000_000 and info.file_size > ZIP_MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise ReaderError(
                    display_name,
                    f"archive entry {name!r} expands {info.file_size // max(info.compress_size, 1)}:1 "
                    "(a zip bomb?); refused",
                )
        if total > ZIP_MAX_TOTAL_BYTES:
            raise ReaderError(
                display_name,
                f"archive expands to {total >> 20} MB; at most {ZIP_MAX_TOTAL_BYTES >> 20} MB",
            )
        # the whole archive too: 300 members of 1 MB each under the per-entry floor in a
        # 1.1 MB file are a bomb as well (finding 1 of the outside attack)
        packed = sum(i.compress_size for i in infos)
        if total > 1_000_000 and total > ZIP_MAX_RATIO * max(packed, 1):
            raise ReaderError(
                display_name,
                f"archive expands {total // max(packed, 1)}:1 (a zip bomb?); refused",
            )
        return [i.filename for i in infos]
