"""Shared fixtures: small synthetic clips written with OpenCV, and ffmpeg (from imageio-ffmpeg) for
rotation metadata."""

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 30.0) -> Path:
    """Write RGB frames to an mp4 (mp4v)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened(), path
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@pytest.fixture
def make_clip() -> Callable[..., Path]:
    return write_clip


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    return imageio_ffmpeg.get_ffmpeg_exe()


@pytest.fixture(scope="session")
def sample_clip() -> Path:
    """A bundled ground-truth render (3 reps, 480x360, 30 fps)."""
    return ROOT / "sample_videos" / "wink_parallel" / "video.mp4"
