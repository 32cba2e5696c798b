"""What buttwink says about every real clip in ``../shared/videos`` (the table to recheck after every change
to the measurement).

For each clip it prints: reps found and assessed, the winks called with their onset depth and confidence,
the stretches left out, and the refusal reason when the clip is refused. Pose estimation is the slow part
(about 5 minutes for the 13 clips on 2 cores); with ``--cache DIR`` each clip's landmarks are kept and later
runs reanalyse them in seconds (:func:`buttwink.pipeline.analyze_landmarks`), which is what a change to the
stages after the pose stage needs. Delete DIR after a change to the pose stage.

    python benchmarks/real_clips.py [--videos ../shared/videos] [--cache DIR] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def read_clip(clip: Path, cache: Path | None, settings, key: str | None = None) -> tuple[object, str]:
    """(Result or None, refusal reason or '') for one clip; its landmarks cached as ``cache/<key>.parquet``
    (``key`` defaults to the clip's stem)."""
    from buttwink.pipeline import ClipError, PoseTrack, analyze_landmarks, estimate_with_settings
    from buttwink.video import VideoError

    try:
        cached = cache / f"{key or clip.stem}.parquet" if cache else None
        if cached is not None and cached.exists():
            track = PoseTrack.load(cached)
        else:
            track = estimate_with_settings(clip, settings)
            if cached is not None:
                track.save(cached)
        return analyze_landmarks(track, settings, clip=clip), ""
    except (ClipError, VideoError) as exc:
        return None, str(exc).replace(f"{clip}: ", "")


def clip_row(clip: Path, result, refusal: str) -> dict[str, object]:
    if result is None:
        return {"clip": clip.name, "reps": "", "assessed": "", "winks": "", "onsets_deg": "", "confidence": "",
                "left_out": "", "refused": refusal}
    reps = result.reps
    ok = reps[reps["status"] == "ok"] if len(reps) else reps
    winks = ok[ok["wink"].astype(bool)] if len(ok) else ok
    stretches = getattr(result.analysis, "stretches", None) or []
    left_out = [f"{s['kind']} {s['start_s']:.1f}-{s['end_s']:.1f}s" for s in stretches if not s.get("usable")]
    not_squats = [f"{m['kind']} {m['start_time_s']:.1f}-{m['end_time_s']:.1f}s" for m in result.analysis.not_squats]
    return {
        "clip": clip.name,
        "reps": len(reps),
        "assessed": len(ok),
        "winks": len(winks),
        "onsets_deg": " ".join(f"{v:.0f}" for v in winks["onset_depth_deg"]) if len(winks) else "",
        "confidence": " ".join(f"{v:.2f}" for v in winks["confidence"]) if len(winks) else "",
        "left_out": "; ".join(left_out + not_squats),
        "refused": "",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=Path, default=ROOT.parent / "shared" / "videos")
    parser.add_argument("--cache", type=Path, default=None, help="keep and reuse each clip's landmarks here")
    parser.add_argument("--csv", type=Path, default=None, help="also write the table here")
    parser.add_argument("--wink-signal", default=None, help="Settings.wink_signal (default: the setting's)")
    args = parser.parse_args(argv)
    from buttwink.settings import Settings

    clips = sorted(args.videos.glob("*.mp4"))
    if not clips:
        print(f"no clips in {args.videos}", file=sys.stderr)
        return 1
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    settings = Settings().updated(wink_signal=args.wink_signal)
    rows = []
    for clip in clips:
        result, refusal = read_clip(clip, args.cache, settings)
        rows.append(clip_row(clip, result, refusal))
        print(f"{clip.name}: done", file=sys.stderr)
    table = pd.DataFrame(rows)
    with pd.option_context("display.max_colwidth", 90, "display.width", 250):
        print(table.to_string(index=False))
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
