"""Pure squat kinematics and ground truth (no rendering).

The mannequin moves in its own sagittal plane: x forward (the direction the toes point), y up, origin on
the floor below the ankle joint centres. Lateral offsets (z, + = the person's right side) are added only
for rendering and for the 3D points that get projected to pixels.

The trunk is a chain of three segments, pelvis (HJC -> L5/S1), lumbar (L5/S1 -> T12/L1) and thorax
(T12/L1 -> shoulder), each rotated about the lateral axis ("inclination", from the upward vertical,
forward +). Every angle written to the truth is recomputed from the 2D sagittal points with the
definitions of ``docs/conventions.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .params import CameraParams, SquatParams

# ---------------------------------------------------------------------------------------------------
# Anthropometry (fractions of body height; Drillis & Contini / Winter segment proportions)
# ---------------------------------------------------------------------------------------------------
ANKLE_H = 0.039  # ankle joint centre above the floor
SHANK = 0.246  # knee -> ankle
THIGH = 0.245  # hip joint centre -> knee (standing hip height 0.530)
HJC_HALF = 0.05  # half the distance between hip joint centres
SHOULDER_HALF = 0.095  # half the distance between glenohumeral joint centres
UPPER_ARM = 0.186
FOREARM = 0.146
HAND = 0.108
# Trunk chain in the standing posture, relative to the previous joint: (forward, up)
PELVIS_VEC = (-0.026, 0.057)  # HJC -> L5/S1
LUMBAR_LEN, LUMBAR_NEUTRAL_DEG = 0.100, 3.0  # L5/S1 -> T12/L1
SHOULDER_ABOVE_HJC = 0.288  # standing shoulder height 0.818, straight above the HJC
HEEL = (-0.045, 0.012)  # heel point relative to the ankle (forward, absolute height)
TOE = (0.112, 0.012)  # tip of the foot (BlazePose "foot index")

PHASES = ("standing", "descent", "bottom", "ascent")
FRAME_COLUMNS = [
    "frame", "time_s", "rep", "phase",
    "shoulder_x_px", "shoulder_y_px", "hip_x_px", "hip_y_px", "knee_x_px", "knee_y_px",
    "ankle_x_px", "ankle_y_px", "heel_x_px", "heel_y_px", "toe_x_px", "toe_y_px",
    "l5s1_x_px", "l5s1_y_px", "t12l1_x_px", "t12l1_y_px",
    "pelvis_tilt_deg", "lumbar_flexion_deg", "lumbopelvic_angle_deg", "hip_flexion_deg",
    "knee_flexion_deg", "depth_deg", "trunk_inclination_deg", "ankle_dorsiflexion_deg",
    "wink_progress", "body_height_px",
]  # fmt: skip
REP_COLUMNS = [
    "rep", "start_time_s", "bottom_time_s", "end_time_s", "bottom_depth_deg", "onset_time_s",
    "onset_depth_deg", "onset_hip_flexion_deg", "wink_deg", "lumbopelvic_rise_deg",
]  # fmt: skip


def _rot(x: np.ndarray, y: np.ndarray, ang_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotate (x forward, y up) by ``ang_deg`` with forward + (the top of an upright vector goes forward)."""
    a = np.radians(ang_deg)
    c, s = np.cos(a), np.sin(a)
    return x * c + y * s, -x * s + y * c


def _incl(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Inclination from the upward vertical, forward +, degrees."""
    return np.degrees(np.arctan2(dx, dy))


def trunk_vectors() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standing pelvis, lumbar and thorax vectors (fractions of height), shoulder straight above the HJC."""
    p = np.array(PELVIS_VEC)
    a = math.radians(LUMBAR_NEUTRAL_DEG)
    lum = LUMBAR_LEN * np.array([math.sin(a), math.cos(a)])
    tho = np.array([0.0, SHOULDER_ABOVE_HJC]) - p - lum
    return p, lum, tho


@dataclass(frozen=True)
class RepPlan:
    """One repetition's timing and targets (after jitter)."""

    start: float
    descent: float
    pause: float
    ascent: float
    depth: float
    lean: float
    dorsi: float
    wink: float  # 0 when the rep has no wink (also when the bottom does not pass the onset depth)

    @property
    def bottom_start(self) -> float:
        return self.start + self.descent

    @property
    def ascent_start(self) -> float:
        return self.start + self.descent + self.pause

    @property
    def end(self) -> float:
        return self.ascent_start + self.ascent


def plan_reps(squat: SquatParams, seed: int) -> tuple[list[RepPlan], float]:
    """Per-rep schedule with the seed's small jitter; returns (plans, total duration in s)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
    j = float(squat.jitter)
    plans: list[RepPlan] = []
    t = squat.stand_s
    for _ in range(squat.reps):
        z = rng.standard_normal(6)
        tempo = float(np.clip(1.0 + 0.05 * j * z[0], 0.85, 1.15))
        depth = float(squat.depth_deg + np.clip(1.5 * j * z[1], -3.0, 3.0))
        wink = float(squat.wink_deg * np.clip(1.0 + 0.08 * j * z[2], 0.8, 1.2))
        if depth >= squat.onset_depth_deg:
            wink = 0.0
        plans.append(
            RepPlan(
                start=t,
                descent=squat.descent_s * tempo,
                pause=squat.pause_s,
                ascent=squat.ascent_s * float(np.clip(1.0 + 0.05 * j * z[3], 0.85, 1.15)),
                depth=depth,
                lean=float(squat.trunk_lean_deg + np.clip(2.0 * j * z[4], -4.0, 4.0)),
                dorsi=float(squat.ankle_dorsiflexion_deg + np.clip(1.5 * j * z[5], -3.0, 3.0)),
                wink=wink,
            )
        )
        t = plans[-1].end + squat.stand_s
    return plans, t


def _ease(u: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(u, 0.0, 1.0))


@dataclass
class Pose2D:
    """Sagittal-plane pose at a set of times. Points in metres (forward, up); angles in degrees."""

    t: np.ndarray
    rep: np.ndarray  # 1-based rep of the movement; standing frames carry the rep just finished (0 before)
    phase: np.ndarray  # index into PHASES
    progress: np.ndarray  # 0 standing .. 1 bottom (fraction of the rep's thigh descent)
    wink_progress: np.ndarray
    pts: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (n, 2)
    seg_rot: dict[str, np.ndarray] = field(default_factory=dict)  # segment rotation from standing, deg
    angles: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Schedule:
    """Where each time falls in the clip's reps and what the movement asks for at that moment.

    ``s`` is the fraction of the rep's thigh descent (0 standing .. 1 bottom), ``depth`` the thigh angle
    (``depth_deg``), ``shank`` the shank inclination (forward +, deg), ``wink_progress`` 0..1 and
    ``wink_amt`` the posterior pelvic tilt of the wink at that moment (deg); ``lean`` the rep's
    trunk-lean target (used by the mannequin only).
    """

    t: np.ndarray
    rep: np.ndarray
    phase: np.ndarray
    s: np.ndarray
    depth: np.ndarray
    shank: np.ndarray
    lean: np.ndarray
    wink_progress: np.ndarray
    wink_amt: np.ndarray


def schedule_at(t: np.ndarray, squat: SquatParams, plans: list[RepPlan]) -> Schedule:
    """Rep, phase, descent fraction, depth, shank angle and wink amount at times ``t`` (s)."""
    t = np.atleast_1d(np.asarray(t, dtype=float))
    n = t.size
    rep = np.zeros(n, dtype=int)
    phase = np.zeros(n, dtype=int)
    s = np.zeros(n)
    depth_b = np.full(n, float(squat.depth_deg))
    lean = np.zeros(n)
    dorsi = np.zeros(n)
    wink = np.zeros(n)
    for k, p in enumerate(plans, start=1):
        rep[t >= p.start] = k
        m = (t >= p.start) & (t < p.end)
        depth_b[m], lean[m], dorsi[m], wink[m] = p.depth, p.lean, p.dorsi, p.wink
        d = m & (t < p.bottom_start)
        b = m & (t >= p.bottom_start) & (t < p.ascent_start)
        a = m & (t >= p.ascent_start)
        phase[d], phase[b], phase[a] = 1, 2, 3
        s[d] = _ease((t[d] - p.start) / p.descent)
        s[b] = 1.0
        s[a] = 1.0 - _ease((t[a] - p.ascent_start) / p.ascent)
    s = np.where(phase == 0, 0.0, s)
    depth = 90.0 - s * (90.0 - depth_b)
    w = wink_progress(depth, depth_b, squat.onset_depth_deg, wink)
    return Schedule(t, rep, phase, s, depth, dorsi * s, lean, w, wink * w)


def wink_progress(depth: np.ndarray, depth_bottom: np.ndarray, onset_depth_deg: float, wink: np.ndarray) -> np.ndarray:
    """How far the wink has progressed (0..1) at thigh angle ``depth`` of a rep whose bottom is
    ``depth_bottom`` (deg): 0 above the onset, easing out to 1 at the bottom; 0 where ``wink`` is 0."""
    depth, depth_bottom, wink = np.broadcast_arrays(*(np.asarray(a, float) for a in (depth, depth_bottom, wink)))
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(wink > 0, (onset_depth_deg - depth) / (onset_depth_deg - depth_bottom), 0.0)
    x = np.clip(np.nan_to_num(x), 0.0, 1.0)
    return np.where(wink > 0, 1.0 - (1.0 - x) ** 2, 0.0)


def pose_at(t: np.ndarray, squat: SquatParams, plans: list[RepPlan]) -> Pose2D:
    """Evaluate the sagittal pose at arbitrary times ``t`` (s)."""
    sch = schedule_at(t, squat, plans)
    t, rep, phase, s, depth, lean, w, wink_amt = (sch.t, sch.rep, sch.phase, sch.s, sch.depth, sch.lean,
                                                  sch.wink_progress, sch.wink_amt)  # fmt: skip
    n = t.size
    H = squat.height_m

    a_sh = sch.shank  # shank inclination
    flex_nat = squat.lumbar_flexion_per_deg * (90.0 - depth)
    share = squat.wink_l5s1_share
    lp_nat, tl_nat = share * flex_nat, (1 - share) * flex_nat
    p0, l0, t0 = trunk_vectors()
    # Rigid trunk rotation phi that gives the wanted trunk lean with the natural flexion (no wink).
    lx, ly = _rot(np.full(n, l0[0]), np.full(n, l0[1]), lp_nat)
    tx, ty = _rot(np.full(n, t0[0]), np.full(n, t0[1]), lp_nat + tl_nat)
    phi = lean * s - _incl(p0[0] + lx + tx, p0[1] + ly + ty)
    rot_p = phi - wink_amt
    rot_l = phi + lp_nat - wink_amt + share * wink_amt
    rot_t = phi + lp_nat + tl_nat  # the wink cancels: the thorax keeps its path

    ankle = np.column_stack([np.zeros(n), np.full(n, ANKLE_H * H)])
    ar = np.radians(a_sh)
    knee = ankle + SHANK * H * np.column_stack([np.sin(ar), np.cos(ar)])
    dr = np.radians(depth)
    hip = knee + THIGH * H * np.column_stack([-np.cos(dr), np.sin(dr)])

    def chain(origin: np.ndarray, v: np.ndarray, rot: np.ndarray) -> np.ndarray:
        vx, vy = _rot(np.full(n, v[0] * H), np.full(n, v[1] * H), rot)
        return origin + np.column_stack([vx, vy])

    l5s1 = chain(hip, p0, rot_p)
    t12l1 = chain(l5s1, l0, rot_l)
    shoulder = chain(t12l1, t0, rot_t)
    heel = np.column_stack([np.full(n, HEEL[0] * H), np.full(n, HEEL[1] * H)])
    toe = np.column_stack([np.full(n, TOE[0] * H), np.full(n, TOE[1] * H)])
    pts = {
        "shoulder": shoulder, "hip": hip, "knee": knee, "ankle": ankle, "heel": heel, "toe": toe,
        "l5s1": l5s1, "t12l1": t12l1,
    }  # fmt: skip
    pose = Pose2D(t=t, rep=rep, phase=phase, progress=s, wink_progress=w, pts=pts)
    pose.seg_rot = {"pelvis": rot_p, "lumbar": rot_l, "thorax": rot_t}
    pose.angles = sagittal_angles(pts)
    return pose


def standing_reference(pts: dict[str, np.ndarray], i: int = 0) -> dict[str, float]:
    """The neutral angles of a body from its standing sagittal points (row ``i``), for :func:`sagittal_angles`."""
    hip, l5, t12, sh = (np.asarray(pts[k], float)[i] for k in ("hip", "l5s1", "t12l1", "shoulder"))
    pel = float(_incl(*(l5 - hip)))
    return {"pelvis": pel, "lumbar_rel": float(_incl(*(t12 - l5))) - pel, "thorax_rel": float(_incl(*(sh - t12))) - pel}


_STANDING = {
    "pelvis": float(_incl(*trunk_vectors()[0])),
    "lumbar_rel": LUMBAR_NEUTRAL_DEG - float(_incl(*trunk_vectors()[0])),
    "thorax_rel": float(_incl(*trunk_vectors()[2])) - float(_incl(*trunk_vectors()[0])),
}


def sagittal_angles(pts: dict[str, np.ndarray], standing: dict[str, float] | None = None) -> dict[str, np.ndarray]:
    """Angles of ``docs/conventions.md`` from sagittal points (forward, up), in degrees.

    ``standing`` holds the body's neutral ``pelvis`` inclination and its ``lumbar_rel`` and ``thorax_rel``
    angles (see :func:`standing_reference`); default: the mannequin's.
    """
    ref = _STANDING if standing is None else standing
    hip, knee, ankle = pts["hip"], pts["knee"], pts["ankle"]
    d = knee - hip
    depth = np.degrees(np.arctan2(hip[:, 1] - knee[:, 1], np.abs(d[:, 0])))
    thigh_fwd = np.degrees(np.arctan2(d[:, 0], -d[:, 1]))  # thigh from downward vertical, forward +
    shank = _incl(*(knee - ankle).T)
    trunk = _incl(*(pts["shoulder"] - hip).T)
    pel = _incl(*(pts["l5s1"] - hip).T)
    lum = _incl(*(pts["t12l1"] - pts["l5s1"]).T)
    tho = _incl(*(pts["shoulder"] - pts["t12l1"]).T)
    return {
        "pelvis_tilt_deg": pel - ref["pelvis"],
        "lumbar_flexion_deg": (tho - pel) - ref["thorax_rel"],
        "lumbopelvic_angle_deg": (lum - pel) - ref["lumbar_rel"],
        "hip_flexion_deg": thigh_fwd + trunk,
        "knee_flexion_deg": thigh_fwd + shank,
        "depth_deg": depth,
        "trunk_inclination_deg": trunk,
        "ankle_dorsiflexion_deg": shank,
    }


# ---------------------------------------------------------------------------------------------------
# 3D points and the camera
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Camera:
    """Pinhole camera: position, orthonormal axes (right, up, forward), focal length and centre in px."""

    pos: np.ndarray
    right: np.ndarray
    up: np.ndarray
    fwd: np.ndarray
    f: float
    cx: float
    cy: float
    width: int
    height: int

    def project(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Project (n, 3) points to pixel x, y (origin at the top-left pixel corner) and depth."""
        d = np.asarray(p, float) - self.pos
        xc, yc, zc = d @ self.right, d @ self.up, d @ self.fwd
        return self.cx + self.f * xc / zc, self.cy - self.f * yc / zc, zc

    def scaled(self, k: int) -> Camera:
        return Camera(self.pos, self.right, self.up, self.fwd, self.f * k, self.cx * k, self.cy * k,
                      self.width * k, self.height * k)  # fmt: skip


def make_camera(camera: CameraParams, squat: SquatParams) -> Camera:
    """Pinhole camera aimed at the person from their right side (before any facing mirror), level or tilted
    up or down by ``camera.pitch_deg`` about its horizontal axis."""
    H = squat.height_m
    ch = camera.height_m if camera.height_m is not None else (ANKLE_H + SHANK + THIGH) * H
    target = np.array([-0.06 * H, ch, 0.0])
    y = math.radians(camera.yaw_deg)
    pos = target + camera.distance_m * np.array([math.sin(y), 0.0, math.cos(y)])
    fwd = (target - pos) / np.linalg.norm(target - pos)
    up0 = np.array([0.0, 1.0, 0.0])
    if camera.pitch_deg:
        pitch = math.radians(camera.pitch_deg)
        fwd = math.cos(pitch) * fwd + math.sin(pitch) * up0
    right = np.cross(fwd, up0)
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    f = (camera.height / 2) / math.tan(math.radians(camera.vfov_deg) / 2)
    return Camera(pos, right, up, fwd, f, camera.width / 2, camera.height / 2, camera.width, camera.height)


def near_side_3d(pose: Pose2D, squat: SquatParams) -> dict[str, np.ndarray]:
    """3D (forward, up, lateral) positions of the near-side (person's right, z > 0) landmarks."""
    H = squat.height_m
    half_st = 0.5 * squat.stance_width * H
    n = pose.t.size
    out: dict[str, np.ndarray] = {}
    knee_z = 0.5 * (HJC_HALF * H + half_st) + 0.25 * (half_st - HJC_HALF * H) * pose.progress
    zs = {"shoulder": np.full(n, SHOULDER_HALF * H), "hip": np.full(n, HJC_HALF * H), "knee": knee_z,
          "ankle": np.full(n, half_st), "l5s1": np.zeros(n), "t12l1": np.zeros(n)}  # fmt: skip
    for name, z in zs.items():
        out[name] = np.column_stack([pose.pts[name], z])
    toe_out = math.radians(squat.toe_out_deg)
    for name in ("heel", "toe"):
        fx = pose.pts[name][:, 0]
        out[name] = np.column_stack([fx * math.cos(toe_out), pose.pts[name][:, 1],
                                     half_st + fx * math.sin(toe_out)])  # fmt: skip
    return out


@dataclass
class Truth:
    """Ground truth of a clip: per-frame table, per-rep table, and the underlying pose."""

    frames: pd.DataFrame
    reps: pd.DataFrame
    pose: Pose2D
    plans: list[RepPlan]
    duration_s: float


def compute_truth(squat: SquatParams, camera: CameraParams, seed: int) -> Truth:
    """Ground truth for a clip without rendering it (fast; deterministic for a seed).

    Returns per-frame columns ``FRAME_COLUMNS`` (pixels: x right, y down, origin at the top-left corner of
    the frame, near side = the side facing the camera; angles in degrees per ``docs/conventions.md``)
    and per-rep columns ``REP_COLUMNS`` (times in s from the first frame).
    """
    plans, duration = plan_reps(squat, seed)
    n = max(1, int(math.ceil(duration * camera.fps - 1e-9)))
    t = np.arange(n) / camera.fps
    pose = pose_at(t, squat, plans)
    cam = make_camera(camera, squat)
    p3 = near_side_3d(pose, squat)
    cols: dict[str, object] = {
        "frame": np.arange(n),
        "time_s": t,
        "rep": pose.rep,
        "phase": np.array(PHASES)[pose.phase],
    }
    for name in ("shoulder", "hip", "knee", "ankle", "heel", "toe", "l5s1", "t12l1"):
        x, y, _ = cam.project(p3[name])
        if camera.facing == "left":
            x = camera.width - x
        cols[f"{name}_x_px"], cols[f"{name}_y_px"] = x, y
    cols.update(pose.angles)
    cols["wink_progress"] = pose.wink_progress
    mid = np.column_stack([pose.pts["hip"], np.zeros(n)])
    cols["body_height_px"] = cam.f * squat.height_m / cam.project(mid)[2]
    frames = pd.DataFrame(cols)[FRAME_COLUMNS]
    reps = rep_truth(squat, plans)
    return Truth(frames=frames, reps=reps, pose=pose, plans=plans, duration_s=duration)


def rep_truth(
    squat: SquatParams,
    plans: list[RepPlan],
    angles_at: Callable[[np.ndarray], dict[str, np.ndarray]] | None = None,
) -> pd.DataFrame:
    """Per-rep truth in continuous time (onset solved exactly, not snapped to frames).

    ``angles_at(times)`` gives the per-frame angles of a body at those times (default: the mannequin's).
    """
    if angles_at is None:

        def angles_at(times: np.ndarray) -> dict[str, np.ndarray]:
            return pose_at(times, squat, plans).angles

    rows = []
    for k, p in enumerate(plans, start=1):
        t_bot = p.bottom_start + 0.5 * p.pause
        row: dict[str, float | int | None] = {
            "rep": k, "start_time_s": p.start, "bottom_time_s": t_bot, "end_time_s": p.end,
            "bottom_depth_deg": p.depth, "onset_time_s": None, "onset_depth_deg": None,
            "onset_hip_flexion_deg": None, "wink_deg": 0.0, "lumbopelvic_rise_deg": None,
        }  # fmt: skip
        if p.wink > 0:
            q = (90.0 - squat.onset_depth_deg) / (90.0 - p.depth)
            t_on = p.start + p.descent * math.acos(1.0 - 2.0 * q) / math.pi
            both = angles_at(np.array([t_on, t_bot]))
            lp = both["lumbopelvic_angle_deg"]
            row.update(onset_time_s=t_on, onset_depth_deg=float(both["depth_deg"][0]),
                       onset_hip_flexion_deg=float(both["hip_flexion_deg"][0]),
                       wink_deg=p.wink, lumbopelvic_rise_deg=float(lp[1] - lp[0]))  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows, columns=REP_COLUMNS)
