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
from buttwink.kinematics import compute_kinematics, relative_to_standing, standing_mask
from buttwink.models import DEFAULT_VARIANT, ModelInfo, ensure_model
from buttwink.onset import Onset, detect_onset
from buttwink.pose import (
    LANDMARK_FIELDS,
    LANDMARK_NAMES,
    PoseEstimator,
    PoseFrame,
    PoseOptions,
    poses_to_frame,
)
from buttwink.reps import Rep, segment_reps
from buttwink.settings import Settings
from buttwink.smoothing import clean_series
from buttwink.video import VideoInfo, iter_frames, probe_video
from buttwink.view import ViewAssessment, assess_view

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


# ---------------------------------------------------------------------------------------------------------
# Measurement: landmarks -> view -> kinematics -> cleaning/smoothing -> reps -> onset.

ANGLE_COLUMNS = (
    "depth_deg", "trunk_inclination_deg", "hip_flexion_deg", "knee_flexion_deg", "ankle_dorsiflexion_deg",
    "pelvis_tilt_deg", "lumbar_angle_deg", "lumbar_flexion_deg", "lumbopelvic_angle_deg",
)
#: The signal the onset detector reads (flexion of the spine relative to the pelvis, flexion +).
WINK_SIGNAL = "lumbar_flexion_deg"


class ClipError(ValueError):
    """The clip cannot be measured; ``str(err)`` is a one-line reason."""


@dataclass
class Analysis:
    """Everything measured for one clip: plain DataFrames and dataclasses."""

    view: ViewAssessment
    frames: pd.DataFrame  # per frame: time, raw and smoothed angles (``*_raw`` / plain names), flags
    reps: pd.DataFrame  # per rep: times, depths, onset, wink verdict, confidence
    settings: Settings
    warnings: list[str] = field(default_factory=list)


def measure_frames(track: PoseTrack, view: ViewAssessment, settings: Settings) -> pd.DataFrame:
    """Per-frame angles, raw (``<angle>_raw``) and cleaned+smoothed (``<angle>``), plus flags."""
    kin = compute_kinematics(track.table, view.near_side, view.facing_sign, settings.min_visibility)
    time_s = kin["time_s"].to_numpy(float)
    clean_kw = dict(cutoff_hz=settings.cutoff_hz, order=settings.filter_order, max_gap_s=settings.max_gap_s,
                    hampel_window_s=settings.hampel_window_s, hampel_sigmas=settings.hampel_sigmas)
    depth_clean = clean_series(kin["depth_deg"].to_numpy(float), time_s, **clean_kw)
    standing = standing_mask(depth_clean.smooth)
    rel = relative_to_standing(kin, standing)
    frames = pd.DataFrame({"frame": track.table["frame"].to_numpy(), "time_s": time_s,
                           "detected": track.table["detected"].to_numpy(bool)})
    gaps = np.zeros(len(frames), bool)
    for name in ANGLE_COLUMNS:
        raw = rel[name].to_numpy(float)
        cleaned = depth_clean if name == "depth_deg" else clean_series(raw, time_s, **clean_kw)
        frames[f"{name}_raw"] = raw
        frames[name] = cleaned.smooth
        if name in ("depth_deg", WINK_SIGNAL):
            gaps |= cleaned.long_gaps
    frames["below_parallel"] = frames["depth_deg"] < 0
    frames["standing"] = standing
    frames["long_gap"] = gaps
    return frames


def measure_reps(frames: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Segment reps and run the onset detector on each complete one."""
    time_s = frames["time_s"].to_numpy(float)
    reps = segment_reps(time_s, frames["depth_deg"].to_numpy(float), min_range_deg=settings.min_rep_range_deg,
                        max_bottom_depth_deg=settings.max_bottom_depth_deg,
                        min_duration_s=settings.min_rep_duration_s)
    rows = []
    for rep in reps:
        row = rep.as_dict()
        if rep.status == "ok":
            onset = detect_onset(time_s, frames["depth_deg"].to_numpy(float), frames[WINK_SIGNAL].to_numpy(float),
                                 frames["hip_flexion_deg"].to_numpy(float), rep.start, rep.bottom,
                                 threshold_deg=settings.wink_threshold_deg)
        else:
            onset = Onset(False, 0.0, float("nan"), 0.0, reason=rep.reason)
        row.update(onset.as_dict())
        if rep.status == "ok" and onset.reason:
            row["status"], row["reason"] = "unassessed", onset.reason
        rows.append(row)
    columns = [*Rep.__dataclass_fields__, *Onset.__dataclass_fields__]
    return pd.DataFrame(rows, columns=columns)


def analyze_track(track: PoseTrack, settings: Settings | None = None) -> Analysis:
    """Every stage after pose estimation, from a :class:`PoseTrack` (e.g. a saved landmarks file)."""
    settings = settings or Settings()
    width = int(track.video.get("width", 0) or 0)  # type: ignore[call-overload]
    height = int(track.video.get("height", 0) or 0)  # type: ignore[call-overload]
    view = assess_view(track.table, width, height, min_detected_fraction=settings.min_detected_fraction,
                       max_yaw_deg=settings.max_view_yaw_deg)
    if not view.usable:
        raise ClipError("; ".join(view.reasons))
    frames = measure_frames(track, view, settings)
    reps = measure_reps(frames, settings)
    warnings = list(view.warnings)
    if reps.empty:
        warnings.append("no squat reps found (no dip of the thigh angle of at least "
                        f"{settings.min_rep_range_deg:.0f}°)")
    return Analysis(view, frames, reps, settings, warnings)
