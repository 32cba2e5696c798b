"""Onset detector.

The wink signal (``y``, degrees, tuck +: by default the pelvis turned under the trunk, or the posterior pelvic
tilt; "tilt" below stands for either) is read against how far the thigh has descended,
``x = top depth - depth`` (degrees of thigh angle), first averaged in 1° bins of ``x`` so that the frames
held at the bottom (or a slow part of the descent) count once, not once per frame. Two models are fitted:

* **Whether, and how much**: a *hinge* on the rep's own linear trend::

      y = a + b * x + c * max(0, x - x0) ** p,      c >= 0,  p in {1, 2}

  ``a + b x`` is the rep's descent trend (the pelvis tilts forward with the trunk as people go down; that
  is not a wink); the departure at the bottom, ``D = c * (x_bottom - x0) ** p``, is the posterior tilt
  beyond the trend. It is fitted on the descent and, mirrored, on the ascent (the tuck undoes itself on the
  way up), and the two looks are averaged: their noise is partly independent, so the mean is steadier
  than either. The mean is turned into a tuck by the signal's calibration (:data:`CALIBRATIONS`: the silhouette
  reads about half the tuck under the trunk); a rep winks when that tuck ``>= threshold``, and ``wink_deg`` is
  the tuck.
* **Where it begins**: the same hinge with a concave shape allowed (``p`` in {0.5, 1, 2}: a pelvis can
  tuck quickly and then level off), on a trend that may *bend once* earlier (``+ e * max(0, x - x1)``,
  ``x1 <= x0 - 4°``, either way) when the Bayesian information criterion says the bend earns its two
  parameters. A silhouette's pelvis line often stops following the trend in deep hip flexion (the buttock
  rolls into the traced edge); a straight trend then sees a slow early "wink", whereas the bend absorbs it
  and leaves ``x0`` at the corner where the tuck starts. No single corner is picked: every fitted model
  (each ``x0``, ``x1``, ``p``) is weighted by ``exp(-ΔBIC / 2)``, each family (straight, bent) sharing an
  equal prior over its grid, and the onset is the weighted mean of the models' tuck points (below), so
  that two corners the data fit about equally well give an onset between them, not whichever the noise
  favours. Both the pelvis and the spine-to-pelvis flexion (``lumbar_flexion_deg``) are read when the
  flexion's own departure is within 50 % of the pelvis's (the thorax kept its path, so the flexion's corner
  is the tuck's, and it has no stall), and their onsets are averaged by inverse variance (each the spread
  of its models' tuck points under those weights, at least :data:`ONSET_SD_FLOOR_DEG`). Otherwise (arms or
  a bar behind the upper back, an oblique view) the thorax line is disturbed and the pelvis alone locates
  the onset.
  Fitted on the descent only; ``x0``, never above ``MAX_ONSET_DEPTH_DEG`` of thigh angle, is a corner, and
  a model's tuck point is where its fitted tuck has reached ``ONSET_TUCK_DEG`` (2°) beyond the trend: a
  measurable tuck rather than a corner that a slow start leaves to the noise.

All fits read despiked but unfiltered series: a low-pass would round the corner and move it earlier.
The confidence is ``2 * Phi(|D - threshold| / se) - 1`` (how surely D lies on its side of the threshold),
with ``se`` from both fits' residual noise, the disagreement between descent and ascent and a clip-level
error the rep cannot show (:data:`CLIP_SIZE_ERROR_DEG`), times the fraction of descent frames with a valid
signal. Onset depth is ``top - x_tuck`` (the 2°-tuck point); onset
time is when the smoothed depth first reaches it. The onset range (``onset_depth_low_deg`` ..
``onset_depth_high_deg``) spans the tuck points of every model of the best one's family whose fit is
nearly as good as the best (profile likelihood, :data:`ONSET_RANGE_LOGLIK`), over both signals when both
locate the onset (their ends averaged like the onsets), and always holds the onset: a wide range says
the descent does not pin the onset down. The range reported (:func:`with_depth_reading_margin`, after
pooling) adds the thigh angle's own reading error, :data:`DEPTH_READING_MARGIN_DEG` at each end.

The onsets of one clip's reps are then read together (:func:`pool_onsets`): a person's onset varies little
between the reps of a set, so a rep whose descent leaves its onset uncertain (a wide range) is moved toward
the other reps' onsets, and one whose descent pins it down keeps its own (``rep_onset_depth_deg`` keeps every
rep's own reading).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
from scipy import stats

#: Shapes of the departure in the decision fit: linear, convex (slow start).
TILT_POWERS = (1.0, 2.0)
#: Shapes allowed when locating the onset: concave (fast start, then levelling off), linear, convex.
ONSET_POWERS = (0.5, 1.0, 2.0)
#: Degrees of descent the trend needs before an onset can be placed.
MIN_TREND_SPAN_DEG = 15.0
#: Bin width (degrees of thigh descent) for averaging frames before the fits.
BIN_DEG = 1.0
#: An onset is not placed above this thigh angle (degrees above horizontal): posterior tilt that starts
#: while the thigh is still that upright is the descent's own posture, not the bottom-of-squat tuck.
MAX_ONSET_DEPTH_DEG = 50.0
#: The trend's free bend lies at least this far (degrees) before the onset, and this far after the top.
BEND_GAP_DEG = 4.0
BEND_START_DEG = 8.0
#: The flexion helps locate the onset when its departure is within this fraction of the pelvis's. Since the
#: two onsets are averaged by how well each is pinned down, a flexion that departs by a little more or less
#: than the pelvis can join in: on the design renders, 0.45-0.7 left the fewest onsets outside ±8° (7 of 93,
#: against 9 at 0.3 and 8 at 0.8 and 1.0). 0.5 is at the cautious end of that range: at 0.6 a thorax line
#: disturbed by the arms, departing by 1.57 times the pelvis's with its own corner, joined and moved the
#: onset by 20° (test_a_bend_in_the_trend_does_not_pull_the_onset_early).
FLEXION_AGREEMENT = 0.5
#: Smallest spread (degrees) credited to one signal's onset when the pelvis's and the flexion's are averaged:
#: a signal whose models all agree must not take the whole weight on that alone.
ONSET_SD_FLOOR_DEG = 1.0
#: The onset is where the fitted tuck first reaches this many degrees beyond the trend: its corner ``x0``
#: moved by ``(x_bottom - x0) * (ONSET_TUCK_DEG / D) ** (1 / p)``. For a slow (convex) start, whose corner
#: the data barely place, that is where the tuck becomes measurable; for a sharp corner it is within 1°.
ONSET_TUCK_DEG = 2.0
#: The onset range holds the tuck points of the models with ``n log(SSE / SSE_min)`` at most this. It is 3x the
#: 95 % chi-square point of one parameter (3.84): neighbouring bins' residuals are correlated (the contour's
#: errors vary smoothly with depth), so the plain bound is far too narrow.
ONSET_RANGE_LOGLIK = 11.5
#: A descent whose fit range (before :data:`DEPTH_READING_MARGIN_DEG`) is wider than this (degrees of thigh
#: angle) does not pin the onset down: the onset is reported as uncertain (:func:`onset_uncertain`).
WIDE_ONSET_RANGE_DEG = 16.0
#: The thigh angle is itself read with an error the fits cannot see (MediaPipe's hip and knee points, mostly
#: shared by a clip's reps): degrees added to each end of the reported onset range, after pooling
#: (:func:`with_depth_reading_margin`). On the design renders of both bodies (mannequin seeds from 1000,
#: human layout 2 from 7000; 102 located onsets) the depth read at the true onset moment was off by at most
#: 5.3° on 90 % of them, and the fit ranges held the true onset on 66 % (mannequin) and 70 % (human); with
#: 5° added, on 94 % together.
DEPTH_READING_MARGIN_DEG = 5.0
#: Error of the measured wink size shared by every rep of a clip (how the silhouette reads this body from
#: this view), degrees, added in quadrature to the rep's own standard error for the confidence. The rep's
#: fits cannot see it: on the design renders the clip-mean size error spread 1.8° against 1.2° between
#: reps of one clip, and 1.0° gave the best-calibrated confidence (log loss over 144 reps).
CLIP_SIZE_ERROR_DEG = 1.0
#: How far one rep's true onset may stray from the set's (SD, degrees of thigh angle) when the reps' onsets are
#: pooled (:func:`pool_onset_depths`). A person's onset behaves like a personal hip-flexion limit (Mata et al.
#: 2021), so it varies by a few degrees between the reps of one set. On the design renders (two reps a clip,
#: the same onset in both) 2-4° left 4 of 92 onsets outside ±8° against 9 unpooled, 6° left 7.
ONSET_REP_SPREAD_DEG = 3.0


@dataclass(frozen=True)
class Calibration:
    """How a wink signal's departure at the bottom reads a tuck, in degrees: ``departure = offset_deg + gain *
    tuck`` on average. :meth:`tuck` inverts it; the wink threshold and the reported sizes are tucks."""

    offset_deg: float = 0.0
    gain: float = 1.0
    scatter_deg: float = 0.0  # SD of departures about the line (signal units): an error no single rep can show

    def tuck(self, departure_deg: float) -> float:
        """The tuck (degrees) a departure (degrees, in the signal's own units) stands for, never below 0."""
        return max(0.0, (departure_deg - self.offset_deg) / self.gain)

    def departure(self, tuck_deg: float) -> float:
        """The departure (degrees, the signal's units) a tuck of ``tuck_deg`` reads as on average."""
        return self.offset_deg + self.gain * tuck_deg


#: Each wink signal's calibration, fitted by least squares of the departure on the true tuck over the wink
#: reps (true tucks 5-25°) of both bodies' design renders, each body weighted equally: the mannequin's 24
#: clips (seeds from 1000) and the human body's tight-clothed clips (seeds from 5000; the loose shirt hides
#: the back and is left out). The pelvis line's posterior tilt reads the tuck one to one on the mannequin and
#: is not calibrated (on the human body it also reads the trunk easing back near the bottom). The pelvis
#: under the trunk reads about half the tuck on both bodies alike (the pelvis line is the soft tissue's
#: outline, which turns less than the bones) plus about 3.5° at the bottom of every rep, tuck or not;
#: fitted on each body alone, the offsets are 3.0° and 4.0° and the gains 0.56 and 0.53. Its scatter about
#: the line (1.8° on the mannequin, 3.0° on the human body, 2.4° pooled) enters each rep's confidence.
CALIBRATIONS: dict[str, Calibration] = {
    "posterior_pelvic_tilt_deg": Calibration(),
    "trunk_pelvis_flexion_deg": Calibration(offset_deg=3.47, gain=0.552, scatter_deg=2.4),
}


@dataclass
class Onset:
    """Onset-detector result for one rep. Depths and angles in degrees, times in seconds."""

    wink: bool
    wink_deg: float  # the tuck at the bottom when wink, else 0
    departure_deg: float  # the tuck at the bottom read from the signal's departure (calibrated), descent and ascent
    confidence: float  # 0..1
    descent_departure_deg: float = float("nan")  # the wink signal beyond its trend, its own units (uncalibrated)
    ascent_departure_deg: float = float("nan")  # NaN when the ascent could not be read
    onset_frame: int | None = None
    onset_time_s: float | None = None
    onset_depth_deg: float | None = None
    onset_depth_low_deg: float | None = None  # deepest onset depth the descent fits about as well
    onset_depth_high_deg: float | None = None  # shallowest such depth
    onset_hip_flexion_deg: float | None = None
    rep_onset_depth_deg: float | None = None  # this rep's own reading, before pooling with the set's other reps
    onset_set_weight: float = 0.0  # how much the other reps moved the onset (0 = its own reading, 1 = theirs)
    # The descent trend the decision's departure is measured from, as a line in the thigh angle:
    # signal = trend_offset_deg + trend_slope * depth_deg (degrees; slope in degrees per degree)
    trend_offset_deg: float = float("nan")
    trend_slope: float = float("nan")
    model: str = ""
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def bin_by_descent(x: np.ndarray, y: np.ndarray, width: float = BIN_DEG) -> tuple[np.ndarray, np.ndarray]:
    """Means of ``x`` and ``y`` in bins of ``width`` degrees of ``x`` (finite pairs only), sorted by ``x``."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = np.asarray(x, float)[ok], np.asarray(y, float)[ok]
    if x.size == 0:
        return x, y
    key = np.floor(x / width).astype(np.int64)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return np.bincount(inverse, x) / counts, np.bincount(inverse, y) / counts


def _x0_grid(x: np.ndarray, min_trend_span: float, min_tail_span: float, min_tail_points: int, x0_min: float,
             step: float) -> np.ndarray:
    grid = np.arange(max(x.min() + min_trend_span, x0_min), x.max() - min_tail_span, step)
    return np.array([x0 for x0 in grid if np.count_nonzero(x > x0) >= min_tail_points])


def fit_onset(x: np.ndarray, y: np.ndarray, *, powers: tuple[float, ...] = TILT_POWERS,
              min_trend_span: float = MIN_TREND_SPAN_DEG, min_tail_span: float = 3.0, min_tail_points: int = 4,
              x0_min: float = -np.inf, step: float = 0.5) -> dict[str, float] | None:
    """Best hinge on a linear trend of ``y`` against ``x`` (degrees descended): x0, power, departure, se, sse.

    The trend needs ``min_trend_span`` degrees of descent before the onset, and the departure at least
    ``min_tail_span`` degrees and ``min_tail_points`` samples after it, so one noisy sample at the bottom
    cannot make a wink. Without any departure toward posterior tilt (``c >= 0``) the trend alone is
    returned, with departure 0.
    """
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 8 or np.ptp(x) < 2 * min_trend_span:
        return None
    grid = [(x0, p) for p in powers for x0 in _x0_grid(x, min_trend_span, min_tail_span, min_tail_points, x0_min,
                                                          step)]
    if not grid:
        return None
    x0s, ps = (np.array(v, float) for v in zip(*grid, strict=True))
    k, sse, _ = _batched_hinges(x, y, x0s, ps, None)
    x0, power = (float(x0s[k]), float(ps[k])) if np.isfinite(sse) else (float(x0s[0]), float(ps[0]))
    design = np.column_stack([np.ones_like(x), x, np.maximum(0.0, x - x0) ** power])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    if not np.isfinite(sse) or coef[2] < 0:  # no departure toward posterior tilt: the trend alone
        trend, *_ = np.linalg.lstsq(design[:, :2], y, rcond=None)
        coef = np.array([trend[0], trend[1], 0.0])
    resid = y - design @ coef
    sse = float(resid @ resid)
    try:
        cov = sse / max(1, len(x) - 4) * np.linalg.inv(design.T @ design)
        se_c = float(np.sqrt(max(cov[2, 2], 0.0)))
    except np.linalg.LinAlgError:
        se_c = float("inf")
    lever = (float(x.max()) - x0) ** power
    return {"x0": x0, "power": power, "departure": float(coef[2] * lever), "se": float(se_c * lever),
            "sse": sse, "slope": float(coef[1]), "intercept": float(coef[0])}


def _hinge_fits(x: np.ndarray, y: np.ndarray, x0s: np.ndarray, ps: np.ndarray, x1s: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares fits of many hinge models at once (one per row of ``x0s``/``ps``/``x1s``; the bend
    column is left out when ``x1s`` is None). Returns every model's SSE (inf where not admissible: singular,
    or a departure toward anterior tilt) and its hinge departure at the bottom."""
    k, n = len(x0s), len(x)
    columns = [np.ones((k, n)), np.broadcast_to(x, (k, n))]
    if x1s is not None:
        columns.append(np.maximum(0.0, x[None, :] - x1s[:, None]))
    columns.append(np.maximum(0.0, x[None, :] - x0s[:, None]) ** ps[:, None])
    design = np.stack(columns, axis=2)
    gram = design.transpose(0, 2, 1) @ design
    rhs = design.transpose(0, 2, 1) @ y
    solvable = np.abs(np.linalg.det(gram)) > 1e-9
    coef = np.zeros((k, design.shape[2]))
    coef[solvable] = np.linalg.solve(gram[solvable], rhs[solvable][..., None])[..., 0]
    sse = np.sum((y[None, :] - np.einsum("knj,kj->kn", design, coef)) ** 2, axis=1)
    departure = coef[:, -1] * (x.max() - x0s) ** ps
    sse[~solvable | (coef[:, -1] < 0)] = np.inf
    return sse, departure


def _batched_hinges(x: np.ndarray, y: np.ndarray, x0s: np.ndarray, ps: np.ndarray, x1s: np.ndarray | None
                    ) -> tuple[int, float, float]:
    """The best of :func:`_hinge_fits`: its index, SSE (inf: none admissible) and departure."""
    sse, departure = _hinge_fits(x, y, x0s, ps, x1s)
    best = int(np.argmin(sse))
    return best, float(sse[best]), float(departure[best])


def _tuck_points(x0s: np.ndarray, ps: np.ndarray, departures: np.ndarray, x_end: float) -> np.ndarray:
    """Where each hinge's fitted tuck reaches :data:`ONSET_TUCK_DEG` beyond its trend (degrees descended):
    ``x0 + (x_end - x0) * (ONSET_TUCK_DEG / D) ** (1 / p)``, never past ``x_end``; ``x0`` itself when the
    whole departure ``D`` is smaller than that."""
    reach = np.where(departures > ONSET_TUCK_DEG,
                     (ONSET_TUCK_DEG / np.maximum(departures, ONSET_TUCK_DEG)) ** (1.0 / ps), 0.0)
    return np.minimum(x0s + (x_end - x0s) * reach, x_end)


def locate_onset(x: np.ndarray, y: np.ndarray, *, powers: tuple[float, ...] = ONSET_POWERS,
                 min_trend_span: float = MIN_TREND_SPAN_DEG, x0_min: float = -np.inf, step: float = 1.0,
                 bend_step: float = 2.0) -> dict[str, float] | None:
    """Where ``y`` leaves its trend toward posterior tilt, from hinges ``a + b x + c max(0, x - x0) ** p``
    (``c >= 0``) and the same with one bend in the trend, ``+ e max(0, x - x1)`` (``e`` either sign,
    ``x1 <= x0 - BEND_GAP_DEG``), least squares over the grid of ``x0``, ``x1`` and ``p``.

    Every model is weighted by its Bayesian information criterion, ``exp(-(BIC - BIC_min) / 2)`` (a bend
    costs two parameters), and the onset ``x_tuck`` is the weighted mean of the models' 2°-tuck points
    (:data:`ONSET_TUCK_DEG`): when several corners fit about equally well, the onset sits between them
    instead of jumping to whichever one the noise favours. ``x_tuck_lo`` .. ``x_tuck_hi`` spans the tuck
    points of every model within :data:`ONSET_RANGE_LOGLIK` of the best, and ``x_tuck_sd`` is the weighted
    spread of the tuck points around ``x_tuck`` (degrees). Also returned: the best model's
    ``x0``, ``x1`` (NaN without a bend), ``power``, ``departure`` and ``bent``, or None when the descent is
    too short."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 8 or np.ptp(x) < 2 * min_trend_span:
        return None
    plain = [(x0, p) for p in powers for x0 in _x0_grid(x, min_trend_span, 3.0, 4, x0_min, step)]
    if not plain:
        return None
    bent = [(x0, x1, p) for x0, p in plain for x1 in np.arange(x.min() + BEND_START_DEG, x0 - BEND_GAP_DEG,
                                                                    bend_step)]
    x0s, ps = (np.array(v, float) for v in zip(*plain, strict=True))
    x1s = np.full(len(x0s), np.nan)
    sses, deps = _hinge_fits(x, y, x0s, ps, None)
    n = len(x)
    penalty = np.zeros(len(x0s))
    if bent:
        bx0, bx1, bp = (np.array(v, float) for v in zip(*bent, strict=True))
        sses_b, deps_b = _hinge_fits(x, y, bx0, bp, bx1)
        x0s, x1s, ps = np.concatenate([x0s, bx0]), np.concatenate([x1s, bx1]), np.concatenate([ps, bp])
        sses, deps = np.concatenate([sses, sses_b]), np.concatenate([deps, deps_b])
        penalty = np.concatenate([penalty, np.full(len(bx0), 2 * np.log(n))])
    fit = np.isfinite(sses)
    if not fit.any():
        return None
    x0s, x1s, ps, sses, deps, penalty = (v[fit] for v in (x0s, x1s, ps, sses, deps, penalty))
    delta = n * np.log(np.maximum(sses, 1e-12)) + penalty
    delta -= delta.min()
    k = int(np.argmin(delta))
    tucks = _tuck_points(x0s, ps, deps, float(x.max()))
    # Each family (straight, bent) gets the same prior, shared evenly among its grid points: the bent family
    # has many more grid points and would otherwise outvote the straight one by numbers alone.
    weights = np.exp(-delta / 2)
    is_bent = np.isfinite(x1s)
    for family in (is_bent, ~is_bent):
        weights[family] /= max(int(family.sum()), 1)
    x_tuck = float(np.average(tucks, weights=weights))
    x_tuck_sd = float(np.sqrt(np.average((tucks - x_tuck) ** 2, weights=weights)))
    near_best = (delta <= ONSET_RANGE_LOGLIK) & (is_bent == is_bent[k])
    return {"x0": float(x0s[k]), "x1": float(x1s[k]), "power": float(ps[k]), "departure": float(deps[k]),
            "bent": bool(is_bent[k]), "x_tuck": x_tuck, "x_tuck_lo": min(float(tucks[near_best].min()), x_tuck),
            "x_tuck_hi": max(float(tucks[near_best].max()), x_tuck), "x_tuck_sd": x_tuck_sd}


def combine_onsets(from_flexion: dict[str, float], from_pelvis: dict[str, float]) -> dict[str, float]:
    """One onset from the flexion's and the pelvis's :func:`locate_onset` results: their ``x_tuck`` averaged
    by inverse variance (``x_tuck_sd``, at least :data:`ONSET_SD_FLOOR_DEG`), and the ends of their ranges
    averaged with the same weights (widened to hold the onset if need be). The best model's fields
    (``x0``, ``power``, ``bent`` ...) are the flexion's; ``flexion_weight`` says how much of the onset came
    from it (0..1)."""
    w_flex, w_pelvis = (max(found["x_tuck_sd"], ONSET_SD_FLOOR_DEG) ** -2 for found in (from_flexion, from_pelvis))
    weight = w_flex / (w_flex + w_pelvis)
    x_tuck = weight * from_flexion["x_tuck"] + (1 - weight) * from_pelvis["x_tuck"]
    return from_flexion | {
        "x_tuck": x_tuck, "flexion_weight": weight,
        "x_tuck_lo": min(weight * from_flexion["x_tuck_lo"] + (1 - weight) * from_pelvis["x_tuck_lo"], x_tuck),
        "x_tuck_hi": max(weight * from_flexion["x_tuck_hi"] + (1 - weight) * from_pelvis["x_tuck_hi"], x_tuck),
        "x_tuck_sd": float(np.sqrt(1.0 / (w_flex + w_pelvis)))}


def _phase_fit(depth: np.ndarray, tilt: np.ndarray) -> tuple[dict[str, float] | None, float, np.ndarray,
                                                              np.ndarray]:
    top = float(np.nanmax(depth))
    xb, yb = bin_by_descent(top - depth, tilt)
    if xb.size == 0:
        return None, top, xb, yb
    return fit_onset(xb, yb, powers=TILT_POWERS, x0_min=top - MAX_ONSET_DEPTH_DEG), top, xb, yb


def detect_onset(
    time_s: np.ndarray,
    depth_deg: np.ndarray,
    posterior_tilt_deg: np.ndarray,
    flexion_deg: np.ndarray,
    hip_flexion_deg: np.ndarray,
    start: int,
    bottom: int,
    end: int | None = None,
    *,
    threshold_deg: float = 8.0,
    calibration: Calibration = Calibration(),
) -> Onset:
    """Find the posterior-tilt onset in the descent ``start..bottom`` (frame indices, inclusive); the ascent
    ``bottom..end`` is a second look at the size when given.

    ``depth_deg`` is smoothed; ``posterior_tilt_deg`` (the wink signal: minus the pelvis tilt, or the pelvis
    under the trunk; tuck +) and ``flexion_deg`` (spine-to-pelvis flexion, flexion +) are the despiked,
    unfiltered series for the clip. ``calibration`` (:data:`CALIBRATIONS`) turns the signal's departure into
    the tuck that ``threshold_deg`` and the reported sizes are in (degrees).
    """
    depth_all = np.asarray(depth_deg, float)
    tilt_all = np.asarray(posterior_tilt_deg, float)
    seg = slice(start, bottom + 1)
    depth, tilt = depth_all[seg], tilt_all[seg]
    valid = np.isfinite(depth) & np.isfinite(tilt)
    coverage = float(valid.mean()) if valid.size else 0.0
    if coverage < 0.6:
        return Onset(False, 0.0, float("nan"), 0.0, reason=f"back contour valid in only {coverage:.0%} of the "
                                                          "descent")
    down, top, xb, yb = _phase_fit(depth, tilt)
    if down is None:
        return Onset(False, 0.0, float("nan"), 0.0, reason="descent too short to separate trend from onset")
    up = None
    if end is not None and end > bottom:
        up_seg = slice(bottom, end + 1)
        up_valid = np.isfinite(depth_all[up_seg]) & np.isfinite(tilt_all[up_seg])
        if up_valid.mean() >= 0.6:
            up = _phase_fit(depth_all[up_seg], tilt_all[up_seg])[0]
    if up is not None:
        departure = (down["departure"] + up["departure"]) / 2
        se = float(np.hypot(np.hypot(down["se"], up["se"]), down["departure"] - up["departure"]) / 2)
        model = f"tilt hinge p={down['power']:g} (descent), p={up['power']:g} (ascent)"
    else:
        departure, se = down["departure"], down["se"]
        model = f"tilt hinge p={down['power']:g} (descent only)"
    tuck = calibration.tuck(departure)
    if calibration != Calibration():
        model += f"; tuck = (departure {departure:.1f}° - {calibration.offset_deg:g}°) / {calibration.gain:g}"
    se = float(np.hypot(np.hypot(se, calibration.scatter_deg) / calibration.gain, CLIP_SIZE_ERROR_DEG))
    conf = float((2 * stats.norm.cdf(abs(tuck - threshold_deg) / se) - 1) * coverage)
    up_departure = up["departure"] if up is not None else float("nan")
    trend = {"trend_offset_deg": down["intercept"] + down["slope"] * top, "trend_slope": -down["slope"]}
    if tuck < threshold_deg:
        return Onset(False, 0.0, tuck, conf, down["departure"], up_departure, model=model, **trend)
    # Where: from the pelvis, and also from the spine-to-pelvis flexion when it departs by about as much as
    # the pelvis tucks (the thorax kept its path, so its corner is the tuck's own).
    located = locate_onset(xb, yb, x0_min=top - MAX_ONSET_DEPTH_DEG)
    source, best_of = "pelvis hinges", "best"
    flex_fit, _, xf, yf = _phase_fit(depth, np.asarray(flexion_deg, float)[seg])
    if flex_fit is not None and abs(flex_fit["departure"] - down["departure"]) <= FLEXION_AGREEMENT * down["departure"]:
        from_flexion = locate_onset(xf, yf, x0_min=top - MAX_ONSET_DEPTH_DEG)
        if from_flexion is not None and located is None:
            located, source = from_flexion, "flexion hinges"
        elif from_flexion is not None:
            located = combine_onsets(from_flexion, located)
            source = f"flexion and pelvis hinges, flexion weight {located['flexion_weight']:.2f}"
            best_of = "flexion best"
    x0 = located["x_tuck"] if located is not None else down["x0"]
    if located is not None:
        bend = "bent-trend" if located["bent"] else "straight-trend"
        model += f"; onset from {source} ({best_of}: {bend}, p={located['power']:g})"
    onset_depth = top - x0
    idx, onset_time, hip = onset_moment(time_s, depth_all, hip_flexion_deg, start, bottom, onset_depth)
    low, high = ((top - located["x_tuck_hi"], top - located["x_tuck_lo"]) if located is not None
                 else (float("nan"), float("nan")))
    return Onset(True, tuck, tuck, conf, down["departure"], up_departure, idx, onset_time,
                 float(onset_depth), low, high, hip, model=model, rep_onset_depth_deg=float(onset_depth), **trend)


def onset_moment(time_s: np.ndarray, depth_deg: np.ndarray, hip_flexion_deg: np.ndarray, start: int, bottom: int,
                 onset_depth_deg: float) -> tuple[int, float, float]:
    """When the descent ``start..bottom`` (frame indices) reaches ``onset_depth_deg`` of (smoothed) thigh angle:
    the first frame at or below it (``bottom`` if none), the crossing time in seconds (interpolated between that
    frame and the one before) and the hip flexion (degrees) at that frame."""
    depth_all = np.asarray(depth_deg, float)
    depth = depth_all[start:bottom + 1]
    reached = np.flatnonzero(np.isfinite(depth) & (depth <= onset_depth_deg))
    idx = start + int(reached[0]) if reached.size else bottom
    t = np.asarray(time_s, float)
    onset_time = float(t[idx])
    if idx > start and np.isfinite(depth_all[idx - 1]) and depth_all[idx - 1] != depth_all[idx]:
        frac = (depth_all[idx - 1] - onset_depth_deg) / (depth_all[idx - 1] - depth_all[idx])
        onset_time = float(t[idx - 1] + np.clip(frac, 0, 1) * (t[idx] - t[idx - 1]))
    return idx, onset_time, float(np.asarray(hip_flexion_deg, float)[idx])


def pool_onset_depths(depth_deg: np.ndarray, low_deg: np.ndarray, high_deg: np.ndarray,
                      spread_deg: float = ONSET_REP_SPREAD_DEG
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each rep's onset depth (degrees of thigh angle) read together with the other reps of the same set.

    A person's onset varies little between the reps of one set (it behaves like a personal hip-flexion limit),
    so the other reps say where this one's is likely to be: their mean, each weighted by ``1 / (s**2 +
    spread**2)``, with ``s`` a rep's own uncertainty (a quarter of its onset range, at least
    :data:`ONSET_SD_FLOOR_DEG`) and ``spread_deg`` how far one rep's true onset may stray from the set's. Each
    rep's onset is then the precision-weighted mean of its own reading and that estimate (a normal-normal
    update), so a rep whose descent pins its onset down keeps it, and a rep whose range is wide moves toward
    the set. Its range shrinks about the new onset by the ratio of the posterior to the own uncertainty.

    Returns the pooled depths, lows, highs and each rep's weight of the other reps (0 = its own reading). A
    set of one rep, or NaN entries, are returned unchanged (weight 0).
    """
    depth, low, high = (np.asarray(v, float) for v in (depth_deg, low_deg, high_deg))
    own_sd = np.maximum((high - low) / 4.0, ONSET_SD_FLOOR_DEG)
    usable = np.isfinite(depth) & np.isfinite(own_sd)
    pooled, pooled_low, pooled_high, weight = depth.copy(), low.copy(), high.copy(), np.zeros(len(depth))
    for i in np.flatnonzero(usable):
        others = usable.copy()
        others[i] = False  # the set's estimate leaves the rep itself out
        if not others.any():
            continue
        precision = 1.0 / (own_sd[others] ** 2 + spread_deg ** 2)
        set_mean = float(np.sum(depth[others] * precision) / np.sum(precision))
        prior_var = spread_deg ** 2 + 1.0 / float(np.sum(precision))
        weight[i] = (1.0 / prior_var) / (1.0 / own_sd[i] ** 2 + 1.0 / prior_var)
        shrink = np.sqrt(1.0 - weight[i])  # posterior SD / own SD
        pooled[i] = (1.0 - weight[i]) * depth[i] + weight[i] * set_mean
        pooled_low[i] = pooled[i] + (low[i] - depth[i]) * shrink
        pooled_high[i] = pooled[i] + (high[i] - depth[i]) * shrink
    return pooled, pooled_low, pooled_high, weight


def with_depth_reading_margin(onset: Onset, margin_deg: float = DEPTH_READING_MARGIN_DEG) -> Onset:
    """``onset`` with its range widened by ``margin_deg`` degrees of thigh angle at each end (the thigh
    angle's own reading error, :data:`DEPTH_READING_MARGIN_DEG`); an onset without a range is returned as
    it is."""
    low, high = onset.onset_depth_low_deg, onset.onset_depth_high_deg
    if low is None or high is None or not (np.isfinite(low) and np.isfinite(high)):
        return onset
    return replace(onset, onset_depth_low_deg=float(low) - margin_deg, onset_depth_high_deg=float(high) + margin_deg)


def onset_uncertain(low_deg: float, high_deg: float) -> bool:
    """Whether a reported onset range (``low_deg`` .. ``high_deg``, degrees of thigh angle, margins
    included) says the descent does not pin the onset down: its fit range was wider than
    :data:`WIDE_ONSET_RANGE_DEG`."""
    return bool(high_deg - low_deg > WIDE_ONSET_RANGE_DEG + 2 * DEPTH_READING_MARGIN_DEG)


def pool_onsets(onsets: list[Onset], starts: list[int], bottoms: list[int], time_s: np.ndarray,
                depth_deg: np.ndarray, hip_flexion_deg: np.ndarray,
                spread_deg: float = ONSET_REP_SPREAD_DEG) -> list[Onset]:
    """The onsets of one set of reps (one clip) with their depths pooled by :func:`pool_onset_depths`, and
    their frame, time and hip flexion read again at the pooled depth (``starts``/``bottoms``: each rep's
    descent, frame indices). Reps without a located onset are returned as they are. ``rep_onset_depth_deg``
    keeps each rep's own reading and ``onset_set_weight`` says how much the other reps moved it."""
    located = [k for k, o in enumerate(onsets) if o.wink and o.onset_depth_deg is not None
               and o.onset_depth_low_deg is not None and np.isfinite(o.onset_depth_low_deg)]
    if len(located) < 2:
        return list(onsets)
    depth, low, high, weight = pool_onset_depths(
        np.array([onsets[k].onset_depth_deg for k in located], float),
        np.array([onsets[k].onset_depth_low_deg for k in located], float),
        np.array([onsets[k].onset_depth_high_deg for k in located], float), spread_deg)
    out = list(onsets)
    for j, k in enumerate(located):
        idx, t, hip = onset_moment(time_s, depth_deg, hip_flexion_deg, starts[k], bottoms[k], float(depth[j]))
        out[k] = replace(onsets[k], onset_frame=idx, onset_time_s=t, onset_depth_deg=float(depth[j]),
                         onset_depth_low_deg=float(low[j]), onset_depth_high_deg=float(high[j]),
                         onset_hip_flexion_deg=hip, onset_set_weight=float(weight[j]),
                         model=f"{onsets[k].model}; pooled with {len(located) - 1} other rep(s), their weight "
                               f"{weight[j]:.2f}")
    return out
