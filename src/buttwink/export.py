"""Export to the formats labs already use: keypoints as OpenSim TRC, angles as OpenSim MOT (the layout
Sports2D writes), so results open in OpenSim or sit next to Sports2D output.

TRC (:func:`write_trc`): the BlazePose landmarks as markers, named as in the landmarks file (``nose``,
``left_hip``, ...). X is the image's x (right), Y is flipped to point up (image height minus y), Z = 0: a
single 2D view has no depth. Units:

- ``m`` (default): pixels become metres through the person's height, ``body_height_m`` (default 1.75 m)
  over the standing height in pixels (heel to nose divided by 0.93, the nose's fraction of stature; the
  90th percentile over the clip, since standing frames are the tallest). The origin is the image's
  bottom-left corner. The scale is only as right as the height you give.
- ``px``: with ``body_height_m=None``, or when no frame shows both the nose and a heel (the scale cannot
  be found). The ``Units`` header field always says which.

``near_side="left"`` (or ``"right"``) keeps only the nose and that side's landmarks: in a side view the far
side is mostly hidden behind the body and MediaPipe guesses it.

MOT (:func:`write_mot`): ``time`` plus every smoothed angle column of ``Result.frames`` (the columns named
``*_deg``; the ``*_raw`` and ``*_despiked`` versions are left out), degrees, ``inDegrees=yes``.

Missing values (frames without a person, angles inside long gaps) are written as ``NaN`` in both files:
OpenSim reads ``NaN`` as a gap, pandas (``read_csv(sep="\\t")``) and NumPy read it as NaN. Files are
tab-separated and written atomically (a temporary file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd

from buttwink._fs import atomic_write_text
from buttwink.pipeline import PoseTrack, Result
from buttwink.pose import LANDMARK_NAMES

NOSE_FRACTION_OF_STATURE = 0.93
DEFAULT_BODY_HEIGHT_M = 1.75


def metres_per_pixel(table: pd.DataFrame, body_height_m: float = DEFAULT_BODY_HEIGHT_M) -> float:
    """Metres per pixel from the standing height in pixels (heel to nose / 0.93, 90th percentile).

    Raises ``ValueError`` when no frame shows both the nose and a heel.
    """
    heel = table[["left_heel_y_px", "right_heel_y_px"]].mean(axis=1)
    height_px = (heel - table["nose_y_px"]) / NOSE_FRACTION_OF_STATURE
    height_px = height_px[np.isfinite(height_px) & (height_px > 0)]
    if height_px.empty:
        raise ValueError("cannot scale to metres: no frame shows both the nose and the heels")
    return body_height_m / float(np.percentile(height_px, 90))  # standing frames are the tallest


def trc_markers(near_side: str | None = None) -> list[str]:
    """Marker names written to the TRC: all 33 landmarks, or the nose and one side's landmarks."""
    if near_side is None:
        return list(LANDMARK_NAMES)
    if near_side not in ("left", "right"):
        raise ValueError(f"near_side must be 'left', 'right' or None, not {near_side!r}")
    return [n for n in LANDMARK_NAMES if n == "nose" or n.startswith(f"{near_side}_") or n == f"mouth_{near_side}"]


def _fmt(values: np.ndarray) -> list[str]:
    return ["NaN" if not np.isfinite(v) else f"{v:.6f}" for v in values]


def _frame_rate(times: np.ndarray, fallback: float) -> float:
    steps = np.diff(times[np.isfinite(times)])
    steps = steps[steps > 0]
    return 1.0 / float(np.median(steps)) if len(steps) else fallback


def write_trc(track: PoseTrack, path: Path | str, *, near_side: str | None = None,
              body_height_m: float | None = DEFAULT_BODY_HEIGHT_M) -> Path:
    """Write the landmarks as an OpenSim TRC marker file (Y up, Z = 0; metres or pixels, see the module)."""
    table = track.table
    markers = trc_markers(near_side)
    units, scale = "px", 1.0
    if body_height_m is not None:
        with contextlib.suppress(ValueError):  # no frame to scale from: pixels, and the Units field says so
            units, scale = "m", metres_per_pixel(table, body_height_m)
    image_h = float(track.video.get("height", 0) or 0)  # type: ignore[arg-type]
    if not image_h:  # no clip metadata: flip about the lowest point seen instead
        image_h = float(np.nanmax(table[[f"{m}_y_px" for m in markers]].to_numpy(float), initial=0.0))
    times = table["time_s"].to_numpy(float)
    rate = _frame_rate(times, float(track.video.get("fps", 30.0) or 30.0))  # type: ignore[arg-type]
    n, m = len(table), len(markers)
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{Path(path).name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        f"{rate:.2f}\t{rate:.2f}\t{n}\t{m}\t{units}\t{rate:.2f}\t1\t{n}",
        "Frame#\tTime\t" + "\t\t\t".join(markers),
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, m + 1)),
        "",
    ]
    xyz = np.empty((n, m, 3))
    xyz[..., 0] = table[[f"{name}_x_px" for name in markers]].to_numpy(float) * scale
    xyz[..., 1] = (image_h - table[[f"{name}_y_px" for name in markers]].to_numpy(float)) * scale
    xyz[..., 2] = np.where(np.isfinite(xyz[..., 0] + xyz[..., 1]), 0.0, np.nan)  # a missing marker is all NaN
    for i in range(n):
        lines.append("\t".join([str(i + 1), f"{times[i]:.6f}", *_fmt(xyz[i].ravel())]))
    return atomic_write_text(path, "\n".join(lines) + "\n")


def angle_columns(frames: pd.DataFrame) -> list[str]:
    """The smoothed angle columns of a frames table (``*_deg``), in table order."""
    return [c for c in frames.columns if str(c).endswith("_deg")]


def write_mot(frames: pd.DataFrame, path: Path | str, *, name: str = "buttwink angles") -> Path:
    """Write time and every smoothed angle (degrees) as an OpenSim MOT storage file."""
    columns = angle_columns(frames)
    data = frames[["time_s", *columns]].to_numpy(float)
    lines = [name, "version=1", f"nRows={len(data)}", f"nColumns={len(columns) + 1}", "inDegrees=yes", "endheader",
             "\t".join(["time", *columns])]
    lines += ["\t".join(_fmt(row)) for row in data]
    return atomic_write_text(path, "\n".join(lines) + "\n")


def export_all(result: Result, folder: Path | str) -> list[Path]:
    """Write ``keypoints.trc`` (all 33 landmarks) and ``angles.mot`` for a result into ``folder``."""
    folder = Path(folder)
    return [write_trc(result.track, folder / "keypoints.trc"), write_mot(result.frames, folder / "angles.mot")]
