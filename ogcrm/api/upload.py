"""File uploads by the GraphQL multipart request spec, for ``uploadDataset`` only.

Strawberry's own multipart support would buffer the parts through Starlette's form
parser into the system's temporary directory and hash nothing; a 2 GiB agency file wants
better. This handler, in front of the GraphQL app for ``multipart/form-data`` POSTs:

1. refuses before reading a byte of the body: no valid token (401), a role that may not
   upload datasets (403), a declared length over ``OGCRM_MAX_UPLOAD_BYTES`` (413);
2. streams the body through ``python-multipart``'s parser: the small ``operations`` and
   ``map`` parts into memory (64 KiB each at most), the one file part into a temporary
   file under the data dir while it is hashed; past the cap the request ends with 413
   at once (:class:`~ogcrm.api.limits.BodySizeLimit` counts the bytes) and the partial
   file is removed;
3. executes the one ``uploadDataset`` mutation the operations name, with the file given
   as a :class:`ReceivedFile` (path, SHA-256, size, the client's name), and answers as
   the GraphQL endpoint does. The resolver moves the file to its content-addressed
   place; whatever is left of the temporary file is removed afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from ogcrm.api.context import Context
from ogcrm.config import Settings


class GraphQLApp(Protocol):
    """What an upload needs of the GraphQL app (:class:`ogcrm.api.app.GraphQLApp`)."""

    settings: Settings
    schema: Any

    async def get_context(self, request: Any, response: Any = None) -> Context: ...

    async def process_result(self, request: Any, result: Any) -> Any: ...


#: how large the ``operations`` and ``map`` parts may be
MAX_FIELD_BYTES = 64 * 1024
UPLOAD_FIELD = "uploadDataset"


@dataclass(frozen=True)
class ReceivedFile:
    """An uploaded file, already on disk under the data dir and hashed."""

    path: Path
    sha256: str
    size: int
    filename: str


class UploadRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def is_multipart(scope: Scope) -> bool:
    if scope["type"] != "http" or scope.get("method") != "POST":
        return False
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
    return content_type.split(b";", 1)[0].strip().lower() == b"multipart/form-data"


class _Parts:
    """The callbacks of the streaming parser: where each part's bytes go."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.fields: dict[str, bytearray] = {}
        self.file: ReceivedFile | None = None
        self.file_name_in_form: str | None = None
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self._current: str | None = None
        self._sink: Any = None
        self._hash: Any = None
        self._size = 0
        self._path: Path | None = None
        self._client_name = ""

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers, self._field, self._value = {}, b"", b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self._current = name
        if filename is None:
            self.fields[name] = bytearray()
            return
        if self._path is not None:
            raise UploadRefused(400, "one file per upload")
        self.file_name_in_form = name
        self._client_name = filename.decode("utf-8", "replace")
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".upload-")
        self._path = Path(tmp)
        self._sink = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._sink is not None:
            self._sink.write(chunk)
            self._hash.update(chunk)
            self._size += len(chunk)
            return
        field = self.fields[self._current or ""]
        field += chunk
        if len(field) > MAX_FIELD_BYTES:
            raise UploadRefused(413, f"the {self._current!r} part is over {MAX_FIELD_BYTES} bytes")

    def _part_end(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None
            assert self._path is not None
            self.file = ReceivedFile(
                self._path, self._hash.hexdigest(), self._size, self._client_name
            )

    def discard(self) -> None:
        """Close and remove the temporary file, if it is still there."""
        if self._sink is not None:
            self._sink.close()
        if self._path is not None:
            self._path.unlink(missing_ok=True)


def _json_field(parts: _Parts, name: str) -> Any:
    raw = parts.fields.get(name)
    if raw is None:
        raise UploadRefused(400, f"the multipart request has no {name!r} part")
    try:
        return json.loads(bytes(raw))
    except ValueError:
        raise UploadRefused(400, f"the {name!r} part is not JSON") from None


def _check_operation(operations: Any, file_key: str, mapping: Any) -> dict[str, Any]:
    """One operation, a mutation of ``uploadDataset`` alone, its file at
    ``variables.file``: anything else is refused (multipart is for uploads only)."""
    if not isinstance(operations, dict) or not isinstance(operations.get("query"), str):
        raise UploadRefused(400, "operations must be one GraphQL request (batches are refused)")
    if mapping != {file_key: ["variables.file"]}:
        raise UploadRefused(400, 'map must be {"<part>": ["variables.file"]} for one file')
    try:
        document = parse(operations["query"])
    except GraphQLError as exc:
        raise UploadRefused(400, f"the query does not parse: {exc.message}") from None
    definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fields = [s for d in definitions for s in d.selection_set.selections if hasattr(s, "name")]
    if (
        len(definitions) != 1
        or definitions[0].operation is not OperationType.MUTATION
        or [f.name.value for f in fields] != [UPLOAD_FIELD]
    ):
        raise UploadRefused(400, f"multipart requests may only run the {UPLOAD_FIELD} mutation")
    return operations


async def handle_upload(app: GraphQLApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer one multipart POST to ``/graphql`` (see the module's docstring)."""
    request = Request(scope, receive)
    try:
        response = await _upload(app, request)
    except UploadRefused as exc:
        response = JSONResponse({"error": str(exc)}, status_code=exc.status)
    await response(scope, receive, send)


async def _upload(app: GraphQLApp, request: Request) -> JSONResponse:
    from ogcrm.auth import policy
    from ogcrm.db.models import Action

    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > app.settings.max_upload_bytes:
        raise UploadRefused(413, f"uploads are limited to {app.settings.max_upload_bytes} bytes")
    try:
        ctx = await app.get_context(request, None)
    except Exception as exc:  # the token was refused (and audited)
        raise UploadRefused(401, str(exc) or "token refused") from None
    if ctx.principal is None:
        raise UploadRefused(401, "sign in first: send Authorization: Bearer <access token>")
    if not policy.can(ctx.principal, "dataset", Action.WRITE):
        raise UploadRefused(403, f"your role ({ctx.principal.role}) may not upload datasets")
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise UploadRefused(400, "multipart/form-data without a boundary")
    parts = _Parts(app.settings.data_dir / "uploads")
    try:
        # headers up to 64 KiB: a hostile 10 kB file name is kept (sanitized), not fatal
        parser = MultipartParser(
            boundary,
            parts.callbacks(),  # type: ignore[arg-type]
            max_header_size=MAX_FIELD_BYTES,
        )
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        except MultipartParseError as exc:
            raise UploadRefused(400, f"malformed multipart body: {exc}") from None
        if parts.file is None or parts.file_name_in_form is None:
            raise UploadRefused(400, "the multipart request carries no file")
        operations = _check_operation(
            _json_field(parts, "operations"), parts.file_name_in_form, _json_field(parts, "map")
        )
        variables = dict(operations.get("variables") or {})
        variables["file"] = parts.file
        result = await app.schema.execute(
            operations["query"],
            variable_values=variables,
            context_value=ctx,
            operation_name=operations.get("operationName"),
        )
        body = await app.process_result(request, result)
        await ctx.finish()
        return JSONResponse(body)
    finally:
        parts.discard()
        await ctx.close()
