"""Back-edge check stage: is the traced back edge the person's back, frame to frame?

The back contour is the posterior edge of the person mask. When something else forms that edge (a rack
upright or a plate behind the lifter, an arm, another person), the edge does not move with the body: it
jumps from one frame to the next by more than a back can move. This stage flags, per frame, a *jump* of the
lower back's edge (the pelvis and lumbar stations) relative to the hip landmark larger than
:data:`JUMP_TRUNK_FRACTION` of the trunk length (hip to shoulder) in one frame at 30 fps (scaled to the clip's
frame rate). On the real clips, clean side views have such jumps in 0–5 % of a descent's frames; reps whose
lower back was hidden by a rack and plates, or by a plate in front of it, in 22–44 %.

The onset detector's caller uses :func:`disturbed_fraction` per rep: at :data:`UNASSESSED_FRACTION` or more of
the descent the rep is unassessed, with the reason; between :data:`TOLERATED_FRACTION` and that, its
confidence is scaled down (:func:`edge_confidence`).

Not checked yet: a long straight edge that stays put while the body moves (no clip we have shows one that the
jump check misses).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from buttwink.back_contour import BACK_STATIONS
from buttwink.kinematics import LUMBAR_REGION, PELVIS_REGION, back_contour_points
from buttwink.pose import landmark_xy

JUMP_TRUNK_FRACTION = 0.08
TOLERATED_FRACTION = 0.05
UNASSESSED_FRACTION = 0.2
LOWER_BACK = (PELVIS_REGION[0] - 1e-9 <= BACK_STATIONS) & (LUMBAR_REGION[1] + 1e-9 >= BACK_STATIONS)


def edge_jumps(table: pd.DataFrame, near_side: str, fps: float) -> np.ndarray:
    """Per frame: True where the lower back's traced edge moved, relative to the near-side hip, by more than
    :data:`JUMP_TRUNK_FRACTION` trunk lengths in 1/30 s (since the frame about 1/30 s earlier; at 30 fps or
    less, since the previous frame, scaled to 1/30 s). The first frames and frames without an edge are
    False."""
    n = len(table)
    out = np.zeros(n, bool)
    if n < 2:
        return out
    hip = landmark_xy(table, f"{near_side}_hip")
    shoulder = landmark_xy(table, f"{near_side}_shoulder")
    lengths = np.linalg.norm(shoulder - hip, axis=1)
    lengths = lengths[np.isfinite(lengths) & (lengths > 0)]
    if not len(lengths):
        return out
    trunk = float(np.median(lengths))
    edge = back_contour_points(table)[:, LOWER_BACK] - hip[:, None, :]
    # Compared over about 1/30 s: at a high frame rate (or with frames repeated to reach it) the motion of a
    # 30 fps frame lands in one of several frames, which is no jump.
    lag = max(1, int(round(fps / 30.0))) if fps > 0 else 1
    if n <= lag:
        return out
    step = np.linalg.norm(edge[lag:] - edge[:-lag], axis=2) / trunk  # (n - lag, stations)
    with np.errstate(invalid="ignore"):
        worst = np.nanmax(np.where(np.isfinite(step), step, -np.inf), axis=1)
    per_30fps = worst * (fps / lag / 30.0) if fps > 0 else worst
    out[lag:] = np.isfinite(per_30fps) & (per_30fps > JUMP_TRUNK_FRACTION)
    return out


def disturbed_fraction(jumps: np.ndarray, start: int, bottom: int) -> float:
    """Share of a rep's descent frames (``start..bottom``) whose lower-back edge jumped."""
    seg = np.asarray(jumps, bool)[start:bottom + 1]
    return float(seg.mean()) if seg.size else 0.0


def edge_confidence(fraction: float) -> float:
    """Factor (0..1) for a rep's confidence: 1 up to :data:`TOLERATED_FRACTION` of disturbed descent frames,
    falling linearly to 0 at :data:`UNASSESSED_FRACTION`."""
    span = UNASSESSED_FRACTION - TOLERATED_FRACTION
    return float(np.clip(1.0 - (fraction - TOLERATED_FRACTION) / span, 0.0, 1.0))


def edge_reason(fraction: float) -> str:
    return (f"the traced back edge jumps in {fraction:.0%} of the descent: it is not the back's own edge (a rack, "
            "a plate, an arm or another person in the way)")
