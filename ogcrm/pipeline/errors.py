"""Errors a reader raises about a file: always naming the file, and the row and column
when there is one, so a person can open the file and find the fault."""

from __future__ import annotations


class ReaderError(Exception):
    """A file cannot be read as the format it was taken for.

    ``row`` is 1-based as a person counts lines or rows in the file (a header row
    included); ``column`` is a column name or a 1-based position.
    """

    def __init__(
        self,
        filename: str,
        message: str,
        *,
        row: int | None = None,
        column: str | int | None = None,
        sheet: str | None = None,
    ) -> None:
        self.filename = filename
        self.message = message
        self.row = row
        self.column = column
        self.sheet = sheet
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.filename]
        if self.sheet is not None:
            where.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(
                f"column {self.column!r}"
                if isinstance(self.column, str)
                else f"column {self.column}"
            )
        return f"{', '.join(where)}: {self.message}"


class UnknownFormat(ReaderError):
    """No reader recognises the file."""
