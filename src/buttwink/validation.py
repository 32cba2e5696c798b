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


def match_reps(measured: pd.DataFrame, truth: pd.DataFrame, tolerance_s: float = 0.6) -> pd.DataFrame:
    """Pair each truth rep with the measured rep whose bottom time is nearest (within ``tolerance_s``).

    Returns one row per truth rep with ``truth_*`` and ``meas_*`` columns (NaN where unmatched).
    """
    rows = []
    for _, tr in truth.iterrows():
        row = {f"truth_{k}": v for k, v in tr.items()}
        if len(measured):
            dt = (measured["bottom_time_s"] - tr["bottom_time_s"]).abs()
            j = int(dt.idxmin())
            if dt[j] <= tolerance_s:
                row.update({f"meas_{k}": v for k, v in measured.loc[j].items()})
        rows.append(row)
    return pd.DataFrame(rows)


def curve_correlations(frames: pd.DataFrame, truth_frames: pd.DataFrame) -> dict[str, float]:
    """Pearson r between measured (smoothed) and true curves, over frames where both are finite."""
    merged = pd.merge_asof(frames.sort_values("time_s"), truth_frames.sort_values("time_s"), on="time_s",
                           direction="nearest", tolerance=0.02, suffixes=("", "_truth"))
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
