"""Rep segmentation and the onset detector on synthetic signals with known answers."""

from dataclasses import replace

import numpy as np
import pytest

from buttwink.onset import (
    DEPTH_READING_MARGIN_DEG,
    FLEXION_AGREEMENT,
    ONSET_SD_FLOOR_DEG,
    ONSET_TUCK_DEG,
    WIDE_ONSET_RANGE_DEG,
    Onset,
    bin_by_descent,
    combine_onsets,
    detect_onset,
    fit_onset,
    locate_onset,
    onset_uncertain,
    pool_onset_depths,
    pool_onsets,
    with_depth_reading_margin,
)
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


def _tilt(depth: np.ndarray, onset_depth: float | None, wink: float, trend: float = 0.3) -> np.ndarray:
    """Posterior pelvic tilt over one rep: a linear descent trend (the pelvis tilts forward as the trunk
    leans: posterior tilt falls) plus the wink, growing linearly in depth from ``onset_depth`` to the bottom
    and undone the same way on the ascent."""
    x = 90.0 - depth
    wink_part = np.zeros_like(depth)
    if onset_depth is not None and wink:
        wink_part = wink * np.clip((onset_depth - depth) / (onset_depth - depth.min()), 0, 1)
    return -trend * x + wink_part


def _tuck_reached(onset_depth: float, bottom: float, wink: float) -> float:
    """Depth (degrees) where a linear wink of ``wink`` degrees from ``onset_depth`` to ``bottom`` reaches
    ONSET_TUCK_DEG: the detector's onset."""
    return onset_depth - (onset_depth - bottom) * ONSET_TUCK_DEG / wink


def _detect(depth: np.ndarray, tilt: np.ndarray, flex: np.ndarray | None = None, threshold: float = 8.0,
            ascent: bool = True):
    """Run the detector on one rep; without ``flex`` the spine flexes by as much as the pelvis tucks (the
    thorax keeps its path) on top of its own gentle trend."""
    t = np.arange(depth.size) / FS
    bottom = int(np.argmin(depth))
    end = depth.size - int(FS) if ascent else None  # the rep ends when standing is reached again
    if flex is None:
        flex = 0.08 * (90.0 - depth) + (tilt - _tilt(depth, None, 0.0))
    return detect_onset(t, depth, tilt, flex, 90 - depth, 25, bottom, end, threshold_deg=threshold)


@pytest.mark.parametrize(("onset_depth", "wink"), [(0.0, 15.0), (25.0, 12.0), (-5.0, 20.0)])
def test_detect_onset_recovers_depth_and_size(onset_depth: float, wink: float) -> None:
    rng = np.random.default_rng(int(onset_depth + wink))
    _, depth = squat_depth(1, -20.0)
    onset = _detect(depth, _tilt(depth, onset_depth, wink) + rng.normal(0, 0.5, depth.size))
    assert onset.wink
    expected = _tuck_reached(onset_depth, -20.0, wink)
    assert onset.onset_depth_deg == pytest.approx(expected, abs=3.0)
    assert onset.wink_deg == pytest.approx(wink, abs=3.0)
    assert onset.descent_departure_deg == pytest.approx(wink, abs=3.0)
    assert onset.ascent_departure_deg == pytest.approx(wink, abs=3.0)
    assert onset.onset_hip_flexion_deg == pytest.approx(90 - expected, abs=4.0)
    assert depth[onset.onset_frame] <= onset.onset_depth_deg < depth[onset.onset_frame - 1]
    assert onset.confidence > 0.8


def test_onset_range_brackets_the_onset_and_widens_with_noise() -> None:
    _, depth = squat_depth(1, -20.0)
    widths = []
    for sigma in (0.3, 3.0):
        clean = _tilt(depth, 10.0, 14.0)
        onset = _detect(depth, clean + np.random.default_rng(3).normal(0, sigma, depth.size))
        assert onset.wink
        assert onset.onset_depth_low_deg <= onset.onset_depth_deg <= onset.onset_depth_high_deg
        widths.append(onset.onset_depth_high_deg - onset.onset_depth_low_deg)
        if sigma < 1:  # a clean corner: the true onset is in a narrow range
            expected = _tuck_reached(10.0, -20.0, 14.0)
            assert onset.onset_depth_low_deg - 1 <= expected <= onset.onset_depth_high_deg + 1
            assert widths[-1] <= WIDE_ONSET_RANGE_DEG
    assert widths[1] > widths[0] + 4


def test_detect_onset_no_wink_for_trends_only() -> None:
    rng = np.random.default_rng(1)
    _, depth = squat_depth(1, -20.0)
    onset = _detect(depth, _tilt(depth, None, 0.0, trend=0.15) + rng.normal(0, 0.5, depth.size))
    assert not onset.wink
    assert onset.wink_deg == 0.0 and onset.onset_time_s is None
    assert abs(onset.departure_deg) < 4.0
    assert onset.confidence > 0.5


def test_a_bend_in_the_trend_does_not_pull_the_onset_early() -> None:
    # The pelvis line stops tilting forward from 30° (a silhouette effect in deep hip flexion), then tucks
    # sharply from parallel. The onset is the sharp corner, not the bend.
    rng = np.random.default_rng(3)
    _, depth = squat_depth(1, -20.0)
    bend = 0.3 * np.clip(30.0 - depth, 0, None)
    tilt = _tilt(depth, 0.0, 15.0) + bend + rng.normal(0, 0.5, depth.size)
    arms_in_the_way = 0.08 * (90.0 - depth) + 3 * _tilt(depth, 40.0, 15.0)  # thorax line disturbed
    onset = _detect(depth, tilt, arms_in_the_way)
    assert onset.wink and "onset from pelvis hinges (best: bent-trend" in onset.model
    assert onset.onset_depth_deg == pytest.approx(_tuck_reached(0.0, -20.0, 15.0), abs=4.0)


def test_the_spine_flexion_locates_the_onset_when_it_agrees() -> None:
    # The pelvis line stalls from 35° (the silhouette effect) and its tuck from 25° hardly shows a corner;
    # the spine-to-pelvis flexion, which departs by as much, has the clean corner at 25°.
    _, depth = squat_depth(1, -20.0)
    stall = 0.3 * np.clip(35.0 - depth, 0, 25.0)
    tilt = _tilt(depth, 25.0, 14.0) + stall
    flex = 0.08 * (90.0 - depth) + _tilt(depth, 25.0, 14.0) - _tilt(depth, None, 0.0) + 0.6 * stall
    onset = _detect(depth, tilt, flex)
    assert onset.wink and "onset from flexion" in onset.model
    assert onset.onset_depth_deg == pytest.approx(_tuck_reached(25.0, -20.0, 14.0), abs=3.0)


@pytest.mark.parametrize(("flexion_ratio", "joins"), [(1.0 + 0.8 * FLEXION_AGREEMENT, True),
                                                       (1.0 + 1.5 * FLEXION_AGREEMENT, False)])
def test_the_spine_flexion_joins_only_when_it_departs_by_about_as_much(flexion_ratio: float, joins: bool) -> None:
    # The flexion departs by flexion_ratio times the pelvis's 14° tuck: within FLEXION_AGREEMENT of it, it
    # helps locate the onset; beyond, the thorax line is taken as disturbed and the pelvis locates it alone.
    _, depth = squat_depth(1, -20.0)
    tilt = _tilt(depth, 25.0, 14.0)
    flex = 0.08 * (90.0 - depth) + _tilt(depth, 25.0, 14.0 * flexion_ratio) - _tilt(depth, None, 0.0)
    onset = _detect(depth, tilt, flex)
    assert onset.wink
    assert ("onset from flexion and pelvis hinges" in onset.model) is joins
    assert ("onset from pelvis hinges" in onset.model) is not joins


def test_a_slow_start_is_read_where_the_tuck_reaches_two_degrees() -> None:
    # A convex tuck: 16° at the bottom, growing with the square of the depth past 30°. Its corner at 30° is
    # invisible in the noise; the onset is where the tuck reaches ONSET_TUCK_DEG, 2/16 of the way in tilt.
    _, depth = squat_depth(1, -20.0)
    tuck = 16.0 * np.clip((30.0 - depth) / 50.0, 0, 1) ** 2
    onset = _detect(depth, _tilt(depth, None, 0.0) + tuck + np.random.default_rng(5).normal(0, 0.5, depth.size))
    assert onset.wink
    assert onset.onset_depth_deg == pytest.approx(30.0 - 50.0 * np.sqrt(ONSET_TUCK_DEG / 16.0), abs=3.0)


def test_spine_flexion_alone_is_not_a_wink() -> None:
    # The spine flexes late but the pelvis keeps its trend: no posterior pelvic tilt, no butt wink.
    _, depth = squat_depth(1, -20.0)
    flex = 0.08 * (90.0 - depth) + _tilt(depth, 0.0, 15.0) - _tilt(depth, None, 0.0)
    assert not _detect(depth, _tilt(depth, None, 0.0), flex).wink


def test_frames_held_at_the_bottom_count_once() -> None:
    x = np.array([0.0, 0.4, 1.2, 1.9, 5.0, 5.0, 5.0, 5.0])
    xb, yb = bin_by_descent(x, 2 * x + np.array([0, 0, 0, 0, 1.0, -1.0, 3.0, 1.0]))
    assert xb == pytest.approx([0.2, 1.55, 5.0]) and yb == pytest.approx([0.4, 3.1, 11.0])
    assert bin_by_descent(np.array([np.nan, 1.0]), np.array([1.0, np.nan]))[0].size == 0


def test_the_ascent_is_a_second_look_at_the_size() -> None:
    # The size is the mean of the descent's and the ascent's departures; with independent noise in the two
    # phases the mean scatters less than the descent alone.
    _, depth = squat_depth(1, -20.0)
    both, down = [], []
    for seed in range(12):
        rng = np.random.default_rng(seed)
        onset = _detect(depth, _tilt(depth, 0.0, 12.0) + rng.normal(0, 1.5, depth.size))
        assert onset.departure_deg == pytest.approx((onset.descent_departure_deg + onset.ascent_departure_deg) / 2)
        both.append(onset.departure_deg)
        down.append(onset.descent_departure_deg)
    assert np.std(both) < 0.9 * np.std(down)
    assert np.mean(both) == pytest.approx(12.0, abs=1.5)
    descent_only = _detect(depth, _tilt(depth, 0.0, 12.0), ascent=False)
    assert descent_only.wink and np.isnan(descent_only.ascent_departure_deg)
    assert descent_only.departure_deg == descent_only.descent_departure_deg


def test_detect_onset_threshold_is_respected() -> None:
    _, depth = squat_depth(1, -20.0)
    tilt = _tilt(depth, 0.0, 6.0)
    assert not _detect(depth, tilt, threshold=8.0).wink
    assert _detect(depth, tilt, threshold=4.0).wink


def test_detect_onset_refuses_when_signal_missing() -> None:
    _, depth = squat_depth(1, -20.0)
    missing = np.full(depth.size, np.nan)
    onset = _detect(depth, missing, missing)
    assert not onset.wink and "valid" in onset.reason and onset.confidence == 0.0


def test_fit_onset_needs_enough_range() -> None:
    x = np.linspace(0, 10, 30)
    assert fit_onset(x, x * 0.1) is None
    assert locate_onset(x, x * 0.1) is None


def test_the_onset_does_not_jump_between_corners_that_fit_about_equally_well() -> None:
    # A slow (convex) tuck fits a sharp late corner and a slow early one almost equally well; picking the
    # single best fit let the noise choose, and one draw in thirty landed 25° off. Weighted over every
    # model, the onset stays at the 2° point in every draw.
    x = np.arange(0.0, 110.0)  # degrees descended, one bin per degree
    tuck = 16.0 * np.clip((x - 60.0) / 50.0, 0, 1) ** 2
    expected = 60.0 + 50.0 * np.sqrt(ONSET_TUCK_DEG / 16.0)
    found = []
    for seed in range(30):
        y = -0.3 * x + tuck + np.random.default_rng(seed).normal(0, 0.5, x.size)
        located = locate_onset(x, y, x0_min=40.0)
        assert located["x_tuck_lo"] <= located["x_tuck"] <= located["x_tuck_hi"]
        found.append(located["x_tuck"])
    assert np.abs(np.array(found) - expected).max() <= 4.0


def test_a_noiseless_rep_just_over_the_threshold_is_not_called_with_certainty() -> None:
    # The rep's own fits are perfect here, but a clip can read every rep's size a degree or two off
    # (CLIP_SIZE_ERROR_DEG): 1° over the threshold must not come out as a sure call.
    _, depth = squat_depth(1, -20.0)
    onset = _detect(depth, _tilt(depth, 0.0, 9.0))
    assert onset.wink and onset.departure_deg == pytest.approx(9.0, abs=0.5)
    assert 0.3 < onset.confidence < 0.8
    clear = _detect(depth, _tilt(depth, 0.0, 14.0))
    assert clear.confidence > 0.99


def test_flexion_and_pelvis_onsets_are_averaged_by_how_well_each_is_pinned_down() -> None:
    def found(x_tuck: float, sd: float, lo: float, hi: float) -> dict[str, float]:
        return {"x0": x_tuck - 1, "x1": float("nan"), "power": 1.0, "departure": 12.0, "bent": False,
                "x_tuck": x_tuck, "x_tuck_sd": sd, "x_tuck_lo": lo, "x_tuck_hi": hi}

    sure, vague = found(80.0, 1.0, 78.0, 83.0), found(90.0, 3.0, 70.0, 95.0)
    combined = combine_onsets(sure, vague)
    assert combined["flexion_weight"] == pytest.approx(0.9)  # 1/1² against 1/3²
    assert combined["x_tuck"] == pytest.approx(81.0)
    assert combined["x_tuck_lo"] == pytest.approx(0.9 * 78.0 + 0.1 * 70.0)  # the ranges' ends, same weights
    assert combined["x_tuck_hi"] == pytest.approx(0.9 * 83.0 + 0.1 * 95.0)
    assert combine_onsets(vague, sure)["x_tuck"] == pytest.approx(81.0)
    # Models that all agree do not claim the whole weight: spreads below the floor count as the floor.
    tight = combine_onsets(found(80.0, 0.01, 80.0, 80.0), found(84.0, ONSET_SD_FLOOR_DEG, 82.0, 86.0))
    assert tight["x_tuck"] == pytest.approx(82.0)


def test_pooling_moves_an_uncertain_onset_toward_the_set_and_keeps_a_sure_one() -> None:
    # Three reps of one set: two read their onset at about 10° with narrow ranges, one at 25° with a range of
    # 40° (its descent hardly pins the onset down).
    depth = np.array([10.0, 11.0, 25.0])
    low, high = np.array([8.0, 9.0, 5.0]), np.array([12.0, 13.0, 45.0])
    pooled, plow, phigh, weight = pool_onset_depths(depth, low, high, spread_deg=3.0)
    # The other two: mean 10.5°, known to within (1² + 3²) / 2 = 5 (deg²); a rep strays from the set by 3° (SD):
    # prior variance 9 + 5 = 14 against the rep's own 10² = 100.
    w = (1 / 14) / (1 / 100 + 1 / 14)
    assert weight[2] == pytest.approx(w) and pooled[2] == pytest.approx((1 - w) * 25.0 + w * 10.5)
    assert np.all(weight[:2] < 0.3) and np.abs(pooled[:2] - depth[:2]).max() < 0.5
    assert np.all(plow <= pooled) and np.all(pooled <= phigh)
    assert np.all(phigh - plow <= high - low + 1e-9)  # a rep's range only narrows
    assert phigh[2] - plow[2] < 0.5 * (high[2] - low[2])


def test_pooling_is_weaker_the_more_reps_may_differ_and_leaves_lone_reps_alone() -> None:
    depth, low, high = np.array([10.0, 25.0]), np.array([8.0, 15.0]), np.array([12.0, 35.0])
    moved = [abs(pool_onset_depths(depth, low, high, spread_deg=s)[0][1] - 25.0) for s in (1.0, 3.0, 10.0)]
    assert moved[0] > moved[1] > moved[2] > 0
    alone = pool_onset_depths(np.array([25.0]), np.array([15.0]), np.array([35.0]))
    assert alone[0][0] == 25.0 and alone[3][0] == 0.0
    with_nan = pool_onset_depths(np.array([10.0, np.nan, 25.0]), np.array([8.0, np.nan, 15.0]),
                                 np.array([12.0, np.nan, 35.0]))
    assert np.isnan(with_nan[0][1]) and with_nan[3][1] == 0.0 and with_nan[0][2] < 25.0


def test_pooled_onsets_are_read_again_in_each_descent() -> None:
    # Three reps with the same onset (0°, 15° of tuck); the third rep's signal is noisy, so its own onset is
    # uncertain. Pooling pulls it toward the others and re-reads its frame, time and hip flexion there.
    t, depth = squat_depth(3, -20.0)
    reps = segment_reps(t, depth)
    assert len(reps) == 3
    rng = np.random.default_rng(11)
    tilt = np.zeros_like(depth)
    for k, rep in enumerate(reps):
        seg = slice(rep.start, rep.end + 1)
        tilt[seg] = _tilt(depth[seg], 0.0, 15.0) + rng.normal(0, 0.3 if k < 2 else 3.0, rep.end + 1 - rep.start)
    flex = 0.08 * (90.0 - depth) + (tilt - _tilt(depth, None, 0.0))
    hip = 90.0 - depth
    onsets = [detect_onset(t, depth, tilt, flex, hip, r.start, r.bottom, r.end) for r in reps]
    assert all(o.wink for o in onsets)
    pooled = pool_onsets(onsets, [r.start for r in reps], [r.bottom for r in reps], t, depth, hip)
    expected = _tuck_reached(0.0, -20.0, 15.0)
    own_width = onsets[2].onset_depth_high_deg - onsets[2].onset_depth_low_deg
    assert pooled[2].onset_set_weight > max(pooled[0].onset_set_weight, pooled[1].onset_set_weight)
    assert abs(pooled[2].onset_depth_deg - expected) <= abs(onsets[2].onset_depth_deg - expected) + 0.5
    assert pooled[2].onset_depth_high_deg - pooled[2].onset_depth_low_deg < own_width
    for rep, before, after in zip(reps, onsets, pooled, strict=True):
        assert after.rep_onset_depth_deg == before.onset_depth_deg  # the rep's own reading is kept
        assert rep.start <= after.onset_frame <= rep.bottom
        assert depth[after.onset_frame] <= after.onset_depth_deg < depth[after.onset_frame - 1]
        assert t[after.onset_frame - 1] <= after.onset_time_s <= t[after.onset_frame]
        assert after.onset_hip_flexion_deg == hip[after.onset_frame]
        assert after.wink_deg == before.wink_deg and after.confidence == before.confidence


def test_the_reported_onset_range_adds_the_thigh_readings_error() -> None:
    fitted = Onset(True, 12.0, 12.0, 0.9, onset_depth_deg=20.0, onset_depth_low_deg=17.0,
                   onset_depth_high_deg=24.0)
    reported = with_depth_reading_margin(fitted)
    assert reported.onset_depth_low_deg == pytest.approx(17.0 - DEPTH_READING_MARGIN_DEG)
    assert reported.onset_depth_high_deg == pytest.approx(24.0 + DEPTH_READING_MARGIN_DEG)
    assert reported.onset_depth_deg == 20.0 and reported.wink_deg == 12.0
    no_onset = Onset(False, 0.0, 1.0, 0.8)
    assert with_depth_reading_margin(no_onset) is no_onset
    # "Uncertain" still means a fit range wider than WIDE_ONSET_RANGE_DEG, margins aside.
    assert not onset_uncertain(reported.onset_depth_low_deg, reported.onset_depth_high_deg)
    wide = with_depth_reading_margin(replace(fitted, onset_depth_low_deg=0.0,
                                             onset_depth_high_deg=WIDE_ONSET_RANGE_DEG + 1))
    assert onset_uncertain(wide.onset_depth_low_deg, wide.onset_depth_high_deg)
