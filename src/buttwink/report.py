"""Report stage: a clip's folder with report.png, frames.csv, reps.csv, summary.json, landmarks.parquet,
keypoints.trc and angles.mot (OpenSim), and optionally overlay.mp4.

What this stage promises (``README.md``, "What buttwink promises"):

- It only ever replaces a folder it wrote itself. Its folders are marked by their ``summary.json``
  (``"written_by": "buttwink"``). A file, a link or a folder of anyone else's with the report's name stops
  the clip with :class:`ReportFolderError` before any work is done (:func:`check_report_target`).
- Files a user put into one of its report folders are kept; if one has the name of a file the report is about
  to write, the clip stops before any work is done.
- Nothing is half-written: the new report is first written into a hidden temporary folder beside the final
  one. A new folder is renamed into place; an existing one of ours is first marked "being written" (its
  ``summary.json`` says so), then gets the new files one atomic rename each, and its ``summary.json`` last.
  A report folder is complete exactly when its ``summary.json`` says ``"status": "ok"``.
- Temporary folders carry the writing process's id; one whose process is gone is removed by the next run
  (:func:`remove_stale_temporaries`).
- Names are limited in bytes (file systems count bytes, not characters), and every text cell of a CSV is
  escaped against formula injection (:mod:`buttwink.csv_safety`). Files get the usual permissions (0644 under
  the common umask), not a temporary file's 0600.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from buttwink._fs import new_mode
from buttwink.csv_safety import escape_frame
from buttwink.export import export_all
from buttwink.pipeline import Result, rep_verdict

log = logging.getLogger(__name__)

#: reps.csv columns, in order (names shared with the renderer's reps_truth.csv where they overlap).
REP_COLUMNS = (
    "rep", "status", "reason", "verdict", "start_time_s", "bottom_time_s", "end_time_s", "top_depth_deg",
    "bottom_depth_deg", "wink", "onset_time_s", "onset_depth_deg", "onset_depth_low_deg", "onset_depth_high_deg",
    "onset_hip_flexion_deg", "rep_onset_depth_deg", "onset_set_weight", "wink_deg", "departure_deg",
    "own_departure_deg", "mirror_departure_deg", "descent_departure_deg", "ascent_departure_deg",
    "trend_offset_deg", "trend_slope", "confidence", "onset_frame", "start", "bottom", "end", "model",
)


#: Every file a report folder can hold that buttwink writes (``summary.json`` lists the ones a report has).
REPORT_FILES = ("landmarks.parquet", "frames.csv", "reps.csv", "keypoints.trc", "angles.mot", "report.png",
                "evidence.png", "overlay.mp4", "summary.json")
#: Names a report folder never takes: the files a batch writes beside its report folders.
RESERVED_NAMES = frozenset({"summary.csv", "index.html", ".buttwink-batch.lock"})
#: What buttwink writes into ``summary.json`` to mark a folder as its own.
WRITTEN_BY = "buttwink"
#: Longest report folder name, in bytes of UTF-8 (file systems allow 255; the temporary name adds about 30).
MAX_NAME_BYTES = 100
_TMP_RE = re.compile(r"^\.(?P<name>.+)\.bw(?P<pid>\d+)-[0-9a-f]{6}\.(?:tmp|old)$")


class ReportFolderError(OSError):
    """The report cannot be written where it would go, for a reason found before any work (a folder that is
    not buttwink's, a user's file in the way). ``str(err)`` is one line naming the path and the reason."""


def cut_to_bytes(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` bytes of UTF-8, never splitting a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def safe_name(clip: Path | str) -> str:
    """A folder name for a clip that cannot escape the output folder: the file stem with anything but
    letters, digits, ``-``, ``_`` and ``.`` replaced by ``_`` (non-ASCII letters are kept), at most
    :data:`MAX_NAME_BYTES` bytes."""
    stem = Path(str(clip)).stem
    name = re.sub(r"[^\w.\-]+", "_", stem, flags=re.UNICODE).strip("._")
    name = cut_to_bytes(name, MAX_NAME_BYTES).rstrip("._") or "clip"
    if name.casefold() in RESERVED_NAMES:  # a batch's own files live beside the report folders
        name = f"{name}_clip"
    return name


def _path_digest(clip: Path) -> str:
    try:
        text = os.fsencode(clip.resolve())
    except (OSError, ValueError):  # an impossible path (a NUL byte): its text still names it
        text = os.fsencode(str(clip).replace("\x00", "\\0"))
    return hashlib.sha1(text).hexdigest()[:6]


def unique_names(clips: list[Path], outdir: Path | str | None = None) -> dict[Path, str]:
    """Folder names for many clips; clips whose names collide get a short hash of their full path appended.
    Names are compared ignoring case, as macOS and Windows file systems do. With ``outdir``, a name whose
    folder there holds another clip's report (an earlier run on a clip of the same name from elsewhere) also
    gets the hash, so one clip's report never replaces another's."""
    names = {clip: safe_name(clip) for clip in clips}
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    for clip, name in names.items():
        taken = outdir is not None and _holds_another_clip(Path(outdir) / name, clip)
        if counts[name.casefold()] > 1 or taken:
            names[clip] = f"{name}-{_path_digest(clip)}"
    return names


def _holds_another_clip(folder: Path, clip: Path) -> bool:
    """True when ``folder`` is a buttwink report of a clip at another path than ``clip``."""
    if not is_buttwink_folder(folder):
        return False
    summary = read_summary(folder) or {}
    recorded = summary.get("clip_path") or summary.get("clip")
    if not isinstance(recorded, str):
        return False
    try:
        return Path(recorded).resolve() != Path(clip).resolve()
    except (OSError, ValueError):
        return True


def read_summary(report_dir: Path) -> dict[str, object] | None:
    """The folder's ``summary.json`` as a dict, or None when there is none or it does not parse."""
    try:
        data = json.loads((Path(report_dir) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_buttwink_folder(path: Path) -> bool:
    """True when ``path`` is a real folder (not a link) that buttwink wrote: its summary.json says
    ``"written_by": "buttwink"``, or, for reports written before that mark, lists ``report_files`` and a
    buttwink version."""
    path = Path(path)
    if path.is_symlink() or not path.is_dir():
        return False
    summary = read_summary(path)
    if summary is None:
        return False
    if summary.get("written_by") == WRITTEN_BY:
        return True
    versions = summary.get("versions")
    return isinstance(summary.get("report_files"), list) and isinstance(versions, dict) and "buttwink" in versions


def is_complete(report_dir: Path) -> bool:
    """True when ``report_dir`` holds a finished report (its summary.json exists, parses and says ``ok``)."""
    summary = read_summary(report_dir)
    return summary is not None and summary.get("status") == "ok" and is_buttwink_folder(report_dir)


def _our_files(summary: dict[str, object] | None) -> set[str]:
    """The report files a summary lists, kept only where they are names buttwink writes (a hand-edited list
    naming ``../x`` or a user's file must not make buttwink replace or delete it)."""
    listed = summary.get("report_files") if summary else None
    names = {str(n) for n in listed} if isinstance(listed, list) else set()  # no list: nothing is known ours
    return names & set(REPORT_FILES)


def report_files_for(overlay: bool) -> set[str]:
    """The files a report written now will hold."""
    return {n for n in REPORT_FILES if overlay or n != "overlay.mp4"}


def check_report_target(outdir: Path | str, name: str, *, overlay: bool = False,
                        inputs: Iterable[Path | str] = ()) -> Path:
    """Where the report ``outdir/name`` goes; raise :class:`ReportFolderError` if writing it there could
    destroy anything buttwink did not write. Call it before any work on the clip.

    Refused: a name that leaves ``outdir``; anything at that path that is not a buttwink report folder (a
    user's folder, a file, a link, the input video itself); a file of the user's inside a buttwink report
    folder whose name the new report would write; an input (``inputs``) that is one of the files the report
    would replace.
    """
    outdir = Path(outdir)
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise ValueError(f"report name {name!r} would leave {outdir}")
    final = outdir / name  # a plain name: it cannot leave outdir (a link at final is refused below)
    if not os.path.lexists(final):
        return final
    for clip in inputs:
        if Path(clip).resolve() == final.resolve():
            raise ReportFolderError(f"{final}: the report folder would replace the input itself; nothing was "
                                    "changed (choose another -o, or give the video an extension)")
    if not is_buttwink_folder(final):
        what = ("a link" if final.is_symlink() else "a folder" if final.is_dir() else "a file")
        raise ReportFolderError(f"{final}: {what} that buttwink did not write is in the way of the report; "
                                "nothing was changed (move it, or choose another -o)")
    summary = read_summary(final)
    ours = _our_files(summary)
    new = report_files_for(overlay)
    for entry in final.iterdir():
        if entry.name not in ours and entry.name in new:
            raise ReportFolderError(f"{entry}: a file buttwink did not write has the name of a report file; "
                                    "nothing was changed (move it away, then rerun)")
        if entry.name in ours | new and (entry.is_symlink() or not entry.is_file()):
            raise ReportFolderError(f"{entry}: not a regular file where the report writes one; nothing was "
                                    "changed (move it away, then rerun)")
    if not os.access(final, os.W_OK | os.X_OK):
        raise ReportFolderError(f"{final}: the report folder is not writable; nothing was changed")
    resolved_final = final.resolve()
    for clip in inputs:
        clip_path = Path(clip).resolve()
        if clip_path.parent == resolved_final and clip_path.name in ours | new:
            raise ReportFolderError(f"{clip}: the input is a file of the report it would replace; nothing was "
                                    "changed (copy it elsewhere, or choose another -o)")
    return final


#: Free space an output folder must have before a clip is analysed into it (a report without overlay is
#: a few MB; the margin covers long clips' landmarks and frames tables).
MIN_FREE_BYTES = 50 * 1024**2


def check_output_folder(outdir: Path | str, need_bytes: int = MIN_FREE_BYTES) -> Path:
    """Make sure reports can be written into ``outdir`` before any clip is analysed: it is (or can be made) a
    folder, a file can be created in it, and it has ``need_bytes`` free. Creates the folder; raises
    :class:`ReportFolderError` naming the folder and the reason."""
    import tempfile

    outdir = Path(outdir)
    if os.path.lexists(outdir) and not outdir.is_dir():
        raise ReportFolderError(f"{outdir}: exists and is not a folder (the output must be a folder)")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportFolderError(f"{outdir}: cannot create the output folder ({exc.strerror or exc})") from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".buttwink-write-test.", dir=outdir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ReportFolderError(f"{outdir}: output folder is not writable ({exc.strerror or exc})") from None
    free = shutil.disk_usage(outdir).free
    if free < need_bytes:
        raise ReportFolderError(f"{outdir}: only {free / 1024**2:.0f} MB free; a report needs about "
                                f"{need_bytes / 1024**2:.0f} MB")
    return outdir


def _temporary_folder(outdir: Path, name: str, kind: str = "tmp") -> Path:
    """A new hidden folder beside the report, named after it and this process: ``.<name>.bw<pid>-<hex>.tmp``."""
    while True:
        path = outdir / f".{name}.bw{os.getpid()}-{secrets.token_hex(3)}.{kind}"
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        return path


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    try:  # a zombie (dead, not yet reaped) is dead for this purpose
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _only_report_files(folder: Path) -> bool:
    """True when ``folder`` holds nothing but report files and their partial temporaries, all regular files
    (a user's folder that happens to be named like a temporary, or holds a folder named ``report.png``, is
    not). Empty counts: a run killed right after making its temporary folder leaves it so."""
    return all(entry.is_file() and not entry.is_symlink() and (
        entry.name in REPORT_FILES or (entry.name.startswith(".") and entry.name.endswith(".tmp")))
        for entry in folder.iterdir())


def remove_stale_temporaries(outdir: Path | str) -> list[Path]:
    """Remove the temporary report folders (and ``.summary.csv``/``.index.html`` temporaries) that a killed
    run left in ``outdir``: those named as this version names them (``.<name>.bw<pid>-<6 hex>.tmp``) after a
    process that no longer runs. A folder holding anything but report files is left alone (it may be
    someone's), and so is anything named otherwise (older versions' temporaries included). Returns what was
    removed."""
    outdir = Path(outdir)
    removed: list[Path] = []
    if not outdir.is_dir():
        return removed
    for entry in outdir.iterdir():
        if not entry.name.startswith(".") or entry.is_symlink():
            continue
        match = _TMP_RE.match(entry.name)
        pid_match = re.match(r"^\.(?:summary\.csv|index\.html)\.(\d+)\.[a-z0-9_]{8}\.tmp$", entry.name)
        if match:
            stale = not _pid_alive(int(match["pid"]))
        elif pid_match:
            stale = entry.is_file() and not _pid_alive(int(pid_match[1]))
        else:
            stale = False  # not a name this version gives its temporaries: someone's, left alone
        if not stale:
            continue
        try:
            if entry.is_dir():
                if not _only_report_files(entry):
                    log.warning("%s: left in place (holds files that are not buttwink's)", entry)
                    continue
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError as exc:
            log.warning("%s: could not remove a stale temporary: %s", entry, exc)
            continue
        removed.append(entry)
    return removed


def frames_table(result: Result) -> pd.DataFrame:
    """frames.csv: time, the near-side landmarks used (pixels), every angle raw and smoothed (degrees)."""
    frames = result.frames.copy()
    near = result.analysis.view.near_side
    table = result.track.table
    for joint in ("shoulder", "hip", "knee", "ankle", "heel", "foot_index"):
        for axis in ("x", "y"):
            frames[f"{joint}_{axis}_px"] = table[f"{near}_{joint}_{axis}_px"].to_numpy()
        frames[f"{joint}_visibility"] = table[f"{near}_{joint}_visibility"].to_numpy()
    return frames


def reps_table(result: Result) -> pd.DataFrame:
    """reps.csv: one row per rep with its verdict in words."""
    reps = result.reps.copy()
    reps["verdict"] = [rep_verdict(row) for _, row in reps.iterrows()] if len(reps) else []
    for col in REP_COLUMNS:
        if col not in reps.columns:
            reps[col] = np.nan
    return reps[list(REP_COLUMNS)]


def json_ready(value: object) -> object:
    """``value`` with NaN and infinities replaced by None (JSON has no NaN: ``null`` is what readers expect),
    NumPy scalars made plain, and paths made text, through dicts, lists and tuples."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def write_report(
    result: Result,
    outdir: Path | str,
    *,
    name: str | None = None,
    png: bool = True,
    overlay: bool = False,
    source: Path | str | None = None,
) -> Path:
    """Write the clip's report folder ``outdir/<name>`` and return its path (see the module for the promises).

    ``source`` is the input the report was made from (the video, or the landmarks file of a rerun; default
    the result's clip): summary.json records it (``clip_path``) so that another input of the same name never
    takes this folder over. Raises :class:`ReportFolderError` (nothing written) when the path holds anything
    buttwink did not write, and ``ValueError`` for a name that would leave ``outdir``.
    """
    outdir = Path(outdir)
    name = name or safe_name(result.clip)
    check_report_target(outdir, name, overlay=overlay)  # a name that leaves outdir fails before mkdir
    outdir.mkdir(parents=True, exist_ok=True)
    final = check_report_target(outdir, name, overlay=overlay, inputs=[result.clip, *([source] if source else [])])
    tmp = _temporary_folder(outdir, final.name)
    try:
        result.track.save(tmp / "landmarks.parquet")
        escape_frame(frames_table(result)).to_csv(tmp / "frames.csv", index=False, float_format="%.4f")
        escape_frame(reps_table(result)).to_csv(tmp / "reps.csv", index=False, float_format="%.4f")
        export_all(result, tmp)  # keypoints.trc, angles.mot (OpenSim)
        if png:
            _write_png(result, tmp / "report.png")
        if overlay:
            _write_overlay(result, tmp / "overlay.mp4")
        summary = result.summary()
        summary["written_by"] = WRITTEN_BY
        summary["clip_path"] = os.fsdecode(Path(source or result.clip).resolve())  # whose report this is
        summary["report_files"] = [*sorted(p.name for p in tmp.iterdir()), "summary.json"]
        text = json.dumps(json_ready(summary), indent=2, default=_json_default, allow_nan=False)
        (tmp / "summary.json").write_text(text, encoding="utf-8")
        for entry in tmp.iterdir():
            os.chmod(entry, new_mode())
        os.chmod(tmp, new_mode(folder=True))
        _put_in_place(tmp, final, overlay)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _put_in_place(tmp: Path, final: Path, overlay: bool) -> None:
    """Move the finished report in ``tmp`` to ``final``: one rename for a new folder; into an existing folder
    of ours file by file, with its summary.json saying "being written" until the last rename."""
    try:
        os.rename(tmp, final)  # atomic; fails if something appeared there meanwhile
        return
    except OSError:
        if not os.path.lexists(final):
            raise
    check_report_target(final.parent, final.name, overlay=overlay)  # still ours, still nothing in the way
    old_files = _our_files(read_summary(final))
    marker = final / f".summary.json.bw{os.getpid()}.tmp"
    new_files = {entry.name for entry in tmp.iterdir()}
    marker.write_text(json.dumps({"written_by": WRITTEN_BY, "status": "being written",
                                  "report_files": sorted(old_files | new_files)}), encoding="utf-8")
    os.replace(marker, final / "summary.json")
    for file_name in sorted(new_files - {"summary.json"}):
        os.replace(tmp / file_name, final / file_name)
    for file_name in sorted(old_files - new_files - {"summary.json"}):
        stale = final / file_name
        if stale.is_file() and not stale.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()  # a file of the previous report that this one no longer has
    os.replace(tmp / "summary.json", final / "summary.json")


def _video_for(result: Result) -> Path | None:
    path = Path(str(result.track.video.get("path", "")))
    return path if path.is_file() else None


def _write_png(result: Result, path: Path) -> None:
    """report.png and, beside it, evidence.png (every assessed rep's lower back)."""
    from buttwink.report_figure import (
        choose_still_rows,
        collect_evidence,
        collect_stills,
        evidence_rows,
        read_frames_at,
        render_evidence_png,
        render_report_png,
    )

    video = _video_for(result)
    stills, evidence = None, None
    if video is not None:
        try:
            rows = [row for _, row in choose_still_rows(result.analysis)]
            rows += [row for _, _, row in evidence_rows(result.analysis)]
            frames = read_frames_at(video, result.track, sorted(set(rows)), int(result.track.video["height"]))
            stills = collect_stills(video, result.track, result.analysis, None, frames=frames)
            evidence = collect_evidence(result.track, result.analysis, frames)
        except Exception as exc:  # stills are a nicety; the report must still be written
            log.warning("%s: could not read still frames: %s", video, exc)
    render_report_png(result.track, result.analysis, path, title=result.clip.name, stills=stills,
                      evidence=evidence)
    if evidence:
        render_evidence_png(evidence, path.with_name("evidence.png"), title=result.clip.name)


def _write_overlay(result: Result, path: Path) -> None:
    from buttwink.overlay import write_overlay

    video = _video_for(result)
    if video is None:
        log.warning("%s: source video not found; overlay.mp4 skipped", result.clip)
        return
    write_overlay(video, result.track, result.analysis, path, max_height=int(result.track.video["height"]))
