"""End-to-end cost of `buttwink analyze`, its peak memory against clip length, and the batch speed-up.

(a) ``buttwink.pipeline.analyze`` + ``buttwink.report.write_report`` (report.png included) on a clip, against
    decoding the same frames at the same size and running bare MediaPipe PoseLandmarker on them (VIDEO mode,
    the same model file from ``ensure_model()``, segmentation masks on; with the default mirror reading, a
    second landmarker on every frame flipped, as buttwink does), in the same run, alternating order, best of
    ``--repeats``. Goal: ratio <= 1.15. Then the same analysis reading every frame once (``--no-mirror``):
    what the second reading costs.
(b) peak resident memory of analysing (analyze + write_report) a clip of N seconds and of 3N seconds (the
    clip looped), each in a fresh process: a wrapper process runs the analysis as its only child and reads
    ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``. Goal: flat (ratio close to 1).
(c) ``run_batch`` with jobs=2 against jobs=1 on ``--copies`` copies of a clip: the speed-up (at most the
    number of cores).

    python benchmarks/pipeline_throughput.py [--clip PATH] [--repeats 2] [--seconds 10] [--copies 4]
                                             [--skip-memory] [--skip-batch]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "wink_parallel" / "video.mp4"

# Runs in the grandchild: the analysis itself, as `buttwink analyze` does it.
_ANALYSE = """
import json, sys, tempfile
from buttwink.pipeline import analyze
from buttwink.report import write_report
result = analyze(sys.argv[1])
write_report(result, tempfile.mkdtemp(prefix="buttwink-mem-"))
print(json.dumps({"frames": len(result.frames)}))
"""

# Runs in the fresh wrapper process: its only child is the analysis, so RUSAGE_CHILDREN is that child's peak.
_WRAPPER = """
import json, resource, subprocess, sys
out = subprocess.run([sys.executable, "-c", sys.argv[1], sys.argv[2]], capture_output=True, text=True, check=True)
info = json.loads(out.stdout.strip().splitlines()[-1])
info["maxrss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps(info))
"""


def bare_seconds(clip: Path, max_height: int, mirror: bool = False) -> tuple[float, int]:
    """Decode + bare PoseLandmarker (VIDEO mode, masks on) on every frame; seconds and frame count. With
    ``mirror`` a second landmarker also reads every frame flipped left-right, as buttwink's default does."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from buttwink._native import quiet_native_stderr
    from buttwink.models import ensure_model
    from buttwink.video import iter_frames

    opts = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(ensure_model().path)),
                                        running_mode=vision.RunningMode.VIDEO, num_poses=1,
                                        output_segmentation_masks=True)
    t0 = time.perf_counter()
    with quiet_native_stderr():
        landmarkers = [vision.PoseLandmarker.create_from_options(opts) for _ in range(2 if mirror else 1)]
    n = 0
    last_ms = -1
    for frame in iter_frames(clip, max_height=max_height):
        last_ms = max(int(round(frame.time_s * 1000)), last_ms + 1)
        pictures = [frame.rgb, np.ascontiguousarray(frame.rgb[:, ::-1])][:len(landmarkers)]
        for landmarker, rgb in zip(landmarkers, pictures, strict=True):
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
            if n == 0:  # as PoseEstimator: the graph's one-off warnings kept off the terminal
                with quiet_native_stderr():
                    landmarker.detect_for_video(image, last_ms)
            else:
                landmarker.detect_for_video(image, last_ms)
        n += 1
    with quiet_native_stderr():
        for landmarker in landmarkers:
            landmarker.close()
    return time.perf_counter() - t0, n


def full_seconds(clip: Path, outdir: Path, settings=None) -> tuple[float, dict[str, float]]:
    """analyze + write_report (with report.png); seconds and the pipeline's own stage timings."""
    from buttwink.pipeline import analyze
    from buttwink.report import write_report

    t0 = time.perf_counter()
    result = analyze(clip, settings)
    t1 = time.perf_counter()
    write_report(result, outdir, png=True)
    t2 = time.perf_counter()
    return t2 - t0, {**result.timings_s, "report_s": round(t2 - t1, 3)}


def loop_clip(clip: Path, seconds: float, dest: Path) -> Path:
    """``clip`` repeated (and cut) to ``seconds`` long."""
    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(bgr)
    cap.release()
    writer = cv2.VideoWriter(str(dest), cv2.VideoWriter_fourcc(*"mp4v"), fps, frames[0].shape[1::-1])
    for i in range(int(round(seconds * fps))):
        writer.write(frames[i % len(frames)])
    writer.release()
    return dest


def peak_memory(clip: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _WRAPPER, _ANALYSE, str(clip)], capture_output=True, text=True,
                         check=True)
    info = json.loads(out.stdout.strip().splitlines()[-1])
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return {"frames": info["frames"], "maxrss_mb": info["maxrss_kb"] / scale}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=SAMPLE, help="clip for (a) and (c), looped for (b)")
    parser.add_argument("--repeats", type=int, default=2, help="(a): runs of each, best taken")
    parser.add_argument("--seconds", type=float, default=10.0, help="(b): N, the short clip's length")
    parser.add_argument("--copies", type=int, default=4, help="(c): copies of the clip in the batch")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-batch", action="store_true")
    args = parser.parse_args()

    from buttwink.settings import Settings

    settings = Settings()
    print(f"clip {args.clip} ({os.cpu_count()} cores, frames at most {settings.max_height_px} px high)")
    with tempfile.TemporaryDirectory(prefix="buttwink-bench-") as tmp:
        tmpdir = Path(tmp)
        bare: list[float] = []
        full: list[float] = []
        stages: dict[str, float] = {}
        n_frames = 0
        for r in range(args.repeats):
            order = ("bare", "full") if r % 2 == 0 else ("full", "bare")
            for which in order:
                if which == "bare":
                    seconds, n_frames = bare_seconds(args.clip, settings.max_height_px,
                                                     settings.mirror_consensus)
                    bare.append(seconds)
                else:
                    seconds, timings = full_seconds(args.clip, tmpdir / f"report{r}")
                    full.append(seconds)
                    if seconds == min(full):
                        stages = timings
        b, f = min(bare), min(full)
        readings = "the frames and their mirror images" if settings.mirror_consensus else "the frames"
        print(f"(a) {n_frames} frames: bare PoseLandmarker on {readings} (decode + pose, masks on) {b:.2f} s "
              f"({1000 * b / n_frames:.1f} ms/frame); buttwink analyze + write_report {f:.2f} s "
              f"({1000 * f / n_frames:.1f} ms/frame; stages {stages}); ratio {f / b:.3f} (goal <= 1.15)")
        if settings.mirror_consensus:
            once = min(full_seconds(args.clip, tmpdir / f"once{r}", settings.updated(mirror_consensus=False))[0]
                       for r in range(args.repeats))
            print(f"    the same, every frame read once (--no-mirror): {once:.2f} s; reading twice costs "
                  f"{f / once:.2f}x")

        if not args.skip_memory:
            short = loop_clip(args.clip, args.seconds, tmpdir / "short.mp4")
            long = loop_clip(args.clip, 3 * args.seconds, tmpdir / "long.mp4")
            m1, m3 = peak_memory(short), peak_memory(long)
            print(f"(b) peak RSS: {args.seconds:g} s ({m1['frames']:.0f} frames) {m1['maxrss_mb']:.0f} MB, "
                  f"{3 * args.seconds:g} s ({m3['frames']:.0f} frames) {m3['maxrss_mb']:.0f} MB; "
                  f"ratio {m3['maxrss_mb'] / m1['maxrss_mb']:.3f} for 3x the length (goal: flat), "
                  f"+{(m3['maxrss_mb'] - m1['maxrss_mb']) / (m3['frames'] - m1['frames']) * 1024:.1f} KB/frame")

        if not args.skip_batch:
            from buttwink.batch import run_batch

            inbox = tmpdir / "in"
            inbox.mkdir()
            clips = [Path(shutil.copy(args.clip, inbox / f"clip{i}.mp4")) for i in range(args.copies)]
            timings = {}
            for jobs in (1, 2):
                t0 = time.perf_counter()
                rows = run_batch(clips, tmpdir / f"batch{jobs}", settings, jobs=jobs)
                timings[jobs] = time.perf_counter() - t0
                bad = [r for r in rows if r["status"] != "ok"]
                if bad:
                    raise SystemExit(f"batch failed: {bad}")
            print(f"(c) batch of {args.copies} clips: jobs=1 {timings[1]:.1f} s, jobs=2 {timings[2]:.1f} s, "
                  f"speed-up {timings[1] / timings[2]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
