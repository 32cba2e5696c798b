"""`buttwink analyze` and `buttwink batch` against bad input: one-line errors naming the clip, non-zero
exits for a single bad input, failed rows in a batch while the other clips finish, nothing half-written."""

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from buttwink.cli import app
from buttwink.report import safe_name, unique_names

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "videos"


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


@pytest.fixture(scope="module")
def good_clip(tmp_path_factory: pytest.TempPathFactory, sample_clip: Path) -> Path:
    folder = tmp_path_factory.mktemp("good")
    return Path(shutil.copy(sample_clip, folder / "good squat.mp4"))


def _bad_files(folder: Path, good: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {"empty": folder / "empty.mp4", "text": folder / "notes.mp4", "truncated": folder / "truncated.mp4",
             "image": folder / "photo.png"}
    files["empty"].write_bytes(b"")
    files["text"].write_text("not a video\n" * 100)
    files["truncated"].write_bytes(good.read_bytes()[:4096])
    cv2.imwrite(str(files["image"]), np.full((120, 160, 3), 90, np.uint8))
    return files


@pytest.mark.parametrize("case", ["empty", "text", "truncated", "image"])
def test_analyze_bad_file_one_line_error(tmp_path: Path, good_clip: Path, case: str) -> None:
    clip = _bad_files(tmp_path / "in", good_clip)[case]
    res = run("analyze", clip, "-o", tmp_path / "out")
    assert res.exit_code == 1
    lines = error_lines(res)
    assert len(lines) == 1 and str(clip) in lines[0]
    assert not any((tmp_path / "out").glob("*/summary.json"))


def test_analyze_no_person_and_too_short(tmp_path: Path, make_clip, good_clip: Path) -> None:
    rng = np.random.default_rng(1)
    nobody = make_clip(tmp_path / "nobody.mp4", [rng.integers(0, 255, (240, 320, 3), np.uint8) for _ in range(75)])
    res = run("analyze", nobody, "-o", tmp_path / "out")
    assert res.exit_code == 1 and "no person found" in error_lines(res)[0]
    cap = cv2.VideoCapture(str(good_clip))
    frames = [cv2.cvtColor(cap.read()[1], cv2.COLOR_BGR2RGB) for _ in range(30)]
    short = make_clip(tmp_path / "one_second.mp4", frames)
    res = run("analyze", short, "-o", tmp_path / "out")
    assert res.exit_code == 1 and "too short" in error_lines(res)[0] and str(short) in error_lines(res)[0]


def test_analyze_non_ascii_path_with_spaces(tmp_path: Path, good_clip: Path) -> None:
    folder = tmp_path / "Übung mit Leerzeichen"
    folder.mkdir()
    clip = Path(shutil.copy(good_clip, folder / "sq ü 1.mp4"))
    out = tmp_path / "out put"
    res = run("analyze", clip, "-o", out)
    assert res.exit_code == 0, res.output
    reports = list(out.iterdir())
    assert [p.name for p in reports] == ["sq_ü_1"]
    summary = json.loads((reports[0] / "summary.json").read_text())
    assert summary["clip"] == str(clip) and summary["reps_found"] == 3
    assert {"report.png", "frames.csv", "reps.csv", "summary.json", "landmarks.parquet"} <= {
        p.name for p in reports[0].iterdir()}


def test_rotated_phone_video_is_analysed_upright(tmp_path: Path, good_clip: Path, ffmpeg: str, make_clip) -> None:
    cap = cv2.VideoCapture(str(good_clip))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(cv2.rotate(bgr, cv2.ROTATE_90_CLOCKWISE), cv2.COLOR_BGR2RGB))
    stored = make_clip(tmp_path / "stored_sideways.mp4", frames)
    phone = tmp_path / "phone.mp4"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-display_rotation", "90", "-i", str(stored), "-c", "copy",
                    str(phone)], check=True)
    res = run("analyze", phone, "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "phone" / "summary.json").read_text())
    assert summary["video"]["rotation_deg"] == 270
    assert (summary["video"]["width"], summary["video"]["height"]) == (480, 360)
    assert summary["reps_found"] == 3


def test_huge_resolution_is_downscaled(tmp_path: Path, good_clip: Path, make_clip) -> None:
    cap = cv2.VideoCapture(str(good_clip))
    frames = [cv2.resize(cv2.cvtColor(cap.read()[1], cv2.COLOR_BGR2RGB), (2880, 2160)) for _ in range(75)]
    huge = make_clip(tmp_path / "huge.mp4", frames)
    del frames
    res = run("analyze", huge, "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "huge" / "summary.json").read_text())
    assert summary["video"]["source_height"] == 2160 and summary["video"]["height"] == 720


@pytest.mark.skipif(SHARED.is_dir() is False, reason="../shared/videos not present")
def test_front_view_is_refused(tmp_path: Path) -> None:
    res = run("analyze", SHARED / "front_view_3reps.mp4", "-o", tmp_path / "out")
    assert res.exit_code == 1 and "not a side view" in error_lines(res)[0]


def test_unwritable_output_dir(tmp_path: Path, good_clip: Path) -> None:
    out = tmp_path / "locked"
    out.mkdir()
    out.chmod(0o500)
    try:
        if os.access(out, os.W_OK):
            pytest.skip("running as root: permissions do not block writes")
        res = run("analyze", good_clip, "-o", out / "sub")
        assert res.exit_code == 1 and str(good_clip) in error_lines(res)[0]
    finally:
        out.chmod(0o700)


def test_output_dir_that_is_a_file(tmp_path: Path, good_clip: Path) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("a file where the output folder should be")
    res = run("analyze", good_clip, "-o", blocker)
    assert res.exit_code == 1
    assert len(error_lines(res)) == 1 and str(good_clip) in error_lines(res)[0]


@pytest.mark.parametrize("nasty", ["../../etc/passwd", "a/b", "..", "", ".", "CON", "x\x00y", "~/x"])
def test_report_names_never_leave_the_output_folder(tmp_path: Path, nasty: str) -> None:
    name = safe_name(nasty)
    assert name and "/" not in name and name not in (".", "..")
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()


def test_same_stem_in_two_folders_gets_two_reports(tmp_path: Path) -> None:
    names = unique_names([tmp_path / "a" / "squat.mp4", tmp_path / "b" / "squat.mp4", tmp_path / "c.mp4"])
    assert len(set(names.values())) == 3 and names[tmp_path / "c.mp4"] == "c"


def _summary(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "summary.csv", newline="") as fh:
        return {row["report"] or Path(row["clip"]).name: row for row in csv.DictReader(fh)}


def test_batch_isolates_failures_and_resumes(tmp_path: Path, good_clip: Path) -> None:
    inbox = tmp_path / "in"
    bad = _bad_files(inbox, good_clip)
    bad["image"].unlink()  # not a video extension: not picked up by the folder scan
    shutil.copy(good_clip, inbox / "good.mp4")
    (inbox / "nested").mkdir()
    shutil.copy(good_clip, inbox / "nested" / "good.mp4")
    out = tmp_path / "out"
    res = run("batch", inbox, "-o", out, "--jobs", "2")
    assert res.exit_code == 0, res.output
    rows = _summary(out)
    assert len(rows) == 5
    statuses = sorted(row["status"] for row in rows.values())
    assert statuses == ["failed", "failed", "failed", "ok", "ok"]
    for name in ("empty", "notes", "truncated"):
        assert rows[name]["status"] == "failed" and f"{name}.mp4" in rows[name]["reason"]
    index = (out / "index.html").read_text()
    assert index.count("<section") == 5 and "report.png" in index
    reports = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(reports) == 2 and all(r.startswith("good-") for r in reports)

    # Rerun: finished clips are skipped, failed ones retried (and fail again).
    res = run("batch", inbox, "-o", out, "--jobs", "2")
    rows = _summary(out)
    assert sorted(r["status"] for r in rows.values()) == ["failed", "failed", "failed", "skipped", "skipped"]

    # A report whose summary.json is missing (killed mid-write) is not taken as done; leftovers are ignored.
    victim = out / reports[0]
    (victim / "summary.json").unlink()
    (out / f".{reports[0]}.abc.tmp").mkdir()
    res = run("batch", inbox, "-o", out, "--jobs", "1")
    rows = _summary(out)
    assert rows[reports[0]]["status"] == "ok" and rows[reports[1]]["status"] == "skipped"
    assert (victim / "summary.json").exists()

    res = run("batch", inbox, "-o", out, "--jobs", "2", "--force")
    assert sorted(r["status"] for r in _summary(out).values()).count("ok") == 2


def test_batch_from_a_list_file_with_a_missing_clip(tmp_path: Path, good_clip: Path) -> None:
    listing = tmp_path / "clips.txt"
    listing.write_text(f"# clips to analyse\n{good_clip}\nmissing.mp4\n")
    res = run("batch", listing, "-o", tmp_path / "out", "--jobs", "1")
    assert res.exit_code == 0, res.output
    rows = _summary(tmp_path / "out")
    assert rows["good_squat"]["status"] == "ok"
    assert rows["missing"]["status"] == "failed" and "file not found" in rows["missing"]["reason"]


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


def test_one_person_gives_no_crowd_warning(tmp_path: Path, good_clip: Path) -> None:
    res = run("analyze", good_clip, "-o", tmp_path / "out")
    summary = json.loads(next((tmp_path / "out").glob("*/summary.json")).read_text())
    assert res.exit_code == 0 and not any("people in view" in w for w in summary["warnings"])
