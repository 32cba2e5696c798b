"""The pipeline on real squat footage from ../shared/videos (skipped when that folder is absent).

No ground truth exists for these clips; the tests check what a user would expect of each (see
../shared/videos/INDEX.md): side views analysed with reps and a verdict per rep, unusable views refused
with a clear reason rather than a made-up result.
"""

from pathlib import Path

import pytest

from buttwink.pipeline import ClipError, analyze

SHARED = Path(__file__).resolve().parents[2] / "shared" / "videos"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/videos not present")]


def test_deep_bodyweight_side_view_is_analysed() -> None:
    result = analyze(SHARED / "bodyweight_deep_side_floorcam.mp4")
    view = result.analysis.view
    assert view.usable and view.view_yaw_deg < 30
    reps = result.reps
    assert len(reps) == 3  # three deep bodyweight squats in the clip
    assert (reps["bottom_depth_deg"] < 5).all()  # all reach about parallel or below
    assert reps["status"].eq("ok").all()
    assert reps["confidence"].between(0, 1).all()
    summary = result.summary()
    assert summary["reps_assessed"] == 3 and summary["verdict"]


def test_chest_cropped_clip_is_refused_naming_the_shoulders() -> None:
    clip = SHARED / "cropped_no_head_side.mp4"
    with pytest.raises(ClipError) as err:
        analyze(clip)
    message = str(err.value)
    assert "shoulders" in message and str(clip) in message and "\n" not in message


def test_oblique_clip_is_refused_as_not_a_side_view() -> None:
    with pytest.raises(ClipError, match="not a side view"):
        analyze(SHARED / "shallow_squat_oblique.mp4")


def test_many_reps_clip_finds_every_rep() -> None:
    result = analyze(SHARED / "side_12reps.mp4")
    assert len(result.reps) == 12
    assert result.reps["status"].eq("ok").all()
