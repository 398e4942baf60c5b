"""One run per sweep folder: an exclusive lock on ``DIR/.chipgap.lock``, holding the run's pid and host.

The lock is the operating system's (``flock``): it is released when the run ends, however it
ends, even by ``kill -9``. The file's content only says who holds it. A run that ends cleanly
removes the file; a file left behind whose lock nobody holds is stale (its run was killed), and
the next run takes it over and says so. Only the run holding the lock touches the folder's
temporary files, so no run deletes another's.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from chipgap.errors import InputError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: fall back to the pid in the file
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".chipgap.lock"
MAX_LOCK_BYTES = 4096


def _describe(text: str) -> str:
    """'pid 123 on host a, since 2025-01-01T00:00:00' from a lock file's content."""
    try:
        d = json.loads(text)
        return f"pid {int(d['pid'])} on host {str(d['host'])[:64]}, since {str(d['started'])[:32]}"
    except (ValueError, KeyError, TypeError):
        return "an unknown run"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FolderLock:
    """The lock of one sweep folder; use as a context manager around a run.

    Attributes
    ----------
    note : str or None
        After `acquire`: a sentence saying a stale lock was taken over, else None.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.note: str | None = None
        self._fd: int | None = None

    def _content(self) -> bytes:
        return json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                           "started": time.strftime("%Y-%m-%dT%H:%M:%S")}).encode()

    def _busy(self, holder: str) -> InputError:
        return InputError("--out", f"a folder no other run is writing: {holder} holds {self.path} "
                                   "(wait for it, or stop it and run again)", str(self.folder))

    def acquire(self) -> FolderLock:
        """Take the lock, or refuse when another live run holds it.

        Raises
        ------
        InputError
            When another run holds the lock (naming its pid and host), or the lock file is a link.
        """
        if fcntl is None:  # pragma: no cover
            return self._acquire_by_pid()
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        for _ in range(10):
            try:
                fd = os.open(self.path, flags, 0o644)
            except OSError as e:
                raise InputError("--out", f"a folder where {LOCK_NAME} can be created ({e.strerror})",
                                 str(self.folder)) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _describe(os.pread(fd, MAX_LOCK_BYTES, 0).decode("utf-8", "replace"))
                os.close(fd)
                raise self._busy(holder) from None
            try:  # the file may have been released (removed) and made anew since we opened it
                same = os.fstat(fd).st_ino == os.stat(self.path, follow_symlinks=False).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            old = os.pread(fd, MAX_LOCK_BYTES, 0).decode("utf-8", "replace").strip()
            if old:
                self.note = (f"took over the lock of an earlier run ({_describe(old)}) that ended "
                             "without releasing it")
            os.ftruncate(fd, 0)
            os.pwrite(fd, self._content(), 0)
            os.fsync(fd)
            self._fd = fd
            return self
        raise self._busy("another run")

    def _acquire_by_pid(self) -> FolderLock:  # pragma: no cover - not POSIX
        for _ in range(10):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                text = self.path.read_text(errors="replace")[:MAX_LOCK_BYTES]
                try:
                    d = json.loads(text)
                    stale = d["host"] == socket.gethostname() and not _alive(int(d["pid"]))
                except (ValueError, KeyError, TypeError):
                    stale = False
                if not stale:
                    raise self._busy(_describe(text)) from None
                self.note = f"took over the lock of an earlier run ({_describe(text)}) that ended"
                self.path.unlink(missing_ok=True)
                continue
            os.write(fd, self._content())
            self._fd = fd
            return self
        raise self._busy("another run")

    def release(self) -> None:
        """Remove the lock file and release the lock (nothing when not held)."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
