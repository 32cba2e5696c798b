"""Pose-model provisioning: leave a verified ``pose_landmarker_<variant>.task`` on disk.

Sources are tried in this order, and the one used is recorded next to the model in a small JSON file
(``<model>.task.json``) and returned as :class:`ModelInfo`:

1. a file already there whose SHA-256 matches the official pin, or matches its own provenance record
   (a bundle this module built earlier);
2. Google's official download, checked against a pinned SHA-256 (skipped when offline);
3. a bundle built from the BlazePose ``.tflite`` files shipped inside PyPI's ``mediapipe==0.10.21`` wheel
   (downloaded with pip, never installed), with the TFLite image-input metadata the Tasks API needs.

A corrupt or partial file never passes step 1, so it is replaced. Every write goes to a temporary name in
the same folder and is renamed into place, so an interrupted run leaves no half-written model behind.
Nothing here runs at import time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import types
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

VARIANTS = ("lite", "full", "heavy")
DEFAULT_VARIANT = "full"
ENV_MODELS_DIR = "BUTTWINK_MODELS_DIR"
ENV_OFFLINE = "BUTTWINK_OFFLINE"
ENV_WHEEL = "BUTTWINK_MEDIAPIPE_WHEEL"

_ASSETS = "https://storage.googleapis.com/mediapipe-assets"
#: Official, ready-made bundles (URL, SHA-256). Pins from MediaPipe's own Bazel asset list.
OFFICIAL_TASKS: dict[str, tuple[str, str]] = {
    "full": (
        f"{_ASSETS}/pose_landmarker.task?generation=1681244249587900",
        "fb9cc326c88fc2a4d9a6d355c28520d5deacfbaa375b56243b0141b546080596",
    ),
}
#: Raw BlazePose networks (URL, SHA-256): the detector and one landmark network per variant.
DETECTOR_TFLITE = (
    f"{_ASSETS}/pose_detection.tflite?generation=1678737489600422",
    "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
)
LANDMARK_TFLITES: dict[str, tuple[str, str]] = {
    "lite": (
        f"{_ASSETS}/pose_landmark_lite.tflite?generation=1681244252454799",
        "1150dc68a713b80660b90ef46ce4e85c1c781bb88b6e3512cc64e6a685ba5588",
    ),
    "full": (
        f"{_ASSETS}/pose_landmark_full.tflite?generation=1661875894245786",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    ),
    "heavy": (
        f"{_ASSETS}/pose_landmark_heavy.tflite?generation=1661875897944151",
        "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
    ),
}
#: Where the 0.10.21 wheel keeps the networks, and which variants it has.
WHEEL_SPEC = "mediapipe==0.10.21"
WHEEL_MEMBERS = {
    "detector": "mediapipe/modules/pose_detection/pose_detection.tflite",
    "full": "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
}
# Input normalisation of the two networks: (mean, std) on 0..255 RGB.
DETECTOR_NORM = (127.5, 127.5)
LANDMARKS_NORM = (0.0, 255.0)
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)  # fixed, so a rebuild from the same inputs is byte-identical


class ModelError(RuntimeError):
    """The pose model could not be provisioned from any source."""


@dataclass(frozen=True)
class ModelInfo:
    """Which model file is in use and where it came from."""

    path: Path
    variant: str
    source: str  # "official-download" | "built-from-wheel" | "built-from-download"
    sha256: str
    detail: str = ""

    def describe(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        return f"pose model {self.variant}: {self.path} [{self.source}{extra}, sha256 {self.sha256[:12]}…]"

    def as_dict(self) -> dict[str, str]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data


def default_models_dir() -> Path:
    """``$BUTTWINK_MODELS_DIR``, else ``models/`` of a source checkout, else the per-user cache dir."""
    env = os.environ.get(ENV_MODELS_DIR)
    if env:
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file() and (repo / "models").is_dir():
        return repo / "models"
    return Path(platformdirs.user_cache_dir("buttwink")) / "models"


def model_filename(variant: str) -> str:
    return f"pose_landmarker_{variant}.task"


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    from buttwink._fs import sha256_file

    return sha256_file(path)


def _record_path(model: Path) -> Path:
    return model.with_name(model.name + ".json")


def _is_valid_bundle(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if not {"pose_detector.tflite", "pose_landmarks_detector.tflite"} <= names:
                return False
            if any(info.compress_type != zipfile.ZIP_STORED for info in zf.infolist()):
                return False
            return zf.testzip() is None
    except (zipfile.BadZipFile, OSError):
        return False


def verify_model(path: Path, variant: str) -> ModelInfo | None:
    """Return the model's provenance if ``path`` holds a verified bundle, else ``None``."""
    if not path.is_file():
        return None
    digest = sha256_of(path)
    official = OFFICIAL_TASKS.get(variant)
    if official and digest == official[1]:
        return ModelInfo(path, variant, "official-download", digest, official[0].split("?")[0])
    record = _record_path(path)
    try:
        meta = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    if meta.get("sha256") != digest or meta.get("variant") != variant or not _is_valid_bundle(path):
        return None
    return ModelInfo(path, variant, str(meta.get("source", "unknown")), digest, str(meta.get("detail", "")))


@contextlib.contextmanager
def _atomic_target(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it into place only if the block succeeds."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=final.name + ".", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        tmp.chmod(0o644)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def _download(url: str, sha256: str, dest: Path, timeout_s: float) -> None:
    """Download ``url`` to ``dest`` and check its SHA-256; raise ``ModelError`` on any failure."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp, open(dest, "wb") as out:
            while block := resp.read(1 << 20):
                out.write(block)
    except OSError as exc:
        raise ModelError(f"download failed: {url.split('?')[0]}: {exc}") from exc
    got = sha256_of(dest)
    if got != sha256:
        raise ModelError(f"download {url.split('?')[0]} has SHA-256 {got}, expected {sha256}")


def _install_metadata_version_stub() -> None:
    """mediapipe 1.x's metadata writer imports a compiled helper that its wheel omits; stand it in."""
    name = "mediapipe.tasks.cc.metadata.python._pywrap_metadata_version"
    if name in sys.modules:
        return
    try:
        __import__(name)
        return
    except ImportError:
        pass
    parts = name.split(".")
    for i in range(3, len(parts)):
        pkg = ".".join(parts[:i])
        if pkg not in sys.modules:
            module = types.ModuleType(pkg)
            module.__path__ = []
            sys.modules[pkg] = module
    stub = types.ModuleType(name)
    stub.GetMinimumMetadataParserVersion = lambda *_args, **_kw: "1.5.0"  # type: ignore[attr-defined]
    sys.modules[name] = stub


def add_image_metadata(tflite: bytes, mean: float, std: float, name: str) -> bytes:
    """Return ``tflite`` with TFLite image-input metadata (RGB, ``(x - mean) / std``) added."""
    _install_metadata_version_stub()
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(tflite))
    writer.add_general_info(name, "BlazePose network with image-input metadata added by buttwink")
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    model, _json = writer.populate()
    del writer  # its __del__ removes a temp dir; run it now, not at interpreter shutdown
    return bytes(model)


def build_bundle(detector: bytes, landmarks: bytes, dest: Path) -> None:
    """Write a PoseLandmarker ``.task`` bundle (uncompressed zip) from the two raw BlazePose networks."""
    members = {
        "pose_detector.tflite": add_image_metadata(detector, *DETECTOR_NORM, "pose_detector"),
        "pose_landmarks_detector.tflite": add_image_metadata(landmarks, *LANDMARKS_NORM, "pose_landmarks"),
    }
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_STORED) as zf:
        for member, data in members.items():
            zf.writestr(zipfile.ZipInfo(member, date_time=_ZIP_DATE), data)


def _fetch_wheel(workdir: Path) -> Path:
    """A local ``mediapipe==0.10.21`` wheel: ``$BUTTWINK_MEDIAPIPE_WHEEL`` or ``pip download``."""
    env = os.environ.get(ENV_WHEEL)
    if env:
        return Path(env)
    base = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(workdir)]
    attempts = [
        [*base, WHEEL_SPEC],
        # Any platform's wheel carries the same (hash-checked) networks.
        [*base, "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
         "--platform", "manylinux_2_28_x86_64", WHEEL_SPEC],
    ]
    errors = []
    for cmd in attempts:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = sorted(workdir.glob("mediapipe-0.10.21-*.whl"))
        if proc.returncode == 0 and wheels:
            return wheels[0]
        errors.append((proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no wheel"])
    raise ModelError(f"could not download {WHEEL_SPEC} with pip: {errors[-1][0]}")


def _build_from_wheel(variant: str, dest: Path) -> str:
    if variant not in WHEEL_MEMBERS:
        raise ModelError(f"the {WHEEL_SPEC} wheel has no '{variant}' landmark network (only 'full')")
    with tempfile.TemporaryDirectory(prefix="buttwink-wheel-") as tmp:
        wheel = _fetch_wheel(Path(tmp))
        try:
            with zipfile.ZipFile(wheel) as zf:
                detector = zf.read(WHEEL_MEMBERS["detector"])
                landmarks = zf.read(WHEEL_MEMBERS[variant])
        except (KeyError, zipfile.BadZipFile, OSError) as exc:
            raise ModelError(f"{wheel.name} does not hold the BlazePose networks: {exc}") from exc
    for data, (_url, pin), what in (
        (detector, DETECTOR_TFLITE, "detector"),
        (landmarks, LANDMARK_TFLITES[variant], "landmark network"),
    ):
        got = hashlib.sha256(data).hexdigest()
        if got != pin:
            raise ModelError(f"{what} in {wheel.name} has SHA-256 {got}, expected {pin}")
    build_bundle(detector, landmarks, dest)
    return f"BlazePose networks from PyPI {WHEEL_SPEC} ({wheel.name}) + image metadata"


def _build_from_download(variant: str, dest: Path, timeout_s: float) -> str:
    raw = {}
    for what, (url, pin) in (("detector", DETECTOR_TFLITE), ("landmarks", LANDMARK_TFLITES[variant])):
        part = dest.with_name(dest.name + f".{what}")
        try:
            _download(url, pin, part, timeout_s)
            raw[what] = part.read_bytes()
        finally:
            part.unlink(missing_ok=True)
    build_bundle(raw["detector"], raw["landmarks"], dest)
    return "official BlazePose networks (pinned SHA-256) + image metadata"


def _offline_default() -> bool:
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in {"1", "true", "yes"}


def ensure_model(
    variant: str = DEFAULT_VARIANT,
    models_dir: Path | str | None = None,
    *,
    offline: bool | None = None,
    timeout_s: float = 20.0,
) -> ModelInfo:
    """Make sure a verified ``pose_landmarker_<variant>.task`` exists and return its provenance.

    ``offline`` (default: ``$BUTTWINK_OFFLINE``) skips the official downloads. Raises :class:`ModelError`
    with every source's reason when none works.
    """
    if variant not in VARIANTS:
        raise ModelError(f"unknown model variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    offline = _offline_default() if offline is None else offline
    target = Path(models_dir) if models_dir is not None else default_models_dir()
    if os.path.lexists(target) and not target.is_dir():
        raise ModelError(f"{target}: the models folder is not a folder")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"{target}: cannot make the models folder ({exc.strerror or exc})") from None
    path = target / model_filename(variant)
    if os.path.lexists(path) and not path.is_file():
        raise ModelError(f"{path}: not a regular file where the pose model goes")
    found = verify_model(path, variant)
    if found:
        return found
    if path.exists():
        log.warning("%s failed verification (corrupt, partial or unknown); replacing it", path)

    reasons: list[str] = []
    attempts: list[tuple[str, object]] = []
    if not offline:
        if variant in OFFICIAL_TASKS:
            url, pin = OFFICIAL_TASKS[variant]
            attempts.append(("official-download", lambda tmp: _download(url, pin, tmp, timeout_s) or url))
        else:
            attempts.append(("built-from-download", lambda tmp: _build_from_download(variant, tmp, timeout_s)))
    attempts.append(("built-from-wheel", lambda tmp: _build_from_wheel(variant, tmp)))

    for source, attempt in attempts:
        try:
            with _atomic_target(path) as tmp:
                detail = str(attempt(tmp)).split("?")[0]  # type: ignore[operator]
                digest = sha256_of(tmp)
                with _atomic_target(_record_path(path)) as rec_tmp:
                    rec_tmp.write_text(
                        json.dumps({"variant": variant, "source": source, "sha256": digest, "detail": detail},
                                   indent=2)
                    )
        except ModelError as exc:
            reasons.append(f"{source}: {exc}")
            log.info("model source %s failed: %s", source, exc)
            continue
        info = verify_model(path, variant)
        if info is None:  # pragma: no cover - would mean the writer itself is broken
            reasons.append(f"{source}: written file failed verification")
            continue
        log.info("%s", info.describe())
        return info
    raise ModelError(f"no pose model '{variant}' in {target}: " + "; ".join(reasons))
