"""Cost of the pose stage against bare MediaPipe PoseLandmarker, on the same frames, in one run.

The first N frames of the clip are decoded into memory once (as the pipeline delivers them: RGB, upright,
at most ``--height`` pixels high). Then, alternating the order over ``--repeats`` repeats and taking the
median (the machine is noisy, so only ratios measured in the same run mean anything):

- bare:  ``PoseLandmarker.detect_for_video`` (Tasks API, VIDEO mode, same model, same thresholds, same mask
  setting), nothing else;
- stage: ``buttwink.pose.PoseEstimator.process`` (the same call plus conversion to arrays and the mask copy);

each without and with segmentation masks. Goal: stage / bare <= 1.10.

End to end, on a clip holding exactly those N frames: ``estimate_clip`` (decode + rotate/downscale + pose
with masks + back contour + people count, landmarker creation included) against bare (OpenCV decode +
BGR->RGB + resize + ``detect_for_video`` with masks, landmarker creation included).

    python benchmarks/pose_throughput.py [--clip PATH] [--frames 150] [--height 720] [--repeats 3]

Default clip: ``side_12reps.mp4`` from ../shared/videos when present, else a synthetic clip of a person
(``skimage.data.astronaut()`` moving on a 1280x720 canvas).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "videos"
SHARED_CLIP = SHARED / "side_12reps.mp4"


def default_clip() -> Path | None:
    if SHARED_CLIP.is_file():
        return SHARED_CLIP
    found = sorted(SHARED.glob("*.mp4")) if SHARED.is_dir() else []
    return found[0] if found else None


def synthetic_clip(path: Path, n: int, fps: float = 30.0) -> Path:
    """A person (the astronaut photo, head to waist) moving across a 1280x720 canvas."""
    from skimage import data

    photo = cv2.resize(data.astronaut(), (600, 600), interpolation=cv2.INTER_AREA)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (1280, 720))
    for i in range(n):
        canvas = np.full((720, 1280, 3), 90, np.uint8)
        x = 100 + (i * 4) % 500
        canvas[80:680, x:x + 600] = photo
        writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def first_frames_clip(clip: Path, n: int, dest: Path) -> Path:
    """The first ``n`` frames of ``clip`` re-encoded (mp4v, same size and fps) so both end-to-end runs read
    exactly the frames the in-memory runs use. Rotation metadata is not carried over; frames are written
    upright instead."""
    from buttwink.video import iter_frames, probe_video

    info = probe_video(clip)
    writer = cv2.VideoWriter(str(dest), cv2.VideoWriter_fourcc(*"mp4v"), info.fps, (info.width, info.height))
    for frame in iter_frames(clip):
        if frame.index >= n:
            break
        writer.write(cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return dest


def load_frames(clip: Path, n: int, height: int) -> tuple[list[np.ndarray], list[float]]:
    from buttwink.video import iter_frames

    frames, times = [], []
    for frame in iter_frames(clip, max_height=height):
        if frame.index >= n:
            break
        frames.append(frame.rgb)
        times.append(frame.time_s)
    return frames, times


def _landmarker(model: Path, masks: bool, mode: str = "VIDEO"):
    """A bare PoseLandmarker with PoseEstimator's settings (num_poses=1, thresholds 0.5)."""
    from mediapipe.tasks.python import BaseOptions, vision

    from buttwink.pose import PoseOptions, quiet_native_stderr

    defaults = PoseOptions()
    opts = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model)),
        running_mode=getattr(vision.RunningMode, mode),
        num_poses=1,
        min_pose_detection_confidence=defaults.min_detection_confidence,
        min_pose_presence_confidence=defaults.min_presence_confidence,
        min_tracking_confidence=defaults.min_tracking_confidence,
        output_segmentation_masks=masks,
    )
    with quiet_native_stderr():
        return vision.PoseLandmarker.create_from_options(opts)


def bare(frames: list[np.ndarray], times: list[float], model: Path, masks: bool) -> tuple[float, int]:
    """Seconds for detect_for_video over the frames (creation excluded), and frames with a person."""
    import mediapipe as mp

    from buttwink.pose import quiet_native_stderr

    landmarker = _landmarker(model, masks)
    found = 0
    t0 = time.perf_counter()
    for rgb, t in zip(frames, times, strict=True):
        result = landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb),
                                             int(round(t * 1000)))
        found += bool(result.pose_landmarks)
    elapsed = time.perf_counter() - t0
    with quiet_native_stderr():
        landmarker.close()
    return elapsed, found


def stage(frames: list[np.ndarray], times: list[float], model: Path, masks: bool) -> tuple[float, int]:
    """Seconds for PoseEstimator.process over the frames (creation excluded), and frames with a person."""
    from buttwink.pose import PoseEstimator, PoseOptions
    from buttwink.video import Frame

    found = 0
    with PoseEstimator(model, PoseOptions(with_masks=masks)) as est:
        t0 = time.perf_counter()
        for i, (rgb, t) in enumerate(zip(frames, times, strict=True)):
            found += est.process(Frame(i, t, rgb)).detected
        elapsed = time.perf_counter() - t0
    return elapsed, found


def e2e_bare(clip: Path, model: Path, height: int) -> tuple[float, int]:
    """Decode with plain OpenCV + bare PoseLandmarker with masks; creation included, like estimate_clip."""
    import mediapipe as mp

    from buttwink.pose import quiet_native_stderr

    t0 = time.perf_counter()
    landmarker = _landmarker(model, True)
    cap = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    n = 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if bgr.shape[0] > height:
            width = int(round(bgr.shape[1] * height / bgr.shape[0] / 2)) * 2
            bgr = cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), int(n * 1000 / fps))
        n += 1
    cap.release()
    with quiet_native_stderr():
        landmarker.close()
    return time.perf_counter() - t0, n


def e2e_stage(clip: Path, model, height: int) -> tuple[float, int]:
    from buttwink.pipeline import estimate_clip

    t0 = time.perf_counter()
    track = estimate_clip(clip, max_height=height, with_contour=True, model=model)
    return time.perf_counter() - t0, len(track.table)


def alternate(runs: dict[str, Callable[[], tuple[float, int]]], repeats: int) -> dict[str, list[tuple[float, int]]]:
    """Run every entry once per repeat, reversing the order on odd repeats."""
    out: dict[str, list[tuple[float, int]]] = {k: [] for k in runs}
    names = list(runs)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            out[name].append(runs[name]())
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=None, help="input video (default: see above)")
    parser.add_argument("--frames", type=int, default=150, help="frames to use (default 150)")
    parser.add_argument("--height", type=int, default=720, help="max frame height, like the pipeline (720)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats, order alternated; median (3)")
    args = parser.parse_args()

    import mediapipe

    from buttwink.models import ensure_model
    from buttwink.video import probe_video

    model = ensure_model()
    with tempfile.TemporaryDirectory(prefix="buttwink-bench-") as tmp:
        source = args.clip or default_clip()
        if source is None:
            source = synthetic_clip(Path(tmp) / "synthetic.mp4", args.frames)
        clip = first_frames_clip(source, args.frames, Path(tmp) / "first.mp4")
        frames, times = load_frames(clip, args.frames, args.height)
        h, w = frames[0].shape[:2]
        src = probe_video(source)
        print(f"mediapipe {getattr(mediapipe, '__version__', '?')}, {os.cpu_count()} cores; {model.describe()}")
        print(f"{len(frames)} frames of {source.name} ({src.width}x{src.height}, {src.fps:.2f} fps) at {w}x{h}; "
              f"{args.repeats} repeats, order alternated, median")

        runs = {}
        for masks in (False, True):
            tag = "+masks" if masks else ""
            runs[f"bare{tag}"] = lambda m=masks: bare(frames, times, model.path, m)
            runs[f"stage{tag}"] = lambda m=masks: stage(frames, times, model.path, m)
        results = alternate(runs, args.repeats)
        med = {k: statistics.median(t for t, _ in v) / len(frames) * 1000 for k, v in results.items()}
        found = {k: v[0][1] for k, v in results.items()}

        print()
        print(f"{'pose only':22s}{'ms/frame':>10s}{'fps':>8s}{'person':>8s}{'stage/bare':>12s}")
        for k in runs:
            ratio = med[k] / med[k.replace("stage", "bare")] if k.startswith("stage") else None
            print(f"{k:22s}{med[k]:10.2f}{1000 / med[k]:8.1f}{found[k]:5d}/{len(frames):<3d}"
                  + (f"{ratio:11.3f}{' ok' if ratio <= 1.10 else ' OVER'}" if ratio else ""))

        e2e = alternate({"bare decode+pose+masks": lambda: e2e_bare(clip, model.path, args.height),
                         "estimate_clip": lambda: e2e_stage(clip, model, args.height)}, args.repeats)
        med_e2e = {k: statistics.median(t / n for t, n in v) * 1000 for k, v in e2e.items()}
        counts = {k: v[0][1] for k, v in e2e.items()}
        print()
        print(f"{'end to end':22s}{'ms/frame':>10s}{'fps':>8s}{'frames':>8s}")
        for k, v in med_e2e.items():
            print(f"{k:22s}{v:10.2f}{1000 / v:8.1f}{counts[k]:8d}")
        ratio = med_e2e["estimate_clip"] / med_e2e["bare decode+pose+masks"]
        print(f"{'ratio estimate_clip/bare':22s}{ratio:10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
