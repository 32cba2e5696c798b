"""Batch processing: many clips, in parallel, never losing work.

Each clip runs in :func:`process_clip`, which never raises: it returns one summary row with
``status`` ok / skipped / failed and a one-line ``reason``. Rows are appended to ``summary.csv``
(rewritten atomically after every clip), so a killed batch keeps every finished row; a rerun skips
clips whose report folder is complete unless ``force``. Executors: local processes
(``concurrent.futures``) or an existing Dask distributed cluster.
"""

from __future__ import annotations

import csv
import html
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from buttwink.settings import Settings

VIDEO_EXTENSIONS = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".3gp", ".wmv"}
SUMMARY_COLUMNS = ("clip", "report", "status", "reason", "verdict", "reps_found", "reps_assessed",
                   "reps_with_wink", "duration_s", "seconds")


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

    Hidden files and folders are skipped, and so is ``exclude`` (the batch's own output folder, when it
    lies inside the source: its overlay.mp4 files are not new clips)."""
    if source.is_dir():
        skip = exclude.resolve() if exclude is not None else None
        return sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
                      and not any(part.startswith(".") for part in p.relative_to(source).parts)
                      and not (skip is not None and p.resolve().is_relative_to(skip)))
    lines = source.read_text(encoding="utf-8").splitlines()
    base = source.parent
    clips = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            path = Path(line).expanduser()
            clips.append(path if path.is_absolute() else base / path)
    return clips


def process_clip(job: ClipJob) -> dict[str, object]:
    """Analyse one clip and write its report; return its summary row. Never raises."""
    from buttwink.report import is_complete, write_report

    clip = Path(job.clip)
    report_dir = Path(job.outdir) / job.name
    row: dict[str, object] = {"clip": str(clip), "report": job.name, "status": "failed", "reason": "",
                              "verdict": "", "reps_found": "", "reps_assessed": "", "reps_with_wink": "",
                              "duration_s": "", "seconds": ""}
    if not job.force and is_complete(report_dir):
        summary = json.loads((report_dir / "summary.json").read_text())
        row.update(_summary_fields(summary), status="skipped", reason="already done (use --force to redo)")
        return row
    t0 = time.perf_counter()
    try:
        from buttwink.pipeline import analyze

        settings = Settings(**job.settings)  # type: ignore[arg-type]
        result = analyze(clip, settings, models_dir=job.models_dir)
        write_report(result, job.outdir, name=job.name, overlay=job.overlay)
        row.update(_summary_fields(result.summary()), status="ok")
    except Exception as exc:  # isolate every clip: one bad file never stops the batch
        row["reason"] = one_line(exc, clip)
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row


def one_line(exc: BaseException, clip: Path) -> str:
    """A one-line reason that names the clip."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if str(clip) not in text:
        text = f"{clip}: {text}"
    from buttwink.models import ModelError
    from buttwink.pipeline import ClipError
    from buttwink.video import VideoError

    if not isinstance(exc, VideoError | ModelError | ClipError | OSError):
        text = f"{text} (internal error: {type(exc).__name__})"
    return text


def _summary_fields(summary: dict[str, object]) -> dict[str, object]:
    video = summary.get("video", {})
    return {
        "verdict": summary.get("verdict", ""),
        "reps_found": summary.get("reps_found", ""),
        "reps_assessed": summary.get("reps_assessed", ""),
        "reps_with_wink": summary.get("reps_with_wink", ""),
        "duration_s": round(float(video.get("duration_s", 0.0)), 2) if isinstance(video, dict) else "",
    }


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_summary(rows: list[dict[str, object]], outdir: Path) -> Path:
    """Write summary.csv (one row per clip) atomically."""
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(SUMMARY_COLUMNS), extrasaction="ignore")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: str(r["clip"])):
        writer.writerow(row)
    path = outdir / "summary.csv"
    _atomic_write(path, buf.getvalue())
    return path


def write_index(rows: list[dict[str, object]], outdir: Path) -> Path:
    """index.html: every clip's report.png and verdict on one page (failed clips with their reason)."""
    cards = []
    for row in sorted(rows, key=lambda r: str(r["clip"])):
        name = html.escape(str(row["report"]))
        status = str(row["status"])
        title = html.escape(Path(str(row["clip"])).name)
        if status in ("ok", "skipped") and (outdir / str(row["report"]) / "report.png").exists():
            body = (f'<a href="{name}/report.png"><img src="{name}/report.png" alt="{title}"></a>'
                    f'<p class="verdict">{html.escape(str(row["verdict"]))}</p>'
                    f'<p><a href="{name}/reps.csv">reps.csv</a> · <a href="{name}/frames.csv">frames.csv</a>'
                    f' · <a href="{name}/summary.json">summary.json</a></p>')
        else:
            body = f'<p class="failed">failed: {html.escape(str(row["reason"]))}</p>'
        cards.append(f'<section class="{html.escape(status)}"><h2>{title}</h2>{body}</section>')
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>buttwink batch</title><style>"
        "body{font-family:sans-serif;margin:1em;background:#f4f4f4}"
        "section{background:#fff;margin:0 0 1em;padding:.5em 1em;border-radius:6px}"
        "img{max-width:100%;height:auto}.failed{color:#b00}.verdict{font-weight:bold}"
        "</style></head><body><h1>buttwink batch report</h1>"
        f"<p>{sum(r['status'] != 'failed' for r in rows)} of {len(rows)} clips analysed.</p>"
        + "".join(cards) + "</body></html>"
    )
    path = outdir / "index.html"
    _atomic_write(path, page)
    return path


def _pool(workers: int) -> ProcessPoolExecutor:
    # "spawn": MediaPipe starts threads, and forking a threaded parent can deadlock the child.
    return ProcessPoolExecutor(max_workers=max(1, workers), mp_context=multiprocessing.get_context("spawn"))


def _run_local(jobs: list[ClipJob], workers: int) -> Iterator[dict[str, object]]:
    """Run jobs in a process pool. If a worker process dies (the pool breaks), every clip it took down is
    rerun alone, so only the clip that really crashes is reported failed."""
    retry: list[ClipJob] = []
    with _pool(workers) as pool:
        futures = {pool.submit(process_clip, job): job for job in jobs}
        for fut in as_completed(futures):
            try:
                yield fut.result()
            except BrokenProcessPool:
                retry.append(futures[fut])
    for job in retry:
        yield _run_isolated(job)


def _run_isolated(job: ClipJob) -> dict[str, object]:
    with _pool(1) as pool:
        try:
            return pool.submit(process_clip, job).result()
        except BrokenProcessPool:
            return {"clip": job.clip, "report": job.name, "status": "failed",
                    "reason": f"{job.clip}: the analysis process crashed"}


def _run_dask(jobs: list[ClipJob], scheduler: str | None) -> Iterator[dict[str, object]]:
    """Run jobs on a Dask distributed cluster (``scheduler`` address, or a local cluster if None)."""
    from distributed import Client
    from distributed import as_completed as dask_as_completed

    client = Client(scheduler) if scheduler else Client(processes=True)
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
        client.close()


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
    """Process every clip; write summary.csv and index.html in ``outdir``; return the summary rows."""
    from buttwink.models import ensure_model
    from buttwink.report import unique_names

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if not os.access(outdir, os.W_OK):
        raise PermissionError(f"{outdir}: output folder is not writable")
    clip_list = [Path(c) for c in clips]
    # Provision the model once, before any worker starts, so workers never race to build it.
    model = ensure_model(settings.model_variant, models_dir)
    names = unique_names(clip_list)
    batch_jobs = [ClipJob(str(c), str(outdir), names[c], settings.to_dict(), force, overlay,
                          str(model.path.parent)) for c in clip_list]
    rows: list[dict[str, object]] = []
    runner = (_run_dask(batch_jobs, scheduler) if executor == "dask"
              else _run_local(batch_jobs, jobs or os.cpu_count() or 1))
    for row in runner:
        rows.append(row)
        write_summary(rows, outdir)
        write_index(rows, outdir)
        if on_row:
            on_row(row)
    write_summary(rows, outdir)
    write_index(rows, outdir)
    return rows
