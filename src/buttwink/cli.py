"""The ``buttwink`` command line (typer)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Find butt wink (posterior pelvic tilt near the bottom of a squat) in side-view squat videos.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ModelsDirOpt = Annotated[
    Path | None,
    typer.Option("--models-dir", help="Where pose models live (default: $BUTTWINK_MODELS_DIR, ./models "
                                      "of a checkout, or the per-user cache).", show_default=False),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")


@app.command()
def models(
    variant: Annotated[list[str] | None, typer.Option("--variant", help="lite, full, heavy (repeatable).")] = None,
    models_dir: ModelsDirOpt = None,
    offline: Annotated[bool, typer.Option("--offline", help="Skip the official downloads.")] = False,
) -> None:
    """Provision and verify the pose model(s); print which file is used and where it came from."""
    from buttwink.models import DEFAULT_VARIANT, ModelError, ensure_model

    failed = False
    for name in variant or [DEFAULT_VARIANT]:
        try:
            info = ensure_model(name, models_dir, offline=offline or None)
        except ModelError as exc:
            typer.echo(f"error: {exc}", err=True)
            failed = True
            continue
        typer.echo(info.describe())
    if failed:
        raise typer.Exit(1)


@app.command()
def pose(
    video: Annotated[Path, typer.Argument(help="Input video.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Landmarks file (.parquet or .csv).")],
    max_height: Annotated[int, typer.Option(help="Downscale frames to at most this many pixels high.")] = 720,
    masks: Annotated[bool, typer.Option("--masks/--no-masks", help="Also extract the back contour.")] = True,
    models_dir: ModelsDirOpt = None,
) -> None:
    """Run only the pose stage and write the landmarks file."""
    from buttwink.models import ModelError
    from buttwink.pipeline import estimate_clip
    from buttwink.video import VideoError

    try:
        track = estimate_clip(video, max_height=max_height, with_contour=masks, models_dir=models_dir)
        track.save(output)
    except (VideoError, ModelError) as exc:
        raise _fail(str(exc)) from None
    detected = int(track.table["detected"].sum())
    typer.echo(f"{video}: {detected}/{len(track.table)} frames with a person -> {output}")


def main() -> None:  # pragma: no cover - entry point helper
    sys.exit(app())
