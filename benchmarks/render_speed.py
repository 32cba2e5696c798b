"""Frames per second of the synthetic squat renderer: ``python benchmarks/render_speed.py``."""

from __future__ import annotations

import time

from buttwink.synth import CameraParams, SquatParams, compute_truth
from buttwink.synth.render import render_frames


def main() -> None:
    squat = SquatParams(reps=1, wink_deg=15.0, onset_depth_deg=5.0, depth_deg=-20.0)
    for w, h, ss in ((320, 240, 1), (480, 360, 1), (640, 480, 1), (480, 360, 2)):
        cam = CameraParams(width=w, height=h, fps=15.0, supersample=ss)
        truth = compute_truth(squat, cam, seed=0)
        idx = list(range(0, len(truth.frames), 2))
        next(render_frames(squat, cam, 0, truth, indices=idx[:1]))  # compile / load the numba cache
        t0 = time.perf_counter()
        for _ in render_frames(squat, cam, 0, truth, indices=idx):
            pass
        spf = (time.perf_counter() - t0) / len(idx)
        print(f"{w}x{h} supersample {ss}: {spf:.3f} s/frame ({1 / spf:.1f} frames/s) over {len(idx)} frames")


if __name__ == "__main__":
    main()
