"""Command line: ``buttwink synth OUTDIR --seed N ...`` (register :func:`synth_command` on a typer app)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from .params import CameraParams, SquatParams


def synth_command(
    outdir: Annotated[Path, typer.Argument(help="Folder to write video.mp4, truth.csv, reps_truth.csv, params.json.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (per-rep jitter, body shape, colours, noise).")] = 0,
    wink_deg: Annotated[
        float, typer.Option("--wink-deg", help="Butt wink: posterior pelvic tilt at the bottom, deg.")
    ] = 0.0,
    onset_depth_deg: Annotated[float, typer.Option("--onset-depth-deg", help="depth_deg where the wink starts.")] = 0.0,
    yaw_deg: Annotated[float, typer.Option("--yaw-deg", help="Camera yaw off the pure side view, deg (0-30).")] = 0.0,
    reps: Annotated[int, typer.Option("--reps", help="Number of repetitions.")] = 3,
    depth_deg: Annotated[
        float, typer.Option("--depth-deg", help="Thigh angle at the bottom (0 parallel, - below).")
    ] = -15.0,
    facing: Annotated[str, typer.Option("--facing", help="'right' or 'left': direction the person faces.")] = "right",
    width: Annotated[int, typer.Option("--width", help="Frame width, px.")] = 640,
    height: Annotated[int, typer.Option("--height", help="Frame height, px.")] = 480,
    fps: Annotated[float, typer.Option("--fps", help="Frames per second.")] = 30.0,
    noise: Annotated[float, typer.Option("--noise", help="Sensor noise sigma, 8-bit grey levels.")] = 0.0,
    blur: Annotated[float, typer.Option("--blur", help="Gaussian blur sigma, px.")] = 0.0,
    body_height_m: Annotated[float, typer.Option("--body-height-m", help="Body height, m.")] = 1.75,
    arms: Annotated[str, typer.Option("--arms", help="'forward', 'bar' or 'hips'.")] = "forward",
    trunk_lean_deg: Annotated[
        float, typer.Option("--trunk-lean-deg", help="Trunk inclination at the bottom, deg.")
    ] = 40.0,
    descent_s: Annotated[float, typer.Option("--descent-s", help="Descent duration, s.")] = 1.2,
    ascent_s: Annotated[float, typer.Option("--ascent-s", help="Ascent duration, s.")] = 1.0,
    pause_s: Annotated[float, typer.Option("--pause-s", help="Pause at the bottom, s.")] = 0.25,
    stand_s: Annotated[float, typer.Option("--stand-s", help="Standing time before and between reps, s.")] = 0.5,
    wink_l5s1_share: Annotated[
        float, typer.Option("--wink-l5s1-share", help="Share of the wink's flexion at L5/S1.")
    ] = 0.65,
    jitter: Annotated[
        float, typer.Option("--jitter", help="Per-rep random variation scale (0 = identical reps).")
    ] = 1.0,
    distance_m: Annotated[float, typer.Option("--distance-m", help="Camera distance, m.")] = 3.6,
    camera_height_m: Annotated[
        float | None, typer.Option("--camera-height-m", help="Camera height (default hip).")
    ] = None,
    camera_pitch_deg: Annotated[
        float, typer.Option("--camera-pitch-deg", help="Camera tilt, deg (+ up, as a phone on the floor; 0 level).")
    ] = 0.0,
    vfov_deg: Annotated[float, typer.Option("--vfov-deg", help="Vertical field of view, deg.")] = 40.0,
    supersample: Annotated[int, typer.Option("--supersample", help="Anti-aliasing factor (render n x larger).")] = 1,
    body: Annotated[
        str, typer.Option("--body", help="'mannequin' (capsules) or 'human' (MakeHuman body, trunk lean from balance).")
    ] = "mannequin",
    sex: Annotated[float, typer.Option("--sex", help="Human body: 0 female .. 1 male.")] = 1.0,
    weight: Annotated[float, typer.Option("--weight", help="Human body: 0 thin .. 0.5 average .. 1 heavy.")] = 0.5,
    muscle: Annotated[float, typer.Option("--muscle", help="Human body: 0 .. 0.5 average .. 1 muscular.")] = 0.5,
    height_shape: Annotated[
        float, typer.Option("--height-shape", help="Human body: MakeHuman height slider 0..1 (proportions only).")
    ] = 0.5,
    buttocks: Annotated[float, typer.Option("--buttocks", help="Human body: buttock volume 0 .. 0.5 .. 1.")] = 0.5,
    clothes: Annotated[str, typer.Option("--clothes", help="Human body: 'tight' or 'loose' (T-shirt).")] = "tight",
    gradual_flexion_deg: Annotated[
        float,
        typer.Option("--gradual-flexion-deg", help="Human body: lumbar flexion growing all the way down (no wink)."),
    ] = 0.0,
    skinning: Annotated[str, typer.Option("--skinning", help="Human body: 'dqs' or 'lbs'.")] = "dqs",
) -> None:
    """Render a synthetic side-view squat clip with exact pelvis and lumbar angles."""
    from .render import render_clip

    if body not in ("mannequin", "human"):
        raise typer.BadParameter("--body must be 'mannequin' or 'human'")
    problem = _outdir_problem(outdir)
    if problem:
        typer.echo(f"error: {outdir}: {problem}", err=True)
        raise typer.Exit(2)

    try:
        squat = SquatParams(
            height_m=body_height_m, depth_deg=depth_deg, descent_s=descent_s, ascent_s=ascent_s,
            pause_s=pause_s, stand_s=stand_s, reps=reps, trunk_lean_deg=trunk_lean_deg, arms=arms,  # type: ignore[arg-type]
            wink_deg=wink_deg, onset_depth_deg=onset_depth_deg, wink_l5s1_share=wink_l5s1_share, jitter=jitter,
        )  # fmt: skip
        camera = CameraParams(
            distance_m=distance_m, height_m=camera_height_m, yaw_deg=yaw_deg, pitch_deg=camera_pitch_deg,
            vfov_deg=vfov_deg, width=width, height=height, fps=fps, facing=facing,  # type: ignore[arg-type]
            noise_sigma=noise, blur_sigma=blur, supersample=supersample,
        )  # fmt: skip
        if body == "human":
            from .human import HumanParams
            from .makehuman import BodyShapeParams

            human = HumanParams(
                shape=BodyShapeParams(sex=sex, weight=weight, muscle=muscle, height=height_shape, buttocks=buttocks),
                clothes=clothes, gradual_flexion_deg=gradual_flexion_deg, skinning=skinning,  # type: ignore[arg-type]
            )  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if body == "human":
        from .human import BalanceError
        from .human_render import render_human_clip
        from .makehuman import MakeHumanDataError

        try:
            res = render_human_clip(outdir, squat, human, camera, seed)
        except (MakeHumanDataError, BalanceError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
    else:
        res = render_clip(outdir, squat, camera, seed)
    summary = {
        "outdir": str(res.outdir),
        "frames": res.n_frames,
        "seconds_per_frame": round(res.seconds_per_frame, 4),
        "reps": res.reps.to_dict(orient="records"),
    }
    typer.echo(json.dumps(summary, indent=2, default=str))


#: The files a render writes into its folder.
RENDER_FILES = ("video.mp4", "truth.csv", "reps_truth.csv", "params.json")


def _outdir_problem(outdir: Path) -> str:
    """Why a render must not be written into ``outdir`` ('' when it may): it is not a folder, or it holds
    files with a render's names that an earlier render did not write (its params.json marks it)."""
    if os.path.lexists(outdir) and not outdir.is_dir():
        return "exists and is not a folder"
    if not outdir.is_dir():
        return ""
    present = [name for name in RENDER_FILES if os.path.lexists(outdir / name)]
    if not present:
        return ""
    try:
        params = json.loads((outdir / "params.json").read_text(encoding="utf-8"))
        ours = isinstance(params, dict) and "seed" in params and "conventions" in params
    except (OSError, ValueError):
        ours = False
    if not ours:
        return (f"holds {', '.join(present)} that a render did not write; nothing was changed (choose an empty "
                "or new folder)")
    return ""


def main() -> None:
    app = typer.Typer(add_completion=False)
    app.command()(synth_command)
    app()
