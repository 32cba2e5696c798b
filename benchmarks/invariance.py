"""Invariance on real footage: does buttwink say the same of a clip after changes that should not matter?

Each clip in ``../shared/videos`` is analysed as it is and after five changes made with FFmpeg:

- ``mirror``: flipped left-right (the person faces the other way);
- ``half_res``: half the width and height;
- ``low_bitrate``: re-encoded at 250 kbit/s (H.264);
- ``half_fps``: every other frame dropped;
- ``cut_10pct``: the first 10 % of the clip cut off.

Reps are matched to the original's by their bottom time (within 0.5 s; for ``cut_10pct`` only the original's
reps that start after the cut are expected). Printed per change and overall:

- same reps: the share of (clip, change) cases whose reps all match, one to one (goal ≥ 95 %);
- same yes/no: the share of matched reps assessed in both whose wink call agrees (goal ≥ 95 %); and the
  same among the reps called with confidence ≥ 0.5 in both versions (a confident call should not flip);
- onset shift: median |onset depth change| of reps that are winks in both, degrees of thigh angle (goal ≤ 3°);
- size shift: median |wink size change| of those reps, degrees (goal ≤ 2°);
- in range: the share of those reps whose changed onset lies within the original's stated onset range
  (``onset_depth_low_deg`` .. ``onset_depth_high_deg``): whether the range is as wide as the onset's
  real uncertainty.

Refusals count as a case too: a clip refused as it is must be refused after the change, for the same kind of
reason. Pose estimation dominates the time (about 30-40 minutes for 13 clips x 6 versions on 2 cores reading
each frame once, twice that with the default mirror reading);
``--cache DIR`` keeps every version's landmarks for later runs on the later stages.

    python benchmarks/invariance.py [--videos ../shared/videos] [--cache DIR] [--clips NAME ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # real_clips.py beside it
CHANGES = ("mirror", "half_res", "low_bitrate", "half_fps", "cut_10pct")
MATCH_S = 0.5


def make_variant(ffmpeg: str, clip: Path, change: str, out: Path, fps: float, duration: float) -> float:
    """Write ``clip`` changed by ``change`` to ``out``; return the time cut from the start (seconds)."""
    cut = 0.0
    video = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]
    if change == "mirror":
        args = ["-vf", "hflip", *video]
    elif change == "half_res":
        args = ["-vf", "scale=trunc(iw/4)*2:trunc(ih/4)*2", *video]
    elif change == "low_bitrate":
        args = ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "250k", "-maxrate", "250k", "-bufsize", "500k",
                "-pix_fmt", "yuv420p"]
    elif change == "half_fps":
        args = ["-vf", f"fps={fps / 2:.6f}", *video]
    elif change == "cut_10pct":
        cut = round(0.1 * duration, 3)
        args = ["-ss", f"{cut}", *video]
    else:  # pragma: no cover
        raise ValueError(change)
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-i", str(clip), *args, "-an", str(out)], check=True)
    return cut


def analyse(clip: Path, cache: Path | None, key: str):
    """(reps DataFrame or None, refusal reason or '')."""
    from real_clips import read_clip

    from buttwink.settings import Settings

    result, reason = read_clip(clip, cache, Settings(), key)
    return (result.reps if result is not None else None), reason


def refusal_kind(reason: str) -> str:
    for kind in ("not a side view", "out of the picture", "no person", "too short"):
        if kind in reason:
            return kind
    return reason


def compare(original: pd.DataFrame, changed: pd.DataFrame, cut_s: float) -> dict[str, object]:
    """Match reps by bottom time and compare calls, onsets and sizes.

    Every original rep that starts after the cut must be found; one cut by it (starting before, bottoming
    after) may be found or not; a rep found that matches no original rep is an extra."""
    candidates = original[original["bottom_time_s"] > cut_s]
    expected = set(candidates.index[candidates["start_time_s"] >= cut_s].tolist())
    got = changed.copy()
    got["bottom_time_s"] = got["bottom_time_s"] + cut_s
    used: set[int] = set()
    pairs = []
    for i, rep in candidates.iterrows():
        gaps = (got["bottom_time_s"] - rep["bottom_time_s"]).abs()
        gaps = gaps[~gaps.index.isin(used)]
        if len(gaps) and gaps.min() <= MATCH_S:
            j = int(gaps.idxmin())
            used.add(j)
            pairs.append((i, rep, got.loc[j]))
    matched = {i for i, _, _ in pairs}
    extra = len(got) - len(used)
    same_reps = expected <= matched and extra == 0
    calls, confident_calls, onset_shift, size_shift, in_range = [], [], [], [], []
    for _, a, b in pairs:
        if a["status"] == "ok" and b["status"] == "ok":
            calls.append(bool(a["wink"]) == bool(b["wink"]))
            if min(float(a["confidence"]), float(b["confidence"])) >= 0.5:
                confident_calls.append(calls[-1])
            if bool(a["wink"]) and bool(b["wink"]):
                onset_shift.append(abs(float(a["onset_depth_deg"]) - float(b["onset_depth_deg"])))
                low, high = (float(a.get(k, np.nan)) for k in ("onset_depth_low_deg", "onset_depth_high_deg"))
                in_range.append(bool(low <= float(b["onset_depth_deg"]) <= high))
                size_shift.append(abs(float(a["wink_deg"]) - float(b["wink_deg"])))
    return {"same_reps": same_reps, "expected": len(expected), "matched": len(matched & expected), "extra": extra,
            "calls": calls, "confident_calls": confident_calls, "onset_shift": onset_shift,
            "size_shift": size_shift, "onset_in_range": in_range}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=Path, default=ROOT.parent / "shared" / "videos")
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--clips", nargs="*", default=None, help="clip stems to run (default: all)")
    args = parser.parse_args(argv)
    import imageio_ffmpeg

    from buttwink.video import probe_video

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    clips = sorted(args.videos.glob("*.mp4"))
    if args.clips:
        clips = [c for c in clips if c.stem in set(args.clips)]
    if not clips:
        print(f"no clips in {args.videos}", file=sys.stderr)
        return 1
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for clip in clips:
            info = probe_video(clip)
            base, base_reason = analyse(clip, args.cache, clip.stem)
            for change in CHANGES:
                variant = Path(tmp) / f"{clip.stem}.{change}.mp4"
                cut = make_variant(ffmpeg, clip, change, variant, info.fps, info.duration_s)
                reps, reason = analyse(variant, args.cache, f"{clip.stem}.{change}")
                row: dict[str, object] = {"clip": clip.stem, "change": change}
                if base is None or reps is None:
                    same = base is None and reps is None and refusal_kind(base_reason) == refusal_kind(reason)
                    row.update(same_reps=same, expected=0, matched=0, extra=0, calls=[], confident_calls=[],
                               onset_shift=[], size_shift=[], onset_in_range=[],
                               note=(reason if base is not None else base_reason)[:60])
                else:
                    row.update(compare(base, reps, cut), note="")
                rows.append(row)
                print(f"{clip.stem} {change}: same reps {row['same_reps']} ({row['matched']}/{row['expected']}, "
                      f"+{row['extra']}), calls agree {sum(row['calls'])}/{len(row['calls'])} {row['note']}",
                      file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    print(summarise(table))
    return 0


def summarise(table: pd.DataFrame) -> str:
    lines = [f"{'change':<12} {'same reps':>10} {'same yes/no':>12} {'... confident':>14} {'onset shift':>12} "
             f"{'... in range':>13} {'size shift':>11}"]
    for change, part in [*table.groupby("change", sort=False), ("all", table)]:
        calls = [c for cs in part["calls"] for c in cs]
        confident = [c for cs in part["confident_calls"] for c in cs]
        onsets = [v for vs in part["onset_shift"] for v in vs]
        sizes = [v for vs in part["size_shift"] for v in vs]
        in_range = [v for vs in part["onset_in_range"] for v in vs]
        lines.append(f"{change:<12} {part['same_reps'].mean():>9.0%} "
                     f"{(np.mean(calls) if calls else float('nan')):>11.0%} "
                     f"{(np.mean(confident) if confident else float('nan')):>13.0%} "
                     f"{(np.median(onsets) if onsets else float('nan')):>10.1f}° "
                     f"{(np.mean(in_range) if in_range else float('nan')):>12.0%} "
                     f"{(np.median(sizes) if sizes else float('nan')):>9.1f}°"
                     f"   ({len(part)} cases, {len(calls)} calls, {len(confident)} confident in both, "
                     f"{len(onsets)} winks in both)")
    lines.append("goals: same reps >= 95 %, same yes/no >= 95 %, onset shift <= 3°, size shift <= 2°; 'in range': the "
                 "changed onset lies in the original's stated onset range")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
