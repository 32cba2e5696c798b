"""The back-edge check: a traced edge that jumps like no back can (a rack, a plate, an arm) is not read as the
back. Synthetic stick-figure tracks with a known back contour (tests/test_report_figure.make_track)."""

import numpy as np
import pytest
from tests.test_report_figure import FPS, make_track

from buttwink.back_contour import back_columns
from buttwink.edge_check import (
    TOLERATED_FRACTION,
    UNASSESSED_FRACTION,
    disturbed_fraction,
    edge_confidence,
    edge_jumps,
)
from buttwink.pipeline import PoseTrack, analyze_track


def with_foreign_edge(track: PoseTrack, rows: range, every: int) -> PoseTrack:
    """The track with the lower back's edge thrown 0.25 trunk lengths back on every ``every``-th row of
    ``rows``, as when a rack upright or a plate behind the lifter joins the mask now and then."""
    table = track.table.copy()
    columns = [c for c in back_columns() if c.endswith("_x_px")]
    trunk = 0.3 * 240
    for i in rows:
        if i % every == 0:
            table.loc[i, columns[:12]] -= 0.25 * trunk
    return PoseTrack(table, track.video, track.model)


def test_a_clean_back_edge_never_jumps() -> None:
    track = make_track()
    jumps = edge_jumps(track.table, "left", FPS)
    assert not jumps.any()


def test_jumps_are_found_where_the_edge_leaves_the_body() -> None:
    track = with_foreign_edge(make_track(), range(120, 150), every=3)
    jumps = edge_jumps(track.table, "left", FPS)
    flagged = np.flatnonzero(jumps)
    assert flagged.min() >= 120 and flagged.max() <= 151  # a jump away and a jump back
    assert jumps[120:152].sum() >= 15
    assert disturbed_fraction(jumps, 120, 151) > 0.4 and disturbed_fraction(jumps, 0, 100) == 0.0


def test_confidence_falls_with_the_disturbed_share() -> None:
    assert edge_confidence(0.0) == 1.0 and edge_confidence(TOLERATED_FRACTION) == 1.0
    assert edge_confidence(UNASSESSED_FRACTION) == 0.0
    assert 0.0 < edge_confidence((TOLERATED_FRACTION + UNASSESSED_FRACTION) / 2) < 1.0


def test_a_rep_whose_back_edge_is_not_the_body_is_unassessed_with_the_reason() -> None:
    clean = analyze_track(make_track())
    assert list(clean.reps["status"]) == ["ok", "ok"]
    second = clean.reps.iloc[1]
    disturbed = with_foreign_edge(make_track(), range(int(second["start"]), int(second["bottom"]) + 1), every=4)
    reps = analyze_track(disturbed).reps
    assert reps.iloc[0]["status"] == "ok"
    assert reps.iloc[1]["status"] == "unassessed"
    assert "traced back edge jumps" in reps.iloc[1]["reason"] and "not the back's own edge" in reps.iloc[1]["reason"]


def test_a_few_jumps_lower_the_confidence_without_hiding_the_rep() -> None:
    clean = analyze_track(make_track()).reps
    second = clean.iloc[1]
    start, bottom = int(second["start"]), int(second["bottom"])
    # One bad frame (a jump away and back) in the descent: about 2 of its ~33 frames jump.
    disturbed = with_foreign_edge(make_track(), range(start + 5, start + 6), every=1)
    reps = analyze_track(disturbed).reps
    frac = 2 / (bottom - start + 1)
    assert reps.iloc[1]["status"] == "ok"
    assert reps.iloc[1]["confidence"] == pytest.approx(clean.iloc[1]["confidence"] * edge_confidence(frac), abs=0.05)
