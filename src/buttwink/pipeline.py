"""Pipeline driver: runs the stages in order, passing plain data between them.

``estimate_clip`` is everything up to and including pose estimation (video -> pose -> back contour) in
one streamed pass; its :class:`PoseTrack` is what the landmarks file stores, so every later stage can be
rerun from that file without re-estimating.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

import buttwink
from buttwink.back_contour import N_STATIONS, back_columns, facing_sign, trace_back_contour
from buttwink.edge_check import (
    UNASSESSED_FRACTION,
    edge_assessment,
    edge_confidence,
    edge_jumps,
    overhangs,
    static_edges,
)
from buttwink.kinematics import (
    compute_kinematics,
    feet_forward,
    never_stands_reason,
    relative_to_standing,
    standing_mask,
    stands_up,
)
from buttwink.mirror import (
    consensus_reps,
    join_readings,
    number_or_nan,
    place_onsets,
    split_readings,
    unflip_table,
)
from buttwink.models import DEFAULT_VARIANT, ModelInfo, ensure_model
from buttwink.onset import CALIBRATIONS, Onset, detect_onset, pool_onsets, with_depth_reading_margin
from buttwink.pose import (
    LANDMARK_FIELDS,
    LANDMARK_NAMES,
    PoseEstimator,
    PoseFrame,
    PoseOptions,
    count_people,
    landmark_columns,
    poses_to_frame,
)
from buttwink.reps import Rep, segment_reps, split_non_squats
from buttwink.settings import Settings
from buttwink.smoothing import CleanedSeries, clean_series
from buttwink.stretches import Stretch, describe_left_out, find_stretches
from buttwink.video import DecodeStats, Frame, VideoError, VideoInfo, content_sha256, iter_frames, probe_video
from buttwink.view import ViewAssessment, assess_view, view_confidence

_IDX = {name: i for i, name in enumerate(LANDMARK_NAMES)}
#: Frames, spread over the clip, in which the people in view are counted.
PEOPLE_SAMPLES = 3


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


def _contour_from_landmarks(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Back contour (pixels) traced on ``mask`` at the stations set by one frame's landmark values (33, 8)."""
    v = values
    hip = (v[_IDX["left_hip"], :2] + v[_IDX["right_hip"], :2]) / 2
    shoulder = (v[_IDX["left_shoulder"], :2] + v[_IDX["right_shoulder"], :2]) / 2
    heel = (v[_IDX["left_heel"], 0] + v[_IDX["right_heel"], 0]) / 2
    toe = (v[_IDX["left_foot_index"], 0] + v[_IDX["right_foot_index"], 0]) / 2
    ear = (v[_IDX["left_ear"], 0] + v[_IDX["right_ear"], 0]) / 2
    facing = facing_sign(heel, toe, v[_IDX["nose"], 0], ear)
    return trace_back_contour(mask, hip, shoulder, facing)


def _pose_contour(pose: PoseFrame) -> np.ndarray:
    """Back contour of one frame from its mask and landmarks (NaN when unavailable)."""
    if not pose.detected or pose.mask is None:
        return np.full((N_STATIONS, 2), np.nan)
    return _contour_from_landmarks(pose.values, pose.mask)


def retrace_back_contour(track: PoseTrack, masks: Iterable[np.ndarray | None]) -> PoseTrack:
    """The same track with its back contour traced again on other person masks.

    ``masks`` gives one HxW person-probability mask (0..1, the video's pixels) per row of ``track.table``, in
    order, or ``None`` for a frame without one. The landmarks stay, and with them the contour's stations, so
    only the segmentation changes: for instance a renderer's exact silhouette
    (:func:`buttwink.synth.render_silhouettes`) in place of MediaPipe's mask. A mirror reading the track
    carries is dropped: the masks are the clip's own, not its mirror image's.
    """
    table = split_readings(track.table)[0].copy()
    values = table[landmark_columns()].to_numpy(float).reshape(len(table), len(LANDMARK_NAMES),
                                                                  len(LANDMARK_FIELDS))
    detected = table["detected"].to_numpy(bool)
    contours = np.full((len(table), N_STATIONS, 2), np.nan)
    count = 0
    for i, mask in enumerate(masks):
        if i >= len(table):
            raise ValueError(f"more masks than the track's {len(table)} frames")
        count += 1
        if mask is not None and detected[i]:
            contours[i] = _contour_from_landmarks(values[i], mask)
    if count != len(table):
        raise ValueError(f"{count} masks for the track's {len(table)} frames")
    table[back_columns()] = contours.reshape(len(table), -1)
    return PoseTrack(table, dict(track.video), dict(track.model), {**track.extra, "back_contour_retraced": True})


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
    mirror: bool = False,
) -> PoseTrack:
    """Video -> per-frame landmarks (+ back contour). Streams frames; memory does not grow with length.

    With ``mirror`` every frame is also read flipped left-right by a second landmarker, and that reading,
    mapped back to the clip's pixels and body sides (:func:`buttwink.mirror.unflip_table`), is stored beside
    the clip's own with the ``mirror_`` prefix (:func:`buttwink.mirror.join_readings`); it doubles the time.
    ``progress(done, total)`` is called after each frame when given.
    """
    info: VideoInfo = probe_video(video, max_height)
    content = content_sha256(info.path)
    stamp = _file_stamp(info.path)
    model = model or ensure_model(variant, models_dir)
    options = replace(pose_options or PoseOptions(), with_masks=with_contour)
    poses: list[PoseFrame] = []
    contours: list[np.ndarray] = []
    # A few frames spread over the clip are kept to count the people in view (the tracker follows one).
    sample_at = set(np.linspace(0, max(info.frame_count - 1, 0), PEOPLE_SAMPLES).round().astype(int).tolist())
    samples: list[np.ndarray] = []
    decoding = DecodeStats()
    mirrored: tuple[list[PoseFrame], list[np.ndarray]] = ([], [])
    with ExitStack() as stack:
        estimator = stack.enter_context(PoseEstimator(model, options))
        mirror_estimator = stack.enter_context(PoseEstimator(model, options)) if mirror else None
        for frame in iter_frames(info, stats=decoding):
            if frame.index in sample_at:
                samples.append(frame.rgb)
            _read_frame(estimator, frame, poses, contours, with_contour)
            if mirror_estimator is not None:
                flipped = replace(frame, rgb=np.ascontiguousarray(frame.rgb[:, ::-1]))
                _read_frame(mirror_estimator, flipped, *mirrored, with_contour)
            if progress:
                progress(frame.index + 1, info.frame_count)
    table = _landmarks_table(poses, contours)
    if mirror:
        table = join_readings(table, unflip_table(_landmarks_table(*mirrored), info.width))
    video_meta = info.as_dict()
    video_meta.update(decoding.as_dict())
    video_meta["frames_decoded"] = len(table)
    video_meta["sha256"] = content
    if _file_stamp(info.path) != stamp:  # size and modification time: no second read of the whole file
        raise VideoError(info.path, "the file changed while it was being analysed (copied over?); analyse it "
                                    "again once it is complete")
    people = count_people(samples, model, max_people=2) if samples else []
    return PoseTrack(table, video_meta, model.as_dict(), {"with_contour": with_contour,
                                                          "landmark_fields": list(LANDMARK_FIELDS),
                                                          "people_in_sampled_frames": people,
                                                          "mirror_reading": mirror})


def _read_frame(estimator: PoseEstimator, frame: Frame, poses: list[PoseFrame], contours: list[np.ndarray],
                with_contour: bool) -> None:
    """Estimate one frame's pose and trace its back contour, appending both; the mask is not kept."""
    pose = estimator.process(frame)
    contours.append(_pose_contour(pose) if with_contour else np.full((N_STATIONS, 2), np.nan))
    pose.mask = None  # the mask is consumed here; never kept for the whole clip
    poses.append(pose)


def _landmarks_table(poses: list[PoseFrame], contours: list[np.ndarray]) -> pd.DataFrame:
    """The landmarks table of one reading: landmarks and back contour, a row per frame."""
    back = pd.DataFrame(np.asarray(contours).reshape(len(contours), -1) if contours else None,
                        columns=back_columns())
    return pd.concat([poses_to_frame(poses), back], axis=1)


def _file_stamp(path: Path) -> tuple[int, int, int]:
    """(size, modification time in ns, inode) of a file: changes when the file is written or replaced."""
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ino


# ---------------------------------------------------------------------------------------------------------
# Measurement: landmarks -> view -> kinematics -> cleaning/smoothing -> reps -> onset.

ANGLE_COLUMNS = (
    "depth_deg", "trunk_inclination_deg", "hip_flexion_deg", "knee_flexion_deg", "ankle_dorsiflexion_deg",
    "pelvis_tilt_deg", "posterior_pelvic_tilt_deg", "lumbar_angle_deg", "lumbar_flexion_deg",
    "lumbopelvic_angle_deg", "trunk_pelvis_flexion_deg",
)
#: The onset detector's signals: the wink signal (by default the pelvis turned under the trunk; the posterior
#: pelvic tilt on request) decides whether a rep winks and by how much, through its calibration
#: (:data:`buttwink.onset.CALIBRATIONS`); the spine-to-pelvis flexion, when it agrees, helps locate the onset.
WINK_SIGNAL = "trunk_pelvis_flexion_deg"  # the default of ``Settings.wink_signal``
ONSET_SIGNAL = "lumbar_flexion_deg"


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
    stretches: list[dict[str, object]] = field(default_factory=list)  # Stretch.as_dict() of each, in time order
    not_squats: list[dict[str, object]] = field(default_factory=list)  # dips that are not squats, with times
    mirror_joined: bool = False  # the calls join the clip's reading and its mirror image's (buttwink.mirror)


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
    cleaned: dict[str, CleanedSeries] = {"depth_deg": depth_clean}
    for name in ANGLE_COLUMNS:
        if name == "posterior_pelvic_tilt_deg":  # the pelvis tilt negated: cleaned once, below
            continue
        series = cleaned.get(name) or clean_series(rel[name].to_numpy(float), time_s, **clean_kw)
        cleaned[name] = series
        frames[f"{name}_raw"] = series.raw
        frames[name] = series.smooth
    tilt = cleaned["pelvis_tilt_deg"]
    frames["posterior_pelvic_tilt_deg_raw"] = -tilt.raw
    frames["posterior_pelvic_tilt_deg"] = -tilt.smooth
    # The onset detector's hinge fit is itself the smoother; a low-pass before it would round the onset's
    # corner and move it earlier, so it reads the despiked, unfiltered series.
    frames["posterior_pelvic_tilt_deg_despiked"] = -tilt.despiked
    frames[f"{ONSET_SIGNAL}_despiked"] = cleaned[ONSET_SIGNAL].despiked
    if settings.wink_signal not in ("posterior_pelvic_tilt_deg", ONSET_SIGNAL):
        frames[f"{settings.wink_signal}_despiked"] = cleaned[settings.wink_signal].despiked
    gaps = depth_clean.long_gaps | tilt.long_gaps
    steps = np.diff(time_s)
    steps = steps[np.isfinite(steps) & (steps > 0)]
    fps = 1.0 / float(np.median(steps)) if len(steps) else 30.0
    frames["back_edge_jump"] = edge_jumps(track.table, view.near_side, fps)
    frames["back_edge_static"] = static_edges(track.table, fps)
    frames["back_edge_overhang"] = overhangs(track.table)
    feet = feet_forward(track.table, view.facing_sign)
    frames["left_foot_forward"], frames["right_foot_forward"] = feet[:, 0], feet[:, 1]
    frames["below_parallel"] = frames["depth_deg"] < 0
    frames["standing"] = standing
    frames["long_gap"] = gaps
    return frames


def measure_reps(frames: pd.DataFrame, settings: Settings, view_yaw_deg: float = 0.0) -> pd.DataFrame:
    """Segment reps and run the onset detector on each complete one. The confidence is scaled down for
    views off the side view (:func:`buttwink.view.view_confidence`). With ``settings.pool_onsets`` the
    onsets of the clip's winks are read together (:func:`buttwink.onset.pool_onsets`)."""
    time_s = frames["time_s"].to_numpy(float)
    reps = segment_reps(time_s, frames["depth_deg"].to_numpy(float), min_range_deg=settings.min_rep_range_deg,
                        max_bottom_depth_deg=settings.max_bottom_depth_deg,
                        min_duration_s=settings.min_rep_duration_s)
    feet = (frames[["left_foot_forward", "right_foot_forward"]].to_numpy(float)
            if {"left_foot_forward", "right_foot_forward"} <= set(frames.columns) else None)
    reps, not_squats = split_non_squats(reps, frames["trunk_inclination_deg"].to_numpy(float),
                                        frames["knee_flexion_deg"].to_numpy(float),
                                        depth_deg=frames["depth_deg"].to_numpy(float), feet_forward=feet)
    depth, hip_flexion = frames["depth_deg"].to_numpy(float), frames["hip_flexion_deg"].to_numpy(float)
    onsets = []
    for rep in reps:
        if rep.status == "ok":
            onset = detect_onset(time_s, depth, frames[f"{settings.wink_signal}_despiked"].to_numpy(float),
                                 frames[f"{ONSET_SIGNAL}_despiked"].to_numpy(float), hip_flexion, rep.start,
                                 rep.bottom, rep.end, threshold_deg=settings.wink_threshold_deg,
                                 calibration=CALIBRATIONS[settings.wink_signal])
            onset.confidence *= view_confidence(view_yaw_deg)
            no_flags = np.zeros(len(frames), bool)
            disturbed, why = edge_assessment(
                frames["back_edge_jump"].to_numpy(bool) if "back_edge_jump" in frames else no_flags,
                frames["back_edge_static"].to_numpy(bool) if "back_edge_static" in frames else no_flags,
                rep.start, rep.bottom,
                frames["back_edge_overhang"].to_numpy(bool) if "back_edge_overhang" in frames else no_flags)
            if disturbed >= UNASSESSED_FRACTION:
                onset = Onset(False, 0.0, float("nan"), 0.0, reason=why)
            else:
                onset.confidence *= edge_confidence(disturbed)
        else:
            onset = Onset(False, 0.0, float("nan"), 0.0, reason=rep.reason)
        onsets.append(onset)
    if settings.pool_onsets:
        onsets = pool_onsets(onsets, [rep.start for rep in reps], [rep.bottom for rep in reps], time_s, depth,
                             hip_flexion)
    onsets = [with_depth_reading_margin(onset) for onset in onsets]
    rows = []
    for rep, onset in zip(reps, onsets, strict=True):
        row = rep.as_dict()
        onset_fields = onset.as_dict()
        note = onset_fields.pop("reason")
        row.update(onset_fields)
        if rep.status == "ok" and note:
            row["status"], row["reason"] = "unassessed", note
        rows.append(row)
    columns = list(dict.fromkeys([*Rep.__dataclass_fields__, *Onset.__dataclass_fields__]))
    table = pd.DataFrame(rows, columns=columns)
    table.attrs["not_squats"] = not_squats  # movements left out of the reps, with their times
    return table


def analyze_track(track: PoseTrack, settings: Settings | None = None) -> Analysis:
    """Every stage after pose estimation, from a :class:`PoseTrack` (e.g. a saved landmarks file).

    The clip is first split into stretches by view (:func:`buttwink.stretches.find_stretches`); each usable
    side-view stretch is measured on its own (its own near side, facing and standing reference), and the
    stretches left out are named in the warnings and in ``Analysis.stretches``. A clip with no usable
    stretch is refused (:class:`ClipError`) with the reason.

    When the track also carries the mirror image's reading (``estimate_clip(mirror=True)``) and
    ``settings.mirror_consensus`` is on, that reading is measured the same way and each rep's call joined to
    it (:func:`buttwink.mirror.consensus_reps`): everything else (frames, stretches, reps' spans) is the
    clip's own reading."""
    settings = settings or Settings()
    own, mirror_table = split_readings(track.table)
    analysis = _analyze_reading(replace(track, table=own), settings)
    if mirror_table is None or not settings.mirror_consensus:
        if settings.mirror_consensus and not analysis.reps.empty:
            analysis.warnings.append("read without the mirror image (the landmarks hold one reading): wink calls "
                                     "are less sure; estimate the pose again with the mirror reading")
        return analysis
    try:
        mirrored: Analysis | None = _analyze_reading(replace(track, table=mirror_table), settings)
        refusal = ""
    except ClipError as exc:
        mirrored, refusal = None, str(exc)
    reps = consensus_reps(analysis.reps, mirrored.reps if mirrored is not None else None, refusal)
    analysis.reps = place_onsets(reps, analysis.frames)
    analysis.mirror_joined = True
    return analysis


def _analyze_reading(track: PoseTrack, settings: Settings) -> Analysis:
    """:func:`analyze_track` on one reading of the clip (a table without ``mirror_`` columns)."""
    width = int(track.video.get("width", 0) or 0)  # type: ignore[call-overload]
    height = int(track.video.get("height", 0) or 0)  # type: ignore[call-overload]
    view_kw = dict(min_detected_fraction=settings.min_detected_fraction, max_yaw_deg=settings.max_view_yaw_deg)
    stretches = find_stretches(track.table, width, height, max_yaw_deg=settings.max_view_yaw_deg,
                               min_stretch_s=settings.min_rep_duration_s)
    usable = [s for s in stretches if s.usable]
    if len(usable) == 1 and len(stretches) == 1:  # the whole clip is one side view: measured as a whole
        view = assess_view(track.table, width, height, **view_kw)
        if not view.usable:
            raise ClipError("; ".join(view.reasons))
        frames = measure_frames(track, view, settings)
        if not stands_up(frames["depth_deg"]):
            raise ClipError(never_stands_reason(frames["depth_deg"]))
        reps = measure_reps(frames, settings, view.view_yaw_deg)
        not_squats = list(reps.attrs.get("not_squats", []))
        warnings = list(view.warnings)
    else:
        view, frames, reps, warnings, not_squats = _measure_stretches(track, stretches, width, height, settings,
                                                                      view_kw)
    reps.attrs.pop("not_squats", None)
    for movement in not_squats:
        warnings.append(f"{movement['start_time_s']:.1f}–{movement['end_time_s']:.1f} s left out: "
                        f"{movement['reason']}")
    if track.video.get("decode_warning"):
        warnings.append(str(track.video["decode_warning"]))
    warnings += _frame_rate_notes(track, frames, reps, settings)
    people = [int(n) for n in track.extra.get("people_in_sampled_frames", [])]  # type: ignore[union-attr]
    crowded = sum(n > 1 for n in people)
    if crowded:
        warnings.append(f"{max(people)} people in view in {crowded} of {len(people)} sampled frames: the tracker "
                        "follows one; check in the stills that it is the person squatting")
    if reps.empty:
        warnings.append("no squat reps found (no dip of the thigh angle of at least "
                        f"{settings.min_rep_range_deg:.0f}°)")
    return Analysis(view, frames, reps, settings, warnings, [s.as_dict() for s in stretches], not_squats)


def _measure_stretches(track: PoseTrack, stretches: list[Stretch], width: int, height: int, settings: Settings,
                       view_kw: dict) -> tuple[ViewAssessment, pd.DataFrame, pd.DataFrame, list[str],
                                               list[dict[str, object]]]:
    """Measure each usable stretch on its own and put the pieces back on the clip's rows and rep numbers.

    Rows outside the analysed stretches keep their frame, time and detection, with NaN angles. The view
    returned is the longest analysed stretch's (what the report draws); each stretch's own is in its dict."""
    table = track.table
    pieces: list[pd.DataFrame] = []
    rep_tables: list[pd.DataFrame] = []
    views: list[tuple[float, ViewAssessment]] = []
    refusals: list[str] = []
    not_squats: list[dict[str, object]] = []
    for stretch in stretches:
        if not stretch.usable:
            continue
        rows = slice(stretch.start, stretch.end + 1)
        sub = PoseTrack(table.iloc[rows].reset_index(drop=True), track.video, track.model, track.extra)
        view = assess_view(sub.table, width, height, **view_kw)
        if not view.usable:
            stretch.usable, stretch.reason = False, "; ".join(view.reasons)
            refusals.append(stretch.reason)
            continue
        frames_k = measure_frames(sub, view, settings)
        if not stands_up(frames_k["depth_deg"]):
            stretch.usable, stretch.reason = False, never_stands_reason(frames_k["depth_deg"])
            refusals.append(stretch.reason)
            continue
        frames_k.index = range(stretch.start, stretch.end + 1)
        pieces.append(frames_k)
        reps_k = measure_reps(frames_k.reset_index(drop=True), settings, view.view_yaw_deg)
        for column in ("start", "bottom", "end", "onset_frame"):
            if column in reps_k:
                reps_k[column] = pd.to_numeric(reps_k[column], errors="coerce") + stretch.start
        not_squats += reps_k.attrs.get("not_squats", [])
        rep_tables.append(reps_k)
        views.append((stretch.duration_s, view))
    left_out = [s for s in stretches if not s.usable]
    if not views:
        whole = assess_view(table, width, height, **view_kw)
        reasons = whole.reasons or refusals or [s.reason for s in left_out]
        raise ClipError("no stretch of side view to analyse: " + "; ".join(dict.fromkeys(reasons)))
    frames = pd.concat(pieces).reindex(range(len(table)))
    frames["frame"] = table["frame"].to_numpy()
    frames["time_s"] = table["time_s"].to_numpy(float)
    frames["detected"] = table["detected"].to_numpy(bool)
    for flag in ("below_parallel", "standing", "long_gap", "back_edge_jump", "back_edge_static",
                 "back_edge_overhang"):
        frames[flag] = frames[flag].astype("boolean").fillna(False).astype(bool)
    frames = frames.reset_index(drop=True)
    reps = pd.concat(rep_tables, ignore_index=True) if rep_tables else pd.DataFrame()
    if len(reps):
        reps["rep"] = range(1, len(reps) + 1)
    view = max(views, key=lambda item: item[0])[1]
    warnings = list(dict.fromkeys(w for _, v in views for w in v.warnings))
    note = describe_left_out(stretches)
    if note:
        warnings.insert(0, note)
    return view, frames, reps, warnings, not_squats


#: Below this frame rate a clip is flagged: a one-second descent has too few frames to place an onset.
LOW_FRAME_RATE_FPS = 12.0


def _frame_rate_notes(track: PoseTrack, frames: pd.DataFrame, reps: pd.DataFrame, settings: Settings) -> list[str]:
    """Warnings that name the clip's frame rate when it limits the reading, and the frame rate added to the
    reason of reps whose descent had too few frames (edits ``reps`` in place)."""
    steps = np.diff(frames["time_s"].to_numpy(float))
    steps = steps[np.isfinite(steps) & (steps > 0)]
    fps = 1.0 / float(np.median(steps)) if len(steps) else float(track.video.get("fps", 0) or 0)  # type: ignore[arg-type]
    notes = []
    if 0 < fps < LOW_FRAME_RATE_FPS:
        notes.append(f"low frame rate ({fps:.1f} fps): a rep's descent has few frames, so onsets are coarse or "
                     f"cannot be placed; film at 24 fps or more")
    if fps > 0 and settings.cutoff_hz > 0.4 * fps:
        notes.append(f"cutoff {settings.cutoff_hz:g} Hz is above 0.4 × this clip's {fps:.1f} fps: "
                     f"{0.4 * fps:.1f} Hz was used")
    if not reps.empty and fps > 0:
        short = reps["reason"].astype(str).str.startswith("descent too short")
        for i in reps.index[short]:
            n = int(reps.at[i, "bottom"]) - int(reps.at[i, "start"]) + 1
            reps.at[i, "reason"] = f"{reps.at[i, 'reason']} ({n} frames at {fps:.1f} fps)"
    return notes


# ---------------------------------------------------------------------------------------------------------
# Whole clip: the public entry point.


@dataclass
class Result:
    """Everything buttwink knows about one clip: the landmarks track and the measurement."""

    clip: Path
    track: PoseTrack
    analysis: Analysis
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def frames(self) -> pd.DataFrame:
        """Per-frame angles (raw ``*_raw`` and smoothed), degrees."""
        return self.analysis.frames

    @property
    def reps(self) -> pd.DataFrame:
        """Per-rep table: times, depths, onset, wink verdict and confidence."""
        return self.analysis.reps

    def summary(self) -> dict[str, object]:
        """JSON-able summary: clip and model metadata, settings, versions, per-rep verdicts."""
        import platform

        import cv2
        import mediapipe

        reps = self.reps
        ok = reps[reps["status"] == "ok"] if not reps.empty else reps
        return {
            "status": "ok",
            "clip": str(self.clip),
            "video": self.track.video,
            "model": self.track.model,
            "view": self.analysis.view.as_dict(),
            "warnings": self.analysis.warnings,
            "stretches": self.analysis.stretches,
            "not_squats": self.analysis.not_squats,
            "reps_found": len(reps),
            "reps_assessed": len(ok),
            "reps_with_wink": int(ok["wink"].sum()) if len(ok) else 0,
            "verdict": verdict_text(reps),
            "settings": self.analysis.settings.to_dict(),
            "wink_signal": self.analysis.settings.wink_signal,
            "mirror_joined": self.analysis.mirror_joined,
            "onset_signal": ONSET_SIGNAL,
            "timings_s": self.timings_s,
            "versions": {"buttwink": buttwink.__version__, "mediapipe": getattr(mediapipe, "__version__", "?"),
                         "opencv": cv2.__version__, "numpy": np.__version__, "pandas": pd.__version__,
                         "python": platform.python_version()},
        }


def rep_verdict(rep: dict[str, object] | pd.Series) -> str:
    """One rep's verdict in words."""
    n = rep["rep"]
    if rep["status"] != "ok":
        return f"Rep {n}: not assessed ({rep['reason']})"
    own, mirror = (number_or_nan(rep.get(k)) for k in ("own_departure_deg", "mirror_departure_deg"))
    readings = (f" (tuck read {own:.0f}° in the clip, {mirror:.0f}° in its mirror image)"
                if np.isfinite(own) and np.isfinite(mirror) else "")
    if rep["wink"]:
        depth = float(rep["onset_depth_deg"])  # type: ignore[arg-type]
        where = (f"{depth:.0f}° above parallel" if depth > 0.5 else
                 f"{-depth:.0f}° below parallel" if depth < -0.5 else "parallel")
        return (f"Rep {n}: butt wink from {where} (hip flexion {float(rep['onset_hip_flexion_deg']):.0f}°), "  # type: ignore[arg-type]
                f"{float(rep['wink_deg']):.0f}° of tuck{readings}, confidence {float(rep['confidence']):.2f}")  # type: ignore[arg-type]
    why = f": {rep['reason']}" if isinstance(rep.get("reason"), str) and rep["reason"] else ""
    return f"Rep {n}: no butt wink{readings} (confidence {float(rep['confidence']):.2f}{why})"  # type: ignore[arg-type]


def verdict_text(reps: pd.DataFrame) -> str:
    """Clip-level verdict in one line."""
    if reps.empty:
        return "no squat reps found"
    ok = reps[reps["status"] == "ok"]
    if ok.empty:
        return f"{len(reps)} rep(s) found, none could be assessed"
    winks = ok[ok["wink"].astype(bool)]
    if winks.empty:
        return f"no butt wink in {len(ok)} assessed rep(s)"
    median_depth = float(winks["onset_depth_deg"].astype(float).median())
    return (f"butt wink in {len(winks)} of {len(ok)} assessed rep(s); median onset at thigh angle "
            f"{median_depth:.0f}° (0 = parallel)")


def estimate_with_settings(path: Path | str, settings: Settings, *, models_dir: Path | str | None = None,
                           progress: Callable[[int, int], None] | None = None) -> PoseTrack:
    """:func:`estimate_clip` with the pose options of ``settings`` (frame height, model variant, detection
    and tracking confidences): the pose stage of :func:`analyze`."""
    return estimate_clip(
        path, max_height=settings.max_height_px, variant=settings.model_variant, models_dir=models_dir,
        pose_options=PoseOptions(min_detection_confidence=settings.min_detection_confidence,
                                 min_tracking_confidence=settings.min_tracking_confidence),
        progress=progress, mirror=settings.mirror_consensus,
    )


def analyze(
    path: Path | str,
    settings: Settings | None = None,
    *,
    models_dir: Path | str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Analyse one clip end to end (video -> pose -> measurement). Raises ``VideoError``, ``ModelError``
    or :class:`ClipError` with a one-line reason when the clip cannot be analysed."""
    import time

    settings = settings or Settings()
    t0 = time.perf_counter()
    track = estimate_with_settings(path, settings, models_dir=models_dir, progress=progress)
    t1 = time.perf_counter()
    result = analyze_landmarks(track, settings, clip=Path(path))
    result.timings_s = {"pose_s": round(t1 - t0, 3), "measure_s": round(time.perf_counter() - t1, 3)}
    return result


def analyze_landmarks(track: PoseTrack | Path | str, settings: Settings | None = None, *,
                      clip: Path | None = None) -> Result:
    """Rerun every stage after pose estimation from a :class:`PoseTrack` or a saved landmarks file."""
    if not isinstance(track, PoseTrack):
        track = PoseTrack.load(track)
    clip = clip or Path(str(track.video.get("path", "clip")))
    settings = settings or Settings()
    duration = float(track.table["time_s"].iloc[-1]) if len(track.table) else 0.0
    if duration < settings.min_clip_duration_s:
        raise ClipError(f"{clip}: clip too short ({duration:.1f} s; a squat rep takes at least "
                        f"{settings.min_clip_duration_s:.1f} s)")
    try:
        analysis = analyze_track(track, settings)
    except ClipError as exc:
        raise ClipError(f"{clip}: {exc}") from None
    return Result(clip, track, analysis)
