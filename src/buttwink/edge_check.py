"""Back-edge check stage: is the traced back edge the person's back, frame to frame?

The back contour is the posterior edge of the person mask. When something else forms that edge (a rack
upright or a plate behind the lifter, an arm, another person, a door frame or a wall corner, a loose shirt),
the edge does not move with the body, or it stands off the body. Three kinds of frames are flagged:

- a *jump* (:func:`edge_jumps`): the lower back's edge (the pelvis and lumbar stations) moves, relative to
  the hip landmark, by more than :data:`JUMP_TRUNK_FRACTION` of the trunk length (hip to shoulder) in one
  frame at 30 fps (scaled to the clip's frame rate). On the real clips, clean side views have such jumps in
  0–5 % of a descent's frames; reps whose lower back was hidden by a rack and plates, or by a plate in front
  of it, in 22–44 %.
- a *static edge* (:func:`static_edges`): :data:`STATIC_RUN_STATIONS` or more contiguous lower-back edge
  points lie on a straight image line that stays where it is while the body (the trunk axis at those
  stations) moves across it by :data:`STATIC_CROSSING_TRUNK` trunk lengths or more within about a second:
  the mask has bled onto a rack upright, a door frame or a wall edge, and the march backwards ends on that.
  The points may slide along the line (each station meets it at its own height); only motion across it
  tells the object from a back that moves along itself. A body that stands still is never flagged. On the
  real clips no descent reaches the threshold (clean ones at most 0.12 trunk lengths; the rack clips at
  most 0.13: their rack and plates give jumps, not a fixed straight edge).

- an *overhang* (:func:`overhangs`): going down the lower back, the edge steps in towards the trunk axis by
  :data:`OVERHANG_TRUNK` trunk lengths or more within :data:`OVERHANG_SPAN` trunk lengths. Something hangs
  off the back there, a loose shirt's hem or a hand on the hip, and the edge above the step is that, not the
  back. On the renders, a loose T-shirt gives such a step in a median 56 % of a descent's frames, hands on the
  hips in tight clothes in 0–77 %, tight clothes with the arms elsewhere in none; on the real clips at most
  11 % (design grids and clips in the validation log, 2026-12-04).

The onset detector's caller uses :func:`edge_assessment` per rep: the share of the descent's frames with
any flag. At :data:`UNASSESSED_FRACTION` or more the rep is unassessed, with a reason naming the cause;
between :data:`TOLERATED_FRACTION` and that, its confidence is scaled down (:func:`edge_confidence`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from buttwink.back_contour import BACK_STATIONS
from buttwink.kinematics import LUMBAR_REGION, PELVIS_REGION, back_contour_points
from buttwink.pose import landmark_xy
from buttwink.view import trunk_length_px

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


# ---------------------------------------------------------------------------------------------------------
# A straight edge that stays put in the picture while the body moves past it.
#
# Geometry. The tracer marches from the trunk axis straight backwards; when the mask has bled onto a rack
# upright or a door frame behind the lifter, the march ends on that object's far edge. Those points lie on
# one fixed image line, but they are not fixed points: each station's ray meets the line at the station's
# own height, so the points slide along the line as the body goes down. Sliding along a line is also what a
# real back does when it moves along itself (an upright lumbar going straight down), so the check looks at
# the one motion a back's edge cannot skip: *across* the line. The back's edge sits a body's depth behind the
# trunk axis; if the axis, at the stations whose edge is on the line, moves across the line while the edge
# stays on it, the body's depth there would have changed by that much. A back does not change its depth by a
# fifth of the trunk length during a descent; a door frame does not move with the body.

#: Trunk lengths an edge point may lie from the line and still be on it: the mask's edge wanders by 1–2 px
#: and the tracer's rays step 1 px, which is 0.01–0.02 trunk lengths for a trunk of 100–200 px (the real
#: clips); 0.03 keeps a straight object's run whole. A run of the back that turns by more than about 14°
#: (0.03 / 0.125 rad at the ends of its 0.25 trunk lengths) leaves the line it was on.
STATIC_TOLERANCE_TRUNK = 0.03
#: ... but never less than this many pixels (a small picture's edge is placed to about a pixel).
STATIC_TOLERANCE_MIN_PX = 1.5
#: Contiguous lower-back stations (0.05 trunk lengths apart) that must lie on the line: 6 stations span
#: 0.25 trunk lengths, most of one region's 7 stations, enough to set that region's fitted line. A shorter
#: run is too easily straight on a real back.
STATIC_RUN_STATIONS = 6
#: Trunk lengths the body (the trunk axis at the stations on the line) must move across the line while the
#: run stays on it. On the real clips, clean side-view descents reach at most 0.12 (28 reps, 7 clips: the
#: body's depth changes a little with posture and the landmarks wobble); a squat's hips travel 0.12–0.5
#: trunk lengths backwards over a descent, so an upright the lifter squats past is caught unless the body
#: barely moves across it (then its edge is not told from the body's by motion).
STATIC_CROSSING_TRUNK = 0.2
#: Half-width (s) of the window of frames around each frame in which the line is followed: about one
#: descent, so the body's travel past a fixed object shows within it.
STATIC_WINDOW_S = 1.0
#: Longest break (s) in the frames in which the run stays on the line: a fixed object's edge holds frame
#: after frame (a frame or two lost to the mask's noise); a back that meets the line again after leaving it
#: is a coincidence of two postures, not something fixed.
STATIC_MAX_GAP_S = 0.1
#: Fewest frames (s, at least 3 frames) in which the run must lie on the line.
STATIC_MIN_S = 0.2


def static_edge_crossing(table: pd.DataFrame, fps: float) -> np.ndarray:
    """Per frame: how far the body moved across a fixed image line that holds this frame's lower-back edge,
    in trunk lengths (hip to shoulder midpoint, the clip's median; >= 0, NaN where the frame has no edge).

    The lines are those through :data:`STATIC_RUN_STATIONS` contiguous lower-back edge points of this frame
    that are straight to :data:`STATIC_TOLERANCE_TRUNK`. Each is followed through the unbroken stretch of
    frames (within :data:`STATIC_WINDOW_S`, breaks up to :data:`STATIC_MAX_GAP_S`) in which the edge keeps
    such a run on it; over that stretch the trunk axis, at the stations whose edge is on the line, moves
    across it (signed distance to the line, 5th to 95th percentile). The largest of these, over the
    frame's lines, is returned; 0 where no line holds :data:`STATIC_MIN_S` of frames. Pixel coordinates;
    ``fps`` in frames per second (30 if unknown)."""
    n = len(table)
    out = np.full(n, np.nan)
    if n < 3:
        return out
    hip = (landmark_xy(table, "left_hip") + landmark_xy(table, "right_hip")) / 2
    shoulder = (landmark_xy(table, "left_shoulder") + landmark_xy(table, "right_shoulder")) / 2
    trunk = trunk_length_px(table)
    if not np.isfinite(trunk) or trunk <= 0:
        return out
    tol = max(STATIC_TOLERANCE_TRUNK * trunk, STATIC_TOLERANCE_MIN_PX)
    run = STATIC_RUN_STATIONS
    edge = back_contour_points(table)[:, LOWER_BACK]  # (n, m, 2) pixels
    # The trunk axis at each station: where the tracer started marching backwards to the edge.
    axis = hip[:, None, :] + BACK_STATIONS[LOWER_BACK][None, :, None] * (shoulder - hip)[:, None, :]
    m = edge.shape[1]
    if m < run:
        return out
    rate = fps if fps > 0 else 30.0
    half = max(1, int(round(STATIC_WINDOW_S * rate)))
    min_frames = max(3, int(round(STATIC_MIN_S * rate)))
    gap = max(1, int(round(STATIC_MAX_GAP_S * rate)))
    starts = np.arange(m - run + 1)
    idx = starts[:, None] + np.arange(run)[None, :]  # (k, run) station indices of each candidate run
    for t in range(n):
        runs = edge[t][idx]  # (k, run, 2)
        finite = np.isfinite(runs).all(axis=(1, 2))
        if not finite.any():
            continue
        runs = runs[finite]
        centre = runs.mean(axis=1)
        _, _, vt = np.linalg.svd(runs - centre[:, None, :], full_matrices=False)
        normal = vt[:, 1, :]  # (k, 2) unit normal of each run's total-least-squares line
        resid = np.abs(np.einsum("krc,kc->kr", runs - centre[:, None, :], normal)).max(axis=1)
        straight = resid <= tol
        if not straight.any():
            out[t] = 0.0
            continue
        centre, normal = centre[straight], normal[straight]
        offset = np.einsum("kc,kc->k", centre, normal)[:, None, None]
        lo, hi = max(0, t - half), min(n, t + half + 1)
        with np.errstate(invalid="ignore"):
            near = np.abs(np.einsum("wmc,kc->kwm", edge[lo:hi], normal) - offset) <= tol  # (k, w, m); NaN: off
        # A run of ``run`` contiguous stations on the line: a moving sum of ``run`` over the stations.
        csum = np.concatenate([np.zeros((*near.shape[:2], 1)), np.cumsum(near, axis=2)], axis=2)
        on_line = ((csum[:, :, run:] - csum[:, :, :-run]) >= run).any(axis=2)  # (k, w)
        # Where the body is, across the line, at the stations whose edge is on it (signed pixels).
        body = np.einsum("wmc,kc->kwm", axis[lo:hi], normal) - offset
        counted = near & np.isfinite(body)
        with np.errstate(invalid="ignore", divide="ignore"):
            body = np.where(counted, body, 0.0).sum(axis=2) / counted.sum(axis=2)  # (k, w); NaN: none
        best = 0.0
        for c in range(len(normal)):
            keep = _block_around(on_line[c], t - lo, gap)
            values = body[c][keep]
            values = values[np.isfinite(values)]
            if len(values) >= min_frames:
                p5, p95 = np.percentile(values, [5, 95])
                best = max(best, float(p95 - p5) / trunk)
        out[t] = best
    return out


def _block_around(flags: np.ndarray, i: int, gap: int) -> np.ndarray:
    """The stretch of ``flags`` (bool) that holds index ``i`` (True) with breaks of at most ``gap`` False."""
    keep = np.zeros(len(flags), bool)
    if not flags[i]:
        return keep
    hits = np.flatnonzero(flags)
    pos = int(np.searchsorted(hits, i))
    breaks = np.flatnonzero(np.diff(hits) > gap + 1)
    first = int(breaks[breaks < pos][-1]) + 1 if (breaks < pos).any() else 0
    last = int(breaks[breaks >= pos][0]) if (breaks >= pos).any() else len(hits) - 1
    keep[hits[first:last + 1]] = True
    return keep


def static_edges(table: pd.DataFrame, fps: float) -> np.ndarray:
    """Per frame: True where the lower back's traced edge is a straight line that stays put in the picture
    while the body moves across it by :data:`STATIC_CROSSING_TRUNK` trunk lengths or more
    (:func:`static_edge_crossing`): a rack upright, a door frame or a wall edge, not the back. A body that
    does not move (standing) is never flagged: nothing tells a fixed edge from its back then."""
    crossing = static_edge_crossing(table, fps)
    return np.isfinite(crossing) & (crossing >= STATIC_CROSSING_TRUNK)


def static_reason(fraction: float) -> str:
    """One-line reason for a rep whose lower-back edge stayed put in ``fraction`` (0..1) of its descent."""
    return (f"the traced back edge stays put in the picture while the body moves past it in {fraction:.0%} of "
            "the descent: a rack upright, a door frame or a wall edge, not the back")


def edge_assessment(jumps: np.ndarray, static: np.ndarray, start: int, bottom: int,
                    overhang: np.ndarray | None = None) -> tuple[float, str]:
    """(share 0..1 of a rep's descent frames ``start..bottom`` whose lower-back edge jumped, stayed put or
    had something hanging off it, one-line reason naming the largest cause first, then the others; '' when
    none occurred). The share goes to :func:`edge_confidence` and is compared with
    :data:`UNASSESSED_FRACTION` like the jumps' alone."""
    jumps, static = np.asarray(jumps, bool), np.asarray(static, bool)
    overhang = np.zeros_like(jumps) if overhang is None else np.asarray(overhang, bool)
    anything = disturbed_fraction(jumps | static | overhang, start, bottom)
    if not anything:
        return 0.0, ""
    causes = [(disturbed_fraction(flags, start, bottom), first, also) for flags, first, also in (
        (jumps, edge_reason, "it also jumps in {:.0%}"),
        (static, static_reason, "it also stays put while the body moves in {:.0%}"),
        (overhang, overhang_reason, "something also hangs off it in {:.0%}"),
    )]
    causes = [c for c in sorted(causes, key=lambda c: -c[0]) if c[0] > 0]
    share, first, _ = causes[0]
    return anything, "; ".join([first(share)] + [also.format(f) for f, _, also in causes[1:]])


# ---------------------------------------------------------------------------------------------------------
# Something hanging off the lower back.
#
# A loose T-shirt hangs from the shoulder blades and the buttocks and bridges the lower back; below its hem
# the silhouette steps in to the trousers. A hand on the hip makes the same step with the forearm above it.
# The march backwards from the axis then ends on the fabric or the arm, and the pelvis and lumbar lines are
# theirs. A back's own edge turns gradually: tight clothes, whatever the body shape, keep the step below 0.1
# trunk lengths on the renders, so a step that size is not the back.

#: Trunk lengths the edge must step in by, going down, for a frame to be flagged.
OVERHANG_TRUNK = 0.10
#: Trunk lengths along the axis over which the step is read (two stations 0.05 apart).
OVERHANG_SPAN = 0.10
#: Stations (trunk lengths above the hips) between which the step is looked for: the buttocks' top to the
#: lower lumbar spine, where a hem or a hand on the hip sits.
OVERHANG_STATIONS = (-0.2, 0.3)


def edge_depths(table: pd.DataFrame) -> np.ndarray:
    """(frames, stations): how far each traced back-edge point lies behind the trunk axis (the line through
    the hip and shoulder midpoints the tracer used), in trunk lengths; NaN where there is no edge point."""
    hip = (landmark_xy(table, "left_hip") + landmark_xy(table, "right_hip")) / 2
    shoulder = (landmark_xy(table, "left_shoulder") + landmark_xy(table, "right_shoulder")) / 2
    axis = shoulder - hip
    length = np.linalg.norm(axis, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = axis / length[:, None]
        rel = back_contour_points(table) - hip[:, None, :]
        across = np.abs(rel[..., 0] * unit[:, None, 1] - rel[..., 1] * unit[:, None, 0])
        return across / length[:, None]


def overhang_steps(table: pd.DataFrame) -> np.ndarray:
    """Per frame: the largest step (trunk lengths) by which the back edge comes in towards the trunk axis,
    going down, over :data:`OVERHANG_SPAN` between the :data:`OVERHANG_STATIONS`. Positive when a station
    sticks out further than the one that span below it. NaN when no pair of stations has an edge."""
    depths = edge_depths(table)
    lo, hi = OVERHANG_STATIONS
    stations = np.flatnonzero((lo - 1e-9 <= BACK_STATIONS) & (hi + 1e-9 >= BACK_STATIONS))
    gap = int(round(OVERHANG_SPAN / float(np.median(np.diff(BACK_STATIONS)))))
    lower = stations[stations + gap <= stations[-1]]
    steps = depths[:, lower + gap] - depths[:, lower]
    finite = np.isfinite(steps)
    best = np.max(np.where(finite, steps, -np.inf), axis=1, initial=-np.inf)
    return np.where(finite.any(axis=1), best, np.nan)


def overhangs(table: pd.DataFrame) -> np.ndarray:
    """Per frame: True where something hangs off the lower back (:func:`overhang_steps` of at least
    :data:`OVERHANG_TRUNK`): a loose shirt's hem or a hand on the hip, so the traced edge is not the back."""
    steps = overhang_steps(table)
    return np.isfinite(steps) & (steps >= OVERHANG_TRUNK)


def overhang_reason(fraction: float) -> str:
    """One-line reason for a rep whose lower-back edge had something hanging off it in ``fraction`` (0..1) of
    its descent."""
    return (f"something hangs off the lower back in {fraction:.0%} of the descent (the edge steps in below it: "
            "a loose shirt's hem or a hand on the hip): the traced edge is not the back")
