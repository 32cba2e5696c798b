"""Drawing on video frames: skeleton, back contour and a small angle gauge (OpenCV, antialiased).

Pure functions on RGB uint8 arrays (HxWx3): they return a drawn copy and never modify their input.
Positions are image pixels (x right, y down) as stored in the landmarks table; line widths and text sizes
scale with the image size.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np
import pandas as pd

from buttwink.back_contour import BACK_STATIONS, N_STATIONS
from buttwink.kinematics import LUMBAR_REGION, PELVIS_REGION, THORAX_REGION
from buttwink.pose import LANDMARK_NAMES, SKELETON_EDGES

# Colours are RGB.
NEAR_COLOR = (255, 150, 20)
FAR_COLOR = (120, 170, 255)
JOINT_COLOR = (255, 255, 255)
CONTOUR_COLOR = (235, 235, 235)
OUTLINE_COLOR = (20, 20, 20)
REGION_COLORS: dict[str, tuple[int, int, int]] = {
    "pelvis": (235, 40, 200),
    "lumbar": (255, 225, 0),
    "thorax": (0, 215, 230),
}
REGIONS: dict[str, tuple[float, float]] = {"pelvis": PELVIS_REGION, "lumbar": LUMBAR_REGION,
                                           "thorax": THORAX_REGION}
_SHIFT = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT


def unit_px(shape: tuple[int, ...]) -> float:
    """Drawing unit in pixels for an image of ``shape``: 1.0 for a 640-pixel long side."""
    return max(shape[0], shape[1]) / 640.0


def _thick(shape: tuple[int, ...], base: float) -> int:
    return max(1, int(round(base * unit_px(shape))))


def _fix(xy: np.ndarray) -> tuple[int, int]:
    return int(round(float(xy[0]) * _ONE)), int(round(float(xy[1]) * _ONE))


def _value(row: Mapping[str, object] | pd.Series, key: str) -> float:
    try:
        value = float(row[key])  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return float("nan")
    return value


def _point(row: Mapping[str, object] | pd.Series, name: str, min_visibility: float) -> np.ndarray | None:
    x, y = _value(row, f"{name}_x_px"), _value(row, f"{name}_y_px")
    vis = _value(row, f"{name}_visibility")
    if not (np.isfinite(x) and np.isfinite(y)) or (np.isfinite(vis) and vis < min_visibility):
        return None
    if abs(x) > 1e5 or abs(y) > 1e5:  # absurd extrapolations would overflow the fixed-point coordinates
        return None
    return np.array([x, y])


def back_points(row: Mapping[str, object] | pd.Series) -> np.ndarray:
    """Back contour of one table row as (N_STATIONS, 2) pixels, NaN where missing."""
    pts = np.full((N_STATIONS, 2), np.nan)
    for k in range(N_STATIONS):
        pts[k] = (_value(row, f"back_{k:02d}_x_px"), _value(row, f"back_{k:02d}_y_px"))
    pts[(np.abs(pts) > 1e5).any(axis=1)] = np.nan
    return pts


def _polyline(img: np.ndarray, pts: np.ndarray, color: tuple[int, int, int], thickness: int) -> None:
    """Draw the finite runs of ``pts`` (M, 2) as antialiased polylines."""
    finite = np.isfinite(pts).all(axis=1)
    run: list[np.ndarray] = []
    runs: list[list[np.ndarray]] = []
    for ok, p in zip(finite, pts, strict=True):
        if ok:
            run.append(p)
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    for r in runs:
        if len(r) == 1:
            cv2.circle(img, _fix(r[0]), max(1, thickness // 2) * _ONE, color, -1, cv2.LINE_AA, _SHIFT)
            continue
        arr = np.round(np.asarray(r) * _ONE).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [arr], False, color, thickness, cv2.LINE_AA, _SHIFT)


def draw_pose(
    rgb: np.ndarray,
    row: Mapping[str, object] | pd.Series,
    near_side: str,
    *,
    contour: bool = True,
    min_visibility: float = 0.3,
) -> np.ndarray:
    """Copy of ``rgb`` with the skeleton of one landmarks-table ``row`` drawn on it.

    Near-side limbs (``near_side`` "left"/"right") are bold, far-side ones thin; landmarks below
    ``min_visibility`` (0..1) or NaN are skipped. With ``contour`` the back contour (``back_*`` columns) is
    drawn as a thin line with its pelvis, lumbar and thorax regions highlighted in their colours.
    """
    img = np.ascontiguousarray(rgb, dtype=np.uint8).copy()
    shape = img.shape
    far_side = "right" if near_side == "left" else "left"
    points = {name: _point(row, name, min_visibility) for name in LANDMARK_NAMES}
    bold, thin = _thick(shape, 4.0), _thick(shape, 1.5)

    def side_of(name: str) -> str:
        return name.split("_", 1)[0]

    # Far side first, so the near side is drawn on top.
    for edge_side, width, color in ((far_side, thin, FAR_COLOR), (near_side, bold, NEAR_COLOR)):
        for a, b in SKELETON_EDGES:
            pa, pb = points[a], points[b]
            if pa is None or pb is None:
                continue
            sides = {side_of(a), side_of(b)}
            if sides == {edge_side}:
                if edge_side == near_side:
                    cv2.line(img, _fix(pa), _fix(pb), OUTLINE_COLOR, width + 2, cv2.LINE_AA, _SHIFT)
                cv2.line(img, _fix(pa), _fix(pb), color, width, cv2.LINE_AA, _SHIFT)
            elif edge_side == far_side and len(sides) == 2:  # left-right edges (shoulders, hips): thin
                cv2.line(img, _fix(pa), _fix(pb), FAR_COLOR, thin, cv2.LINE_AA, _SHIFT)
    head = [points[f"{near_side}_ear"], points["nose"]]
    if head[0] is not None and head[1] is not None:
        cv2.line(img, _fix(head[0]), _fix(head[1]), NEAR_COLOR, thin, cv2.LINE_AA, _SHIFT)
    radius = _thick(shape, 3.0)
    for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel", "foot_index", "ear"):
        p = points[f"{near_side}_{joint}"]
        if p is not None:
            cv2.circle(img, _fix(p), (radius + 1) * _ONE, OUTLINE_COLOR, -1, cv2.LINE_AA, _SHIFT)
            cv2.circle(img, _fix(p), radius * _ONE, JOINT_COLOR, -1, cv2.LINE_AA, _SHIFT)

    if contour:
        pts = back_points(row)
        if np.isfinite(pts).all(axis=1).any():
            _polyline(img, pts, OUTLINE_COLOR, _thick(shape, 2.0) + 2)
            _polyline(img, pts, CONTOUR_COLOR, _thick(shape, 2.0))
            for name, (lo, hi) in REGIONS.items():
                sel = (lo - 1e-9 <= BACK_STATIONS) & (hi + 1e-9 >= BACK_STATIONS)
                _polyline(img, pts[sel], REGION_COLORS[name], _thick(shape, 4.0))
    return img


def put_text(
    img: np.ndarray,
    text: str,
    org: tuple[int, int],
    *,
    scale: float = 1.0,
    color: tuple[int, int, int] = (255, 255, 255),
    max_width: int | None = None,
) -> int:
    """Draw outlined text in place at ``org`` (pixels, baseline-left); ``scale`` is relative to the image
    size, shrunk until the text fits ``max_width`` pixels when given. Returns the text height in pixels
    (for stacking lines)."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    fs = 0.55 * unit_px(img.shape) * scale
    th = max(1, int(round(1.5 * unit_px(img.shape) * scale)))
    while max_width and fs > 0.2 and cv2.getTextSize(text, font, fs, th)[0][0] > max_width:
        fs *= 0.92
        th = max(1, int(round(th * 0.92)))
    # The outline is the text's own stroke grown by a few pixels. (Drawing the text again with a thicker
    # stroke would not do: OpenCV's Hershey fonts advance each letter by the stroke width, so a thicker copy
    # runs wider and the two read as one caption drawn twice with an offset.)
    (w, h), base = cv2.getTextSize(text, font, fs, th)
    pad = th + 4
    x0, y0 = org[0] - pad, org[1] - h - pad
    box_h, box_w = h + base + 2 * pad, w + 2 * pad
    mask = np.zeros((box_h, box_w), np.uint8)
    cv2.putText(mask, text, (pad, pad + h), font, fs, 255, th, cv2.LINE_AA)
    grow = max(1, th // 2 + 1)
    outline = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    ys, xs = slice(max(0, y0), min(img.shape[0], y0 + box_h)), slice(max(0, x0), min(img.shape[1], x0 + box_w))
    crop = (slice(ys.start - y0, ys.stop - y0), slice(xs.start - x0, xs.stop - x0))
    region = img[ys, xs].astype(np.float32)
    for layer, paint in ((outline, OUTLINE_COLOR), (mask, color)):
        alpha = (layer[crop].astype(np.float32) / 255.0)[..., None]
        region = region * (1.0 - alpha) + np.asarray(paint, np.float32) * alpha
    img[ys, xs] = np.clip(region + 0.5, 0, 255).astype(img.dtype)
    return h + base


def draw_gauge(
    rgb: np.ndarray,
    value_deg: float,
    threshold_deg: float,
    label: str,
    *,
    lo_deg: float | None = None,
    hi_deg: float | None = None,
    corner: str = "top-right",
) -> np.ndarray:
    """Copy of ``rgb`` with a horizontal bar gauge of ``value_deg`` (degrees) in a corner.

    The bar spans ``lo_deg..hi_deg`` (default ``-threshold..2.5*threshold``), turns red at or beyond
    ``threshold_deg`` (marked by a tick) and is green below it; ``label`` and the value are written above
    it. A NaN value shows "--" and an empty bar.
    """
    img = np.ascontiguousarray(rgb, dtype=np.uint8).copy()
    h, w = img.shape[:2]
    u = unit_px(img.shape)
    thr = float(threshold_deg) if np.isfinite(threshold_deg) else 8.0
    lo = float(lo_deg) if lo_deg is not None else -abs(thr)
    hi = float(hi_deg) if hi_deg is not None else 2.5 * abs(thr) if thr else 20.0
    if hi <= lo:
        hi = lo + 1.0
    gw, gh = int(min(w * 0.4, 190 * u)), max(4, int(12 * u))
    pad = max(2, int(10 * u))
    text_h = int(22 * u)
    x0 = w - gw - pad if corner.endswith("right") else pad
    y0 = pad + text_h if corner.startswith("top") else h - pad - gh - int(8 * u)
    # Panel background (darkened), so the gauge reads on any frame.
    px0, py0 = max(0, x0 - pad // 2), max(0, y0 - text_h - pad // 2)
    px1, py1 = min(w, x0 + gw + pad // 2), min(h, y0 + gh + int(10 * u))
    img[py0:py1, px0:px1] = (img[py0:py1, px0:px1].astype(np.float32) * 0.35).astype(np.uint8)
    cv2.rectangle(img, (x0, y0), (x0 + gw, y0 + gh), (90, 90, 90), -1, cv2.LINE_AA)

    def xpos(v: float) -> int:
        return x0 + int(round((np.clip(v, lo, hi) - lo) / (hi - lo) * gw))

    value = float(value_deg)
    finite = np.isfinite(value)
    if finite:
        color = (230, 50, 40) if value >= thr else (60, 200, 80)
        zero = xpos(0.0)
        a, b = sorted((zero, xpos(value)))
        cv2.rectangle(img, (a, y0), (max(a + 1, b), y0 + gh), color, -1, cv2.LINE_AA)
    tx = xpos(thr)
    cv2.line(img, (tx, y0 - int(3 * u)), (tx, y0 + gh + int(3 * u)), (255, 255, 255), max(1, int(2 * u)),
             cv2.LINE_AA)
    zx = xpos(0.0)
    cv2.line(img, (zx, y0), (zx, y0 + gh), (20, 20, 20), 1, cv2.LINE_AA)
    text = f"{label} {value:+.0f}°" if finite else f"{label} --"
    # Hershey fonts have no degree sign; use a plain "deg".
    text = text.replace("°", " deg")
    font = cv2.FONT_HERSHEY_SIMPLEX
    fs = 0.45 * u
    while fs > 0.2 * u and cv2.getTextSize(text, font, fs, 1)[0][0] > gw:
        fs *= 0.9
    cv2.putText(img, text, (x0, y0 - int(6 * u)), font, fs, (255, 255, 255), max(1, int(round(u))), cv2.LINE_AA)
    return img


def _region_line(pts: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The straight line a back region is measured by: the total-least-squares fit through its finite contour
    points (image pixels), as its two ends (the region's first and last point projected onto the line)."""
    sel = (lo - 1e-9 <= BACK_STATIONS) & (hi + 1e-9 >= BACK_STATIONS)
    region = pts[sel]
    region = region[np.isfinite(region).all(axis=1)]
    if len(region) < 3:
        return None
    centre = region.mean(axis=0)
    _, _, vt = np.linalg.svd(region - centre, full_matrices=False)
    direction = vt[0]
    along = (region - centre) @ direction
    return centre + along.min() * direction, centre + along.max() * direction


def lower_back_box(row: Mapping[str, object] | pd.Series, shape: tuple[int, ...],
                   size_factor: float = 1.1) -> tuple[int, int, int, int] | None:
    """A square box (x0, y0, x1, y1, pixels) around the lower back of one landmarks-table row: centred on the
    pelvis and lumbar stations of the traced back edge, ``size_factor`` times the hip-to-shoulder distance
    wide. None when the edge or the hip and shoulder are missing."""
    pts = back_points(row)
    sel = (PELVIS_REGION[0] - 1e-9 <= BACK_STATIONS) & (LUMBAR_REGION[1] + 1e-9 >= BACK_STATIONS)
    lower = pts[sel]
    lower = lower[np.isfinite(lower).all(axis=1)]
    sides = [(_point(row, f"{s}_hip", 0.0), _point(row, f"{s}_shoulder", 0.0)) for s in ("left", "right")]
    trunk = [np.linalg.norm(sh - hip) for hip, sh in sides if hip is not None and sh is not None]
    if len(lower) < 2 or not trunk:
        return None
    half = max(16.0, 0.5 * size_factor * float(np.mean(trunk)))
    cx, cy = lower.mean(axis=0)
    h, w = shape[:2]
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    x1, y1 = int(min(w, cx + half)), int(min(h, cy + half))
    return (x0, y0, x1, y1) if x1 - x0 >= 8 and y1 - y0 >= 8 else None


def draw_back_evidence(rgb: np.ndarray, row: Mapping[str, object] | pd.Series, *, out_px: int = 260,
                       box: tuple[int, int, int, int] | None = None) -> np.ndarray | None:
    """A close crop of the lower back, enlarged to about ``out_px`` pixels, with what the measurement read drawn
    on it: the traced back edge (white dots), and the straight lines of the pelvis (magenta) and lumbar
    (yellow) regions whose angles are measured. Lines are drawn after enlarging, so they stay thin. None when
    the frame has no traced edge. ``box`` (pixels) overrides :func:`lower_back_box`."""
    box = box or lower_back_box(row, rgb.shape)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    scale = out_px / max(x1 - x0, y1 - y0)
    crop = cv2.resize(np.ascontiguousarray(rgb[y0:y1, x0:x1]), (int(round((x1 - x0) * scale)),
                      int(round((y1 - y0) * scale))), interpolation=cv2.INTER_CUBIC)
    pts = (back_points(row) - np.array([x0, y0])) * scale
    for name in ("pelvis", "lumbar"):
        ends = _region_line(pts, *REGIONS[name])
        if ends is not None:
            a, b = ends
            extra = (b - a) * 0.25  # a little past the points, so the line's direction reads at a glance
            cv2.line(crop, _fix(a - extra), _fix(b + extra), OUTLINE_COLOR, 5, cv2.LINE_AA, _SHIFT)
            cv2.line(crop, _fix(a - extra), _fix(b + extra), REGION_COLORS[name], 3, cv2.LINE_AA, _SHIFT)
    for p in pts[np.isfinite(pts).all(axis=1)]:
        cv2.circle(crop, _fix(p), 3 * _ONE, OUTLINE_COLOR, -1, cv2.LINE_AA, _SHIFT)
        cv2.circle(crop, _fix(p), 2 * _ONE, CONTOUR_COLOR, -1, cv2.LINE_AA, _SHIFT)
    return crop
