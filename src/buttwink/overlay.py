"""overlay.mp4: the analysed clip with skeleton, back contour, a live gauge of the wink signal, the current
depth, the rep number and its verdict drawn on every frame.

Streamed frame by frame (never the whole video in memory), written with OpenCV's ``mp4v`` codec at the
source frame rate and the analysed frame size, to a temporary name renamed into place at the end.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from buttwink import pipeline
from buttwink.drawing import draw_gauge, draw_pose, put_text, unit_px
from buttwink.report_figure import departure_series, depth_words, rep_banner, threshold_reading
from buttwink.video import iter_frames, probe_video

_WINK = (255, 80, 70)
_OK = (110, 230, 120)
_GREY = (200, 200, 200)


def _rep_of_row(reps: pd.DataFrame, n_rows: int) -> np.ndarray:
    """Index into ``reps`` (or -1) of the rep each frame row belongs to."""
    out = np.full(n_rows, -1, int)
    for i, (_, rep) in enumerate(reps.iterrows()):
        out[int(rep["start"]):int(rep["end"]) + 1] = i
    return out


def _ascii(text: str) -> str:
    """Hershey fonts draw ASCII only."""
    return (text.replace("°", " deg").replace("—", "-").replace("≤", "<=").replace("≥", ">=")
            .encode("ascii", "replace").decode())


def _wrap(text: str, width_px: int, scale: float) -> list[str]:
    """Greedy word wrap of ``text`` to ``width_px`` pixels at put_text's ``scale`` (times the unit)."""
    font, fs = cv2.FONT_HERSHEY_SIMPLEX, 0.55 * scale
    th = max(1, int(round(1.5 * scale)))
    lines: list[str] = []
    for word in text.split(" "):
        if lines and cv2.getTextSize(f"{lines[-1]} {word}", font, fs, th)[0][0] <= width_px:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def write_overlay(
    video_path: Path | str,
    track: pipeline.PoseTrack,
    analysis: pipeline.Analysis,
    out_path: Path | str,
    *,
    max_height: int | None,
) -> Path:
    """Write the annotated clip to ``out_path`` (mp4, source fps, frames at ``max_height`` pixels as analysed).

    Frames are matched to the landmarks table by frame index; frames beyond the table are written plain.
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    info = probe_video(video_path, max_height)
    size = (info.width, info.height)
    tmp = out_path.with_name(f".{out_path.stem}.{os.getpid()}.tmp.mp4")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), float(info.fps), size)
    if not writer.isOpened():
        raise OSError(f"{out_path}: cannot open an mp4v video writer")
    table = track.table
    frames = analysis.frames
    reps = analysis.reps
    row_of_frame = {int(f): i for i, f in enumerate(table["frame"].to_numpy())}
    rep_idx = _rep_of_row(reps, len(frames))
    departure = departure_series(analysis)
    depth = frames["depth_deg"].to_numpy(float)
    threshold = threshold_reading(analysis, analysis.settings.wink_signal)[0]  # where a threshold-sized tuck reads
    banners = [_ascii(rep_banner(rep)) for _, rep in reps.iterrows()]
    colors = [_GREY if rep["status"] != "ok" else _WINK if bool(rep["wink"]) else _OK for _, rep in reps.iterrows()]
    after_onset = np.zeros(len(frames), bool)  # from a wink's onset to the end of its rep
    for _, rep in reps.iterrows():
        onset = pd.to_numeric(pd.Series([rep.get("onset_frame")]), errors="coerce").iloc[0]
        if bool(rep.get("wink")) and np.isfinite(onset):
            after_onset[int(onset):int(rep["end"]) + 1] = True
    near = analysis.view.near_side
    try:
        for frame in iter_frames(video_path, max_height):
            rgb = frame.rgb
            if rgb.shape[1::-1] != size:
                rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            row = row_of_frame.get(frame.index)
            if row is not None and row < len(frames):
                img = draw_pose(rgb, table.iloc[row], near)
                img = draw_gauge(img, departure[row], threshold, "tuck vs trend")
                u = unit_px(img.shape)
                x, y = int(10 * u), int(26 * u)
                y += put_text(img, f"t {frames['time_s'].iloc[row]:.2f} s   depth: "
                              f"{_ascii(depth_words(depth[row]))}", (x, y), scale=1.0) + int(8 * u)
                k = rep_idx[row]
                if k >= 0:
                    text_w = img.shape[1] - x - int(min(0.4 * img.shape[1], 190 * u)) - int(25 * u)
                    for line in _wrap(banners[k], text_w, 0.85 * u):
                        y += put_text(img, line, (x, y), scale=0.85, color=colors[k], max_width=text_w) + int(6 * u)
                if after_onset[row]:
                    put_text(img, "BUTT WINK", (x, img.shape[0] - int(14 * u)), scale=1.4, color=_WINK)
            else:
                img = rgb
            writer.write(cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2BGR))
        writer.release()
        os.replace(tmp, out_path)
    finally:
        writer.release()
        tmp.unlink(missing_ok=True)
    return out_path
