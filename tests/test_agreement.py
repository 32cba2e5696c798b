"""Agreement with what people saw: every real clip of ``../shared/videos`` (INDEX.md there) through a real
batch, checked against what a user expects of it: rep counts, stretches left out, refusals with reasons, and
no confident wink where the back is hidden. Skipped when ``../shared`` is absent (a user's clone has none).

Where buttwink and the people disagree on a clear case and the reading is not fixed yet, the test is marked
``xfail(strict=True)`` with the stage that causes it, so a fix shows up as an unexpected pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from buttwink.batch import run_batch
from buttwink.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "videos"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/videos not present")]

@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """Every clip's batch row, with its summary.json as ``summary`` (None when refused)."""
    out = tmp_path_factory.mktemp("agreement")
    rows = run_batch(sorted(SHARED.glob("*.mp4")), out, Settings(), jobs=2)
    found = {}
    for row in rows:
        folder = out / str(row["report"])
        summary = json.loads((folder / "summary.json").read_text()) if row["status"] == "ok" else None
        found[Path(str(row["clip"])).stem] = {**row, "summary": summary, "folder": folder}
    return found


def reps_of(clip: dict[str, object]) -> list[dict[str, object]]:
    import pandas as pd

    return pd.read_csv(Path(str(clip["folder"])) / "reps.csv").to_dict("records")


def squat_reps(clip: dict[str, object]) -> list[dict[str, object]]:
    """Reps that went deep enough to be judged (assessed or not), i.e. not cut by the clip or too shallow."""
    return [r for r in reps_of(clip) if r["status"] in ("ok", "unassessed")]


@pytest.mark.parametrize(("name", "reason"), [("front_view_3reps", "not a side view"),
                                              ("shallow_squat_oblique", "not a side view"),
                                              ("cropped_no_head_side", "shoulders")])
def test_unusable_views_are_refused_with_the_reason(clips, name: str, reason: str) -> None:
    row = clips[name]
    assert row["status"] == "failed" and reason in str(row["reason"]), row["reason"]
    assert "internal error" not in str(row["reason"])


@pytest.mark.parametrize(("name", "count"), [("bodyweight_deep_side_floorcam", 3), ("side_12reps", 12),
                                             ("gym_backsquat_side", 2), ("side_landmine_5reps", 5),
                                             ("side_small_1rep_hinge", 1), ("gif_1rep_short", 1),
                                             ("side_barbell_rack_occluded", 3)])
def test_rep_counts(clips, name: str, count: int) -> None:
    assert clips[name]["status"] == "ok", clips[name]["reason"]
    assert len(squat_reps(clips[name])) == count


def test_rep_bottoms_where_people_saw_them(clips) -> None:
    bottoms = sorted(r["bottom_time_s"] for r in squat_reps(clips["gym_backsquat_side"]))
    assert bottoms == pytest.approx([10.6, 17.4], abs=1.0)
    bottoms = sorted(r["bottom_time_s"] for r in squat_reps(clips["bodyweight_deep_side_floorcam"]))
    assert bottoms == pytest.approx([2.6, 5.7, 8.4], abs=0.6)


def test_atg_clip_finds_its_deep_reps(clips) -> None:
    reps = squat_reps(clips["side_atg_barbell_3reps"])
    assert 2 <= len(reps) <= 3 and all(r["bottom_depth_deg"] < 0 for r in reps)


def test_picking_the_bar_up_and_setting_it_down_are_not_squats(clips) -> None:
    summary = clips["side_landmine_5reps"]["summary"]
    hinges = summary["not_squats"]
    assert [h["kind"] for h in hinges] == ["hip hinge", "hip hinge"]
    assert hinges[0]["end_time_s"] < 5.0 and hinges[1]["start_time_s"] > 17.0  # at the start and at the end
    assert sum("not a squat" in w for w in summary["warnings"]) == 2


def test_mixed_views_clip_keeps_its_side_view_stretch(clips) -> None:
    row = clips["mixed_views_airsquat_9reps"]
    assert row["status"] == "ok", row["reason"]
    stretches = row["summary"]["stretches"]
    [side] = [s for s in stretches if s["usable"]]
    assert side["start_s"] == pytest.approx(9.0, abs=1.5) and side["end_s"] == pytest.approx(27.0, abs=1.5)
    left_out = [s for s in stretches if not s["usable"]]
    assert left_out[0]["start_s"] == 0.0 and "not a side view" in left_out[0]["reason"]
    assert any(s["start_s"] > 26 and "not a side view" in s["reason"] for s in left_out)
    assert 3 <= len(squat_reps(row)) <= 4
    assert all(side["start_s"] - 0.2 <= r["start_time_s"] <= side["end_s"] for r in reps_of(row))


def test_walking_out_of_frame_is_not_a_rep(clips) -> None:
    row = clips["bodyweight_deep_side_floorcam"]
    assert len(reps_of(row)) == 3
    assert row["summary"]["stretches"][-1]["end_s"] > 10.0


def test_quarter_squats_are_said_to_be_too_shallow(clips) -> None:
    reps = reps_of(clips["side_quarter_squats"])
    assert not [r for r in reps if r["status"] == "ok"]
    assert sum("too shallow" in str(r["reason"]) for r in reps) >= 3


def test_reps_hidden_by_the_rack_are_unassessed_with_the_reason(clips) -> None:
    reps = squat_reps(clips["side_barbell_rack_occluded"])
    assert reps and all(r["status"] == "unassessed" and "back edge" in str(r["reason"]) for r in reps), reps


@pytest.mark.parametrize("name", ["side_barbell_rack_occluded", "side_atg_barbell_3reps", "side_quarter_squats"])
def test_no_confident_wink_where_the_back_is_hidden(clips, name: str) -> None:
    reps = reps_of(clips[name])
    confident = [r for r in reps if r["status"] == "ok" and r["wink"] and r["confidence"] >= 0.5]
    assert not confident, confident


@pytest.mark.parametrize("name", ["side_small_1rep_hinge", "mixed_views_airsquat_9reps"])
def test_flat_backs_are_not_called_winks(clips, name: str) -> None:
    """People saw a flat back (a big hip hinge; a demonstration of good form): no wink called with confidence.
    Until 2026-12-03 the pelvis line's posterior tilt was the wink signal and these were winks (it also read the
    trunk easing back near the bottom); the pelvis read under the trunk does not."""
    winks = [r for r in squat_reps(clips[name]) if r["status"] == "ok" and r["wink"] and r["confidence"] >= 0.5]
    assert not winks


def test_no_clear_tuck_gets_no_confident_wink(clips) -> None:
    """gym_backsquat_side: flat to slightly rounded, no clear tuck; a call only with modest confidence."""
    reps = squat_reps(clips["gym_backsquat_side"])
    assert all(not r["wink"] or r["confidence"] < 0.7 for r in reps)


def test_a_back_seen_rounding_is_called_a_wink_on_most_reps(clips) -> None:
    """bodyweight_deep_side_floorcam: people saw the shirt's back round at the deepest point of each rep."""
    reps = [r for r in squat_reps(clips["bodyweight_deep_side_floorcam"]) if r["status"] == "ok"]
    assert len(reps) == 3 and sum(bool(r["wink"]) for r in reps) >= 2, reps
