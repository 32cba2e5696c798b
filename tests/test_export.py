"""TRC and MOT export: headers OpenSim reads, rows that parse, units, marker selection, NaN handling and
atomic writes. Synthetic tracks and frames built by hand: no MediaPipe."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from buttwink import _fs
from buttwink.export import export_all, metres_per_pixel, trc_markers, write_mot, write_trc
from buttwink.pipeline import ANGLE_COLUMNS, Analysis, PoseTrack, Result
from buttwink.pose import LANDMARK_FIELDS, LANDMARK_NAMES, landmark_columns
from buttwink.settings import Settings
from buttwink.view import ViewAssessment

IMAGE_H = 480


def _track(n: int = 10, height_px: float = 400.0, fps: float = 25.0) -> PoseTrack:
    """Every landmark k at x = 100 + k + frame, y = 300; nose at y = 50, heels at 50 + 0.93 * height_px."""
    values = np.zeros((n, len(LANDMARK_NAMES), len(LANDMARK_FIELDS)))
    values[..., 0] = 100.0 + np.arange(len(LANDMARK_NAMES))[None, :] + np.arange(n)[:, None]
    values[..., 1] = 300.0
    nose, heels = LANDMARK_NAMES.index("nose"), [LANDMARK_NAMES.index(f"{s}_heel") for s in ("left", "right")]
    values[:, nose, 1] = 50.0
    values[:, heels, 1] = 50.0 + height_px * 0.93
    values[3] = np.nan  # a frame without a person
    table = pd.DataFrame(values.reshape(n, -1), columns=landmark_columns())
    table.insert(0, "detected", ~np.isnan(values[:, 0, 0]))
    table.insert(0, "time_s", np.arange(n) / fps)
    table.insert(0, "frame", np.arange(n))
    return PoseTrack(table, {"height": IMAGE_H, "fps": fps}, {})


def _frames(n: int = 5) -> pd.DataFrame:
    frames = pd.DataFrame({"frame": np.arange(n), "time_s": np.arange(n) / 30.0, "detected": True})
    for i, col in enumerate(ANGLE_COLUMNS):
        frames[col] = np.linspace(0, 10, n) + i
        frames[f"{col}_raw"] = -1.0
    frames["posterior_pelvic_tilt_deg_despiked"] = -2.0
    frames["below_parallel"] = False
    frames.loc[2, "depth_deg"] = np.nan
    return frames


def _read_trc(path: Path) -> tuple[list[str], dict[str, str], list[str], pd.DataFrame]:
    lines = path.read_text().splitlines()
    header = dict(zip(lines[1].split("\t"), lines[2].split("\t"), strict=True))
    names = [c for c in lines[3].split("\t")[2:] if c]
    rows = pd.read_csv(path, sep="\t", skiprows=6, header=None)
    return lines, header, names, rows


def test_trc_header_and_rows_in_metres(tmp_path: Path) -> None:
    path = write_trc(_track(), tmp_path / "k.trc", body_height_m=1.6)
    lines, header, names, rows = _read_trc(path)
    assert lines[0] == "PathFileType\t4\t(X/Y/Z)\tk.trc"
    assert list(header) == ["DataRate", "CameraRate", "NumFrames", "NumMarkers", "Units", "OrigDataRate",
                            "OrigDataStartFrame", "OrigNumFrames"]
    assert header["NumFrames"] == "10" and header["OrigNumFrames"] == "10" and header["NumMarkers"] == "33"
    assert header["Units"] == "m"
    assert float(header["DataRate"]) == pytest.approx(25.0) and float(header["CameraRate"]) == pytest.approx(25.0)
    assert names == list(LANDMARK_NAMES)
    assert lines[4].split("\t")[:5] == ["", "", "X1", "Y1", "Z1"] and lines[4].split("\t")[-1] == "Z33"
    assert lines[5] == ""
    assert rows.shape == (10, 2 + 3 * 33)
    assert rows[0].tolist() == list(range(1, 11))
    assert rows[1].is_monotonic_increasing and rows[1].iloc[-1] == pytest.approx(9 / 25.0, abs=1e-6)
    scale = 1.6 / 400.0
    assert rows.loc[0, 2] == pytest.approx(100.0 * scale)  # nose x
    assert rows.loc[5, 2] == pytest.approx(105.0 * scale)  # nose x moves with the frame
    assert rows.loc[0, 3] == pytest.approx((IMAGE_H - 50.0) * scale)  # y flipped up
    hip = 2 + 3 * LANDMARK_NAMES.index("left_hip")
    assert rows.loc[0, hip] == pytest.approx((100.0 + LANDMARK_NAMES.index("left_hip")) * scale)
    assert (rows.loc[[0, 1, 2, 4], 4] == 0.0).all()  # Z = 0 wherever the marker exists


def test_trc_missing_frame_is_nan_everywhere(tmp_path: Path) -> None:
    path = write_trc(_track(), tmp_path / "k.trc")
    _, _, _, rows = _read_trc(path)
    assert rows.loc[3, 2:].isna().all() and rows.loc[3, 1] == pytest.approx(3 / 25.0)
    assert rows.drop(index=3).loc[:, 2:].notna().all().all()
    row = path.read_text().splitlines()[6 + 3].split("\t")
    assert set(row[2:]) == {"NaN"}  # written as the literal NaN, never empty


def test_trc_in_pixels_without_a_height(tmp_path: Path) -> None:
    path = write_trc(_track(), tmp_path / "px.trc", body_height_m=None)
    _, header, _, rows = _read_trc(path)
    assert header["Units"] == "px"
    assert rows.loc[0, 2] == pytest.approx(100.0) and rows.loc[0, 3] == pytest.approx(IMAGE_H - 50.0)


def test_trc_falls_back_to_pixels_when_it_cannot_scale(tmp_path: Path) -> None:
    track = _track()
    track.table.loc[:, "nose_y_px"] = np.nan
    with pytest.raises(ValueError, match="cannot scale"):
        metres_per_pixel(track.table)
    _, header, _, rows = _read_trc(write_trc(track, tmp_path / "k.trc"))
    assert header["Units"] == "px" and rows.loc[0, 5] == pytest.approx(101.0)  # left_eye_inner x, unscaled


def test_trc_near_side_keeps_that_side(tmp_path: Path) -> None:
    markers = trc_markers("right")
    assert markers[0] == "nose" and "mouth_right" in markers and "right_hip" in markers
    assert not [m for m in markers if "left" in m] and len(markers) == 1 + 16
    path = write_trc(_track(), tmp_path / "r.trc", near_side="right", body_height_m=None)
    _, header, names, rows = _read_trc(path)
    assert names == markers and header["NumMarkers"] == str(len(markers))
    assert rows.shape == (10, 2 + 3 * len(markers))
    col = 2 + 3 * markers.index("right_hip")
    assert rows.loc[0, col] == pytest.approx(100.0 + LANDMARK_NAMES.index("right_hip"))
    with pytest.raises(ValueError, match="near_side"):
        trc_markers("front")


def test_trc_rate_from_timestamps_not_metadata(tmp_path: Path) -> None:
    track = _track(fps=50.0)
    track.video["fps"] = 29.97  # the container's nominal rate; the timestamps say 50
    _, header, _, _ = _read_trc(write_trc(track, tmp_path / "k.trc"))
    assert float(header["DataRate"]) == pytest.approx(50.0)


def test_mot_header_matches_the_data(tmp_path: Path) -> None:
    frames = _frames()
    path = write_mot(frames, tmp_path / "a.mot")
    lines = path.read_text().splitlines()
    assert lines[0] == "buttwink angles"
    assert lines[1:6] == ["version=1", "nRows=5", f"nColumns={len(ANGLE_COLUMNS) + 1}", "inDegrees=yes", "endheader"]
    data = pd.read_csv(path, sep="\t", skiprows=6)
    assert list(data.columns) == ["time", *ANGLE_COLUMNS]  # smoothed angles only: no *_raw, *_despiked, flags
    assert data.shape == (5, len(ANGLE_COLUMNS) + 1)
    assert data["time"].is_monotonic_increasing and data["time"].iloc[-1] == pytest.approx(4 / 30.0, abs=1e-6)
    assert data.loc[4, "knee_flexion_deg"] == pytest.approx(10.0 + ANGLE_COLUMNS.index("knee_flexion_deg"))
    assert np.isnan(data.loc[2, "depth_deg"]) and lines[6 + 1 + 2].split("\t")[1] == "NaN"
    assert data.drop(columns="depth_deg").notna().all().all()


def _result(track: PoseTrack, frames: pd.DataFrame) -> Result:
    view = ViewAssessment("left", "right", 1.0, 0.0, 1.0, 1.0, True)
    return Result(Path("clip.mp4"), track, Analysis(view, frames, pd.DataFrame(), Settings()))


def test_export_all_writes_both_files(tmp_path: Path) -> None:
    out = tmp_path / "report"
    paths = export_all(_result(_track(), _frames()), out)
    assert [p.name for p in paths] == ["keypoints.trc", "angles.mot"]
    assert sorted(p.name for p in out.iterdir()) == ["angles.mot", "keypoints.trc"]  # no temporary files left
    assert _read_trc(out / "keypoints.trc")[1]["NumFrames"] == "10"
    assert (out / "angles.mot").read_text().splitlines()[2] == "nRows=5"


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_mot(_frames(), tmp_path / "a.mot")
    before = path.read_text()

    def fail(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(_fs.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_mot(_frames(3), path)
    assert path.read_text() == before  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["a.mot"]  # and the temporary file is gone


def test_exported_files_are_readable_by_others_like_every_other_report_file(tmp_path: Path) -> None:
    """keypoints.trc and angles.mot get the mode ``open`` gives (0644 under umask 022), not mkstemp's 0600."""
    import os

    old = os.umask(0o022)
    try:
        paths = export_all(_result(_track(), _frames()), tmp_path)
    finally:
        os.umask(old)
    for path in paths:
        assert path.stat().st_mode & 0o777 == 0o644, (path, oct(path.stat().st_mode))
