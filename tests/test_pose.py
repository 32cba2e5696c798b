"""Pose stage over a video: one row per frame, NaN rows without a person, landmarks file round trip."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from buttwink.cli import app
from buttwink.pipeline import PoseTrack, estimate_clip
from buttwink.pose import LANDMARK_NAMES, landmark_columns


@pytest.fixture(scope="module")
def track(sample_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> PoseTrack:
    import cv2

    short = tmp_path_factory.mktemp("clip") / "short.mp4"
    cap = cv2.VideoCapture(str(sample_clip))
    writer = None
    for _ in range(45):
        ok, bgr = cap.read()
        if not ok:
            break
        if writer is None:
            writer = cv2.VideoWriter(str(short), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, bgr.shape[1::-1])
        writer.write(bgr)
    writer.release()
    return estimate_clip(short)


def test_one_row_per_frame_with_landmarks_and_contour(track: PoseTrack) -> None:
    table = track.table
    assert len(table) == 45 == track.video["frames_decoded"]
    assert table["frame"].tolist() == list(range(45))
    assert set(landmark_columns()) <= set(table.columns)
    assert table["detected"].mean() >= 0.95
    det = table[table["detected"]]
    assert det["right_hip_y_px"].between(0, track.video["height"]).all()
    assert (det["right_shoulder_y_px"] < det["right_hip_y_px"]).all()
    assert det[[c for c in table.columns if c.startswith("back_")]].notna().mean().mean() > 0.8
    assert track.model["source"] in ("official-download", "built-from-wheel", "built-from-download")


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_landmarks_file_round_trip(track: PoseTrack, tmp_path: Path, suffix: str) -> None:
    path = track.save(tmp_path / f"lm{suffix}")
    again = PoseTrack.load(path)
    pd.testing.assert_frame_equal(again.table, track.table, check_dtype=False, rtol=1e-5)
    assert again.video["fps"] == pytest.approx(track.video["fps"])
    assert again.model["sha256"] == track.model["sha256"]
    assert not list(tmp_path.glob(".*tmp"))


def test_frames_without_a_person_are_nan_rows(tmp_path: Path, make_clip) -> None:
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (240, 320, 3), dtype=np.uint8) for _ in range(12)]
    track = estimate_clip(make_clip(tmp_path / "noise.mp4", frames))
    assert len(track.table) == 12
    assert not track.table["detected"].any()
    assert track.table[[f"{n}_x_px" for n in LANDMARK_NAMES]].isna().all().all()


def test_pose_command_writes_the_landmarks_file(track: PoseTrack, sample_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "lm.parquet"
    res = CliRunner().invoke(app, ["pose", str(sample_clip), "-o", str(out), "--no-masks"])
    assert res.exit_code == 0, res.output
    table = PoseTrack.load(out).table
    assert table["detected"].mean() > 0.95 and table["back_00_x_px"].isna().all()
