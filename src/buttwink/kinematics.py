"""Per-frame sagittal kinematics in degrees (definitions and signs: docs/conventions.md).

Everything is computed in the *person frame*: image x multiplied by the facing sign (so +x is the way the
person faces) and image y flipped (so +y is up). Limb angles come from the near-side landmarks; the
pelvis, lumbar and thorax angles come from straight-line fits to three regions of the back contour
(see :mod:`buttwink.back_contour`):

=============  ===========================  ===========================================
region         stations (fraction hip→sh.)  follows
=============  ===========================  ===========================================
pelvis         PELVIS_REGION                sacrum / top of the buttocks
lumbar         LUMBAR_REGION                lower back (L5 to L1)
thorax         THORAX_REGION                upper back (shoulder blades)
=============  ===========================  ===========================================

A region's *inclination* is the angle of its fitted line (pointing up the back) from the upward vertical,
forward positive. Contour angles are returned both absolute (``*_incl_deg``) and relative to the clip's
standing posture (:func:`relative_to_standing`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from buttwink.back_contour import BACK_STATIONS, N_STATIONS
from buttwink.pose import landmark_xy

PELVIS_REGION = (-0.05, 0.25)
LUMBAR_REGION = (0.3, 0.6)
THORAX_REGION = (0.6, 0.9)
MIN_POINTS_PER_REGION = 3


def _angle_deg(v: np.ndarray) -> np.ndarray:
    """Inclination of 2D person-frame vectors (N, 2) from the upward vertical, forward positive."""
    return np.degrees(np.arctan2(v[:, 0], v[:, 1]))


def _included_angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle ABC in degrees for (N, 2) points."""
    u, w = a - b, c - b
    cos = np.sum(u * w, axis=1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(w, axis=1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def to_person_frame(xy: np.ndarray, facing_sign: float) -> np.ndarray:
    """Image pixels (x right, y down) -> person frame (x forward, y up), still in pixels."""
    return np.column_stack([xy[:, 0] * facing_sign, -xy[:, 1]])


def back_contour_points(table: pd.DataFrame) -> np.ndarray:
    """Back contour as an array (frames, stations, 2) in image pixels."""
    cols = [f"back_{k:02d}_{a}_px" for k in range(N_STATIONS) for a in ("x", "y")]
    if not set(cols) <= set(table.columns):
        return np.full((len(table), N_STATIONS, 2), np.nan)
    return table[cols].to_numpy(float).reshape(len(table), N_STATIONS, 2)


def _tls_direction(pts: np.ndarray) -> np.ndarray:
    _, _, vt = np.linalg.svd(pts - pts.mean(axis=0), full_matrices=False)
    return vt[0]


def fit_inclination(points: np.ndarray) -> float:
    """Inclination (deg, forward +) of the total-least-squares line through person-frame points (M, 2),
    oriented upwards; NaN with fewer than ``MIN_POINTS_PER_REGION`` finite points."""
    pts = points[np.isfinite(points).all(axis=1)]
    if len(pts) < MIN_POINTS_PER_REGION:
        return float("nan")
    direction = _tls_direction(pts)
    # One trimming pass: an elbow or a hand behind the back bulges out of the silhouette at a few stations;
    # drop points far off the first line (> 2.5 x the median distance, at least 1 px) and refit.
    normal = np.array([-direction[1], direction[0]])
    dist = np.abs((pts - pts.mean(axis=0)) @ normal)
    keep = dist <= max(1.0, 2.5 * float(np.median(dist)))
    if MIN_POINTS_PER_REGION <= keep.sum() < len(pts):
        direction = _tls_direction(pts[keep])
    if direction[1] < 0:
        direction = -direction
    return float(np.degrees(np.arctan2(direction[0], direction[1])))


def region_inclinations(contour_pf: np.ndarray, region: tuple[float, float]) -> np.ndarray:
    """Per-frame inclination of one back region; ``contour_pf`` is (frames, stations, 2) person frame."""
    sel = (region[0] - 1e-9 <= BACK_STATIONS) & (region[1] + 1e-9 >= BACK_STATIONS)
    return np.array([fit_inclination(frame[sel]) for frame in contour_pf])


def compute_kinematics(table: pd.DataFrame, near_side: str, facing_sign: float,
                       min_visibility: float = 0.5) -> pd.DataFrame:
    """Raw per-frame angles (degrees) from a landmarks table. Low-visibility landmarks give NaN.

    Columns: ``time_s, depth_deg, trunk_inclination_deg, trunk_axis_inclination_deg, hip_flexion_deg,
    knee_flexion_deg, ankle_dorsiflexion_deg, pelvis_incl_deg, lumbar_incl_deg, thorax_incl_deg``.

    ``trunk_inclination_deg`` is the near side's hip -> shoulder line; ``trunk_axis_inclination_deg`` the line
    from the hips' midpoint to the shoulders' midpoint (both sides' landmarks, the axis the back contour is
    traced along), NaN where the near side's hip or shoulder is not visible. Averaging the two sides evens out
    part of the landmarks' noise: on the design renders of both bodies the trunk-relative wink signal read
    with it scattered less about its calibration line on the mannequin (1.8° against 2.2°, SD) and alike on
    the human body (3.0° against 2.8°).
    """
    pts = {}
    for joint in ("shoulder", "hip", "knee", "ankle", "heel", "foot_index"):
        name = f"{near_side}_{joint}"
        xy = landmark_xy(table, name).copy()
        vis = table[f"{name}_visibility"].to_numpy(float)
        xy[~(vis >= min_visibility)] = np.nan
        pts[joint] = to_person_frame(xy, facing_sign)
    sh, hip, knee, ankle = pts["shoulder"], pts["hip"], pts["knee"], pts["ankle"]
    thigh = knee - hip
    out = pd.DataFrame({"time_s": table["time_s"].to_numpy(float)})
    out["depth_deg"] = np.degrees(np.arctan2(-thigh[:, 1], thigh[:, 0]))
    out["trunk_inclination_deg"] = _angle_deg(sh - hip)
    mid_shoulder, mid_hip = (
        to_person_frame((landmark_xy(table, f"left_{joint}") + landmark_xy(table, f"right_{joint}")) / 2.0, facing_sign)
        for joint in ("shoulder", "hip"))
    near_seen = np.isfinite(sh).all(axis=1) & np.isfinite(hip).all(axis=1)
    out["trunk_axis_inclination_deg"] = np.where(near_seen, _angle_deg(mid_shoulder - mid_hip), np.nan)
    out["hip_flexion_deg"] = 180.0 - _included_angle(sh, hip, knee)
    out["knee_flexion_deg"] = 180.0 - _included_angle(hip, knee, ankle)
    out["ankle_dorsiflexion_deg"] = _angle_deg(knee - ankle)

    contour = back_contour_points(table)
    contour_pf = np.stack([contour[..., 0] * facing_sign, -contour[..., 1]], axis=-1)
    out["pelvis_incl_deg"] = region_inclinations(contour_pf, PELVIS_REGION)
    out["lumbar_incl_deg"] = region_inclinations(contour_pf, LUMBAR_REGION)
    out["thorax_incl_deg"] = region_inclinations(contour_pf, THORAX_REGION)
    return out


def feet_forward(table: pd.DataFrame, facing_sign: float) -> np.ndarray:
    """Each foot's position along the way the person faces, in thigh lengths (frames, 2: left, right).

    A foot's position is the median of its ankle, heel and toe landmarks' image x times the facing sign; the
    unit is the clip's median hip-to-knee distance of the side seen better (so the figure does not depend on
    the picture's size). The origin is arbitrary: only changes over time mean anything. NaN where a foot's
    landmarks are missing.
    """
    thighs = []
    for side in ("left", "right"):
        thigh = np.linalg.norm(landmark_xy(table, f"{side}_knee") - landmark_xy(table, f"{side}_hip"), axis=1)
        thighs.append(np.nanmedian(thigh) if np.isfinite(thigh).any() else np.nan)
    unit = np.nanmax(thighs) if np.isfinite(thighs).any() else np.nan
    out = np.full((len(table), 2), np.nan)
    if not (np.isfinite(unit) and unit > 0):
        return out
    for k, side in enumerate(("left", "right")):
        xs = np.column_stack([landmark_xy(table, f"{side}_{joint}")[:, 0] for joint in ("ankle", "heel", "foot_index")])
        seen = np.isfinite(xs).any(axis=1)
        out[seen, k] = np.nanmedian(xs[seen], axis=1) * facing_sign / unit
    return out


#: The angles are read relative to standing, so the person must stand up at some point: the thigh (smoothed
#: depth) at least this many degrees above horizontal (90 = vertical). On the real clips every analysed
#: stretch's most upright frame reads 85-110°; the side-view stretches of a clip cropped at the chest, which
#: are the bottoms of its squats (standing, the shoulders leave the picture), read 37-62°.
MIN_STANDING_THIGH_DEG = 70.0


def stands_up(depth_deg: np.ndarray) -> bool:
    """Whether the thigh ever reaches :data:`MIN_STANDING_THIGH_DEG` (depth in degrees, 90 = vertical)."""
    d = np.asarray(depth_deg, float)
    return bool(np.isfinite(d).any() and np.nanmax(d) >= MIN_STANDING_THIGH_DEG)


def never_stands_reason(depth_deg: np.ndarray) -> str:
    """The reason a clip or stretch without a standing posture is not analysed."""
    d = np.asarray(depth_deg, float)
    top = f"{np.nanmax(d):.0f}°" if np.isfinite(d).any() else "unknown"
    return (f"the person never stands up (thigh at most {top} above horizontal, needs ≥ "
            f"{MIN_STANDING_THIGH_DEG:.0f}°): no standing posture to measure from; film from standing to standing")


def standing_mask(depth_deg: np.ndarray, margin_deg: float = 12.0) -> np.ndarray:
    """Frames where the person stands (thigh within ``margin_deg`` of its most upright level)."""
    d = np.asarray(depth_deg, float)
    if not np.isfinite(d).any():
        return np.zeros(d.shape, bool)
    top = np.nanpercentile(d, 95)
    return np.isfinite(d) & (d >= top - margin_deg)


def relative_to_standing(kin: pd.DataFrame, standing: np.ndarray) -> pd.DataFrame:
    """Add the back angles relative to the standing posture (docs/conventions.md):

    ``pelvis_tilt_deg`` (anterior +), ``lumbar_angle_deg`` (lumbar-region inclination, forward +),
    ``lumbar_flexion_deg`` (thorax region minus pelvis region, flexion +), ``lumbopelvic_angle_deg``
    (lumbar region minus pelvis region, flexion +) and ``trunk_pelvis_flexion_deg`` (the trunk axis from the
    hips' to the shoulders' landmark midpoints minus the pelvis region: the pelvis turned back under the
    trunk, flexion +; the landmarks' trunk is not bent by arms behind the upper back as the contour's
    thorax line is), each zero at the median standing frame.
    """
    out = kin.copy()
    pelvis, lumbar, thorax = (kin[c].to_numpy(float) for c in ("pelvis_incl_deg", "lumbar_incl_deg",
                                                                  "thorax_incl_deg"))
    trunk_axis = "trunk_axis_inclination_deg" if "trunk_axis_inclination_deg" in kin else "trunk_inclination_deg"
    raw = {
        "pelvis_tilt_deg": pelvis,
        "lumbar_angle_deg": lumbar,
        "lumbar_flexion_deg": thorax - pelvis,
        "lumbopelvic_angle_deg": lumbar - pelvis,
        "trunk_pelvis_flexion_deg": kin[trunk_axis].to_numpy(float) - pelvis,
    }
    for name, values in raw.items():
        ref = values[standing & np.isfinite(values)]
        base = float(np.median(ref)) if ref.size else float(np.nanmedian(values[:max(1, len(values) // 10)])
                                                             if np.isfinite(values).any() else 0.0)
        out[name] = values - base
    return out
