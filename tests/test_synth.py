"""Tests of the procedural ground-truth squat renderer (buttwink.synth)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from buttwink.synth import FRAME_COLUMNS, REP_COLUMNS, CameraParams, SquatParams, compute_truth, render_clip
from buttwink.synth.cli import synth_command
from buttwink.synth.render import render_frames, render_silhouettes

SMALL = CameraParams(width=320, height=240, fps=15.0)
WINK = SquatParams(depth_deg=-20.0, reps=2, wink_deg=18.0, onset_depth_deg=5.0, descent_s=1.0, ascent_s=0.9)


def _angle_from_px(t: pd.DataFrame) -> dict[str, np.ndarray]:
    """Depth, hip and knee flexion recomputed from the near-side pixel points (y down -> y up)."""

    def pt(name: str) -> np.ndarray:
        x = t[f"{name}_x_px"].to_numpy()
        facing = np.sign(np.median(t["toe_x_px"] - t["heel_x_px"]))
        return np.column_stack([facing * x, -t[f"{name}_y_px"].to_numpy()])

    hip, knee, ankle, sh = pt("hip"), pt("knee"), pt("ankle"), pt("shoulder")
    th = knee - hip
    depth = np.degrees(np.arctan2(hip[:, 1] - knee[:, 1], np.abs(th[:, 0])))

    def included(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        cos = np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        return np.degrees(np.arccos(np.clip(cos, -1, 1)))

    return {
        "depth_deg": depth,
        "hip_flexion_deg": 180.0 - included(th, sh - hip),
        "knee_flexion_deg": 180.0 - included(hip - knee, ankle - knee),
    }


def test_truth_columns_and_standing_values() -> None:
    tr = compute_truth(WINK, SMALL, seed=1)
    assert list(tr.frames.columns) == FRAME_COLUMNS
    assert list(tr.reps.columns) == REP_COLUMNS
    f = tr.frames
    standing = f[f.phase == "standing"]
    assert len(standing) > 5
    for col in ("pelvis_tilt_deg", "lumbar_flexion_deg", "lumbopelvic_angle_deg", "hip_flexion_deg",
                "knee_flexion_deg", "trunk_inclination_deg"):  # fmt: skip
        assert np.abs(standing[col]).max() < 0.01, col
    assert np.abs(standing.depth_deg - 90.0).max() < 0.01
    assert set(f.phase) == {"standing", "descent", "bottom", "ascent"}
    assert f.rep.max() == WINK.reps
    # the bottom of each rep reaches the (jittered) target depth recorded in reps_truth
    for r in tr.reps.itertuples():
        bottom = f[(f.rep == r.rep) & (f.phase == "bottom")]
        assert np.allclose(bottom.depth_deg, r.bottom_depth_deg, atol=1e-6)
        assert abs(r.bottom_depth_deg - WINK.depth_deg) <= 3.0


def test_pixel_points_agree_with_recorded_angles_at_yaw_0() -> None:
    tr = compute_truth(replace(WINK, stance_width=0.12), SMALL, seed=2)
    rec = _angle_from_px(tr.frames)
    for col, vals in rec.items():
        err = np.abs(vals - tr.frames[col].to_numpy())
        assert err.max() < 2.5, (col, err.max())
    # a yawed camera breaks the identity (the check above is not vacuous)
    yawed = compute_truth(replace(WINK, stance_width=0.12), replace(SMALL, yaw_deg=30.0), seed=2)
    rec_y = _angle_from_px(yawed.frames)
    assert np.abs(rec_y["knee_flexion_deg"] - yawed.frames.knee_flexion_deg).max() > 5.0


def test_no_wink_means_zero_progress_and_empty_onset() -> None:
    tr = compute_truth(replace(WINK, wink_deg=0.0), SMALL, seed=3)
    assert (tr.frames.wink_progress == 0).all()
    assert (tr.reps.wink_deg == 0).all()
    assert tr.reps.onset_time_s.isna().all() and tr.reps.onset_depth_deg.isna().all()
    # a natural lumbar flexion is still there, growing with depth
    bottom = tr.frames[tr.frames.phase == "bottom"]
    assert bottom.lumbar_flexion_deg.min() > 4.0
    assert bottom.pelvis_tilt_deg.min() > 10.0  # anterior tilt with the trunk lean


def test_wink_onset_depth_and_reversal() -> None:
    fine = replace(SMALL, fps=500.0)
    onset = WINK.onset_depth_deg
    tr = compute_truth(WINK, fine, seed=4)
    f = tr.frames
    assert np.allclose(tr.reps.onset_depth_deg, onset, atol=1e-6)
    for r in tr.reps.itertuples():
        rep = f[(f.rep == r.rep) & (f.phase != "standing")]
        active = rep[rep.wink_progress > 0]
        first, last = active.iloc[0], active.iloc[-1]
        assert first.phase == "descent" and abs(first.depth_deg - onset) < 1.0
        assert last.phase == "ascent" and abs(last.depth_deg - onset) < 1.0
        assert abs(first.time_s - r.onset_time_s) < 0.01
        assert rep[rep.phase == "bottom"].wink_progress.min() == pytest.approx(1.0)
        assert rep.iloc[-1].wink_progress == 0.0
        # progress grows monotonically in the descent and falls in the ascent
        assert (np.diff(rep[rep.phase == "descent"].wink_progress) >= -1e-12).all()
        assert (np.diff(rep[rep.phase == "ascent"].wink_progress) <= 1e-12).all()
        assert r.lumbopelvic_rise_deg > 0.5 * r.wink_deg
    # the wink is a posterior tilt of wink_deg absorbed by the spine; the thorax keeps its path
    base = compute_truth(replace(WINK, wink_deg=0.0), fine, seed=4).frames
    bot = (f.phase == "bottom").to_numpy()
    wink_of_frame = tr.reps.set_index("rep").wink_deg.reindex(f.rep).to_numpy()
    assert np.allclose((base.pelvis_tilt_deg - f.pelvis_tilt_deg)[bot], wink_of_frame[bot], atol=1e-6)
    assert np.allclose((f.lumbar_flexion_deg - base.lumbar_flexion_deg)[bot], wink_of_frame[bot], atol=1e-6)
    assert np.allclose((f.lumbopelvic_angle_deg - base.lumbopelvic_angle_deg)[bot],
                       WINK.wink_l5s1_share * wink_of_frame[bot], atol=1e-6)  # fmt: skip
    base_pose = compute_truth(replace(WINK, wink_deg=0.0), fine, seed=4).pose

    def thorax(pose) -> np.ndarray:
        d = pose.pts["shoulder"] - pose.pts["t12l1"]
        return np.degrees(np.arctan2(d[:, 0], d[:, 1]))

    assert np.allclose(thorax(tr.pose), thorax(base_pose), atol=1e-9)
    assert not np.allclose(tr.pose.pts["l5s1"], base_pose.pts["l5s1"], atol=1e-4)


def test_shallow_rep_has_no_wink() -> None:
    tr = compute_truth(replace(WINK, depth_deg=20.0, onset_depth_deg=5.0, jitter=0.0), SMALL, seed=5)
    assert (tr.reps.wink_deg == 0).all() and (tr.frames.wink_progress == 0).all()


def test_mirror_facing_flips_x() -> None:
    right = compute_truth(WINK, SMALL, seed=6).frames
    left = compute_truth(WINK, replace(SMALL, facing="left"), seed=6).frames
    xs = [c for c in FRAME_COLUMNS if c.endswith("_x_px")]
    ys = [c for c in FRAME_COLUMNS if c.endswith("_y_px") or c.endswith("_deg")]
    assert np.allclose(left[xs].to_numpy(), SMALL.width - right[xs].to_numpy())
    assert np.allclose(left[ys].to_numpy(), right[ys].to_numpy())
    assert (right.toe_x_px > right.heel_x_px).all() and (left.toe_x_px < left.heel_x_px).all()
    cam = replace(SMALL, width=160, height=120)
    i = int(np.argmax((right.phase == "bottom").to_numpy()))
    fr = next(render_frames(WINK, cam, 6, indices=[i]))
    fl = next(render_frames(WINK, replace(cam, facing="left"), 6, indices=[i]))
    assert np.array_equal(fl, fr[:, ::-1])
    assert not np.array_equal(fl, fr)


def test_rendering_is_deterministic_for_a_seed() -> None:
    cam = CameraParams(width=160, height=120, fps=12.0, noise_sigma=2.0)
    idx = [0, 10, 14]
    a = [f.tobytes() for f in render_frames(WINK, cam, 7, indices=idx)]
    b = [f.tobytes() for f in render_frames(WINK, cam, 7, indices=idx)]
    c = [f.tobytes() for f in render_frames(WINK, cam, 8, indices=idx)]
    assert a == b
    assert a != c
    pd.testing.assert_frame_equal(compute_truth(WINK, cam, 7).frames, compute_truth(WINK, cam, 7).frames)
    # frames change over the movement (the figure moves)
    assert a[0] != a[1]


def test_exact_silhouette_covers_the_body_and_only_the_body() -> None:
    cam = replace(SMALL, width=160, height=120, noise_sigma=2.0)
    truth = compute_truth(WINK, cam, 6)
    idx = [0, int(np.argmax((truth.frames.phase == "bottom").to_numpy()))]
    masks = list(render_silhouettes(WINK, cam, 6, truth, idx))
    for i, mask in zip(idx, masks, strict=True):
        assert mask.shape == (cam.height, cam.width) and mask.dtype == np.float32
        assert set(np.unique(mask)) == {0.0, 1.0}  # no supersampling: whole pixels
        row = truth.frames.iloc[i]
        for joint in ("shoulder", "hip", "knee", "ankle"):  # joint centres lie inside the body
            assert mask[int(row[f"{joint}_y_px"]), int(row[f"{joint}_x_px"])] == 1.0, joint
        assert 0.02 < mask.mean() < 0.3
        assert mask[:5].max() == 0.0 and mask[:, :5].max() == 0.0  # sky / wall at the top and sides
    # The silhouette's back edge is where the picture changes from wall to body (facing right: back on the left).
    frame = next(render_frames(WINK, replace(cam, noise_sigma=0.0), 6, truth, [idx[1]])).astype(int)
    row = int(truth.frames.iloc[idx[1]]["hip_y_px"])
    back = int(np.argmax(masks[1][row] > 0))
    assert np.abs(frame[row, back - 2] - frame[row, back + 2]).max() > 15
    assert np.abs(frame[row, back - 4] - frame[row, back - 2]).max() < 5


def test_exact_silhouette_mirrors_with_facing_and_has_soft_edges_when_supersampled() -> None:
    cam = replace(SMALL, width=160, height=120)
    right = next(render_silhouettes(WINK, cam, 6, indices=[12]))
    left = next(render_silhouettes(WINK, replace(cam, facing="left"), 6, indices=[12]))
    assert np.array_equal(left, right[:, ::-1])
    soft = next(render_silhouettes(WINK, replace(cam, supersample=2), 6, indices=[12]))
    edge = (soft > 0) & (soft < 1)
    assert edge.sum() > 20  # fractional coverage along the outline
    assert np.abs(soft - right).mean() < 0.02  # and the same body


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("clip")
    squat = SquatParams(depth_deg=-18.0, reps=1, wink_deg=18.0, onset_depth_deg=5.0, stand_s=0.3)
    return render_clip(out, squat, SMALL, seed=9)


def test_render_clip_writes_files(clip) -> None:
    for p in (clip.video_path, clip.truth_path, clip.reps_path, clip.params_path):
        assert Path(p).is_file() and Path(p).stat().st_size > 0
    assert not list(Path(clip.outdir).glob(".*tmp*"))
    t = pd.read_csv(clip.truth_path)
    assert len(t) == clip.n_frames == len(clip.truth)
    assert np.allclose(t.depth_deg, clip.truth.depth_deg, atol=1e-3)
    params = json.loads(Path(clip.params_path).read_text())
    assert params["squat"]["wink_deg"] == 18.0 and params["seed"] == 9
    import cv2

    cap = cv2.VideoCapture(str(clip.video_path))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    assert n == clip.n_frames


@pytest.mark.slow
def test_mediapipe_sees_the_mannequin(clip) -> None:
    from buttwink.models import ensure_model
    from buttwink.synth.check import estimator_agreement

    res = estimator_agreement(clip.video_path, clip.truth, ensure_model().path)
    assert res["n_frames"] == clip.n_frames
    assert res["detection_rate"] >= 0.95, res
    for joint in ("shoulder", "hip", "knee", "ankle"):
        assert res["median_error_pct"][joint] <= 5.0, res
    assert math.isfinite(res["max_median_error_pct"])


def test_cli_renders_a_clip(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(synth_command)
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, [str(out), "--seed", "3", "--reps", "1", "--width", "96", "--height", "72",
                                      "--fps", "6", "--wink-deg", "12", "--onset-depth-deg", "10",
                                      "--depth-deg", "-15", "--facing", "left", "--yaw-deg", "10",
                                      "--camera-height-m", "0.3", "--camera-pitch-deg", "9",
                                      "--vfov-deg", "50"])  # fmt: skip
    assert result.exit_code == 0, result.output
    reps = pd.read_csv(out / "reps_truth.csv")
    assert len(reps) == 1 and reps.wink_deg.iloc[0] > 0
    assert reps.onset_depth_deg.iloc[0] == pytest.approx(10.0, abs=1e-3)
    params = json.loads((out / "params.json").read_text())
    assert params["camera"]["facing"] == "left" and params["camera"]["yaw_deg"] == 10.0
    camera = params["camera"]
    assert (camera["height_m"], camera["pitch_deg"], camera["vfov_deg"]) == (0.3, 9.0, 50.0)
    bad = CliRunner().invoke(app, [str(tmp_path / "bad"), "--facing", "up"])
    assert bad.exit_code != 0


def test_a_tilted_camera_moves_the_picture_not_the_truth() -> None:
    """A camera tilted up (a phone on the floor aimed at the person) sees the person lower in the picture and
    with converging verticals; the recorded angles are the body's own and do not change."""
    level = compute_truth(WINK, SMALL, seed=2).frames
    assert compute_truth(WINK, replace(SMALL, pitch_deg=0.0), seed=2).frames.equals(level)
    tilted = compute_truth(WINK, replace(SMALL, pitch_deg=10.0), seed=2).frames
    for col in ("depth_deg", "pelvis_tilt_deg", "lumbar_flexion_deg"):
        np.testing.assert_array_equal(tilted[col].to_numpy(), level[col].to_numpy())
    f = (SMALL.height / 2) / math.tan(math.radians(SMALL.vfov_deg) / 2)
    shift = (tilted["hip_y_px"] - level["hip_y_px"]).median()
    assert shift == pytest.approx(f * math.tan(math.radians(10.0)), rel=0.1)  # the hip is near the centre line
    with pytest.raises(ValueError, match="pitch_deg"):
        replace(SMALL, pitch_deg=60.0)
