"""Regenerate the four sample clips (deterministic): ``python sample_videos/make_samples.py``.

Each clip goes to its own subfolder next to this script with ``video.mp4``, ``truth.csv``,
``reps_truth.csv`` and ``params.json`` (see ``buttwink.synth`` and ``docs/conventions.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from buttwink.synth import CameraParams, SquatParams, render_clip

HERE = Path(__file__).resolve().parent
CAMERA = CameraParams(width=480, height=360, fps=30.0, supersample=2, noise_sigma=1.5)

SAMPLES: dict[str, tuple[SquatParams, CameraParams, int]] = {
    "no_wink": (SquatParams(depth_deg=-15.0, reps=3, wink_deg=0.0), CAMERA, 11),
    "wink_parallel": (
        SquatParams(depth_deg=-20.0, reps=3, wink_deg=18.0, onset_depth_deg=0.0),
        CAMERA,
        12,
    ),
    "early_wink": (
        SquatParams(depth_deg=-15.0, reps=3, wink_deg=16.0, onset_depth_deg=25.0, trunk_lean_deg=35.0),
        CameraParams(width=480, height=360, fps=30.0, supersample=2, noise_sigma=1.5, yaw_deg=10.0),
        13,
    ),
    "facing_left": (
        SquatParams(depth_deg=-18.0, reps=3, wink_deg=17.0, onset_depth_deg=5.0, arms="hips"),
        CameraParams(width=480, height=360, fps=30.0, supersample=2, noise_sigma=1.5, facing="left"),
        14,
    ),
}


def main(names: list[str]) -> None:
    for name in names or list(SAMPLES):
        squat, camera, seed = SAMPLES[name]
        res = render_clip(HERE / name, squat, camera, seed)
        size_mb = res.video_path.stat().st_size / 1e6
        print(f"{name}: {res.n_frames} frames, {res.seconds_per_frame:.3f} s/frame, {size_mb:.2f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
