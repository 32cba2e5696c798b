"""The clinic's loopback load test in the suite: ``benchmarks/serve_load.py`` sends 20 concurrent uploads to a
real ``buttwink serve`` and checks that every one is accepted and every clip analysed (small clips, no batch
comparison, so it fits the suite's time; the full run with its figures is the benchmark itself)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_twenty_concurrent_uploads_all_finish() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "serve_load.py"), "--uploads", "20", "--jobs",
                           "2", "--small", "--no-batch", "--timeout", "400"], capture_output=True, text=True,
                          timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"uploads: 20 of 20 accepted", proc.stdout), proc.stdout
    assert re.search(r"server: 20 done, 0 failed, 0 unfinished", proc.stdout), proc.stdout
