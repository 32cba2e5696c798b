"""Report stage: a clip's folder with report.png, frames.csv, reps.csv, summary.json, landmarks.parquet,
keypoints.trc and angles.mot (OpenSim), and optionally overlay.mp4, written all-or-nothing.

Everything is first written into a hidden temporary folder beside the final one and renamed into place
at the end, so a killed run never leaves a half-written report that a resumed batch would take as done.
A report folder is complete exactly when its ``summary.json`` exists.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from buttwink.export import export_all
from buttwink.pipeline import Result, rep_verdict

log = logging.getLogger(__name__)

#: reps.csv columns, in order (names shared with the renderer's reps_truth.csv where they overlap).
REP_COLUMNS = (
    "rep", "status", "reason", "verdict", "start_time_s", "bottom_time_s", "end_time_s", "top_depth_deg",
    "bottom_depth_deg", "wink", "onset_time_s", "onset_depth_deg", "onset_depth_low_deg", "onset_depth_high_deg",
    "onset_hip_flexion_deg", "rep_onset_depth_deg", "onset_set_weight", "wink_deg", "departure_deg",
    "descent_departure_deg", "ascent_departure_deg",
    "confidence", "onset_frame", "start", "bottom", "end", "model",
)


def safe_name(clip: Path | str) -> str:
    """A folder name for a clip that cannot escape the output folder: the file stem with anything but
    letters, digits, ``-``, ``_`` and ``.`` replaced by ``_`` (non-ASCII letters are kept)."""
    stem = Path(str(clip)).stem
    name = re.sub(r"[^\w.\-]+", "_", stem, flags=re.UNICODE).strip("._")
    return name[:100] or "clip"


def unique_names(clips: list[Path]) -> dict[Path, str]:
    """Folder names for many clips; clips whose names collide get a short hash of their full path appended.
    Names are compared ignoring case, as macOS and Windows file systems do."""
    names = {clip: safe_name(clip) for clip in clips}
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    for clip, name in names.items():
        if counts[name.casefold()] > 1:
            digest = hashlib.sha1(str(clip.resolve()).encode()).hexdigest()[:6]
            names[clip] = f"{name}-{digest}"
    return names


def is_complete(report_dir: Path) -> bool:
    """True when ``report_dir`` holds a finished report (its summary.json exists and parses)."""
    try:
        return json.loads((report_dir / "summary.json").read_text()).get("status") == "ok"
    except (OSError, ValueError):
        return False


def frames_table(result: Result) -> pd.DataFrame:
    """frames.csv: time, the near-side landmarks used (pixels), every angle raw and smoothed (degrees)."""
    frames = result.frames.copy()
    near = result.analysis.view.near_side
    table = result.track.table
    for joint in ("shoulder", "hip", "knee", "ankle", "heel", "foot_index"):
        for axis in ("x", "y"):
            frames[f"{joint}_{axis}_px"] = table[f"{near}_{joint}_{axis}_px"].to_numpy()
        frames[f"{joint}_visibility"] = table[f"{near}_{joint}_visibility"].to_numpy()
    return frames


def reps_table(result: Result) -> pd.DataFrame:
    """reps.csv: one row per rep with its verdict in words."""
    reps = result.reps.copy()
    reps["verdict"] = [rep_verdict(row) for _, row in reps.iterrows()] if len(reps) else []
    for col in REP_COLUMNS:
        if col not in reps.columns:
            reps[col] = np.nan
    return reps[list(REP_COLUMNS)]


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def write_report(
    result: Result,
    outdir: Path | str,
    *,
    name: str | None = None,
    png: bool = True,
    overlay: bool = False,
) -> Path:
    """Write the clip's report folder ``outdir/<name>`` atomically and return its path.

    An existing folder of the same name is replaced only once the new one is complete.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    final = outdir / (name or safe_name(result.clip))
    if final.resolve().parent != outdir.resolve():
        raise ValueError(f"report name {name!r} would leave {outdir}")
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=outdir))
    try:
        result.track.save(tmp / "landmarks.parquet")
        frames_table(result).to_csv(tmp / "frames.csv", index=False, float_format="%.4f")
        reps_table(result).to_csv(tmp / "reps.csv", index=False, float_format="%.4f")
        export_all(result, tmp)  # keypoints.trc, angles.mot (OpenSim)
        if png:
            _write_png(result, tmp / "report.png")
        if overlay:
            _write_overlay(result, tmp / "overlay.mp4")
        summary = result.summary()
        summary["report_files"] = [*sorted(p.name for p in tmp.iterdir()), "summary.json"]
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_default))
        os.chmod(tmp, 0o755)
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=outdir))
            os.replace(final, old / final.name)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _video_for(result: Result) -> Path | None:
    path = Path(str(result.track.video.get("path", "")))
    return path if path.is_file() else None


def _write_png(result: Result, path: Path) -> None:
    from buttwink.report_figure import collect_stills, render_report_png

    video = _video_for(result)
    stills = None
    if video is not None:
        try:
            stills = collect_stills(video, result.track, result.analysis, int(result.track.video["height"]))
        except Exception as exc:  # stills are a nicety; the report must still be written
            log.warning("%s: could not read still frames: %s", video, exc)
    render_report_png(result.track, result.analysis, path, title=result.clip.name, stills=stills)


def _write_overlay(result: Result, path: Path) -> None:
    from buttwink.overlay import write_overlay

    video = _video_for(result)
    if video is None:
        log.warning("%s: source video not found; overlay.mp4 skipped", result.clip)
        return
    write_overlay(video, result.track, result.analysis, path, max_height=int(result.track.video["height"]))
