"""Small file-system helpers shared by the stages that write files: atomic text writes and the permissions a
new file should get."""

from __future__ import annotations

import os
import tempfile
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
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, new_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
