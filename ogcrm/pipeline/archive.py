"""Zip archives holding data files: members are checked, extracted with a byte budget,
and each read by the reader that recognises it."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from ogcrm_plugins.readers._support import ZIP_MAX_TOTAL_BYTES, check_zip

from ogcrm.pipeline.errors import ReaderError

#: Sidecar files read together with their table (DBF), never on their own.
SIDECARS = {".cpg", ".prj", ".shx", ".shp", ".sbn", ".sbx", ".xml"}


def is_plain_zip(head: bytes, path: Path) -> bool:
    """A zip that is not an Office document (XLSX is a zip too).

    Decided by the members the central directory names, not by where
    ``[Content_Types].xml`` sits: Excel writes it first, openpyxl (and so pandas'
    ``to_excel``) last, past any fixed-size head once the workbook is a few kB.
    """
    if not head.startswith(b"PK\x03\x04"):
        return False
    if b"[Content_Types].xml" in head[:4096]:
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            return "[Content_Types].xml" not in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return True  # the archive reader refuses it, saying why


def extract_members(
    path: Path, *, display_name: str, budget: list[int] | None = None
) -> Iterator[tuple[str, Path]]:
    """Yield ``(member name, extracted path)`` for each data member, in archive order.

    Extraction counts the bytes actually written against the declared sizes, so a
    member lying about its size in the central directory is caught too. ``budget`` (a
    one-item list, shared with the archives nested in this one) is what may still be
    written: a zip of zips has one budget, not one per zip.
    """
    budget = budget if budget is not None else [ZIP_MAX_TOTAL_BYTES]
    names = check_zip(path, display_name=display_name)
    tmp = Path(tempfile.mkdtemp(prefix="ogcrm-zip-"))
    try:
        with zipfile.ZipFile(path) as zf:
            written = 0
            for name in names:
                info = zf.getinfo(name)
                if info.is_dir() or name.startswith("__MACOSX/"):
                    continue
                target = tmp / Path(name).name
                with zf.open(info) as src, target.open("wb") as dst:
                    while block := src.read(1 << 20):
                        written += len(block)
                        budget[0] -= len(block)
                        if (
                            written > ZIP_MAX_TOTAL_BYTES
                            or budget[0] < 0
                            or dst.tell() + len(block) > info.file_size
                        ):
                            raise ReaderError(
                                display_name,
                                f"archive entry {name!r} expands beyond its declared size",
                            )
                        dst.write(block)
            data = [
                n for n in names if not n.endswith("/") and Path(n).suffix.lower() not in SIDECARS
            ]
            for name in data:
                yield name, tmp / Path(name).name
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
