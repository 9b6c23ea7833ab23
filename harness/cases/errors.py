from __future__ import annotations


class CaseError(Exception):
    """A problem with one case file, reported as one line: FILE:LINE: what is wrong."""

    def __init__(self, file: str, line: int | None, message: str):
        super().__init__(f"{file}:{line or 1}: {message}")
        self.file = file
        self.line = line or 1
        self.message = message
