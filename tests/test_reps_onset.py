"""Rep segmentation and the onset detector on synthetic signals with known answers."""

import numpy as np
import pytest

from buttwink.onset import detect_onset, fit_onset
from buttwink.reps import segment_reps

FS = 30.0


def squat_depth(reps: int, bottom: float, *, stand_s: float = 1.0, descent_s: float = 1.5, ascent_s: float = 1.5,
                top: float = 90.0) -> tuple[np.ndarray, np.ndarray]:
    """Depth curve: standing, then cosine-shaped descents/ascents to ``bottom``."""
    pieces = [np.full(int(stand_s * FS), top)]
    for _ in range(reps):
        d = np.linspace(0, np.pi, int(descent_s * FS), endpoint=False)
        a = np.linspace(0, np.pi, int(ascent_s * FS), endpoint=False)
        pieces += [bottom + (top - bottom) * (1 + np.cos(d)) / 2, bottom + (top - bottom) * (1 - np.cos(a)) / 2,
                   np.full(int(stand_s * FS), top)]
    depth = np.concatenate(pieces)
    return np.arange(depth.size) / FS, depth


def test_segment_reps_finds_each_rep_with_phases() -> None:
    t, depth = squat_depth(3, -15.0)
    reps = segment_reps(t, depth)
    assert len(reps) == 3
    for rep in reps:
        assert rep.status == "ok"
        assert rep.start < rep.bottom < rep.end
        assert rep.bottom_depth_deg == pytest.approx(-15.0, abs=0.5)
        assert depth[rep.start] > 75 and depth[rep.end] > 75


def test_segment_reps_marks_shallow_and_cut_reps() -> None:
    t, depth = squat_depth(2, 60.0)  # quarter squats: a 30° dip, bottom at 60°
    reps = segment_reps(t, depth, min_range_deg=20)
    assert [r.status for r in reps] == ["partial", "partial"]
    assert "too shallow" in reps[0].reason
    t, depth = squat_depth(2, -10.0)
    cut = depth[60:]  # clip starts mid-descent of rep 1
    reps = segment_reps(t[60:] - t[60], cut)
    assert reps[0].status == "partial" and "before the clip" in reps[0].reason
    assert reps[1].status == "ok"


def test_segment_reps_ignores_small_dips() -> None:
    t, depth = squat_depth(2, 70.0)  # 20° dips: not reps
    assert segment_reps(t, depth, min_range_deg=30) == []


def _flexion(depth: np.ndarray, onset_depth: float | None, wink: float, trend: float = 0.08) -> np.ndarray:
    """Trend proportional to descent, plus a wink growing linearly from ``onset_depth`` to the bottom."""
    x = 90.0 - depth
    y = trend * x
    if onset_depth is not None and wink:
        bottom = depth.min()
        progress = np.clip((onset_depth - depth) / (onset_depth - bottom), 0, 1)
        y = y + wink * progress
    return y


@pytest.mark.parametrize(("onset_depth", "wink"), [(0.0, 15.0), (25.0, 12.0), (-5.0, 20.0)])
def test_detect_onset_recovers_depth_and_size(onset_depth: float, wink: float) -> None:
    rng = np.random.default_rng(int(onset_depth + wink))
    t, depth = squat_depth(1, -20.0)
    y = _flexion(depth, onset_depth, wink) + rng.normal(0, 0.5, depth.size)
    bottom = int(np.argmin(depth))
    hip = 90 - depth
    onset = detect_onset(t, depth, y, hip, 25, bottom, threshold_deg=8.0)
    assert onset.wink
    assert onset.onset_depth_deg == pytest.approx(onset_depth, abs=3.0)
    assert onset.wink_deg == pytest.approx(wink, abs=3.0)
    assert onset.onset_hip_flexion_deg == pytest.approx(90 - onset_depth, abs=4.0)
    assert depth[onset.onset_frame] <= onset_depth + 1e-9
    assert onset.confidence > 0.8


def test_detect_onset_no_wink_for_trend_only() -> None:
    rng = np.random.default_rng(1)
    t, depth = squat_depth(1, -20.0)
    y = _flexion(depth, None, 0.0, trend=0.15) + rng.normal(0, 0.5, depth.size)
    onset = detect_onset(t, depth, y, 90 - depth, 25, int(np.argmin(depth)), threshold_deg=8.0)
    assert not onset.wink
    assert onset.wink_deg == 0.0 and onset.onset_time_s is None
    assert abs(onset.departure_deg) < 4.0
    assert onset.confidence > 0.5


def test_detect_onset_threshold_is_respected() -> None:
    t, depth = squat_depth(1, -20.0)
    y = _flexion(depth, 0.0, 6.0)
    bottom = int(np.argmin(depth))
    assert not detect_onset(t, depth, y, 90 - depth, 25, bottom, threshold_deg=8.0).wink
    assert detect_onset(t, depth, y, 90 - depth, 25, bottom, threshold_deg=4.0).wink


def test_detect_onset_refuses_when_signal_missing() -> None:
    t, depth = squat_depth(1, -20.0)
    y = np.full(depth.size, np.nan)
    onset = detect_onset(t, depth, y, 90 - depth, 25, int(np.argmin(depth)))
    assert not onset.wink and "valid" in onset.reason and onset.confidence == 0.0


def test_fit_onset_needs_enough_range() -> None:
    x = np.linspace(0, 10, 30)
    assert fit_onset(x, x * 0.1) is None
