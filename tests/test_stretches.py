"""Views over time (stretches.py) on hand-built landmark tables with known geometry, and the rules that keep
picking a bar up (a hip hinge) and walking (a step) out of the reps."""

import itertools

import numpy as np
import pandas as pd
import pytest
from tests.test_report_figure import make_track
from tests.test_view import H, W, _table

from buttwink.kinematics import feet_forward
from buttwink.pipeline import PoseTrack, analyze_track
from buttwink.reps import STEP_FOOT_TRAVEL, Rep, segment_reps, split_non_squats
from buttwink.stretches import (
    FRONT,
    MAX_TURN_S,
    NOBODY,
    OUT,
    SIDE,
    TURN,
    describe_left_out,
    find_stretches,
    frame_labels,
)

FPS = 30


def clip_of(*parts: tuple[str, float]) -> pd.DataFrame:
    """A landmarks table made of (kind, seconds) parts: "side", "side-left" (facing image-left), "front",
    "nobody" or "out"."""
    tables = []
    for kind, seconds in parts:
        n = int(round(seconds * FPS))
        table = _table(80.0 if kind == "front" else 0.0, facing=-1.0 if kind == "side-left" else 1.0, n=n)
        if kind == "nobody":
            table.loc[:, table.columns[3:]] = np.nan
            table["detected"] = False
        if kind == "out":  # the ankles and knees below the bottom of the picture
            for side in ("left", "right"):
                for joint in ("knee", "ankle"):
                    table[f"{side}_{joint}_y_px"] = H + 80.0
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    table["frame"] = np.arange(len(table))
    table["time_s"] = np.arange(len(table)) / FPS
    return table


def test_each_frame_is_labelled_by_what_it_shows() -> None:
    table = clip_of(("front", 2), ("side", 2), ("nobody", 1), ("out", 1))
    labels = frame_labels(table, W, H, fps=FPS)
    assert (labels[10:50] == FRONT).all()  # the 1 s running median lags by half a second at the change
    assert (labels[75:120] == SIDE).all()
    assert (labels[120:150] == NOBODY).all() and (labels[150:] == OUT).all()


def test_a_clip_that_changes_view_keeps_its_side_view_stretch() -> None:
    table = clip_of(("front", 3), ("side", 4), ("front", 3), ("nobody", 2))
    stretches = find_stretches(table, W, H)
    assert [s.kind for s in stretches] == [FRONT, SIDE, FRONT, NOBODY]
    side = stretches[1]
    assert side.usable and side.start_s == pytest.approx(3.0, abs=0.6) and side.end_s == pytest.approx(7.0, abs=0.6)
    assert [s.usable for s in stretches] == [False, True, False, False]
    assert stretches[0].start == 0 and stretches[-1].end == len(table) - 1
    assert all(a.end + 1 == b.start for a, b in itertools.pairwise(stretches))  # every row once
    note = describe_left_out(stretches)
    assert note.startswith("left out: 0.0–") and "not a side view" in note and "no person" in note


def test_a_turn_between_side_views_facing_opposite_ways_is_named_and_both_are_kept() -> None:
    table = clip_of(("side", 3), ("front", 0.8), ("side-left", 3))
    stretches = find_stretches(table, W, H)
    assert [s.kind for s in stretches] == [SIDE, TURN, SIDE]
    assert [s.usable for s in stretches] == [True, False, True]
    assert stretches[1].reason.startswith("a turn") and "turn" in describe_left_out(stretches)
    assert all(a.end + 1 == b.start for a, b in itertools.pairwise(stretches))
    # the same short front-view run between side views facing the same way stays part of the side view
    same_way = find_stretches(clip_of(("side", 3), ("front", 0.8), ("side", 3)), W, H)
    assert [s.kind for s in same_way] == [SIDE]


def test_a_cut_to_the_other_facing_splits_the_side_view_and_a_flicker_does_not() -> None:
    cut = find_stretches(clip_of(("side", 3), ("side-left", 3)), W, H)
    assert [(s.kind, s.usable) for s in cut] == [(SIDE, True), (SIDE, True)]
    assert cut[0].end_s == pytest.approx(3.0, abs=0.1)
    flicker = clip_of(("side", 3), ("side-left", 0.3), ("side", 3))  # the feet misread for 0.3 s
    assert [s.kind for s in find_stretches(flicker, W, H)] == [SIDE]


def test_a_short_side_view_with_a_flickering_facing_stays_whole() -> None:
    """No facing holds 1 s in a 1.2 s side view (the feet misread for 0.1 s): it takes its most common
    facing and stays one usable stretch (the chest-cropped real clip at half the frame rate was cut into
    pieces too short for a rep this way)."""
    table = clip_of(("nobody", 1), ("side", 0.3), ("side-left", 0.1), ("side", 0.8), ("nobody", 1))
    stretches = find_stretches(table, W, H)
    assert [(s.kind, s.usable) for s in stretches] == [(NOBODY, False), (SIDE, True), (NOBODY, False)]


def test_a_long_front_view_between_opposite_side_views_is_not_a_turn() -> None:
    table = clip_of(("side", 3), ("front", MAX_TURN_S + 1.5), ("side-left", 3))
    assert [s.kind for s in find_stretches(table, W, H)] == [SIDE, FRONT, SIDE]


def test_squats_facing_one_way_then_the_other_are_all_measured() -> None:
    """One clip: two squats facing image-right, then the same two mirrored (facing left). Read as one side
    view, the second half's depth came out as 180° minus the thigh angle and no rep could be assessed."""
    first = make_track()
    width = 320
    mirrored = first.table.copy()
    for column in [c for c in mirrored.columns if c.endswith("_x_px")]:
        mirrored[column] = width - mirrored[column]
    table = pd.concat([first.table, mirrored], ignore_index=True)
    table["frame"] = np.arange(len(table))
    table["time_s"] = table["frame"] / float(FPS)
    analysis = analyze_track(PoseTrack(table, first.video, first.model))
    reps = analysis.reps
    alone = analyze_track(make_track()).reps
    assert len(reps) == 2 * len(alone) == 4
    assert list(reps["status"]) == ["ok"] * 4
    assert reps["top_depth_deg"].between(80, 100).all()
    assert list(reps["wink"].astype(bool)) == 2 * list(alone["wink"].astype(bool))
    kinds = [s["kind"] for s in analysis.stretches]
    assert kinds == [SIDE, SIDE]


def test_a_short_blip_inside_a_side_view_is_not_a_new_stretch() -> None:
    table = clip_of(("side", 3), ("nobody", 0.5), ("side", 3))
    stretches = find_stretches(table, W, H)
    assert len(stretches) == 1 and stretches[0].usable and stretches[0].kind == SIDE


def test_a_side_view_too_short_for_a_rep_is_left_out_with_the_reason() -> None:
    table = clip_of(("front", 3), ("side", 0.6), ("front", 3))
    stretches = find_stretches(table, W, H, min_stretch_s=0.8)
    side = [s for s in stretches if s.kind == SIDE]
    assert side and not side[0].usable and "a rep needs at least 0.8 s" in side[0].reason
    assert not any(s.usable for s in stretches)


@pytest.mark.parametrize(("shoulder_y", "label"), [(0.0, OUT), (0.01 * H, OUT), (0.05 * H, SIDE)])
def test_shoulders_hugging_the_top_edge_are_out_of_the_picture(shoulder_y: float, label: str) -> None:
    """A clip cropped at the chest: MediaPipe puts the unseen shoulders on the border, a few pixels in or out
    from frame to frame; on the border they count as out of the picture, clearly inside as in it."""
    labels = frame_labels(_table(0.0, shoulder_y=shoulder_y), W, H)
    assert set(labels) == {label}


def test_a_clip_in_which_the_person_never_stands_up_is_refused_with_the_reason() -> None:
    """The angles are read relative to standing: frames from the bottom half of a squat alone (as when the
    shoulders are out of the picture whenever the person stands) have no standing posture to measure from."""
    from buttwink.pipeline import ClipError, PoseTrack, analyze_track

    track = make_track()
    assert not analyze_track(track).reps.empty  # the whole clip, standing between squats, is analysed
    depth = np.degrees(np.arctan2(track.table["left_knee_y_px"] - track.table["left_hip_y_px"],
                                  track.table["left_knee_x_px"] - track.table["left_hip_x_px"]))
    rows = np.flatnonzero((depth.to_numpy() < 55.0) & (track.table["time_s"].to_numpy() < 3.2))  # 1st squat
    assert np.all(np.diff(rows) == 1) and len(rows) > FPS  # one run of frames, over a second long
    table = track.table.iloc[rows].reset_index(drop=True)
    table["frame"] = np.arange(len(table))
    table["time_s"] = np.arange(len(table)) / FPS
    with pytest.raises(ClipError, match=r"never stands up \(thigh at most \d+° above horizontal"):
        analyze_track(PoseTrack(table, track.video, track.model))


def _rep(n: int, bottom: int) -> Rep:
    return Rep(n, bottom - 10, bottom, bottom + 10, (bottom - 10) / FPS, bottom / FPS, (bottom + 10) / FPS, 88.0, 0.0)


def test_hip_hinges_are_taken_out_of_the_reps_and_the_rest_renumbered() -> None:
    n = 200
    trunk, knee = np.full(n, 30.0), np.full(n, 110.0)
    trunk[40:60], knee[40:60] = 78.0, 55.0  # picking a bar up: trunk near horizontal, knees half bent
    trunk[140:160], knee[140:160] = 55.0, 100.0  # a forward-leaning squat: still a squat
    reps = [_rep(1, 50), _rep(2, 100), _rep(3, 150)]
    squats, others = split_non_squats(reps, trunk, knee)
    assert [r.rep for r in squats] == [1, 2] and [r.bottom for r in squats] == [100, 150]
    assert len(others) == 1 and others[0]["kind"] == "hip hinge"
    assert others[0]["start_time_s"] == pytest.approx(40 / FPS) and "trunk 78°" in others[0]["reason"]


def _dip(t: np.ndarray, centre_s: float, half_width_s: float, bottom_deg: float) -> np.ndarray:
    """A smooth dip of the thigh angle from 90° (standing) to ``bottom_deg`` and back."""
    phase = np.clip((t - centre_s) / half_width_s, -1.0, 1.0)
    return (90.0 - bottom_deg) * 0.5 * (1.0 + np.cos(np.pi * phase))


def test_a_step_is_taken_out_of_the_reps_even_when_a_walk_comes_before_a_squat() -> None:
    """Walking out of a rack (a thigh swings up while its foot travels), a pause that never gets back to the
    standing level, then a squat whose feet stay put (with landmark jitter): the walk is a step, the squat a
    rep, though the squat's start reaches back over the walk."""
    t = np.arange(0, 12.0, 1 / FPS)
    depth = 90.0 - _dip(t, 2.0, 0.8, 50.0) - _dip(t, 8.0, 1.2, 0.0)
    depth[(t > 3.2) & (t < 6.0)] -= 12.0  # not quite standing between the walk and the squat
    feet = np.zeros((len(t), 2))
    walking = (t > 1.5) & (t < 2.5)
    feet[walking, 1] = -1.5 * (t[walking] - 1.5)  # the right foot steps back 1.5 thigh lengths ...
    feet[t >= 2.5, 1] = -1.5  # ... and stays there
    rng = np.random.default_rng(3)
    feet += rng.normal(0.0, 0.08, feet.shape)  # landmark jitter
    reps = segment_reps(t, depth, min_range_deg=30.0)
    assert len(reps) == 2
    trunk, knee = np.full(len(t), 30.0), np.full(len(t), 110.0)
    squats, others = split_non_squats(reps, trunk, knee, depth_deg=depth, feet_forward=feet)
    assert [o["kind"] for o in others] == ["step"] and others[0]["end_time_s"] < 4.0
    assert others[0]["reason"].startswith("not a squat: a step (the right foot moved 1.")
    assert len(squats) == 1 and squats[0].rep == 1 and squats[0].bottom_time_s == pytest.approx(8.0, abs=0.1)
    # Without the feet (or the depth) no step is looked for: both dips stay reps.
    assert len(split_non_squats(reps, trunk, knee, feet_forward=feet)[0]) == 2
    # The rule's threshold sits well above the jitter and well below the step.
    assert 0.3 < STEP_FOOT_TRAVEL < 1.2


def test_feet_forward_is_in_thigh_lengths_along_the_way_the_person_faces() -> None:
    table = _table(0.0, n=10)
    thigh = float(np.hypot(table["left_knee_x_px"][0] - table["left_hip_x_px"][0],
                           table["left_knee_y_px"][0] - table["left_hip_y_px"][0]))
    moved = table.copy()
    for joint in ("ankle", "heel", "foot_index"):
        moved[f"right_{joint}_x_px"] = moved[f"right_{joint}_x_px"] + 0.5 * thigh  # half a thigh to image-right
    for sign in (1.0, -1.0):
        shift = feet_forward(moved, sign) - feet_forward(table, sign)
        assert shift[:, 1] == pytest.approx(np.full(10, 0.5 * sign)) and shift[:, 0] == pytest.approx(np.zeros(10))


@pytest.mark.slow
def test_a_squat_between_empty_stretches_is_analysed_and_the_rest_named(tmp_path, make_clip) -> None:
    """A title card before and an empty room after a side-view squat: the squat is analysed, with its own
    standing reference, and the empty stretches are named with their times."""
    import cv2

    from buttwink.pipeline import analyze
    from buttwink.synth import CameraParams, SquatParams, render_clip

    render_clip(tmp_path / "r", SquatParams(reps=2, stand_s=0.6, descent_s=1.0, ascent_s=0.8, depth_deg=-20.0),
                CameraParams(width=320, height=240, fps=15.0), seed=4)
    cap = cv2.VideoCapture(str(tmp_path / "r" / "video.mp4"))
    squat = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        squat.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    card = np.full_like(squat[0], 40)
    card[100:140, 60:260] = 230  # a title card: a bright caption bar, nobody in it
    room = np.full_like(squat[0], 120)
    clip = make_clip(tmp_path / "edited.mp4", [card] * 30 + squat + [room] * 30, fps=15.0)
    result = analyze(clip)
    kinds = [(s["kind"], s["usable"]) for s in result.analysis.stretches]
    assert kinds == [("no person", False), ("side view", True), ("no person", False)], kinds
    first, _, last = result.analysis.stretches
    assert first["end_s"] == pytest.approx(2.0, abs=0.5) and last["start_s"] == pytest.approx(2.0 + len(squat) / 15,
                                                                                               abs=0.5)
    assert len(result.reps) == 2 and result.reps["status"].eq("ok").all()
    assert result.reps["start_time_s"].min() > first["end_s"] - 0.2
    assert any(w.startswith("left out: 0.0–") for w in result.analysis.warnings)
    summary = result.summary()
    assert [s["kind"] for s in summary["stretches"]] == ["no person", "side view", "no person"]
