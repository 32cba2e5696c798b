"""End-to-end cost of `buttwink analyze`, its memory against clip length, and batch speed-up.

(a) analyze + write_report (PNG included) on a clip, against decoding the same clip and running bare
    MediaPipe PoseLandmarker (VIDEO mode, masks on) on the same frames, in the same run. Goal <= 1.15x.
(b) peak resident memory of a fresh process analysing a clip of N reps and of 3N reps (a longer clip
    made by repeating the sample clip). Goal: flat.
(c) `run_batch` with jobs=2 against jobs=1 on 4 copies of a clip: the speed-up (2 cores: at most 2x).

    python benchmarks/pipeline_throughput.py [--clip PATH] [--skip-batch]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "wink_parallel" / "video.mp4"

_MEMORY_CHILD = """
import json, resource, sys, tempfile
from buttwink.pipeline import analyze
from buttwink.report import write_report
result = analyze(sys.argv[1])
write_report(result, tempfile.mkdtemp())
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"frames": len(result.frames), "maxrss_mb": peak_mb}))
"""


def bare_seconds(clip: Path, height: int) -> float:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from buttwink.models import ensure_model
    from buttwink.pose import quiet_native_stderr
    from buttwink.video import iter_frames

    opts = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(ensure_model().path)),
                                        running_mode=vision.RunningMode.VIDEO, output_segmentation_masks=True)
    t0 = time.perf_counter()
    with quiet_native_stderr():
        landmarker = vision.PoseLandmarker.create_from_options(opts)
    for frame in iter_frames(clip, max_height=height):
        landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=frame.rgb),
                                    int(frame.time_s * 1000))
    with quiet_native_stderr():
        landmarker.close()
    return time.perf_counter() - t0


def full_seconds(clip: Path, outdir: Path) -> float:
    from buttwink.pipeline import analyze
    from buttwink.report import write_report

    t0 = time.perf_counter()
    write_report(analyze(clip), outdir)
    return time.perf_counter() - t0


def repeat_clip(clip: Path, times: int, dest: Path) -> Path:
    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(bgr)
    writer = cv2.VideoWriter(str(dest), cv2.VideoWriter_fourcc(*"mp4v"), fps, frames[0].shape[1::-1])
    for _ in range(times):
        for bgr in frames:
            writer.write(bgr)
    writer.release()
    return dest


def peak_memory(clip: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(clip)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=SAMPLE)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-batch", action="store_true")
    args = parser.parse_args()
    from buttwink.settings import Settings

    height = Settings().max_height_px
    with tempfile.TemporaryDirectory(prefix="buttwink-bench-") as tmp:
        tmpdir = Path(tmp)
        bare, full = [], []
        for r in range(args.repeats):
            steps = [(bare, lambda: bare_seconds(args.clip, height)),
                     (full, lambda: full_seconds(args.clip, tmpdir / f"out{len(full)}"))]
            for store, fn in (steps if r % 2 == 0 else steps[::-1]):
                store.append(fn())
        b, f = min(bare), min(full)
        print(f"(a) {args.clip.name}: bare PoseLandmarker (decode + pose, masks) {b:.2f} s, "
              f"buttwink analyze + report {f:.2f} s, ratio {f / b:.3f} (goal <= 1.15)")

        long_clip = repeat_clip(args.clip, 3, tmpdir / "long.mp4")
        short_mem, long_mem = peak_memory(args.clip), peak_memory(long_clip)
        print(f"(b) peak RSS: {short_mem['frames']:.0f} frames {short_mem['maxrss_mb']:.0f} MB, "
              f"{long_mem['frames']:.0f} frames {long_mem['maxrss_mb']:.0f} MB, "
              f"ratio {long_mem['maxrss_mb'] / short_mem['maxrss_mb']:.3f} for 3x the length (goal: flat)")

        if not args.skip_batch:
            from buttwink.batch import run_batch

            inbox = tmpdir / "in"
            inbox.mkdir()
            clips = [Path(shutil.copy(args.clip, inbox / f"clip{i}.mp4")) for i in range(4)]
            timings = {}
            for jobs in (1, 2):
                t0 = time.perf_counter()
                rows = run_batch(clips, tmpdir / f"batch{jobs}", Settings(), jobs=jobs)
                timings[jobs] = time.perf_counter() - t0
                assert all(r["status"] == "ok" for r in rows), rows
            print(f"(c) batch of 4 clips: jobs=1 {timings[1]:.1f} s, jobs=2 {timings[2]:.1f} s, "
                  f"speed-up {timings[1] / timings[2]:.2f}x (2 cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
