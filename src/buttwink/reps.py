"""Rep segmentation from the smoothed depth signal (thigh angle, degrees; 90 standing, 0 parallel).

A rep is a dip of the depth signal: a local minimum (the bottom) with at least ``min_range_deg`` of
prominence, found with ``scipy.signal.find_peaks`` on the negated signal. Its start is the last frame
before the bottom still within 10 % of the excursion of the standing level before it; its end the first
such frame after. The descent runs start -> bottom, the ascent bottom -> end. Reps are kept but marked
``partial`` (with a reason) when they begin before the clip, end after it, or never get deep enough.

A dip that is not a squat is taken out of the reps by its kinematics (:func:`split_non_squats`): at its
bottom a hip hinge (picking a bar up, setting it down) has the trunk near horizontal and the knees only
half bent; in a step (walking out of a rack, walking about) a foot travels, where a squat's feet stay put.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import signal


@dataclass
class Rep:
    """One rep. Indices are frame rows; ``status`` is "ok" or "partial" (then ``reason`` says why)."""

    rep: int
    start: int
    bottom: int
    end: int
    start_time_s: float
    bottom_time_s: float
    end_time_s: float
    top_depth_deg: float
    bottom_depth_deg: float
    status: str = "ok"
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def segment_reps(
    time_s: np.ndarray,
    depth_deg: np.ndarray,
    *,
    min_range_deg: float = 30.0,
    max_bottom_depth_deg: float = 45.0,
    min_duration_s: float = 0.8,
) -> list[Rep]:
    """Find reps in a smoothed depth signal. NaNs (long gaps) are bridged only for the peak search."""
    t = np.asarray(time_s, float)
    d = np.asarray(depth_deg, float)
    finite = np.isfinite(d)
    if finite.sum() < 5:
        return []
    filled = np.interp(np.arange(len(d)), np.flatnonzero(finite), d[finite])
    fs = 1.0 / np.median(np.diff(t))
    # Pad with the standing level so a rep cut by the clip's start or end is still found (then marked partial).
    standing = float(np.percentile(filled, 95))
    padded = np.concatenate([[standing], filled, [standing]])
    bottoms, _ = signal.find_peaks(-padded, prominence=min_range_deg, distance=max(1, int(min_duration_s * fs)))
    bottoms = bottoms - 1
    reps: list[Rep] = []
    prev_bottom = 0
    for k, b in enumerate(bottoms):
        nxt = bottoms[k + 1] if k + 1 < len(bottoms) else len(d)
        before = filled[prev_bottom:b + 1]
        after = filled[b:nxt]
        top_before = float(before.max())
        top_after = float(after.max())
        level_before = filled[b] + 0.9 * (top_before - filled[b])
        level_after = filled[b] + 0.9 * (top_after - filled[b])
        above_before = np.flatnonzero(before >= level_before)
        above_after = np.flatnonzero(after >= level_after)
        start = prev_bottom + int(above_before[-1]) if above_before.size else prev_bottom
        end = b + int(above_after[0]) if above_after.size else nxt - 1
        status, reason = "ok", ""
        if top_before < standing - 15:
            status, reason = "partial", "starts before the clip (no standing phase before it)"
        elif top_after < standing - 15:
            status, reason = "partial", "ends after the clip (no standing phase after it)"
        elif filled[b] > max_bottom_depth_deg:
            status, reason = "partial", (f"too shallow: bottom thigh angle {filled[b]:.0f}° "
                                         f"(needs ≤ {max_bottom_depth_deg:.0f}°)")
        elif not finite[start:end + 1].all():
            gap = float((~finite[start:end + 1]).mean())
            if gap > 0.2:
                status, reason = "partial", f"pose lost in {gap:.0%} of the rep"
        reps.append(Rep(len(reps) + 1, start, int(b), end, float(t[start]), float(t[b]), float(t[end]),
                        max(top_before, top_after), float(filled[b]), status, reason))
        prev_bottom = int(b)
    return reps


#: At the bottom of a dip, a trunk at least this far from vertical (degrees) together with knees bent less
#: than :data:`HINGE_KNEE_DEG` is a hip hinge, not a squat. On the real clips squats reach 20–51° of trunk
#: lean with 97–147° of knee flexion at the bottom; the two bar pick-ups of the landmine clip 77–84° with
#: 52–61°.
HINGE_TRUNK_DEG = 60.0
HINGE_KNEE_DEG = 80.0


#: A dip during which a foot moves along the way the person faces by more than this (thigh lengths, 90th
#: percentile of its distance from where it stood when the dip's deep half began) is a step, not a squat. On
#: the real clips a squat's feet move at most 0.38 thigh lengths (landmark noise, a heel that lifts), on the
#: renders at most 0.22; walking out of a rack, 1.3-2.4.
STEP_FOOT_TRAVEL = 0.6


def _foot_travel(feet_forward: np.ndarray, depth_deg: np.ndarray, rep: Rep) -> tuple[float, int]:
    """The larger of the two feet's travel in the deep half of ``rep`` (thigh lengths) and which foot (0 left,
    1 right). The deep half is the run of frames around the bottom below the level halfway between the rep's
    top and bottom: a step's foot moves while its thigh is up, and a rep's start can reach back over a walk
    that came before it."""
    half = rep.bottom_depth_deg + 0.5 * (rep.top_depth_deg - rep.bottom_depth_deg)
    above = ~(depth_deg <= half)  # NaN counts as above: it ends the run
    before = np.flatnonzero(above[rep.start:rep.bottom + 1])
    after = np.flatnonzero(above[rep.bottom:rep.end + 1])
    first = rep.start + int(before[-1]) if before.size else rep.start
    last = rep.bottom + int(after[0]) if after.size else rep.end
    span = feet_forward[first:last + 1]
    travel = np.full(2, np.nan)
    for k in range(2):
        foot = span[:, k]
        seen = np.flatnonzero(np.isfinite(foot))
        if seen.size >= 3:
            start = float(np.median(foot[seen[:3]]))
            travel[k] = float(np.percentile(np.abs(foot[seen] - start), 90))
    if not np.isfinite(travel).any():
        return float("nan"), 0
    k = int(np.nanargmax(travel))
    return float(travel[k]), k


def _at(values: np.ndarray, index: int, half_width: int = 2) -> float:
    window = values[max(0, index - half_width):index + half_width + 1]
    window = window[np.isfinite(window)]
    return float(np.median(window)) if len(window) else float("nan")


def split_non_squats(reps: list[Rep], trunk_inclination_deg: np.ndarray, knee_flexion_deg: np.ndarray, *,
                     depth_deg: np.ndarray | None = None, feet_forward: np.ndarray | None = None,
                     ) -> tuple[list[Rep], list[dict[str, object]]]:
    """Reps that are squats (renumbered from 1) and the dips that are not, each as
    ``{"start_time_s", "end_time_s", "kind", "reason"}``; kinds "hip hinge" and "step".

    Angles per frame in degrees: trunk inclination from vertical (forward +), knee flexion (0 straight),
    depth (the smoothed thigh angle the reps were found on). ``feet_forward`` (frames, 2: left, right) is each
    foot's position along the way the person faces, in thigh lengths (:func:`buttwink.kinematics.feet_forward`);
    without it, or without the depth, steps are not looked for."""
    trunk = np.asarray(trunk_inclination_deg, float)
    knee = np.asarray(knee_flexion_deg, float)
    feet = None if feet_forward is None or depth_deg is None else np.asarray(feet_forward, float).reshape(-1, 2)
    depth = None if depth_deg is None else np.asarray(depth_deg, float)
    squats: list[Rep] = []
    others: list[dict[str, object]] = []
    for rep in reps:
        trunk_b, knee_b = _at(trunk, rep.bottom), _at(knee, rep.bottom)
        if trunk_b >= HINGE_TRUNK_DEG and knee_b < HINGE_KNEE_DEG:
            others.append({"start_time_s": rep.start_time_s, "end_time_s": rep.end_time_s, "kind": "hip hinge",
                           "reason": f"not a squat: a hip hinge (trunk {trunk_b:.0f}° from vertical, knees bent "
                                     f"only {knee_b:.0f}°)"})
            continue
        travel, foot = _foot_travel(feet, depth, rep) if feet is not None else (float("nan"), 0)
        if travel > STEP_FOOT_TRAVEL:
            others.append({"start_time_s": rep.start_time_s, "end_time_s": rep.end_time_s, "kind": "step",
                           "reason": f"not a squat: a step (the {('left', 'right')[foot]} foot moved {travel:.1f} "
                                     f"thigh lengths)"})
            continue
        squats.append(Rep(**{**rep.as_dict(), "rep": len(squats) + 1}))
    return squats, others
