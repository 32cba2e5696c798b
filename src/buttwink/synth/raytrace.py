"""CPU sphere tracer (numba) for the mannequin: smooth-blended capsules and ellipsoids, floor and wall.

Primitive table ``P`` (float64, one row per primitive, metres, world frame x forward / y up / z = the
person's right):

* ``P[i, 0]`` type: 0 = tapered capsule (a -> b, radii r1 -> r2, lateral scale about a's plane),
  1 = ellipsoid (centre, semi-axes, rotation about z in degrees, forward +).
* capsule: 1-3 a, 4-6 b, 7 r1, 8 r2, 9 lateral (z) scale (>1 = wider than deep).
* ellipsoid: 1-3 centre, 4-6 semi-axes, 7 rotation (deg).
* 10 blend radius k (smooth union with the blob so far; ~0 = hard), 11 material, 12 second material,
  13 split: capsule -> material 2 where the axial parameter t > split; ellipsoid -> material 2 where
  ``14 * x/ax + 15 * y/ay > split`` (local, normalised coordinates).
* 16-19 bounding sphere (centre, radius incl. k) used to cull primitives per ray.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

NCOL = 20


@njit(cache=True, fastmath=True)
def _prim(P, i, x, y, z):
    if P[i, 0] == 0.0:
        ax, ay, az = P[i, 1], P[i, 2], P[i, 3]
        sz = P[i, 9]
        bx, by, bz = P[i, 4] - ax, P[i, 5] - ay, (P[i, 6] - az) / sz
        qx, qy, qz = x - ax, y - ay, (z - az) / sz
        bb = bx * bx + by * by + bz * bz
        t = (qx * bx + qy * by + qz * bz) / bb
        t = min(max(t, 0.0), 1.0)
        dx, dy, dz = qx - t * bx, qy - t * by, qz - t * bz
        return math.sqrt(dx * dx + dy * dy + dz * dz) - (P[i, 7] + t * (P[i, 8] - P[i, 7])), t
    c = math.cos(math.radians(P[i, 7]))
    s = math.sin(math.radians(P[i, 7]))
    qx, qy, qz = x - P[i, 1], y - P[i, 2], z - P[i, 3]
    lx = qx * c - qy * s
    ly = qx * s + qy * c
    ex, ey, ez = lx / P[i, 4], ly / P[i, 5], qz / P[i, 6]
    k0 = math.sqrt(ex * ex + ey * ey + ez * ez)
    fx, fy, fz = ex / P[i, 4], ey / P[i, 5], ez / P[i, 6]
    k1 = math.sqrt(fx * fx + fy * fy + fz * fz) + 1e-12
    return k0 * (k0 - 1.0) / k1, P[i, 14] * ex + P[i, 15] * ey


@njit(cache=True, fastmath=True)
def _smin(a, b, k):
    if k <= 1e-9:
        return min(a, b)
    h = max(k - abs(a - b), 0.0) / k
    return min(a, b) - h * h * k * 0.25


@njit(cache=True, fastmath=True)
def _scene(P, idx, n, x, y, z):
    d = 1e9
    for m in range(n):
        di, _ = _prim(P, idx[m], x, y, z)
        d = _smin(d, di, P[idx[m], 10])
    return d


@njit(cache=True, fastmath=True)
def _material(P, idx, n, x, y, z):
    best = 1e9
    mat = 0
    for m in range(n):
        i = idx[m]
        di, u = _prim(P, i, x, y, z)
        if di < best:
            best = di
            mat = int(P[i, 12]) if u > P[i, 13] else int(P[i, 11])
    return mat


@njit(cache=True, fastmath=True)
def _cull(P, ox, oy, oz, dx, dy, dz, idx):
    """Primitives whose bounding sphere the ray (t >= 0) meets; returns (count, t_enter, t_exit)."""
    n = 0
    t0 = 1e9
    t1 = 0.0
    for i in range(P.shape[0]):
        cx, cy, cz, r = P[i, 16] - ox, P[i, 17] - oy, P[i, 18] - oz, P[i, 19]
        tc = cx * dx + cy * dy + cz * dz
        d2 = cx * cx + cy * cy + cz * cz - tc * tc
        if d2 < r * r:
            th = math.sqrt(r * r - d2)
            if tc + th > 0.0:
                idx[n] = i
                n += 1
                t0 = min(t0, tc - th)
                t1 = max(t1, tc + th)
    return n, max(t0, 0.0), t1


@njit(cache=True, fastmath=True)
def _soft_shadow(P, idx, ox, oy, oz, lx, ly, lz, soft):
    n, t, tmax = _cull(P, ox, oy, oz, lx, ly, lz, idx)
    if n == 0:
        return 1.0
    res = 1.0
    t = max(t, 0.004)
    for _ in range(64):
        if t > tmax:
            break
        h = _scene(P, idx, n, ox + lx * t, oy + ly * t, oz + lz * t)
        res = min(res, soft * h / t)
        if res < 0.002:
            return 0.0
        t += min(max(h, 0.004), 0.08)
    return max(res, 0.0)


@njit(cache=True, fastmath=True)
def _hash(a, b):
    v = math.sin(a * 127.1 + b * 311.7) * 43758.5453
    return v - math.floor(v)


@njit(cache=True, parallel=True, fastmath=True)
def render_image(width, height, cam, P, mats, light, wall_z, out):
    """Render into ``out`` (height, width, 3) float32 linear RGB in [0, 1].

    ``cam`` = [pos(3), right(3), up(3), fwd(3), f, cx, cy]; ``light`` = unit vector towards the key light.
    """
    npr = P.shape[0]
    lx, ly, lz = light[0], light[1], light[2]
    for j in prange(height):
        idx = np.empty(npr, np.int64)
        sidx = np.empty(npr, np.int64)
        for i in range(width):
            u = (i + 0.5 - cam[13]) / cam[12]
            v = -(j + 0.5 - cam[14]) / cam[12]
            dx = cam[9] + u * cam[3] + v * cam[6]
            dy = cam[10] + u * cam[4] + v * cam[7]
            dz = cam[11] + u * cam[5] + v * cam[8]
            nrm = math.sqrt(dx * dx + dy * dy + dz * dz)
            dx, dy, dz = dx / nrm, dy / nrm, dz / nrm
            ox, oy, oz = cam[0], cam[1], cam[2]
            tpl = 1e9
            kind = -1
            if dy < -1e-9:
                tf = -oy / dy
                if tf < tpl:
                    tpl, kind = tf, 0
            if dz < -1e-9:
                tw = (wall_z - oz) / dz
                if tw < tpl:
                    tpl, kind = tw, 1
            n, t, t1 = _cull(P, ox, oy, oz, dx, dy, dz, idx)
            hit = False
            if n > 0:
                tend = min(t1, tpl)
                eps_px = 0.35 / cam[12]
                for _ in range(200):
                    if t > tend:
                        break
                    d = _scene(P, idx, n, ox + dx * t, oy + dy * t, oz + dz * t)
                    if d < eps_px * t:
                        hit = True
                        break
                    t += max(d * 0.85, 1e-4)
            if hit:
                px, py, pz = ox + dx * t, oy + dy * t, oz + dz * t
                e = 0.0007
                a1 = _scene(P, idx, n, px + e, py - e, pz - e)
                a2 = _scene(P, idx, n, px - e, py - e, pz + e)
                a3 = _scene(P, idx, n, px - e, py + e, pz - e)
                a4 = _scene(P, idx, n, px + e, py + e, pz + e)
                nx = a1 - a2 - a3 + a4
                ny = -a1 - a2 + a3 + a4
                nz = -a1 + a2 - a3 + a4
                nn = math.sqrt(nx * nx + ny * ny + nz * nz) + 1e-12
                nx, ny, nz = nx / nn, ny / nn, nz / nn
                m = _material(P, idx, n, px, py, pz)
                cr, cg, cb = mats[m, 0], mats[m, 1], mats[m, 2]
                spec_k = mats[m, 3]
                # ambient occlusion from a few samples along the normal
                occ = 0.0
                for s in range(1, 5):
                    hs = 0.012 * s
                    occ += (hs - _scene(P, idx, n, px + nx * hs, py + ny * hs, pz + nz * hs)) / (s * s)
                ao = min(max(1.0 - 12.0 * occ, 0.25), 1.0)
            elif kind >= 0:
                px, py, pz = ox + dx * tpl, oy + dy * tpl, oz + dz * tpl
                spec_k = 0.0
                ao = 1.0
                if kind == 0:
                    nx, ny, nz = 0.0, 1.0, 0.0
                    plank = math.floor(pz / 0.16)
                    fr = pz / 0.16 - plank
                    seg = math.floor((px + 0.7 * _hash(plank, 3.0)) / 1.2)
                    var = 0.86 + 0.22 * _hash(plank, seg)
                    grain = 0.96 + 0.04 * math.sin(px * 37.0 + 9.0 * _hash(plank, 1.0))
                    seam = 0.55 if (fr < 0.035 or fr > 0.965) else 1.0
                    w = var * grain * seam
                    cr, cg, cb = 0.42 * w, 0.27 * w, 0.16 * w
                else:
                    nx, ny, nz = 0.0, 0.0, 1.0
                    if py < 0.11:
                        cr, cg, cb = 0.72, 0.72, 0.70
                        if py > 0.1 or py < 0.006:
                            cr, cg, cb = 0.35, 0.35, 0.34
                    else:
                        g = 0.97 + 0.03 * _hash(math.floor(px * 40.0), math.floor(py * 40.0))
                        cr, cg, cb = 0.62 * g, 0.60 * g, 0.54 * g
            else:
                out[j, i, 0], out[j, i, 1], out[j, i, 2] = 0.6, 0.6, 0.6
                continue
            ndl = nx * lx + ny * ly + nz * lz
            sh = 0.0
            if ndl > 0.0:
                sh = _soft_shadow(P, sidx, px + nx * 0.003, py + ny * 0.003, pz + nz * 0.003, lx, ly, lz, 10.0)
            diff = max(ndl, 0.0) * sh
            # fill light from the camera side and a sky/ground hemisphere term
            ndv = max(-(nx * dx + ny * dy + nz * dz), 0.0)
            amb = (0.22 + 0.10 * ny) * ao + 0.18 * ndv * ao
            lit = 0.78 * diff + amb
            spec = 0.0
            if spec_k > 0.0 and diff > 0.0:
                hx, hy, hz = lx - dx, ly - dy, lz - dz
                hn = math.sqrt(hx * hx + hy * hy + hz * hz) + 1e-12
                ndh = max((nx * hx + ny * hy + nz * hz) / hn, 0.0)
                spec = spec_k * ndh**24 * sh
            out[j, i, 0] = min(cr * lit + spec, 1.0)
            out[j, i, 1] = min(cg * lit + spec, 1.0)
            out[j, i, 2] = min(cb * lit + spec, 1.0)
