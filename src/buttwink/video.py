"""Video reading stage: stream RGB uint8 frames with timestamps, honouring phone rotation metadata.

Frames are decoded one at a time (never the whole video in memory). Times are seconds from the first
frame, taken from the container's presentation timestamps where available (so variable-frame-rate phone
clips keep their real timing) and forced strictly increasing. Sizes are pixels, *after* rotation and the
optional downscale.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from buttwink._native import quiet_native_stderr

_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
#: Inputs beyond these are refused up front (a clear error beats an hour of decoding).
MAX_FILE_BYTES = 8 * 1024**3
MAX_DURATION_S = 30 * 60


class VideoError(ValueError):
    """A clip cannot be read. ``str(err)`` is a one-line message naming the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self) -> tuple[type[VideoError], tuple[Path, str]]:
        # Rebuilt from (path, reason), so the error crosses process boundaries (process pools, Dask workers).
        return type(self), (self.path, self.reason)


@dataclass(frozen=True)
class VideoInfo:
    """What a clip is. ``width``/``height`` in pixels as frames are delivered (rotated, downscaled)."""

    path: Path
    fps: float
    frame_count: int
    duration_s: float
    width: int
    height: int
    source_width: int
    source_height: int
    rotation_deg: int  # clockwise rotation applied to the stored frames (phone metadata)
    scale: float  # delivered size / rotated source size (1.0 = no downscale)
    codec: str

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path), "fps": self.fps, "frame_count": self.frame_count,
            "duration_s": self.duration_s, "width": self.width, "height": self.height,
            "source_width": self.source_width, "source_height": self.source_height,
            "rotation_deg": self.rotation_deg, "scale": self.scale, "codec": self.codec,
        }


@dataclass(frozen=True)
class Frame:
    """One decoded frame: ``rgb`` is HxWx3 uint8, C-contiguous; ``time_s`` from the first frame."""

    index: int
    time_s: float
    rgb: np.ndarray


def _open(path: Path) -> cv2.VideoCapture:
    if not path.exists():
        raise VideoError(path, "file not found")
    if path.is_dir():
        raise VideoError(path, "is a folder, not a video file")
    size = path.stat().st_size
    if size == 0:
        raise VideoError(path, "empty file (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise VideoError(path, f"file too large ({size / 1024**3:.1f} GB > {MAX_FILE_BYTES / 1024**3:.0f} GB)")
    if not os.access(path, os.R_OK):
        raise VideoError(path, "file is not readable (permission denied)")
    with quiet_native_stderr():  # FFmpeg's "moov atom not found" and OpenCV's warnings for bad files
        cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise VideoError(path, "not a readable video (unknown format or corrupt file)")
    # We rotate ourselves from the metadata, so the behaviour does not depend on the OpenCV build.
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
    return cap


def _rotation(cap: cv2.VideoCapture) -> int:
    meta = int(round(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0)) % 360
    return meta if meta in _ROTATE else 0


def _scaled_size(width: int, height: int, max_height: int | None) -> tuple[int, int, float]:
    if not max_height or height <= max_height:
        return width, height, 1.0
    scale = max_height / height
    # Even sizes keep video encoders happy when frames are written back out.
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2), scale


def _count_remaining_frames(cap: cv2.VideoCapture, limit: int) -> int:
    """Frames left in an open capture (at most ``limit``), without converting them."""
    n = 0
    with quiet_native_stderr():
        while n < limit and cap.grab():
            n += 1
    return n


def probe_video(path: Path | str, max_height: int | None = None) -> VideoInfo:
    """Open ``path``, decode its first frame, and describe the clip; raise :class:`VideoError` if unusable."""
    path = Path(path)
    cap = _open(path)
    try:
        with quiet_native_stderr():
            ok, first = cap.read()
        if not ok or first is None:
            raise VideoError(path, "no decodable video frames (corrupt, truncated, or not a video)")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        rotation = _rotation(cap)
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC) or 0)
        if not math.isfinite(fps) or fps <= 0 or fps > 1000:
            raise VideoError(path, f"invalid frame rate ({fps})")
        if count <= 0:
            # Streamed WebM/Matroska (browser and screen recordings) carry no duration in the header and
            # OpenCV reports a meaningless count: count the frames instead, stopping past the length limit.
            count = 1 + _count_remaining_frames(cap, int(MAX_DURATION_S * fps) + 1)
    finally:
        cap.release()
    if count <= 1:
        raise VideoError(path, "a single image or a clip with no frames, not a video")
    if count / fps > MAX_DURATION_S:
        raise VideoError(path, f"clip too long ({count / fps / 60:.0f} min > {MAX_DURATION_S // 60} min)")
    src_h, src_w = first.shape[:2]
    if rotation in (90, 270):
        src_w, src_h = src_h, src_w
    width, height, scale = _scaled_size(src_w, src_h, max_height)
    codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00 ") or "unknown"
    return VideoInfo(path, fps, count, count / fps, width, height, src_w, src_h, rotation, scale, codec)


def iter_frames(video: Path | str | VideoInfo, max_height: int | None = None) -> Iterator[Frame]:
    """Stream the clip's frames as RGB uint8, rotated upright and downscaled to ``max_height`` pixels.

    ``video`` is a path, or the :class:`VideoInfo` a caller already has from :func:`probe_video` (then the
    clip is not probed again, and its size stands in for ``max_height``). Times come from the container
    timestamps (seconds from the first frame); a frame whose timestamp is missing or not increasing gets the
    previous time plus one nominal frame interval.
    """
    info = video if isinstance(video, VideoInfo) else probe_video(video, max_height)
    cap = _open(info.path)
    step = 1.0 / info.fps
    try:
        index = 0
        t0: float | None = None
        last = -math.inf
        while True:
            ok, bgr = cap.read()
            if not ok or bgr is None:
                break
            pos_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
            t_raw = pos_ms / 1000.0 if pos_ms and math.isfinite(pos_ms) else index * step
            if t0 is None:
                t0 = t_raw
            t = t_raw - t0
            if not t > last:
                t = (last + step) if math.isfinite(last) else 0.0
            last = t
            if info.rotation_deg:
                bgr = cv2.rotate(bgr, _ROTATE[info.rotation_deg])
            if info.scale != 1.0:
                bgr = cv2.resize(bgr, (info.width, info.height), interpolation=cv2.INTER_AREA)
            rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            yield Frame(index, t, rgb)
            index += 1
    finally:
        cap.release()
