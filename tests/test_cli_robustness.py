"""`buttwink analyze` and `buttwink batch` against bad input: one-line errors naming the clip and a reason,
non-zero exits for a single bad input, failed rows in a batch while the good clips finish, odd but valid
clips (rotated phone video, 4K, variable frame rate, non-ASCII paths) analysed, report folders that never
leave the output folder, and resumable batches that never take a half-written report as done.

One short squat clip is rendered per session (320x240, 15 fps, 2 reps) and copied or re-encoded as needed.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pandas as pd
import pytest
from conftest import SHORT_CAMERA, SHORT_SQUAT
from typer.testing import CliRunner

from buttwink.cli import app
from buttwink.onset import CALIBRATIONS, DEPTH_READING_MARGIN_DEG
from buttwink.report import safe_name, unique_names, write_report
from buttwink.settings import Settings
from buttwink.synth import CameraParams, SquatParams
from buttwink.video import iter_frames

ROOT = Path(__file__).resolve().parents[1]
FRONT_VIEW = ROOT.parent / "shared" / "videos" / "front_view_3reps.mp4"
SQUAT = SquatParams(**SHORT_SQUAT)  # short_clip's (conftest)
CAMERA = CameraParams(**SHORT_CAMERA)
REPS = SQUAT.reps

#: What a single bad input must be refused with (the reason part of the one-line error).
BAD_REASONS = {
    "empty": r"empty file",
    "truncated": r"not a readable video|no decodable video frames",
    "text": r"not a readable video|no decodable video frames",
    "image": r"single image|not a readable video|no decodable video frames",
    "nobody": r"no person found",
    "half_second": r"too short",
}


# ------------------------------------------------------------------------------------------------ helpers


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def read_frames(clip: Path, limit: int | None = None) -> list[np.ndarray]:
    """The clip's frames as RGB arrays."""
    cap = cv2.VideoCapture(str(clip))
    frames = []
    while limit is None or len(frames) < limit:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


def summary_rows(out: Path) -> dict[str, dict[str, str]]:
    """summary.csv rows keyed by the clip's path."""
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        return {row["clip"]: row for row in csv.DictReader(fh)}


def report_dirs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))


def make_bad(case: str, folder: Path, good: Path, make_clip) -> Path:
    """One bad input of the given kind, written into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if case == "empty":
        path = folder / "empty.mp4"
        path.write_bytes(b"")
    elif case == "truncated":
        path = folder / "truncated.mp4"
        path.write_bytes(good.read_bytes()[:4096])
    elif case == "text":
        path = folder / "notes.mp4"
        path.write_text("this is a shopping list, not a video\n" * 100)
    elif case == "image":
        path = folder / "photo.png"
        assert cv2.imwrite(str(path), read_frames(good, 1)[0][..., ::-1])
    elif case == "nobody":
        rng = np.random.default_rng(3)
        noise = [cv2.GaussianBlur(rng.integers(0, 256, (240, 320, 3), np.uint8), (5, 5), 0) for _ in range(40)]
        path = make_clip(folder / "nobody.mp4", noise, fps=15.0)
    elif case == "half_second":  # shorter than any squat rep (0.8 s)
        path = make_clip(folder / "half_second.mp4", read_frames(good, 8), fps=15.0)
    else:  # pragma: no cover
        raise ValueError(case)
    return path


def assert_one_line_error(result, clip: Path, reason: str) -> None:
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert str(clip) in lines[0], lines[0]
    assert re.search(reason, lines[0]), lines[0]
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


# ------------------------------------------------------------------------------------------------ fixtures


# short_clip (2 reps, 320x240, 15 fps) and one_rep_clip are conftest's, rendered once per session.


# ------------------------------------------------------------------------------------------------ analyze


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BAD_REASONS))
def test_analyze_refuses_bad_input_with_one_line_error(tmp_path: Path, short_clip: Path, make_clip,
                                                      case: str) -> None:
    clip = make_bad(case, tmp_path / "in", short_clip, make_clip)
    out = tmp_path / "out"
    res = run("analyze", clip, "-o", out)
    assert res.exit_code == 1, res.output
    assert_one_line_error(res, clip, BAD_REASONS[case])
    assert not out.exists() or not list(out.rglob("summary.json"))


@pytest.mark.slow
def test_analyze_goes_on_after_a_bad_clip(tmp_path: Path, short_clip: Path, make_clip) -> None:
    bad = make_bad("empty", tmp_path / "in", short_clip, make_clip)
    good = Path(shutil.copy(short_clip, tmp_path / "in" / "good.mp4"))
    res = run("analyze", bad, good, "-o", tmp_path / "out")
    assert res.exit_code == 1  # one clip failed
    assert_one_line_error(res, bad, BAD_REASONS["empty"])
    summary = json.loads((tmp_path / "out" / "good" / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["reps_found"] == REPS
    assert f"{good}: " in res.stdout


@pytest.mark.slow
@pytest.mark.skipif(not FRONT_VIEW.is_file(), reason=f"{FRONT_VIEW} not present")
def test_analyze_refuses_a_front_view(tmp_path: Path) -> None:
    res = run("analyze", FRONT_VIEW, "-o", tmp_path / "out")
    assert res.exit_code == 1, res.output
    assert_one_line_error(res, FRONT_VIEW, r"not a side view")


@pytest.mark.slow
def test_rotated_phone_video_is_analysed_upright(tmp_path: Path, short_clip: Path, make_clip, ffmpeg: str) -> None:
    upright = read_frames(short_clip)
    sideways = make_clip(tmp_path / "stored_sideways.mp4", [np.ascontiguousarray(np.rot90(f, k=-1)) for f in upright],
                         fps=CAMERA.fps)
    phone = tmp_path / "phone.mp4"
    # Display matrix: the player turns the stored (sideways) picture back upright, as a phone's metadata does.
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-display_rotation", "90", "-i", str(sideways), "-c", "copy",
                    str(phone)], check=True)
    delivered = next(iter_frames(phone)).rgb
    assert delivered.shape == upright[0].shape
    assert np.abs(delivered.astype(int) - upright[0].astype(int)).mean() < 6  # upright again, not mirrored

    res = run("analyze", phone, "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "phone" / "summary.json").read_text())
    assert summary["video"]["rotation_deg"] in (90, 270)
    assert (summary["video"]["width"], summary["video"]["height"]) == (CAMERA.width, CAMERA.height)
    assert summary["reps_found"] == REPS and summary["reps_assessed"] == REPS


@pytest.mark.slow
def test_huge_resolution_is_downscaled_to_720(tmp_path: Path, short_clip: Path, ffmpeg: str) -> None:
    huge = tmp_path / "huge.mp4"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-i", str(short_clip), "-t", "2.6", "-vf", "scale=-2:2160",
                    "-c:v", "mpeg4", "-q:v", "6", str(huge)], check=True)
    assert cv2.VideoCapture(str(huge)).get(cv2.CAP_PROP_FRAME_HEIGHT) == 2160
    res = run("analyze", huge, "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    report = tmp_path / "out" / "huge"
    video = json.loads((report / "summary.json").read_text())["video"]
    assert video["source_height"] == 2160 and video["height"] == 720
    assert video["width"] == pytest.approx(960, abs=2) and video["scale"] == pytest.approx(1 / 3, rel=0.01)
    frames = pd.read_csv(report / "frames.csv")
    assert frames["detected"].mean() > 0.8
    assert frames["hip_y_px"].max() <= 720 and frames["hip_x_px"].max() <= video["width"]  # downscaled pixels


@pytest.mark.slow
def test_variable_frame_rate_keeps_real_time(tmp_path: Path, short_clip: Path, ffmpeg: str) -> None:
    n = len(read_frames(short_clip))
    half = n // 2
    vfr = tmp_path / "vfr.mp4"
    # Every frame kept; the second half's timestamps stretched 2x (a phone dropping from 15 to 7.5 fps).
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-i", str(short_clip), "-vf",
                    f"setpts='if(lt(N,{half}),N,{half}+2*(N-{half}))/({CAMERA.fps:g}*TB)'", "-fps_mode", "vfr",
                    "-c:v", "mpeg4", "-q:v", "3", str(vfr)], check=True)
    res = run("analyze", vfr, "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    report = tmp_path / "out" / "vfr"
    times = pd.read_csv(report / "frames.csv")["time_s"].to_numpy()
    assert len(times) == n and np.all(np.diff(times) > 0)
    assert times[-1] == pytest.approx((half + 2 * (n - 1 - half)) / CAMERA.fps, abs=0.1)
    steps = np.diff(times)
    assert np.median(steps[: half - 2]) == pytest.approx(1 / CAMERA.fps, abs=0.01)
    assert np.median(steps[half + 2:]) == pytest.approx(2 / CAMERA.fps, abs=0.02)
    assert json.loads((report / "summary.json").read_text())["reps_found"] == REPS


@pytest.mark.slow
def test_non_ascii_path_with_spaces(tmp_path: Path, short_clip: Path) -> None:
    folder = tmp_path / "Übung mit Leerzeichen"
    folder.mkdir()
    clip = Path(shutil.copy(short_clip, folder / "sq ü.mp4"))
    out = tmp_path / "Ausgabe ä"
    res = run("analyze", clip, "-o", out)
    assert res.exit_code == 0, res.output
    assert str(clip) in res.stdout
    reports = report_dirs(out)
    assert len(reports) == 1
    name = reports[0].name
    assert name == "sq_ü" and not re.search(r"[\s/\\]", name)
    assert reports[0].resolve().parent == out.resolve()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary folder left behind
    summary = json.loads((reports[0] / "summary.json").read_text(encoding="utf-8"))
    assert summary["clip"] == str(clip) and summary["reps_found"] == REPS
    assert {"report.png", "frames.csv", "reps.csv", "summary.json", "landmarks.parquet"} <= {
        p.name for p in reports[0].iterdir()}
    reps = pd.read_csv(reports[0] / "reps.csv")
    assessed = reps[reps["status"] == "ok"]
    assert len(assessed) and assessed["ascent_departure_deg"].notna().all()
    calibration = CALIBRATIONS[Settings().wink_signal]  # the tuck read from the descent's and ascent's mean
    assert np.allclose(assessed["departure_deg"],
                       [calibration.tuck(d) for d in (assessed["descent_departure_deg"]
                                                      + assessed["ascent_departure_deg"]) / 2], atol=1e-3)
    winks = assessed[assessed["wink"].astype(bool)]
    assert len(winks)  # the clip's reps wink: the range checks below are not vacuous
    assert {"onset_depth_low_deg", "onset_depth_high_deg"} <= set(reps.columns)
    assert (winks["onset_depth_low_deg"] <= winks["onset_depth_deg"]).all()
    assert (winks["onset_depth_deg"] <= winks["onset_depth_high_deg"]).all()
    # The reported range holds the thigh reading's own error at each end.
    assert (winks["onset_depth_deg"] - winks["onset_depth_low_deg"] >= DEPTH_READING_MARGIN_DEG - 1e-6).all()
    assert (winks["onset_depth_high_deg"] - winks["onset_depth_deg"] >= DEPTH_READING_MARGIN_DEG - 1e-6).all()


# ------------------------------------------------------------------------------------------------ output folder


def assert_output_refused(clip: Path, out: Path, reason: str) -> None:
    """``analyze`` and ``batch`` into ``out`` both fail at once (exit 2) with one error line naming ``out`` and
    matching ``reason``: the output folder is checked before any clip is analysed."""
    for command, source in (("analyze", clip), ("batch", clip.parent)):
        res = run(command, source, "-o", out, "--jobs", "1") if command == "batch" else run(command, source, "-o", out)
        assert res.exit_code == 2, res.output
        lines = error_lines(res)
        assert len(lines) == 1 and str(out) in lines[0] and re.search(reason, lines[0]), lines


@pytest.mark.slow
def test_unwritable_output_dir(tmp_path: Path, short_clip: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root (or with CAP_DAC_OVERRIDE): chmod 0o500 does not block writes")
        assert_output_refused(short_clip, locked, r"not writable")
        assert not list(locked.iterdir())
    finally:
        locked.chmod(0o700)


@pytest.mark.slow
def test_output_path_that_is_a_file(tmp_path: Path, short_clip: Path) -> None:
    """Works as root too: a file where the output folder should be."""
    blocker = tmp_path / "out"
    blocker.write_text("a file where the output folder should be")
    assert_output_refused(short_clip, blocker, r"exists and is not a folder")
    assert blocker.read_text().startswith("a file")


NASTY = ["../../etc/passwd", "a/b", "..", "", ".", "CON", "x\x00y", "~/x", "..\\..\\x", "   ", "-rf",
         "/abs/path.mp4", "a" * 300, "ü ß/…/émoji 🏋.mp4", ".hidden.mp4", "sub/../../up.mp4"]


@pytest.mark.parametrize("nasty", NASTY)
def test_safe_name_never_leaves_the_output_folder(tmp_path: Path, nasty: str) -> None:
    name = safe_name(nasty)
    assert name and name not in (".", "..")
    assert not set(name) & {"/", "\\", "\x00"} and not name.startswith((".", "~"))
    assert len(name.encode()) <= 255
    folder = tmp_path / name
    assert folder.resolve().parent == tmp_path.resolve()
    folder.mkdir()  # a name the file system takes


def test_unique_names_are_safe_and_distinct(tmp_path: Path) -> None:
    clips = [tmp_path / "a" / "squat.mp4", tmp_path / "b" / "squat.mp4", tmp_path / "c.mp4",
             tmp_path / "a b.mp4", tmp_path / "a_b.mp4", tmp_path / "x" / "..mp4", tmp_path / "y" / "..mp4"]
    names = unique_names(clips)
    assert set(names) == set(clips)
    assert len(set(names.values())) == len(clips)
    assert names[tmp_path / "c.mp4"] == "c"
    for name in names.values():
        assert (tmp_path / name).resolve().parent == tmp_path.resolve() and not name.startswith(".")
    assert unique_names(clips) == names  # stable between runs: resuming finds the same folders


def test_unique_names_distinct_ignoring_case(tmp_path: Path) -> None:
    names = unique_names([tmp_path / "a" / "Squat.mp4", tmp_path / "b" / "squat.mp4"])
    assert len({n.casefold() for n in names.values()}) == 2


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", ".", "/tmp/abs", "sub/../../escape", "x\x00y"])
def test_write_report_refuses_a_name_that_leaves_outdir(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    result = SimpleNamespace(clip=Path("clip.mp4"))  # refused before anything of the result is read
    with pytest.raises(ValueError):
        write_report(result, out, name=name)  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())  # refused before anything was made, the output folder included


# ------------------------------------------------------------------------------------------------ batch


@pytest.mark.slow
def test_batch_isolates_bad_clips(tmp_path: Path, short_clip: Path, make_clip) -> None:
    inbox = tmp_path / "in"
    bad = {case: make_bad(case, inbox, short_clip, make_clip) for case in BAD_REASONS}
    good = [Path(shutil.copy(short_clip, (inbox / sub).mkdir() or inbox / sub / "squat.mp4")) for sub in ("a", "b")]
    bad["missing"] = inbox / "gone.mp4"  # listed, but not there
    listing = tmp_path / "clips.txt"  # a list file, so the .png and the missing clip are passed too
    listing.write_text("# clips\n" + "".join(f"{p}\n" for p in [*good, *bad.values()]), encoding="utf-8")
    out = tmp_path / "out"
    res = run("batch", listing, "-o", out, "--jobs", "2")
    assert res.exit_code == 0, res.output  # some clips are fine: not a failed batch
    assert f"{len(good) + len(bad)} clips: 2 ok, 0 skipped, {len(bad)} failed" in res.stdout

    rows = summary_rows(out)
    assert set(rows) == {str(p) for p in [*good, *bad.values()]}
    for clip in good:
        row = rows[str(clip)]
        assert row["status"] == "ok" and row["reason"] == "", row
        assert int(row["reps_found"]) == REPS and row["verdict"]
        assert (out / row["report"] / "summary.json").is_file()
    assert rows[str(good[0])]["report"] != rows[str(good[1])]["report"]  # same stem, two folders
    failed_lines = [line for line in res.stderr.splitlines() if line.startswith("failed: ")]
    assert len(failed_lines) == len(bad)
    for case, clip in bad.items():
        row = rows[str(clip)]
        assert row["status"] == "failed", row
        reason = BAD_REASONS.get(case, r"file not found")
        assert str(clip) in row["reason"] and re.search(reason, row["reason"]), row["reason"]
        assert "internal error" not in row["reason"]
        assert f"failed: {row['reason']}" in failed_lines
        assert not (out / row["report"]).exists()

    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("<section") == len(rows)
    for clip in [*good, *bad.values()]:
        assert f"<h2>{clip.name}</h2>" in index
    assert index.count('class="failed"') >= len(bad) and index.count("/report.png") >= 2


@pytest.mark.slow
def test_batch_of_only_bad_clips_fails(tmp_path: Path, short_clip: Path, make_clip) -> None:
    inbox = tmp_path / "in"
    clip = make_bad("text", inbox, short_clip, make_clip)
    res = run("batch", inbox, "-o", tmp_path / "out", "--jobs", "1")
    assert res.exit_code == 1
    assert summary_rows(tmp_path / "out")[str(clip)]["status"] == "failed"


@pytest.mark.slow
def test_batch_resumes_and_redoes_half_written_reports(tmp_path: Path, one_rep_clip: Path, make_clip) -> None:
    """Five batches over three copies of a clip: what is resumed is the point, not the clip, so the session's
    one-rep clip (conftest) stands in for the two-rep one (8 analyses: about 40 % fewer frames each)."""
    inbox = tmp_path / "in"
    clips = []
    for sub in ("a", "b"):
        (inbox / sub).mkdir(parents=True)
        clips.append(Path(shutil.copy(one_rep_clip, inbox / sub / "squat.mp4")))
    clips.append(Path(shutil.copy(one_rep_clip, inbox / "c.mp4")))
    broken = make_bad("empty", inbox, one_rep_clip, make_clip)
    out = tmp_path / "out"

    def batch(*extra: str) -> dict[str, dict[str, str]]:
        res = run("batch", inbox, "-o", out, *extra)
        assert res.exit_code == 0, res.output
        assert (out / "index.html").read_text(encoding="utf-8").count("<section") == len(clips) + 1
        rows = summary_rows(out)
        assert set(rows) == {str(p) for p in [*clips, broken]}
        assert rows[str(broken)]["status"] == "failed"
        return rows

    first = batch("--jobs", "2")
    assert [first[str(c)]["status"] for c in clips] == ["ok"] * 3
    folders = {str(c): out / first[str(c)]["report"] for c in clips}
    assert len(set(folders.values())) == 3 and all(f.parent == out for f in folders.values())
    stamps = {c: (f / "summary.json").stat().st_mtime_ns for c, f in folders.items()}

    # Second run: finished clips are skipped (and keep their verdict), the failed one is tried again.
    second = batch("--jobs", "2")
    for c in clips:
        row = second[str(c)]
        assert row["status"] == "skipped" and "already done" in row["reason"]
        assert row["verdict"] == first[str(c)]["verdict"] and row["reps_found"] == first[str(c)]["reps_found"]
        assert (folders[str(c)] / "summary.json").stat().st_mtime_ns == stamps[str(c)]

    # Half-written reports: (a) a folder killed while being rewritten (its summary.json says so), (b) only a
    # leftover temporary folder.
    a, b, c = (str(p) for p in clips)
    files = json.loads((folders[a] / "summary.json").read_text())["report_files"]
    (folders[a] / "summary.json").write_text(json.dumps({"written_by": "buttwink", "status": "being written",
                                                         "report_files": files}))  # as a killed rewrite leaves it
    leftover = out / f".{folders[b].name}.bw999999999-a1b2c3.tmp"  # a killed run's (no such process)
    shutil.move(folders[b], leftover)
    third = batch("--jobs", "1")
    assert third[a]["status"] == "ok" and third[b]["status"] == "ok" and third[c]["status"] == "skipped"
    assert (folders[a] / "summary.json").is_file() and (folders[b] / "summary.json").is_file()
    assert (folders[c] / "summary.json").stat().st_mtime_ns == stamps[c]
    assert not leftover.exists()  # a killed run's temporary folder is removed

    # A folder without summary.json is not known to be buttwink's: it is left as it is, and said so.
    (folders[a] / "summary.json").unlink()
    kept = sorted(p.name for p in folders[a].iterdir())
    third = batch("--jobs", "1")
    assert third[a]["status"] == "failed" and "buttwink did not write" in third[a]["reason"]
    assert sorted(p.name for p in folders[a].iterdir()) == kept
    shutil.rmtree(folders[a])

    # --force redoes everything.
    fourth = batch("--jobs", "2", "--force")
    assert [fourth[str(p)]["status"] for p in clips] == ["ok"] * 3
    assert all((folders[str(p)] / "summary.json").stat().st_mtime_ns != stamps[str(p)] for p in clips)
    assert sorted(p.name for p in report_dirs(out)) == sorted(f.name for f in folders.values())


# ------------------------------------------------------------------------------------------------ people in view


@pytest.mark.slow
def test_two_people_in_view_are_reported(tmp_path: Path, make_clip, sample_clip: Path) -> None:
    """Two squatters side by side: the clip is analysed (the tracker follows one) with a warning."""
    other = ROOT / "sample_videos" / "no_wink" / "video.mp4"
    caps = [cv2.VideoCapture(str(sample_clip)), cv2.VideoCapture(str(other))]
    frames = []
    while True:
        reads = [cap.read() for cap in caps]
        if not all(ok for ok, _ in reads):
            break
        frames.append(cv2.cvtColor(np.hstack([bgr for _, bgr in reads]), cv2.COLOR_BGR2RGB))
    two = make_clip(tmp_path / "two.mp4", frames)
    res = run("analyze", two, "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "two" / "summary.json").read_text())
    assert any("2 people in view" in w for w in summary["warnings"])
    assert summary["reps_found"] == 3


@pytest.mark.slow
def test_one_person_gives_no_crowd_warning(tmp_path: Path, short_clip: Path) -> None:
    res = run("analyze", short_clip, "-o", tmp_path / "out")
    summary = json.loads(next((tmp_path / "out").glob("*/summary.json")).read_text())
    assert res.exit_code == 0 and not any("people in view" in w for w in summary["warnings"])


@pytest.mark.slow
def test_batch_rerun_ignores_its_own_output_inside_the_source(tmp_path: Path, short_clip: Path) -> None:
    inbox = tmp_path / "videos"
    inbox.mkdir()
    clip = Path(shutil.copy(short_clip, inbox / "squat.mp4"))
    out = inbox / "reports"
    res = run("batch", inbox, "-o", out, "--overlay", "--jobs", "1")
    assert res.exit_code == 0, res.output
    assert (out / "squat" / "overlay.mp4").is_file()
    res = run("batch", inbox, "-o", out, "--overlay", "--jobs", "1")
    assert res.exit_code == 0, res.output
    rows = summary_rows(out)
    assert set(rows) == {str(clip)} and rows[str(clip)]["status"] == "skipped"
