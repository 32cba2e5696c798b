"""Compare a measurement with the renderer's ground truth (truth.csv / reps_truth.csv of buttwink.synth).

Used by the accuracy tests and ``benchmarks/accuracy.py``. A truth rep "winks" when its ``wink_deg`` is at
least the detector's threshold: a smaller tuck is, by the user's own setting, not a wink.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Measured column -> truth column for the curve correlations.
CURVES = {
    "lumbopelvic_angle_deg": "lumbopelvic_angle_deg",
    "lumbar_flexion_deg": "lumbar_flexion_deg",
    "pelvis_tilt_deg": "pelvis_tilt_deg",
    "depth_deg": "depth_deg",
    "hip_flexion_deg": "hip_flexion_deg",
}


#: A measured frame and a truth frame are the same frame when their times differ by at most this (seconds).
FRAME_MATCH_TOLERANCE_S = 0.02


def _nearest_frames(left: pd.DataFrame, right: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    """``left`` with the columns of ``right``'s frame nearest in time (within :data:`FRAME_MATCH_TOLERANCE_S`)."""
    return pd.merge_asof(left.sort_values("time_s"), right.sort_values("time_s"), on="time_s",
                         direction="nearest", tolerance=FRAME_MATCH_TOLERANCE_S, **kwargs)


def match_reps(measured: pd.DataFrame, truth: pd.DataFrame, min_overlap: float = 0.5) -> pd.DataFrame:
    """Pair each truth rep with the measured rep whose span (``start_time_s`` .. ``end_time_s``, seconds)
    overlaps it longest, when that overlap is at least ``min_overlap`` of the shorter of the two spans.

    Spans, not bottom times: with a pause at the bottom the deepest frame may lie anywhere in the pause, a
    second or more from the truth's bottom time. Returns one row per truth rep with ``truth_*`` and ``meas_*``
    columns (NaN where unmatched).
    """
    rows = []
    for _, tr in truth.iterrows():
        row = {f"truth_{k}": v for k, v in tr.items()}
        if len(measured):
            start, end = measured["start_time_s"].astype(float), measured["end_time_s"].astype(float)
            overlap = (np.minimum(end, float(tr["end_time_s"])) - np.maximum(start, float(tr["start_time_s"])))
            shorter = np.minimum(end - start, float(tr["end_time_s"]) - float(tr["start_time_s"]))
            j = int(overlap.idxmax())
            if overlap[j] > 0 and overlap[j] >= min_overlap * shorter[j]:
                row.update({f"meas_{k}": v for k, v in measured.loc[j].items()})
        rows.append(row)
    return pd.DataFrame(rows)


def curve_correlations(frames: pd.DataFrame, truth_frames: pd.DataFrame) -> dict[str, float]:
    """Pearson r between measured (smoothed) and true curves, over frames where both are finite."""
    merged = _nearest_frames(frames, truth_frames, suffixes=("", "_truth"))
    out = {}
    for meas, true in CURVES.items():
        true_col = f"{true}_truth" if f"{true}_truth" in merged else true
        if meas not in merged or true_col not in merged:
            continue
        a, b = merged[meas].to_numpy(float), merged[true_col].to_numpy(float)
        ok = np.isfinite(a) & np.isfinite(b)
        out[meas] = float(np.corrcoef(a[ok], b[ok])[0, 1]) if ok.sum() > 5 and np.std(b[ok]) > 0 else float("nan")
    return out


def score_clip(reps: pd.DataFrame, frames: pd.DataFrame, reps_truth: pd.DataFrame, truth_frames: pd.DataFrame,
               threshold_deg: float) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-rep comparison table and the clip's curve correlations."""
    matched = match_reps(reps, reps_truth)
    truth_wink = matched["truth_wink_deg"].astype(float) >= threshold_deg
    meas_wink = matched.get("meas_wink", pd.Series(False, index=matched.index)).fillna(False).astype(bool)
    matched["truth_wink"] = truth_wink
    matched["meas_wink"] = meas_wink
    matched["correct"] = truth_wink == meas_wink
    both = truth_wink & meas_wink
    err = np.full(len(matched), np.nan)
    if both.any():
        err[both.to_numpy()] = (matched.loc[both, "meas_onset_depth_deg"].astype(float)
                                - matched.loc[both, "truth_onset_depth_deg"].astype(float)).to_numpy()
    matched["onset_depth_error_deg"] = err
    matched["depth_reading_error_deg"] = depth_reading_errors(frames, matched)
    return matched, curve_correlations(frames, truth_frames)


def depth_reading_errors(frames: pd.DataFrame, matched: pd.DataFrame) -> np.ndarray:
    """Measured (smoothed) depth at each truth rep's true onset time minus the true onset depth (degrees of
    thigh angle; NaN where the truth rep has no onset). It is the onset-depth error a detector that timed
    every onset perfectly would still make: the floor the depth reading sets."""
    onset_time = matched["truth_onset_time_s"].astype(float).to_numpy()
    time_s, depth = frames["time_s"].to_numpy(float), frames["depth_deg"].to_numpy(float)
    ok = np.isfinite(time_s) & np.isfinite(depth)
    read = (np.interp(onset_time, time_s[ok], depth[ok], left=np.nan, right=np.nan) if ok.any()
            else np.full(len(matched), np.nan))
    return read - matched["truth_onset_depth_deg"].astype(float).to_numpy()


#: Degrees of thigh descent at the bottom of a descent over which :func:`pelvis_reading` averages the
#: departures from the trend.
READING_TAIL_DEG = 4.0
#: The trend in :func:`pelvis_reading` starts this many degrees into the descent (the first degrees are the
#: turn from standing) and needs this many degrees before the true onset.
READING_TREND_START_DEG = 10.0
READING_MIN_TREND_SPAN_DEG = 10.0
#: Tucks smaller than this (degrees) get no response ratio: the ratio of two small numbers is noise.
READING_MIN_TUCK_DEG = 4.0


def pelvis_reading(frames: pd.DataFrame, truth_frames: pd.DataFrame, reps_truth: pd.DataFrame,
                   column: str = "posterior_pelvic_tilt_deg_despiked") -> pd.DataFrame:
    """How the measured pelvis line reads each rendered tuck, with the onset detector left out.

    For each truth rep, the measured ``column`` (posterior pelvic tilt, degrees, posterior +) and the true
    posterior tilt (minus the truth's ``pelvis_tilt_deg``) are read against the *true* thigh descent ``x``
    (degrees below the rep's first descent frame) over the truth's descent frames. Each gets a straight trend
    fitted where the truth has no tuck yet (from :data:`READING_TREND_START_DEG` of descent to the true onset,
    or the whole descent without a wink), so the trend is known, not searched for. Returned per truth rep:

    - ``read_tuck_deg``, ``true_tuck_deg``: mean departure from the trend over the last
      :data:`READING_TAIL_DEG` degrees of descent (degrees, posterior +);
    - ``tuck_error_deg``: read minus true;
    - ``response``: read / true for true tucks of at least :data:`READING_MIN_TUCK_DEG` (1 = the silhouette's
      pelvis line turns with the pelvis; NaN otherwise);
    - ``trend_rms_deg``: the measured curve's scatter about its trend (degrees).

    Rows are NaN where the descent has too few measured frames or too short a trend.
    """
    merged = _nearest_frames(truth_frames, frames[["time_s", column]])
    rows = []
    for _, rep in reps_truth.iterrows():
        row = {"truth_rep": rep["rep"], "read_tuck_deg": np.nan, "true_tuck_deg": np.nan,
               "tuck_error_deg": np.nan, "response": np.nan, "trend_rms_deg": np.nan}
        rows.append(row)
        descent = merged[(merged["rep"] == rep["rep"]) & (merged["phase"] == "descent")]
        if descent.empty:
            continue
        depth = descent["depth_deg"].to_numpy(float)
        x = depth[0] - depth
        read = descent[column].to_numpy(float)
        true = -descent["pelvis_tilt_deg"].to_numpy(float)
        onset_x = depth[0] - float(rep["onset_depth_deg"]) if np.isfinite(rep["onset_depth_deg"]) else np.inf
        trend = (x >= READING_TREND_START_DEG) & (x < onset_x) & np.isfinite(read)
        tail = (x >= x.max() - READING_TAIL_DEG) & np.isfinite(read)
        span = np.ptp(x[trend]) if trend.any() else 0.0
        if span < READING_MIN_TREND_SPAN_DEG or tail.sum() < 2:
            continue
        read_departure = read - np.polyval(np.polyfit(x[trend], read[trend], 1), x)
        true_departure = true - np.polyval(np.polyfit(x[trend], true[trend], 1), x)
        read_tuck, true_tuck = float(np.mean(read_departure[tail])), float(np.mean(true_departure[tail]))
        row.update(read_tuck_deg=read_tuck, true_tuck_deg=true_tuck, tuck_error_deg=read_tuck - true_tuck,
                   response=read_tuck / true_tuck if true_tuck >= READING_MIN_TUCK_DEG else np.nan,
                   trend_rms_deg=float(np.sqrt(np.mean(read_departure[trend] ** 2))))
    return pd.DataFrame(rows)
