"""A MakeHuman body squatting: the pose of every frame, balanced over the mid-foot, and its ground truth.

The movement shares the mannequin's rep plan and timing (:func:`.kinematics.plan_reps`,
:func:`.kinematics.schedule_at`: depth, wink onset and size per moment) and writes the same truth
columns with the same conventions (``docs/conventions.md``). What differs is how the trunk and the shank
move (``SquatParams.trunk_lean_deg`` and ``ankle_dorsiflexion_deg`` are not used):

* **Feet**: flat on the floor, where they stand (heels down); the shank turns about the ankle.
* **Thigh**: turned so that the HJC -> knee vector has the scheduled ``depth_deg``.
* **Trunk lean comes from balance**, not from a schedule: for every frame the whole upper body (pelvis,
  spine, head, arms' attachment) is turned about the hip joint centres by the angle that puts the body's
  centre of mass straight above the mid-foot (midpoint of heel and toe tip). The arms keep their direction
  in the world, so reaching forward shifts the balance. When standing, the whole body leans at the ankles
  instead (upright trunk, CoM over the mid-foot).
* **Shank**: balance alone cannot choose between leaning the trunk and pushing the knees forward, so the
  two are paired: the shank turns forward from standing by as much as the balanced trunk does (the trunk
  stays parallel to the shin, the classic balanced squat; :func:`paired_shank`). Solved on a grid of
  descent fractions per rep and interpolated; the trunk is then balanced exactly in every frame. Each
  body shape thereby finds its own lean: the trunk lean peaks near parallel and eases toward the bottom
  of a deep squat, and the pelvis tilt with it.
* **Pelvis and lumbar spine**: the pelvis turns with the trunk (anterior tilt on the way down). The
  rig's ``spine05`` bone carries the sacrum (its skin weights cover the back from the buttocks to the
  level of its tail, and its tail sits where L5/S1 is: ~9 cm above and ~4 cm behind the HJC), so it moves
  with the pelvis. The lumbar flexion is spread over ``spine04`` (pivot = L5/S1, the head of ``spine04``)
  and ``spine03`` (L3); ``spine02`` and ``spine01`` are the thorax. T12/L1 is the head of ``spine02``.
  Natural flexion grows with the thigh descent (``SquatParams.lumbar_flexion_per_deg``).
* **Butt wink**: from the onset depth the pelvis turns back (posterior tilt) by the scheduled wink amount
  and the lumbar spine flexes by the same amount, so the thorax keeps its path (as the mannequin).
* **Gradual flexion** (``HumanParams.gradual_flexion_deg``), a non-wink pattern: the same pelvis-under,
  lumbar-flexion motion but growing with the descent from the first frame, with no onset; the rep truth
  reports no wink for it.

Centre of mass: each triangle of the skin is swept to the nearest point on the axis of the bone segment it
belongs to (a wedge: half base times height, centroid 2/3 of the way out), and the volumes and moments are
summed per segment at rest (uniform density); posed segments are rigid. For the default body the segments
hold 59 L against the closed mesh's 65.5 L, and their centre of mass is 0.4 cm forward of the mesh's (3 cm
lower); only the forward coordinate matters for balance.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from . import kinematics as K  # noqa: N812
from .makehuman import Body, BodyShapeParams, build_body
from .params import CameraParams, SquatParams
from .skinning import forward_kinematics, rot_between, rot_sagittal

Clothes = Literal["tight", "loose"]
Skinning = Literal["dqs", "lbs"]

#: bones whose axis anchors the mass of the skin they carry (the rest inherit from an ancestor)
_SEGMENTS = (
    "root", "spine05", "spine04", "spine03", "spine02", "spine01", "neck01", "neck02", "neck03", "head",
    "clavicle.L", "clavicle.R", "shoulder01.L", "shoulder01.R", "upperarm01.L", "upperarm01.R", "upperarm02.L",
    "upperarm02.R", "lowerarm01.L", "lowerarm01.R", "lowerarm02.L", "lowerarm02.R", "wrist.L", "wrist.R",
    "pelvis.L", "pelvis.R", "upperleg01.L", "upperleg01.R", "upperleg02.L", "upperleg02.R", "lowerleg01.L",
    "lowerleg01.R", "lowerleg02.L", "lowerleg02.R", "foot.L", "foot.R",
)  # fmt: skip
L5S1_BONE, T12L1_BONE = "spine04", "spine02"
NATURAL_L5S1_SHARE = 0.5  # share of the natural lumbar flexion at L5/S1 (spine04); the rest at spine03


@dataclass(frozen=True)
class HumanParams:
    """The human body's look and its non-wink lumbar pattern.

    Attributes:
        shape: MakeHuman sliders (sex, weight, muscle, height proportions, buttock volume), 0..1 each.
        clothes: "tight" (leggings and a fitted shirt) or "loose" (a T-shirt hanging straight from the
            shoulder blades over the lower back, hiding the waistband).
        gradual_flexion_deg: extra lumbar flexion (pelvis tucking under the trunk, deg) reached at the
            bottom, growing with the thigh descent from standing, with no onset; not a wink (0 = none).
        skinning: "dqs" (dual quaternions, default) or "lbs" (linear blend), see :mod:`.skinning`.
    """

    shape: BodyShapeParams = field(default_factory=BodyShapeParams)
    clothes: Clothes = "tight"
    gradual_flexion_deg: float = 0.0
    skinning: Skinning = "dqs"

    def __post_init__(self) -> None:
        if self.clothes not in ("tight", "loose"):
            raise ValueError("clothes must be 'tight' or 'loose'")
        if self.skinning not in ("dqs", "lbs"):
            raise ValueError("skinning must be 'dqs' or 'lbs'")
        if self.gradual_flexion_deg < 0:
            raise ValueError("gradual_flexion_deg is a magnitude (>= 0)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _incl(v: np.ndarray) -> float:
    """Direction of a sagittal vector (forward, up) as the angle from the upward vertical, forward +."""
    return math.degrees(math.atan2(v[0], v[1]))


def _wrap(a: float) -> float:
    return (a + 180.0) % 360.0 - 180.0


class Rig:
    """Index sets and rest geometry of a body needed to pose it."""

    def __init__(self, body: Body) -> None:
        self.body = body
        names = body.bone_names
        self.idx = {n: i for i, n in enumerate(names)}
        b = self.idx
        self.hjc_mid = 0.5 * (body.heads[b["upperleg01.L"]] + body.heads[b["upperleg01.R"]])
        self.ankle_mid = 0.5 * (body.heads[b["foot.L"]] + body.heads[b["foot.R"]])
        thigh = body.heads[b["lowerleg01.R"]] - body.heads[b["upperleg01.R"]]
        shank = body.heads[b["foot.R"]] - body.heads[b["lowerleg01.R"]]
        self.thigh_rest, self.shank_rest = _incl(thigh[:2]), _incl(shank[:2])
        lm = body.landmarks
        self.balance_x = 0.5 * (body.verts[lm["heel_r"], 0] + body.verts[lm["toe_r"], 0])
        self._moments()

    def _moments(self) -> None:
        """Per-segment volume and first moment at rest (cones from each segment's axis)."""
        body = self.body
        seg_of = np.arange(len(body.bone_names))
        segs = {self.idx[n] for n in _SEGMENTS}
        for i in range(len(seg_of)):
            j = i
            while j not in segs and body.parents[j] >= 0:
                j = body.parents[j]
            seg_of[i] = j
        owner = seg_of[body.skin_idx[:, 0]]  # each vertex's main segment
        tri_seg = owner[body.faces[:, 0]]
        a, bb, c = (body.verts[body.faces[:, k]] for k in range(3))
        h, d = body.heads[tri_seg], (body.tails - body.heads)[tri_seg]
        u = np.einsum("ij,ij->i", (a + bb + c) / 3.0 - h, d) / np.maximum(np.einsum("ij,ij->i", d, d), 1e-12)
        o = h + np.clip(u, 0.0, 1.0)[:, None] * d  # apex on the bone's axis, nearest the triangle
        # A triangle swept to the axis is a wedge (1/2 base x height), not a pyramid (1/3): that is what
        # tiles a limb; its centroid lies 2/3 of the way out.
        vol = np.einsum("ij,ij->i", a - o, np.cross(bb - o, c - o)) / 4.0
        cen = o + (2.0 / 3.0) * ((a + bb + c) / 3.0 - o)
        nb = len(body.bone_names)
        self.mass = np.bincount(tri_seg, weights=vol, minlength=nb)
        self.moment = np.stack([np.bincount(tri_seg, weights=vol * cen[:, k], minlength=nb) for k in range(3)], 1)
        self.total_mass = float(self.mass.sum())

    def com(self, G: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Centre of mass (3,) of the posed body (segments rigid, uniform density)."""
        return (np.einsum("bij,bj->i", G, self.moment) + self.mass @ t) / self.total_mass


@dataclass
class FrameAngles:
    """What one frame asks of the skeleton (degrees; sagittal rotations are forward +)."""

    depth: float  # thigh angle, depth_deg convention
    shank: float  # shank inclination (knee forward of the ankle +)
    pelvis_rel: float  # pelvis rotation relative to the balanced trunk (wink/gradual tuck: negative)
    l5s1: float  # flexion at L5/S1 (spine04 relative to the pelvis)
    l3: float  # flexion at L3 (spine03 relative to spine04)


def _elbow(reach: np.ndarray, l1: float, l2: float, pole: np.ndarray) -> np.ndarray:
    """Elbow (relative to the shoulder) of an arm of segment lengths l1, l2 reaching ``reach``, bent toward ``pole``."""
    d = float(np.clip(np.linalg.norm(reach), abs(l1 - l2) + 1e-4, l1 + l2 - 1e-4))
    u = reach / max(float(np.linalg.norm(reach)), 1e-9)
    a = (l1 * l1 - l2 * l2 + d * d) / (2 * d)
    e = pole - np.dot(pole, u) * u
    return a * u + math.sqrt(max(l1 * l1 - a * a, 0.0)) * e / max(float(np.linalg.norm(e)), 1e-9)


def _arm_dirs(arms: str, thorax_deg: float, sgn: float, l1: float, l2: float) -> tuple[np.ndarray, np.ndarray]:
    """World directions of the upper arm and the forearm (x forward, y up, z right; sgn +1 = right arm).

    "forward": both straight ahead, level. "bar": the hand 3 cm above and 4 cm behind the shoulder joint
    and 60 % of an arm's length out to the side in the thorax's frame (gripping a bar on the upper back),
    elbow down and back. "hips": hands on the hips, following the thorax.
    """
    if arms == "forward":
        d = np.array([0.99, -0.08, -sgn * 0.12])
        return d, d
    R = rot_sagittal(thorax_deg)
    if arms == "bar":
        reach = R @ np.array([-0.04, 0.03, sgn * 0.6 * (l1 + l2)])
        elbow = _elbow(reach, l1, l2, R @ np.array([-0.4, -1.0, 0.0]))
        return elbow, reach - elbow
    return R @ np.array([-0.25, -0.93, sgn * 0.28]), R @ np.array([0.70, -0.05, -sgn * 0.71])  # hands on hips


def global_rotations(rig: Rig, fa: FrameAngles, phi: float, arms: str) -> np.ndarray:
    """Global rotation (nb, 3, 3) of every bone for a frame's angles and trunk rotation ``phi`` (deg)."""
    body, b = rig.body, rig.idx
    pel = phi + fa.pelvis_rel
    thorax = pel + fa.l5s1 + fa.l3
    thigh_target = _incl(np.array([math.cos(math.radians(fa.depth)), -math.sin(math.radians(fa.depth))]))
    shank_target = _incl(np.array([-math.sin(math.radians(fa.shank)), -math.cos(math.radians(fa.shank))]))
    over = {
        "root": rot_sagittal(pel),
        "spine04": rot_sagittal(pel + fa.l5s1),
        "spine03": rot_sagittal(thorax),
        "neck01": rot_sagittal(0.75 * thorax),
        "neck02": rot_sagittal(0.6 * thorax),
        "neck03": rot_sagittal(0.45 * thorax),
    }
    R_thigh = rot_sagittal(_wrap(thigh_target - rig.thigh_rest))
    R_shank = rot_sagittal(_wrap(shank_target - rig.shank_rest))
    for side, sgn in (("L", -1.0), ("R", 1.0)):
        over[f"upperleg01.{side}"] = R_thigh
        over[f"lowerleg01.{side}"] = R_shank
        over[f"foot.{side}"] = np.eye(3)
        up_rest = body.heads[b[f"lowerarm01.{side}"]] - body.heads[b[f"upperarm01.{side}"]]
        lo_rest = body.heads[b[f"wrist.{side}"]] - body.heads[b[f"lowerarm01.{side}"]]
        up_d, lo_d = _arm_dirs(arms, thorax, sgn, float(np.linalg.norm(up_rest)), float(np.linalg.norm(lo_rest)))
        over[f"upperarm01.{side}"] = rot_between(up_rest, up_d)
        over[f"lowerarm01.{side}"] = rot_between(lo_rest, lo_d)
    G = np.empty((len(body.bone_names), 3, 3))
    for i, p in enumerate(body.parents):
        G[i] = over.get(body.bone_names[i], G[p] if p >= 0 else np.eye(3))
    return G


def posed_transforms(rig: Rig, G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Heads and translations of a pose whose pelvis turns about the hip joint centres, ankles held still."""
    body = rig.body
    r = rig.idx["root"]
    root_head = rig.hjc_mid + G[r] @ (body.heads[r] - rig.hjc_mid)
    heads, t = forward_kinematics(body, G, root_head)
    ank = 0.5 * (heads[rig.idx["foot.L"]] + heads[rig.idx["foot.R"]])
    shift = rig.ankle_mid - ank
    return heads + shift, t + shift


class BalanceError(ValueError):
    """No trunk rotation puts the centre of mass over the mid-foot; ``need_forward``: it stays behind."""

    def __init__(self, need_forward: bool) -> None:
        where = "behind" if need_forward else "in front of"
        super().__init__(f"the body cannot balance: its centre of mass stays {where} the mid-foot")
        self.need_forward = need_forward


def balance_phi(rig: Rig, fa: FrameAngles, arms: str) -> float:
    """Trunk rotation about the hips (deg, forward +) that puts the centre of mass over the mid-foot.

    The CoM's forward coordinate is nearly ``c0 + a cos(phi) + b sin(phi)`` (the upper body turns rigidly
    about the hip axis, the arms keep their world direction; only the head follows the trunk partly), so
    three evaluations give a closed-form first guess nearest to upright, refined by Newton steps on that
    model until the CoM is within 1e-8 m of the mid-foot.
    """

    def com_x(ang: float) -> float:
        G = global_rotations(rig, fa, ang, arms)
        _, t = posed_transforms(rig, G)
        return float(rig.com(G, t)[0])

    vals = [com_x(ang) for ang in (0.0, 90.0, 180.0)]
    c0 = 0.5 * (vals[0] + vals[2])
    a = 0.5 * (vals[0] - vals[2])
    bcoef = vals[1] - c0
    r = math.hypot(a, bcoef)
    q = (rig.balance_x - c0) / max(r, 1e-12)
    if abs(q) > 1.0:
        raise BalanceError(need_forward=q > 1.0)
    beta = math.atan2(bcoef, a)
    cands = [beta + math.acos(q), beta - math.acos(q)]
    phi = min(cands, key=lambda x: abs(_wrap(math.degrees(x))))
    for _ in range(4):
        err = com_x(math.degrees(phi)) - rig.balance_x
        if abs(err) < 1e-8:
            break
        phi -= err / (-a * math.sin(phi) + bcoef * math.cos(phi))
    return math.degrees(phi)


def standing_shank(rig: Rig, arms: str) -> float:
    """Shank inclination (deg) at which the upright body's CoM is over the mid-foot (lean at the ankles)."""

    def f(a: float) -> float:
        fa = FrameAngles(90.0, a, 0.0, 0.0, 0.0)
        G = global_rotations(rig, fa, 0.0, arms)
        _, t = posed_transforms(rig, G)
        return float(rig.com(G, t)[0] - rig.balance_x)

    return float(brentq(f, -15.0, 20.0, xtol=1e-6))


@dataclass
class HumanTruth:
    """Ground truth of a human-body clip, and the poses needed to render it."""

    frames: pd.DataFrame
    reps: pd.DataFrame
    plans: list[K.RepPlan]
    duration_s: float
    body: Body
    rig: Rig
    G: np.ndarray  # (n, nb, 3, 3) global bone rotations
    t: np.ndarray  # (n, nb, 3) bone translations
    trunk_phi_deg: np.ndarray  # balanced trunk rotation about the hips, per frame
    standing: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Ankles:
    """Shank inclination (deg) per rep as a function of the descent fraction ``s`` (0 standing .. 1 bottom)."""

    standing: float
    s_grid: np.ndarray
    shank_grid: tuple[np.ndarray, ...]  # one per rep

    def shank(self, rep: int, s: float) -> float:
        if rep < 1 or s <= 0.0:
            return self.standing
        return float(np.interp(s, self.s_grid, self.shank_grid[rep - 1]))


def _angles(
    depth: float, s: float, wink_amt: float, shank: float, squat: SquatParams, human: HumanParams
) -> FrameAngles:
    flex_nat = squat.lumbar_flexion_per_deg * (90.0 - depth)
    tuck = wink_amt + human.gradual_flexion_deg * s
    share = squat.wink_l5s1_share
    l5 = NATURAL_L5S1_SHARE * flex_nat + share * tuck
    l3 = (1 - NATURAL_L5S1_SHARE) * flex_nat + (1 - share) * tuck
    return FrameAngles(float(depth), float(shank), -float(tuck), float(l5), float(l3))


def _frame_angles(sch: K.Schedule, i: int, squat: SquatParams, human: HumanParams, ankles: Ankles) -> FrameAngles:
    shank = ankles.shank(int(sch.rep[i]), float(sch.s[i]))
    return _angles(float(sch.depth[i]), float(sch.s[i]), float(sch.wink_amt[i]), shank, squat, human)


def _trunk_inclination(rig: Rig, fa: FrameAngles, arms: str) -> float:
    """Balanced HJC -> shoulder inclination (deg, forward +) of a frame."""
    G = global_rotations(rig, fa, balance_phi(rig, fa, arms), arms)
    heads, _ = posed_transforms(rig, G)
    return _incl((heads[rig.idx["upperarm01.R"]] - heads[rig.idx["upperleg01.R"]])[:2])


def paired_shank(rig: Rig, fa: FrameAngles, squat: SquatParams, a0: float, trunk0: float) -> float:
    """Shank inclination (deg) for a frame: the one whose balanced trunk has turned forward from standing by
    as much as the shank has (trunk kept parallel to the shank, the classic balanced squat), in [a0, a0 + 60].

    Balance alone cannot choose between leaning the trunk and pushing the knees forward; this pairing picks
    the ankle for the body's own proportions, and the trunk lean then follows from balance.
    """

    def gap(sh: float) -> float:
        f = FrameAngles(fa.depth, sh, fa.pelvis_rel, fa.l5s1, fa.l3)
        try:
            return (_trunk_inclination(rig, f, squat.arms) - trunk0) - (sh - a0)
        except BalanceError as exc:
            return 180.0 if exc.need_forward else -180.0

    lo, hi = a0, a0 + 60.0
    g_lo, g_hi = gap(lo), gap(hi)
    if g_lo <= 0.0:
        return lo
    if g_hi > 0.0:
        return hi
    return float(brentq(gap, lo, hi, xtol=1e-4))


def _ankles(rig: Rig, plans: list[K.RepPlan], squat: SquatParams, human: HumanParams, a0: float) -> Ankles:
    """Paired shank angles on a grid of descent fractions for every rep (the path is the same both ways)."""
    s_grid = np.linspace(0.0, 1.0, 25)
    trunk0 = _trunk_inclination(rig, _angles(90.0, 0.0, 0.0, a0, squat, human), squat.arms)
    out = []
    for p in plans:
        row = [a0]
        for s in s_grid[1:]:
            depth = 90.0 - s * (90.0 - p.depth)
            wink_amt = _wink_at(depth, p, squat)
            row.append(paired_shank(rig, _angles(depth, s, wink_amt, a0, squat, human), squat, a0, trunk0))
        out.append(np.asarray(row))
    return Ankles(a0, s_grid, tuple(out))


def _wink_at(depth: float, p: K.RepPlan, squat: SquatParams) -> float:
    """The wink's posterior tilt at a thigh angle of a rep (same law as :func:`.kinematics.schedule_at`)."""
    return p.wink * float(K.wink_progress(np.array(depth), np.array(p.depth), squat.onset_depth_deg, np.array(p.wink)))


def _poses(rig: Rig, sch: K.Schedule, squat: SquatParams, human: HumanParams, ankles: Ankles):
    n = sch.t.size
    nb = len(rig.body.bone_names)
    G = np.empty((n, nb, 3, 3))
    T = np.empty((n, nb, 3))
    H = np.empty((n, nb, 3))
    phis = np.empty(n)
    for i in range(n):
        fa = _frame_angles(sch, i, squat, human, ankles)
        phis[i] = balance_phi(rig, fa, squat.arms)
        G[i] = global_rotations(rig, fa, phis[i], squat.arms)
        H[i], T[i] = posed_transforms(rig, G[i])
    return G, T, H, phis


def _points(rig: Rig, G: np.ndarray, T: np.ndarray, H: np.ndarray) -> dict[str, np.ndarray]:
    """3D truth points (n, 3): near side = the person's right (z > 0)."""
    b, body = rig.idx, rig.body
    pts = {
        "shoulder": H[:, b["upperarm01.R"]], "hip": H[:, b["upperleg01.R"]], "knee": H[:, b["lowerleg01.R"]],
        "ankle": H[:, b["foot.R"]], "l5s1": H[:, b[L5S1_BONE]], "t12l1": H[:, b[T12L1_BONE]],
    }  # fmt: skip
    f = b["foot.R"]
    for name, key in (("heel", "heel_r"), ("toe", "toe_r")):
        v = body.verts[body.landmarks[key]]
        pts[name] = np.einsum("nij,j->ni", G[:, f], v) + T[:, f]
    return pts


def compute_human_truth(
    squat: SquatParams, human: HumanParams, camera: CameraParams, seed: int, body: Body | None = None
) -> HumanTruth:
    """Poses and ground truth of a human-body clip (no rendering); columns as :func:`.kinematics.compute_truth`.

    ``squat.trunk_lean_deg`` is not used: the trunk lean follows from balance. Standing angles (the zero of
    pelvis tilt, lumbar flexion and lumbopelvic angle) are this body's balanced standing pose.
    """
    body = body if body is not None else build_body(human.shape, squat.height_m)
    rig = Rig(body)
    a0 = standing_shank(rig, squat.arms)
    plans, duration = K.plan_reps(squat, seed)
    n = max(1, int(math.ceil(duration * camera.fps - 1e-9)))
    t = np.arange(n) / camera.fps
    sch = K.schedule_at(t, squat, plans)
    ankles = _ankles(rig, plans, squat, human, a0)
    G, T, H, phis = _poses(rig, sch, squat, human, ankles)
    p3 = _points(rig, G, T, H)
    stand = K.schedule_at(np.array([0.0]), squat, [])  # standing, no reps
    Gs, Ts, Hs, _ = _poses(rig, stand, squat, human, ankles)
    standing = K.standing_reference({k: v[:, :2] for k, v in _points(rig, Gs, Ts, Hs).items()})

    def angles_at(times: np.ndarray) -> dict[str, np.ndarray]:
        sc = K.schedule_at(times, squat, plans)
        g, tt, h, _ = _poses(rig, sc, squat, human, ankles)
        return K.sagittal_angles({k: v[:, :2] for k, v in _points(rig, g, tt, h).items()}, standing)

    cam = K.make_camera(camera, squat)
    cols: dict[str, object] = {
        "frame": np.arange(n),
        "time_s": t,
        "rep": sch.rep,
        "phase": np.array(K.PHASES)[sch.phase],
    }
    for name in ("shoulder", "hip", "knee", "ankle", "heel", "toe", "l5s1", "t12l1"):
        x, y, _ = cam.project(p3[name])
        if camera.facing == "left":
            x = camera.width - x
        cols[f"{name}_x_px"], cols[f"{name}_y_px"] = x, y
    cols.update(K.sagittal_angles({k: v[:, :2] for k, v in p3.items()}, standing))
    cols["wink_progress"] = sch.wink_progress
    mid = np.column_stack([p3["hip"][:, :2], np.zeros(n)])
    cols["body_height_px"] = cam.f * squat.height_m / cam.project(mid)[2]
    frames = pd.DataFrame(cols)[K.FRAME_COLUMNS]
    reps = K.rep_truth(squat, plans, angles_at)
    return HumanTruth(frames, reps, plans, duration, body, rig, G, T, phis, standing)
