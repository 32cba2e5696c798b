"""View stage: which side faces the camera, which way the person faces, how close to a side view, and
whether the clip is usable at all (a person found, the key points inside the picture, not a front view).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from warnings import catch_warnings, simplefilter

import numpy as np
import pandas as pd

from buttwink.pose import landmark_xy

KEY_JOINTS = ("shoulder", "hip", "knee", "ankle")
#: Left-right separation of MediaPipe's hip and shoulder points, as a fraction of the hip-to-shoulder length,
#: when a person faces the camera (measured on front-view clips; narrower than anatomical widths because
#: BlazePose puts its hip points inside the joint centres). A view rotated ``yaw`` off the pure side view
#: shows them about ``width * sin(yaw)`` apart in the image.
HIP_WIDTH_RATIO = 0.45
SHOULDER_WIDTH_RATIO = 0.65
#: A key joint must be inside the picture in at least this fraction of the frames with a person.
MIN_IN_FRAME = 0.75
#: A key joint is in the picture only when it lies at least this fraction of the picture's width (x) or height
#: (y) inside the border. MediaPipe places joints it cannot see at the border: in a clip cropped at the chest
#: the shoulders hug the top edge, from 4 % of the height above it to 5 % below (in or out by a few pixels
#: from frame to frame). On the other real clips and on every render, key joints come this close to the border
#: in at most 3 % of the frames.
EDGE_BAND = 0.02
MAX_USABLE_YAW_DEG = 50.0
#: Beyond this estimated angle off the side view, our ground-truth validation shows wink calls and onset
#: depths degrade (benchmarks/accuracy.py: at 20° of camera yaw, half the 5° tucks were called winks).
WARN_YAW_DEG = 15.0
#: Below this hip-to-shoulder length in the picture (pixels, median over the frames with a person) the clip
#: gets a warning: the back's outline is too coarse for a reliable call. On the human design renders, calls
#: made with confidence >= 0.5 were right on 94 % with a 70 px trunk and on 94 % with 140 px, but on 82 % with
#: 44 px (validation log, 2026-12-04, camera placement). The real clips' trunks are 89-276 px long.
SMALL_TRUNK_PX = 60.0


def in_picture(xy: np.ndarray, width: float, height: float) -> np.ndarray:
    """Which of the (N, 2) pixel points lie inside the picture by at least :data:`EDGE_BAND` (NaN: no)."""
    bx, by = EDGE_BAND * width, EDGE_BAND * height
    return (xy[:, 0] >= bx) & (xy[:, 0] <= width - bx) & (xy[:, 1] >= by) & (xy[:, 1] <= height - by)


@dataclass
class ViewAssessment:
    """Result of the view checks. ``facing_sign`` +1 = faces image-right. Angles in degrees."""

    near_side: str
    facing: str
    facing_sign: float
    view_yaw_deg: float
    detected_fraction: float
    in_frame_fraction: float
    usable: bool
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def view_confidence(yaw_deg: float) -> float:
    """Factor (0.25..1) applied to the wink confidence for a view ``yaw_deg`` off the side view: 1 up to
    ``WARN_YAW_DEG``, falling linearly to 0.25 at 20° beyond it."""
    if not np.isfinite(yaw_deg):
        return 0.5
    return float(np.clip(1.0 - 0.75 * (yaw_deg - WARN_YAW_DEG) / 20.0, 0.25, 1.0))


def _side_visibility(table: pd.DataFrame, side: str) -> float:
    cols = [f"{side}_{j}_visibility" for j in KEY_JOINTS]
    return float(np.nanmean(table[cols].to_numpy()))


def estimate_view_yaw(table: pd.DataFrame) -> float:
    """Angle off the pure side view, degrees (0 = side view, 90 = front/back view), from the image
    separation of the left and right hips and shoulders relative to the trunk length (median over frames).
    """
    hip_l, hip_r = landmark_xy(table, "left_hip"), landmark_xy(table, "right_hip")
    sh_l, sh_r = landmark_xy(table, "left_shoulder"), landmark_xy(table, "right_shoulder")
    trunk = np.linalg.norm((sh_l + sh_r) / 2 - (hip_l + hip_r) / 2, axis=1)
    ratios = []
    for a, b, width in ((hip_l, hip_r, HIP_WIDTH_RATIO), (sh_l, sh_r, SHOULDER_WIDTH_RATIO)):
        sep = np.linalg.norm(a - b, axis=1) / (trunk * width)
        ratios.append(sep)
    ratio = np.nanmedian(np.concatenate(ratios)) if np.isfinite(np.concatenate(ratios)).any() else np.nan
    if not np.isfinite(ratio):
        return float("nan")
    return float(np.degrees(np.arcsin(np.clip(ratio, 0.0, 1.0))))


def frame_facing_signs(table: pd.DataFrame) -> np.ndarray:
    """Per frame: +1 where the person faces image-right, -1 image-left, NaN where it cannot be told. Read from
    the toes against the heels (both feet's midpoints), else the nose against the ears, as the back-contour
    tracer reads it; differences under a pixel are no direction."""
    def mid(name: str) -> np.ndarray:
        return np.nanmean(np.stack([table[f"left_{name}_x_px"].to_numpy(float),
                                    table[f"right_{name}_x_px"].to_numpy(float)]), axis=0)

    with np.errstate(invalid="ignore"), catch_warnings():
        simplefilter("ignore", RuntimeWarning)  # frames without a person: NaN, on purpose
        feet = mid("foot_index") - mid("heel")
        face = table["nose_x_px"].to_numpy(float) - mid("ear")
    out = np.full(len(table), np.nan)
    for diff in (face, feet):  # the feet, where they tell, override the face
        told = np.isfinite(diff) & (np.abs(diff) > 1.0)
        out[told] = np.sign(diff[told])
    return out


def assess_view(
    table: pd.DataFrame,
    width: int,
    height: int,
    *,
    min_detected_fraction: float = 0.6,
    max_yaw_deg: float = MAX_USABLE_YAW_DEG,
) -> ViewAssessment:
    """Decide near side and facing, estimate the view angle, and say whether the clip can be measured."""
    n = len(table)
    detected = table["detected"].to_numpy(bool) if n else np.zeros(0, bool)
    det_frac = float(detected.mean()) if n else 0.0
    reasons: list[str] = []
    warnings: list[str] = []
    if det_frac == 0.0:
        return ViewAssessment("left", "right", 1.0, float("nan"), 0.0, 0.0, False, ["no person found"])
    if det_frac < min_detected_fraction:
        reasons.append(f"person found in only {det_frac:.0%} of frames")
    det = table[detected]

    near = "left" if _side_visibility(det, "left") >= _side_visibility(det, "right") else "right"
    heel_x = np.nanmedian(det[f"{near}_heel_x_px"].to_numpy())
    toe_x = np.nanmedian(det[f"{near}_foot_index_x_px"].to_numpy())
    facing_sign = 1.0 if toe_x >= heel_x else -1.0
    if not (np.isfinite(heel_x) and np.isfinite(toe_x)):
        nose = np.nanmedian(det["nose_x_px"].to_numpy())
        ear = np.nanmedian(det[[f"{near}_ear_x_px"]].to_numpy())
        facing_sign = 1.0 if nose >= ear else -1.0

    # Key points inside the picture (MediaPipe extrapolates points it cannot see).
    inside = np.ones(len(det), bool)
    missing = []
    for joint in KEY_JOINTS:
        xy = landmark_xy(det, f"{near}_{joint}")
        vis = det[f"{near}_{joint}_visibility"].to_numpy()
        ok = in_picture(xy, width, height) & (vis >= 0.3)
        if ok.mean() < MIN_IN_FRAME:
            missing.append(f"{joint}s ({1 - ok.mean():.0%} of frames)")
        inside &= ok
    in_frame = float(inside.mean())
    if missing:
        reasons.append(f"{', '.join(missing)} out of the picture or hidden; film the whole body")
    elif in_frame < 0.7:
        warnings.append(f"key points leave the picture in {1 - in_frame:.0%} of frames")

    yaw = estimate_view_yaw(det)
    if np.isfinite(yaw) and yaw > max_yaw_deg:
        reasons.append(f"not a side view (about {yaw:.0f}° off the side view; film from the side)")
    elif np.isfinite(yaw) and yaw > WARN_YAW_DEG:
        warnings.append(f"oblique view (about {yaw:.0f}° off the side view): back angles and wink calls are less "
                        "reliable; confidence lowered")
    trunk = trunk_length_px(det)
    if np.isfinite(trunk) and trunk < SMALL_TRUNK_PX:
        warnings.append(f"the person is small in the picture (hip to shoulder {trunk:.0f} px): wink calls are less "
                        "reliable; zoom in to fill the picture")
    facing = "right" if facing_sign > 0 else "left"
    return ViewAssessment(near, facing, facing_sign, yaw, det_frac, in_frame, not reasons, reasons, warnings)


def trunk_length_px(table: pd.DataFrame) -> float:
    """Median distance (pixels) from the hips' midpoint to the shoulders' midpoint over the table's frames;
    NaN when no frame has both."""
    hip = (landmark_xy(table, "left_hip") + landmark_xy(table, "right_hip")) / 2
    shoulder = (landmark_xy(table, "left_shoulder") + landmark_xy(table, "right_shoulder")) / 2
    lengths = np.linalg.norm(shoulder - hip, axis=1)
    lengths = lengths[np.isfinite(lengths)]
    return float(np.median(lengths)) if len(lengths) else float("nan")
