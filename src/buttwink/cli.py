"""The ``buttwink`` command line (typer)."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from buttwink.settings import Settings

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
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details, and show what "
                                                "MediaPipe and FFmpeg print.")] = False) -> None:
    if not verbose:
        from buttwink._native import silence_native_stderr_for_process

        silence_native_stderr_for_process()
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
    mirror: Annotated[bool, typer.Option("--mirror/--no-mirror", help="Also read every frame flipped left-right "
                                         "(stored beside the clip's own reading; twice the time).")] = True,
    models_dir: ModelsDirOpt = None,
) -> None:
    """Run only the pose stage and write the landmarks file."""
    from buttwink.models import ModelError
    from buttwink.pipeline import estimate_clip
    from buttwink.pose import LandmarksError, load_landmarks
    from buttwink.settings import SettingsError
    from buttwink.video import VideoError

    try:
        Settings(max_height_px=max_height)
    except SettingsError as exc:
        raise _fail(exc.as_flag("--max-height"), 2) from None
    if output.suffix.lower() not in (".parquet", ".csv"):
        raise _fail(f"{output}: the landmarks file must end in .parquet or .csv", 2)
    sidecar = output.with_name(output.name + ".json")
    if output.suffix.lower() == ".csv" and os.path.lexists(sidecar) and not os.path.lexists(output):
        raise _fail(f"{sidecar}: a file where the landmarks CSV's metadata goes; nothing was changed", 2)
    if os.path.lexists(output):
        if output.is_dir() or output.is_symlink() or output.resolve() == video.resolve():
            raise _fail(f"{output}: exists and is not a landmarks file; nothing was changed", 2)
        try:
            load_landmarks(output)
        except LandmarksError:
            raise _fail(f"{output}: exists and is not a landmarks file buttwink wrote; nothing was changed "
                        "(choose another -o)", 2) from None
    try:
        track = estimate_clip(video, max_height=max_height, with_contour=masks, models_dir=models_dir, mirror=mirror)
        track.save(output)
    except (VideoError, ModelError, OSError) as exc:
        raise _fail(str(exc)) from None
    detected = int(track.table["detected"].sum())
    typer.echo(f"{video}: {detected}/{len(track.table)} frames with a person -> {output}")


def main() -> None:
    """The ``buttwink`` console entry point: the typer app, with Ctrl-C before a command has started (while
    it imports) and an unwritable standard output ending in one line, not a traceback."""
    try:
        app()
    except KeyboardInterrupt:
        _safe_stderr("error: stopped by Ctrl-C")
        sys.exit(130)
    except BrokenPipeError:  # `buttwink ... | head`: the reader left; nothing more to say
        sys.exit(1)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EIO, errno.EPIPE):
            _safe_stderr(f"error: cannot write the output ({exc.strerror})")
            sys.exit(1)
        raise


def _safe_stderr(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


#: The command-line flag of each setting that has one (errors name the flag the user typed).
FLAGS = {"wink_threshold_deg": "--threshold-deg", "cutoff_hz": "--cutoff-hz", "max_height_px": "--max-height",
         "pool_onsets": "--pool-onsets", "mirror_consensus": "--mirror"}


def _settings(config: Path | None, **overrides: object) -> Settings:
    """Settings from ``--config`` and the flags; a bad value raises ValueError naming the file or the flag."""
    from buttwink.settings import SettingsError

    if config is not None and not config.is_file():
        raise ValueError(f"{config}: settings file not found" if not config.exists() else
                         f"{config}: not a settings file")
    base = Settings.from_toml(config) if config else Settings()
    try:
        return base.updated(**overrides)
    except SettingsError as exc:
        flag = FLAGS.get(exc.setting)
        if flag is None or overrides.get(exc.setting) is None:
            raise
        raise ValueError(exc.as_flag(flag)) from None


def _check_jobs(jobs: int | None) -> None:
    if jobs is not None and not 1 <= jobs <= 256:
        raise _fail(f"--jobs must be between 1 and 256 (got {jobs})", 2)


ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML settings file; flags override it.")]
ThresholdOpt = Annotated[float | None, typer.Option("--threshold-deg", help="Wink threshold: departure from the "
                                                    "descent trend, degrees (default 8).", show_default=False)]
CutoffOpt = Annotated[float | None, typer.Option("--cutoff-hz", help="Low-pass cutoff, Hz (default 4).",
                                                 show_default=False)]
PoolOpt = Annotated[bool | None, typer.Option("--pool-onsets/--no-pool-onsets", help="Read each rep's onset "
                                               "together with the clip's other reps (default) or every rep on "
                                               "its own.", show_default=False)]
MirrorOpt = Annotated[bool | None, typer.Option("--mirror/--no-mirror", help="Also read every frame flipped "
                                                 "left-right and call a wink only where both readings do "
                                                 "(default; twice the pose time).", show_default=False)]
HeightOpt = Annotated[int | None, typer.Option("--max-height", help="Downscale frames to at most this many "
                                               "pixels high (default 720).", show_default=False)]


@app.command()
def analyze(
    clips: Annotated[list[Path], typer.Argument(help="Video file(s) to analyse.")],
    outdir: Annotated[Path, typer.Option("--output", "-o", help="Report folder (one sub-folder per clip).")],
    config: ConfigOpt = None,
    threshold_deg: ThresholdOpt = None,
    cutoff_hz: CutoffOpt = None,
    max_height: HeightOpt = None,
    pool_onsets: PoolOpt = None,
    mirror: MirrorOpt = None,
    overlay: Annotated[bool, typer.Option("--overlay", help="Also write overlay.mp4.")] = False,
    from_landmarks: Annotated[bool, typer.Option("--from-landmarks", help="CLIPS are landmarks files "
                                                 "(.parquet/.csv): rerun every stage after pose estimation.")] = False,
    models_dir: ModelsDirOpt = None,
) -> None:
    """Analyse clips and write report.png, frames.csv, reps.csv and summary.json for each."""
    from buttwink.models import ModelError, ensure_model
    from buttwink.pipeline import ClipError, analyze_landmarks
    from buttwink.pipeline import analyze as analyze_clip
    from buttwink.pose import LandmarksError
    from buttwink.report import (
        MIN_FREE_BYTES,
        ReportFolderError,
        check_output_folder,
        check_report_target,
        remove_stale_temporaries,
        unique_names,
        write_report,
    )
    from buttwink.video import VideoError

    try:
        settings = _settings(config, wink_threshold_deg=threshold_deg, cutoff_hz=cutoff_hz, max_height_px=max_height,
                             pool_onsets=pool_onsets, mirror_consensus=mirror)
    except (OSError, ValueError) as exc:
        raise _fail(str(exc), 2) from None
    try:
        check_output_folder(outdir, MIN_FREE_BYTES + (sum(_size(c) for c in clips) if overlay else 0))
    except ReportFolderError as exc:
        raise _fail(str(exc), 2) from None
    remove_stale_temporaries(outdir)
    if not from_landmarks:
        try:
            model = ensure_model(settings.model_variant, models_dir)
        except ModelError as exc:
            raise _fail(str(exc)) from None
        typer.echo(f"using {model.describe()}", err=True)
    names = unique_names(clips, outdir)
    failures = 0
    done = 0
    for clip in clips:
        try:
            check_report_target(outdir, names[clip], overlay=overlay, inputs=[clip])  # before any work
            if from_landmarks:
                result = analyze_landmarks(clip, settings)
            else:
                with _ProgressBar(clip) as progress:
                    result = analyze_clip(clip, settings, models_dir=models_dir, progress=progress)
            folder = write_report(result, outdir, name=names[clip], overlay=overlay, source=clip)
        except KeyboardInterrupt:
            raise _fail(f"stopped by Ctrl-C: {done} of {len(clips)} clip(s) done; the clip being analysed "
                        "was not written", 130) from None
        except (VideoError, ModelError, ClipError, LandmarksError, OSError, ValueError) as exc:
            failures += 1
            from buttwink.batch import one_line

            typer.echo(f"error: {one_line(exc, clip)}", err=True)
            continue
        done += 1
        typer.echo(f"{clip}: {result.summary()['verdict']} -> {folder}")
    if failures:
        raise typer.Exit(1)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class _ProgressBar:
    """A tqdm bar fed by the pose stage's ``progress(done, total)`` callback (stderr; silent if not a tty)."""

    def __init__(self, clip: Path) -> None:
        self.clip = clip
        self.bar = None

    def __enter__(self):
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total or None, desc=self.clip.name[:30], unit="frame", leave=False,
                            disable=None)
        self.bar.update(1)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


@app.command()
def batch(
    source: Annotated[Path, typer.Argument(help="Folder of videos (searched recursively) or a text file listing "
                                          "one video path per line.")],
    outdir: Annotated[Path, typer.Option("--output", "-o", help="Batch output folder.")],
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Parallel processes (default: cores).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo clips that already have a report.")] = False,
    executor: Annotated[str, typer.Option("--executor", help="local (processes) or dask.")] = "local",
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address "
                                                  "(tcp://host:8786).")] = None,
    config: ConfigOpt = None,
    threshold_deg: ThresholdOpt = None,
    cutoff_hz: CutoffOpt = None,
    max_height: HeightOpt = None,
    pool_onsets: PoolOpt = None,
    mirror: MirrorOpt = None,
    overlay: Annotated[bool, typer.Option("--overlay", help="Also write overlay.mp4 per clip.")] = False,
    models_dir: ModelsDirOpt = None,
) -> None:
    """Analyse every video under a folder in parallel; write summary.csv and index.html. Resumable."""
    from tqdm import tqdm

    from buttwink.batch import BatchCancelled, find_clips, run_batch
    from buttwink.models import ModelError
    from buttwink.report import MIN_FREE_BYTES, ReportFolderError, check_output_folder

    if executor not in ("local", "dask"):
        raise _fail(f"unknown executor {executor!r} (local or dask)", 2)
    _check_jobs(jobs)
    try:
        settings = _settings(config, wink_threshold_deg=threshold_deg, cutoff_hz=cutoff_hz, max_height_px=max_height,
                             pool_onsets=pool_onsets, mirror_consensus=mirror)
        clips = find_clips(source, exclude=outdir)
    except (OSError, ValueError) as exc:
        raise _fail(str(exc), 2) from None
    if not clips:
        raise _fail(f"{source}: no video files found", 1)
    try:
        check_output_folder(outdir, MIN_FREE_BYTES)
    except ReportFolderError as exc:
        raise _fail(str(exc), 2) from None
    with tqdm(total=len(clips), desc="clips", unit="clip", disable=None) as bar:
        def on_row(row: dict[str, object]) -> None:
            bar.update(1)
            if row["status"] == "failed":
                tqdm.write(f"failed: {row['reason']}", file=sys.stderr)

        try:
            rows = run_batch(clips, outdir, settings, jobs=jobs, force=force, overlay=overlay, executor=executor,
                             scheduler=scheduler, models_dir=models_dir, on_row=on_row)
        except BatchCancelled as exc:
            bar.close()
            raise _fail(str(exc), exc.exit_code) from None
        except (OSError, ModelError) as exc:
            raise _fail(str(exc)) from None
    counts = {s: sum(r["status"] == s for r in rows) for s in ("ok", "skipped", "failed")}
    typer.echo(f"{len(rows)} clips: {counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed "
               f"-> {outdir / 'summary.csv'}, {outdir / 'index.html'}")
    if counts["failed"] == len(rows):
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on. Anything but loopback asks for an "
                                      "access token on every request.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port.")] = 8000,
    data: Annotated[Path | None, typer.Option("--data", help="Data folder (database, uploads, reports; default: "
                                              "the per-user data folder).", show_default=False)] = None,
    token: Annotated[str | None, typer.Option("--token", help="Access token (default: generated when serving "
                                              "beyond loopback).", show_default=False)] = None,
    max_upload_mb: Annotated[int, typer.Option("--max-upload-mb", help="Largest upload, MB.")] = 1024,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Clips analysed at once.")] = 1,
    config: ConfigOpt = None,
    models_dir: ModelsDirOpt = None,
) -> None:
    """Run the clinic: upload page, athletes' progress and a JSON API (Ctrl-C stops it)."""
    import ipaddress
    import secrets

    from buttwink.models import ModelError, ensure_model

    _check_jobs(jobs)
    if not 1 <= port <= 65535:
        raise _fail(f"--port must be between 1 and 65535 (got {port})", 2)
    if max_upload_mb < 1:
        raise _fail(f"--max-upload-mb must be at least 1 (got {max_upload_mb})", 2)
    if token is not None and len(token) < 16:
        raise _fail("--token must be at least 16 characters", 2)
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback and token is None:
        token = secrets.token_urlsafe(24)
    if data is None:
        from platformdirs import user_data_dir

        data = Path(user_data_dir("buttwink")) / "clinic"
    import socket

    from buttwink.clinic.store import hold_data_folder

    try:
        settings = _settings(config)
        data.mkdir(parents=True, exist_ok=True)
        with hold_data_folder(data):  # refuse a folder another server uses, before anything starts
            pass
        model = ensure_model(settings.model_variant, models_dir)
    except (OSError, ValueError, ModelError) as exc:
        raise _fail(str(exc), 2) from None
    try:  # the port is free (uvicorn binds it again below; its own error would come after the start-up)
        with socket.create_server((host.strip("[]"), port), family=socket.AF_INET6 if ":" in host else socket.AF_INET):
            pass
    except OSError as exc:
        raise _fail(f"{host}:{port}: cannot listen ({exc.strerror or exc})", 2) from None
    import uvicorn

    from buttwink.clinic.app import ClinicConfig, create_app

    clinic = create_app(ClinicConfig(data_dir=data, token=token, max_upload_bytes=max_upload_mb * 1024**2,
                                     workers=jobs, models_dir=str(model.path.parent), settings=settings.to_dict(),
                                     loopback_only=loopback))
    shown = f"[{host}]" if ":" in host else host
    link = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    typer.echo(f"buttwink clinic: {link}  (data: {data}; Ctrl-C stops)", err=True)
    if token:
        typer.echo(f"access token: {token}", err=True)
    uvicorn.run(clinic, host=host.strip("[]"), port=port, log_level="warning", access_log=False)


@app.command()
def progress(
    report_dirs: Annotated[list[Path] | None, typer.Argument(help="Report folders (or batch folders) of one "
                                                             "session.", show_default=False)] = None,
    athlete: Annotated[str | None, typer.Option("--athlete", help="The athlete of REPORT_DIRS.")] = None,
    date: Annotated[str | None, typer.Option("--date", help="The session date of REPORT_DIRS, YYYY-MM-DD.")] = None,
    sessions: Annotated[Path | None, typer.Option("--sessions", help="CSV with columns report_dir, athlete, "
                                                  "session_date.")] = None,
    outdir: Annotated[Path, typer.Option("--output", "-o", help="Where progress.png and progress.csv go.")] = Path(),
) -> None:
    """An athlete's progress over sessions from report folders: progress.png and progress.csv."""
    from buttwink.progress import ProgressError, SessionClip, build_sessions, expand_report_dirs, parse_date
    from buttwink.progress import read_sessions_csv as read_csv
    from buttwink.progress import write_progress as write

    try:
        clips: list[SessionClip] = []
        if sessions is not None:
            clips.extend(read_csv(sessions))
        if report_dirs:
            if not athlete or not date:
                raise ProgressError("REPORT_DIRS need --athlete and --date (or list them in --sessions)")
            when = parse_date(date, "--date")
            clips.extend(SessionClip(athlete.strip(), when, d) for d in expand_report_dirs(report_dirs))
        elif athlete or date:
            raise ProgressError("--athlete and --date name the session of REPORT_DIRS: give the report folders")
        if not clips:
            raise ProgressError("give report folders with --athlete and --date, or --sessions sessions.csv")
        found = build_sessions(clips)
        written = write(found, outdir)
    except (ProgressError, OSError) as exc:
        raise _fail(str(exc), 2) from None
    for session in found:
        f = session.figures
        typer.echo(f"{session.athlete} {session.session_date}: {f['clips']} clip(s), {f['reps_with_wink']} of "
                   f"{f['reps_assessed']} assessed rep(s) with a wink")
    from buttwink.progress import measure_changes

    for note in measure_changes(found):
        typer.echo(f"warning: {note}", err=True)
    typer.echo("wrote " + ", ".join(str(p) for p in written))


def _register_synth() -> None:
    from buttwink.synth.cli import synth_command

    app.command("synth", help="Render a ground-truth squat clip (video + truth CSVs) into OUTDIR.")(synth_command)


_register_synth()
