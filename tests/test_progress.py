"""``buttwink.progress`` on its own: a session's figures from reps tables, the share's interval, and
progress.csv's escaping (no analysis needed)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from buttwink.progress import (
    Session,
    SessionClip,
    build_sessions,
    measure_changes,
    progress_csv_text,
    progress_png,
    session_figures,
    wilson_interval,
)


def reps(*rows: tuple[str, bool, float, float, float]) -> pd.DataFrame:
    return pd.DataFrame([{"status": s, "wink": w, "onset_depth_deg": d, "onset_hip_flexion_deg": h,
                          "departure_deg": t} for s, w, d, h, t in rows])


def test_figures_count_assessed_reps_and_take_onsets_from_winking_reps_only() -> None:
    table = reps(("ok", True, 10.0, 100.0, 12.0), ("ok", True, 20.0, 110.0, 14.0), ("ok", False, float("nan"),
                 float("nan"), 3.0), ("ok", True, 30.0, 120.0, 16.0), ("not assessed", True, -50.0, 50.0, 99.0))
    f = session_figures(table)
    assert (f["reps_found"], f["reps_assessed"], f["reps_with_wink"]) == (5, 4, 3)
    assert f["wink_share"] == 0.75
    assert (f["onset_depth_q1_deg"], f["onset_depth_median_deg"], f["onset_depth_q3_deg"]) == (15.0, 20.0, 25.0)
    assert f["onset_hip_flexion_median_deg"] == 110.0
    assert f["tuck_median_deg"] == 13.0  # every assessed rep, the one without a wink too; never the unassessed
    assert f["wink_share_low"] < 0.75 < f["wink_share_high"]


def test_a_session_without_winks_has_no_onset_but_a_tuck() -> None:
    f = session_figures(reps(("ok", False, float("nan"), float("nan"), 2.0), ("ok", "False", float("nan"),
                                                                               float("nan"), 4.0)))
    assert f["reps_with_wink"] == 0 and f["wink_share"] == 0.0
    assert math.isnan(f["onset_depth_median_deg"]) and f["tuck_median_deg"] == 3.0


@pytest.mark.parametrize(("k", "n", "low", "high"), [(0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0),
                                                     (5, 10, 0.2366, 0.7634)])
def test_wilson_interval(k: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=1e-4)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_progress_csv_escapes_text_cells_and_leaves_numbers() -> None:
    figures = session_figures(reps(("ok", True, -12.5, 100.0, 10.0)))
    sessions = [Session("=HYPERLINK(\"http://x\")", dt.date(2026, 1, 2), [], figures | {"clips": 1})]
    rows = list(csv.DictReader(io.StringIO(progress_csv_text(sessions))))
    assert rows[0]["athlete"] == "'=HYPERLINK(\"http://x\")"
    assert rows[0]["onset_depth_median_deg"] == "-12.5" and rows[0]["session_date"] == "2026-01-02"
    assert progress_png(sessions)[:8] == b"\x89PNG\r\n\x1a\n"


def _report(folder: Path, **summary: object) -> Path:
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps({"written_by": "buttwink", "status": "ok", **summary}))
    reps(("ok", True, 10.0, 100.0, 12.0)).to_csv(folder / "reps.csv", index=False)
    return folder


def test_sessions_measured_differently_are_named_and_flagged(tmp_path: Path) -> None:
    """A report from before 2026-12-03 names no wink signal (it read the posterior pelvic tilt); a later one
    reads the pelvis under the trunk: their tucks differ in kind, so the athlete's progress says so."""
    old = _report(tmp_path / "old")
    new = _report(tmp_path / "new", wink_signal="trunk_pelvis_flexion_deg", settings={"wink_threshold_deg": 8.0})
    same = _report(tmp_path / "same", wink_signal="trunk_pelvis_flexion_deg", settings={"wink_threshold_deg": 8.0})
    sessions = build_sessions([SessionClip("Ann", dt.date(2026, 1, 1), old), SessionClip("Ann", dt.date(2026, 2, 1),
                                                                                          new),
                               SessionClip("Bo", dt.date(2026, 1, 1), new), SessionClip("Bo", dt.date(2026, 2, 1),
                                                                                        same)])
    rows = list(csv.DictReader(io.StringIO(progress_csv_text(sessions))))
    assert [r["measured_with"] for r in rows] == ["posterior_pelvic_tilt_deg, 8°", "trunk_pelvis_flexion_deg, 8°",
                                                  "trunk_pelvis_flexion_deg, 8°", "trunk_pelvis_flexion_deg, 8°"]
    notes = measure_changes(sessions)
    assert len(notes) == 1 and notes[0].startswith("Ann: sessions measured differently")
