"""Report figure, frame drawing and overlay video on a synthetic squat clip (no MediaPipe involved)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from buttwink import pipeline
from buttwink.back_contour import BACK_STATIONS, back_columns
from buttwink.drawing import draw_gauge, draw_pose
from buttwink.overlay import write_overlay
from buttwink.pipeline import PoseTrack, analyze_track
from buttwink.pose import LANDMARK_FIELDS, LANDMARK_NAMES
from buttwink.report_figure import (
    choose_still_rows,
    collect_stills,
    render_report_png,
    rep_banner,
)

FPS = 30.0


def _depth_profile(n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Thigh angle (deg) for two reps: stand, down to -15°, up; plus which rep (0 none, 1, 2) each frame is in."""
    t = np.arange(n_frames) / FPS
    depth = np.full(n_frames, 90.0)
    rep_of = np.zeros(n_frames, int)
    for k, t0 in enumerate((0.8, 3.6), start=1):
        phase = (t - t0) / 2.2  # one rep lasts 2.2 s
        inside = (phase >= 0) & (phase <= 1)
        depth[inside] = 90.0 - 105.0 * 0.5 * (1 - np.cos(2 * np.pi * phase[inside]))
        rep_of[inside] = k
    return depth, rep_of


def make_track(width: int = 320, height: int = 240, n_frames: int = 200, wink_rep: int = 2) -> PoseTrack:
    """A side-view stick figure (facing image-right, left side nearest) doing two squats, with a back
    contour; in rep ``wink_rep`` the pelvis tilts posteriorly below a thigh angle of 20°."""
    rng = np.random.default_rng(0)
    depth, rep_of = _depth_profile(n_frames)
    h = float(height)
    ankle = np.array([0.5 * width, 0.9 * h])
    shank, thigh, trunk = 0.25 * h, 0.25 * h, 0.3 * h
    cols: dict[str, np.ndarray] = {}
    pts = {name: np.full((n_frames, 2), np.nan) for name in LANDMARK_NAMES}
    back = np.full((n_frames, len(BACK_STATIONS), 2), np.nan)
    for i, theta_deg in enumerate(depth):
        theta = np.radians(theta_deg)
        phi = np.radians((90 - theta_deg) * 0.35)  # shank leans forward as the squat deepens
        psi = np.radians((90 - theta_deg) * 0.4)  # trunk leans forward
        knee = ankle + shank * np.array([np.sin(phi), -np.cos(phi)])
        hip = knee - thigh * np.array([np.cos(theta), np.sin(theta)])
        up = np.array([np.sin(psi), -np.cos(psi)])  # hip -> shoulder unit vector (image)
        shoulder = hip + trunk * up
        backward = np.array([-np.cos(psi), -np.sin(psi)])  # perpendicular to the trunk, behind the person
        joints = {
            "shoulder": shoulder, "hip": hip, "knee": knee, "ankle": ankle,
            "heel": ankle + np.array([-0.04 * h, 0.02 * h]), "foot_index": ankle + np.array([0.1 * h, 0.02 * h]),
            "elbow": shoulder + np.array([0.08 * h, 0.1 * h]), "wrist": shoulder + np.array([0.18 * h, 0.12 * h]),
            "ear": shoulder + 0.12 * h * up, "eye": shoulder + 0.13 * h * up + np.array([0.03 * h, 0]),
            "eye_inner": shoulder + 0.13 * h * up + np.array([0.035 * h, 0]),
            "eye_outer": shoulder + 0.13 * h * up + np.array([0.025 * h, 0]),
            "pinky": shoulder + np.array([0.2 * h, 0.13 * h]), "index": shoulder + np.array([0.21 * h, 0.12 * h]),
            "thumb": shoulder + np.array([0.2 * h, 0.11 * h]),
        }
        for side, shift in (("left", np.array([0.0, 0.0])), ("right", np.array([-0.01 * h, -0.01 * h]))):
            for joint, xy in joints.items():
                pts[f"{side}_{joint}"][i] = xy + shift
        pts["nose"][i] = shoulder + 0.11 * h * up + np.array([0.06 * h, 0])
        pts["mouth_left"][i] = pts["mouth_right"][i] = shoulder + 0.08 * h * up + np.array([0.05 * h, 0])
        # Back contour: stations along the trunk axis, 0.08 trunk lengths behind it; below a thigh angle
        # of 20° in the wink rep the lower stations rotate (posterior pelvic tilt).
        tilt = 0.0
        if rep_of[i] == wink_rep:
            tilt = 0.9 * max(0.0, (20.0 - theta_deg) / 35.0)
        s = BACK_STATIONS
        offset = 0.12 + tilt * np.minimum(s, 0.25)
        back[i] = hip + (s * trunk)[:, None] * up + (offset * trunk)[:, None] * backward
        back[i] += rng.normal(0, 0.15, back[i].shape)
    n = n_frames
    cols["frame"] = np.arange(n)
    cols["time_s"] = np.arange(n) / FPS
    cols["detected"] = np.ones(n, bool)
    for name in LANDMARK_NAMES:
        xy = pts[name] + rng.normal(0, 0.2, (n, 2))
        vis = 0.95 if not name.startswith("right") else 0.6
        values = {"x_px": xy[:, 0], "y_px": xy[:, 1], "z": np.zeros(n), "visibility": np.full(n, vis),
                  "presence": np.full(n, 0.99), "wx_m": np.zeros(n), "wy_m": np.zeros(n), "wz_m": np.zeros(n)}
        for field in LANDMARK_FIELDS:
            cols[f"{name}_{field}"] = values[field]
    table = pd.DataFrame(cols)
    table = pd.concat([table, pd.DataFrame(back.reshape(n, -1), columns=back_columns())], axis=1)
    video = {"path": "/nonexistent/synthetic_squat.mp4", "fps": FPS, "frame_count": n, "duration_s": n / FPS,
             "width": width, "height": height}
    model = {"variant": "synthetic", "sha256": "0" * 64}
    return PoseTrack(table, video, model)


@pytest.fixture(scope="module")
def clip() -> tuple[PoseTrack, pipeline.Analysis]:
    track = make_track()
    return track, analyze_track(track)


def _write_video(path: Path, frames: list[np.ndarray], fps: float = FPS) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened()
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def _gradient_frames(n: int, width: int, height: int) -> list[np.ndarray]:
    yy, xx = np.mgrid[0:height, 0:width]
    return [np.dstack([(xx * 255 // width), (yy * 255 // height), np.full_like(xx, 40 + 5 * i)]).astype(np.uint8)
            for i in range(n)]


def _png_checks(path: Path) -> np.ndarray:
    assert path.is_file()
    img = cv2.imread(str(path))
    assert img is not None
    assert img.shape[:2] == (1200, 1600)
    assert float(img.astype(np.float32).var()) > 100.0  # not a blank page
    assert [p.name for p in path.parent.iterdir() if p.name != path.name] == []  # no temp file left
    return img


def test_synthetic_clip_has_two_reps_one_wink(clip: tuple[PoseTrack, pipeline.Analysis]) -> None:
    _, analysis = clip
    reps = analysis.reps
    assert list(reps["status"]) == ["ok", "ok"]
    assert list(reps["wink"].astype(bool)) == [False, True]
    assert rep_banner(reps.iloc[1]).startswith("Rep 2: butt wink from ")
    assert rep_banner(reps.iloc[0]).startswith("Rep 1: no butt wink")
    wink = reps.iloc[1].to_dict()
    assert "uncertain" not in rep_banner({**wink, "onset_depth_low_deg": 5.0, "onset_depth_high_deg": 15.0})
    wide = rep_banner({**wink, "onset_depth_low_deg": -5.0, "onset_depth_high_deg": 30.0})
    assert "onset uncertain: anywhere from 30° above parallel to 5° below parallel" in wide


def test_render_report_png(tmp_path: Path, clip: tuple[PoseTrack, pipeline.Analysis]) -> None:
    track, analysis = clip
    stills = {"onset": np.full((120, 160, 3), 200, np.uint8), "bottom": np.zeros((120, 160, 3), np.uint8)}
    out = render_report_png(track, analysis, tmp_path / "report.png", title="synthetic", stills=stills)
    assert out == tmp_path / "report.png"
    _png_checks(out)


def test_stills_are_onset_and_bottom_of_the_wink_rep(clip: tuple[PoseTrack, pipeline.Analysis]) -> None:
    _, analysis = clip
    rows = choose_still_rows(analysis)
    rep = analysis.reps.iloc[1]
    assert [r for _, r in rows] == [int(rep["onset_frame"]), int(rep["bottom"])]
    assert "onset" in rows[0][0] and "bottom" in rows[1][0]


def test_collect_stills_reads_only_needed_frames(tmp_path: Path) -> None:
    track = make_track(160, 120)
    analysis = analyze_track(track)
    video = _write_video(tmp_path / "clip.mp4", _gradient_frames(len(track.table), 160, 120))
    stills = collect_stills(video, track, analysis, 120, crop=False)
    assert len(stills) == 2
    for img in stills.values():
        assert img.shape == (120, 160, 3)
    plain = _gradient_frames(1, 160, 120)[0]
    first = next(iter(stills.values()))
    assert np.abs(first.astype(int) - plain.astype(int)).max() > 100  # the skeleton is drawn on it


def test_render_tolerates_no_reps_all_partial_and_nan(tmp_path: Path,
                                                      clip: tuple[PoseTrack, pipeline.Analysis]) -> None:
    track, analysis = clip
    no_reps = dataclasses.replace(analysis, reps=analysis.reps.iloc[0:0])
    partial_reps = analysis.reps.copy()
    partial_reps["status"] = "partial"
    partial_reps.iloc[:, list(partial_reps.columns).index("reason")] = "starts before the clip"
    partial = dataclasses.replace(analysis, reps=partial_reps)
    nan_frames = analysis.frames.copy()
    for col in (pipeline.WINK_SIGNAL, f"{pipeline.WINK_SIGNAL}_raw", "depth_deg"):
        nan_frames[col] = np.nan
    all_nan = dataclasses.replace(analysis, frames=nan_frames)
    for i, variant in enumerate((no_reps, partial, all_nan)):
        sub = tmp_path / str(i)
        render_report_png(track, variant, sub / "report.png", title="edge case", stills=None)
        _png_checks(sub / "report.png")
    assert choose_still_rows(no_reps)  # the deepest frame is still shown
    assert rep_banner(partial_reps.iloc[0]) == "Rep 1: not assessed — starts before the clip"


def test_draw_pose_draws_on_the_skeleton_only(clip: tuple[PoseTrack, pipeline.Analysis]) -> None:
    track, _ = clip
    row = track.table.iloc[0]
    blank = np.zeros((240, 320, 3), np.uint8)
    drawn = draw_pose(blank, row, "left")
    assert blank.max() == 0  # input untouched
    changed = np.abs(drawn.astype(int) - blank.astype(int)).sum(axis=2) > 0
    assert changed.sum() > 300
    # Every changed pixel lies near a landmark segment or the back contour.
    near = np.zeros((240, 320), np.uint8)
    xy = {name: (row[f"{name}_x_px"], row[f"{name}_y_px"]) for name in LANDMARK_NAMES}
    pts = [np.array(p) for p in xy.values()]
    back = row[back_columns()].to_numpy(float).reshape(-1, 2)
    for a in pts + list(back):
        for b in pts + list(back):
            if np.hypot(*(a - b)) < 0.35 * 240:
                cv2.line(near, tuple(int(v) for v in a), tuple(int(v) for v in b), 1, 16)
    assert changed[near == 0].sum() == 0
    knee = np.round(xy["left_knee"]).astype(int)
    assert changed[knee[1], knee[0]]
    assert not changed[5:40, 5:60].any()  # the top-left corner is far from the figure
    no_contour = draw_pose(blank, row, "left", contour=False)
    assert (np.abs(no_contour.astype(int)).sum(axis=2) > 0).sum() < changed.sum()


def test_draw_gauge_marks_a_corner() -> None:
    img = np.full((240, 320, 3), 128, np.uint8)
    low = draw_gauge(img, 2.0, 8.0, "tuck")
    high = draw_gauge(img, 16.0, 8.0, "tuck")
    diff = np.abs(low.astype(int) - img.astype(int)).sum(axis=2) > 0
    ys, xs = np.nonzero(diff)
    assert xs.min() > 320 * 0.4 and ys.max() < 240 * 0.4  # top-right corner only
    # Beyond the threshold the bar turns red, below it green.
    assert (high[..., 0].astype(int) - high[..., 1] > 120).sum() > 50
    assert (low[..., 1].astype(int) - low[..., 0] > 80).sum() > 20
    draw_gauge(img, float("nan"), 8.0, "tuck")  # NaN is allowed


def test_write_overlay(tmp_path: Path) -> None:
    track = make_track(160, 120)
    analysis = analyze_track(track)
    src = _write_video(tmp_path / "src.mp4", _gradient_frames(10, 160, 120))
    out = write_overlay(src, track, analysis, tmp_path / "out" / "overlay.mp4", max_height=120)
    assert out.is_file()
    assert [p.name for p in out.parent.iterdir()] == ["overlay.mp4"]
    cap = cv2.VideoCapture(str(out))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(bgr)
    assert abs(cap.get(cv2.CAP_PROP_FPS) - FPS) < 0.5
    cap.release()
    assert len(frames) == 10
    assert frames[0].shape == (120, 160, 3)
    src_first = cv2.cvtColor(_gradient_frames(1, 160, 120)[0], cv2.COLOR_RGB2BGR)
    assert np.abs(frames[0].astype(int) - src_first.astype(int)).max() > 100  # annotations drawn


def test_caption_outline_follows_the_text_letter_for_letter() -> None:
    """The overlay's caption is drawn once, outlined: its dark outline hugs the light letters. (A thicker copy
    of the text as the outline ran wider than the text, so the caption read as drawn twice with an offset.)"""
    from buttwink.drawing import put_text, unit_px

    img = np.full((360, 480, 3), 128, np.uint8)
    u = unit_px(img.shape)
    put_text(img, "t 3.13 s   depth: 87 deg above parallel", (int(10 * u), int(26 * u)), scale=1.0)
    grey = img.mean(axis=2)
    text_cols = np.flatnonzero((grey > 220).any(axis=0))
    outline_cols = np.flatnonzero((grey < 40).any(axis=0))
    assert len(text_cols) and len(outline_cols)
    # The outline starts and ends within a few pixels of the letters, at both ends of the caption.
    assert abs(outline_cols[0] - text_cols[0]) <= 4 and abs(outline_cols[-1] - text_cols[-1]) <= 4
    # And every dark pixel lies next to a light one (no second, shifted copy of the text).
    dark = grey < 40
    light = cv2.dilate((grey > 160).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert (dark & ~light).sum() == 0


def test_evidence_rows_show_each_assessed_reps_lower_back(clip: tuple[PoseTrack, pipeline.Analysis]) -> None:
    from buttwink.report_figure import evidence_rows, significant_reps

    _, analysis = clip
    rows = evidence_rows(analysis)
    reps = analysis.reps
    assert [r for r, _, _ in rows] == [1, 1, 2, 2]
    wink = reps[reps["wink"].astype(bool)].iloc[0]
    no_wink = reps[~reps["wink"].astype(bool)].iloc[0]
    by_rep = {r: [(c, row) for rr, c, row in rows if rr == r] for r in (1, 2)}
    assert by_rep[int(wink["rep"])][0][1] == int(wink["onset_frame"]) and "onset" in by_rep[int(wink["rep"])][0][0]
    assert by_rep[int(no_wink["rep"])][0][1] == int(no_wink["start"])
    assert all(row == int(reps.loc[reps["rep"] == r, "bottom"].iloc[0]) for r in (1, 2) for _, row in by_rep[r][1:])
    assert significant_reps(analysis, limit=1) == [int(wink["rep"])]


def test_lower_back_crop_draws_the_edge_and_the_measured_lines(clip: tuple[PoseTrack, pipeline.Analysis]) -> None:
    from buttwink.drawing import REGION_COLORS, draw_back_evidence, lower_back_box

    track, _ = clip
    row = track.table.iloc[60]
    frame = np.full((240, 320, 3), 90, np.uint8)
    x0, y0, x1, _ = lower_back_box(row, frame.shape)
    back = np.array([[row[f"back_{k:02d}_x_px"], row[f"back_{k:02d}_y_px"]] for k in range(len(BACK_STATIONS))])
    lower = back[(BACK_STATIONS >= -0.05) & (BACK_STATIONS <= 0.6)]
    assert (lower[:, 0] > x0).all() and (lower[:, 0] < x1).all() and (lower[:, 1] > y0).all()
    crop = draw_back_evidence(frame, row, out_px=200)
    assert max(crop.shape[:2]) == pytest.approx(200, abs=2)
    for color in (REGION_COLORS["pelvis"], REGION_COLORS["lumbar"]):
        assert (np.abs(crop.astype(int) - color).sum(axis=2) < 60).sum() > 30  # the line is there, in its colour
    assert (crop == 90).all(axis=2).mean() > 0.5  # and the rest is the picture, not paint
    empty = row.copy()
    empty[[c for c in row.index if c.startswith("back_")]] = np.nan
    assert draw_back_evidence(frame, empty) is None


def test_report_and_evidence_pngs_show_the_crops(tmp_path: Path, clip: tuple[PoseTrack, pipeline.Analysis]) -> None:
    from buttwink.report_figure import collect_evidence, evidence_rows, render_evidence_png

    track, analysis = clip
    frames = {row: np.full((240, 320, 3), 90, np.uint8) for _, _, row in evidence_rows(analysis)}
    evidence = collect_evidence(track, analysis, frames)
    assert len(evidence) == 4 and all(img is not None for _, _, img in evidence)
    png = render_report_png(track, analysis, tmp_path / "r" / "report.png", evidence=evidence)
    _png_checks(png)
    path = render_evidence_png(evidence, tmp_path / "e" / "evidence.png", title="clip")
    img = cv2.imread(str(path))
    assert img is not None and img.shape[1] >= 2 * 200 and img.shape[0] > img.shape[1] * 0.9
