"""Cost of the pose stage against bare MediaPipe PoseLandmarker, on the same frames, in one run.

Frames are decoded into memory once. Then, alternating the order over several repeats (the machine is
noisy, so only ratios measured in the same run mean anything):

- bare:  PoseLandmarker.detect_for_video in VIDEO mode, nothing else;
- stage: buttwink.pose.PoseEstimator.process (the same call plus conversion to arrays);

each with and without segmentation masks, and the end-to-end estimate_clip (decode + pose + back contour)
against bare-with-masks plus decoding. Goal: stage / bare <= 1.10.

    python benchmarks/pose_throughput.py [--clip PATH] [--frames 150] [--height 720] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED_CLIP = ROOT.parent / "shared" / "videos" / "side_12reps.mp4"
SAMPLE_CLIP = ROOT / "sample_videos" / "wink_parallel" / "video.mp4"


def load_frames(clip: Path, n: int, height: int) -> list[np.ndarray]:
    from buttwink.video import iter_frames

    frames = []
    for frame in iter_frames(clip):
        rgb = frame.rgb
        if rgb.shape[0] != height:  # scale up or down to the asked height, like a phone clip would be
            width = int(round(rgb.shape[1] * height / rgb.shape[0] / 2)) * 2
            rgb = np.ascontiguousarray(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_LINEAR))
        frames.append(rgb)
        if len(frames) == n:
            break
    return frames


def bare(frames: list[np.ndarray], model: Path, fps: float, masks: bool) -> float:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from buttwink.pose import quiet_native_stderr

    opts = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(model)),
                                        running_mode=vision.RunningMode.VIDEO, output_segmentation_masks=masks)
    with quiet_native_stderr():
        landmarker = vision.PoseLandmarker.create_from_options(opts)
    t0 = time.perf_counter()
    for i, rgb in enumerate(frames):
        landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), int(i * 1000 / fps))
    elapsed = time.perf_counter() - t0
    with quiet_native_stderr():
        landmarker.close()
    return elapsed


def stage(frames: list[np.ndarray], model: Path, fps: float, masks: bool) -> float:
    from buttwink.pose import PoseEstimator, PoseOptions
    from buttwink.video import Frame

    with PoseEstimator(model, PoseOptions(with_masks=masks)) as est:
        t0 = time.perf_counter()
        for i, rgb in enumerate(frames):
            est.process(Frame(i, i / fps, rgb))
        return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=SHARED_CLIP if SHARED_CLIP.exists() else SAMPLE_CLIP)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from buttwink.models import ensure_model
    from buttwink.video import probe_video

    model = ensure_model()
    print(model.describe())
    fps = probe_video(args.clip).fps
    frames = load_frames(args.clip, args.frames, args.height)
    h, w = frames[0].shape[:2]
    print(f"{len(frames)} frames of {args.clip.name} at {w}x{h}, {args.repeats} repeats, order alternated")
    results: dict[str, list[float]] = {k: [] for k in ("bare", "stage", "bare+mask", "stage+mask")}
    for r in range(args.repeats):
        order = [("bare", bare, False), ("stage", stage, False), ("bare+mask", bare, True),
                 ("stage+mask", stage, True)]
        if r % 2:
            order.reverse()
        for name, fn, masks in order:
            results[name].append(fn(frames, model.path, fps, masks) / len(frames) * 1000)
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"{'':14s}{'ms/frame':>10s}")
    for k, v in med.items():
        print(f"{k:14s}{v:10.2f}")
    print(f"ratio stage/bare, no masks:   {med['stage'] / med['bare']:.3f}  (goal <= 1.10)")
    print(f"ratio stage/bare, with masks: {med['stage+mask'] / med['bare+mask']:.3f}  (goal <= 1.10)")

    # End to end: decode + pose + back contour, against decode + bare pose with masks.
    from buttwink.pipeline import estimate_clip
    from buttwink.video import iter_frames

    def decode_and_bare() -> float:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        from buttwink.pose import quiet_native_stderr

        opts = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(model.path)),
                                            running_mode=vision.RunningMode.VIDEO, output_segmentation_masks=True)
        with quiet_native_stderr():
            lm = vision.PoseLandmarker.create_from_options(opts)
        t0 = time.perf_counter()
        n = 0
        for f in iter_frames(args.clip, max_height=args.height):
            lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=f.rgb), int(f.time_s * 1000))
            n += 1
        elapsed = time.perf_counter() - t0
        with quiet_native_stderr():
            lm.close()
        return elapsed / n

    def whole_stage() -> float:
        t0 = time.perf_counter()
        track = estimate_clip(args.clip, max_height=args.height, model=model)
        return (time.perf_counter() - t0) / len(track.table)

    e2e_bare, e2e_stage = [], []
    for r in range(max(1, args.repeats - 1)):
        pair = [(e2e_bare, decode_and_bare), (e2e_stage, whole_stage)]
        for store, fn in (pair if r % 2 == 0 else pair[::-1]):
            store.append(fn() * 1000)
    b, s = statistics.median(e2e_bare), statistics.median(e2e_stage)
    print(f"whole clip ({args.clip.name}): decode+bare {b:.2f} ms/frame, estimate_clip {s:.2f} ms/frame, "
          f"ratio {s / b:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
