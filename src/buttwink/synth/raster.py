"""A small z-buffer triangle rasteriser (numba) and the plain floor-and-wall background behind it.

Pixels: x right, y down, origin at the top-left pixel corner; a pixel is covered when its centre is inside
the triangle. Colours are per vertex (already shaded) and interpolated linearly in screen space; depth is
the camera-space distance along the view axis (smaller = nearer).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .kinematics import Camera


@njit(cache=True, fastmath=True)
def rasterize(xs, ys, zs, tris, cols, img, zbuf, label, tri_label):  # pragma: no cover - compiled
    """Draw triangles ``tris`` (m, 3) with vertex pixels ``xs, ys``, depths ``zs`` and colours ``cols`` (n, 3)
    into ``img`` (h, w, 3) float32 where they are nearer than ``zbuf``; ``label`` gets ``tri_label``."""
    h, w = zbuf.shape
    for k in range(tris.shape[0]):
        a, b, c = tris[k, 0], tris[k, 1], tris[k, 2]
        za, zb, zc = zs[a], zs[b], zs[c]
        if za <= 0.05 or zb <= 0.05 or zc <= 0.05:
            continue
        xa, ya, xb, yb, xc, yc = xs[a], ys[a], xs[b], ys[b], xs[c], ys[c]
        area = (xb - xa) * (yc - ya) - (xc - xa) * (yb - ya)
        if abs(area) < 1e-12:
            continue
        x0 = max(int(math.floor(min(xa, min(xb, xc)))), 0)
        x1 = min(int(math.ceil(max(xa, max(xb, xc)))), w - 1)
        y0 = max(int(math.floor(min(ya, min(yb, yc)))), 0)
        y1 = min(int(math.ceil(max(ya, max(yb, yc)))), h - 1)
        inv = 1.0 / area
        for py in range(y0, y1 + 1):
            fy = py + 0.5
            for px in range(x0, x1 + 1):
                fx = px + 0.5
                w0 = ((xb - fx) * (yc - fy) - (xc - fx) * (yb - fy)) * inv
                w1 = ((xc - fx) * (ya - fy) - (xa - fx) * (yc - fy)) * inv
                w2 = 1.0 - w0 - w1
                if w0 < 0.0 or w1 < 0.0 or w2 < 0.0:
                    continue
                z = w0 * za + w1 * zb + w2 * zc
                if z >= zbuf[py, px]:
                    continue
                zbuf[py, px] = z
                label[py, px] = tri_label[k]
                for ch in range(3):
                    img[py, px, ch] = w0 * cols[a, ch] + w1 * cols[b, ch] + w2 * cols[c, ch]


def vertex_normals(v: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (n, 3) of a triangle mesh (outward for counter-clockwise faces)."""
    fn = np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]])
    n = np.zeros_like(v)
    for k in range(3):
        for j in range(3):
            n[:, j] += np.bincount(faces[:, k], weights=fn[:, j], minlength=len(v))
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def background(cam: Camera, wall_z: float, light: np.ndarray) -> np.ndarray:
    """Linear-RGB float32 image (h, w, 3) of a plain floor (y = 0) and a wall (z = ``wall_z``), softly lit."""
    j, i = np.mgrid[0 : cam.height, 0 : cam.width]
    u = (i + 0.5 - cam.cx) / cam.f
    v = -(j + 0.5 - cam.cy) / cam.f
    d = cam.fwd[None, None, :] + u[..., None] * cam.right + v[..., None] * cam.up
    d /= np.linalg.norm(d, axis=2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(d[..., 1] < -1e-9, -cam.pos[1] / d[..., 1], np.inf)
        t_wall = np.where(d[..., 2] < -1e-9, (wall_z - cam.pos[2]) / d[..., 2], np.inf)
    floor = t_floor < t_wall
    img = np.empty((cam.height, cam.width, 3), np.float32)
    img[:] = (0.55, 0.55, 0.55)
    wall_col = np.array([0.60, 0.58, 0.52])
    floor_col = np.array([0.38, 0.26, 0.16])
    hit_wall = np.isfinite(t_wall) & ~floor
    wall_lit = 0.3 + 0.6 * max(float(light[2]), 0.0)
    floor_lit = 0.3 + 0.6 * max(float(light[1]), 0.0)
    img[hit_wall] = wall_col * wall_lit
    fl = floor & np.isfinite(t_floor)
    # a darker skirting board where the wall meets the floor
    py = cam.pos[1] + t_wall * d[..., 1]
    img[hit_wall & (py < 0.1)] = wall_col * 0.6 * wall_lit
    img[fl] = floor_col * floor_lit
    return img
