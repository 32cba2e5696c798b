"""Export to the formats labs already use: keypoints as OpenSim TRC, angles as OpenSim MOT (as Sports2D
writes them), so results open in OpenSim or sit next to Sports2D output.

TRC: every BlazePose landmark as a marker, in metres, X forward in the image (right), Y up, Z = 0 (a
single 2D view has no depth). Pixels become metres through the person's height: ``body_height_m`` (default
1.75 m) over the median standing height in pixels (heel to nose, divided by 0.93, the nose's fraction of
stature). Missing values are written as ``NaN``, which OpenSim reads as a gap.

MOT: time plus every smoothed angle column of ``Result.frames`` (degrees, ``inDegrees=yes``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from buttwink.pipeline import ANGLE_COLUMNS, PoseTrack, Result
from buttwink.pose import LANDMARK_NAMES

NOSE_FRACTION_OF_STATURE = 0.93


def _atomic_write(path: Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def metres_per_pixel(table: pd.DataFrame, body_height_m: float = 1.75) -> float:
    """Scale from the standing height in pixels (heel to nose / 0.93), median over detected frames."""
    heel = table[["left_heel_y_px", "right_heel_y_px"]].mean(axis=1)
    height_px = (heel - table["nose_y_px"]) / NOSE_FRACTION_OF_STATURE
    height_px = height_px[np.isfinite(height_px) & (height_px > 0)]
    if height_px.empty:
        raise ValueError("cannot scale to metres: no frame shows both the nose and the heels")
    return body_height_m / float(np.percentile(height_px, 90))  # standing frames are the tallest


def _fmt(value: float) -> str:
    return "NaN" if not np.isfinite(value) else f"{value:.6f}"


def write_trc(track: PoseTrack, path: Path | str, *, body_height_m: float = 1.75) -> Path:
    """Write all 33 landmarks as a TRC marker file (metres, Y up, Z = 0)."""
    table = track.table
    scale = metres_per_pixel(table, body_height_m)
    image_h = float(track.video.get("height", 0) or 0)  # type: ignore[arg-type]
    times = table["time_s"].to_numpy(float)
    rate = 1.0 / float(np.median(np.diff(times))) if len(times) > 1 else float(track.video.get("fps", 30.0))
    n, m = len(table), len(LANDMARK_NAMES)
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{Path(path).name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        f"{rate:.2f}\t{rate:.2f}\t{n}\t{m}\tm\t{rate:.2f}\t1\t{n}",
        "Frame#\tTime\t" + "\t".join(f"{name}\t\t" for name in LANDMARK_NAMES).rstrip("\t"),
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, m + 1)),
        "",
    ]
    xs = table[[f"{name}_x_px" for name in LANDMARK_NAMES]].to_numpy(float) * scale
    ys = (image_h - table[[f"{name}_y_px" for name in LANDMARK_NAMES]].to_numpy(float)) * scale
    for i in range(n):
        coords = "\t".join(f"{_fmt(xs[i, k])}\t{_fmt(ys[i, k])}\t{_fmt(0.0 * xs[i, k])}" for k in range(m))
        lines.append(f"{i + 1}\t{times[i]:.6f}\t{coords}")
    return _atomic_write(Path(path), "\n".join(lines) + "\n")


def write_mot(frames: pd.DataFrame, path: Path | str, *, name: str = "buttwink angles") -> Path:
    """Write time and the smoothed angles (degrees) as an OpenSim MOT storage file."""
    columns = [c for c in ANGLE_COLUMNS if c in frames.columns]
    data = frames[["time_s", *columns]].to_numpy(float)
    lines = [name, "version=1", f"nRows={len(data)}", f"nColumns={len(columns) + 1}", "inDegrees=yes", "endheader",
             "time\t" + "\t".join(columns)]
    lines += ["\t".join(_fmt(v) for v in row) for row in data]
    return _atomic_write(Path(path), "\n".join(lines) + "\n")


def export_all(result: Result, folder: Path | str) -> list[Path]:
    """Write ``keypoints.trc`` and ``angles.mot`` for a result into ``folder``."""
    folder = Path(folder)
    return [write_trc(result.track, folder / "keypoints.trc"), write_mot(result.frames, folder / "angles.mot")]
