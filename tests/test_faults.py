"""The fault suite: one test per case of the guarantees issue, each on real files and, for batch control, on a
real batch in its own process group (kill -9, SIGTERM, SIGHUP, Ctrl-C).

What is promised (README, "What buttwink promises"): buttwink never deletes or overwrites what it did not
write, never writes to its input, stops when told and leaves its records behind, redoes a report when the clip
or the settings changed, checks settings and the output folder before any work, says when a video is damaged,
and gives one clear line per failure.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from buttwink.cli import app
from buttwink.csv_safety import escape_cell
from buttwink.report import MAX_NAME_BYTES, remove_stale_temporaries, safe_name
from buttwink.synth import CameraParams, SquatParams, render_clip

BUTTWINK = Path(sys.executable).with_name("buttwink")


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error:")]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its content hash: a snapshot to prove nothing changed."""
    return {str(p.relative_to(folder)): sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def summary_rows(out: Path) -> list[dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def clip(one_rep_clip: Path) -> Path:
    """A one-rep clip, about 3 s at 15 fps, 320x240 (conftest: rendered once per session)."""
    return one_rep_clip


@pytest.fixture(scope="module")
def landmarks(clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clip's landmarks file, so that many cases run without the pose stage."""
    from buttwink.pipeline import estimate_clip

    path = tmp_path_factory.mktemp("lm") / "lm.parquet"
    estimate_clip(clip).save(path)
    return path


# ------------------------------------------------------------------------------------- 1-3: data loss


@pytest.mark.parametrize("kind", ["folder", "file", "link"])
def test_1_a_users_folder_or_file_with_the_reports_name_is_never_touched(tmp_path: Path, clip: Path, kind: str,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "Documents"
    if kind == "folder":
        target.mkdir()
        (target / "thesis.txt").write_text("four years of work")
    elif kind == "file":
        target.write_text("four years of work")
    else:
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "thesis.txt").write_text("four years of work")
        target.symlink_to(tmp_path / "elsewhere")
    before = tree(tmp_path)
    video = Path(shutil.copy(clip, tmp_path / "Documents.mp4"))
    import buttwink.pipeline

    monkeypatch.setattr(buttwink.pipeline, "analyze", lambda *a, **k: pytest.fail("analysis ran before the check"))
    res = run("analyze", video, "-o", out)
    assert res.exit_code == 1
    [line] = error_lines(res.stderr)
    assert str(target) in line and "buttwink did not write" in line and "nothing was changed" in line
    assert {k: v for k, v in tree(tmp_path).items() if k != "Documents.mp4"} == before
    assert sorted(p.name for p in out.iterdir()) == ["Documents"]


def test_1_batch_refuses_a_users_folder_and_finishes_the_rest(tmp_path: Path, clip: Path) -> None:
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    (out / "Documents").mkdir(parents=True)
    (out / "Documents" / "thesis.txt").write_text("four years of work")
    shutil.copy(clip, inbox / "Documents.mp4")
    shutil.copy(clip, inbox / "squat.mp4")
    res = run("batch", inbox, "-o", out, "--jobs", "1")
    assert res.exit_code == 0, res.output
    rows = {Path(r["clip"]).name: r for r in summary_rows(out)}
    assert rows["Documents.mp4"]["status"] == "failed"
    assert "buttwink did not write" in rows["Documents.mp4"]["reason"]
    assert rows["squat.mp4"]["status"] == "ok"
    assert (out / "Documents" / "thesis.txt").read_text() == "four years of work"
    assert sorted(p.name for p in (out / "Documents").iterdir()) == ["thesis.txt"]


def test_2_the_input_is_never_replaced(tmp_path: Path, clip: Path, landmarks: Path) -> None:
    work = tmp_path / "d"
    work.mkdir()
    video = Path(shutil.copy(clip, work / "squat"))  # a video without an extension
    digest = sha(video)
    cwd = os.getcwd()
    os.chdir(work)
    try:
        res = run("analyze", "squat", "-o", ".")
    finally:
        os.chdir(cwd)
    assert res.exit_code == 1
    [line] = error_lines(res.stderr)
    assert "would replace the input itself" in line
    assert video.is_file() and sha(video) == digest

    # The landmarks file of a report, analysed into the folder that report would be rewritten to.
    out = tmp_path / "out"
    named = Path(shutil.copy(landmarks, tmp_path / "landmarks.parquet"))
    assert run("analyze", named, "--from-landmarks", "-o", out).exit_code == 0
    inside = out / "landmarks" / "landmarks.parquet"
    digest = sha(inside)
    res = run("analyze", inside, "--from-landmarks", "-o", out, "--threshold-deg", "12")
    assert res.exit_code == 0  # another input of that name: a report folder of its own, beside the first
    assert sha(inside) == digest
    assert len([p for p in out.iterdir() if p.name.startswith("landmarks-")]) == 1


def test_3_a_users_files_in_a_report_folder_are_kept(tmp_path: Path, landmarks: Path) -> None:
    out = tmp_path / "out"
    assert run("analyze", landmarks, "--from-landmarks", "-o", out).exit_code == 0
    folder = out / "lm"
    (folder / "my notes.txt").write_text("coach's notes")
    (folder / "client").mkdir()
    (folder / "client" / "consent.pdf").write_bytes(b"%PDF signed")
    res = run("analyze", landmarks, "--from-landmarks", "-o", out, "--threshold-deg", "12")
    assert res.exit_code == 0, res.output
    assert (folder / "my notes.txt").read_text() == "coach's notes"
    assert (folder / "client" / "consent.pdf").read_bytes() == b"%PDF signed"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["settings"]["wink_threshold_deg"] == 12.0
    assert "my notes.txt" not in summary["report_files"]

    # A user's file with the name of a report file the next run would write: refused, before any work.
    (folder / "overlay.mp4").write_bytes(b"the client's own video")
    res = run("analyze", landmarks, "--from-landmarks", "-o", out, "--overlay")
    assert res.exit_code == 1
    assert "a file buttwink did not write has the name of a report file" in error_lines(res.stderr)[0]
    assert (folder / "overlay.mp4").read_bytes() == b"the client's own video"
    assert json.loads((folder / "summary.json").read_text())["settings"]["wink_threshold_deg"] == 12.0


# ------------------------------------------------------------------------------------- 4-7: batch control


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _as_a_terminal_would() -> None:
    """In the child before ``exec``: Ctrl-C's default action, as a terminal's foreground job has it. A test run
    started in the background by a non-interactive shell inherits SIGINT ignored, and a Python program that
    starts with SIGINT ignored keeps ignoring it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_batch(inbox: Path, out: Path, log: Path, *extra: str) -> subprocess.Popen:
    """``buttwink batch`` in a new process group (as a terminal would run it), output to ``log``.*"""
    return subprocess.Popen([str(BUTTWINK), "batch", str(inbox), "-o", str(out), "--jobs", "2", *extra],
                            stdout=open(log.with_suffix(".out"), "w"), stderr=open(log.with_suffix(".err"), "w"),
                            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_as_a_terminal_would)


def wait_for(condition, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def worker_pids(main: int) -> set[int]:
    pids = set()
    for pid in descendants(main):
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.add(pid)
        except OSError:
            pass
    return pids


@pytest.fixture
def inbox(tmp_path: Path, clip: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(4):
        shutil.copy(clip, folder / f"clip{i}.mp4")
    return folder


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to follow the processes")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP], ids=["kill-9", "SIGTERM", "SIGHUP"])
def test_4_workers_die_with_the_batch(tmp_path: Path, inbox: Path, sig: signal.Signals) -> None:
    out = tmp_path / "out"
    proc = start_batch(inbox, out, tmp_path / "log")
    try:
        wait_for(lambda: len(worker_pids(proc.pid)) >= 2, 60, "two workers")
        time.sleep(2.0)  # the workers are analysing now
        everyone = descendants(proc.pid)
        sent = time.monotonic()
        os.kill(proc.pid, sig)  # the main process only, not its group
        proc.wait(timeout=30)
        wait_for(lambda: not any(alive(p) for p in everyone), 10, "the workers to exit")
        assert time.monotonic() - sent < 12
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in descendants(proc.pid):
            os.kill(pid, signal.SIGKILL)
    err = (tmp_path / "log.err").read_text()
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 128 + sig
        [line] = error_lines(err)
        assert f"batch stopped by {sig.name}" in line and "cancelled" in line
        rows = summary_rows(out)
        assert len(rows) == 4 and {r["status"] for r in rows} <= {"ok", "cancelled"}
        assert any(r["status"] == "cancelled" for r in rows)
        assert "cancelled" in (out / "index.html").read_text(encoding="utf-8")
    # A rerun at once has no worker to race with, and finishes every clip.
    res = run("batch", inbox, "-o", out, "--jobs", "2")
    assert res.exit_code == 0, res.output
    rows = summary_rows(out)
    assert len(rows) == 4 and {r["status"] for r in rows} <= {"ok", "skipped"}
    assert not [p.name for p in out.iterdir() if p.name.endswith((".tmp", ".old"))]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to follow the processes")
def test_5_ctrl_c_stops_the_batch_and_writes_what_finished(tmp_path: Path, inbox: Path) -> None:
    out = tmp_path / "out"
    proc = start_batch(inbox, out, tmp_path / "log")
    try:
        wait_for(lambda: (out / "summary.csv").exists(), 90, "the first finished clip")
        everyone = descendants(proc.pid)
        sent = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
        proc.wait(timeout=30)
        stopped_in = time.monotonic() - sent
        wait_for(lambda: not any(alive(p) for p in everyone), 10, "the workers to exit")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert stopped_in < 10, stopped_in
    assert proc.returncode == 130
    err = (tmp_path / "log.err").read_text()
    [line] = error_lines(err)
    assert "batch stopped by Ctrl-C" in line and "summary.csv" in line
    assert "Traceback" not in err
    rows = summary_rows(out)
    statuses = [r["status"] for r in rows]
    assert len(rows) == 4 and "ok" in statuses and "cancelled" in statuses and set(statuses) <= {"ok", "cancelled"}
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("<section") == 4 and "cancelled" in index
    for row in rows:
        assert (out / row["report"] / "summary.json").is_file() == (row["status"] == "ok")


def test_a_report_renamed_into_place_as_the_batch_stops_counts_as_done(tmp_path: Path) -> None:
    """The race behind a stopped batch: a worker finished a clip's report, but its row had not reached the main
    process. That clip is done (its report is complete, for this clip and these settings, written since the
    batch began); anything else is cancelled."""
    from buttwink.batch import ClipJob, finished_during
    from buttwink.settings import Settings

    clip = tmp_path / "squat.mp4"
    clip.write_bytes(b"not read")
    settings = Settings().to_dict()
    job = ClipJob(str(clip), str(tmp_path / "out"), "squat", settings)
    folder = tmp_path / "out" / "squat"
    folder.mkdir(parents=True)
    since = time.time() - 1.0
    summary = {"written_by": "buttwink", "status": "ok", "settings": settings, "clip_path": str(clip.resolve()),
               "reps_found": 2, "verdict": "no butt wink in 2 assessed rep(s)"}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert finished_during(job, since) == summary
    assert finished_during(job, time.time() + 60) is None  # written before the batch began: not this batch's
    other = ClipJob(str(tmp_path / "elsewhere" / "squat.mp4"), job.outdir, job.name, settings)
    assert finished_during(other, since) is None  # another input's report of the same name
    changed = ClipJob(job.clip, job.outdir, job.name, {**settings, "wink_threshold_deg": 12.0})
    assert finished_during(changed, since) is None
    (folder / "summary.json").write_text(json.dumps({**summary, "status": "being written"}), encoding="utf-8")
    assert finished_during(job, since) is None  # a rewrite cut short is not done


def test_6_a_rerun_redoes_clips_whose_settings_content_or_overlay_changed(tmp_path: Path, clip: Path,
                                                                          ffmpeg: str) -> None:
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    video = Path(shutil.copy(clip, inbox / "squat.mp4"))

    def batch(*extra: object) -> dict[str, str]:
        res = run("batch", inbox, "-o", out, "--jobs", "1", *extra)
        assert res.exit_code == 0, res.output
        [row] = summary_rows(out)
        return row

    assert batch()["status"] == "ok"
    assert batch()["status"] == "skipped"
    row = batch("--threshold-deg", "12")
    assert row["status"] == "ok" and "settings changed" in row["reason"] and "wink_threshold_deg" in row["reason"]
    summary = json.loads((out / "squat" / "summary.json").read_text())
    assert summary["settings"]["wink_threshold_deg"] == 12.0
    assert batch("--threshold-deg", "12")["status"] == "skipped"
    row = batch("--threshold-deg", "12", "--overlay")
    assert row["status"] == "ok" and "overlay" in row["reason"]
    assert (out / "squat" / "overlay.mp4").is_file()
    # The same name, other content (re-encoded): redone.
    other = tmp_path / "other.mp4"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-i", str(clip), "-c:v", "mpeg4", "-q:v", "9", str(other)],
                   check=True)
    shutil.copy(other, video)
    row = batch("--threshold-deg", "12", "--overlay")
    assert row["status"] == "ok" and "content changed" in row["reason"]
    assert json.loads((out / "squat" / "summary.json").read_text())["video"]["sha256"] == sha(video)


def test_7_stale_temporaries_of_a_killed_run_are_removed(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process id that no longer runs
    stale = out / f".clip3.bw{dead.pid}-a1b2c3.tmp"
    stale.mkdir()
    (stale / "frames.csv").write_text("t\n1\n")
    (stale / ".keypoints.trc.x1y2.tmp").write_text("partial")
    unknown = out / ".clip4.ab12cd34.tmp"  # not a name this version gives: maybe a user's, kept
    unknown.mkdir()
    (unknown / "landmarks.parquet").write_bytes(b"PAR1")
    partial_csv = out / f".summary.csv.{dead.pid}.k2j3m4n5.tmp"
    partial_csv.write_text("clip,report\n")
    running = out / f".clip5.bw{os.getpid()}-d4e5f6.tmp"  # a live process's: kept
    running.mkdir()
    not_ours = out / f".clip6.bw{dead.pid}-0a0b0c.tmp"  # holds a user's file: kept
    not_ours.mkdir()
    (not_ours / "thesis.txt").write_text("mine")
    removed = remove_stale_temporaries(out)
    assert sorted(p.name for p in removed) == sorted(p.name for p in (stale, partial_csv))
    assert running.is_dir() and (not_ours / "thesis.txt").read_text() == "mine" and unknown.is_dir()
    # And a rerun does it by itself.
    again = out / f".clip7.bw{dead.pid}-abcdef.tmp"
    again.mkdir()
    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(clip, inbox / "squat.mp4")
    assert run("batch", inbox, "-o", out, "--jobs", "1").exit_code == 0
    assert not again.exists() and running.exists()


# ------------------------------------------------------------------------------------- 8: damaged video


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess, Path]:
    """A clip with 20 KB overwritten in the middle, analysed by the real command: (clip, run, report)."""
    folder = tmp_path_factory.mktemp("damaged")
    squat = SquatParams(reps=2, stand_s=0.5, descent_s=1.0, ascent_s=0.8, depth_deg=-20.0, wink_deg=15.0,
                        onset_depth_deg=0.0)
    render_clip(folder, squat, CameraParams(width=320, height=240, fps=30.0), seed=5)
    data = bytearray((folder / "video.mp4").read_bytes())
    middle = len(data) // 2
    data[middle:middle + 20_000] = np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    bad = folder / "damaged.mp4"
    bad.write_bytes(bytes(data))
    proc = subprocess.run([str(BUTTWINK), "analyze", str(bad), "-o", str(folder / "out")], capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    return bad, proc, folder / "out" / "damaged"


def ffmpeg_frame_count(ffmpeg: str, clip: Path) -> int:
    proc = subprocess.run([ffmpeg, "-nostats", "-i", str(clip), "-map", "0:v", "-f", "null", "-"],
                          capture_output=True, text=True)
    return int(re.findall(r"frame=\s*(\d+)", proc.stderr)[-1])


def test_8_a_video_damaged_in_the_middle_is_decoded_past_the_damage_and_flagged(damaged, ffmpeg: str) -> None:
    bad, proc, report = damaged
    cap = cv2.VideoCapture(str(bad))
    expected = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    opencv = 0
    while cap.read()[0]:
        opencv += 1
    assert opencv < 0.75 * expected, "the damage must stop OpenCV early for this test to mean anything"
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((report / "summary.json").read_text())
    video = summary["video"]
    assert video["frames_expected"] == expected
    assert video["frames_decoded"] >= ffmpeg_frame_count(ffmpeg, bad) - 3  # as many as FFmpeg itself decodes
    assert video["opencv_stopped_at_frame"] == opencv and video["frames_recovered_with_pyav"] > 0
    assert video["frames_lost"] == expected - video["frames_decoded"]
    if video["frames_lost"] > 3:
        assert any("decoding lost" in w for w in summary["warnings"])
    assert video["decode_warning"] and video["decode_warning"] in summary["warnings"]
    times = pd.read_csv(report / "frames.csv")["time_s"].to_numpy()
    assert np.all(np.diff(times) > 0) and times[-1] > 0.9 * expected / 30.0  # the clip's end is reached
    assert summary["reps_found"] == 2


# ------------------------------------------------------------------------------------- 9: settings


BAD_SETTINGS = [
    (["--threshold-deg", "nan"], "--threshold-deg must be between"),
    (["--threshold-deg", "-3"], "--threshold-deg must be between"),
    (["--max-height", "-10"], "--max-height must be between"),
    (["--cutoff-hz", "0"], "--cutoff-hz must be between"),
    (["--cutoff-hz", "100"], "--cutoff-hz must be between"),
    (["--cutoff-hz", "inf"], "--cutoff-hz must be between"),
]
BAD_TOML = [
    ("wink_threshold_deg = nan\n", "setting wink_threshold_deg must be between"),
    ("cutoff_hz = -1.0\n", "setting cutoff_hz must be between"),
    ("max_height_px = 720.5\n", "setting max_height_px must be a whole number"),
    ("pool_onsets = 1\n", "setting pool_onsets must be true or false"),
    ("max_height_px = true\n", "setting max_height_px must be a whole number"),
    ("model_variant = 'huge'\n", "setting model_variant must be one of"),
    ("cutoff_hz = = 4\n", "not valid TOML"),
    ("[analysis]\ncutoff_hz 4\n", "not valid TOML"),
]


@pytest.mark.parametrize(("flags", "message"), BAD_SETTINGS, ids=[" ".join(f) for f, _ in BAD_SETTINGS])
@pytest.mark.parametrize("command", ["analyze", "batch"])
def test_9_bad_flag_values_are_refused_before_any_work(tmp_path: Path, clip: Path, command: str, flags: list[str],
                                                       message: str) -> None:
    res = run(command, clip.parent if command == "batch" else clip, "-o", tmp_path / "out", *flags)
    assert res.exit_code == 2
    [line] = error_lines(res.stderr)
    assert message in line and flags[1] in line, line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("text", "message"), BAD_TOML)
def test_9_bad_settings_files_name_the_file_and_the_setting(tmp_path: Path, clip: Path, text: str,
                                                            message: str) -> None:
    config = tmp_path / "my settings.toml"
    config.write_text(text)
    res = run("analyze", clip, "-o", tmp_path / "out", "--config", config)
    assert res.exit_code == 2
    [line] = error_lines(res.stderr)
    assert str(config) in line and message in line, line


@pytest.mark.parametrize("jobs", ["0", "-2", "100000"])
def test_9_jobs_out_of_range(tmp_path: Path, clip: Path, jobs: str) -> None:
    res = run("batch", clip.parent, "-o", tmp_path / "out", "--jobs", jobs)
    assert res.exit_code == 2
    assert f"--jobs must be between 1 and 256 (got {jobs})" in error_lines(res.stderr)[0]


def test_9_summary_json_is_strict_json(tmp_path: Path, landmarks: Path) -> None:
    res = run("analyze", landmarks, "--from-landmarks", "-o", tmp_path / "out")
    assert res.exit_code == 0
    text = (tmp_path / "out" / "lm" / "summary.json").read_text()

    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    json.loads(text, parse_constant=refuse)  # NaN, Infinity are not JSON


# ------------------------------------------------------------------------------------- 10: wrong landmarks


def test_10_wrong_landmarks_files_get_one_line_each_and_the_rest_go_on(tmp_path: Path, clip: Path,
                                                                       landmarks: Path) -> None:
    no_time = tmp_path / "no_time.csv"
    pd.DataFrame({"frame": [0, 1], "x": [1.0, 2.0]}).to_csv(no_time, index=False)
    table = pd.read_parquet(landmarks).drop(columns=["left_hip_visibility"])
    no_visibility = tmp_path / "no_visibility.parquet"
    table.to_parquet(no_visibility)
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\x00\xff\xfe binary \x00")
    good = Path(shutil.copy(landmarks, tmp_path / "good.parquet"))
    bad = {no_time: "missing column", no_visibility: "missing column(s) left_hip_visibility", clip: "not a landmarks",
           garbage: "not a landmarks"}
    res = run("analyze", *bad, good, "--from-landmarks", "-o", tmp_path / "out")
    assert res.exit_code == 1
    assert "Traceback" not in res.output and (res.exception is None or isinstance(res.exception, SystemExit))
    lines = error_lines(res.stderr)
    assert len(lines) == len(bad)
    for path, reason in bad.items():
        [line] = [entry for entry in lines if entry.startswith(f"error: {path}: ")]
        assert reason in line and "internal error" not in line, line
    assert (tmp_path / "out" / "good" / "summary.json").is_file()


# ------------------------------------------------------------------------------------- 11: output folder


def test_11_output_folder_problems_are_found_before_any_analysis(tmp_path: Path, clip: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil as shutil_module

    import buttwink.pipeline

    monkeypatch.setattr(buttwink.pipeline, "analyze", lambda *a, **k: pytest.fail("analysis ran before the check"))
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    for command in ("analyze", "batch"):
        res = run(command, clip if command == "analyze" else clip.parent, "-o", blocker)
        assert res.exit_code == 2
        [line] = error_lines(res.stderr)
        assert line == f"error: {blocker}: exists and is not a folder (the output must be a folder)"
        assert blocker.read_text() == "not a folder"
    under_file = blocker / "sub"
    res = run("analyze", clip, "-o", under_file)
    assert res.exit_code == 2 and f"{under_file}: cannot create the output folder" in error_lines(res.stderr)[0]

    real_usage = shutil_module.disk_usage
    monkeypatch.setattr(shutil_module, "disk_usage",
                        lambda p: real_usage(p)._replace(free=3 * 1024**2))  # a nearly full disk
    res = run("analyze", clip, "-o", tmp_path / "full")
    assert res.exit_code == 2
    assert f"{tmp_path / 'full'}: only 3 MB free; a report needs about" in error_lines(res.stderr)[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only (0500) folder")
def test_11_read_only_output_folder(tmp_path: Path, clip: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        res = run("analyze", clip, "-o", locked)
        assert res.exit_code == 2 and "output folder is not writable" in error_lines(res.stderr)[0]
    finally:
        locked.chmod(0o700)


# ------------------------------------------------------------------------------------- 12: unclear errors


def test_12_batch_given_a_video_names_it_and_asks_for_a_folder(tmp_path: Path, clip: Path) -> None:
    renamed = Path(shutil.copy(clip, tmp_path / "video.txt"))  # binary content, not a list
    for source in (clip, renamed):
        res = run("batch", source, "-o", tmp_path / "out")
        assert res.exit_code == 2
        [line] = error_lines(res.stderr)
        assert str(source) in line and "folder of videos or a text file listing" in line, line
        assert "codec" not in line


def test_12_devices_fifos_and_audio_only_files_get_their_own_reason(tmp_path: Path, ffmpeg: str) -> None:
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    audio = tmp_path / "voice.mp4"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                    "-c:a", "aac", str(audio)], check=True)
    cases = {Path("/dev/zero"): "not a regular file (a character device)",
             fifo: "not a regular file (a FIFO (named pipe))", audio: "no video stream (audio only)"}
    res = run("analyze", *cases, "-o", tmp_path / "out")
    assert res.exit_code == 1
    lines = error_lines(res.stderr)
    assert len(lines) == len(cases)
    for path, reason in cases.items():
        assert any(line.startswith(f"error: {path}: ") and reason in line for line in lines), (reason, lines)


def test_12_a_low_frame_rate_is_named(tmp_path: Path, clip: Path, ffmpeg: str) -> None:
    slow = tmp_path / "five_fps.mp4"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-i", str(clip), "-r", "5", "-c:v", "mpeg4", "-q:v", "3",
                    str(slow)], check=True)
    res = run("analyze", slow, "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "five_fps" / "summary.json").read_text())
    assert any("low frame rate (5.0 fps)" in w for w in summary["warnings"]), summary["warnings"]
    reps = pd.read_csv(tmp_path / "out" / "five_fps" / "reps.csv")
    short = reps[reps["reason"].astype(str).str.startswith("descent too short")]
    assert short["reason"].str.contains(r"frames at 5\.0 fps").all()


# ------------------------------------------------------------------------------------- 13-14: names and cells


def test_13_long_names_in_cjk_scripts_are_cut_in_bytes(tmp_path: Path, landmarks: Path) -> None:
    name = "深蹲测试" * 20  # 80 characters, 240 bytes: a valid file name, but 2.4x the folder limit in bytes
    source = Path(shutil.copy(landmarks, tmp_path / f"{name}.parquet"))
    res = run("analyze", source, "--from-landmarks", "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    [folder] = [p for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")]
    assert len(folder.name.encode()) <= MAX_NAME_BYTES and name.startswith(folder.name)
    assert (folder / "summary.json").is_file()
    assert len(safe_name("ü" * 300).encode()) <= MAX_NAME_BYTES  # never a half character either
    safe_name("ü" * 300).encode().decode("utf-8")


@pytest.mark.parametrize("value", ["=HYPERLINK(\"x\")", "+1+cmd", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1",
                                   "\r=1"])
def test_14_formula_cells_are_escaped(value: str) -> None:
    assert escape_cell(value) == "'" + value
    for harmless in ("-12.5", "squat.mp4", "", "1e3", 3.5, -2):
        assert escape_cell(harmless) == harmless


def test_14_no_cell_of_summary_csv_runs_as_a_formula(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    names = ["=HYPERLINK(1+1).mp4", "+SUM(1).mp4", "@cmd.mp4", "-x.mp4"]
    for name in names:
        (inbox / name).write_text("not a video")
    cwd = os.getcwd()
    os.chdir(inbox)
    try:
        res = run("batch", ".", "-o", tmp_path / "out", "--jobs", "1")
    finally:
        os.chdir(cwd)
    assert res.exit_code == 1  # every clip failed
    with open(tmp_path / "out" / "summary.csv", newline="", encoding="utf-8") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert sum(cell.startswith("'=HYPERLINK") for cell in cells) == 2  # clip and reason
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]


# ------------------------------------------------------------------------------------- 15: native log lines


def test_15_native_log_lines_stay_off_the_terminal(damaged) -> None:
    """FFmpeg's complaints about the damaged frames and MediaPipe's ``W0000`` lines are not shown."""
    _, proc, _ = damaged
    assert proc.returncode == 0
    native = [line for line in proc.stderr.splitlines()
              if re.match(r"^[IWEF]\d{4} ", line) or re.match(r"^\[\w+ @ 0x", line) or "TfLite" in line]
    assert not native, native
    assert proc.stderr.count("\n") <= 2, proc.stderr  # "using pose model ..." and nothing else


# ------------------------------------------------------------------------------------- a second round
# Found by a second round of bad inputs after the first fixes: each failed before its fix.


def test_r2_a_hand_edited_file_list_never_deletes_anything_outside_the_report(tmp_path: Path,
                                                                                landmarks: Path) -> None:
    out = tmp_path / "out"
    assert run("analyze", landmarks, "--from-landmarks", "-o", out).exit_code == 0
    folder = out / "lm"
    victim = tmp_path / "v" / "t.txt"
    victim.parent.mkdir()
    victim.write_text("mine")
    (folder / "notes.txt").write_text("mine too")
    summary = json.loads((folder / "summary.json").read_text())
    summary["report_files"] += ["../../v/t.txt", str(victim), "notes.txt"]
    (folder / "summary.json").write_text(json.dumps(summary))
    assert run("analyze", landmarks, "--from-landmarks", "-o", out, "--threshold-deg", "9").exit_code == 0
    assert victim.read_text() == "mine" and (folder / "notes.txt").read_text() == "mine too"


def test_r2_a_users_hidden_folder_named_like_a_temporary_is_kept(tmp_path: Path, landmarks: Path) -> None:
    out = tmp_path / "out"
    mine = out / ".my.projects.tmp"
    (mine / "report.png").mkdir(parents=True)
    (mine / "report.png" / "thesis.txt").write_text("mine")
    empty = out / ".holiday.12345678.old"
    empty.mkdir()
    assert run("analyze", landmarks, "--from-landmarks", "-o", out).exit_code == 0
    assert (mine / "report.png" / "thesis.txt").read_text() == "mine" and empty.is_dir()


def test_r2_a_users_summary_csv_and_index_html_are_never_overwritten(tmp_path: Path, clip: Path) -> None:
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    shutil.copy(clip, inbox / "squat.mp4")
    out.mkdir()
    for name in ("summary.csv", "index.html"):
        (out / name).write_text(f"my own {name}")
        res = run("batch", inbox, "-o", out, "--jobs", "1")
        assert res.exit_code != 0
        assert f"{out / name}: a file buttwink did not write" in error_lines(res.stderr)[0]
        assert (out / name).read_text() == f"my own {name}"
        (out / name).unlink()


@pytest.mark.parametrize("link", ["symbolic", "hard"])
def test_r2_the_batch_lock_never_follows_a_link(tmp_path: Path, clip: Path, link: str) -> None:
    """A lock file that is a symbolic or a hard link to a user's file is refused; the file is not truncated."""
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    shutil.copy(clip, inbox / "squat.mp4")
    out.mkdir()
    precious = tmp_path / "precious.txt"
    precious.write_text("do not truncate")
    lock = out / ".buttwink-batch.lock"
    if link == "symbolic":
        lock.symlink_to(precious)
    else:
        os.link(precious, lock)
    res = run("batch", inbox, "-o", out, "--jobs", "1")
    assert res.exit_code != 0
    line = error_lines(res.stderr)[0]
    assert "not buttwink's lock file" in line and "hard link" in line
    assert precious.read_text() == "do not truncate"


def test_r2_pose_never_overwrites_its_input_or_a_stranger(tmp_path: Path, clip: Path) -> None:
    video = Path(shutil.copy(clip, tmp_path / "v.mp4"))
    digest = sha(video)
    for target in (video, tmp_path / "notes.parquet", tmp_path / "folder.parquet"):
        if target.name == "notes.parquet":
            target.write_text("my notes")
        if target.name == "folder.parquet":
            target.mkdir()
        res = run("pose", video, "-o", target)
        assert res.exit_code == 2, res.output
        assert "nothing was changed" in error_lines(res.stderr)[0] or "must end in" in error_lines(res.stderr)[0]
    assert sha(video) == digest and (tmp_path / "notes.parquet").read_text() == "my notes"
    res = run("pose", video, "-o", tmp_path / "x.parquet", "--max-height", "-10")
    assert res.exit_code == 2 and "--max-height must be between" in error_lines(res.stderr)[0]


def test_r2_synth_never_overwrites_a_users_files(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "video.mp4").write_text("wedding video")
    res = run("synth", folder, "--reps", "1", "--width", "160", "--height", "120")
    assert res.exit_code == 2 and "a render did not write" in error_lines(res.stderr)[0]
    assert (folder / "video.mp4").read_text() == "wedding video"
    afile = tmp_path / "afile"
    afile.write_text("x")
    res = run("synth", afile)
    assert res.exit_code == 2 and "exists and is not a folder" in error_lines(res.stderr)[0]
    res = run("synth", tmp_path / "new", "--fps", "nan")
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_r2_a_clip_from_elsewhere_with_the_same_name_gets_its_own_report(tmp_path: Path, landmarks: Path) -> None:
    out = tmp_path / "out"
    first = tmp_path / "a" / "lm.parquet"
    second = tmp_path / "b" / "lm.parquet"
    for path in (first, second):
        path.parent.mkdir()
        shutil.copy(landmarks, path)
    assert run("analyze", first, "--from-landmarks", "-o", out).exit_code == 0
    stamp = (out / "lm" / "summary.json").read_text()
    assert run("analyze", second, "--from-landmarks", "-o", out).exit_code == 0
    assert (out / "lm" / "summary.json").read_text() == stamp  # the first clip's report is untouched
    others = [p for p in out.iterdir() if p.name.startswith("lm-")]
    assert len(others) == 1 and json.loads((others[0] / "summary.json").read_text())["clip_path"] == str(
        second.resolve())


def test_r2_names_that_are_not_utf8_neither_crash_nor_stop_a_batch(tmp_path: Path, clip: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    odd = Path(os.fsdecode(os.path.join(os.fsencode(inbox), b"bad\xff.mp4")))
    shutil.copy(clip, odd)
    proc = subprocess.run([str(BUTTWINK), "analyze", str(odd), "-o", str(tmp_path / "one")], capture_output=True,
                          text=True, errors="replace", timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr  # was a segmentation fault in OpenCV
    (inbox / "summary.csv.mp4").write_bytes(clip.read_bytes())  # a clip named like the batch's own files
    res = run("batch", inbox, "-o", tmp_path / "out", "--jobs", "1")
    assert res.exit_code == 0, res.output
    rows = summary_rows(tmp_path / "out")
    assert len(rows) == 2 and all(r["status"] == "ok" for r in rows)
    assert (tmp_path / "out" / "summary.csv").is_file() and (tmp_path / "out" / "summary.csv_clip").is_dir()


def test_r2_batch_into_its_own_source_folder_finds_the_clips(tmp_path: Path, clip: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(clip, videos / "squat.mp4")
    assert run("batch", videos, "-o", videos, "--jobs", "1").exit_code == 0
    res = run("batch", videos, "-o", videos, "--jobs", "1", "--overlay")
    assert res.exit_code == 0, res.output
    assert [r["clip"] for r in summary_rows(videos)] == [str(videos / "squat.mp4")]  # not its own overlay.mp4


def test_r2_a_report_missing_files_is_redone_not_skipped(tmp_path: Path, clip: Path) -> None:
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    shutil.copy(clip, inbox / "squat.mp4")
    assert run("batch", inbox, "-o", out, "--jobs", "1").exit_code == 0
    (out / "squat" / "report.png").unlink()
    assert run("batch", inbox, "-o", out, "--jobs", "1").exit_code == 0
    [row] = summary_rows(out)
    assert row["status"] == "ok" and "report.png" in row["reason"] and (out / "squat" / "report.png").is_file()


@pytest.mark.parametrize(("text", "message"), [
    ("a = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ("wink_threshold_deg = 30\n[analysis]\ncutoff_hz = 3\n", "both at the top level"),
])
def test_r2_odd_settings_files(tmp_path: Path, landmarks: Path, text: str, message: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(text)
    res = run("analyze", landmarks, "--from-landmarks", "-o", tmp_path / "o", "--config", config)
    assert res.exit_code == 2 and message in error_lines(res.stderr)[0]


def test_r2_landmarks_with_bad_metadata_get_a_reason(tmp_path: Path, landmarks: Path) -> None:
    table = pd.read_parquet(landmarks)
    bad = tmp_path / "x.csv"
    table.to_csv(bad, index=False)
    (tmp_path / "x.csv.json").write_text('{"video": 5}')
    no_sidecar = tmp_path / "y.csv"
    table.to_csv(no_sidecar, index=False)
    res = run("analyze", bad, no_sidecar, "--from-landmarks", "-o", tmp_path / "o")
    lines = error_lines(res.stderr)
    assert res.exit_code == 1 and len(lines) == 2 and "Traceback" not in res.output
    assert "video or model entry is not a JSON object" in lines[0]
    assert ".csv.json" in lines[1] and "missing" in lines[1]


def test_r2_repeated_frames_are_not_a_jumping_back_edge(tmp_path: Path, clip: Path, ffmpeg: str) -> None:
    """The clip at 4x its frame rate by repeating frames: the back edge moves in one frame of four, which is no
    jump over 1/30 s."""
    fast = tmp_path / "fast.mp4"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-i", str(clip), "-vf", "fps=60", "-c:v", "mpeg4", "-q:v",
                    "3", str(fast)], check=True)
    res = run("analyze", fast, "-o", tmp_path / "o")
    assert res.exit_code == 0, res.output
    reps = pd.read_csv(tmp_path / "o" / "fast" / "reps.csv")
    assert not reps["reason"].astype(str).str.contains("back edge jumps").any()


def test_r3_a_report_without_a_file_list_claims_no_users_file(tmp_path: Path, landmarks: Path) -> None:
    out = tmp_path / "out"
    assert run("analyze", landmarks, "--from-landmarks", "-o", out).exit_code == 0
    folder = out / "lm"
    (folder / "summary.json").write_text(json.dumps({"written_by": "buttwink", "status": "being written"}))
    (folder / "overlay.mp4").write_text("the client's own video")
    res = run("analyze", landmarks, "--from-landmarks", "-o", out)
    assert res.exit_code == 1 and "buttwink did not write" in error_lines(res.stderr)[0]
    assert (folder / "overlay.mp4").read_text() == "the client's own video"


def test_r3_a_list_file_with_a_nul_byte_and_a_bom_settings_file(tmp_path: Path, landmarks: Path) -> None:
    listing = tmp_path / "l.txt"
    listing.write_text("x/a\0b.mp4\ny/a\0b.mp4\n")
    res = run("batch", listing, "-o", tmp_path / "o")
    assert res.exit_code == 2 and "NUL byte" in error_lines(res.stderr)[0]
    config = tmp_path / "c.toml"
    config.write_bytes("\ufeffwink_threshold_deg = 9.0\n".encode())
    res = run("analyze", landmarks, "--from-landmarks", "-o", tmp_path / "o2", "--config", config)
    assert res.exit_code == 0, res.output


def test_r3_a_clip_overwritten_while_it_is_analysed_is_refused(tmp_path: Path, clip: Path, ffmpeg: str) -> None:
    """Its report would mix two videos and record the new file's hash, so a rerun would skip it."""
    from buttwink.pipeline import estimate_clip
    from buttwink.video import VideoError

    video = Path(shutil.copy(clip, tmp_path / "v.mp4"))
    other = tmp_path / "other.mp4"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-i", str(clip), "-c:v", "mpeg4", "-q:v", "9", str(other)],
                   check=True)

    def overwrite(done: int, total: int) -> None:
        if done == 10:
            shutil.copy(other, video)

    with pytest.raises(VideoError, match="changed while it was being analysed"):
        estimate_clip(video, progress=overwrite)
