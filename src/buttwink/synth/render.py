"""Render a synthetic squat clip and write it with its ground truth."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from .body import build_primitives, draw_shape
from .kinematics import Truth, compute_truth, make_camera
from .params import CameraParams, SquatParams
from .raytrace import render_image

#: unit vector toward the key light (forward, up, toward the camera side)
LIGHT = np.array([0.35, 0.8, 0.5]) / np.linalg.norm([0.35, 0.8, 0.5])


@dataclass
class RenderResult:
    """Paths written by :func:`render_clip` and the truth tables (same content as the CSV files)."""

    outdir: Path
    video_path: Path
    truth_path: Path
    reps_path: Path
    params_path: Path
    truth: pd.DataFrame
    reps: pd.DataFrame
    n_frames: int
    seconds_per_frame: float


def _linear_renders(
    squat: SquatParams,
    camera: CameraParams,
    seed: int,
    truth: Truth | None,
    indices: Sequence[int] | None,
    black_body: bool = False,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame index, linear RGB float32 image)`` at the supersampled size, before mirroring.

    With ``black_body`` every body material is black, so a pixel is exactly 0 where its ray hits the body
    (the floor, wall and sky are never black).
    """
    truth = truth if truth is not None else compute_truth(squat, camera, seed)
    shape = draw_shape(seed)
    mats = shape.materials()
    if black_body:
        mats = np.zeros_like(mats)
    cam = make_camera(camera, squat).scaled(int(camera.supersample))
    camv = np.concatenate([cam.pos, cam.right, cam.up, cam.fwd, [cam.f, cam.cx, cam.cy]]).astype(np.float64)
    wall_z = -float(camera.wall_distance_m)
    buf = np.zeros((cam.height, cam.width, 3), np.float32)
    for i in range(len(truth.frames)) if indices is None else indices:
        P = build_primitives(truth.pose, i, squat, shape)
        render_image(cam.width, cam.height, camv, P, mats, LIGHT, wall_z, buf)
        yield i, buf


def _to_frame_size(img: np.ndarray, camera: CameraParams, interp: int = cv2.INTER_AREA) -> np.ndarray:
    """Supersampled image -> the clip's frame size, mirrored when the person faces left."""
    if int(camera.supersample) > 1:
        img = cv2.resize(img, (camera.width, camera.height), interpolation=interp)
    return img[:, ::-1] if camera.facing == "left" else img


def finish_frame(buf: np.ndarray, camera: CameraParams, seed: int, index: int) -> np.ndarray:
    """A linear-light render (0..1, supersampled) -> the delivered uint8 RGB frame: gamma 2.2, frame size and
    mirroring, the camera's blur, and sensor noise that depends only on (seed, frame index)."""
    img = _to_frame_size(np.power(np.clip(buf, 0.0, 1.0), 1.0 / 2.2) * 255.0, camera)
    if camera.blur_sigma > 0:
        img = cv2.GaussianBlur(img, (0, 0), camera.blur_sigma)
    if camera.noise_sigma > 0:
        noise_rng = np.random.default_rng(np.random.SeedSequence([int(seed), 3, int(index)]))
        img = img + noise_rng.normal(0.0, camera.noise_sigma, img.shape)
    return np.ascontiguousarray(np.clip(np.rint(img), 0, 255).astype(np.uint8))


def render_frames(
    squat: SquatParams,
    camera: CameraParams,
    seed: int,
    truth: Truth | None = None,
    indices: Sequence[int] | None = None,
) -> Iterator[np.ndarray]:
    """Yield the clip's frames as uint8 RGB arrays (height, width, 3); deterministic for a seed.

    ``indices`` selects frames (default: all, in order). Sensor noise of frame i depends only on (seed, i).
    """
    for i, buf in _linear_renders(squat, camera, seed, truth, indices):
        yield finish_frame(buf, camera, seed, i)


def render_silhouettes(
    squat: SquatParams,
    camera: CameraParams,
    seed: int,
    truth: Truth | None = None,
    indices: Sequence[int] | None = None,
) -> Iterator[np.ndarray]:
    """Yield the body's exact silhouette in each frame of :func:`render_frames`: float32 (height, width), the
    fraction of each pixel covered by the body (1 inside, 0 outside; fractions only on the edge, and only with
    ``camera.supersample`` > 1). Same framing and mirroring as the frames, without blur or noise. It is the
    segmentation a perfect person-segmenter would give, to tell its errors from those of the back-contour
    geometry.
    """
    for _, buf in _linear_renders(squat, camera, seed, truth, indices, black_body=True):
        body = (buf.max(axis=2) == 0.0).astype(np.float32)
        yield np.ascontiguousarray(_to_frame_size(body, camera))


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def render_clip(outdir: str | os.PathLike[str], squat: SquatParams, camera: CameraParams, seed: int) -> RenderResult:
    """Render a clip into ``outdir``: ``video.mp4``, ``truth.csv``, ``reps_truth.csv``, ``params.json``.

    Every file is written under a temporary name and renamed into place. Truth columns and conventions:
    see :func:`buttwink.synth.kinematics.compute_truth` and ``docs/conventions.md``.
    """
    import time

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    truth = compute_truth(squat, camera, seed)
    video = out / "video.mp4"
    tmp_video = out / ".video.tmp.mp4"
    writer = cv2.VideoWriter(str(tmp_video), cv2.VideoWriter_fourcc(*"mp4v"), float(camera.fps),
                             (camera.width, camera.height))  # fmt: skip
    if not writer.isOpened():
        raise RuntimeError(f"cannot open a video writer for {tmp_video}")
    t0 = time.perf_counter()
    n = 0
    try:
        for frame in render_frames(squat, camera, seed, truth):
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
        "squat": squat.to_dict(),
        "camera": camera.to_dict(),
        "body": {k: v for k, v in draw_shape(seed).__dict__.items()},
        "n_frames": n,
        "duration_s": truth.duration_s,
        "conventions": "docs/conventions.md",
    }
    _atomic_write_text(params_path, json.dumps(params, indent=2, default=_json_default))
    return RenderResult(out, video, truth_path, reps_path, params_path, truth.frames, truth.reps, n, spf)


def _json_default(o: object) -> object:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, float) and math.isnan(o):
        return None
    raise TypeError(type(o))
