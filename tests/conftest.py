"""Shared fixtures: the pose model, small synthetic clips written with OpenCV (one of them showing a real
person, from ``skimage.data.astronaut()``), the shared real clips when present, and ffmpeg (from
imageio-ffmpeg) for rotation metadata and variable frame rates."""

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "videos"

#: The person clip: frames, canvas size (w x h), fps, pixels the picture moves per frame.
PERSON_FRAMES = 20
PERSON_CANVAS = (400, 480)
PERSON_FPS = 20.0
PERSON_STEP_PX = 2


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 30.0, fourcc: str = "mp4v") -> Path:
    """Write RGB uint8 frames (all the same size) to a video file with OpenCV."""
    height, width = frames[0].shape[:2]
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} to {path}"
    for rgb in frames:
        assert rgb.shape[:2] == (height, width)
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    assert path.is_file() and path.stat().st_size > 0, path
    return path


@pytest.fixture
def make_clip() -> Callable[..., Path]:
    """``make_clip(path, frames_rgb, fps=30.0, fourcc="mp4v") -> path``."""
    return write_clip


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    return imageio_ffmpeg.get_ffmpeg_exe()


@pytest.fixture(scope="session")
def sample_clip() -> Path:
    """A bundled ground-truth render (3 reps, 480x360, 30 fps)."""
    return ROOT / "sample_videos" / "wink_parallel" / "video.mp4"


@pytest.fixture(scope="session")
def model_info():
    """The default pose model (``ensure_model()``: reused from models/ when already there, else provisioned)."""
    from buttwink.models import ModelError, ensure_model

    try:
        return ensure_model()
    except ModelError as exc:
        pytest.skip(f"no pose model available: {exc}")


@pytest.fixture(scope="session")
def shared_videos() -> Path:
    """The folder of real squat clips next to the repository (skips when absent)."""
    if not SHARED_VIDEOS.is_dir():
        pytest.skip(f"shared real clips not present ({SHARED_VIDEOS})")
    return SHARED_VIDEOS


def person_frames(n: int = PERSON_FRAMES) -> list[np.ndarray]:
    """``skimage.data.astronaut()`` (a photo of a person, head to waist) on a taller grey canvas, moving
    ``PERSON_STEP_PX`` pixels right and down per frame."""
    skimage_data = pytest.importorskip("skimage.data")
    photo = cv2.resize(skimage_data.astronaut(), (320, 320), interpolation=cv2.INTER_AREA)
    width, height = PERSON_CANVAS
    frames = []
    for i in range(n):
        canvas = np.full((height, width, 3), 90, np.uint8)
        x, y = 10 + PERSON_STEP_PX * i, 40 + PERSON_STEP_PX * i
        canvas[y:y + 320, x:x + 320] = photo
        frames.append(canvas)
    return frames


#: The two-rep squat clip (:func:`short_clip`): a wink in both reps, about 5.5 s at 320x240 and 15 fps.
SHORT_SQUAT = dict(reps=2, stand_s=0.5, descent_s=1.0, ascent_s=0.8, depth_deg=-20.0, wink_deg=15.0,
                   onset_depth_deg=0.0)
SHORT_CAMERA = dict(width=320, height=240, fps=15.0)


@pytest.fixture(scope="session")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rendered side-view squat: 2 reps with a wink, ~5.5 s, 320x240, 15 fps (seed 7), rendered once per
    session for the CLI robustness and Dask executor tests; read-only: copy it to change it."""
    from buttwink.synth import CameraParams, SquatParams, render_clip

    out = tmp_path_factory.mktemp("rendered")
    render_clip(out, SquatParams(**SHORT_SQUAT), CameraParams(**SHORT_CAMERA), seed=7)
    return out / "video.mp4"


@pytest.fixture(scope="session")
def one_rep_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one-rep squat of ``clinic_helpers`` (about 3 s, 320x240, 15 fps, seed 11), rendered once per session
    for every test that needs a short real analysis (fault, clinic and resume tests); read-only: copy it to
    change it."""
    from clinic_helpers import render_one_rep

    return render_one_rep(tmp_path_factory.mktemp("onerep"), seed=11)


@pytest.fixture(scope="session")
def person_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short clip of a real person (20 frames, 400x480, 20 fps)."""
    return write_clip(tmp_path_factory.mktemp("person") / "astronaut.mp4", person_frames(), fps=PERSON_FPS)
