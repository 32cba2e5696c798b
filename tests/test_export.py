"""TRC and MOT export: headers OpenSim reads, rows that parse, units and NaN handling."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from buttwink.export import metres_per_pixel, write_mot, write_trc
from buttwink.pipeline import ANGLE_COLUMNS, PoseTrack
from buttwink.pose import LANDMARK_FIELDS, LANDMARK_NAMES, landmark_columns


def _track(n: int = 10, height_px: float = 400.0) -> PoseTrack:
    values = np.zeros((n, len(LANDMARK_NAMES), len(LANDMARK_FIELDS)))
    values[..., 0] = 100.0 + np.arange(len(LANDMARK_NAMES))[None, :]
    values[..., 1] = 300.0
    nose, heels = LANDMARK_NAMES.index("nose"), [LANDMARK_NAMES.index(f"{s}_heel") for s in ("left", "right")]
    values[:, nose, 1] = 50.0
    values[:, heels, 1] = 50.0 + height_px * 0.93
    values[3] = np.nan  # a frame without a person
    table = pd.DataFrame(values.reshape(n, -1), columns=landmark_columns())
    table.insert(0, "detected", ~np.isnan(values[:, 0, 0]))
    table.insert(0, "time_s", np.arange(n) / 25.0)
    table.insert(0, "frame", np.arange(n))
    return PoseTrack(table, {"height": 480, "fps": 25.0}, {})


def test_trc_header_and_rows(tmp_path: Path) -> None:
    track = _track()
    path = write_trc(track, tmp_path / "k.trc", body_height_m=1.6)
    lines = path.read_text().splitlines()
    assert lines[0].startswith("PathFileType\t4\t(X/Y/Z)\tk.trc")
    header = dict(zip(lines[1].split("\t"), lines[2].split("\t"), strict=True))
    assert header["NumFrames"] == "10" and header["NumMarkers"] == "33" and header["Units"] == "m"
    assert float(header["DataRate"]) == pytest.approx(25.0)
    names = [c for c in lines[3].split("\t")[2:] if c]
    assert names == list(LANDMARK_NAMES)
    assert lines[4].split("\t")[2:5] == ["X1", "Y1", "Z1"]
    rows = pd.read_csv(path, sep="\t", skiprows=6, header=None)
    assert rows.shape == (10, 2 + 3 * 33)
    assert rows[0].tolist() == list(range(1, 11)) and rows[1].is_monotonic_increasing
    scale = 1.6 / 400.0
    assert rows.loc[0, 2] == pytest.approx(100.0 * scale)  # nose x
    assert rows.loc[0, 3] == pytest.approx((480 - 50.0) * scale)  # y flipped up
    assert rows.loc[0, 4] == 0.0
    assert rows.loc[3, 2:].isna().all()  # the frame without a person: NaN markers


def test_mot_header_matches_the_data(tmp_path: Path) -> None:
    frames = pd.DataFrame({"time_s": np.arange(5) / 30.0, **{c: np.linspace(0, 10, 5) for c in ANGLE_COLUMNS}})
    frames.loc[2, "depth_deg"] = np.nan
    path = write_mot(frames, tmp_path / "a.mot")
    lines = path.read_text().splitlines()
    assert lines[1:6] == ["version=1", "nRows=5", f"nColumns={len(ANGLE_COLUMNS) + 1}", "inDegrees=yes", "endheader"]
    data = pd.read_csv(path, sep="\t", skiprows=6)
    assert list(data.columns) == ["time", *ANGLE_COLUMNS] and len(data) == 5
    assert np.isnan(data.loc[2, "depth_deg"]) and data["time"].is_monotonic_increasing


def test_scale_needs_a_visible_person() -> None:
    track = _track()
    track.table.loc[:, "nose_y_px"] = np.nan
    with pytest.raises(ValueError, match="cannot scale"):
        metres_per_pixel(track.table)
