"""The clinic's worker: takes queued clips from the store and runs each through the batch machinery
(:func:`buttwink.batch.process_clip` with a :class:`buttwink.batch.ClipJob`) in a process pool.

- The pool is the batch's own (``spawn``, workers ignore Ctrl-C and exit within half a second when the server
  process dies, even by ``kill -9``).
- Each job's progress (the pose stage's ``progress(done, total)``) is written to the store from the worker
  process, at most a few times a second.
- A report is written by :func:`buttwink.report.write_report` (temporary folder, then renamed): never
  half-written. A job whose report was finished just before a crash is found complete when it is run again,
  and is not redone (``process_clip`` skips it).
- At start, jobs left ``analysing`` are queued again, temporaries of killed runs and orphaned uploads are
  removed; a worker process that crashes gets its job retried once, then failed with the reason.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from buttwink.batch import ClipJob, _kill_pool, _pool, process_clip
from buttwink.clinic.store import ClipRecord, JobStore

log = logging.getLogger(__name__)

#: Share of the progress bar the pose stage takes (the measurement and the report take the rest).
POSE_SHARE = 90.0
#: Tries before a clip whose analysis process keeps crashing is failed.
MAX_ATTEMPTS = 3


def analyse_job(job: ClipJob, db_path: str, clip_id: str) -> dict[str, object]:
    """Run in a worker process: :func:`process_clip` with its progress written to the store."""
    store = JobStore(db_path)
    last = [0.0, -1.0]  # time, percent

    def progress(done: int, total: int) -> None:
        percent = POSE_SHARE * min(1.0, done / total) if total > 0 else 0.0
        now = time.monotonic()
        if percent - last[1] >= 1.0 and now - last[0] >= 0.3:
            last[:] = [now, percent]
            with contextlib.suppress(Exception):  # progress is best effort: never fail a clip for it
                store.set_progress(clip_id, percent)

    return process_clip(job, progress=progress)


class Worker:
    """Runs queued clips, ``workers`` at a time, in a background thread of the server."""

    def __init__(self, store: JobStore, reports_dir: Path, uploads_dir: Path, settings: dict[str, object], *,
                 workers: int = 1, models_dir: str | None = None) -> None:
        self.store = store
        self.reports_dir = Path(reports_dir)
        self.uploads_dir = Path(uploads_dir)
        self.settings = settings
        self.workers = max(1, workers)
        self.models_dir = models_dir
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = None
        self._running: dict[Future, ClipRecord] = {}

    def job_for(self, record: ClipRecord) -> ClipJob:
        """The batch job of a clip: its upload in, ``reports/<id>`` out."""
        return ClipJob(clip=str(self.uploads_dir / record.upload), outdir=str(self.reports_dir), name=record.id,
                       settings=self.settings, force=False, overlay=record.overlay, models_dir=self.models_dir)

    def start(self) -> list[str]:
        """Requeue interrupted jobs, remove stale temporaries, start the thread; returns the requeued ids."""
        from buttwink.report import remove_stale_temporaries

        self.reports_dir.mkdir(parents=True, exist_ok=True)
        requeued = self.store.requeue_interrupted()
        if requeued:
            log.warning("picked up %d job(s) interrupted by the last stop: %s", len(requeued), ", ".join(requeued))
        remove_stale_temporaries(self.reports_dir)
        self._thread = threading.Thread(target=self._loop, name="buttwink-clinic-worker", daemon=True)
        self._thread.start()
        return requeued

    def wake(self) -> None:
        """Look at the queue now (a clip was added)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop: kill running analyses and put their jobs back in the queue for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._pool is not None:
            _kill_pool(self._pool)
            self._pool = None
        self.store.requeue_interrupted()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._reap()
                while len(self._running) < self.workers and not self._stop.is_set():
                    record = self.store.claim_next()
                    if record is None:
                        break
                    self._submit(record)
            except Exception:  # the loop must survive anything: log it, try again shortly
                log.exception("clinic worker loop")
            self._wake.wait(0.25)
            self._wake.clear()

    def _submit(self, record: ClipRecord) -> None:
        if self._pool is None:
            self._pool = _pool(self.workers)
        future = self._pool.submit(analyse_job, self.job_for(record), str(self.store.path), record.id)
        future.add_done_callback(lambda _f: self._wake.set())
        self._running[future] = record

    def _reap(self) -> None:
        for future in [f for f in self._running if f.done()]:
            record = self._running.pop(future)
            try:
                row = future.result()
            except BrokenProcessPool:
                self._crashed(record)
                continue
            except Exception as exc:
                self.store.finish(record.id, ok=False, reason=f"internal error: {type(exc).__name__}")
                continue
            ok = row.get("status") in ("ok", "skipped")
            reason = "" if ok else _public_reason(str(row.get("reason", "")), self.uploads_dir / record.upload,
                                                  record.original_name)
            self.store.finish(record.id, ok=ok, reason=reason, verdict=str(row.get("verdict", "") or ""))

    def _crashed(self, record: ClipRecord) -> None:
        """A worker process died: the pool is broken. Retry the job (up to :data:`MAX_ATTEMPTS`)."""
        if self._pool is not None:
            _kill_pool(self._pool)
            self._pool = None
        if record.attempts >= MAX_ATTEMPTS:
            self.store.finish(record.id, ok=False, reason="the analysis process crashed on this clip")
        else:
            self.store.release(record.id)


def _public_reason(reason: str, upload: Path, original_name: str) -> str:
    """A failure reason fit to show: the server's path of the upload replaced by the user's file name."""
    for text in (str(upload), str(upload.resolve())):
        reason = reason.replace(text, original_name)
    return reason
