"""Cleaning and smoothing of per-frame series (angles in degrees, or pixel coordinates).

Order, as in Sports2D/Pose2Sim but with gap handling made explicit:
1. values the caller marked unreliable (low visibility) are already NaN;
2. single-frame outliers are rejected by a Hampel filter (rolling median +- k scaled MADs);
3. gaps up to ``max_gap_s`` are filled by linear interpolation in time; longer gaps stay NaN and are
   reported;
4. a zero-lag Butterworth low-pass (``scipy.signal.filtfilt``) runs on each NaN-free run separately.

filtfilt runs the filter twice, which squares its magnitude response: the -3 dB point of the combined
filter would fall below the nominal cutoff. We correct the design frequency with Winter's factor
(``C = (2**(1/passes) - 1) ** (1/(2*order))``, 0.802 for two passes of a 2nd-order filter), so ``cutoff_hz`` is
the true -3 dB frequency of the smoothing actually applied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import signal

_MAD_TO_SIGMA = 1.4826


def frame_rate(time_s: np.ndarray) -> float:
    """Frames per second from the median time step (robust to dropped or duplicated frames)."""
    dt = np.diff(np.asarray(time_s, float))
    dt = dt[np.isfinite(dt) & (dt > 0)]
    if dt.size == 0:
        raise ValueError("cannot derive a frame rate from fewer than two increasing timestamps")
    return float(1.0 / np.median(dt))


def hampel(values: np.ndarray, half_window: int, n_sigmas: float = 2.5) -> tuple[np.ndarray, np.ndarray]:
    """Replace outliers (|x - rolling median| > n_sigmas * 1.4826 * rolling MAD) by NaN.

    Returns ``(cleaned, outlier_mask)``. NaN inputs stay NaN and are not counted as outliers.
    """
    x = pd.Series(np.asarray(values, float))
    window = 2 * max(1, int(half_window)) + 1
    med = x.rolling(window, center=True, min_periods=3).median()
    mad = (x - med).abs().rolling(window, center=True, min_periods=3).median()
    # A floor on the MAD keeps a nearly constant signal from flagging its own quantisation steps.
    floor = max(1e-6, 0.05 * float(np.nanstd(x.to_numpy()))) if np.isfinite(x).sum() > 2 else 1e-6
    thresh = n_sigmas * _MAD_TO_SIGMA * np.maximum(mad.to_numpy(), floor)
    dev = np.abs(x.to_numpy() - med.to_numpy())
    outliers = np.isfinite(dev) & (dev > thresh)
    cleaned = x.to_numpy().copy()
    cleaned[outliers] = np.nan
    return cleaned, outliers


def nan_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index ranges ``[start, stop)`` of the True runs in a boolean array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(m.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def fill_gaps(values: np.ndarray, time_s: np.ndarray, max_gap_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolate interior NaN gaps lasting at most ``max_gap_s`` seconds.

    Returns ``(filled, long_gap_mask)``; ``long_gap_mask`` marks samples left NaN because their gap was
    too long (or touched the clip's start or end).
    """
    x = np.asarray(values, float).copy()
    t = np.asarray(time_s, float)
    long_gap = np.zeros(x.shape, bool)
    for a, b in nan_runs(~np.isfinite(x)):
        if a == 0 or b == len(x):
            long_gap[a:b] = True
            continue
        if t[b] - t[a - 1] > max_gap_s + 1e-9:
            long_gap[a:b] = True
            continue
        x[a:b] = np.interp(t[a:b], [t[a - 1], t[b]], [x[a - 1], x[b]])
    return x, long_gap


def butterworth_lowpass(values: np.ndarray, fs_hz: float, cutoff_hz: float, order: int = 2) -> np.ndarray:
    """Zero-lag Butterworth low-pass (filtfilt, Winter-corrected) applied to each NaN-free run.

    Runs too short for the filter's padding are left as they are.
    """
    x = np.asarray(values, float)
    out = x.copy()
    correction = (2 ** (1 / 2) - 1) ** (1 / (2 * order))  # two passes (filtfilt); 0.802 for order 2
    # Corrected design frequency, in the bilinear transform's pre-warped domain, so the combined filter's
    # -3 dB point lands exactly on cutoff_hz.
    design_hz = fs_hz / np.pi * np.arctan(np.tan(np.pi * min(cutoff_hz, 0.45 * fs_hz) / fs_hz) / correction)
    wn = min(2.0 * design_hz / fs_hz, 0.95)
    b, a = signal.butter(order, wn, btype="low")
    padlen = 3 * max(len(a), len(b))
    for start, stop in nan_runs(np.isfinite(x)):
        if stop - start > padlen:
            out[start:stop] = signal.filtfilt(b, a, x[start:stop], padlen=padlen)
    return out


@dataclass
class CleanedSeries:
    """A series after each cleaning step; all arrays have the input's length."""

    raw: np.ndarray
    despiked: np.ndarray  # outliers removed and short gaps filled, not low-passed
    smooth: np.ndarray
    outliers: np.ndarray  # bool: rejected by the Hampel filter
    long_gaps: np.ndarray  # bool: NaN left in place because the gap was longer than max_gap_s


def clean_series(
    values: np.ndarray,
    time_s: np.ndarray,
    *,
    cutoff_hz: float = 4.0,
    order: int = 2,
    max_gap_s: float = 0.25,
    hampel_window_s: float = 0.25,
    hampel_sigmas: float = 2.5,
) -> CleanedSeries:
    """Outlier rejection, short-gap filling and zero-lag low-pass of one series sampled at ``time_s``."""
    fs = frame_rate(time_s)
    half = max(1, int(round(hampel_window_s * fs)))
    despiked, outliers = hampel(values, half, hampel_sigmas)
    filled, long_gaps = fill_gaps(despiked, time_s, max_gap_s)
    cutoff = min(cutoff_hz, 0.4 * fs)
    smooth = butterworth_lowpass(filled, fs, cutoff, order)
    return CleanedSeries(np.asarray(values, float), filled, smooth, outliers, long_gaps)
