"""Pose stage: MediaPipe PoseLandmarker (VIDEO mode) over a stream of frames.

Per frame it gives the 33 BlazePose landmarks in image pixels (x right, y down) with MediaPipe's relative
depth ``z`` (same scale as x in normalised units; smaller = nearer the camera), ``visibility`` and
``presence`` (0..1), the world landmarks in metres (hip-centred, y down), and optionally the
segmentation mask (HxW float32, 0..1, person probability). A frame where no person is found is kept as a
row of NaN (``detected`` False), never dropped.

In VIDEO mode PoseLandmarker tracks the person between frames and, in the MediaPipe versions we use,
applies its own light landmark smoothing; our filters downstream are designed with that in mind
(see docs/method.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np
import pandas as pd

from buttwink._native import quiet_native_stderr
from buttwink.models import ModelInfo
from buttwink.video import Frame

os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logs: errors only
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

LANDMARK_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)
N_LANDMARKS = len(LANDMARK_NAMES)
#: Per-landmark columns of the landmarks table, in order.
LANDMARK_FIELDS: tuple[str, ...] = ("x_px", "y_px", "z", "visibility", "presence", "wx_m", "wy_m", "wz_m")
SKELETON_EDGES: tuple[tuple[str, str], ...] = (
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
    *((f"{s}_shoulder", f"{s}_elbow") for s in ("left", "right")),
    *((f"{s}_elbow", f"{s}_wrist") for s in ("left", "right")),
    *((f"{s}_shoulder", f"{s}_hip") for s in ("left", "right")),
    *((f"{s}_hip", f"{s}_knee") for s in ("left", "right")),
    *((f"{s}_knee", f"{s}_ankle") for s in ("left", "right")),
    *((f"{s}_ankle", f"{s}_heel") for s in ("left", "right")),
    *((f"{s}_heel", f"{s}_foot_index") for s in ("left", "right")),
    *((f"{s}_ankle", f"{s}_foot_index") for s in ("left", "right")),
)


def landmark_columns() -> list[str]:
    """Column names of the landmark part of the table: ``<name>_<field>`` for every landmark."""
    return [f"{name}_{field}" for name in LANDMARK_NAMES for field in LANDMARK_FIELDS]


@dataclass
class PoseFrame:
    """Pose of one frame. Arrays are NaN when ``detected`` is False. Pixels: x right, y down."""

    index: int
    time_s: float
    detected: bool
    values: np.ndarray  # (33, 8) in LANDMARK_FIELDS order
    mask: np.ndarray | None = None  # HxW float32 person probability, when requested and detected

    def xy(self, name: str) -> np.ndarray:
        """Pixel position (x, y) of one landmark."""
        i = LANDMARK_NAMES.index(name)
        return self.values[i, :2]


@dataclass(frozen=True)
class PoseOptions:
    """PoseLandmarker thresholds (0..1) and whether to output segmentation masks."""

    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    with_masks: bool = True


class PoseEstimator:
    """Context manager around one PoseLandmarker in VIDEO mode; frames must come in time order."""

    def __init__(self, model: ModelInfo | Path | str, options: PoseOptions | None = None) -> None:
        self.model_path = Path(model.path if isinstance(model, ModelInfo) else model)
        self.options = options or PoseOptions()
        self._landmarker = None
        self._last_ms = -1
        self._frames_done = 0

    def __enter__(self) -> PoseEstimator:
        from mediapipe.tasks.python import BaseOptions, vision

        opts = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=1,
            min_pose_detection_confidence=self.options.min_detection_confidence,
            min_pose_presence_confidence=self.options.min_presence_confidence,
            min_tracking_confidence=self.options.min_tracking_confidence,
            output_segmentation_masks=self.options.with_masks,
        )
        with quiet_native_stderr():
            self._landmarker = vision.PoseLandmarker.create_from_options(opts)
        self._last_ms = -1
        self._frames_done = 0
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._landmarker is not None:
            with quiet_native_stderr():
                self._landmarker.close()
            self._landmarker = None

    def process(self, frame: Frame) -> PoseFrame:
        """Estimate the pose in one frame (RGB uint8). Timestamps are made strictly increasing."""
        import mediapipe as mp

        if self._landmarker is None:
            raise RuntimeError("PoseEstimator must be used inside a 'with' block")
        ts_ms = max(int(round(frame.time_s * 1000.0)), self._last_ms + 1)
        self._last_ms = ts_ms
        height, width = frame.rgb.shape[:2]
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=frame.rgb)
        if self._frames_done == 0:  # the first frame makes the graph print its warnings once
            with quiet_native_stderr():
                result = self._landmarker.detect_for_video(image, ts_ms)
        else:
            result = self._landmarker.detect_for_video(image, ts_ms)
        self._frames_done += 1
        values = np.full((N_LANDMARKS, len(LANDMARK_FIELDS)), np.nan, dtype=np.float64)
        if not result.pose_landmarks:
            return PoseFrame(frame.index, frame.time_s, False, values)
        for i, lm in enumerate(result.pose_landmarks[0]):
            values[i, :5] = (lm.x * width, lm.y * height, lm.z, lm.visibility or 0.0, lm.presence or 0.0)
        if result.pose_world_landmarks:
            for i, lm in enumerate(result.pose_world_landmarks[0]):
                values[i, 5:] = (lm.x, lm.y, lm.z)
        mask = None
        if result.segmentation_masks:
            mask = np.array(result.segmentation_masks[0].numpy_view(), dtype=np.float32, copy=True)
            if mask.ndim == 3:
                mask = mask[..., 0]
        return PoseFrame(frame.index, frame.time_s, True, values, mask)


def count_people(images: Iterable[np.ndarray], model: ModelInfo | Path | str, max_people: int = 3) -> list[int]:
    """People found in each RGB image (PoseLandmarker in IMAGE mode, up to ``max_people``)."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    path = Path(model.path if isinstance(model, ModelInfo) else model)
    opts = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(path)),
                                        running_mode=vision.RunningMode.IMAGE, num_poses=max_people)
    with quiet_native_stderr():
        landmarker = vision.PoseLandmarker.create_from_options(opts)
    try:
        with quiet_native_stderr():
            return [len(landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)).pose_landmarks)
                    for rgb in images]
    finally:
        with quiet_native_stderr():
            landmarker.close()


def estimate_poses(
    frames: Iterable[Frame], model: ModelInfo | Path | str, options: PoseOptions | None = None
) -> Iterator[PoseFrame]:
    """Run PoseLandmarker over ``frames`` (time order), yielding one :class:`PoseFrame` per frame."""
    with PoseEstimator(model, options) as estimator:
        for frame in frames:
            yield estimator.process(frame)


def poses_to_frame(poses: Iterable[PoseFrame]) -> pd.DataFrame:
    """Landmarks table: ``frame``, ``time_s``, ``detected`` and ``<landmark>_<field>`` columns."""
    rows: list[np.ndarray] = []
    index: list[int] = []
    times: list[float] = []
    detected: list[bool] = []
    for pose in poses:
        index.append(pose.index)
        times.append(pose.time_s)
        detected.append(pose.detected)
        rows.append(pose.values.reshape(-1))
    data = np.vstack(rows) if rows else np.empty((0, N_LANDMARKS * len(LANDMARK_FIELDS)))
    table = pd.DataFrame(data, columns=landmark_columns())
    table.insert(0, "detected", np.asarray(detected, dtype=bool))
    table.insert(0, "time_s", np.asarray(times, dtype=np.float64))
    table.insert(0, "frame", np.asarray(index, dtype=np.int64))
    return table


def landmark_xy(table: pd.DataFrame, name: str) -> np.ndarray:
    """(N, 2) pixel positions of one landmark from a landmarks table."""
    return table[[f"{name}_x_px", f"{name}_y_px"]].to_numpy(dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------
# Landmarks file: parquet (or CSV + JSON sidecar) holding the table and the clip/model metadata.

_META_KEY = b"buttwink"


def save_landmarks(table: pd.DataFrame, path: Path | str, metadata: dict[str, object]) -> Path:
    """Write the landmarks table and ``metadata`` (JSON-able) to ``path`` (.parquet or .csv), atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    meta_json = json.dumps(metadata, default=str)
    try:
        if path.suffix.lower() == ".csv":
            # 9 significant digits: sub-millisecond times and sub-pixel positions even 30 min into a 4K clip.
            table.to_csv(tmp, index=False, float_format="%.9g")
            sidecar = path.with_name(path.name + ".json")
            sidecar_tmp = sidecar.with_name(f".{sidecar.name}.{os.getpid()}.tmp")
            sidecar_tmp.write_text(meta_json)
            os.replace(sidecar_tmp, sidecar)
        else:
            arrow = pa.Table.from_pandas(table, preserve_index=False)
            arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), _META_KEY: meta_json})
            pq.write_table(arrow, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


class LandmarksError(ValueError):
    """A file given as landmarks is not a usable landmarks file; ``str(err)`` names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self) -> tuple[type[LandmarksError], tuple[Path, str]]:
        return type(self), (self.path, self.reason)


def load_landmarks(path: Path | str) -> tuple[pd.DataFrame, dict[str, object]]:
    """Read a landmarks file written by :func:`save_landmarks`: ``(table, metadata)``.

    Raises :class:`LandmarksError` when the file is missing, is not a parquet/CSV table, or lacks the columns
    the measurement reads (``frame``, ``time_s``, ``detected`` and every landmark's fields)."""
    import pyarrow.parquet as pq

    path = Path(path)
    what = "not a landmarks file (give the landmarks.parquet or .csv that buttwink analyze or pose wrote)"
    if not path.is_file():
        raise LandmarksError(path, "file not found" if not path.exists() else "not a regular file")
    try:
        if path.suffix.lower() == ".csv":
            table = pd.read_csv(path)
            sidecar = path.with_name(path.name + ".json")
            meta = json.loads(sidecar.read_text()) if sidecar.exists() else {}
        else:
            arrow = pq.read_table(path)
            raw = (arrow.schema.metadata or {}).get(_META_KEY, b"{}")
            table, meta = arrow.to_pandas(), json.loads(raw)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise LandmarksError(path, f"{what}: {type(exc).__name__}") from None
    except Exception as exc:  # pyarrow raises its own error types for a file that is not parquet
        raise LandmarksError(path, f"{what}: {type(exc).__name__}") from None
    if not isinstance(meta, dict):
        raise LandmarksError(path, f"{what}: its metadata is not a JSON object")
    required = ["frame", "time_s", "detected", *landmark_columns()]
    missing = [c for c in required if c not in table.columns]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise LandmarksError(path, f"{what}: missing column(s) {shown}")
    if table.empty:
        raise LandmarksError(path, "the landmarks file has no frames")
    video = meta.get("video", {})
    if not isinstance(video, dict) or not isinstance(meta.get("model", {}), dict):
        raise LandmarksError(path, f"{what}: its metadata's video or model entry is not a JSON object")
    for key in ("width", "height", "fps"):
        value = video.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
            source = "the .csv.json beside it" if path.suffix.lower() == ".csv" else "its metadata"
            raise LandmarksError(path, f"the clip's {key} is missing from {source} (a landmarks CSV needs the "
                                       ".csv.json that buttwink writes beside it)")
    return table, meta
