"""`buttwink batch --executor dask` on a real Dask LocalCluster: same rows, isolation and resume."""

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from buttwink.cli import app

distributed = pytest.importorskip("distributed")


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "summary.csv", newline="") as fh:
        return {row["report"]: row for row in csv.DictReader(fh)}


@pytest.mark.slow
def test_dask_batch_matches_local_and_resumes(tmp_path: Path, sample_clip: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(sample_clip, inbox / "good.mp4")
    (inbox / "broken.mp4").write_text("not a video")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        res = CliRunner().invoke(app, ["batch", str(inbox), "-o", str(tmp_path / "dask"), "--executor", "dask",
                                       "--scheduler", cluster.scheduler_address])
        assert res.exit_code == 0, res.output
        dask_rows = _rows(tmp_path / "dask")
        again = CliRunner().invoke(app, ["batch", str(inbox), "-o", str(tmp_path / "dask"), "--executor", "dask",
                                         "--scheduler", cluster.scheduler_address])
        assert again.exit_code == 0, again.output
        assert _rows(tmp_path / "dask")["good"]["status"] == "skipped"
    local = CliRunner().invoke(app, ["batch", str(inbox), "-o", str(tmp_path / "local"), "--jobs", "1"])
    assert local.exit_code == 0, local.output
    local_rows = _rows(tmp_path / "local")
    assert set(dask_rows) == set(local_rows) == {"good", "broken"}
    for name in ("good", "broken"):
        for col in ("status", "verdict", "reps_found", "reps_with_wink"):
            assert dask_rows[name][col] == local_rows[name][col], (name, col)
    assert dask_rows["broken"]["status"] == "failed" and "broken.mp4" in dask_rows["broken"]["reason"]
    assert (tmp_path / "dask" / "good" / "report.png").exists()
