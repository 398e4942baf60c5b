"""Files a user names, read and written as if hostile.

Reading: the file must be a regular file, checked before it is opened and again on the open file
(a FIFO blocks forever, ``/dev/zero`` never ends), and at most ``cap`` bytes are read. The size
the file system reports is never trusted: it is 0 for a FIFO, a device or a ``/proc`` file.

Writing: an output path must not be a symbolic link (writing would land at the link's target,
or replace the user's link), nor, when it exists, anything but a regular file. Files are then
written whole under a temporary name and renamed (`chipgap.atomic.write_atomically`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from chipgap.errors import CatalogError, InputError

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_BLOCK = 1 << 20


def file_kind(mode: int) -> str:
    """What a file mode says a path is, in words ('a FIFO', 'a folder', ...).

    >>> import stat
    >>> file_kind(stat.S_IFIFO)
    'a FIFO'
    """
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISREG, "a file")):
        if test(mode):
            return name
    return "not a regular file"


def _open_regular(path: Path, label: str) -> int:
    """A file descriptor of ``path``, refused unless it is a regular file (before and after opening)."""
    try:
        before = os.stat(path)
        if not stat.S_ISREG(before.st_mode):
            raise CatalogError(label, f"is {file_kind(before.st_mode)}, not a regular file")
        fd = os.open(path, _READ_FLAGS)
    except OSError as e:
        raise CatalogError(label, f"cannot be read ({e.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):  # swapped between the check and the open
        os.close(fd)
        raise CatalogError(label, f"is {file_kind(mode)}, not a regular file")
    return fd


def read_capped(path: str | Path, cap: int, label: str | None = None) -> bytes:
    """The bytes of a regular file of at most ``cap`` bytes.

    Reads at most ``cap + 1`` bytes, so a file that grows, lies about its size or never ends
    costs no more than that.

    Parameters
    ----------
    path : str or Path
    cap : int
        The most bytes the file may hold.
    label : str, optional
        How to name the file in messages (default: the path).

    Raises
    ------
    CatalogError
        When the file is missing, unreadable, not a regular file (a folder, FIFO, device or
        socket) or larger than ``cap``.
    """
    label = label or str(path)
    fd = _open_regular(Path(path), label)
    try:
        parts, total = [], 0
        while total <= cap:
            try:
                block = os.read(fd, min(_BLOCK, cap + 1 - total))
            except OSError as e:
                raise CatalogError(label, f"cannot be read ({e.strerror})") from None
            if not block:
                break
            parts.append(block)
            total += len(block)
    finally:
        os.close(fd)
    if total > cap:
        raise CatalogError(label, f"is larger than {cap:,} bytes")
    return b"".join(parts)


def read_text_capped(path: str | Path, cap: int, label: str | None = None) -> str:
    """`read_capped` decoded as UTF-8 (a byte-order mark is dropped); refused when not UTF-8."""
    label = label or str(path)
    try:
        return read_capped(path, cap, label).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CatalogError(label, f"is not UTF-8 text (byte {e.start})") from None


def sha256_file(path: str | Path, label: str | None = None) -> tuple[str, int]:
    """SHA-256 (hex) and size of a regular file, read in blocks."""
    label = label or str(path)
    fd = _open_regular(Path(path), label)
    h, size = hashlib.sha256(), 0
    try:
        while block := os.read(fd, _BLOCK):
            h.update(block)
            size += len(block)
    except OSError as e:
        raise CatalogError(label, f"cannot be read ({e.strerror})") from None
    finally:
        os.close(fd)
    return h.hexdigest(), size


def check_output(path: str | Path, parameter: str = "output") -> Path:
    """Refuse an output path that is a symbolic link (dangling or not), or that exists and is
    not a regular file; return it as a Path.

    Whether an existing regular file may be replaced is the caller's decision.

    Raises
    ------
    InputError
        Naming ``parameter`` and the path.
    """
    path = Path(path)
    if path.is_symlink():
        raise InputError(parameter, "a path that is not a symbolic link (chipgap does not write "
                                    "through links)", str(path))
    if path.exists() and not path.is_file():
        try:
            kind = file_kind(path.stat().st_mode)
        except OSError:
            kind = "not a regular file"
        raise InputError(parameter, f"a file path (this is {kind})", str(path))
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise InputError(parameter, "a path whose folder is a folder", str(path))
    return path
