"""The static-edge check: a straight edge that stays put in the picture while the body moves past it (a rack
upright, a door frame, a wall corner the person mask has bled onto) is not read as the back. Synthetic
stick-figure tracks with a known back contour (tests/test_report_figure.make_track), edited by hand."""

import numpy as np
import pandas as pd
import pytest
from tests.test_report_figure import FPS, make_track

from buttwink.back_contour import BACK_STATIONS, back_columns
from buttwink.edge_check import (
    LOWER_BACK,
    STATIC_CROSSING_TRUNK,
    TOLERATED_FRACTION,
    UNASSESSED_FRACTION,
    disturbed_fraction,
    edge_assessment,
    edge_confidence,
    edge_jumps,
    static_edge_crossing,
    static_edges,
)
from buttwink.pipeline import PoseTrack, analyze_track, measure_frames, measure_reps
from buttwink.pose import landmark_xy
from buttwink.settings import Settings
from buttwink.view import assess_view

TRUNK_PX = 0.3 * 240  # make_track's trunk length (pixels)
XY_COLUMNS = np.array(back_columns()).reshape(-1, 2)  # (stations, 2): the x and y column of each station


def on_upright(track: PoseTrack, rows: range, stations: tuple[float, float] = (0.1, 0.45),
               fixed_points: bool = False) -> PoseTrack:
    """The track with the back edge at ``stations`` (fractions hip -> shoulder) on a fixed vertical image line
    just behind the body, in ``rows``: what the tracer finds when the mask has bled onto a rack upright. Each
    station's ray (from the trunk axis, straight backwards) meets the line at its own height, so the points
    slide down the line with the body. With ``fixed_points`` they stay where they were in the first row."""
    table = track.table.copy()
    hip, shoulder = landmark_xy(table, "left_hip"), landmark_xy(table, "left_shoulder")
    up = (shoulder - hip) / np.linalg.norm(shoulder - hip, axis=1)[:, None]
    backward = np.stack([up[:, 1], -up[:, 0]], axis=1)  # perpendicular to the trunk, behind (faces right)
    sel = np.flatnonzero((stations[0] - 1e-9 <= BACK_STATIONS) & (stations[1] + 1e-9 >= BACK_STATIONS))
    assert LOWER_BACK[sel].all()
    rows_ = np.asarray(rows)
    x_line = float(np.nanmin(table.loc[rows_, XY_COLUMNS[sel, 0]].to_numpy())) - 0.02 * TRUNK_PX
    for i in rows_:
        origin = hip[i][None, :] + (BACK_STATIONS[sel] * TRUNK_PX)[:, None] * up[i][None, :]
        reach = (x_line - origin[:, 0]) / backward[i, 0]
        table.loc[i, XY_COLUMNS[sel, 0]] = x_line
        table.loc[i, XY_COLUMNS[sel, 1]] = origin[:, 1] + reach * backward[i, 1]
    if fixed_points:
        first = table.loc[rows_[0], XY_COLUMNS[sel, 1]].to_numpy(float)
        table.loc[rows_, XY_COLUMNS[sel, 1]] = np.tile(first, (len(rows_), 1))
    return PoseTrack(table, track.video, track.model)


def still_track(n_frames: int = 150, sway_trunk: float = 0.01, drop_trunk: float = 0.0) -> PoseTrack:
    """make_track's standing first frame held for ``n_frames``: the body sways back and forth by
    ``sway_trunk`` trunk lengths (0.5 Hz) and moves straight down and up by ``drop_trunk`` (1 Hz) with its
    back upright, so its straight back slides along one vertical image line. Camera static."""
    base = make_track()
    rng = np.random.default_rng(1)
    table = base.table.iloc[[0] * n_frames].reset_index(drop=True)
    t = np.arange(n_frames) / FPS
    table["frame"], table["time_s"] = np.arange(n_frames), t
    dx = sway_trunk * TRUNK_PX * np.sin(2 * np.pi * 0.5 * t)
    dy = drop_trunk * TRUNK_PX * 0.5 * (1 - np.cos(2 * np.pi * 1.0 * t))
    for column in table.columns:
        if column.endswith("_x_px"):
            table[column] = table[column] + dx + rng.normal(0, 0.2, n_frames)
        elif column.endswith("_y_px"):
            table[column] = table[column] + dy + rng.normal(0, 0.2, n_frames)
    video = {**base.video, "frame_count": n_frames, "duration_s": n_frames / FPS}
    return PoseTrack(table, video, base.model)


def descent_rows(reps: pd.DataFrame, k: int) -> range:
    return range(int(reps.iloc[k]["start"]), int(reps.iloc[k]["bottom"]) + 1)


def test_a_back_that_follows_the_body_never_stays_put() -> None:
    track = make_track()  # two squats, the second with a posterior pelvic tilt at the bottom
    crossing = static_edge_crossing(track.table, FPS)
    assert np.isfinite(crossing).all()
    assert np.nanmax(crossing) < 0.5 * STATIC_CROSSING_TRUNK
    assert not static_edges(track.table, FPS).any()


@pytest.mark.parametrize("fixed_points", [False, True], ids=["sliding-down-the-line", "fixed-points"])
def test_an_upright_behind_the_lifter_is_found_where_the_jump_check_is_blind(fixed_points: bool) -> None:
    clean = analyze_track(make_track()).reps
    track = on_upright(make_track(), range(len(make_track().table)), fixed_points=fixed_points)
    static = static_edges(track.table, FPS)
    jumps = edge_jumps(track.table, "left", FPS)
    for k in range(2):
        rows = descent_rows(clean, k)
        assert disturbed_fraction(static, rows.start, rows.stop - 1) > 0.8
        assert disturbed_fraction(jumps, rows.start, rows.stop - 1) < TOLERATED_FRACTION


def test_a_rep_traced_on_an_upright_is_unassessed_with_the_reason() -> None:
    clean = analyze_track(make_track()).reps
    assert list(clean["status"]) == ["ok", "ok"] and bool(clean.iloc[1]["wink"])
    second = clean.iloc[1]
    rows = range(int(second["start"]) - 10, int(second["end"]) + 1)
    analysis = analyze_track(on_upright(make_track(), rows))
    reps = analysis.reps
    assert reps.iloc[0]["status"] == "ok" and reps.iloc[0]["confidence"] == pytest.approx(clean.iloc[0]["confidence"])
    assert reps.iloc[1]["status"] == "unassessed"
    assert not bool(reps.iloc[1]["wink"]) and reps.iloc[1]["confidence"] < 0.5
    reason = str(reps.iloc[1]["reason"])
    assert reason.startswith("the traced back edge stays put in the picture while the body moves past it")
    assert "not the back" in reason
    assert analysis.frames["back_edge_static"].to_numpy(bool)[descent_rows(clean, 1)].mean() >= UNASSESSED_FRACTION
    assert not analysis.frames["back_edge_static"].to_numpy(bool)[descent_rows(clean, 0)].any()


def test_a_few_static_frames_lower_the_confidence_without_hiding_the_rep() -> None:
    track = make_track()
    view = assess_view(track.table, 320, 240)
    frames = measure_frames(track, view, Settings())
    clean = measure_reps(frames, Settings())
    rows = descent_rows(clean, 1)
    frames.loc[rows.start + 5:rows.start + 7, "back_edge_static"] = True  # 3 of the descent's frames
    reps = measure_reps(frames, Settings())
    factor = edge_confidence(3 / len(rows))
    assert 0.0 < factor < 1.0
    assert reps.iloc[1]["status"] == "ok"
    assert reps.iloc[1]["confidence"] == pytest.approx(clean.iloc[1]["confidence"] * factor)
    assert reps.iloc[0]["confidence"] == pytest.approx(clean.iloc[0]["confidence"])


def test_the_reason_names_the_larger_cause_and_the_shares_add_up() -> None:
    n = 100
    jumps, static = np.zeros(n, bool), np.zeros(n, bool)
    assert edge_assessment(jumps, static, 0, n - 1) == (0.0, "")
    jumps[:8], static[50:62] = True, True
    share, reason = edge_assessment(jumps, static, 0, n - 1)
    assert share == pytest.approx(0.20) and share >= UNASSESSED_FRACTION
    assert reason.startswith("the traced back edge stays put in the picture") and "also jumps in 8%" in reason
    share, reason = edge_assessment(static, jumps, 0, n - 1)
    assert reason.startswith("the traced back edge jumps in 12%") and "stays put while the body moves in 8%" in reason
    static[5:8] = False  # frames flagged by both are counted once
    jumps[50:53] = True
    assert edge_assessment(jumps, static, 0, 49)[0] == pytest.approx(8 / 50)


def test_standing_still_in_front_of_a_door_frame_is_no_alarm() -> None:
    """Camera and person still: a standing back is a straight edge that stays put, and so is a door frame it
    has merged with; neither is flagged (nothing moves past it), and no rep is found."""
    track = still_track()
    assert not static_edges(track.table, FPS).any()
    framed = on_upright(track, range(len(track.table)), stations=(-0.05, 0.6))
    assert not static_edges(framed.table, FPS).any()
    assert analyze_track(framed).reps.empty


def test_frames_without_a_contour_or_hips_are_not_flagged() -> None:
    track = on_upright(make_track(), range(200))
    table = track.table.copy()
    table.loc[100:, back_columns()] = np.nan  # no edge traced from frame 100 on
    static = static_edges(table, FPS)
    assert static[:100].any() and not static[100:].any()
    no_hips = table.copy()
    no_hips[["left_hip_x_px", "right_hip_x_px"]] = np.nan  # no trunk axis: the body's place is unknown
    assert not static_edges(no_hips, FPS).any()
    assert not static_edges(table.drop(columns=back_columns()), FPS).any()
    assert len(static_edges(table.iloc[:2], FPS)) == 2


def test_a_back_moving_along_its_own_line_is_no_alarm() -> None:
    """An upright back going straight down slides along one vertical image line, as a rack upright's edge
    does; it is the body's because it keeps its place across the line relative to the body."""
    track = still_track(sway_trunk=0.0, drop_trunk=0.6)
    hip_y = landmark_xy(track.table, "left_hip")[:, 1]
    assert np.ptp(hip_y) > 0.5 * TRUNK_PX
    assert np.nanmax(static_edge_crossing(track.table, FPS)) < 0.5 * STATIC_CROSSING_TRUNK
    # The same body sliding down while its edge is a door frame 0.05 trunk lengths behind: still no motion
    # across the line, so still nothing to tell it by.
    framed = on_upright(track, range(len(track.table)), stations=(0.0, 0.5))
    assert not static_edges(framed.table, FPS).any()
    # ... but the body also swaying past the frame by a third of the trunk length is caught.
    swaying = still_track(sway_trunk=0.17, drop_trunk=0.6)
    framed = on_upright(swaying, range(len(swaying.table)), stations=(0.0, 0.5))
    assert static_edges(framed.table, FPS).mean() > 0.5
