"""Batch processing: many clips, in parallel, never losing work, stopping when told.

Each clip runs in :func:`process_clip`, which never raises: it returns one summary row with
``status`` ok / skipped / failed and a one-line ``reason``. Rows are appended to ``summary.csv``
(rewritten atomically after every clip), so a killed batch keeps every finished row.

A rerun skips a clip only when its report is complete and was made from the same content (SHA-256 of the
file), with the same settings and, if ``overlay`` is asked for, has one; otherwise the clip is redone and
its row says why. ``force`` redoes everything.

Stopping: Ctrl-C (SIGINT), SIGTERM or SIGHUP stop the batch within seconds: running clips are killed, the
rest are not started, ``summary.csv`` and ``index.html`` are written with those clips ``cancelled``, and
:class:`BatchCancelled` is raised. Workers ignore Ctrl-C themselves (the main process decides) and exit on
their own within half a second when the main process dies, even by ``kill -9``. A run first removes the
temporary folders a killed run left behind, and holds a lock on the output folder so that two batches never
write into it at once. Executors: local processes (``concurrent.futures``) or an existing Dask cluster.
"""

from __future__ import annotations

import contextlib
import csv
import html
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from buttwink._fs import atomic_write_text, pid_lock
from buttwink.csv_safety import escape_row
from buttwink.settings import Settings

VIDEO_EXTENSIONS = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".3gp", ".wmv"}
SUMMARY_COLUMNS = ("clip", "report", "status", "reason", "verdict", "reps_found", "reps_assessed",
                   "reps_with_wink", "duration_s", "seconds")
#: How often a worker checks that the batch's main process is still there, seconds.
WATCHDOG_INTERVAL_S = 0.5
LOCK_NAME = ".buttwink-batch.lock"


class BatchStop(BaseException):
    """Raised in the main thread when SIGTERM or SIGHUP asks the batch to stop."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


class BatchCancelled(Exception):  # noqa: N818 - names what happened to the batch
    """The batch was stopped (Ctrl-C or a signal) before every clip was done. ``rows`` holds every clip's row,
    the unfinished ones ``cancelled``; ``summary.csv`` and ``index.html`` were written. ``exit_code`` is the
    shell's convention, 128 + the signal's number."""

    def __init__(self, how: str, signum: int, rows: list[dict[str, object]], outdir: Path) -> None:
        self.how, self.signum, self.rows, self.outdir = how, signum, rows, outdir
        done = sum(r["status"] != "cancelled" for r in rows)
        super().__init__(f"batch stopped by {how}: {done} of {len(rows)} clips done, {len(rows) - done} cancelled; "
                         f"{outdir / 'summary.csv'} and {outdir / 'index.html'} list them")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class BatchBusyError(OSError):
    """Another batch is writing into the same output folder."""


@dataclass(frozen=True)
class ClipJob:
    """One unit of batch work (plain data, so it pickles to any worker)."""

    clip: str
    outdir: str
    name: str
    settings: dict[str, object]
    force: bool = False
    overlay: bool = False
    models_dir: str | None = None


def find_clips(source: Path, exclude: Path | None = None) -> list[Path]:
    """Videos under a folder (recursively, by extension, sorted), or the lines of a list file.

    Hidden files and folders are skipped, and so are the report folders buttwink wrote in ``exclude`` (the
    batch's output folder, when it lies inside the source or is the source: its overlay.mp4 files are not
    new clips, but the user's videos beside them are)."""
    from buttwink.report import is_buttwink_folder

    if not source.exists():
        raise FileNotFoundError(f"{source}: not found")
    if source.is_dir():
        reports = []
        if exclude is not None and exclude.is_dir():
            reports = [d.resolve() for d in exclude.iterdir() if d.is_dir() and is_buttwink_folder(d)]
        return sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
                      and not any(part.startswith(".") for part in p.relative_to(source).parts)
                      and not any(p.resolve().is_relative_to(r) for r in reports))
    ask = "batch takes a folder of videos or a text file listing one video path per line"
    if source.suffix.lower() in VIDEO_EXTENSIONS:
        raise ValueError(f"{source}: is a video; {ask} (for one clip: buttwink analyze {source} -o OUTDIR)")
    if not source.is_file():
        raise ValueError(f"{source}: not a regular file; {ask}")
    try:
        lines = source.read_text(encoding="utf-8-sig").splitlines()  # a BOM (Windows Notepad) is not a path
    except UnicodeDecodeError:
        raise ValueError(f"{source}: not a text file (a video or other binary?); {ask}") from None
    base = source.parent
    clips = []
    for number, line in enumerate(lines, start=1):
        if "\x00" in line:
            raise ValueError(f"{source}: line {number} holds a NUL byte; {ask}")
        line = line.strip()
        if line and not line.startswith("#"):
            path = Path(line).expanduser()
            clips.append(path if path.is_absolute() else base / path)
    return clips


def process_clip(job: ClipJob, progress: Callable[[int, int], None] | None = None) -> dict[str, object]:
    """Analyse one clip and write its report; return its summary row. Never raises.

    ``progress(done, total)`` is passed to the pose stage (called after each frame) when given."""
    from buttwink.report import check_report_target, is_complete, read_summary, write_report

    clip = Path(job.clip)
    report_dir = Path(job.outdir) / job.name
    row: dict[str, object] = {"clip": str(clip), "report": job.name, "status": "failed", "reason": "",
                              "verdict": "", "reps_found": "", "reps_assessed": "", "reps_with_wink": "",
                              "duration_s": "", "seconds": ""}
    t0 = time.perf_counter()
    note = ""
    try:
        check_report_target(job.outdir, job.name, overlay=job.overlay, inputs=[clip])
        if not job.force and is_complete(report_dir):
            summary = {**(read_summary(report_dir) or {}), "_folder": str(report_dir)}
            why = redo_reason(summary, clip, job.settings, job.overlay)
            if why is None:
                row.update(_summary_fields(summary), status="skipped", reason="already done (use --force to redo)")
                return row
            note = f"redone: {why}"
        from buttwink.pipeline import analyze

        settings = Settings(**job.settings)  # type: ignore[arg-type]
        result = analyze(clip, settings, models_dir=job.models_dir, progress=progress)
        write_report(result, job.outdir, name=job.name, overlay=job.overlay, source=clip)
        row.update(_summary_fields(result.summary()), status="ok", reason=note)
    except Exception as exc:  # isolate every clip: one bad file never stops the batch
        row["reason"] = one_line(exc, clip)
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row


def redo_reason(summary: dict[str, object], clip: Path, settings: dict[str, object], overlay: bool) -> str | None:
    """Why a complete report must be made again for ``clip`` with ``settings`` (None: it can be kept).

    Redone when the clip's content (SHA-256) differs from the one the report was made from, when any setting
    differs, or when an overlay is asked for and the report has none."""
    from buttwink.report import REPORT_FILES
    from buttwink.video import content_sha256

    old_settings = summary.get("settings")
    if isinstance(old_settings, dict) and old_settings != settings:
        changed = [f"{k} {old_settings.get(k)!r} -> {v!r}" for k, v in settings.items() if old_settings.get(k) != v]
        return "settings changed (" + ", ".join(changed or ["other settings"]) + ")"
    if not isinstance(old_settings, dict):
        return "the report does not record its settings"
    files = summary.get("report_files")
    if overlay and not (isinstance(files, list) and "overlay.mp4" in files):
        return "an overlay is asked for"
    report_dir = Path(str(summary.get("_folder", "")))
    if isinstance(files, list) and summary.get("_folder"):
        missing = [str(n) for n in files if str(n) in REPORT_FILES and not (report_dir / str(n)).is_file()]
        if missing:
            return f"report file(s) missing: {', '.join(missing)}"
    video = summary.get("video")
    old_hash = video.get("sha256") if isinstance(video, dict) else None
    if not old_hash:
        return "the report does not record the clip's content hash"
    if content_sha256(clip) != old_hash:
        return "the clip's content changed"
    return None


def one_line(exc: BaseException, clip: Path) -> str:
    """A one-line reason that names the clip."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if str(clip) not in text:
        text = f"{clip}: {text}"
    from buttwink.models import ModelError
    from buttwink.pipeline import ClipError
    from buttwink.pose import LandmarksError
    from buttwink.settings import SettingsError
    from buttwink.video import VideoError

    if not isinstance(exc, VideoError | ModelError | ClipError | LandmarksError | SettingsError | OSError):
        text = f"{text} (internal error: {type(exc).__name__})"
    return text


def _rounded(value: object) -> object:
    try:
        return round(float(value), 2)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""


def _summary_fields(summary: dict[str, object]) -> dict[str, object]:
    video = summary.get("video", {})
    return {
        "verdict": summary.get("verdict", ""),
        "reps_found": summary.get("reps_found", ""),
        "reps_assessed": summary.get("reps_assessed", ""),
        "reps_with_wink": summary.get("reps_with_wink", ""),
        "duration_s": _rounded(video.get("duration_s")) if isinstance(video, dict) else "",
    }


def write_summary(rows: list[dict[str, object]], outdir: Path) -> Path:
    """Write summary.csv (one row per clip) atomically."""
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(SUMMARY_COLUMNS), extrasaction="ignore")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: str(r["clip"])):
        writer.writerow(escape_row(row))
    return atomic_write_text(outdir / "summary.csv", buf.getvalue())


def write_index(rows: list[dict[str, object]], outdir: Path) -> Path:
    """index.html: every clip's report.png and verdict on one page (failed clips with their reason)."""
    cards = []
    for row in sorted(rows, key=lambda r: str(r["clip"])):
        name = html.escape(str(row["report"]))
        status = str(row["status"])
        title = html.escape(Path(str(row["clip"])).name)
        if status in ("ok", "skipped") and (outdir / str(row["report"]) / "report.png").exists():
            evidence = ""
            if (outdir / str(row["report"]) / "evidence.png").exists():
                evidence = (f'<details open><summary>lower back of every rep (the evidence behind each call)</summary>'
                            f'<a href="{name}/evidence.png"><img src="{name}/evidence.png" '
                            f'alt="lower back of every rep of {title}"></a></details>')
            body = (f'<a href="{name}/report.png"><img src="{name}/report.png" alt="{title}"></a>'
                    f'<p class="verdict">{html.escape(str(row["verdict"]))}</p>{evidence}'
                    f'<p><a href="{name}/reps.csv">reps.csv</a> · <a href="{name}/frames.csv">frames.csv</a>'
                    f' · <a href="{name}/summary.json">summary.json</a></p>')
        elif status == "cancelled":
            body = f'<p class="cancelled">cancelled: {html.escape(str(row["reason"]))}</p>'
        else:
            body = f'<p class="failed">failed: {html.escape(str(row["reason"]))}</p>'
        cards.append(f'<section class="{html.escape(status)}"><h2>{title}</h2>{body}</section>')
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>buttwink batch</title><style>"
        "body{font-family:sans-serif;margin:1em;background:#f4f4f4}"
        "section{background:#fff;margin:0 0 1em;padding:.5em 1em;border-radius:6px}"
        "img{max-width:100%;height:auto}.failed{color:#b00}.cancelled{color:#777}.verdict{font-weight:bold}"
        "</style></head><body><h1>buttwink batch report</h1>"
        f"<p>{sum(r['status'] in ('ok', 'skipped') for r in rows)} of {len(rows)} clips analysed.</p>"
        + "".join(cards) + "</body></html>"
    )
    return atomic_write_text(outdir / "index.html", page)


def _worker_init(main_pid: int) -> None:
    """Set up a batch worker: ignore Ctrl-C (the main process stops the batch and kills its workers), and exit
    as soon as the main process is gone (``kill -9`` included), checked every :data:`WATCHDOG_INTERVAL_S`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(WATCHDOG_INTERVAL_S)
            if os.getppid() != main_pid:
                os._exit(70)  # the batch is gone: nobody will read this worker's results

    threading.Thread(target=watch, name="buttwink-watchdog", daemon=True).start()


def _pool(workers: int) -> ProcessPoolExecutor:
    # "spawn": MediaPipe starts threads, and forking a threaded parent can deadlock the child.
    return ProcessPoolExecutor(max_workers=max(1, workers), mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init, initargs=(os.getpid(),))


def _kill_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: kill its worker processes and drop the clips not yet started."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(Exception):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=5)


def _run_local(jobs: list[ClipJob], workers: int) -> Iterator[dict[str, object]]:
    """Run jobs in a process pool. If a worker process dies (the pool breaks), every clip it took down is
    rerun alone, so only the clip that really crashes is reported failed. Closing the generator early (the
    batch was stopped) kills the workers at once."""
    retry: list[ClipJob] = []
    pool = _pool(workers)
    finished = False
    try:
        futures = {pool.submit(process_clip, job): job for job in jobs}
        for fut in as_completed(futures):
            try:
                yield fut.result()
            except BrokenProcessPool:
                retry.append(futures[fut])
        finished = True
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:
            _kill_pool(pool)
    for job in retry:
        yield _run_isolated(job)


def _run_isolated(job: ClipJob) -> dict[str, object]:
    pool = _pool(1)
    finished = False
    try:
        row = pool.submit(process_clip, job).result()
        finished = True
        return row
    except BrokenProcessPool:
        finished = True
        return {"clip": job.clip, "report": job.name, "status": "failed",
                "reason": f"{job.clip}: the analysis process crashed"}
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:
            _kill_pool(pool)


def _run_dask(jobs: list[ClipJob], scheduler: str | None) -> Iterator[dict[str, object]]:
    """Run jobs on a Dask distributed cluster (``scheduler`` address, or a local cluster if None)."""
    from distributed import Client
    from distributed import as_completed as dask_as_completed

    client = Client(scheduler) if scheduler else Client(processes=True)
    futures: list = []
    try:
        futures = client.map(process_clip, jobs, pure=False)
        by_future = dict(zip(futures, jobs, strict=True))
        for fut in dask_as_completed(futures):
            try:
                yield fut.result()
            except Exception as exc:  # worker died: that clip fails, the batch goes on
                job = by_future[fut]
                yield {"clip": job.clip, "report": job.name, "status": "failed",
                       "reason": f"{job.clip}: worker failed ({type(exc).__name__}: {exc})"}
    finally:
        with contextlib.suppress(Exception):
            client.cancel([f for f in futures if not f.done()])  # stopped early: drop what has not run
        client.close()


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """While the batch runs, SIGTERM and SIGHUP raise :class:`BatchStop` in the main thread (Ctrl-C raises
    KeyboardInterrupt as usual). Outside the main thread signals cannot be caught, and nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        raise BatchStop(signum)

    wanted = [sig for sig in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if sig]
    previous = {sig: signal.signal(sig, stop) for sig in wanted}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _output_lock(outdir: Path) -> contextlib.AbstractContextManager[None]:
    """Hold an exclusive lock on ``outdir`` (a lock file in it) for the batch; raise :class:`BatchBusyError` if
    another batch holds it, or if the lock file is a link or hard link (writing to it would damage its target).
    """
    path = outdir / LOCK_NAME

    def refuse(holder: str | None) -> BatchBusyError:
        if holder is None:
            return BatchBusyError(f"{path}: not buttwink's lock file (a link, a hard link or not a regular file); "
                                  "nothing was changed (remove it, then rerun)")
        return BatchBusyError(f"{outdir}: another batch (process {holder}) is writing into this folder; wait "
                              "for it to finish or stop it")

    return pid_lock(path, refuse)


class BatchOutputError(OSError):
    """The batch's own files (summary.csv, index.html) exist in the output folder but buttwink did not
    write them."""


def check_batch_files(outdir: Path) -> None:
    """Refuse to start when ``summary.csv`` or ``index.html`` in ``outdir`` are someone else's files (a
    batch rewrites both after every clip)."""
    header = ",".join(SUMMARY_COLUMNS)
    for name, ours in (("summary.csv", lambda text: text.splitlines()[:1] == [header]),
                       ("index.html", lambda text: "<title>buttwink batch</title>" in text)):
        path = outdir / name
        if not os.path.lexists(path):
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")[:200_000] if path.is_file() else None
        except OSError:
            text = None
        if path.is_symlink() or text is None or not ours(text):
            raise BatchOutputError(f"{path}: a file buttwink did not write is where the batch writes its {name}; "
                                   "nothing was changed (move it, or choose another -o)")


def finished_during(job: ClipJob, since: float) -> dict[str, object] | None:
    """The summary of ``job``'s report when a worker finished it at or after ``since`` (seconds since the
    epoch) for this clip and these settings, else None. When a batch is stopped, a worker may have renamed
    its report into place before its row reached the main process: that clip is done, not cancelled."""
    from buttwink.report import is_complete, read_summary

    folder = Path(job.outdir) / job.name
    try:
        written = (folder / "summary.json").stat().st_mtime
    except OSError:
        return None
    summary = read_summary(folder) if is_complete(folder) else None
    if summary is None or written < since or summary.get("settings") != job.settings:
        return None
    recorded = summary.get("clip_path")
    return summary if recorded and Path(str(recorded)) == Path(job.clip).resolve() else None


def previous_rows(outdir: Path, reports: Iterable[str]) -> list[dict[str, object]]:
    """Rows of an earlier batch's summary.csv in ``outdir`` whose report folder is still there and is not one
    this batch writes (``reports``): a batch over another source folder into the same output folder keeps
    listing them."""
    path = outdir / "summary.csv"
    if not path.is_file():
        return []
    current = set(reports)
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        rows = [dict(row) for row in csv.DictReader(fh)]
    kept = []
    for row in rows:
        clip, report = str(row.get("clip", "")), str(row.get("report", ""))
        if clip.startswith("'"):  # escaped against formula injection when written; the real name follows
            clip = clip[1:]
        if report in current or not report or "/" in report or not (outdir / report / "summary.json").is_file():
            continue
        kept.append({**row, "clip": clip})
    return kept


def run_batch(
    clips: Iterable[Path],
    outdir: Path | str,
    settings: Settings,
    *,
    jobs: int | None = None,
    force: bool = False,
    overlay: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
    models_dir: Path | str | None = None,
    on_row: Callable[[dict[str, object]], None] | None = None,
) -> list[dict[str, object]]:
    """Process every clip; write summary.csv and index.html in ``outdir``; return the summary rows.

    Raises :class:`BatchCancelled` (after writing both files) when stopped by Ctrl-C, SIGTERM or SIGHUP,
    and :class:`BatchBusyError` when another batch is writing into ``outdir``."""
    from buttwink.models import ensure_model
    from buttwink.report import remove_stale_temporaries, unique_names

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if not os.access(outdir, os.W_OK):
        raise PermissionError(f"{outdir}: output folder is not writable")
    clip_list = list(dict.fromkeys(Path(c) for c in clips))  # a clip listed twice is done once
    check_batch_files(outdir)
    with _output_lock(outdir):
        remove_stale_temporaries(outdir)
        # Provision the model once, before any worker starts, so workers never race to build it.
        model = ensure_model(settings.model_variant, models_dir)
        names = unique_names(clip_list, outdir)
        earlier = previous_rows(outdir, names.values())
        batch_jobs = [ClipJob(str(c), str(outdir), names[c], settings.to_dict(), force, overlay,
                              str(model.path.parent)) for c in clip_list]
        rows: list[dict[str, object]] = []
        started = time.time()
        runner = (_run_dask(batch_jobs, scheduler) if executor == "dask"
                  else _run_local(batch_jobs, jobs or os.cpu_count() or 1))
        try:
            with _stop_on_signals():
                for row in runner:
                    rows.append(row)
                    write_summary(earlier + rows, outdir)
                    write_index(earlier + rows, outdir)
                    if on_row:
                        on_row(row)
        except (KeyboardInterrupt, BatchStop) as stop:
            runner.close()  # kills the workers now
            signum = stop.signum if isinstance(stop, BatchStop) else signal.SIGINT
            how = "Ctrl-C (SIGINT)" if isinstance(stop, KeyboardInterrupt) else signal.Signals(signum).name
            done = {str(r["clip"]) for r in rows}
            for job in batch_jobs:
                if job.clip in done:
                    continue
                finished = finished_during(job, started)
                rows.append({"clip": job.clip, "report": job.name, "status": "ok", "duration_s": "",
                             **_summary_fields(finished), "reason": f"finished as the batch was stopped by {how}"}
                            if finished is not None else
                            {"clip": job.clip, "report": job.name, "status": "cancelled",
                             "reason": f"not done: the batch was stopped by {how}"})
            write_summary(earlier + rows, outdir)
            write_index(earlier + rows, outdir)
            raise BatchCancelled(how, int(signum), rows, outdir) from None
        write_summary(earlier + rows, outdir)
        write_index(earlier + rows, outdir)
    return rows
