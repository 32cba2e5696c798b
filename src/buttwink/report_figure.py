"""report.png: one figure a coach reads in ten seconds.

Top: a verdict banner, one line per rep in words. Middle: what the verdict is about, the tuck beyond each
rep's own pattern (the wink signal's departure from its descent trend, degrees, tuck +) against depth, with
the threshold as a line; and the wink signal against time. Bottom: the evidence a coach checks by eye: a
whole-body still of the most significant rep, and for each assessed rep a close crop of the lower back at the
onset (or the start of the descent when there is no wink) and at the bottom, with the traced back edge and
the pelvis and lumbar lines drawn (all reps in ``evidence.png`` when they do not fit). A footer names the
clip, view, warnings and model.

Rendered with a private :class:`matplotlib.figure.Figure` on the Agg canvas (no pyplot global state).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from buttwink import pipeline
from buttwink.drawing import draw_back_evidence, draw_pose
from buttwink.mirror import number_or_nan as _f
from buttwink.onset import CALIBRATIONS, Calibration, onset_uncertain
from buttwink.video import iter_frames

#: Human names of the per-frame angle columns (figure labels).
SIGNAL_NAMES: dict[str, str] = {
    "lumbar_flexion_deg": "lumbar flexion (back vs pelvis)",
    "lumbopelvic_angle_deg": "lumbopelvic flexion",
    "pelvis_tilt_deg": "pelvic tilt (anterior +)",
    "posterior_pelvic_tilt_deg": "posterior pelvic tilt (tuck +)",
    "trunk_pelvis_flexion_deg": "pelvis under the trunk (tuck +)",
    "lumbar_angle_deg": "lumbar inclination",
    "trunk_inclination_deg": "trunk inclination",
    "hip_flexion_deg": "hip flexion",
    "knee_flexion_deg": "knee flexion",
    "ankle_dorsiflexion_deg": "ankle dorsiflexion",
    "depth_deg": "thigh angle",
}
#: Below this confidence a "no butt wink" verdict is marked uncertain.
UNCERTAIN_CONFIDENCE = 0.5
FIG_SIZE_IN = (16.0, 12.0)
ONSET_LABEL_TOP, ONSET_LABEL_STEP, ONSET_LABEL_ROWS = 0.8, 0.075, 4  # axes fractions of the depth plot
DPI = 100
WINK_COLOR = "#d62728"
OK_COLOR = "#2ca02c"
GREY = "#7f7f7f"
REP_COLORS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#2ca02c")


def printable(text: str) -> str:
    """``text`` with anything that is not valid Unicode (a file name's undecodable bytes) shown as ``\\x..``
    escapes, so a font can draw it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def signal_name(column: str) -> str:
    """Human name of a per-frame angle column."""
    return SIGNAL_NAMES.get(column, column.removesuffix("_deg").replace("_", " "))


def depth_words(depth_deg: float) -> str:
    """Thigh angle (degrees, 0 = parallel) in words: "4° above parallel", "parallel", "12° below parallel"."""
    if not np.isfinite(depth_deg):
        return "unknown depth"
    if depth_deg > 0.5:
        return f"{depth_deg:.0f}° above parallel"
    if depth_deg < -0.5:
        return f"{-depth_deg:.0f}° below parallel"
    return "parallel"


def rep_reason(rep: pd.Series | dict[str, object]) -> str:
    """A rep's reason text; the reps table may hold several ``reason`` columns (rep and onset): the first
    non-empty one wins."""
    value = rep.get("reason")
    values = list(value) if isinstance(value, pd.Series | list | tuple | np.ndarray) else [value]
    for v in values:
        if isinstance(v, str) and v.strip():
            return v.strip()
    return ""


def rep_banner(rep: pd.Series | dict[str, object]) -> str:
    """One rep's verdict in words, e.g. "Rep 2: butt wink from 4° above parallel (hip flexion 98°), ...", with
    the onset range when the descent does not pin the onset down (:func:`buttwink.onset.onset_uncertain`)."""
    n = rep["rep"]
    if rep["status"] != "ok":
        reason = rep_reason(rep)
        return f"Rep {n}: not assessed — {reason}" if reason else f"Rep {n}: not assessed"
    conf = _f(rep.get("confidence"))
    if bool(rep["wink"]):
        hip = _f(rep.get("onset_hip_flexion_deg"))
        hip_txt = f" (hip flexion {hip:.0f}°)" if np.isfinite(hip) else ""
        low, high = _f(rep.get("onset_depth_low_deg")), _f(rep.get("onset_depth_high_deg"))
        if onset_uncertain(low, high):
            hip_txt += f" (onset uncertain: anywhere from {depth_words(high)} to {depth_words(low)})"
        return (f"Rep {n}: butt wink from {depth_words(_f(rep.get('onset_depth_deg')))}{hip_txt}, "
                f"{_f(rep.get('wink_deg')):.0f}° of tuck{' (' + _readings(rep) + ')' if _readings(rep) else ''}, "
                f"confidence {conf:.2f}")
    note = ", uncertain" if np.isfinite(conf) and conf < UNCERTAIN_CONFIDENCE else ""
    why = rep_reason(rep)
    readings = _readings(rep)
    return (f"Rep {n}: no butt wink ({readings + ' of tuck; ' if readings else ''}confidence {conf:.2f}{note}"
            f"{': ' + why if why else ''})")


def _readings(rep: pd.Series | dict[str, object]) -> str:
    """"clip 26°, mirror image 46°": each reading's own tuck, when the call joined two readings ('' else)."""
    own, mirror = _f(rep.get("own_departure_deg")), _f(rep.get("mirror_departure_deg"))
    if not (np.isfinite(own) and np.isfinite(mirror)):
        return ""
    return f"clip {own:.0f}°, mirror image {mirror:.0f}°"


def _rep_color(rep: pd.Series) -> str:
    if rep["status"] != "ok":
        return GREY
    return WINK_COLOR if bool(rep["wink"]) else OK_COLOR


def descent_trend(frames: pd.DataFrame, rep: pd.Series) -> np.ndarray:
    """The rep's own descent trend of the wink signal (degrees) for rows ``start..end``, NaN elsewhere: the line
    the onset detector measured the rep's departure from, ``trend_offset_deg + trend_slope * depth`` (every
    assessed rep has it). The wink threshold is a departure above this line."""
    out = np.full(len(frames), np.nan)
    offset, slope = _f(rep.get("trend_offset_deg")), _f(rep.get("trend_slope"))
    if np.isfinite(offset) and np.isfinite(slope):
        start, end = int(rep["start"]), int(rep["end"])
        out[start:end + 1] = offset + slope * frames["depth_deg"].to_numpy(float)[start:end + 1]
    return out


def departure_series(analysis: pipeline.Analysis) -> np.ndarray:
    """Per-frame departure of the wink signal above its rep's descent trend (degrees as read, tuck +), NaN
    outside the assessed reps: the tuck beyond the rep's own pattern, in the signal's own units."""
    signal = analysis.settings.wink_signal
    frames = analysis.frames
    out = np.full(len(frames), np.nan)
    y = frames[signal].to_numpy(float) if signal in frames else np.full(len(frames), np.nan)
    for _, rep in analysis.reps.iterrows():
        if rep["status"] != "ok":
            continue
        trend = descent_trend(frames, rep)
        sel = np.isfinite(trend)
        out[sel] = y[sel] - trend[sel]
    return out


#: At most this many reps' lower-back crops on report.png (the most significant first); evidence.png has all.
MAX_EVIDENCE_REPS = 4


def evidence_rows(analysis: pipeline.Analysis) -> list[tuple[int, str, int]]:
    """For each assessed rep, the frames whose lower back a coach should see: ``(rep, caption, frame row)``,
    two per rep, in rep order: the wink's onset (or, without a wink, the start of the descent) and the
    bottom."""
    out: list[tuple[int, str, int]] = []
    frames, reps = analysis.frames, analysis.reps
    if reps.empty:
        return out
    depth = frames["depth_deg"].to_numpy(float)
    for _, rep in reps[reps["status"] == "ok"].iterrows():
        n, bottom = int(rep["rep"]), int(rep["bottom"])
        onset = _f(rep.get("onset_frame"))
        if bool(rep.get("wink")) and np.isfinite(onset):
            out.append((n, f"Rep {n} onset, {depth_words(_f(rep.get('onset_depth_deg')))}", int(onset)))
        else:
            out.append((n, f"Rep {n} start of descent", int(rep["start"])))
        out.append((n, f"Rep {n} bottom, {depth_words(depth[bottom])}", bottom))
    return out


def significant_reps(analysis: pipeline.Analysis, limit: int = MAX_EVIDENCE_REPS) -> list[int]:
    """Numbers of the assessed reps to show first: winks by tuck size, then the others by depth."""
    reps = analysis.reps
    if reps.empty:
        return []
    ok = reps[reps["status"] == "ok"].copy()
    ok["_wink"] = ok["wink"].astype(bool)
    ok["_size"] = pd.to_numeric(ok["wink_deg"], errors="coerce").fillna(0.0)
    ok["_depth"] = pd.to_numeric(ok["bottom_depth_deg"], errors="coerce")
    ranked = ok.sort_values(["_wink", "_size", "_depth"], ascending=[False, False, True])
    return sorted(int(n) for n in ranked["rep"].head(limit))


def choose_still_rows(analysis: pipeline.Analysis) -> list[tuple[str, int]]:
    """The frames to show as stills: ``[(caption, frame row), ...]`` (at most two).

    The most significant rep is the assessed wink with the largest tuck, else the deepest assessed rep,
    else the deepest rep. With a wink: its onset and bottom frames; without: its bottom and its standing
    start. Without reps: the deepest frame.
    """
    frames, reps = analysis.frames, analysis.reps
    if len(frames) == 0:
        return []
    if reps.empty:
        depth = frames["depth_deg"].to_numpy(float)
        if not np.isfinite(depth).any():
            return []
        row = int(np.nanargmin(depth))
        return [(f"Deepest frame (no reps found), t = {frames['time_s'].iloc[row]:.1f} s, "
                 f"{depth_words(depth[row])}", row)]
    ok = reps[reps["status"] == "ok"]
    winks = ok[ok["wink"].astype(bool)]
    if len(winks):
        rep = winks.loc[winks["wink_deg"].astype(float).idxmax()]
    elif len(ok):
        rep = ok.loc[ok["bottom_depth_deg"].astype(float).idxmin()]
    else:
        rep = reps.loc[reps["bottom_depth_deg"].astype(float).idxmin()]
    n = int(rep["rep"])
    time = frames["time_s"].to_numpy(float)
    depth = frames["depth_deg"].to_numpy(float)
    bottom = int(rep["bottom"])
    bottom_cap = f"Rep {n} bottom, t = {time[bottom]:.1f} s, {depth_words(depth[bottom])}"
    onset = _f(rep.get("onset_frame"))
    if bool(rep.get("wink")) and np.isfinite(onset):
        row = int(onset)
        onset_cap = (f"Rep {n} wink onset, t = {_f(rep.get('onset_time_s')):.1f} s, "
                     f"{depth_words(_f(rep.get('onset_depth_deg')))}")
        return [(onset_cap, row), (bottom_cap + f", {_f(rep.get('wink_deg')):.0f}° of tuck", bottom)]
    start = int(rep["start"])
    standing = frames["standing"].to_numpy(bool) if "standing" in frames else np.zeros(len(frames), bool)
    cand = np.flatnonzero(standing[: start + 1] & frames["detected"].to_numpy(bool)[: start + 1])
    stand_row = int(cand[-1]) if cand.size else start
    return [(bottom_cap, bottom), (f"Rep {n} standing, t = {time[stand_row]:.1f} s", stand_row)]


def _crop_box(track: pipeline.PoseTrack, rows: list[int], shape: tuple[int, ...],
              margin: float = 0.22, min_aspect: float = 1.2) -> tuple[int, int, int, int]:
    """Box (x0, y0, x1, y1) around the person in ``rows`` (pixels), with ``margin`` of its size around and
    at least ``min_aspect`` width/height."""
    h, w = shape[:2]
    table = track.table
    xs = table[[c for c in table.columns if c.endswith("_x_px")]].iloc[rows].to_numpy(float).ravel()
    ys = table[[c for c in table.columns if c.endswith("_y_px")]].iloc[rows].to_numpy(float).ravel()
    ok = np.isfinite(xs) & np.isfinite(ys)
    if ok.sum() < 2:
        return 0, 0, w, h
    x0, x1 = np.clip(np.percentile(xs[ok], [1, 99]), 0, w)
    y0, y1 = np.clip(np.percentile(ys[ok], [1, 99]), 0, h)
    size = max(x1 - x0, y1 - y0, 0.25 * min(w, h))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w, half_h = (x1 - x0) / 2 + margin * size, (y1 - y0) / 2 + margin * size
    half_w = max(half_w, min_aspect * half_h)
    box = (int(max(0, cx - half_w)), int(max(0, cy - half_h)), int(min(w, cx + half_w)), int(min(h, cy + half_h)))
    if box[2] - box[0] < 8 or box[3] - box[1] < 8:
        return 0, 0, w, h
    return box


def read_frames_at(video_path: Path | str, track: pipeline.PoseTrack, rows: list[int],
                   max_height: int | None) -> dict[int, np.ndarray]:
    """The RGB frames at the given landmarks-table rows, read in one pass over the video (at the size the
    clip was analysed), stopping after the last one."""
    if not rows:
        return {}
    frame_ids = track.table["frame"].to_numpy()
    by_frame: dict[int, list[int]] = {}
    for row in rows:
        by_frame.setdefault(int(frame_ids[row]), []).append(row)
    width = int(_f(track.video.get("width")) or 0) if np.isfinite(_f(track.video.get("width"))) else 0
    height = int(_f(track.video.get("height")) or 0) if np.isfinite(_f(track.video.get("height"))) else 0
    images: dict[int, np.ndarray] = {}
    last = max(by_frame)
    for frame in iter_frames(video_path, max_height, only=by_frame):  # the other frames are not converted
        if frame.index in by_frame:
            rgb = frame.rgb
            if width and height and rgb.shape[:2] != (height, width):
                import cv2

                rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
            for row in by_frame[frame.index]:
                images[row] = rgb
        if frame.index >= last:
            break
    return images


def collect_stills(
    video_path: Path | str,
    track: pipeline.PoseTrack,
    analysis: pipeline.Analysis,
    max_height: int | None,
    *,
    crop: bool = True,
    frames: dict[int, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """The still frames chosen by :func:`choose_still_rows` with the pose drawn on them.

    Streams the video (``max_height`` pixels, as analysed) unless ``frames`` (row -> RGB, from
    :func:`read_frames_at`) already holds them; returns ``{caption: RGB uint8 image}`` in display order. With
    ``crop`` the images are cropped around the person.
    """
    wanted = choose_still_rows(analysis)
    if not wanted:
        return {}
    rows = [row for _, row in wanted]
    images = frames if frames is not None else read_frames_at(video_path, track, rows, max_height)
    out: dict[str, np.ndarray] = {}
    for caption, row in wanted:
        if row not in images:
            continue
        drawn = draw_pose(images[row], track.table.iloc[row], analysis.view.near_side)
        if crop:
            x0, y0, x1, y1 = _crop_box(track, rows, drawn.shape)
            drawn = np.ascontiguousarray(drawn[y0:y1, x0:x1])
        out[caption] = drawn
    return out


def collect_evidence(track: pipeline.PoseTrack, analysis: pipeline.Analysis,
                     frames: dict[int, np.ndarray]) -> list[tuple[int, str, np.ndarray | None]]:
    """``(rep, caption, lower-back crop or None)`` for every row of :func:`evidence_rows`, drawn with
    :func:`buttwink.drawing.draw_back_evidence` on ``frames`` (row -> RGB)."""
    out = []
    for rep, caption, row in evidence_rows(analysis):
        image = frames.get(row)
        crop = draw_back_evidence(image, track.table.iloc[row]) if image is not None else None
        out.append((rep, caption, crop))
    return out


# ---------------------------------------------------------------------------------------------------------
# Figure


def _banner(fig: Figure, rect: tuple[float, float, float, float], title: str,
            analysis: pipeline.Analysis) -> None:
    ax = fig.add_axes(rect)
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    reps = analysis.reps
    headline = pipeline.verdict_text(reps)
    ax.text(0.0, 0.97, title, fontsize=13, color="#444444", va="top", ha="left")
    ax.text(1.0, 0.97, headline, fontsize=13, color="#444444", va="top", ha="right")
    lines: list[tuple[str, str]] = []
    if reps.empty:
        lines.append(("No squat reps found in this clip", GREY))
    else:
        for _, rep in reps.iterrows():
            lines.append((rep_banner(rep), _rep_color(rep)))
    max_lines = 8
    if len(lines) > max_lines:
        extra = len(lines) - (max_lines - 1)
        lines = [*lines[: max_lines - 1], (f"… and {extra} more reps (see reps.csv)", GREY)]
    n = len(lines)
    two_cols = n > 4
    per_col = (n + 1) // 2 if two_cols else n
    size = 20 if n <= 2 else 17 if n <= 4 else 13
    top, bottom = 0.78, 0.02
    step = (top - bottom) / max(per_col, 2.2)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    col_width_px = (0.49 if two_cols else 1.0) * rect[2] * fig.bbox.width
    for i, (text, color) in enumerate(lines):
        col, k = divmod(i, per_col) if two_cols else (0, i)
        artist = ax.text(0.0 + 0.5 * col, top - k * step, text, fontsize=size, fontweight="bold", color=color,
                         va="top", ha="left", wrap=False)
        fontsize = float(size)
        while fontsize > 7 and artist.get_window_extent(renderer).width > col_width_px:
            fontsize -= 0.5
            artist.set_fontsize(fontsize)


def _headroom(ax, fraction: float = 0.35) -> None:  # type: ignore[no-untyped-def]
    """Extend the y range upwards so legends and labels sit above the data."""
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + fraction * (hi - lo))


def _label_onsets(ax, onsets: list[tuple[float, float, str, str]], x_left: float,  # type: ignore[no-untyped-def]
                  x_right: float) -> None:
    """Onset labels in rows of their own in the headroom above the data, each tied to its dot."""
    for k, (ox, oy, text, color) in enumerate(sorted(onsets, key=lambda o: -o[0])):
        frac = (x_left - ox) / (x_left - x_right)
        ha = "left" if frac < 0.3 else "right" if frac > 0.7 else "center"
        row_y = ONSET_LABEL_TOP - ONSET_LABEL_STEP * (k % ONSET_LABEL_ROWS)
        ax.annotate(text, (ox, oy), xytext=(ox, row_y), textcoords=("data", "axes fraction"), fontsize=10.5,
                    ha=ha, va="center",
                    color=color, fontweight="bold", zorder=6, annotation_clip=False,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": color, "alpha": 0.9, "lw": 0.8},
                    arrowprops={"arrowstyle": "-", "color": color, "lw": 1})


def threshold_reading(analysis: pipeline.Analysis, signal: str) -> tuple[float, str]:
    """Where the wink threshold lies in the signal's own degrees (its calibration: a tuck of the threshold's
    size reads as ``offset + gain * threshold``), and the legend text saying so."""
    threshold = float(analysis.settings.wink_threshold_deg)
    calibration = CALIBRATIONS.get(signal, Calibration())
    value = calibration.departure(threshold)
    if calibration == Calibration():
        return value, f"wink threshold ({threshold:.0f}°)"
    return value, f"wink threshold: a {threshold:.0f}° tuck reads {value:.1f}° here"


def _depth_axes(ax, analysis: pipeline.Analysis, signal: str) -> None:  # type: ignore[no-untyped-def]
    """The tuck beyond each rep's own pattern against depth: about 0 until a wink's onset, rising after it;
    the wink threshold as a line."""
    frames, reps = analysis.frames, analysis.reps
    depth = frames["depth_deg"].to_numpy(float)
    tuck = departure_series(analysis)
    threshold, threshold_label = threshold_reading(analysis, signal)
    ax.axvline(0.0, color="black", lw=1.2, ls="--")
    ax.text(0.0, 0.02, " parallel", transform=ax.get_xaxis_transform(), fontsize=10, va="bottom", ha="left")
    ax.axhline(0.0, color="#555555", lw=1.0)
    ax.axhline(threshold, color=WINK_COLOR, lw=1.6, ls="--", label=threshold_label)
    drawn = False
    onsets: list[tuple[float, float, str, str]] = []
    for i, (_, rep) in enumerate(reps.iterrows()):
        if rep["status"] != "ok":
            continue
        start, bottom, end = int(rep["start"]), int(rep["bottom"]), int(rep["end"])
        color = REP_COLORS[i % len(REP_COLORS)]
        down, up = slice(start, bottom + 1), slice(bottom, end + 1)
        if np.isfinite(tuck[down]).any():
            ax.plot(depth[down], tuck[down], "-", color=color, lw=2.2, label=f"Rep {rep['rep']} down")
            ax.plot(depth[up], tuck[up], ":", color=color, lw=1.2, alpha=0.8)
            drawn = True
        onset_depth = _f(rep.get("onset_depth_deg"))
        onset_row = _f(rep.get("onset_frame"))
        if bool(rep.get("wink")) and np.isfinite(onset_depth) and np.isfinite(onset_row):
            oy = tuck[int(onset_row)]
            if np.isfinite(oy):
                low, high = _f(rep.get("onset_depth_low_deg")), _f(rep.get("onset_depth_high_deg"))
                if np.isfinite(low) and np.isfinite(high):  # the onset range, as a bar through the marker
                    ax.plot([high, low], [oy, oy], "|-", color=color, lw=2.5, ms=12, alpha=0.7, zorder=4)
                ax.plot([onset_depth], [oy], "o", ms=11, color=color, mec="black", zorder=5)
                note = " (uncertain)" if onset_uncertain(low, high) else ""
                onsets.append((onset_depth, float(oy),
                               f"Rep {rep['rep']} onset: {depth_words(onset_depth)}{note}", color))
    if not drawn:
        ax.text(0.5, 0.5, "no assessed rep", transform=ax.transAxes, ha="center", va="center", fontsize=14,
                color=GREY)
    finite_depth = depth[np.isfinite(depth)]
    lo = min(-10.0, float(finite_depth.min()) - 5) if finite_depth.size else -30.0
    ax.set_xlim(95.0, lo)  # reversed: deeper to the right
    finite_tuck = tuck[np.isfinite(tuck)]
    top = max(threshold + 4.0, float(finite_tuck.max()) + 2.0) if finite_tuck.size else threshold + 4.0
    bottom_y = min(-4.0, float(finite_tuck.min()) - 2.0) if finite_tuck.size else -4.0
    ax.set_ylim(bottom_y, top)
    _label_onsets(ax, onsets, 95.0, lo)
    ax.set_xlabel("thigh angle, degrees (90 standing, 0 parallel)  →  deeper", fontsize=11)
    ax.set_ylabel("beyond the rep's own pattern, degrees as read", fontsize=11)
    calibration = CALIBRATIONS.get(signal, Calibration())
    if calibration != Calibration():  # the same axis in degrees of tuck, the unit of the verdict's sizes
        tuck_axis = ax.secondary_yaxis("right", functions=(
            lambda v: (np.asarray(v, float) - calibration.offset_deg) / calibration.gain, calibration.departure))
        tuck_axis.tick_params(labelsize=9, colors=GREY)
        ax.text(1.02, 1.005, "tuck, °", transform=ax.transAxes, ha="left", va="bottom", fontsize=9, color=GREY)
    ax.set_title("Tuck beyond each rep's own pattern, against depth (solid: down, dotted: up)", fontsize=12.5)
    ax.grid(alpha=0.3)
    rows = min(len(onsets), ONSET_LABEL_ROWS)
    data_top = ONSET_LABEL_TOP - ONSET_LABEL_STEP * rows if rows else 0.78
    _headroom(ax, 1.0 / max(data_top, 0.3) - 1.0)
    many = len(reps) > 4
    ax.legend(loc="upper left", fontsize=8.5 if many else 10, framealpha=0.9, ncol=3 if many else 2)


def _time_axes(ax, analysis: pipeline.Analysis, signal: str) -> None:  # type: ignore[no-untyped-def]
    frames, reps = analysis.frames, analysis.reps
    t = frames["time_s"].to_numpy(float)
    y = frames[signal].to_numpy(float)
    raw = frames[f"{signal}_raw"].to_numpy(float) if f"{signal}_raw" in frames else np.full(len(t), np.nan)
    thr_value = threshold_reading(analysis, signal)[0]
    for _, rep in reps.iterrows():
        color = _rep_color(rep)
        ax.axvspan(_f(rep["start_time_s"]), _f(rep["end_time_s"]), color=color, alpha=0.12, lw=0)
        ax.text((_f(rep["start_time_s"]) + _f(rep["end_time_s"])) / 2, 0.98, f"Rep {rep['rep']}",
                transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=11, color=color,
                fontweight="bold")
    if np.isfinite(raw).any():
        ax.plot(t, raw, ".", color="#999999", ms=2.5, label="raw")
    if np.isfinite(y).any():
        ax.plot(t, y, "-", color="#1f77b4", lw=2.0, label="smoothed")
    else:
        ax.text(0.5, 0.5, "no usable signal", transform=ax.transAxes, ha="center", va="center", fontsize=14,
                color=GREY)
    thr_label = f"descent trend + {thr_value:.1f}° (the threshold)"
    for _, rep in reps.iterrows():
        if rep["status"] != "ok":
            continue
        trend = descent_trend(frames, rep)
        seg = slice(int(rep["start"]), int(rep["bottom"]) + 1)
        if np.isfinite(trend[seg]).any():
            ax.plot(t[seg], trend[seg] + thr_value, "--", color=WINK_COLOR, lw=1.3, label=thr_label)
            thr_label = "_nolegend_"
        onset_t = _f(rep.get("onset_time_s"))
        if bool(rep.get("wink")) and np.isfinite(onset_t):
            ax.axvline(onset_t, color=WINK_COLOR, lw=2.0)
            ax.text(onset_t, 0.02, " onset", transform=ax.get_xaxis_transform(), color=WINK_COLOR,
                    fontsize=10, va="bottom", ha="left", fontweight="bold")
    ax2 = ax.twinx()
    depth = frames["depth_deg"].to_numpy(float)
    if np.isfinite(depth).any():
        ax2.plot(t, depth, "-", color="#555555", lw=1.0, alpha=0.45)
    ax2.set_ylabel("thigh angle, degrees (grey)", fontsize=10, color="#555555")
    ax2.set_ylim(-60, 100)
    ax2.tick_params(labelsize=9, colors="#555555")
    ax.set_xlabel("time, seconds", fontsize=11)
    ax.set_ylabel(f"{signal_name(signal)}, degrees", fontsize=11)
    ax.set_title(f"{signal_name(signal)} over time (shaded: reps)", fontsize=13)
    if len(t) and np.isfinite(t).any():
        ax.set_xlim(float(np.nanmin(t)), float(np.nanmax(t)) + 1e-3)
    ax.grid(alpha=0.3)
    _headroom(ax, 0.3)
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.93), fontsize=10, framealpha=0.9, ncol=3)


def _stills(fig: Figure, rect: tuple[float, float, float, float], stills: dict[str, np.ndarray] | None,
            note: str) -> None:
    x, y, w, h = rect
    items = [(k, v) for k, v in (stills or {}).items() if isinstance(v, np.ndarray) and v.ndim >= 2 and v.size]
    if not items:
        ax = fig.add_axes(rect)
        ax.set_axis_off()
        ax.text(0.5, 0.5, note, ha="center", va="center", fontsize=14, color=GREY, transform=ax.transAxes)
        return
    items = items[:2]
    n = len(items)
    gap = 0.02
    cell_w = (w - gap * (n - 1)) / n
    for i, (caption, img) in enumerate(items):
        ax = fig.add_axes((x + i * (cell_w + gap), y, cell_w, h - 0.03))
        ax.imshow(img, interpolation="antialiased")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(caption, fontsize=12)


def _tile(fig: Figure, rect: tuple[float, float, float, float], image: np.ndarray | None, caption: str,
          fontsize: float = 10.0) -> None:
    ax = fig.add_axes(rect)
    ax.set_xticks([])
    ax.set_yticks([])
    if image is None:
        ax.text(0.5, 0.5, "back edge not traced", ha="center", va="center", fontsize=fontsize, color=GREY,
                transform=ax.transAxes)
    else:
        ax.imshow(image, interpolation="antialiased")
    ax.set_title(caption, fontsize=fontsize)


def _evidence(fig: Figure, rect: tuple[float, float, float, float], stills: dict[str, np.ndarray] | None,
              evidence: list[tuple[int, str, np.ndarray | None]], reps_shown: list[int], total_reps: int,
              note: str) -> None:
    """Bottom band: the whole-body still of the most significant rep on the left, and for each rep shown a
    column of two lower-back crops (onset or start of descent above, bottom below)."""
    x, y, w, h = rect
    columns = [[item for item in evidence if item[0] == n] for n in reps_shown]
    columns = [c for c in columns if c]
    if not columns:
        _stills(fig, rect, stills, note)
        return
    still_w = 0.30 * w
    _stills(fig, (x, y, still_w, h), dict(list((stills or {}).items())[:1]), note)
    grid_x, grid_w = x + still_w + 0.02, w - still_w - 0.02
    gap = 0.012
    cell_w = (grid_w - gap * (len(columns) - 1)) / max(len(columns), 2)
    cell_h = (h - 0.05) / 2
    for j, column in enumerate(columns):
        for k, (_, caption, image) in enumerate(column[:2]):
            _tile(fig, (grid_x + j * (cell_w + gap), y + (1 - k) * (cell_h + 0.02), cell_w, cell_h - 0.02), image,
                  caption, fontsize=9.5)
    if total_reps > len(columns):
        fig.text(grid_x + grid_w, y - 0.012, f"lower back of reps {', '.join(map(str, reps_shown))} of "
                 f"{total_reps} assessed; every rep in evidence.png", ha="right", va="top", fontsize=9.5,
                 color="#555555")


def _footer(fig: Figure, track: pipeline.PoseTrack, analysis: pipeline.Analysis, title: str) -> None:
    view = analysis.view
    yaw = _f(view.view_yaw_deg)
    yaw_txt = f"{yaw:.0f}° off side view" if np.isfinite(yaw) else "view angle unknown"
    clip = printable(Path(str(track.video.get("path", title))).name or title)
    fps = _f(track.video.get("fps"))
    size = f"{track.video.get('width', '?')}x{track.video.get('height', '?')}"
    line1 = (f"Clip: {clip}   ({size} px analysed" + (f", {fps:.0f} fps" if np.isfinite(fps) else "") + ")"
             f"   View: {view.near_side} side nearest the camera, facing {view.facing}, {yaw_txt}")
    model = track.model.get("variant") or Path(str(track.model.get("path", "?"))).name
    sha = str(track.model.get("sha256", ""))[:12]
    # Each rep's fitted models (shapes, onset signals and weights) are in reps.csv's ``model`` column; listed
    # here they ran off the page.
    line2 = (f"Pose model: {model}" + (f" ({sha})" if sha else "") + f"   Signal: {analysis.settings.wink_signal}"
             + " (each rep's fits: reps.csv 'model')   Wink threshold: "
             + f"{float(analysis.settings.wink_threshold_deg):.0f}° of tuck beyond the descent trend")
    if getattr(analysis, "mirror_joined", False):
        line1 += "   Calls: the clip and its mirror image must agree"
    warnings = list(dict.fromkeys([*view.warnings, *analysis.warnings]))
    line3 = "Warnings: " + ("; ".join(warnings) if warnings else "none")
    if len(line3) > 190:
        line3 = line3[:187] + "..."
    fig.text(0.03, 0.055, line1, fontsize=10.5, color="#333333", va="bottom")
    fig.text(0.03, 0.033, line2, fontsize=10.5, color="#333333", va="bottom")
    fig.text(0.03, 0.011, line3, fontsize=10.5, color="#b35900" if warnings else "#333333", va="bottom")


def render_figure(
    track: pipeline.PoseTrack,
    analysis: pipeline.Analysis,
    *,
    title: str = "",
    stills: dict[str, np.ndarray] | None = None,
    stills_note: str = "Stills not available (source video not found)",
    evidence: list[tuple[int, str, np.ndarray | None]] | None = None,
) -> Figure:
    """Build the report figure (16x12 in, for 100 dpi) without writing it. ``evidence`` is
    :func:`collect_evidence`'s list (the lower-back crops); without it the bottom band shows two stills."""
    fig = Figure(figsize=FIG_SIZE_IN, dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    title = printable(title or Path(str(track.video.get("path", "clip"))).name)
    signal = analysis.settings.wink_signal
    _banner(fig, (0.03, 0.855, 0.94, 0.135), title, analysis)
    ax_depth = fig.add_axes((0.055, 0.50, 0.40, 0.31))
    ax_time = fig.add_axes((0.52, 0.50, 0.41, 0.31))
    frames = analysis.frames
    if signal not in frames or "depth_deg" not in frames:
        for ax in (ax_depth, ax_time):
            ax.set_axis_off()
            ax.text(0.5, 0.5, f"column {signal} missing", ha="center", va="center", transform=ax.transAxes)
    else:
        _depth_axes(ax_depth, analysis, signal)
        _time_axes(ax_time, analysis, signal)
    assessed = int((analysis.reps["status"] == "ok").sum()) if len(analysis.reps) else 0
    _evidence(fig, (0.03, 0.10, 0.94, 0.35), stills, evidence or [], significant_reps(analysis), assessed,
              stills_note)
    _footer(fig, track, analysis, title)
    return fig


def render_report_png(
    track: pipeline.PoseTrack,
    analysis: pipeline.Analysis,
    path: Path | str,
    *,
    title: str = "",
    stills: dict[str, np.ndarray] | None = None,
    evidence: list[tuple[int, str, np.ndarray | None]] | None = None,
) -> Path:
    """Write report.png (1600x1200 px) to ``path`` via a temporary file and an atomic rename.

    ``stills`` maps caption -> RGB image (e.g. from :func:`collect_stills`); ``None`` or empty shows a note.
    ``evidence``: :func:`collect_evidence`'s lower-back crops.
    """
    fig = render_figure(track, analysis, title=title, stills=stills, evidence=evidence)
    return _save(fig, path)


def _save(fig: Figure, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fig.savefig(tmp, format="png", dpi=DPI)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


EVIDENCE_COLUMNS = 6


def render_evidence_png(evidence: list[tuple[int, str, np.ndarray | None]], path: Path | str, *,
                        title: str = "") -> Path:
    """evidence.png: every assessed rep's lower back at its onset (or start of descent) and at its bottom,
    a column per rep, :data:`EVIDENCE_COLUMNS` reps to a row, with the traced edge and the pelvis and lumbar
    lines drawn."""
    reps = sorted({rep for rep, _, _ in evidence})
    rows = max(1, -(-len(reps) // EVIDENCE_COLUMNS))
    cols = max(1, min(len(reps), EVIDENCE_COLUMNS))
    tile_in = 2.6
    fig = Figure(figsize=(cols * tile_in + 0.4, rows * 2 * (tile_in + 0.35) + 0.6), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    fig.text(0.01, 0.995, f"{printable(title)}: the lower back at each rep's onset (or start of descent) and bottom\n"
             "white dots: traced back edge   magenta: pelvis line   yellow: lumbar line", fontsize=10, va="top")
    top = 1.0 - 0.6 / fig.get_figheight()
    cell_w = 1.0 / cols
    cell_h = top / (rows * 2)
    for i, rep in enumerate(reps):
        r, c = divmod(i, EVIDENCE_COLUMNS)
        items = [item for item in evidence if item[0] == rep][:2]
        for k, (_, caption, image) in enumerate(items):
            y0 = top - (2 * r + k + 1) * cell_h
            _tile(fig, (c * cell_w + 0.01, y0 + 0.01, cell_w - 0.02, cell_h - 0.045), image, caption, fontsize=9)
    if not reps:
        fig.text(0.5, 0.5, "no assessed rep", ha="center", va="center", fontsize=14, color=GREY)
    return _save(fig, path)
