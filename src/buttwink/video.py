"""Video reading stage: stream RGB uint8 frames with timestamps, honouring phone rotation metadata.

Frames are decoded one at a time (never the whole video in memory). Times are seconds from the first
frame, taken from the container's presentation timestamps where available (so variable-frame-rate phone
clips keep their real timing) and forced strictly increasing. Sizes are pixels, *after* rotation and the
optional downscale.

Decoding is honest about damage: OpenCV stops at the first frame it cannot decode, so when it stops short
of the container's frame count, the rest is decoded with PyAV (FFmpeg, skipping damaged packets), and
:class:`DecodeStats` says how many frames were expected, decoded and lost, and where decoding first broke.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from buttwink._fs import native_path, sha256_file
from buttwink._native import quiet_native_stderr

_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
#: Inputs beyond these are refused up front (a clear error beats an hour of decoding).
MAX_FILE_BYTES = 8 * 1024**3
MAX_DURATION_S = 30 * 60
#: Frames a clip may lose in decoding before it is flagged (a container's count can be off by one or two).
LOST_FRAMES_TOLERATED = 3


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


@dataclass
class DecodeStats:
    """How decoding a clip went (filled in by :func:`iter_frames` as it runs).

    ``expected`` is the container's frame count; ``decoded`` the frames delivered; ``opencv_stopped_at`` the
    frame index where OpenCV stopped early (None if it did not); ``recovered`` the frames PyAV decoded after
    that; ``damaged_packets`` the packets PyAV had to skip."""

    expected: int = 0
    decoded: int = 0
    opencv_stopped_at: int | None = None
    stopped_at_s: float | None = None
    recovered: int = 0
    damaged_packets: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.decoded)

    def warning(self) -> str | None:
        """One line for the report when the clip lost more than :data:`LOST_FRAMES_TOLERATED` frames."""
        if self.lost <= LOST_FRAMES_TOLERATED and not self.damaged_packets:
            return None
        where = (f"; damaged from frame {self.opencv_stopped_at} ({self.stopped_at_s:.2f} s)"
                 if self.opencv_stopped_at is not None and self.stopped_at_s is not None else "")
        if self.lost <= LOST_FRAMES_TOLERATED:
            return (f"the video is damaged ({self.damaged_packets} unreadable packets{where}); readings there "
                    "are less sure")
        return (f"decoding lost {self.lost} of {self.expected} frames{where}: the video is damaged, and reps "
                "there may be missed or cut")

    def as_dict(self) -> dict[str, object]:
        return {"frames_expected": self.expected, "frames_decoded": self.decoded, "frames_lost": self.lost,
                "opencv_stopped_at_frame": self.opencv_stopped_at, "frames_recovered_with_pyav": self.recovered,
                "damaged_packets": self.damaged_packets, "decode_warning": self.warning()}


def content_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes (hex): what a clip *is*, whatever it is called."""
    return sha256_file(path)


def _check_file(path: Path) -> None:
    """Refuse what is not a readable, regular, non-empty file of a sane size, with the reason."""
    if not path.exists():
        raise VideoError(path, "broken link" if path.is_symlink() else "file not found")
    if path.is_dir():
        raise VideoError(path, "is a folder, not a video file")
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a character device" if stat.S_ISCHR(mode)
                else "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "special")
        raise VideoError(path, f"not a regular file ({kind}); give a video file")
    size = path.stat().st_size
    if size == 0:
        raise VideoError(path, "empty file (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise VideoError(path, f"file too large ({size / 1024**3:.1f} GB > {MAX_FILE_BYTES / 1024**3:.0f} GB)")
    if not os.access(path, os.R_OK):
        raise VideoError(path, "file is not readable (permission denied)")


def _why_unreadable(path: Path) -> str:
    """The reason a file OpenCV cannot open is no video, as far as FFmpeg (PyAV) can tell."""
    try:
        import av
    except ImportError:  # pragma: no cover - av is a dependency
        return "not a readable video (unknown format or corrupt file)"
    try:
        with quiet_native_stderr(), native_path(path) as name, av.open(name) as container:
            if not container.streams.video:
                audio = len(container.streams.audio)
                return "no video stream (audio only)" if audio else "no video stream in the file"
    except Exception:  # any FFmpeg failure means the same to the user
        return "not a readable video (unknown format or corrupt file)"
    return "not a readable video (its video stream cannot be decoded)"


def _open(path: Path) -> cv2.VideoCapture:
    _check_file(path)
    with quiet_native_stderr(), native_path(path) as name:  # FFmpeg's "moov atom not found", OpenCV's warnings
        cap = cv2.VideoCapture(name, cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise VideoError(path, _why_unreadable(path))
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
            reason = _why_unreadable(path)
            if reason.startswith("not a readable video"):
                reason = "no decodable video frames (corrupt, truncated, or not a video)"
            raise VideoError(path, reason)
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


def iter_frames(video: Path | str | VideoInfo, max_height: int | None = None,
                stats: DecodeStats | None = None, *, only: Container[int] | None = None) -> Iterator[Frame]:
    """Stream the clip's frames as RGB uint8, rotated upright and downscaled to ``max_height`` pixels.

    ``video`` is a path, or the :class:`VideoInfo` a caller already has from :func:`probe_video` (then the
    clip is not probed again, and its size stands in for ``max_height``). Times come from the container
    timestamps (seconds from the first frame); a frame whose timestamp is missing or not increasing gets the
    previous time plus one nominal frame interval. When OpenCV stops more than
    :data:`LOST_FRAMES_TOLERATED` frames short of the container's count, the rest comes from PyAV.
    ``stats``, when given, is filled in as decoding goes (complete once the iterator is exhausted).
    ``only``, when given, holds the frame indices wanted: every frame is still decoded (indices and times are
    the same as without it), but only those are converted and yielded.
    """
    info = video if isinstance(video, VideoInfo) else probe_video(video, max_height)
    stats = stats if stats is not None else DecodeStats()
    stats.expected = info.frame_count
    step = 1.0 / info.fps
    clock = _Clock(step)
    index = 0
    cap = _open(info.path)
    try:
        while True:
            ok, bgr = cap.read()
            if not ok or bgr is None:
                break
            pos_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
            t = clock.time(pos_ms / 1000.0 if pos_ms and math.isfinite(pos_ms) else index * step)
            if only is None or index in only:
                yield Frame(index, t, _deliver(bgr, info))
            index += 1
            stats.decoded = index
    finally:
        cap.release()
    if info.frame_count - index <= LOST_FRAMES_TOLERATED:
        return
    stats.opencv_stopped_at, stats.stopped_at_s = index, clock.last if index else 0.0
    for t_raw, bgr in _pyav_frames(info.path, stats):
        if t_raw is None:
            t_raw = clock.last_raw + step
        elif t_raw <= clock.last_raw + step / 2:
            continue  # OpenCV delivered this one already
        t = clock.time(t_raw)
        if only is None or index in only:
            yield Frame(index, t, _deliver(bgr, info))
        index += 1
        stats.decoded = index
        stats.recovered += 1


class _Clock:
    """Frame times in seconds from the first frame, forced strictly increasing."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.t0: float | None = None
        self.last = -math.inf
        self.last_raw = -math.inf

    def time(self, t_raw: float) -> float:
        if self.t0 is None:
            self.t0 = t_raw
        self.last_raw = max(self.last_raw, t_raw)
        t = t_raw - self.t0
        if not t > self.last:
            t = (self.last + self.step) if math.isfinite(self.last) else 0.0
        self.last = t
        return t


def _deliver(bgr: np.ndarray, info: VideoInfo) -> np.ndarray:
    """A decoded BGR frame as the RGB frame the pipeline gets: rotated upright, downscaled."""
    if info.rotation_deg:
        bgr = cv2.rotate(bgr, _ROTATE[info.rotation_deg])
    if info.scale != 1.0:
        bgr = cv2.resize(bgr, (info.width, info.height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def _pyav_frames(path: Path, stats: DecodeStats) -> Iterator[tuple[float | None, np.ndarray]]:
    """(time in seconds from the stream's start or None if unknown, BGR frame) for every frame FFmpeg can
    decode, damaged packets skipped."""
    try:
        import av
    except ImportError:  # pragma: no cover - av is a dependency
        stats.notes.append("PyAV is not installed: frames after the damage were not recovered")
        return
    try:
        with quiet_native_stderr(), native_path(path) as name:
            container = av.open(name)
    except Exception as exc:  # any FFmpeg failure
        stats.notes.append(f"PyAV could not open the file either ({type(exc).__name__})")
        return
    with container:
        stream = container.streams.video[0]
        base = stream.time_base
        start = stream.start_time or 0
        packets = container.demux(stream)
        while True:
            try:
                with quiet_native_stderr():
                    packet = next(packets)
            except StopIteration:
                break
            except Exception:  # a damaged container stops demuxing here
                stats.damaged_packets += 1
                break
            try:
                with quiet_native_stderr():
                    decoded = packet.decode()
            except Exception:  # a damaged packet: skip it, keep going
                stats.damaged_packets += 1
                continue
            for frame in decoded:
                pts = frame.pts if frame.pts is not None else frame.dts
                t = float((pts - start) * base) if pts is not None and base is not None else None
                yield t, frame.to_ndarray(format="bgr24")
