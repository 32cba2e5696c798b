"""Accuracy of the measurement against the renderer's ground truth.

Renders side-view squat clips across wink sizes, onset depths, camera yaw and facing direction
(buttwink.synth), runs the full pipeline (MediaPipe included) on each, and prints:

- per clip: wink yes/no correct, onset-depth errors, curve correlations;
- overall: fraction of reps with a correct yes/no (goal >= 95 %), onset depth error (goal: every rep
  within +-8° of thigh angle, median <= 4°), and curve correlations with the truth (goal r >= 0.9).

A truth rep counts as a wink when its wink_deg >= the detector's threshold (8° by default).

    python benchmarks/accuracy.py                # 24 clips, ~10 min on 2 cores
    python benchmarks/accuracy.py --full         # every combination (72 clips)
    python benchmarks/accuracy.py --quick        # 6 clips
    python benchmarks/accuracy.py --full --cache DIR   # keep each clip's landmarks and truth in DIR
    python benchmarks/accuracy.py --full --silhouette exact   # back traced on the exact silhouette
    python benchmarks/accuracy.py --full --camera-height-m 0.3 --camera-pitch-deg 9   # a phone on the floor
    python benchmarks/accuracy.py --full --fps 60 --descent-s 4 --pause-s 1.5   # a 60 fps phone, slow reps

With ``--cache``, a clip whose render and pose estimation are already in DIR is not rendered or estimated
again: its landmarks file is reanalysed (:func:`buttwink.pipeline.analyze_landmarks`), which takes seconds
instead of minutes. That is for working on the measurement stages (kinematics, smoothing, reps, onset). The
cache key includes a hash of the code that makes the landmarks (renderer, video reading, pose, back contour,
the pipeline's pose-stage functions), the pose settings, the pose model's SHA-256 and the mediapipe version,
so a change to any of them renders and estimates afresh.

``--silhouette exact`` keeps MediaPipe's landmarks (and so where the back is sampled) but traces the back on
the renderer's exact silhouette of the body (:func:`buttwink.synth.render_silhouettes`) instead of
MediaPipe's segmentation mask: the difference is what a perfect segmentation would change, the rest of the
error belongs to the landmarks and to how a silhouette's edge follows the bones. It re-renders each clip's
silhouettes (about 20 s a clip).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from buttwink.pipeline import PoseTrack

WINK_SIZES = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0)
ONSET_DEPTHS = (30.0, 15.0, 0.0, -8.0)
YAWS = (0.0, 10.0, 20.0)


ARMS = ("forward", "bar", "hips")
TRUNK_LEANS = (32.0, 40.0, 48.0)
BOTTOM_DEPTHS = (-14.0, -20.0, -25.0)


def grid(mode: str, seed_base: int = 100) -> list[dict[str, float | str | int]]:
    """Clip parameter sets: the full product of wink size, onset depth and yaw, or a balanced subset (yaw and
    facing cycled). Every clip also gets an arm position, trunk lean and bottom depth, cycled so that each
    value meets every wink size and yaw: the detector is scored on varied squats, not one body motion.
    ``seed_base`` seeds the renders (per-rep jitter, body shape, colours, noise); the held-out grid is seed 100."""
    combos = []
    if mode == "full":
        for k, (wink, onset, yaw) in enumerate(itertools.product(WINK_SIZES, ONSET_DEPTHS, YAWS)):
            combos.append({"wink": wink, "onset": onset, "yaw": yaw, "facing": "right" if k % 2 else "left",
                           "seed": seed_base + k})
    else:
        for k, (wink, onset) in enumerate(itertools.product(WINK_SIZES, ONSET_DEPTHS)):
            combos.append({"wink": wink, "onset": onset, "yaw": YAWS[k % len(YAWS)],
                           "facing": "right" if (k // 3) % 2 == 0 else "left", "seed": seed_base + k})
        if mode == "quick":
            combos = combos[::4]
    for k, combo in enumerate(combos):
        combo["arms"] = ARMS[(k // 3) % len(ARMS)]
        combo["lean"] = TRUNK_LEANS[(k // 5) % len(TRUNK_LEANS)]
        combo["depth"] = BOTTOM_DEPTHS[(k // 7) % len(BOTTOM_DEPTHS)]
    return combos


#: The human body grid (``--body human``): six body shapes (MakeHuman sliders) in two clothing styles, each
#: squatting six ways: three winks (sizes 5-25°, onsets +30..-8°, cycled), a deep squat without a tuck, a
#: shallow squat that never reaches parallel, and gradual lumbar flexion all the way down with no onset.
HUMAN_SHAPES: dict[str, dict[str, float]] = {
    "male": {"sex": 1.0, "weight": 0.5, "muscle": 0.5, "height": 0.5, "buttocks": 0.5},
    "female": {"sex": 0.0, "weight": 0.5, "muscle": 0.5, "height": 0.5, "buttocks": 0.5},
    "heavy_male": {"sex": 1.0, "weight": 0.9, "muscle": 0.4, "height": 0.5, "buttocks": 0.6},
    "slim_female": {"sex": 0.0, "weight": 0.15, "muscle": 0.4, "height": 0.6, "buttocks": 0.4},
    "muscular_male": {"sex": 1.0, "weight": 0.6, "muscle": 0.9, "height": 0.45, "buttocks": 0.5},
    "curvy_female": {"sex": 0.0, "weight": 0.65, "muscle": 0.5, "height": 0.5, "buttocks": 0.9},
}
CLOTHES = ("tight", "loose")
HUMAN_WINKS = (5.0, 10.0, 15.0, 20.0, 25.0)
GRADUAL_FLEXION_DEG = 12.0
SHALLOW_DEPTH_DEG = 30.0


def human_grid(seed_base: int = 5000, layout: int = 1) -> list[dict[str, float | str | int]]:
    """The human body grid: 6 shapes x 2 clothing styles x 6 squats = 72 clips (see :data:`HUMAN_SHAPES`).

    Layout 1 (the design seeds from 5000 and the held-out seeds from 6000, 2026-12-03) cycles wink sizes,
    onsets, yaws, facing, arms and bottom depths with the clip's index, so the squat pattern fixes the rest:
    every no-tuck squat holds a bar, at yaw 0, facing right, to -20°; every shallow and gradual one has the
    hands on the hips. Layout 2 (design seeds from 7000) cycles arms, yaw, facing and bottom depth with the
    body as well, so each pattern meets each arm position, yaw and facing."""
    combos: list[dict[str, float | str | int]] = []
    k = 0
    for body_index, (shape, clothes) in enumerate((s, c) for s in HUMAN_SHAPES for c in CLOTHES):
        for j, pattern in enumerate(("wink", "wink", "wink", "none", "shallow", "gradual")):
            if layout == 1:
                arms, yaw, facing, depth = (k // 2) % 3, k % 3, k % 2, (k // 3) % 2
            else:
                arms, yaw = (j + body_index) % 3, (j + body_index // 2) % 3
                facing, depth = (j + body_index // 2) % 2, (j + body_index // 3) % 2
            combo: dict[str, float | str | int] = {
                "body": "human", "shape": shape, "clothes": clothes, "pattern": pattern,
                "wink": HUMAN_WINKS[k % len(HUMAN_WINKS)] if pattern == "wink" else 0.0,
                "onset": ONSET_DEPTHS[k % len(ONSET_DEPTHS)] if pattern == "wink" else 0.0,
                "yaw": YAWS[yaw], "facing": "right" if facing else "left",
                "arms": ARMS[arms], "lean": 0.0,
                "depth": SHALLOW_DEPTH_DEG if pattern == "shallow" else BOTTOM_DEPTHS[depth],
                "gradual": GRADUAL_FLEXION_DEG if pattern == "gradual" else 0.0, "seed": seed_base + k,
            }
            combos.append(combo)
            k += 1
    return combos


#: Modules whose code shapes the landmarks of a render (the ``--cache`` key hashes them) ...
POSE_STAGE_MODULES = ("synth", "video.py", "pose.py", "back_contour.py", "models.py")
#: ... and the pose-stage functions of buttwink.pipeline (the rest of that module is measurement).
POSE_STAGE_FUNCTIONS = ("estimate_with_settings", "estimate_clip", "_pose_contour", "_contour_from_landmarks")


def pose_stage_key(width: int, height: int) -> str:
    """Hash of everything up to and including pose estimation: the code of :data:`POSE_STAGE_MODULES` and
    :data:`POSE_STAGE_FUNCTIONS`, the pose settings (``Settings.pose_stage_values()``), the pose model file,
    the mediapipe version and the render size. A cached clip under another key is stale."""
    import inspect

    import mediapipe

    import buttwink
    import buttwink.pipeline
    from buttwink.models import ensure_model
    from buttwink.settings import Settings

    settings = Settings()
    package = Path(buttwink.__file__).parent
    pose_settings = settings.pose_stage_values()
    digest = hashlib.sha256(f"{width}x{height} {pose_settings} mediapipe {mediapipe.__version__}".encode())
    digest.update(ensure_model(settings.model_variant).sha256.encode())
    for name in POSE_STAGE_MODULES:
        target = package / name
        for source in sorted(target.rglob("*.py")) if target.is_dir() else [target]:
            digest.update(source.relative_to(package).as_posix().encode())
            digest.update(source.read_bytes())
    for function in POSE_STAGE_FUNCTIONS:
        digest.update(inspect.getsource(getattr(buttwink.pipeline, function)).encode())
    return digest.hexdigest()[:16]


#: Camera placement options: CameraParams field -> (the command line's ``--`` option's attribute, the tag that
#: marks a clip rendered with it in its name and cache folder). Left out, CameraParams' defaults hold.
CAMERA_PLACEMENT = {"distance_m": ("camera_distance_m", "dist"), "height_m": ("camera_height_m", "cam"),
                    "vfov_deg": ("vfov_deg", "fov"), "pitch_deg": ("camera_pitch_deg", "pitch"),
                    "fps": ("fps", "fps")}
#: Tempo options: SquatParams field -> (the option's attribute, the clip-name tag), like CAMERA_PLACEMENT.
SQUAT_TEMPO = {"descent_s": ("descent_s", "down"), "pause_s": ("pause_s", "pause")}


def clip_name(params: dict[str, float | str | int]) -> str:
    name = "w{wink:g}_o{onset:g}_y{yaw:g}_{facing}_{arms}".format(**params)
    if params.get("body") == "human":
        name = "{shape}_{clothes}_{pattern}_".format(**params) + name
    for key, (_, tag) in (CAMERA_PLACEMENT | SQUAT_TEMPO).items():
        if key in params:
            name += f"_{tag}{float(params[key]):g}"
    return name


def render_and_estimate(params: dict[str, float | str | int], clip_dir: Path, width: int, height: int) -> None:
    """Render one clip into ``clip_dir`` and estimate its pose: ``landmarks.parquet`` (written last, so its
    presence means the folder is complete), ``truth.csv`` and ``reps_truth.csv``; the video is deleted."""
    from buttwink.pipeline import estimate_with_settings
    from buttwink.settings import Settings
    from buttwink.synth import CameraParams, SquatParams, render_clip

    placement = {key: float(params[key]) for key in CAMERA_PLACEMENT if key in params}
    placement = {"fps": 30.0, **placement}
    tempo = {key: float(params[key]) for key in SQUAT_TEMPO if key in params}
    camera = CameraParams(width=width, height=height, yaw_deg=float(params["yaw"]),
                          facing=str(params["facing"]), noise_sigma=2.0, **placement)  # type: ignore[arg-type]
    if params.get("body") == "human":
        from buttwink.synth import BodyShapeParams, HumanParams, render_human_clip

        squat = SquatParams(reps=2, depth_deg=float(params["depth"]), wink_deg=float(params["wink"]),
                            onset_depth_deg=float(params["onset"]), arms=str(params["arms"]),  # type: ignore[arg-type]
                            **tempo)
        human = HumanParams(shape=BodyShapeParams(**HUMAN_SHAPES[str(params["shape"])]),
                            clothes=str(params["clothes"]),  # type: ignore[arg-type]
                            gradual_flexion_deg=float(params["gradual"]))
        rendered = render_human_clip(clip_dir, squat, human, camera, seed=int(params["seed"]))
    else:
        squat = SquatParams(reps=2, depth_deg=float(params["depth"]), wink_deg=float(params["wink"]),
                            onset_depth_deg=float(params["onset"]), trunk_lean_deg=float(params["lean"]),
                            arms=str(params["arms"]), **tempo)  # type: ignore[arg-type]
        rendered = render_clip(clip_dir, squat, camera, seed=int(params["seed"]))
    track = estimate_with_settings(rendered.video_path, Settings())
    rendered.video_path.unlink()
    track.save(clip_dir / "landmarks.parquet")


def exact_silhouette_track(track: PoseTrack, clip_dir: Path) -> PoseTrack:
    """``track`` with its back contour traced on the renderer's exact silhouette (at the same landmark
    stations) instead of MediaPipe's mask; the clip is re-rendered from its ``params.json``."""
    import json

    import cv2

    from buttwink.pipeline import retrace_back_contour
    from buttwink.synth import CameraParams, SquatParams, render_silhouettes

    params = json.loads((clip_dir / "params.json").read_text())
    size = (int(track.video["width"]), int(track.video["height"]))  # the pixels the landmarks are in
    silhouettes = render_silhouettes(SquatParams(**params["squat"]), CameraParams(**params["camera"]),
                                     int(params["seed"]), indices=track.table["frame"].astype(int).tolist())
    return retrace_back_contour(track, (mask if mask.shape[::-1] == size
                                        else cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
                                        for mask in silhouettes))


def run_one(params: dict[str, float | str | int], workdir: str, width: int, height: int,
            cache_key: str | None = None, silhouette: str = "mediapipe",
            wink_signal: str | None = None, mirror: bool = True) -> tuple[pd.DataFrame, dict[str, float], bool]:
    """Render one clip and estimate its pose (or find both in the cache), measure it, and score it against
    its truth. Returns the per-rep table, the curve correlations and whether the cache had the clip.
    ``silhouette="exact"`` traces the back on the renderer's exact silhouette instead of MediaPipe's mask.
    ``mirror=False`` scores the clip's own reading alone (``Settings.mirror_consensus`` off)."""
    from buttwink.pipeline import PoseTrack, analyze_landmarks
    from buttwink.settings import Settings
    from buttwink.validation import pelvis_reading, score_clip

    name = clip_name(params)
    clip_dir = Path(workdir) / (f"{cache_key}-{params['seed']}-{name}_l{params['lean']:g}_d{params['depth']:g}"
                                if cache_key else name)
    cached = (clip_dir / "landmarks.parquet").exists()
    if not cached:
        shutil.rmtree(clip_dir, ignore_errors=True)  # an interrupted earlier attempt
        render_and_estimate(params, clip_dir, width, height)
    settings = Settings().updated(wink_signal=wink_signal, mirror_consensus=None if mirror else False)
    track = PoseTrack.load(clip_dir / "landmarks.parquet")
    if silhouette == "exact":
        track = exact_silhouette_track(track, clip_dir)
    result = analyze_landmarks(track, settings, clip=clip_dir)
    reps_truth, truth = pd.read_csv(clip_dir / "reps_truth.csv"), pd.read_csv(clip_dir / "truth.csv")
    matched, corr = score_clip(result.reps, result.frames, reps_truth, truth, settings.wink_threshold_deg)
    reading = pelvis_reading(result.frames, truth, reps_truth).add_prefix("reading_")
    matched = matched.merge(reading, left_on="truth_rep", right_on="reading_truth_rep", how="left").drop(
        columns="reading_truth_rep")
    matched.insert(0, "clip", name)
    for key in ("wink", "onset", "yaw", "facing", "arms", "lean", "depth", "shape", "clothes", "pattern"):
        matched[key] = params.get(key, "")
    return matched, corr, cached


def print_pelvis_reading(reps: pd.DataFrame) -> None:
    """The pelvis line's reading of the tucks with the detector left out (:func:`buttwink.validation.pelvis_reading`):
    its response to the tuck, its error, and how much of the error a clip's reps share, next to the detector's."""
    response = reps["reading_response"].dropna()
    untucked = reps.loc[reps["reading_true_tuck_deg"].abs() < 1.0, "reading_tuck_error_deg"].dropna()
    print(f"  pelvis line with the trend known from the truth (no detector): response to the tuck "
          f"{response.mean():.2f} (SD {response.std():.2f} over {len(response)} reps); error without a tuck "
          f"{untucked.mean():+.1f}° (SD {untucked.std():.1f}°)")
    small = reps[(reps["wink"] > 0) & (reps["wink"] <= 10)].copy()
    small["detector_error"] = small["meas_departure_deg"].astype(float) - small["truth_wink_deg"].astype(float)
    for label, column in (("pelvis line", "reading_tuck_error_deg"), ("detector", "detector_error")):
        errors = small.dropna(subset=[column])
        clip_means = errors.groupby("clip")[column].mean()
        within = errors[column] - errors["clip"].map(clip_means)
        print(f"  ... 5-10° tucks, {label:11s}: error {errors[column].mean():+.1f}° (SD {errors[column].std():.1f}°); "
              f"clip means spread {clip_means.std():.1f}°, reps within a clip {within.std():.1f}°")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="every combination (72 clips)")
    mode.add_argument("--quick", action="store_true", help="6 clips")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--size", default="480x360", help="render size WxH")
    parser.add_argument("--csv", type=Path, help="also write the per-rep table here")
    parser.add_argument("--seed-base", type=int, default=None,
                        help="render seeds start here; mannequin: 100 is the held-out grid (1000 design, 2000 "
                             "fresh); human: 5000 design, 6000 held out (the default)")
    parser.add_argument("--wink-signal", default=None, help="Settings.wink_signal to score (default: the "
                        "setting's default)")
    parser.add_argument("--no-mirror", action="store_true", help="score the clip's own reading alone, without the "
                        "mirror image's (Settings.mirror_consensus off; the landmarks still hold both)")
    parser.add_argument("--body", choices=("mannequin", "human"), default="mannequin",
                        help="the capsule mannequin (default) or the MakeHuman body grid (72 clips: 6 shapes x 2 "
                             "clothing styles x winks, no tuck, shallow and gradual-flexion squats)")
    parser.add_argument("--human-layout", type=int, choices=(1, 2), default=1,
                        help="human grid layout: 1 (seeds 5000 and 6000) ties arms, yaw, facing and depth to the "
                             "squat pattern; 2 (design seeds 7000) cycles them independently (see human_grid)")
    parser.add_argument("--cache", type=Path, help="keep renders' landmarks and truth here and reuse them")
    parser.add_argument("--camera-height-m", type=float, default=None,
                        help="camera height above the floor, m (default: standing hip height)")
    parser.add_argument("--camera-distance-m", type=float, default=None, help="camera distance, m (default 3.6)")
    parser.add_argument("--vfov-deg", type=float, default=None, help="vertical field of view, deg (default 40)")
    parser.add_argument("--camera-pitch-deg", type=float, default=None,
                        help="camera tilt, deg (+ up, as a phone on the floor aimed at the person; default 0, level)")
    parser.add_argument("--fps", type=float, default=None, help="render frame rate, frames/s (default 30)")
    parser.add_argument("--descent-s", type=float, default=None, help="descent duration, s (default 1.2)")
    parser.add_argument("--pause-s", type=float, default=None, help="pause at the bottom, s (default 0.25)")
    parser.add_argument("--silhouette", choices=("mediapipe", "exact"), default="mediapipe",
                        help="trace the back on MediaPipe's mask (what buttwink does) or on the renderer's exact "
                             "silhouette, at the same landmark stations (a diagnostic: what a perfect "
                             "segmentation would change)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    if args.body == "human":
        combos = human_grid(6000 if args.seed_base is None else args.seed_base, args.human_layout)
        if args.quick:
            combos = combos[::7]
    else:
        combos = grid("full" if args.full else "quick" if args.quick else "default",
                      100 if args.seed_base is None else args.seed_base)
    placement = {key: getattr(args, option) for key, (option, _) in (CAMERA_PLACEMENT | SQUAT_TEMPO).items()
                 if getattr(args, option) is not None}
    combos = [{**combo, **placement} for combo in combos]
    traced_on = "the renderer's exact silhouette" if args.silhouette == "exact" else "MediaPipe's mask"
    print(f"{len(combos)} clips at {width}x{height}, 2 reps each, {args.jobs} processes, back traced on "
          f"{traced_on}", flush=True)
    tables, corrs = [], []
    t0 = time.perf_counter()
    cache_key = pose_stage_key(width, height) if args.cache else None
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    reused = 0
    with tempfile.TemporaryDirectory(prefix="buttwink-accuracy-") as tmp, \
            ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
        workdir = str(args.cache) if args.cache else tmp
        futures = [pool.submit(run_one, p, workdir, width, height, cache_key, args.silhouette, args.wink_signal,
                               not args.no_mirror)
                   for p in combos]
        for fut in futures:
            matched, corr, cached = fut.result()
            reused += cached
            tables.append(matched)
            corrs.append({"clip": matched["clip"].iloc[0], **corr})
            row = matched.iloc[0]
            errs = ", ".join(f"{e:+.1f}" for e in matched["onset_depth_error_deg"] if np.isfinite(e))
            print(f"  {row['clip']:24s} correct {int(matched['correct'].sum())}/{len(matched)}  "
                  f"onset err [{errs}]  r(lumbopelvic)={corr.get('lumbopelvic_angle_deg', np.nan):.3f} "
                  f"r(lumbar flexion)={corr.get('lumbar_flexion_deg', np.nan):.3f}", flush=True)
    if args.cache:
        print(f"cache {args.cache} (key {cache_key}): {reused} of {len(combos)} clips reused")
    reps = pd.concat(tables, ignore_index=True)
    corr = pd.DataFrame(corrs)
    if args.csv:
        reps.to_csv(args.csv, index=False)

    print("\nBy wink size (truth wink = wink_deg >= threshold 8°):")
    by_size = reps.groupby("wink").agg(reps=("correct", "size"), correct=("correct", "mean"),
                                       detected=("meas_wink", "mean"),
                                       median_abs_onset_err=("onset_depth_error_deg",
                                                             lambda e: np.nanmedian(np.abs(e)) if e.notna().any()
                                                             else np.nan))
    print(by_size.to_string(float_format=lambda v: f"{v:.2f}"))
    within8 = ("onset_depth_error_deg", lambda e: (e.dropna().abs() <= 8).mean() if e.notna().any() else np.nan)
    keys = [("yaw", "camera yaw"), ("arms", "arm position")]
    if (reps["pattern"].astype(str) != "").any():
        keys += [("pattern", "squat pattern"), ("clothes", "clothing"), ("shape", "body shape")]
    for key, title in keys:
        print(f"\nBy {title}:")
        table = reps.groupby(key).agg(reps=("correct", "size"), correct=("correct", "mean"),
                                      onset_within_8=within8,
                                      max_abs_onset_err=("onset_depth_error_deg",
                                                         lambda e: np.nanmax(np.abs(e)) if e.notna().any() else np.nan))
        print(table.to_string(float_format=lambda v: f"{v:.2f}"))
    err = reps["onset_depth_error_deg"].dropna().abs()
    accuracy = reps["correct"].mean()
    within = (err <= 8.0).mean() if len(err) else float("nan")
    print("\nOverall")
    print(f"  wink yes/no correct: {accuracy:.1%} of {len(reps)} reps (goal >= 95 %)")
    confident = reps["meas_confidence"].astype(float) >= 0.5
    print(f"  ... among calls with confidence >= 0.5: {reps.loc[confident, 'correct'].mean():.1%} "
          f"({confident.mean():.0%} of reps)")
    assessed = reps["meas_status"].eq("ok")
    print(f"  ... among assessed reps: {reps.loc[assessed, 'correct'].mean():.1%} ({assessed.mean():.0%} of reps; "
          "an unassessed rep counts above as no wink)")
    print(f"  onset depth |error|: median {err.median():.1f}°, max {err.max():.1f}°, within ±8°: {within:.0%} "
          f"of {len(err)} detected winks (goal: all, median <= 4°)")
    no_tuck = ~reps["truth_wink"].astype(bool)
    false_rate = reps.loc[no_tuck, "meas_wink"].astype(bool).mean() if no_tuck.any() else float("nan")
    print(f"  false winks on reps without a tuck (shallow and gradual-flexion reps included): {false_rate:.1%} of "
          f"{int(no_tuck.sum())} (goal <= 2 %)")
    floor = reps.loc[reps["onset_depth_error_deg"].notna(), "depth_reading_error_deg"].dropna().abs()
    if len(floor):
        print(f"  ... the depth reading alone, at the true onset moment: median {floor.median():.1f}°, "
              f"max {floor.max():.1f}°, within ±8°: {(floor <= 8).mean():.0%} (the floor for perfect timing)")
    located = reps[reps["onset_depth_error_deg"].notna()]
    if len(located):
        from buttwink.onset import onset_uncertain

        low, high = (located[f"meas_onset_depth_{k}_deg"].astype(float) for k in ("low", "high"))
        truth = located["truth_onset_depth_deg"].astype(float)
        narrow = ~np.array([onset_uncertain(lo, hi) for lo, hi in zip(low, high, strict=True)])
        print(f"  onset range holds the true onset: {((truth >= low - 0.5) & (truth <= high + 0.5)).mean():.0%}; "
              f"onset pinned down (not 'uncertain') on {narrow.mean():.0%} of onsets, and "
              f"{(located.loc[narrow, 'onset_depth_error_deg'].abs() <= 8).mean():.0%} of those within ±8° "
              f"(wider: {(located.loc[~narrow, 'onset_depth_error_deg'].abs() <= 8).mean():.0%})")
    print_pelvis_reading(reps)
    for col in ("lumbopelvic_angle_deg", "lumbar_flexion_deg", "pelvis_tilt_deg", "depth_deg"):
        print(f"  curve r {col:24s}: median {corr[col].median():.3f}, min {corr[col].min():.3f} (goal >= 0.9)")
    print(f"  wall time {time.perf_counter() - t0:.0f} s")
    if args.body == "human":  # the rates the human-body issue set
        ok = (accuracy >= 0.95 and false_rate <= 0.02 and within >= 0.95 and err.median() <= 4.0
              and corr["lumbopelvic_angle_deg"].median() >= 0.95)
    else:
        ok = (accuracy >= 0.95 and within == 1.0 and err.median() <= 4.0
              and corr["lumbopelvic_angle_deg"].min() >= 0.9)
    print("  GOALS MET" if ok else "  GOALS NOT MET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
