"""The mannequin's surface: capsules and ellipsoids placed on the skeleton of :mod:`.kinematics`.

Each trunk piece is defined in its segment's standing frame (fractions of body height, relative to the
segment's proximal joint) and turned with the segment, so the skin of the lower back follows the lumbar
segment and the sacrum/buttocks follow the pelvis: the back contour tracks the spine by construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import kinematics as K  # noqa: N812
from .params import SquatParams
from .raytrace import NCOL

SKIN, SHIRT, SHORTS, SHOE, HAIR, EYE_WHITE, PUPIL, LIPS, SOLE = range(9)

_SKINS = [(233, 190, 160), (214, 160, 125), (176, 120, 86), (120, 78, 55)]
_SHIRTS = [(40, 90, 170), (170, 40, 45), (40, 120, 70), (90, 90, 100), (220, 130, 30), (110, 60, 140)]
_SHORTS = [(30, 30, 35), (25, 35, 70), (70, 70, 75), (45, 60, 45)]
_SHOES = [(235, 235, 235), (60, 60, 65), (200, 60, 50)]
_HAIRS = [(40, 28, 20), (90, 60, 35), (20, 20, 20), (150, 110, 60)]


def _lin(c: tuple[int, int, int]) -> list[float]:
    return [(v / 255.0) ** 2.2 for v in c]


@dataclass(frozen=True)
class BodyShape:
    """Seed-drawn look: girth factor (soft-tissue radii) and colours (sRGB 0-255)."""

    girth: float
    skin: tuple[int, int, int]
    shirt: tuple[int, int, int]
    shorts: tuple[int, int, int]
    shoes: tuple[int, int, int]
    hair: tuple[int, int, int]

    def materials(self) -> np.ndarray:
        """(n, 4) linear RGB + specular strength, indexed by the material constants of this module."""
        rows = [
            [*_lin(self.skin), 0.08],
            [*_lin(self.shirt), 0.03],
            [*_lin(self.shorts), 0.02],
            [*_lin(self.shoes), 0.05],
            [*_lin(self.hair), 0.02],
            [*_lin((235, 235, 230)), 0.2],
            [*_lin((25, 20, 18)), 0.3],
            [*_lin(tuple(int(v * 0.75) for v in self.skin)), 0.05],  # type: ignore[arg-type]
            [*_lin((40, 40, 40)), 0.0],
        ]
        return np.array(rows, dtype=np.float64)


def draw_shape(seed: int) -> BodyShape:
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 2]))

    def pick(lst: list[tuple[int, int, int]]) -> tuple[int, int, int]:
        return lst[int(rng.integers(len(lst)))]

    girth = float(rng.uniform(0.92, 1.1))
    return BodyShape(girth, pick(_SKINS), pick(_SHIRTS), pick(_SHORTS), pick(_SHOES), pick(_HAIRS))


class _Builder:
    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []

    def capsule(self, a, b, r1, r2, mat, k=0.02, sz=1.0, mat2=None, split=2.0) -> None:
        a, b = np.asarray(a, float), np.asarray(b, float)
        row = np.zeros(NCOL)
        row[0] = 0
        row[1:4], row[4:7], row[7], row[8], row[9] = a, b, r1, r2, sz
        row[10], row[11], row[12], row[13] = k, mat, mat if mat2 is None else mat2, split
        c = 0.5 * (a + b)
        row[16:19] = c
        row[19] = 0.5 * np.linalg.norm(b - a) * max(sz, 1.0) + max(r1, r2) * max(sz, 1.0) + k + 1e-3
        self.rows.append(row)

    def ellipsoid(self, c, axes, rot_deg, mat, k=0.02, mat2=None, split=2.0, nx=0.0, ny=0.0) -> None:
        row = np.zeros(NCOL)
        row[0] = 1
        row[1:4], row[4:7], row[7] = c, axes, rot_deg
        row[10], row[11], row[12], row[13], row[14], row[15] = (
            k, mat, mat if mat2 is None else mat2, split, nx, ny)  # fmt: skip
        row[16:19] = c
        row[19] = max(axes) + k + 1e-3
        self.rows.append(row)

    def array(self) -> np.ndarray:
        return np.ascontiguousarray(np.vstack(self.rows))


def _two_bone(S: np.ndarray, T: np.ndarray, l1: float, l2: float, pole: np.ndarray):
    """Elbow and wrist of a two-segment limb from S reaching for T, bending toward ``pole``."""
    v = T - S
    d = float(np.linalg.norm(v))
    nrm = v / max(d, 1e-9)
    d = min(max(d, abs(l1 - l2) + 1e-4), l1 + l2 - 1e-4)
    a = (l1 * l1 - l2 * l2 + d * d) / (2 * d)
    h = math.sqrt(max(l1 * l1 - a * a, 0.0))
    e = pole - np.dot(pole, nrm) * nrm
    e /= max(np.linalg.norm(e), 1e-9)
    return S + a * nrm + h * e, S + d * nrm


def build_primitives(pose: K.Pose2D, i: int, squat: SquatParams, shape: BodyShape) -> np.ndarray:
    """Primitive table (see :mod:`.raytrace`) of the mannequin at frame ``i`` of ``pose``."""
    H = squat.height_m
    g = shape.girth
    B = _Builder()
    rot = {k: float(v[i]) for k, v in pose.seg_rot.items()}
    pts = {k: v[i] for k, v in pose.pts.items()}
    s = float(pose.progress[i])

    def seg(origin: np.ndarray, r: float, x: float, y: float, z: float = 0.0) -> np.ndarray:
        a = math.radians(r)
        c, sn = math.cos(a), math.sin(a)
        return np.array([origin[0] + (x * c + y * sn) * H, origin[1] + (-x * sn + y * c) * H, z * H])

    hip, l5, t12 = pts["hip"], pts["l5s1"], pts["t12l1"]
    rp, rl, rt = rot["pelvis"], rot["lumbar"], rot["thorax"]
    kb = 0.025 * H  # trunk blend radius
    # ---- pelvis (shorts): body + two gluteal ellipsoids
    B.capsule(seg(hip, rp, -0.006, 0.0), seg(hip, rp, -0.006, 0.048), 0.052 * g * H, 0.050 * g * H, SHORTS,
              k=kb, sz=1.72)  # fmt: skip
    for sgn in (1.0, -1.0):
        B.ellipsoid(seg(hip, rp, -0.036, -0.008, sgn * 0.043 * g), (0.050 * g * H, 0.062 * H, 0.048 * g * H),
                    rp, SHORTS, k=kb)  # fmt: skip
    # ---- lumbar (shirt)
    B.capsule(seg(l5, rl, 0.026, -0.004), seg(l5, rl, 0.028, 0.098), 0.055 * g * H, 0.055 * g * H, SHIRT,
              k=kb, sz=1.5)  # fmt: skip
    # ---- thorax (shirt): chest, shoulder girdle
    B.capsule(seg(t12, rt, 0.031, 0.0), seg(t12, rt, 0.027, 0.092), 0.058 * g * H, 0.062 * g * H, SHIRT,
              k=kb, sz=1.45)  # fmt: skip
    B.capsule(seg(t12, rt, 0.016, 0.121, 0.085), seg(t12, rt, 0.016, 0.121, -0.085), 0.031 * g * H,
              0.031 * g * H, SHIRT, k=0.02 * H)  # fmt: skip
    # ---- neck and head (head stays more upright than the thorax)
    nb = seg(t12, rt, 0.006, 0.15)
    rh = 0.45 * rt
    hc = seg(nb[:2], rh, 0.02, 0.093)
    B.capsule(nb, seg(hc[:2], rh, -0.008, -0.035), 0.026 * H, 0.024 * H, SKIN, k=0.015 * H)
    B.ellipsoid(hc, (0.056 * H, 0.068 * H, 0.050 * H), rh, SKIN, k=0.01 * H, mat2=HAIR, split=0.02,
                nx=-0.55, ny=0.83)  # fmt: skip
    for sgn in (1.0, -1.0):
        B.ellipsoid(seg(hc[:2], rh, 0.045, 0.013, sgn * 0.018), (0.0075 * H,) * 3, rh, EYE_WHITE, k=0.0)
        B.ellipsoid(seg(hc[:2], rh, 0.0505, 0.013, sgn * 0.018), (0.0042 * H,) * 3, rh, PUPIL, k=0.0)
        B.ellipsoid(seg(hc[:2], rh, 0.045, 0.026, sgn * 0.019), (0.006 * H, 0.0025 * H, 0.011 * H), rh, HAIR,
                    k=0.0)  # fmt: skip
        B.ellipsoid(seg(hc[:2], rh, -0.004, 0.0, sgn * 0.049), (0.013 * H, 0.021 * H, 0.007 * H), rh, SKIN,
                    k=0.004 * H)  # fmt: skip
    B.ellipsoid(seg(hc[:2], rh, 0.055, -0.006), (0.012 * H, 0.018 * H, 0.009 * H), rh - 12.0, SKIN,
                k=0.006 * H)  # fmt: skip
    B.ellipsoid(seg(hc[:2], rh, 0.0495, -0.032), (0.006 * H, 0.0035 * H, 0.014 * H), rh, LIPS, k=0.0)

    # ---- legs and feet
    half_st = 0.5 * squat.stance_width * H
    knee_z = 0.5 * (K.HJC_HALF * H + half_st) + 0.25 * (half_st - K.HJC_HALF * H) * s
    toe_out = math.radians(squat.toe_out_deg)
    for sgn in (1.0, -1.0):
        hj = np.array([hip[0], hip[1], sgn * K.HJC_HALF * H])
        kn = np.array([pts["knee"][0], pts["knee"][1], sgn * knee_z])
        an = np.array([pts["ankle"][0], pts["ankle"][1], sgn * half_st])
        B.capsule(hj, kn, 0.056 * g * H, 0.033 * g * H, SHORTS, k=0.02 * H, mat2=SKIN, split=0.5)
        B.capsule(kn, an, 0.033 * g * H, 0.021 * H, SKIN, k=0.015 * H)
        shank = kn - an
        sa = math.degrees(math.atan2(shank[0], shank[1]))
        calf = kn + 0.32 * (an - kn)
        ca = math.radians(sa)
        calf[:2] += np.array([-math.cos(ca), math.sin(ca)]) * 0.013 * H
        B.ellipsoid(calf, (0.030 * g * H, 0.075 * H, 0.030 * g * H), sa, SKIN, k=0.02 * H)

        def foot(fx: float, fy: float, _sgn: float = sgn) -> np.ndarray:
            return np.array([fx * H * math.cos(toe_out), fy * H, _sgn * (half_st + fx * H * math.sin(toe_out))])

        B.capsule(foot(-0.024, 0.021), foot(0.094, 0.014), 0.021 * H, 0.014 * H, SHOE, k=0.012 * H, sz=1.3)
        B.capsule(an, foot(0.02, 0.03), 0.022 * H, 0.02 * H, SHOE, k=0.015 * H)

    # ---- arms
    shoulder = pts["shoulder"]
    l1, l2 = K.UPPER_ARM * H, K.FOREARM * H
    for sgn in (1.0, -1.0):
        S = np.array([shoulder[0], shoulder[1], sgn * K.SHOULDER_HALF * H])
        if squat.arms == "forward":
            d = np.array([0.99, -0.08, -sgn * 0.12])
            T = S + 0.97 * (l1 + l2) * d / np.linalg.norm(d)
            pole = np.array([0.0, -0.5, sgn * 1.0])
        elif squat.arms == "bar":
            T = seg(t12, rt, -0.03, 0.105, sgn * (K.SHOULDER_HALF + 0.11))
            pole = np.array([-0.3, -1.0, sgn * 1.0])
        else:  # hips
            T = seg(hip, rp, 0.02, 0.07, sgn * 0.108 * g)
            pole = np.array([0.0, -0.3, sgn * 1.0])
        E, W = _two_bone(S, T, l1, l2, pole)
        B.capsule(S, E, 0.026 * g * H, 0.020 * g * H, SHIRT, k=0.012 * H, mat2=SKIN, split=0.45)
        B.capsule(E, W, 0.019 * g * H, 0.014 * H, SKIN, k=0.01 * H)
        fd = (W - E) / np.linalg.norm(W - E)
        if squat.arms == "forward":  # open hand
            B.capsule(W + 0.01 * H * fd, W + 0.06 * H * fd, 0.016 * H, 0.013 * H, SKIN, k=0.008 * H)
            B.capsule(W + 0.06 * H * fd, W + 0.095 * H * fd, 0.011 * H, 0.009 * H, SKIN, k=0.006 * H)
        else:  # fist (gripping a bar / resting on the hips)
            B.capsule(W + 0.01 * H * fd, W + 0.045 * H * fd, 0.017 * H, 0.016 * H, SKIN, k=0.008 * H)
    return B.array()
