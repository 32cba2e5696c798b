"""Cleaning and smoothing on signals with known answers."""

import numpy as np
import pytest
from scipy import signal

from buttwink.smoothing import butterworth_lowpass, clean_series, fill_gaps, frame_rate, hampel, nan_runs

FS = 30.0


def _t(n: int, fs: float = FS) -> np.ndarray:
    return np.arange(n) / fs


def test_frame_rate_ignores_a_dropped_frame() -> None:
    t = np.delete(_t(100), 50)
    assert frame_rate(t) == pytest.approx(FS)


def test_hampel_removes_single_frame_spikes_only() -> None:
    t = _t(300)
    x = 40 * np.sin(2 * np.pi * 0.3 * t)
    spiky = x.copy()
    spiky[[40, 120, 200]] += [35, -50, 60]
    cleaned, outliers = hampel(spiky, half_window=7, n_sigmas=2.5)
    assert set(np.flatnonzero(outliers)) == {40, 120, 200}
    keep = ~outliers
    assert np.allclose(cleaned[keep], x[keep])


def test_fill_gaps_short_filled_long_marked() -> None:
    t = _t(120)
    x = 2.0 * t
    x[10:15] = np.nan  # 5 frames = 0.2 s (< 0.25 s): filled
    x[50:70] = np.nan  # 20 frames: left NaN and marked
    filled, long_gap = fill_gaps(x, t, max_gap_s=0.25)
    assert np.allclose(filled[10:15], 2.0 * t[10:15])
    assert np.isnan(filled[50:70]).all() and long_gap[50:70].all()
    assert not long_gap[:50].any() and not long_gap[70:].any()


def test_nan_runs() -> None:
    assert nan_runs(np.array([0, 1, 1, 0, 1], bool)) == [(1, 3), (4, 5)]


def test_butterworth_cutoff_is_the_true_minus_3db_point() -> None:
    # A sine at the cutoff frequency must come out at 1/sqrt(2) of its amplitude (Winter-corrected filtfilt).
    t = _t(3000)
    cutoff = 4.0
    x = np.sin(2 * np.pi * cutoff * t)
    y = butterworth_lowpass(x, FS, cutoff, order=2)
    mid = slice(500, 2500)
    gain = np.std(y[mid]) / np.std(x[mid])
    assert gain == pytest.approx(1 / np.sqrt(2), abs=0.02)


def test_butterworth_is_zero_lag() -> None:
    t = _t(600)
    x = np.sin(2 * np.pi * 0.5 * t)
    y = butterworth_lowpass(x, FS, 4.0)
    lags = signal.correlation_lags(len(x), len(y))
    assert lags[np.argmax(signal.correlate(x, y))] == 0


def test_butterworth_runs_separately_around_nan() -> None:
    t = _t(300)
    x = np.sin(2 * np.pi * 0.4 * t)
    x[100:140] = np.nan
    y = butterworth_lowpass(x, FS, 4.0)
    assert np.isnan(y[100:140]).all()
    assert np.isfinite(y[:100]).all() and np.isfinite(y[140:]).all()
    assert np.max(np.abs(y[:95] - x[:95])) < 0.02


def test_clean_series_reduces_noise_and_keeps_raw() -> None:
    rng = np.random.default_rng(3)
    t = _t(450)
    truth = 45 + 45 * np.cos(2 * np.pi * 0.35 * t)
    noisy = truth + rng.normal(0, 2.0, t.size)
    noisy[[60, 61]] = np.nan
    noisy[200] += 40
    out = clean_series(noisy, t, cutoff_hz=4.0)
    assert np.array_equal(out.raw, noisy, equal_nan=True)
    assert out.outliers[200]
    err_raw = np.nanstd(noisy - truth)
    err_smooth = np.std(out.smooth - truth)
    assert err_smooth < 0.5 * err_raw
    assert np.isfinite(out.smooth).all()
