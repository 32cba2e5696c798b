"""Posterior-tilt onset detector.

Two back signals from the silhouette are read in each rep's descent, both against how far the thigh has
descended, ``x = top depth - depth`` (degrees of thigh angle), with a *hinge* model::

    y = a + b * x + c * max(0, x - x0) ** p,      c >= 0

``a + b x`` is the rep's own descent trend (the pelvis tilts forward with the trunk and the spine flexes
a little as people go down; that is not a wink); ``x0`` is where the signal leaves that trend. The fit
searches ``x0`` on a 0.5° grid and ``p`` over a few shapes, and solves the rest by least squares.

* **Whether, and how much** — from the pelvis: ``y = -pelvis_tilt_deg`` (posterior tilt +), ``p`` in
  {1, 2}. Its departure at the bottom, ``D = c * (x_bottom - x0) ** p``, is the posterior pelvic tilt beyond
  the trend: the wink's magnitude, the lab definition of butt wink made robust to the descent's own
  tilt. A rep winks when ``D >= threshold``.
* **Where it begins** — from the spine-to-pelvis flexion (``lumbar_flexion_deg``: upper-back line minus
  pelvis line), ``p`` in {0.5, 1, 2}: its corner is sharper than the pelvis's, because the thorax keeps its
  path while the pelvis tucks under. Its ``x0`` is the onset (the pelvis fit's ``x0`` if this fit fails).

Both fits read despiked but unfiltered series: a low-pass would round the corner and move it earlier.
The confidence is ``2 * Phi(|D - threshold| / se(D)) - 1`` (how surely D lies on its side of the threshold
given the fit's residual noise), times the fraction of descent frames with a valid signal. Onset depth is
``top - x0``; onset time is when the smoothed depth first reaches it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

#: Shapes of the departure after the onset: concave (fast then levelling off), linear, convex.
TILT_POWERS = (1.0, 2.0)
#: Degrees of descent the trend needs before an onset can be placed.
MIN_TREND_SPAN_DEG = 15.0
#: The flexion corner may precede the pelvis's own departure point by at most this much (degrees): a spine
#: that flexes long before the pelvis tucks is the descent trend, not the wink.
MAX_LEAD_DEG = 5.0
FLEXION_POWERS = (0.5, 1.0, 2.0)


@dataclass
class Onset:
    """Onset-detector result for one rep. Depths and angles in degrees, times in seconds."""

    wink: bool
    wink_deg: float  # departure at the bottom when wink, else 0
    departure_deg: float  # departure at the bottom (always reported)
    confidence: float  # 0..1
    flexion_departure_deg: float = float("nan")  # spine-to-pelvis flexion beyond its trend at the bottom
    onset_frame: int | None = None
    onset_time_s: float | None = None
    onset_depth_deg: float | None = None
    onset_hip_flexion_deg: float | None = None
    model: str = ""
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _fit_hinge(x: np.ndarray, y: np.ndarray, x0: float, power: float) -> tuple[float, np.ndarray, np.ndarray]:
    h = np.maximum(0.0, x - x0) ** power
    design = np.column_stack([np.ones_like(x), x, h])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    if coef[2] < 0:  # constrained: no "wink" toward extension; fall back to the trend alone
        coef2, *_ = np.linalg.lstsq(design[:, :2], y, rcond=None)
        coef = np.array([coef2[0], coef2[1], 0.0])
    resid = y - design @ coef
    return float(resid @ resid), coef, design


def fit_onset(x: np.ndarray, y: np.ndarray, *, powers: tuple[float, ...] = TILT_POWERS,
              min_trend_span: float = MIN_TREND_SPAN_DEG, min_tail_span: float = 3.0, min_tail_points: int = 4,
              x0_min: float = -np.inf, step: float = 0.5) -> dict[str, float] | None:
    """Best hinge fit of ``y`` against ``x`` (degrees descended). Returns x0, power, departure, se, sse.

    The trend needs ``min_trend_span`` degrees of descent before the onset, and the wink at least
    ``min_tail_span`` degrees and ``min_tail_points`` samples after it, so one noisy sample at the bottom
    cannot make a wink.
    """
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 8 or np.ptp(x) < 2 * min_trend_span:
        return None
    x_bottom = float(x.max())
    best: dict[str, float] | None = None
    for power in powers:
        for x0 in np.arange(max(x.min() + min_trend_span, x0_min), x_bottom - min_tail_span, step):
            if np.count_nonzero(x > x0) < min_tail_points:
                continue
            sse, coef, design = _fit_hinge(x, y, float(x0), power)
            if best is None or sse < best["sse"]:
                dof = max(1, len(x) - 4)
                sigma2 = sse / dof
                try:
                    cov = sigma2 * np.linalg.inv(design.T @ design)
                    se_c = float(np.sqrt(max(cov[2, 2], 0.0)))
                except np.linalg.LinAlgError:
                    se_c = float("inf")
                lever = (x_bottom - x0) ** power
                best = {"x0": float(x0), "power": float(power), "departure": float(coef[2] * lever),
                        "se": float(se_c * lever), "sse": sse, "slope": float(coef[1])}
    return best


def detect_onset(
    time_s: np.ndarray,
    depth_deg: np.ndarray,
    posterior_tilt_deg: np.ndarray,
    flexion_deg: np.ndarray,
    hip_flexion_deg: np.ndarray,
    start: int,
    bottom: int,
    *,
    threshold_deg: float = 8.0,
) -> Onset:
    """Find the posterior-tilt onset in the descent ``start..bottom`` (frame indices, inclusive).

    ``depth_deg`` is smoothed; ``posterior_tilt_deg`` (minus the pelvis tilt: posterior +) and
    ``flexion_deg`` (spine-to-pelvis flexion, flexion +) are despiked, unfiltered series for the clip.
    """
    seg = slice(start, bottom + 1)
    depth = np.asarray(depth_deg, float)[seg]
    tilt = np.asarray(posterior_tilt_deg, float)[seg]
    flex = np.asarray(flexion_deg, float)[seg]
    valid = np.isfinite(depth) & np.isfinite(tilt)
    coverage = float(valid.mean()) if valid.size else 0.0
    if coverage < 0.6:
        return Onset(False, 0.0, float("nan"), 0.0, reason=f"back contour valid in only {coverage:.0%} of the "
                                                          "descent")
    top = float(np.nanmax(depth))
    x = top - depth
    fit = fit_onset(x, tilt, powers=TILT_POWERS)
    if fit is None:
        return Onset(False, 0.0, float("nan"), 0.0, reason="descent too short to separate trend from onset")
    departure = fit["departure"]
    se = max(fit["se"], 0.5)
    conf = float((2 * stats.norm.cdf(abs(departure - threshold_deg) / se) - 1) * coverage)
    model = f"tilt hinge p={fit['power']:g}"
    x0 = fit["x0"]
    located = fit_onset(x, flex, powers=FLEXION_POWERS, x0_min=x0 - MAX_LEAD_DEG)
    flex_departure = located["departure"] if located is not None else float("nan")
    if departure < threshold_deg:
        return Onset(False, 0.0, departure, conf, flex_departure, model=model)
    if located is not None and located["departure"] > 0:
        x0 = located["x0"]
        model += f"; onset from flexion hinge p={located['power']:g}"
    onset_depth = top - x0
    reached = np.flatnonzero(np.isfinite(depth) & (depth <= onset_depth))
    idx = start + int(reached[0]) if reached.size else bottom
    full_depth = np.asarray(depth_deg, float)
    t = np.asarray(time_s, float)
    # Interpolate the crossing time between the two frames around it.
    onset_time = float(t[idx])
    if idx > start and np.isfinite(full_depth[idx - 1]) and full_depth[idx - 1] != full_depth[idx]:
        frac = (full_depth[idx - 1] - onset_depth) / (full_depth[idx - 1] - full_depth[idx])
        onset_time = float(t[idx - 1] + np.clip(frac, 0, 1) * (t[idx] - t[idx - 1]))
    hip = float(np.asarray(hip_flexion_deg, float)[idx])
    return Onset(True, departure, departure, conf, flex_departure, idx, onset_time, float(onset_depth), hip, model)
