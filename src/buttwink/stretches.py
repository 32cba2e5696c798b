"""View-over-time stage: split a clip into stretches by what its frames show, so that the side-view part of
a clip that also has a front view, a turn, a walk out of the picture or a title card is still analysed.

Each frame gets a label from its landmarks:

- ``no person``: the pose model found nobody (title cards, an empty room);
- ``out of frame``: a key joint of the near side (shoulder, hip, knee, ankle) is outside the picture, on its
  border (:data:`buttwink.view.EDGE_BAND`) or hidden (walking out, a close-up);
- ``front view``: the view is more than ``max_yaw_deg`` off the side view, judged from how far apart the
  left and right hips and shoulders are (:data:`buttwink.view.HIP_WIDTH_RATIO`), as a 1 s running median;
- ``side view``: everything else.

Labels are smoothed with a running majority over ``smooth_s`` (0.5 s), and a left-out run shorter than
``min_gap_s`` (1 s) inside a side-view stretch stays part of it (a hand passing in front of the knee is not
a new stretch; the cleaning stage bridges such gaps or leaves them NaN).

A side view is also split where the person comes to face the other way (:func:`steady_facing`: toes against
heels, else nose against ears; a facing held for less than ``min_gap_s`` is a misread). A left-out run of up
to :data:`MAX_TURN_S` between side views facing opposite ways is a ``turn``; either side view is measured on
its own, with its own facing, and a clip cut from one facing to the other (no run between) gives two side
views.

A side-view stretch is usable when it lasts at least ``min_stretch_s`` (the shortest rep, 0.8 s by default).
Times are seconds, rows are the landmarks table's rows (inclusive ``end``).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from buttwink.pose import landmark_xy
from buttwink.view import HIP_WIDTH_RATIO, KEY_JOINTS, SHOULDER_WIDTH_RATIO, frame_facing_signs, in_picture

SIDE, FRONT, NOBODY, OUT, TURN = "side view", "front view", "no person", "out of frame", "turn"
_REASONS = {
    TURN: "a turn: the person faces the other way after it",
    FRONT: "not a side view (front or oblique)",
    NOBODY: "no person in the picture",
    OUT: "the body is not all in the picture",
}


@dataclass
class Stretch:
    """A run of frames with one kind of view. ``usable``: analysed; else ``reason`` says why it was left out."""

    start: int
    end: int
    start_s: float
    end_s: float
    kind: str
    usable: bool
    reason: str = ""

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "duration_s": round(self.duration_s, 3)}


def frame_yaw_deg(table: pd.DataFrame) -> np.ndarray:
    """Each frame's angle off the side view (degrees, 0 = side view, 90 = front), from the image separation of
    the left and right hips and shoulders relative to the trunk length; NaN where it cannot be read."""
    hip_l, hip_r = landmark_xy(table, "left_hip"), landmark_xy(table, "right_hip")
    sh_l, sh_r = landmark_xy(table, "left_shoulder"), landmark_xy(table, "right_shoulder")
    trunk = np.linalg.norm((sh_l + sh_r) / 2 - (hip_l + hip_r) / 2, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames without a person: NaN, on purpose
        ratio = np.nanmean(np.column_stack([np.linalg.norm(hip_l - hip_r, axis=1) / (trunk * HIP_WIDTH_RATIO),
                                            np.linalg.norm(sh_l - sh_r, axis=1) / (trunk * SHOULDER_WIDTH_RATIO)]),
                           axis=1)
    return np.degrees(np.arcsin(np.clip(ratio, 0.0, 1.0)))


def _running(values: pd.Series, window: int, how: str) -> np.ndarray:
    roller = values.rolling(max(1, window), center=True, min_periods=1)
    return (roller.median() if how == "median" else roller.max()).to_numpy()


def frame_labels(table: pd.DataFrame, width: int, height: int, *, max_yaw_deg: float = 50.0,
                 fps: float = 30.0) -> np.ndarray:
    """One label per row of the landmarks table: side view, front view, no person or out of frame."""
    n = len(table)
    labels = np.full(n, SIDE, dtype=object)
    if n == 0:
        return labels
    detected = table["detected"].to_numpy(bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames without a person: NaN, on purpose
        vis = {side: np.nanmean(table[[f"{side}_{j}_visibility" for j in KEY_JOINTS]].to_numpy(float), axis=1)
               for side in ("left", "right")}
    near_left = np.nan_to_num(vis["left"], nan=-1.0) >= np.nan_to_num(vis["right"], nan=-1.0)
    inside = np.ones(n, bool)
    for joint in KEY_JOINTS:
        for side, pick in (("left", near_left), ("right", ~near_left)):
            xy = landmark_xy(table, f"{side}_{joint}")
            v = table[f"{side}_{joint}_visibility"].to_numpy(float)
            ok = in_picture(xy, width, height) & (v >= 0.3)
            inside &= ~pick | ok
    yaw = pd.Series(np.where(detected, frame_yaw_deg(table), np.nan))
    yaw_smooth = _running(yaw, int(round(fps)), "median")
    labels[np.isfinite(yaw_smooth) & (yaw_smooth > max_yaw_deg)] = FRONT
    labels[~inside] = OUT
    labels[~detected] = NOBODY
    return labels


def _runs(labels: np.ndarray) -> list[tuple[int, int, str]]:
    """(start, end inclusive, label) of each run of equal labels."""
    runs = []
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            runs.append((start, i - 1, str(labels[start])))
            start = i
    return runs


def _majority(labels: np.ndarray, window: int) -> np.ndarray:
    """Each frame's most common label within a centred window (ties keep the frame's own label)."""
    if window <= 1:
        return labels.copy()
    kinds = sorted(set(labels.tolist()))
    onehot = np.stack([(labels == k).astype(float) for k in kinds], axis=1)
    counts = np.column_stack([pd.Series(onehot[:, i]).rolling(window, center=True, min_periods=1).sum()
                              for i in range(len(kinds))])
    own = np.array([kinds.index(k) for k in labels])
    best = counts.argmax(axis=1)
    keep_own = counts[np.arange(len(labels)), own] >= counts[np.arange(len(labels)), best]
    return np.where(keep_own, labels, np.array(kinds, dtype=object)[best])


#: Longest left-out run (s) between side views of opposite facing that is named a turn; a longer one keeps
#: its own kind (a front-view demonstration between two side views is not a turn).
MAX_TURN_S = 3.0


def steady_facing(facing: np.ndarray, side: np.ndarray, time_s: np.ndarray, min_run_s: float) -> np.ndarray:
    """Per frame: the facing (+1 image-right, -1 left) of the side-view frames (``side``), held steady within
    each run of side-view frames: frames that do not tell take their neighbours' facing, and a facing that
    lasts less than ``min_run_s`` seconds (a foot or the nose misread for a moment) takes the facing before
    it (after it, at the run's start). A run of side-view frames in which no facing lasts that long takes its
    most common facing. NaN outside the side view, and where no frame of the run tells."""
    out = np.full(len(facing), np.nan)
    for first, last, kind in _runs(np.where(side, "side", "other")):
        if kind != "side":
            continue
        raw = pd.Series(facing[first:last + 1]).ffill().bfill().to_numpy(copy=True)
        if not np.isfinite(raw).any():
            continue
        times = time_s[first:last + 1]
        runs = [(a, b, float(raw[a])) for a, b, _ in _runs(raw.astype(str))]
        steady = [r for r in runs if times[r[1]] - times[r[0]] >= min_run_s]
        if not steady:
            raw[:] = 1.0 if np.sum(raw) >= 0 else -1.0
        for a, b, _ in runs if steady else []:
            if times[b] - times[a] >= min_run_s:
                continue
            before = [r for r in steady if r[1] < a]
            raw[a:b + 1] = before[-1][2] if before else next(r for r in steady if r[0] > b)[2]
        out[first:last + 1] = raw
    return out


def find_stretches(table: pd.DataFrame, width: int, height: int, *, max_yaw_deg: float = 50.0,
                   min_stretch_s: float = 0.8, smooth_s: float = 0.5, min_gap_s: float = 1.0) -> list[Stretch]:
    """The clip's stretches in time order, covering every row once (see the module for the rules)."""
    n = len(table)
    if n == 0:
        return []
    time_s = table["time_s"].to_numpy(float)
    steps = np.diff(time_s)
    steps = steps[np.isfinite(steps) & (steps > 0)]
    fps = 1.0 / float(np.median(steps)) if len(steps) else 30.0
    labels = _majority(frame_labels(table, width, height, max_yaw_deg=max_yaw_deg, fps=fps),
                       int(round(smooth_s * fps)) | 1)
    side = labels == SIDE
    # The facing is held steady over side views together with the short left-out runs inside them, so that a
    # blip does not cut a side view into pieces too short to have a steady facing of their own.
    plain = _runs(labels)
    bridged = side.copy()
    for k, (a, b, kind) in enumerate(plain):
        if (kind != SIDE and 0 < k < len(plain) - 1 and plain[k - 1][2] == SIDE and plain[k + 1][2] == SIDE
                and time_s[b] - time_s[a] < min_gap_s):
            bridged[a:b + 1] = True
    facing = steady_facing(np.where(side, frame_facing_signs(table), np.nan), bridged, time_s, min_gap_s)
    # Side-view runs are split where the facing changes; each run carries its facing (0 for other kinds).
    faces_of = np.where(side, np.where(facing < 0, -1.0, 1.0), 0.0)
    runs = [(a, b, str(labels[a]), float(faces_of[a]))
            for a, b, _ in _runs(np.where(side, faces_of.astype(str), labels))]
    # A short left-out run between two side-view runs belongs to the side view around it; between side views
    # of opposite facing, a left-out run up to MAX_TURN_S is a turn, and there the side views stay apart.
    merged: list[list] = []
    for k, (a, b, kind, faces) in enumerate(runs):
        duration = time_s[b] - time_s[a]
        between_sides = 0 < k < len(runs) - 1 and runs[k - 1][2] == SIDE and runs[k + 1][2] == SIDE
        turning = between_sides and runs[k - 1][3] != runs[k + 1][3]
        if kind != SIDE and between_sides and not turning and duration < min_gap_s:
            kind, faces = SIDE, runs[k - 1][3]
        elif kind != SIDE and turning and duration <= MAX_TURN_S:
            kind = TURN
        if merged and merged[-1][2] == kind and (kind != SIDE or merged[-1][3] == faces):
            merged[-1][1] = b
        else:
            merged.append([a, b, kind, faces])
    stretches = []
    for a, b, kind, _ in merged:
        start_s, end_s = float(time_s[a]), float(time_s[b])
        if kind == SIDE:
            long_enough = (end_s - start_s) >= min_stretch_s
            reason = "" if long_enough else (f"side view for only {end_s - start_s:.1f} s (a rep needs at least "
                                             f"{min_stretch_s:.1f} s)")
            stretches.append(Stretch(a, b, start_s, end_s, kind, long_enough, reason))
        else:
            stretches.append(Stretch(a, b, start_s, end_s, kind, False, _REASONS[kind]))
    return stretches


def describe_left_out(stretches: list[Stretch]) -> str:
    """One line naming the stretches left out with their times ('' when none)."""
    parts = [f"{s.start_s:.1f}–{s.end_s:.1f} s ({s.reason})" for s in stretches if not s.usable]
    return ("left out: " + "; ".join(parts)) if parts else ""
