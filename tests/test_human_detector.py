"""The detector on the MakeHuman body (issue 17): what it already gets right on the bundled human sample, and
the known defect on a human squat without a tuck (a strict xfail, so a fix shows up)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from buttwink.pipeline import analyze

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "human_wink"

pytestmark = pytest.mark.slow


def test_the_human_sample_winks_where_its_truth_does() -> None:
    truth = pd.read_csv(SAMPLE / "reps_truth.csv")
    reps = analyze(SAMPLE / "video.mp4").reps
    assert len(reps) == len(truth) == 2
    assert reps["status"].eq("ok").all()
    assert reps["wink"].astype(bool).all() and (truth["wink_deg"] >= 8).all()
    errors = (pd.to_numeric(reps["onset_depth_deg"]) - truth["onset_depth_deg"]).abs()
    assert (errors <= 8.0).all(), errors.tolist()
    assert (pd.to_numeric(reps["bottom_depth_deg"]) - truth["bottom_depth_deg"]).abs().max() < 10


@pytest.mark.xfail(strict=True, reason="issue 17: on a human body the trunk eases back near the bottom and the "
                                       "pelvis with it; the posterior tilt's straight descent trend reads that as "
                                       "a tuck (docs/validation_log.md, 2026-12-03 evening)")
def test_a_human_squat_without_a_tuck_is_not_called_a_wink(tmp_path: Path) -> None:
    from buttwink.synth import BodyShapeParams, CameraParams, HumanParams, SquatParams, render_human_clip

    render_human_clip(tmp_path, SquatParams(depth_deg=-14.0, reps=1, wink_deg=0.0),
                      HumanParams(shape=BodyShapeParams(), clothes="tight"),
                      CameraParams(width=320, height=240, fps=30.0, yaw_deg=5.0), seed=4)
    reps = analyze(tmp_path / "video.mp4").reps
    assert len(reps) == 1 and reps["status"].iloc[0] == "ok"
    assert not bool(reps["wink"].iloc[0])
