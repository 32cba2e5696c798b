"""Reps of any reasonable tempo are segmented and assessed: a fast 0.8 s descent, a slow 7 s descent with a
2 s pause at the bottom, and a clip that starts and ends standing for only a few frames (rendered clips,
320x240 at 15 fps, MediaPipe included)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from buttwink.pipeline import analyze
from buttwink.synth import CameraParams, SquatParams, render_clip

pytestmark = pytest.mark.slow

TEMPOS = {
    "fast": dict(descent_s=0.8, ascent_s=0.8, pause_s=0.1, stand_s=0.6, reps=2),
    "slow_paused": dict(descent_s=7.0, ascent_s=2.0, pause_s=2.0, stand_s=0.8, reps=1),
    "barely_standing": dict(descent_s=1.0, ascent_s=1.0, pause_s=0.2, stand_s=0.25, reps=1),
}


@pytest.mark.parametrize("tempo", list(TEMPOS))
def test_reps_of_any_tempo_are_found_and_assessed(tmp_path: Path, tempo: str) -> None:
    squat = SquatParams(depth_deg=-20.0, wink_deg=15.0, onset_depth_deg=0.0, jitter=0.0, **TEMPOS[tempo])
    render_clip(tmp_path, squat, CameraParams(width=320, height=240, fps=15.0), seed=21)
    truth = pd.read_csv(tmp_path / "reps_truth.csv")
    reps = analyze(tmp_path / "video.mp4").reps
    assert len(reps) == len(truth), reps[["rep", "status", "reason"]]
    assert reps["status"].eq("ok").all(), reps[["rep", "status", "reason"]]
    assert reps["wink"].astype(bool).all()
    bottoms = reps["bottom_time_s"].to_numpy()
    assert abs(bottoms - truth["bottom_time_s"].to_numpy()).max() < max(1.0, TEMPOS[tempo]["pause_s"])
