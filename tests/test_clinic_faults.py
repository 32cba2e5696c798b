"""The clinic never loses an upload or a result: a real ``buttwink serve`` killed with ``kill -9`` in the middle
of an analysis picks its jobs up at the next start, and every job completes exactly once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
from pathlib import Path

import pytest
from clinic_helpers import get_json, post_clip, serving, variant, wait_for

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to follow the processes")]


def children(pid: int) -> set[int]:
    """Processes whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kill_9_mid_analysis_then_restart_completes_every_job_once(tmp_path: Path, one_rep_clip: Path) -> None:
    clip = Path(shutil.copy(one_rep_clip, tmp_path / "video.mp4"))  # render_one_rep(..., seed=11), conftest's
    clips = [clip, variant(clip, tmp_path, 1), variant(clip, tmp_path, 2)]
    data = tmp_path / "data"
    with serving(data, tmp_path / "server1.log") as server:
        ids = []
        for n, path in enumerate(clips):
            status, body = post_clip(server.url, path, "Kim", f"2026-0{n + 1}-01")
            assert status == 202, body
            ids.append(body["id"])

        def analysing() -> bool:
            _, body = get_json(f"{server.url}/api/clips/{ids[0]}")
            return body["status"] == "analysing" and body["progress"] > 0

        wait_for(analysing, 120, "the first clip's analysis to be under way")
        assert server.proc is not None
        workers = children(server.proc.pid)
        assert workers, "no analysis process under the server"
        server.kill(signal.SIGKILL)
        wait_for(lambda: not any(alive(p) for p in workers), 15, "the analysis processes to exit with the server")
    with sqlite3.connect(data / "clinic.sqlite3") as db:
        states = dict(db.execute("SELECT id, status FROM clips").fetchall())
    assert states[ids[0]] == "analysing" and "done" not in states.values(), states

    with serving(data, tmp_path / "server2.log") as server:
        def all_done() -> bool:
            return all(get_json(f"{server.url}/api/clips/{i}")[1]["status"] in ("done", "failed") for i in ids)

        wait_for(all_done, 240, "every clip to finish after the restart", every=1.0)
        bodies = [get_json(f"{server.url}/api/clips/{i}")[1] for i in ids]
        log = server.log()
    assert [b["status"] for b in bodies] == ["done"] * 3, bodies
    assert "picked up 1 job(s) interrupted" in log, log
    with sqlite3.connect(data / "clinic.sqlite3") as db:
        rows = db.execute("SELECT id, completions, attempts FROM clips ORDER BY created_at, rowid").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(i, 1) for i in ids]  # each completed exactly once
    assert rows[0][2] == 2  # the interrupted one ran twice, finished once
    reports = data / "reports"
    assert sorted(os.listdir(reports)) == sorted(ids)  # no temporary folder left behind
    for clip_id in ids:
        assert json.loads((reports / clip_id / "summary.json").read_text())["status"] == "ok"
    assert sorted(os.listdir(data / "uploads")) == sorted(f"{i}.mp4" for i in ids)
    assert os.listdir(data / "tmp") == []
