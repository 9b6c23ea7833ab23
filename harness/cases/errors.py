from __future__ import annotations


class CaseError(Exception):
    """A problem with one case input, reported as one line: FILE:LINE: what is wrong.
    A problem with a whole folder has no line: FOLDER: what is wrong."""

    def __init__(self, file: str, line: int | None, message: str, *, whole: bool = False):
        super().__init__(f"{file}: {message}" if whole else f"{file}:{line or 1}: {message}")
        self.file = file
        self.line = line or 1
        self.message = message
