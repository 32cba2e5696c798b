"""The clinic server's API and pages through FastAPI's test client: uploads analysed by the batch machinery,
bad uploads refused with their reason and stored nowhere, the access token, escaping, errors without traces,
interrupted jobs picked up again, and ``buttwink progress`` giving the athlete page's figures."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from clinic_helpers import render_one_rep, variant
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from buttwink.cli import app as cli_app
from buttwink.clinic.app import ClinicConfig, create_app
from buttwink.clinic.store import LOCK_NAME, JobStore
from buttwink.settings import Settings

pytestmark = pytest.mark.slow
BASE = "http://127.0.0.1"
ATHLETE = "Ann O'Neil-Lee"


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, one_rep_clip: Path) -> dict[str, Path]:
    """Two one-rep clips: one with a wink, one without."""
    root = tmp_path_factory.mktemp("clinic-clips")
    return {"wink": one_rep_clip,  # render_one_rep(..., seed=11), shared with the other tests (conftest)
            "nowink": render_one_rep(root / "nowink", seed=12, wink_deg=0.0)}


@pytest.fixture(scope="module")
def models_dir() -> str:
    from buttwink.models import ModelError, ensure_model

    try:
        return str(ensure_model().path.parent)
    except ModelError as exc:
        pytest.skip(f"no pose model: {exc}")


def make_client(data: Path, models_dir: str, **config: object) -> TestClient:
    app = create_app(ClinicConfig(data_dir=data, models_dir=models_dir, settings=Settings().to_dict(),
                                  **config))  # type: ignore[arg-type]
    return TestClient(app, base_url=BASE, raise_server_exceptions=False)


def upload(client: TestClient, path: Path, athlete: str = ATHLETE, session_date: str | None = None,
           file_name: str | None = None, **headers: str):
    data = {"athlete": athlete} | ({"session_date": session_date} if session_date else {})
    with open(path, "rb") as fh:
        return client.post("/api/clips", data=data, files={"file": (file_name or path.name, fh, "video/mp4")},
                           headers=headers)


def wait_done(client: TestClient, clip_id: str, timeout: float = 180) -> dict:
    end = time.monotonic() + timeout
    seen = set()
    while time.monotonic() < end:
        body = client.get(f"/api/clips/{clip_id}").json()
        seen.add(body["status"])
        if body["status"] in ("done", "failed"):
            body["seen"] = seen
            return body
        time.sleep(0.3)
    raise AssertionError(f"clip {clip_id} not finished after {timeout} s (seen {seen})")


def stored(data: Path) -> list[str]:
    """Every file kept under the data folder but the database and the server's lock file."""
    return sorted(str(p.relative_to(data)) for p in data.rglob("*")
                  if p.is_file() and not p.name.startswith("clinic.sqlite3") and p.name != LOCK_NAME)


@pytest.fixture(scope="module")
def served(clips: dict[str, Path], models_dir: str, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[TestClient, Path, dict[str, str]]]:
    """One server with the two clips analysed as two sessions of one athlete."""
    data = tmp_path_factory.mktemp("clinic-data")
    with make_client(data, models_dir) as client:
        ids = {}
        for key, date in (("nowink", "2026-09-01"), ("wink", "2026-10-15")):
            response = upload(client, clips[key], session_date=date)
            assert response.status_code == 202, response.text
            ids[key] = response.json()["id"]
        for clip_id in ids.values():
            assert wait_done(client, clip_id)["status"] == "done"
        yield client, data, ids


def test_upload_is_analysed_with_progress_and_a_report(served) -> None:
    client, data, ids = served
    body = client.get(f"/api/clips/{ids['wink']}").json()
    assert body["status"] == "done" and body["progress"] == 100
    assert "butt wink in 1 of 1" in body["verdict"]
    assert len(body["reps"]) == 1 and body["reps"][0]["wink"] is True
    assert body["reps"][0]["onset_depth_deg"] is not None
    png = client.get(f"/api/clips/{ids['wink']}/report.png")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    reps_csv = client.get(body["files"]["reps.csv"])
    assert reps_csv.status_code == 200 and reps_csv.text.startswith("rep,status")
    page = client.get(f"/clips/{ids['wink']}").text
    assert body["verdict"] in page and 'id="reps"' in page and "report.png" in page
    # stored under server-chosen names only
    assert sorted(p.name for p in (data / "uploads").iterdir()) == sorted(f"{i}.mp4" for i in ids.values())
    assert sorted(p.name for p in (data / "reports").iterdir() if not p.name.startswith(".")) == sorted(ids.values())
    # the progress was reported on the way (the store saw the pose stage's callback)
    with sqlite3.connect(data / "clinic.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM clips WHERE completions = 1").fetchone()[0] == 2


def test_the_same_content_twice_is_one_clip(served, clips: dict[str, Path]) -> None:
    client, data, ids = served
    before = stored(data)
    again = upload(client, clips["wink"], file_name="renamed.mp4", session_date="2026-11-01")
    assert again.status_code == 200 and again.json() == again.json() | {"id": ids["wink"], "duplicate": True}
    assert stored(data) == before


def test_sessions_measured_differently_are_flagged_on_the_athlete_page(served) -> None:
    """A report made before the wink signal changed (its summary.json names none) next to a newer one: the
    athlete's JSON and page say the sessions cannot be compared."""
    client, data, ids = served
    summary_path = data / "reports" / ids["nowink"] / "summary.json"
    original = summary_path.read_text(encoding="utf-8")
    assert client.get(f"/api/athletes/{ATHLETE}").json()["notes"] == []
    try:
        older = json.loads(original)
        older.pop("wink_signal")
        summary_path.write_text(json.dumps(older), encoding="utf-8")
        notes = client.get(f"/api/athletes/{ATHLETE}").json()["notes"]
        assert len(notes) == 1 and "measured differently" in notes[0] and "posterior_pelvic_tilt_deg" in notes[0]
        assert "measured differently" in client.get(f"/athletes/{ATHLETE}").text
    finally:
        summary_path.write_text(original, encoding="utf-8")


def test_progress_command_gives_the_athlete_pages_figures(served, tmp_path: Path) -> None:
    client, data, ids = served
    api = client.get(f"/api/athletes/{ATHLETE}").json()
    assert [s["session_date"] for s in api["sessions"]] == ["2026-09-01", "2026-10-15"]
    before, after = api["sessions"]
    assert before["reps_with_wink"] == 0 and before["onset_depth_median_deg"] is None
    assert after["reps_with_wink"] == 1 and after["wink_share"] == 1.0
    assert after["tuck_median_deg"] > before["tuck_median_deg"]
    sessions = tmp_path / "sessions.csv"
    sessions.write_text("report_dir,athlete,session_date\n"
                        f"{data / 'reports' / ids['nowink']},{ATHLETE},2026-09-01\n"
                        f"{data / 'reports' / ids['wink']},{ATHLETE},2026-10-15\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli_app, ["progress", "--sessions", str(sessions), "-o", str(out)])
    assert result.exit_code == 0, result.output
    cli_csv = (out / "progress.csv").read_text(encoding="utf-8")
    assert cli_csv == client.get(f"/api/athletes/{ATHLETE}/progress.csv").text
    rows = list(csv.DictReader(io.StringIO(cli_csv)))
    for row, session in zip(rows, api["sessions"], strict=True):
        for key, value in session.items():
            if key in row:
                assert row[key] == ("" if value is None else str(value)), key
    cli_png = (out / "progress.png").read_bytes()
    assert cli_png == client.get(f"/api/athletes/{ATHLETE}/progress.png").content
    page = client.get(f"/athletes/{ATHLETE}", params={"a": "2026-09-01", "b": "2026-10-15"}).text
    assert 'id="compare"' in page and "O&#39;Neil-Lee" in page and 'id="chart"' in page
    # one session from flags gives the same row
    flags = CliRunner().invoke(cli_app, ["progress", str(data / "reports" / ids["wink"]), "--athlete", ATHLETE,
                                         "--date", "2026-10-15", "-o", str(tmp_path / "one")])
    assert flags.exit_code == 0, flags.output
    assert (tmp_path / "one" / "progress.csv").read_text().splitlines()[1] == cli_csv.splitlines()[2]


def test_overlay_is_made_when_asked(served) -> None:
    client, _data, ids = served
    assert "overlay.mp4" not in client.get(f"/api/clips/{ids['nowink']}").json()["files"]
    assert client.post(f"/api/clips/{ids['nowink']}/overlay").status_code == 202
    body = wait_done(client, ids["nowink"])
    assert body["status"] == "done" and "overlay.mp4" in body["files"]
    assert client.get(body["files"]["overlay.mp4"]).status_code == 200


def test_session_date_defaults_to_the_clips_creation_date(clips: dict[str, Path], models_dir: str, tmp_path: Path,
                                                          ffmpeg: str) -> None:
    dated = tmp_path / "dated.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-i", str(clips["wink"]), "-c", "copy", "-metadata",
                    "creation_time=2026-05-04T10:00:00Z", str(dated)], check=True)
    with make_client(tmp_path / "data", models_dir) as client:
        response = upload(client, dated)
        assert response.status_code == 202, response.text
        assert response.json()["session_date"] == "2026-05-04"


def _png() -> bytes:
    return cv2.imencode(".png", np.full((64, 64, 3), 127, np.uint8))[1].tobytes()


BAD_UPLOADS = [
    ("empty", lambda clip: b"", {}, 400, "empty"),
    ("truncated", lambda clip: clip.read_bytes()[:3000], {}, 422, "not a usable video"),
    ("text renamed .mp4", lambda clip: b"just some notes\n" * 200, {}, 422, "not a usable video"),
    ("an image", lambda clip: _png(), {}, 422, "not a usable video"),
    ("oversized", lambda clip: clip.read_bytes() + b"\0" * 300_000, {}, 413, "too large"),
    ("file name with ../", lambda clip: clip.read_bytes(), {"file_name": "../../etc/clip.mp4"}, 400, "plain name"),
    ("file name with a backslash", lambda clip: clip.read_bytes(), {"file_name": "..\\x.mp4"}, 400, "plain name"),
    ("athlete with HTML", lambda clip: clip.read_bytes(), {"athlete": "<script>alert(1)</script>"}, 400, "no HTML"),
    ("no athlete", lambda clip: clip.read_bytes(), {"athlete": "   "}, 400, "athlete"),
    ("bad date", lambda clip: clip.read_bytes(), {"session_date": "2026-02-30"}, 400, "not a date"),
]


@pytest.mark.parametrize(("content", "fields", "status", "message"), [case[1:] for case in BAD_UPLOADS],
                         ids=[case[0] for case in BAD_UPLOADS])
def test_bad_uploads_get_their_error_and_nothing_is_stored(clips: dict[str, Path], models_dir: str, tmp_path: Path,
                                                           content, fields: dict, status: int, message: str) -> None:
    size = clips["wink"].stat().st_size
    path = tmp_path / "upload.mp4"
    path.write_bytes(content(clips["wink"]))
    data = tmp_path / "data"
    with make_client(data, models_dir, max_upload_bytes=size + 100_000) as client:
        response = upload(client, path, **fields)
        assert response.status_code == status, response.text
        detail = response.json()["detail"]
        assert message in detail and "\n" not in detail and "Traceback" not in detail
        assert str(tmp_path) not in detail  # no server path in the message
        assert client.get("/api/clips").json()["clips"] == []
    assert stored(data) == []


def test_a_network_server_asks_for_its_token_on_every_request(clips: dict[str, Path], models_dir: str,
                                                              tmp_path: Path) -> None:
    token = "t0ken-for-the-test-1234"
    data = tmp_path / "data"
    with make_client(data, models_dir, token=token, loopback_only=False) as client:
        for path in ("/", "/api/clips", "/athletes", "/api/athletes/x"):
            response = client.get(path)
            assert response.status_code == 401 and "Traceback" not in response.text, path
        refused = upload(client, clips["wink"])
        assert refused.status_code == 401 and "token" in refused.json()["detail"]
        assert upload(client, clips["wink"], Authorization="Bearer wrong-token-xxxxxxx").status_code == 401
        assert stored(data) == []
        assert client.get("/api/clips", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        first = client.get(f"/?token={token}", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/"
        assert client.get("/").status_code == 200  # the cookie the first visit set
        away = client.get(f"//evil.example/?token={token}", follow_redirects=False)
        assert away.status_code in (303, 404) and not away.headers.get("location", "/").startswith("//")
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--token", "short"])
    assert result.exit_code == 2 and "at least 16" in result.output


def test_user_text_is_escaped_in_pages(clips: dict[str, Path], models_dir: str, tmp_path: Path) -> None:
    evil = variant(clips["wink"], tmp_path, 7, name="<img src=x onerror=alert(1)>.mp4")
    with make_client(tmp_path / "data", models_dir) as client:
        response = upload(client, evil, athlete="Zoë")
        assert response.status_code == 202, response.text
        clip_id = response.json()["id"]
        for page in (client.get("/").text, client.get(f"/clips/{clip_id}").text):
            assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.mp4" in page
        assert "Zoë" in client.get("/athletes/Zoë").text
        assert client.get("/athletes/%3Cscript%3E").status_code == 404
        assert "&lt;script&gt;" in client.get("/athletes/%3Cscript%3E").text
    uploads = list((tmp_path / "data" / "uploads").iterdir())
    assert [p.name for p in uploads] == [f"{clip_id}.mp4"]


def test_cross_site_posts_and_foreign_host_names_are_refused(clips: dict[str, Path], models_dir: str,
                                                             tmp_path: Path) -> None:
    data = tmp_path / "data"
    with make_client(data, models_dir) as client:
        response = upload(client, clips["wink"], Origin="http://evil.example")
        assert response.status_code == 403 and "cross-site" in response.json()["detail"]
        assert client.get("/", headers={"Host": "rebound.example"}).status_code == 400
    assert stored(data) == []


def test_errors_are_one_line_never_a_trace(models_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with make_client(tmp_path / "data", models_dir) as client:
        missing = client.get("/api/clips/0123456789abcdef")
        assert missing.status_code == 404 and missing.json() == {"detail": "no clip '0123456789abcdef'"}
        assert client.get("/api/clips/../../etc/passwd").status_code == 404
        assert client.get("/api/clips/x/files/..%2F..%2Fclinic.sqlite3").status_code == 404
        page = client.get("/clips/nothing-here")
        assert page.status_code == 404 and "text/html" in page.headers["content-type"] and "no clip" in page.text
        assert client.post("/api/clips", data={"athlete": "x"}).json() == {"detail": "file: missing"}

        def broken(*_a: object, **_k: object) -> None:
            raise RuntimeError("database on fire\n  File secret.py, line 1")

        monkeypatch.setattr(client.app.state.store, "all", broken)
        for path in ("/", "/api/clips"):
            response = client.get(path)
            assert response.status_code == 500
            assert "Traceback" not in response.text and "secret.py" not in response.text
            assert "internal error (RuntimeError)" in response.text


def test_jobs_interrupted_by_a_crash_are_queued_again(models_dir: str, tmp_path: Path, clips: dict[str, Path]) -> None:
    """A job the store says is 'analysing' when the server starts was interrupted: it runs again, once."""
    data = tmp_path / "data"
    with make_client(data, models_dir) as client:
        clip_id = upload(client, clips["nowink"], session_date="2026-01-01").json()["id"]
        assert wait_done(client, clip_id)["status"] == "done"
    store = JobStore(data / "clinic.sqlite3")
    with sqlite3.connect(store.path) as db:  # as a kill -9 mid-analysis leaves it
        db.execute("UPDATE clips SET status = 'analysing', completions = 0, progress = 40 WHERE id = ?", (clip_id,))
    with make_client(data, models_dir) as client:
        body = wait_done(client, clip_id)
        assert body["status"] == "done"
    record = store.get(clip_id)
    assert record is not None and record.completions == 1 and record.attempts == 2
    summary = json.loads((data / "reports" / clip_id / "summary.json").read_text())
    assert summary["status"] == "ok"


def test_progress_command_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    cases = [
        ([str(tmp_path)], "need --athlete and --date"),
        ([str(tmp_path), "--athlete", "A", "--date", "2026-1-1x"], "not a date"),
        ([str(tmp_path), "--athlete", "A", "--date", "2026-01-01"], "not a finished buttwink report"),
        (["--sessions", str(tmp_path / "none.csv")], "cannot be read"),
        ([], "give report folders"),
    ]
    (tmp_path / "bad.csv").write_text("folder,who\nx,y\n")
    cases.append((["--sessions", str(tmp_path / "bad.csv")], "needs the columns"))
    for args, message in cases:
        result = runner.invoke(cli_app, ["progress", *args])
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and message in lines[0], (args, result.output)


def test_a_clip_that_cannot_be_analysed_fails_with_its_reason(models_dir: str, tmp_path: Path) -> None:
    """A real video with nobody in it decodes (so it is accepted) and fails in the analysis, with the reason and
    the user's file name, never the server's path."""
    from conftest import write_clip

    rng = np.random.default_rng(3)
    noise = write_clip(tmp_path / "empty room.mp4", [rng.integers(0, 255, (120, 160, 3), np.uint8)
                                                      for _ in range(15)], fps=15.0)
    data = tmp_path / "data"
    with make_client(data, models_dir) as client:
        response = upload(client, noise, session_date="2026-03-01")
        assert response.status_code == 202, response.text
        body = wait_done(client, response.json()["id"], timeout=120)
        assert body["status"] == "failed" and body["reason"]
        assert "empty room.mp4" in body["reason"] and str(data) not in body["reason"], body["reason"]
        assert body["reason"] in client.get(f"/clips/{body['id']}").text
        assert client.get(f"/api/clips/{body['id']}/report.png").status_code == 404


def test_two_servers_never_share_a_data_folder(models_dir: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with make_client(data, models_dir) as client:
        assert client.get("/").status_code == 200
        result = CliRunner().invoke(cli_app, ["serve", "--data", str(data), "--port", "1"])
        assert result.exit_code == 2 and "another buttwink server" in result.output, result.output
        from buttwink.clinic.store import ClinicBusyError

        with pytest.raises(ClinicBusyError), make_client(data, models_dir):
            pass
    with make_client(data, models_dir) as client:  # free again once the first has stopped
        assert client.get("/").status_code == 200


def test_a_linked_lock_file_in_the_data_folder_is_refused_and_its_target_kept(tmp_path: Path) -> None:
    from buttwink.clinic.store import LOCK_NAME, ClinicBusyError, hold_data_folder

    data = tmp_path / "data"
    data.mkdir()
    precious = tmp_path / "precious.txt"
    precious.write_text("do not truncate")
    (data / LOCK_NAME).symlink_to(precious)
    with pytest.raises(ClinicBusyError, match="not buttwink's lock file"), hold_data_folder(data):
        pass
    assert precious.read_text() == "do not truncate"


def test_serve_refuses_a_port_in_use(tmp_path: Path) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
        result = CliRunner().invoke(cli_app, ["serve", "--data", str(tmp_path / "d"), "--port", str(port)])
    assert result.exit_code == 2 and f"127.0.0.1:{port}: cannot listen" in result.output, result.output
