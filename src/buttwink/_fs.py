"""Small file-system helpers shared by the stages that write files: atomic text writes and the permissions a
new file should get."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux ``/proc``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: the classic read-by-setting, restored at once
    os.umask(mask)
    return mask


def new_mode(folder: bool = False) -> int:
    """The mode a new file (0644) or folder (0755) gets under the usual umask 022: what ``open`` would give,
    not a temporary file's private 0600."""
    return (0o777 if folder else 0o666) & ~current_umask()


def atomic_write_text(path: Path | str, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` through a temporary file in the same folder,
    renamed over it at the end: a reader sees the old file or the new one, never half of it. The temporary's
    name carries this process's id (``.<name>.<pid>.tmp``-like), so a later run can tell a stale one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        # backslashreplace: a file name that is not valid UTF-8 (surrogate-escaped by Python) is written as
        # \udcff instead of failing the whole file.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, new_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@contextlib.contextmanager
def native_path(path: Path | str) -> Iterator[str]:
    """A path string that native libraries (OpenCV, FFmpeg) can open: ``path`` itself when its name is valid
    UTF-8, else a temporary symbolic link to it with a plain name (OpenCV crashes on such a string). The link
    is removed on exit; a file opened through it stays open."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        with tempfile.TemporaryDirectory(prefix="buttwink-link-") as folder:
            link = Path(folder) / ("clip" + "".join(c for c in Path(text).suffix if c.isascii()))
            os.symlink(os.path.abspath(text), link)
            yield str(link)
        return
    yield text


def sha256_file(path: Path | str) -> str:
    """SHA-256 of a file's bytes (hex), read 1 MB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def pid_lock(path: Path, refuse: Callable[[str | None], Exception]) -> Iterator[None]:
    """Hold an exclusive lock on the lock file ``path`` (created if missing) and write this process's id into
    it. ``refuse(holder)`` makes the exception raised when the lock cannot be taken: ``holder`` is the process
    id found in a lock another process holds, or None when ``path`` is not a lock file buttwink can use (a link,
    a hard link or not a regular file, which writing the id would damage). Where file locks are not available,
    nothing is locked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    if os.path.lexists(path) and (path.is_symlink() or not path.is_file() or path.stat().st_nlink > 1):
        raise refuse(None)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "r+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise refuse(fh.read(32).strip() or "?") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
