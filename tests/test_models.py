"""Pose-model provisioning, offline: the bundle built from the PyPI wheel, verification, replacement."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from buttwink import models
from buttwink.models import ModelError, ensure_model, verify_model


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mediapipe 0.10.21 wheel, fetched once with pip (from its cache when warm)."""
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q",
                           "-d", str(out), models.WHEEL_SPEC], capture_output=True, text=True, check=False)
    found = sorted(out.glob("mediapipe-0.10.21-*.whl"))
    if proc.returncode != 0 or not found:
        pytest.skip(f"pip could not fetch {models.WHEEL_SPEC}: {proc.stderr.strip()[-200:]}")
    return found[0]


@pytest.fixture
def offline_env(monkeypatch: pytest.MonkeyPatch, wheel: Path) -> Path:
    monkeypatch.setenv(models.ENV_WHEEL, str(wheel))
    monkeypatch.setenv(models.ENV_OFFLINE, "1")
    return wheel


@pytest.fixture(scope="session")
def built_model(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> models.ModelInfo:
    mp = pytest.MonkeyPatch()
    mp.setenv(models.ENV_WHEEL, str(wheel))
    try:
        return ensure_model("full", tmp_path_factory.mktemp("models"), offline=True)
    finally:
        mp.undo()


def test_offline_build_is_an_uncompressed_bundle_with_provenance(built_model: models.ModelInfo) -> None:
    assert built_model.source == "built-from-wheel"
    with zipfile.ZipFile(built_model.path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    assert set(infos) == {"pose_detector.tflite", "pose_landmarks_detector.tflite"}
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos.values())
    record = json.loads(built_model.path.with_name(built_model.path.name + ".json").read_text())
    assert record["sha256"] == models.sha256_of(built_model.path) == built_model.sha256
    assert "0.10.21" in record["detail"]
    assert "built-from-wheel" in built_model.describe()


def test_existing_verified_model_is_reused(offline_env: Path, tmp_path: Path) -> None:
    first = ensure_model("full", tmp_path)
    mtime = first.path.stat().st_mtime_ns
    second = ensure_model("full", tmp_path)
    assert second.path.stat().st_mtime_ns == mtime and second.sha256 == first.sha256


@pytest.mark.parametrize("damage", ["truncate", "flip", "record"])
def test_corrupt_or_unknown_model_is_replaced(offline_env: Path, tmp_path: Path, damage: str) -> None:
    info = ensure_model("full", tmp_path)
    good = info.sha256
    if damage == "truncate":
        data = info.path.read_bytes()
        info.path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        data = bytearray(info.path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        info.path.write_bytes(bytes(data))
    else:
        record = info.path.with_name(info.path.name + ".json")
        record.write_text(json.dumps({**json.loads(record.read_text()), "sha256": "0" * 64}))
    assert verify_model(info.path, "full") is None
    again = ensure_model("full", tmp_path)
    assert again.sha256 == good
    assert verify_model(again.path, "full") is not None
    assert not list(tmp_path.glob("*.tmp"))


def test_unknown_variant_and_unavailable_variant(offline_env: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="unknown model variant"):
        ensure_model("huge", tmp_path)
    with pytest.raises(ModelError, match="only 'full'"):
        ensure_model("lite", tmp_path)
    assert not (tmp_path / "pose_landmarker_lite.task").exists()


def test_built_bundle_finds_a_person_with_plausible_geometry(built_model: models.ModelInfo) -> None:
    skimage = pytest.importorskip("skimage")
    from buttwink.pose import LANDMARK_NAMES, PoseEstimator
    from buttwink.video import Frame

    photo = np.ascontiguousarray(skimage.data.astronaut())
    with PoseEstimator(built_model) as est:
        pose = est.process(Frame(0, 0.0, photo))
    assert pose.detected
    y = {name: pose.values[i, 1] for i, name in enumerate(LANDMARK_NAMES)}
    eyes = (y["left_eye"] + y["right_eye"]) / 2
    shoulders = (y["left_shoulder"] + y["right_shoulder"]) / 2
    hips = (y["left_hip"] + y["right_hip"]) / 2
    assert eyes < shoulders < hips  # image y grows downwards
    assert pose.values[LANDMARK_NAMES.index("nose"), 3] > 0.9  # visibility
    assert pose.mask is not None and pose.mask.shape == photo.shape[:2]
    assert 0.05 < float((pose.mask > 0.5).mean()) < 0.9  # the person covers part of the picture


def test_built_bundle_finds_no_person_in_a_photo_without_one(built_model: models.ModelInfo) -> None:
    skimage = pytest.importorskip("skimage")
    from buttwink.pose import PoseEstimator
    from buttwink.video import Frame

    photo = np.ascontiguousarray(skimage.data.coffee())
    with PoseEstimator(built_model) as est:
        pose = est.process(Frame(0, 0.0, photo))
    assert not pose.detected and np.isnan(pose.values).all()


def test_models_command_offline(offline_env: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from buttwink.cli import app

    res = CliRunner().invoke(app, ["models", "--offline", "--models-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "built-from-wheel" in res.output and str(tmp_path) in res.output
    res = CliRunner().invoke(app, ["models", "--offline", "--models-dir", str(tmp_path), "--variant", "heavy"])
    assert res.exit_code == 1
