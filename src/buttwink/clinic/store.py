"""The clinic's job store: one SQLite database (WAL, so the server's threads and the analysis processes
read and write it at once) with one row per uploaded clip.

A clip's ``status`` goes ``queued`` -> ``analysing`` -> ``done`` or ``failed``. A job is claimed by one
atomic update (``queued`` -> ``analysing``) and finished by another that only applies to a job still
``analysing``, so it is finished at most once; ``completions`` counts the finishes (1 for every finished
job: the fault test checks it). At start, jobs found ``analysing`` were interrupted (a crash or ``kill -9``)
and go back to the queue (:meth:`JobStore.requeue_interrupted`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from buttwink._fs import pid_lock

SCHEMA = """
CREATE TABLE IF NOT EXISTS clips (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    athlete TEXT NOT NULL,
    session_date TEXT NOT NULL,
    original_name TEXT NOT NULL,
    upload TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    progress REAL NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    verdict TEXT NOT NULL DEFAULT '',
    overlay INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    completions INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS clips_athlete ON clips (athlete, session_date);
CREATE INDEX IF NOT EXISTS clips_status ON clips (status, created_at);
"""

STATUSES = ("queued", "analysing", "done", "failed")
LOCK_NAME = ".buttwink-clinic.lock"


class ClinicBusyError(OSError):
    """Another server is using the data folder."""


def hold_data_folder(data_dir: Path | str) -> contextlib.AbstractContextManager[None]:
    """Hold an exclusive lock on the data folder while a server runs: a second server on the same folder would
    take the first one's running jobs for interrupted ones. Raises :class:`ClinicBusyError` (one line) when
    another process holds it, or when the lock file is a link or hard link. Where file locks are not
    available, nothing is locked."""
    path = Path(data_dir) / LOCK_NAME

    def refuse(holder: str | None) -> ClinicBusyError:
        if holder is None:
            return ClinicBusyError(f"{path}: not buttwink's lock file (a link, a hard link or not a regular file); "
                                   "nothing was changed (remove it, then start again)")
        return ClinicBusyError(f"{data_dir}: another buttwink server (process {holder}) is using this data "
                               "folder; stop it or give another --data")

    return pid_lock(path, refuse)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ClipRecord:
    """One clip's row."""

    id: str
    sha256: str
    athlete: str
    session_date: str
    original_name: str
    upload: str
    size_bytes: int
    status: str
    progress: float
    reason: str
    verdict: str
    overlay: bool
    attempts: int
    completions: int
    created_at: str
    started_at: str | None
    finished_at: str | None

    def public(self) -> dict[str, object]:
        """What the API shows of a clip (no paths, no hash)."""
        return {"id": self.id, "athlete": self.athlete, "session_date": self.session_date,
                "file_name": self.original_name, "status": self.status, "progress": round(self.progress, 1),
                "reason": self.reason, "verdict": self.verdict, "overlay": self.overlay,
                "created_at": self.created_at, "finished_at": self.finished_at}


class JobStore:
    """The SQLite store at ``path``. Every call opens its own short connection, so one store object serves
    any thread, and separate processes can open the same file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("PRAGMA synchronous=NORMAL")
        try:
            yield db
        finally:
            db.close()

    @staticmethod
    def _record(row: sqlite3.Row | None) -> ClipRecord | None:
        if row is None:
            return None
        values = dict(row)
        values["overlay"] = bool(values["overlay"])
        return ClipRecord(**values)

    def add(self, *, clip_id: str, sha256: str, athlete: str, session_date: str, original_name: str,
            upload: str, size_bytes: int) -> ClipRecord:
        """Insert a new queued clip; raise ``sqlite3.IntegrityError`` when its content (hash) is already there."""
        with self._connect() as db:
            db.execute("INSERT INTO clips (id, sha256, athlete, session_date, original_name, upload, size_bytes, "
                       "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (clip_id, sha256, athlete, session_date, original_name, upload, size_bytes, _now()))
        record = self.get(clip_id)
        assert record is not None
        return record

    def get(self, clip_id: str) -> ClipRecord | None:
        with self._connect() as db:
            return self._record(db.execute("SELECT * FROM clips WHERE id = ?", (clip_id,)).fetchone())

    def by_sha256(self, sha256: str) -> ClipRecord | None:
        with self._connect() as db:
            return self._record(db.execute("SELECT * FROM clips WHERE sha256 = ?", (sha256,)).fetchone())

    def all(self, limit: int = 1000) -> list[ClipRecord]:
        """The newest clips first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM clips ORDER BY created_at DESC, rowid DESC LIMIT ?", (limit,)).fetchall()
        return [r for r in map(self._record, rows) if r is not None]

    def for_athlete(self, athlete: str) -> list[ClipRecord]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM clips WHERE athlete = ? ORDER BY session_date, created_at, rowid",
                              (athlete,)).fetchall()
        return [r for r in map(self._record, rows) if r is not None]

    def athletes(self) -> list[tuple[str, int, str]]:
        """Every athlete with their number of clips and latest session date."""
        with self._connect() as db:
            rows = db.execute("SELECT athlete, COUNT(*), MAX(session_date) FROM clips GROUP BY athlete "
                              "ORDER BY athlete COLLATE NOCASE").fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def claim_next(self) -> ClipRecord | None:
        """Take the oldest queued clip (``queued`` -> ``analysing``), or None when the queue is empty."""
        with self._connect() as db:
            row = db.execute("UPDATE clips SET status = 'analysing', progress = 0, attempts = attempts + 1, "
                             "started_at = ? WHERE id = (SELECT id FROM clips WHERE status = 'queued' "
                             "ORDER BY created_at, rowid LIMIT 1) AND status = 'queued' RETURNING *",
                             (_now(),)).fetchone()
        return self._record(row)

    def set_progress(self, clip_id: str, percent: float) -> None:
        with self._connect() as db:
            db.execute("UPDATE clips SET progress = ? WHERE id = ? AND status = 'analysing'",
                       (float(percent), clip_id))

    def finish(self, clip_id: str, *, ok: bool, reason: str = "", verdict: str = "") -> bool:
        """Mark an ``analysing`` clip done or failed; False (nothing changed) when it was not analysing."""
        with self._connect() as db:
            cur = db.execute("UPDATE clips SET status = ?, progress = ?, reason = ?, verdict = ?, finished_at = ?, "
                             "completions = completions + 1 WHERE id = ? AND status = 'analysing'",
                             ("done" if ok else "failed", 100.0 if ok else 0.0, reason, verdict, _now(), clip_id))
            return cur.rowcount == 1

    def requeue(self, clip_id: str, *, overlay: bool | None = None) -> bool:
        """Put a finished clip back in the queue (to add an overlay, or retry a failure)."""
        with self._connect() as db:
            cur = db.execute("UPDATE clips SET status = 'queued', progress = 0, reason = '', "
                             "overlay = COALESCE(?, overlay) WHERE id = ? AND status IN ('done', 'failed')",
                             (None if overlay is None else int(overlay), clip_id))
            return cur.rowcount == 1

    def release(self, clip_id: str) -> bool:
        """Put an ``analysing`` clip back in the queue (its process died); its attempts are kept."""
        with self._connect() as db:
            cur = db.execute("UPDATE clips SET status = 'queued', progress = 0 WHERE id = ? AND status = 'analysing'",
                             (clip_id,))
            return cur.rowcount == 1

    def requeue_interrupted(self) -> list[str]:
        """Jobs left ``analysing`` by a server that died go back to the queue; returns their ids."""
        with self._connect() as db:
            rows = db.execute("UPDATE clips SET status = 'queued', progress = 0 WHERE status = 'analysing' "
                              "RETURNING id").fetchall()
        return [r[0] for r in rows]

    def counts(self) -> dict[str, int]:
        with self._connect() as db:
            rows = db.execute("SELECT status, COUNT(*) FROM clips GROUP BY status").fetchall()
        return {s: 0 for s in STATUSES} | {r[0]: r[1] for r in rows}

    def uploads(self) -> set[str]:
        """The stored upload file names (to tell orphans left by a crash)."""
        with self._connect() as db:
            return {r[0] for r in db.execute("SELECT upload FROM clips").fetchall()}

