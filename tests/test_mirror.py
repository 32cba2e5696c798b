"""The mirror stage: the mirror image's reading mapped back to the clip, and the joined wink calls."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from buttwink.back_contour import back_columns
from buttwink.mirror import (
    MIRROR_PREFIX,
    consensus_reps,
    join_readings,
    pair_reps,
    place_onsets,
    split_readings,
    unflip_table,
)
from buttwink.pose import landmark_columns


def _table(rng: np.random.Generator, n: int = 4) -> pd.DataFrame:
    data = rng.uniform(0, 300, size=(n, len(landmark_columns())))
    table = pd.DataFrame(data, columns=landmark_columns())
    table[back_columns()] = rng.uniform(0, 300, size=(n, len(back_columns())))
    table.insert(0, "detected", True)
    table.insert(0, "time_s", np.arange(n) / 30.0)
    table.insert(0, "frame", np.arange(n))
    return table


def test_unflip_maps_pixels_sides_and_world_x() -> None:
    table = _table(np.random.default_rng(1))
    back = unflip_table(table, 320.0)
    assert np.allclose(back["left_hip_x_px"], 320.0 - table["right_hip_x_px"])
    assert np.allclose(back["left_hip_y_px"], table["right_hip_y_px"])
    assert np.allclose(back["right_knee_visibility"], table["left_knee_visibility"])
    assert np.allclose(back["nose_x_px"], 320.0 - table["nose_x_px"])
    assert np.allclose(back["left_ankle_wx_m"], -table["right_ankle_wx_m"])
    assert np.allclose(back["back_03_x_px"], 320.0 - table["back_03_x_px"])
    assert np.allclose(back["back_03_y_px"], table["back_03_y_px"])
    # Flipping twice gives the table back.
    again = unflip_table(back, 320.0)
    assert np.allclose(again[landmark_columns()].to_numpy(), table[landmark_columns()].to_numpy())


def test_readings_join_and_split_back() -> None:
    rng = np.random.default_rng(2)
    own, other = _table(rng), _table(rng)
    both = join_readings(own, other)
    assert f"{MIRROR_PREFIX}left_hip_x_px" in both and f"{MIRROR_PREFIX}frame" not in both
    got_own, got_mirror = split_readings(both)
    pd.testing.assert_frame_equal(got_own, own)
    assert got_mirror is not None
    assert list(got_mirror.columns) == list(own.columns)
    assert np.allclose(got_mirror[landmark_columns()].to_numpy(), other[landmark_columns()].to_numpy())
    assert split_readings(own)[1] is None
    with pytest.raises(ValueError, match="rows"):
        join_readings(own, other.iloc[:2])


def _reps(*rows: dict) -> pd.DataFrame:
    base = dict(start=0, bottom=20, end=40, start_time_s=0.0, bottom_time_s=1.0, end_time_s=2.0, status="ok",
                reason="", wink=False, wink_deg=0.0, departure_deg=2.0, descent_departure_deg=1.0,
                ascent_departure_deg=1.0, confidence=0.8, model="tilt hinge", onset_frame=np.nan, onset_time_s=np.nan,
                onset_depth_deg=np.nan, onset_depth_low_deg=np.nan, onset_depth_high_deg=np.nan,
                onset_hip_flexion_deg=np.nan, rep_onset_depth_deg=np.nan)
    return pd.DataFrame([{**base, **row} for row in rows])


WINK = dict(wink=True, wink_deg=12.0, departure_deg=12.0, confidence=0.9, onset_frame=10, onset_time_s=0.5,
            onset_depth_deg=20.0, onset_depth_low_deg=12.0, onset_depth_high_deg=28.0, onset_hip_flexion_deg=90.0,
            rep_onset_depth_deg=20.0)


def test_a_wink_needs_both_readings() -> None:
    own = _reps({**WINK}, {**WINK, "start_time_s": 3.0, "bottom_time_s": 4.0, "end_time_s": 5.0})
    mirror = _reps({**WINK, "wink_deg": 16.0, "confidence": 0.6, "onset_depth_deg": 30.0, "onset_depth_low_deg": 22.0,
                    "onset_depth_high_deg": 40.0},
                   {"start_time_s": 3.1, "bottom_time_s": 4.1, "end_time_s": 5.1, "confidence": 0.7})
    out = consensus_reps(own, mirror)
    first, second = out.iloc[0], out.iloc[1]
    assert bool(first["wink"]) and first["wink_deg"] == pytest.approx(14.0)
    assert first["confidence"] == pytest.approx(0.6)  # the lower of two agreeing calls
    assert first["onset_depth_deg"] == pytest.approx(25.0)
    assert (first["onset_depth_low_deg"], first["onset_depth_high_deg"]) == (12.0, 40.0)  # spans both ranges
    assert not bool(second["wink"]) and second["wink_deg"] == 0.0
    assert second["confidence"] == 0.0 and "disagree" in second["reason"]
    assert np.isnan(second["onset_depth_deg"])
    assert second["status"] == "ok"
    assert "mirror image: no wink" in second["model"] and "mirror image: wink of 16°" in first["model"]
    from buttwink.report_figure import rep_banner

    assert "disagree" in rep_banner({**second.to_dict(), "rep": 2})
    # Each reading's own tuck is kept, and the verdicts show both.
    assert (first["own_departure_deg"], first["mirror_departure_deg"]) == (12.0, 12.0)
    assert (second["own_departure_deg"], second["mirror_departure_deg"]) == (12.0, 2.0)
    assert "clip 12°, mirror image 12°" in rep_banner({**first.to_dict(), "rep": 1})
    assert "clip 12°, mirror image 2° of tuck" in rep_banner({**second.to_dict(), "rep": 2})
    # Two agreeing no-wink calls keep the lower confidence.
    calm = consensus_reps(_reps({"confidence": 0.9}), _reps({"confidence": 0.4}))
    assert not bool(calm.iloc[0]["wink"]) and calm.iloc[0]["confidence"] == pytest.approx(0.4)


def test_a_rep_the_mirror_cannot_assess_is_unassessed() -> None:
    own = _reps({**WINK}, {**WINK, "start_time_s": 3.0, "bottom_time_s": 4.0, "end_time_s": 5.0},
                {"status": "partial", "reason": "starts before the clip", "start_time_s": 6.0, "end_time_s": 7.0})
    mirror = _reps({"status": "unassessed", "reason": "the traced back edge jumps"})
    out = consensus_reps(own, mirror)
    assert list(out["status"]) == ["unassessed", "unassessed", "partial"]
    assert "mirror image" in out.iloc[0]["reason"] and "jumps" in out.iloc[0]["reason"]
    assert "no such rep" in out.iloc[1]["reason"]
    assert out.iloc[2]["reason"] == "starts before the clip"  # not an assessed rep: left as it was
    assert not out["wink"].astype(bool).any() and (out["confidence"] == 0.0).iloc[:2].all()
    refused = consensus_reps(own, None, "not a side view")
    assert "not a side view" in refused.iloc[0]["reason"]


def test_reps_pair_by_span_overlap_once() -> None:
    own = _reps({"start_time_s": 0.0, "end_time_s": 2.0}, {"start_time_s": 2.2, "end_time_s": 4.0})
    mirror = _reps({"start_time_s": 1.2, "end_time_s": 3.0}, {"start_time_s": 2.5, "end_time_s": 4.2})
    assert pair_reps(own, mirror) == [None, 1]  # 0.8 s of 1.8 s overlap is too little for the first
    assert pair_reps(own, _reps({"start_time_s": 0.1, "end_time_s": 3.5})) == [0, None]


def test_onset_frame_is_placed_at_the_joined_depth() -> None:
    frames = pd.DataFrame({"time_s": np.arange(41) / 20.0, "depth_deg": np.r_[np.linspace(90, 0, 21),
                                                                                 np.linspace(0, 90, 21)[1:]]})
    reps = _reps({**WINK, "onset_depth_deg": 45.0})
    placed = place_onsets(reps, frames)
    row = int(placed.iloc[0]["onset_frame"])
    assert abs(frames["depth_deg"][row] - 45.0) <= 90 / 20 / 2 + 1e-9 and row <= 20
    assert placed.iloc[0]["onset_time_s"] == pytest.approx(frames["time_s"][row])


def test_a_track_read_both_ways_joins_the_calls(sample_clip, model_info) -> None:
    """On the bundled render, the clip read with its mirror image: both readings are there, in the clip's own
    pixels, and every wink the joined calls keep is one the clip's own reading made."""
    from buttwink.pipeline import analyze_track, estimate_clip
    from buttwink.settings import Settings

    track = estimate_clip(sample_clip, model=model_info, mirror=True, max_height=360)
    own, mirror = split_readings(track.table)
    assert mirror is not None and len(mirror) == len(own)
    gap = np.nanmedian(np.abs(own["left_hip_x_px"] - mirror["left_hip_x_px"]))
    assert gap < 10.0  # the same hip, read twice, in the same pixels (the picture is 480 px wide)
    joined = analyze_track(track, Settings())
    alone = analyze_track(replace(track, table=own), Settings())
    assert len(joined.reps) == len(alone.reps)
    assert set(joined.reps.index[joined.reps["wink"].astype(bool)]) <= set(alone.reps.index[alone.reps["wink"]
                                                                                        .astype(bool)])
    assert joined.reps["wink"].astype(bool).sum() >= 2  # the render's three winks are no test of the mirror
    # if both readings miss them
    off = analyze_track(track, Settings(mirror_consensus=False))
    pd.testing.assert_frame_equal(off.reps, alone.reps)
    assert joined.mirror_joined and not off.mirror_joined and not alone.mirror_joined
    assert any("without the mirror image" in w for w in alone.warnings)  # one reading where two were asked for
    assert not any("without the mirror image" in w for w in off.warnings + joined.warnings)
