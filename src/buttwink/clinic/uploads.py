"""Receiving an upload: what is checked, in order, before anything is kept.

1. the athlete's name, the session date and the file's name (a plain name: no folders, no ``..``);
2. the bytes are written to ``tmp/<random>.part`` under the data folder, counting them; past the size
   limit the upload stops (:class:`UploadError`, 413) and the part is removed;
3. the content is checked by decoding it (:func:`buttwink.video.probe_video`), never by extension or MIME
   type; a non-video is removed and refused (422) with the decoder's reason;
4. its SHA-256 names its content: the same content uploaded again returns the clip already stored;
5. only then is it renamed to ``uploads/<id><ext>`` (a server-chosen name) and recorded as queued.

Every refusal is an :class:`UploadError` with an HTTP status and a one-line message; nothing of a refused
upload stays anywhere under the data folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import secrets
import sqlite3
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from buttwink.batch import VIDEO_EXTENSIONS
from buttwink.clinic.store import ClipRecord, JobStore

#: Longest athlete name, characters.
MAX_ATHLETE_CHARS = 80
#: Longest original file name kept, characters.
MAX_FILE_NAME_CHARS = 200
_ATHLETE_RE = re.compile(r"^[\w][\w .,'\-]*$", re.UNICODE)


class UploadError(ValueError):
    """An upload refused: ``status`` is the HTTP status, ``str(err)`` the one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class Received:
    """The outcome of an upload: the clip's record and whether it was already there."""

    record: ClipRecord
    duplicate: bool


def check_athlete(name: str) -> str:
    """The athlete's name, trimmed; refuse an empty name, one too long, or one with characters other than
    letters (any script), digits, spaces and ``. , ' - _``."""
    name = unicodedata.normalize("NFC", " ".join((name or "").split()))
    if not name:
        raise UploadError(400, "athlete: give the athlete's name")
    if len(name) > MAX_ATHLETE_CHARS:
        raise UploadError(400, f"athlete: name too long ({len(name)} characters > {MAX_ATHLETE_CHARS})")
    if not _ATHLETE_RE.match(name):
        raise UploadError(400, "athlete: the name may hold only letters, digits, spaces and . , ' - _ "
                          "(no HTML or other symbols)")
    return name


def check_session_date(text: str | None) -> dt.date | None:
    """A YYYY-MM-DD date (None when not given); refuse another form or a date in the future."""
    if text is None or not text.strip():
        return None
    try:
        date = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UploadError(400, f"session_date: {text.strip()[:40]!r} is not a date (YYYY-MM-DD)") from None
    if date > dt.date.today() + dt.timedelta(days=1):
        raise UploadError(400, f"session_date: {date.isoformat()} is in the future")
    return date


def check_file_name(name: str | None) -> str:
    """The uploaded file's own name, kept for display only; refuse one with folders, ``..`` or control
    characters (a browser sends a plain name)."""
    name = name or ""
    if not name.strip():
        raise UploadError(400, "file: no file given (pick a video)")
    if "/" in name or "\\" in name or name.strip() in (".", "..") or any(unicodedata.category(c).startswith("C")
                                                                          for c in name):
        raise UploadError(400, "file: the file name must be a plain name (no folders, '..' or control "
                          "characters)")
    if len(name) > MAX_FILE_NAME_CHARS:
        raise UploadError(400, f"file: name too long ({len(name)} characters > {MAX_FILE_NAME_CHARS})")
    return name


def clip_creation_date(path: Path) -> dt.date | None:
    """The creation date a clip's container records (``creation_time``, as phones write it), or None."""
    try:
        import av

        from buttwink._native import quiet_native_stderr

        with quiet_native_stderr(), av.open(str(path)) as container:
            tags = dict(container.metadata)
            for stream in container.streams.video:
                tags.update({k: v for k, v in stream.metadata.items() if k not in tags})
    except Exception:  # no metadata is no date
        return None
    text = str(tags.get("creation_time") or tags.get("com.apple.quicktime.creationdate") or "").strip()
    if not text:
        return None
    with contextlib.suppress(ValueError):
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if stamp.year > 1971:  # 1970/1904 epochs: an unset clock
            return stamp.date()
    return None


class Uploads:
    """Receives uploads into ``data_dir`` (``tmp/`` while receiving, ``uploads/`` once accepted)."""

    def __init__(self, data_dir: Path, store: JobStore, max_bytes: int) -> None:
        self.tmp = Path(data_dir) / "tmp"
        self.dir = Path(data_dir) / "uploads"
        self.store = store
        self.max_bytes = max_bytes
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.dir.mkdir(parents=True, exist_ok=True)

    def clean(self) -> list[Path]:
        """Remove parts of uploads a crash interrupted and upload files no clip records; return them."""
        removed = []
        for part in self.tmp.iterdir():
            with contextlib.suppress(OSError):
                part.unlink()
                removed.append(part)
        known = self.store.uploads()
        for entry in self.dir.iterdir():
            if entry.name not in known and entry.is_file():
                with contextlib.suppress(OSError):
                    entry.unlink()
                    removed.append(entry)
        return removed

    async def receive(self, chunks: AsyncIterator[bytes], file_name: str | None, athlete: str,
                      session_date: str | None) -> Received:
        """Check, write and record one upload (see the module); raise :class:`UploadError` when refused."""
        from starlette.concurrency import run_in_threadpool

        name = check_file_name(file_name)
        athlete = check_athlete(athlete)
        date = check_session_date(session_date)
        part = self.tmp / f"{secrets.token_hex(8)}.part"
        try:
            size = 0
            with open(part, "xb") as fh:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise UploadError(413, f"file: too large (over {self.max_bytes / 1024**2:.0f} MB, the "
                                          "server's upload limit)")
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            if size == 0:
                raise UploadError(400, "file: empty (0 bytes)")
            return await run_in_threadpool(self._accept, part, size, name, athlete, date)
        finally:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()

    def _accept(self, part: Path, size: int, name: str, athlete: str, date: dt.date | None) -> Received:
        from buttwink.video import VideoError, content_sha256, probe_video

        try:
            probe_video(part)
        except VideoError as exc:
            raise UploadError(422, f"file: not a usable video: {exc.reason}") from None
        sha = content_sha256(part)
        existing = self.store.by_sha256(sha)
        if existing is not None:
            return Received(existing, True)
        date = date or clip_creation_date(part) or dt.date.today()
        clip_id = secrets.token_hex(8)
        ext = Path(name).suffix.lower()
        upload = clip_id + (ext if ext in VIDEO_EXTENSIONS else ".video")
        final = self.dir / upload
        os.replace(part, final)
        try:
            record = self.store.add(clip_id=clip_id, sha256=sha, athlete=athlete, session_date=date.isoformat(),
                                    original_name=name, upload=upload, size_bytes=size)
        except sqlite3.IntegrityError:  # the same content arrived at the same moment: keep the first
            final.unlink(missing_ok=True)
            existing = self.store.by_sha256(sha)
            if existing is None:
                raise
            return Received(existing, True)
        except BaseException:
            final.unlink(missing_ok=True)
            raise
        return Received(record, False)
