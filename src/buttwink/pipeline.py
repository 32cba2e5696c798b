"""Pipeline driver: runs the stages in order, passing plain data between them.

``estimate_clip`` is everything up to and including pose estimation (video -> pose -> back contour) in
one streamed pass; its :class:`PoseTrack` is what the landmarks file stores, so every later stage can be
rerun from that file without re-estimating.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import buttwink
from buttwink.back_contour import N_STATIONS, back_columns, facing_sign, trace_back_contour
from buttwink.models import DEFAULT_VARIANT, ModelInfo, ensure_model
from buttwink.pose import (
    LANDMARK_FIELDS,
    LANDMARK_NAMES,
    PoseEstimator,
    PoseFrame,
    PoseOptions,
    poses_to_frame,
)
from buttwink.video import VideoInfo, iter_frames, probe_video

_IDX = {name: i for i, name in enumerate(LANDMARK_NAMES)}


@dataclass
class PoseTrack:
    """Landmarks table of a clip (one row per frame) plus the clip's and model's metadata."""

    table: pd.DataFrame
    video: dict[str, object]
    model: dict[str, object]
    extra: dict[str, object] = field(default_factory=dict)

    def metadata(self) -> dict[str, object]:
        return {"video": self.video, "model": self.model, "buttwink_version": buttwink.__version__, **self.extra}

    def save(self, path: Path | str) -> Path:
        """Write the landmarks file (.parquet or .csv)."""
        from buttwink.pose import save_landmarks

        return save_landmarks(self.table, path, self.metadata())

    @classmethod
    def load(cls, path: Path | str) -> PoseTrack:
        from buttwink.pose import load_landmarks

        table, meta = load_landmarks(path)
        extra = {k: v for k, v in meta.items() if k not in {"video", "model", "buttwink_version"}}
        return cls(table, dict(meta.get("video", {})), dict(meta.get("model", {})), extra)  # type: ignore[arg-type]


def _pose_contour(pose: PoseFrame) -> np.ndarray:
    """Back contour of one frame from its mask and landmarks (NaN when unavailable)."""
    if not pose.detected or pose.mask is None:
        return np.full((N_STATIONS, 2), np.nan)
    v = pose.values
    hip = np.nanmean(v[[_IDX["left_hip"], _IDX["right_hip"]], :2], axis=0)
    shoulder = np.nanmean(v[[_IDX["left_shoulder"], _IDX["right_shoulder"]], :2], axis=0)
    heel = np.nanmean(v[[_IDX["left_heel"], _IDX["right_heel"]], 0])
    toe = np.nanmean(v[[_IDX["left_foot_index"], _IDX["right_foot_index"]], 0])
    ear = np.nanmean(v[[_IDX["left_ear"], _IDX["right_ear"]], 0])
    facing = facing_sign(heel, toe, v[_IDX["nose"], 0], ear)
    return trace_back_contour(pose.mask, hip, shoulder, facing)


def estimate_clip(
    video: Path | str,
    *,
    max_height: int | None = 720,
    with_contour: bool = True,
    model: ModelInfo | None = None,
    variant: str = DEFAULT_VARIANT,
    models_dir: Path | str | None = None,
    pose_options: PoseOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PoseTrack:
    """Video -> per-frame landmarks (+ back contour). Streams frames; memory does not grow with length.

    ``progress(done, total)`` is called after each frame when given.
    """
    info: VideoInfo = probe_video(video, max_height)
    model = model or ensure_model(variant, models_dir)
    options = pose_options or PoseOptions()
    options.with_masks = with_contour
    poses: list[PoseFrame] = []
    contours: list[np.ndarray] = []
    with PoseEstimator(model, options) as estimator:
        for frame in iter_frames(info.path, max_height):
            pose = estimator.process(frame)
            contours.append(_pose_contour(pose) if with_contour else np.full((N_STATIONS, 2), np.nan))
            pose.mask = None  # the mask is consumed here; never kept for the whole clip
            poses.append(pose)
            if progress:
                progress(frame.index + 1, info.frame_count)
    table = poses_to_frame(poses)
    back = pd.DataFrame(np.asarray(contours).reshape(len(contours), -1) if contours else None,
                        columns=back_columns())
    table = pd.concat([table, back], axis=1)
    video_meta = info.as_dict()
    video_meta["frames_decoded"] = len(table)
    return PoseTrack(table, video_meta, model.as_dict(), {"with_contour": with_contour,
                                                          "landmark_fields": list(LANDMARK_FIELDS)})
