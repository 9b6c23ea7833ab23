"""Reading case input files safely: regular files only, never more than a limit, never blocking.

A FIFO, a device (/dev/zero) or a folder named as a case file or a body is refused by its type
before any read; a file over the limit is refused by its size, and at most limit + 1 bytes are
ever read (a file growing while it is read is caught too).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: "a symbolic link",
}


class InputFileError(Exception):
    """Why a file cannot be read as input (one short sentence, no path)."""


def _kind(mode: int) -> str:
    return KINDS.get(stat.S_IFMT(mode), "not a regular file")


def read_limited(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes."""
    try:
        before = os.stat(path)
    except OSError as exc:
        raise InputFileError(exc.strerror or str(exc)) from None
    if not stat.S_ISREG(before.st_mode):
        raise InputFileError(f"is {_kind(before.st_mode)}, not a regular file")
    if before.st_size > limit:
        raise InputFileError(f"{what} is {before.st_size} bytes; the limit is {limit}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputFileError(exc.strerror or str(exc)) from None
    try:
        after = os.fstat(fd)  # the file opened is the file checked (no swap in between)
        if not stat.S_ISREG(after.st_mode):
            raise InputFileError(f"is {_kind(after.st_mode)}, not a regular file")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise InputFileError(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    if total > limit:
        raise InputFileError(f"{what} is over the limit of {limit} bytes")
    return b"".join(chunks)


def inside(target: Path, roots: list[Path]) -> bool:
    """Whether the resolved `target` lies within one of the resolved `roots`."""
    return any(target == root or target.is_relative_to(root) for root in roots)


def shown(path: Path | str) -> str:
    """The path as text that can always be printed and written as UTF-8: bytes of a file name that
    are not UTF-8 (held as lone surrogates by Python) are written as \\xNN."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


def is_utf8_name(path: Path | str) -> bool:
    return shown(path) == str(path)
