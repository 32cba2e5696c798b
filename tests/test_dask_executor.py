"""`buttwink batch --executor dask --scheduler ADDRESS` on a real two-worker Dask LocalCluster: the same
summary rows and statuses as the local executor, a bad file isolated, and a resumed run skipping done clips."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from buttwink.cli import app

distributed = pytest.importorskip("distributed")

#: Columns that must agree between executors (``seconds`` is wall time and may differ).
SAME = ("clip", "report", "status", "reason", "verdict", "reps_found", "reps_assessed", "reps_with_wink",
        "duration_s")


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        return {row["report"]: row for row in csv.DictReader(fh)}


def _batch(*args: object):
    return CliRunner().invoke(app, ["batch", *(str(a) for a in args)])


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory, short_clip: Path) -> Path:
    """A good clip (conftest's two-rep render, shared with the CLI tests) and a broken one."""
    folder = tmp_path_factory.mktemp("in")
    shutil.copy(short_clip, folder / "good.mp4")
    (folder / "broken.mp4").write_text("not a video\n")
    return folder


@pytest.mark.slow
def test_dask_batch_matches_local_and_resumes(tmp_path: Path, inbox: Path) -> None:
    local = _batch(inbox, "-o", tmp_path / "local", "--jobs", "1")
    assert local.exit_code == 0, local.output
    local_rows = _rows(tmp_path / "local")

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster:
        res = _batch(inbox, "-o", tmp_path / "dask", "--executor", "dask", "--scheduler", cluster.scheduler_address)
        assert res.exit_code == 0, res.output
        dask_rows = _rows(tmp_path / "dask")
        # The work ran on this cluster's workers (not a private cluster the batch started itself).
        prefix = cluster.scheduler.task_prefixes.get("process_clip")
        assert prefix is not None and sum(prefix.state_counts.values()) >= 2

        again = _batch(inbox, "-o", tmp_path / "dask", "--executor", "dask", "--scheduler",
                       cluster.scheduler_address)
        assert again.exit_code == 0, again.output
        resumed = _rows(tmp_path / "dask")

    assert set(dask_rows) == set(local_rows) == {"good", "broken"}
    for name in ("good", "broken"):
        for col in SAME:
            assert dask_rows[name][col] == local_rows[name][col], (name, col)
    assert dask_rows["good"]["status"] == "ok" and int(dask_rows["good"]["reps_found"]) == 2
    assert dask_rows["broken"]["status"] == "failed"
    assert str(inbox / "broken.mp4") in dask_rows["broken"]["reason"]
    assert (tmp_path / "dask" / "good" / "report.png").is_file()
    assert (tmp_path / "dask" / "index.html").read_text(encoding="utf-8").count("<section") == 2

    assert resumed["good"]["status"] == "skipped" and resumed["good"]["verdict"] == dask_rows["good"]["verdict"]
    assert resumed["broken"]["status"] == "failed"
