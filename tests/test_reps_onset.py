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


def _signals(depth: np.ndarray, onset_depth: float | None, wink: float, trend: float = 0.08
             ) -> tuple[np.ndarray, np.ndarray]:
    """(posterior tilt, spine-to-pelvis flexion) for a rep: each its own linear descent trend (the pelvis
    tilts forward as the trunk leans: posterior tilt falls) plus the wink growing linearly in depth from
    ``onset_depth`` to the bottom: the pelvis tucks by ``wink`` and the spine flexes by as much."""
    x = 90.0 - depth
    wink_part = np.zeros_like(depth)
    if onset_depth is not None and wink:
        bottom = depth.min()
        wink_part = wink * np.clip((onset_depth - depth) / (onset_depth - bottom), 0, 1)
    return -0.3 * x + wink_part, trend * x + wink_part


def _detect(depth: np.ndarray, tilt: np.ndarray, flex: np.ndarray, threshold: float = 8.0):
    t = np.arange(depth.size) / FS
    return detect_onset(t, depth, tilt, flex, 90 - depth, 25, int(np.argmin(depth)), threshold_deg=threshold)


@pytest.mark.parametrize(("onset_depth", "wink"), [(0.0, 15.0), (25.0, 12.0), (-5.0, 20.0)])
def test_detect_onset_recovers_depth_and_size(onset_depth: float, wink: float) -> None:
    rng = np.random.default_rng(int(onset_depth + wink))
    _, depth = squat_depth(1, -20.0)
    tilt, flex = _signals(depth, onset_depth, wink)
    onset = _detect(depth, tilt + rng.normal(0, 0.5, depth.size), flex + rng.normal(0, 0.5, depth.size))
    assert onset.wink
    assert onset.onset_depth_deg == pytest.approx(onset_depth, abs=3.0)
    assert onset.wink_deg == pytest.approx(wink, abs=3.0)
    assert onset.onset_hip_flexion_deg == pytest.approx(90 - onset_depth, abs=4.0)
    assert depth[onset.onset_frame] <= onset.onset_depth_deg < depth[onset.onset_frame - 1]
    assert onset.confidence > 0.8


def test_detect_onset_no_wink_for_trends_only() -> None:
    rng = np.random.default_rng(1)
    _, depth = squat_depth(1, -20.0)
    tilt, flex = _signals(depth, None, 0.0, trend=0.15)
    onset = _detect(depth, tilt + rng.normal(0, 0.5, depth.size), flex + rng.normal(0, 0.5, depth.size))
    assert not onset.wink
    assert onset.wink_deg == 0.0 and onset.onset_time_s is None
    assert abs(onset.departure_deg) < 4.0
    assert onset.confidence > 0.5


def test_detect_onset_spine_flexion_alone_is_not_a_wink() -> None:
    # The spine flexes late but the pelvis keeps its trend: no posterior pelvic tilt, no butt wink.
    _, depth = squat_depth(1, -20.0)
    tilt, _ = _signals(depth, None, 0.0)
    _, flex = _signals(depth, 0.0, 15.0)
    assert not _detect(depth, tilt, flex).wink


def test_detect_onset_threshold_is_respected() -> None:
    _, depth = squat_depth(1, -20.0)
    tilt, flex = _signals(depth, 0.0, 6.0)
    assert not _detect(depth, tilt, flex, threshold=8.0).wink
    assert _detect(depth, tilt, flex, threshold=4.0).wink


def test_detect_onset_refuses_when_signal_missing() -> None:
    _, depth = squat_depth(1, -20.0)
    missing = np.full(depth.size, np.nan)
    onset = _detect(depth, missing, missing)
    assert not onset.wink and "valid" in onset.reason and onset.confidence == 0.0


def test_fit_onset_needs_enough_range() -> None:
    x = np.linspace(0, 10, 30)
    assert fit_onset(x, x * 0.1) is None
