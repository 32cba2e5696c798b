"""Back-contour stage: the posterior edge of the body silhouette between the buttocks and the shoulders.

Landmarks have no lumbar or pelvis points, so the lower back is read from PoseLandmarker's segmentation
mask. For each frame we take the trunk axis from the hip midpoint H to the shoulder midpoint S (pixels;
L = |S - H|) and, at stations ``s`` along it (``BACK_STATIONS``: -0.2 = 0.2 L below the hips, 0 = hip
level, 1 = shoulder level), march from the axis straight backwards (perpendicular to the axis, away from
where the person faces) to the first point where the mask drops below 0.5. Those edge points, in pixels,
are the back contour. ``NaN`` where no edge is found (outside the image, or no mask).
"""

from __future__ import annotations

import cv2
import numpy as np

#: Station fractions along hip -> shoulder where the back edge is sampled.
BACK_STATIONS: np.ndarray = np.round(np.arange(-0.20, 1.0001, 0.05), 2)
N_STATIONS = len(BACK_STATIONS)
#: How far behind the axis to look, as a fraction of the trunk length.
MAX_REACH = 0.75
MASK_THRESHOLD = 0.5


def back_columns() -> list[str]:
    """Columns of the back contour in the landmarks table: ``back_<k>_x_px``, ``back_<k>_y_px``."""
    return [f"back_{k:02d}_{axis}_px" for k in range(N_STATIONS) for axis in ("x", "y")]


def facing_sign(heel_x: float, toe_x: float, nose_x: float = np.nan, ear_x: float = np.nan) -> float:
    """+1 when the person faces image-right (toes to the right of the heels), -1 when left, NaN if unknown."""
    for front, back in ((toe_x, heel_x), (nose_x, ear_x)):
        if np.isfinite(front) and np.isfinite(back) and abs(front - back) > 1.0:
            return float(np.sign(front - back))
    return float("nan")


def trace_back_contour(
    mask: np.ndarray, hip_xy: np.ndarray, shoulder_xy: np.ndarray, facing: float
) -> np.ndarray:
    """Back-edge points, shape ``(N_STATIONS, 2)`` in pixels, from a person-probability mask (HxW, 0..1).

    ``hip_xy``/``shoulder_xy`` are the hip and shoulder midpoints (pixels); ``facing`` is +1 (faces
    image-right) or -1.
    """
    out = np.full((N_STATIONS, 2), np.nan)
    axis = np.asarray(shoulder_xy, float) - np.asarray(hip_xy, float)
    length = float(np.hypot(*axis))
    if not (np.isfinite(length) and length > 4 and np.isfinite(facing)) or mask is None:
        return out
    u = axis / length
    normal = np.array([-u[1], u[0]])  # a perpendicular; make it point backwards (against facing)
    if normal[0] * facing > 0:
        normal = -normal
    origins = np.asarray(hip_xy, float)[None, :] + (BACK_STATIONS * length)[:, None] * u[None, :]
    steps = np.arange(0.0, MAX_REACH * length, 1.0)
    pts = origins[:, None, :] + steps[None, :, None] * normal[None, None, :]
    samples = cv2.remap(
        mask.astype(np.float32, copy=False), pts[..., 0].astype(np.float32), pts[..., 1].astype(np.float32),
        interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=-1.0,
    )
    height, width = mask.shape[:2]
    for k in range(N_STATIONS):
        row = samples[k]
        inside = row >= MASK_THRESHOLD
        if not inside.any():
            continue
        first_in = int(np.argmax(inside))
        outside_after = np.flatnonzero(~inside[first_in:])
        if outside_after.size == 0:
            continue
        j = first_in + int(outside_after[0])  # first sample past the edge
        if row[j] < 0:  # ran off the image: the edge is not visible
            continue
        a, b = float(row[j - 1]), float(row[j])
        frac = (a - MASK_THRESHOLD) / (a - b) if a != b else 0.0
        d = steps[j - 1] + frac
        x, y = origins[k] + d * normal
        if 0 <= x < width and 0 <= y < height:
            out[k] = (x, y)
    return out
