"""The overhang check: something hanging off the lower back (a loose shirt's hem, a hand on the hip) makes the
traced edge step in below it, and a rep whose descent shows that is not read as the back. Synthetic
stick-figure tracks with a known back contour (tests/test_report_figure.make_track), edited by hand."""

import numpy as np
import pytest
from tests.test_edge_static import TRUNK_PX, XY_COLUMNS, descent_rows
from tests.test_report_figure import make_track

from buttwink.back_contour import BACK_STATIONS
from buttwink.edge_check import (
    OVERHANG_STATIONS,
    OVERHANG_TRUNK,
    UNASSESSED_FRACTION,
    edge_assessment,
    edge_depths,
    overhang_steps,
    overhangs,
)
from buttwink.pipeline import PoseTrack, analyze_track
from buttwink.pose import landmark_xy


def hanging_off(track: PoseTrack, rows: range, out_trunk: float, hem: float = 0.0) -> PoseTrack:
    """The track with the back edge at the stations from ``hem`` (fraction of the trunk above the hips) up to
    0.6 moved ``out_trunk`` trunk lengths further behind the trunk axis, in ``rows``: a shirt hanging off the
    lower back with its hem at ``hem``; below the hem the edge is the body's."""
    table = track.table.copy()
    hip, shoulder = landmark_xy(table, "left_hip"), landmark_xy(table, "left_shoulder")
    up = (shoulder - hip) / np.linalg.norm(shoulder - hip, axis=1)[:, None]
    backward = np.stack([up[:, 1], -up[:, 0]], axis=1)  # perpendicular to the trunk, behind (faces right)
    sel = np.flatnonzero((hem - 1e-9 <= BACK_STATIONS) & (BACK_STATIONS <= 0.6 + 1e-9))
    for i in np.asarray(rows):
        for axis in (0, 1):
            cols = XY_COLUMNS[sel, axis]
            table.loc[i, cols] = table.loc[i, cols].to_numpy(float) + out_trunk * TRUNK_PX * backward[i, axis]
    return PoseTrack(table, track.video, track.model)


def test_edge_depths_are_trunk_lengths_behind_the_axis() -> None:
    track = make_track()
    rows = range(40, 60)
    before = edge_depths(track.table)
    after = edge_depths(hanging_off(track, rows, 0.1).table)
    assert np.isfinite(before[rows.start]).sum() >= 15 and (before[np.isfinite(before)] > 0).all()
    moved = (BACK_STATIONS >= -1e-9) & (BACK_STATIONS <= 0.6 + 1e-9)
    change = after - before
    # the landmarks wobble a little (make_track's noise), so the trunk length does too
    np.testing.assert_allclose(change[np.asarray(rows)][:, moved], 0.1, rtol=0.01)
    assert np.nanmax(np.abs(change[np.asarray(rows)][:, ~moved])) < 1e-9
    assert np.nanmax(np.abs(change[: rows.start])) < 1e-9


@pytest.mark.parametrize("hem", [-0.1, 0.0, 0.2])
def test_a_hem_is_a_step_of_its_size_and_a_back_is_not(hem: float) -> None:
    track = make_track()
    rows = range(40, 60)
    clean = overhang_steps(track.table)
    assert np.nanmax(clean[:100]) < OVERHANG_TRUNK / 5  # make_track's back in its first squat: no step
    assert not overhangs(track.table).any()  # (its second squat's tuck bends the edge at the hip, < 0.1)
    big = hanging_off(track, rows, 0.15, hem).table
    steps = overhang_steps(big)[np.asarray(rows)]
    np.testing.assert_allclose(steps, 0.15 + clean[np.asarray(rows)], atol=0.02)
    assert overhangs(big)[np.asarray(rows)].all() and not overhangs(big)[: rows.start].any()
    small = hanging_off(track, rows, 0.05, hem).table  # half the threshold: the back's own turn, say
    assert not overhangs(small).any()


def test_a_hem_above_the_lower_back_is_not_looked_at() -> None:
    track = make_track()
    hem = OVERHANG_STATIONS[1] + 0.15
    table = hanging_off(track, range(40, 60), 0.2, hem).table
    assert not overhangs(table).any()


def test_a_rep_with_something_hanging_off_its_back_is_unassessed_with_the_reason() -> None:
    clean = analyze_track(make_track()).reps
    assert list(clean["status"]) == ["ok", "ok"] and bool(clean.iloc[1]["wink"])
    rows = descent_rows(clean, 1)
    bottom_half = range(rows.start + len(rows) // 2, int(clean.iloc[1]["end"]) + 1)
    analysis = analyze_track(hanging_off(make_track(), bottom_half, 0.15))
    reps = analysis.reps
    assert reps.iloc[0]["status"] == "ok" and reps.iloc[0]["confidence"] == pytest.approx(clean.iloc[0]["confidence"])
    assert reps.iloc[1]["status"] == "unassessed"
    assert not bool(reps.iloc[1]["wink"]) and reps.iloc[1]["confidence"] == 0
    reason = str(reps.iloc[1]["reason"])
    assert reason.startswith("something hangs off the lower back in ") and "not the back" in reason
    flagged = analysis.frames["back_edge_overhang"].to_numpy(bool)
    assert flagged[rows].mean() >= UNASSESSED_FRACTION and not flagged[descent_rows(clean, 0)].any()


def test_the_reason_names_every_cause_largest_first() -> None:
    n = 100
    jumps, static, hanging = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
    jumps[10:15] = True
    static[20:30] = True
    hanging[12:42] = True
    share, reason = edge_assessment(jumps, static, 0, 99, hanging)
    assert share == pytest.approx(0.32)  # frames 10..41, each counted once
    assert reason.startswith("something hangs off the lower back in 30%")
    assert reason.index("stays put while the body moves in 10%") < reason.index("also jumps in 5%")
    assert edge_assessment(jumps, static, 0, 99) == edge_assessment(jumps, static, 0, 99, np.zeros(n, bool))
    assert edge_assessment(np.zeros(n, bool), np.zeros(n, bool), 0, 99, np.zeros(n, bool)) == (0.0, "")
