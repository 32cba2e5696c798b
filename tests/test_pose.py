"""Pose stage over a video: one row per frame, NaN rows without a person, landmarks file round trip."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import PERSON_CANVAS, PERSON_FPS, PERSON_FRAMES, PERSON_STEP_PX
from typer.testing import CliRunner

from buttwink.cli import app
from buttwink.pipeline import PoseTrack, estimate_clip
from buttwink.pose import LANDMARK_FIELDS, LANDMARK_NAMES, PoseFrame, PoseOptions, landmark_columns
from buttwink.video import probe_video


@pytest.fixture(scope="module")
def track(person_clip: Path, model_info) -> PoseTrack:
    return estimate_clip(person_clip, model=model_info)


def test_one_row_per_frame_with_landmarks(track: PoseTrack) -> None:
    table = track.table
    assert len(table) == PERSON_FRAMES == track.video["frames_decoded"]
    assert table["frame"].tolist() == list(range(PERSON_FRAMES))
    assert list(table.columns[:3]) == ["frame", "time_s", "detected"]
    assert set(landmark_columns()) <= set(table.columns)
    assert len(landmark_columns()) == len(LANDMARK_NAMES) * len(LANDMARK_FIELDS)
    assert any(c.startswith("back_") for c in table.columns)
    times = table["time_s"].to_numpy()
    assert times[0] == 0.0 and np.all(np.diff(times) > 0)
    assert times[-1] == pytest.approx((PERSON_FRAMES - 1) / PERSON_FPS, abs=0.01)
    assert (track.video["width"], track.video["height"]) == PERSON_CANVAS
    assert track.video["fps"] == pytest.approx(PERSON_FPS)


def test_person_is_found_with_plausible_geometry(track: PoseTrack) -> None:
    table = track.table
    assert table["detected"].mean() >= 0.9
    det = table[table["detected"]]
    width, height = PERSON_CANVAS
    for name in ("nose", "left_shoulder", "right_shoulder"):
        assert det[f"{name}_x_px"].between(0, width).all() and det[f"{name}_y_px"].between(0, height).all()
        assert det[f"{name}_visibility"].between(0, 1).all() and det[f"{name}_visibility"].median() > 0.8

    def mid_y(part: str) -> pd.Series:
        return (det[f"left_{part}_y_px"] + det[f"right_{part}_y_px"]) / 2

    assert (mid_y("eye") < mid_y("shoulder")).all() and (mid_y("shoulder") < mid_y("hip")).all()
    # The picture moves PERSON_STEP_PX right and down per frame; the landmarks follow it.
    for axis in ("x", "y"):
        slope = np.polyfit(det["frame"], det[f"nose_{axis}_px"], 1)[0]
        assert slope == pytest.approx(PERSON_STEP_PX, abs=0.8)
    # The back contour comes from the segmentation mask.
    back = det[[c for c in table.columns if c.startswith("back_")]]
    assert back.notna().to_numpy().mean() > 0.3


def test_metadata_names_model_and_clip(track: PoseTrack, model_info, person_clip: Path) -> None:
    assert track.model["source"] == model_info.source
    assert track.model["sha256"] == model_info.sha256
    assert Path(str(track.video["path"])) == person_clip
    assert track.extra["with_contour"] is True
    people = track.extra["people_in_sampled_frames"]
    assert len(people) == 3 and all(n == 1 for n in people)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_landmarks_file_round_trip(track: PoseTrack, tmp_path: Path, suffix: str) -> None:
    path = track.save(tmp_path / "sub" / f"lm{suffix}")
    assert path.is_file()
    again = PoseTrack.load(path)
    assert list(again.table.columns) == list(track.table.columns)
    pd.testing.assert_frame_equal(again.table, track.table, check_dtype=False, rtol=1e-5)
    assert again.table["detected"].dtype == bool
    assert again.video["fps"] == pytest.approx(track.video["fps"])
    assert again.video["frames_decoded"] == track.video["frames_decoded"]
    assert again.model["source"] == track.model["source"]
    assert again.model["sha256"] == track.model["sha256"]
    assert again.extra["people_in_sampled_frames"] == track.extra["people_in_sampled_frames"]
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    if suffix == ".csv":
        sidecar = json.loads(path.with_name(path.name + ".json").read_text())
        assert sidecar["model"]["sha256"] == track.model["sha256"]


def test_csv_keeps_millisecond_times_late_in_a_long_clip(track: PoseTrack, tmp_path: Path) -> None:
    late = track.table.copy()
    late["time_s"] = 1799.0 + np.arange(len(late)) / 240.0  # 240 fps, near the 30 min limit
    again = PoseTrack.load(PoseTrack(late, track.video, track.model).save(tmp_path / "late.csv"))
    assert np.abs(again.table["time_s"].to_numpy() - late["time_s"].to_numpy()).max() < 1e-4
    assert np.all(np.diff(again.table["time_s"].to_numpy()) > 0)


@pytest.mark.parametrize("content", ["noise", "coffee"])
def test_frames_without_a_person_are_nan_rows(tmp_path: Path, make_clip, model_info, content: str) -> None:
    if content == "noise":
        rng = np.random.default_rng(0)
        frames = [rng.integers(0, 255, (240, 320, 3), dtype=np.uint8) for _ in range(10)]
    else:
        skimage_data = pytest.importorskip("skimage.data")
        photo = np.ascontiguousarray(skimage_data.coffee()[:, :, :3])
        frames = [np.ascontiguousarray(np.roll(photo, 3 * i, axis=1)) for i in range(10)]
    track = estimate_clip(make_clip(tmp_path / f"{content}.mp4", frames, fps=15.0), model=model_info)
    assert len(track.table) == 10 and track.table["frame"].tolist() == list(range(10))
    assert not track.table["detected"].any()
    assert track.table[landmark_columns()].isna().all().all()
    assert track.table[[c for c in track.table.columns if c.startswith("back_")]].isna().all().all()
    assert track.extra["people_in_sampled_frames"] == [0, 0, 0]
    # ... and the NaN rows survive the landmarks file.
    again = PoseTrack.load(track.save(tmp_path / "empty.parquet"))
    assert len(again.table) == 10 and again.table[landmark_columns()].isna().all().all()


def test_without_contour_there_are_no_back_points(person_clip: Path, model_info) -> None:
    track = estimate_clip(person_clip, model=model_info, with_contour=False, max_height=240)
    assert track.table["detected"].mean() >= 0.9
    assert track.table[[c for c in track.table.columns if c.startswith("back_")]].isna().all().all()
    assert track.video["height"] == 240 and track.video["width"] == probe_video(person_clip, 240).width
    assert track.table["nose_y_px"].max() < 240


def test_caller_options_are_left_as_given(person_clip: Path, model_info) -> None:
    options = PoseOptions(with_masks=False, min_detection_confidence=0.4)
    track = estimate_clip(person_clip, model=model_info, with_contour=True, pose_options=options, max_height=240)
    assert options == PoseOptions(with_masks=False, min_detection_confidence=0.4)
    assert track.table[[c for c in track.table.columns if c.startswith("back_")]].notna().any().any()


def test_pose_command_writes_the_landmarks_file(person_clip: Path, model_info, tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    res = CliRunner().invoke(app, ["pose", str(person_clip), "-o", str(out),
                                   "--models-dir", str(model_info.path.parent)])
    assert res.exit_code == 0, res.output
    assert str(out) in res.output and f"/{PERSON_FRAMES} frames" in res.output
    track = PoseTrack.load(out)
    assert len(track.table) == PERSON_FRAMES and track.table["detected"].mean() >= 0.9
    assert track.model["sha256"] == model_info.sha256


def test_pose_command_on_a_bad_file_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video\n")
    out = tmp_path / "out.parquet"
    res = CliRunner().invoke(app, ["pose", str(bad), "-o", str(out)])
    assert res.exit_code == 1
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(bad) in lines[0]
    assert not out.exists()


def _upright_pose(index: int, detected: bool = True) -> PoseFrame:
    """A person facing image-right: hips at (100, 200), shoulders at (100, 100), toes right of the heels."""
    values = np.full((len(LANDMARK_NAMES), len(LANDMARK_FIELDS)), np.nan)
    if detected:
        values[:, 2:] = 0.0
        for name, (x, y) in {"hip": (100, 200), "shoulder": (100, 100), "heel": (95, 300),
                             "foot_index": (125, 305)}.items():
            for side in ("left", "right"):
                values[LANDMARK_NAMES.index(f"{side}_{name}"), :2] = (x, y)
    return PoseFrame(index, index / 30.0, detected, values)


def test_back_contour_is_retraced_on_other_masks_at_the_same_stations() -> None:
    from buttwink.back_contour import BACK_STATIONS, back_columns
    from buttwink.pipeline import retrace_back_contour
    from buttwink.pose import poses_to_frame

    poses = [_upright_pose(0), _upright_pose(1), _upright_pose(2, detected=False)]
    track = PoseTrack(poses_to_frame(poses), {}, {})
    body = np.zeros((400, 300), np.float32)
    body[40:320, 70:140] = 1.0  # back edge at x = 70 (the pixel edge between columns 69 and 70)
    wider = np.zeros_like(body)
    wider[40:320, 60:140] = 1.0
    out = retrace_back_contour(track, [body, wider, body])
    assert out.extra.get("back_contour_retraced") is True
    assert out.table[landmark_columns()].equals(track.table[landmark_columns()])  # landmarks untouched
    back = out.table[back_columns()].to_numpy(float).reshape(3, len(BACK_STATIONS), 2)
    ys = 200 - BACK_STATIONS * 100  # the stations along the hip -> shoulder axis
    inside = (ys > 41) & (ys < 319)
    np.testing.assert_allclose(back[0, inside, 1], ys[inside], atol=1e-6)
    np.testing.assert_allclose(back[0, inside, 0], 69.5, atol=0.6)
    np.testing.assert_allclose(back[1, inside, 0], 59.5, atol=0.6)
    assert np.isnan(back[2]).all()  # no person detected in that frame
    assert np.isnan(retrace_back_contour(track, [body, None, body]).table[back_columns()].iloc[1]).all()
    with pytest.raises(ValueError, match="2 masks for the track's 3 frames"):
        retrace_back_contour(track, [body, body])
    with pytest.raises(ValueError, match="more masks"):
        retrace_back_contour(track, [body] * 4)
