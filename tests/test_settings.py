"""Settings: one dataclass, TOML file, flags override."""

from pathlib import Path

import numpy as np
import pytest

from buttwink.settings import Settings


def test_toml_top_level_and_analysis_table(tmp_path: Path) -> None:
    flat = tmp_path / "flat.toml"
    flat.write_text("cutoff_hz = 5\nwink_threshold_deg = 10.5\n")
    nested = tmp_path / "nested.toml"
    nested.write_text("[analysis]\nmax_height_px = 480\n")
    s = Settings.from_toml(flat)
    assert s.cutoff_hz == 5.0 and isinstance(s.cutoff_hz, float) and s.wink_threshold_deg == 10.5
    assert Settings.from_toml(nested).max_height_px == 480
    assert Settings.from_toml(nested).cutoff_hz == Settings().cutoff_hz


def test_toml_rejects_unknown_keys_and_wrong_types(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("cutof_hz = 5\n")
    with pytest.raises(ValueError, match="unknown setting"):
        Settings.from_toml(bad)
    bad.write_text('cutoff_hz = "fast"\n')
    with pytest.raises(ValueError, match="cutoff_hz"):
        Settings.from_toml(bad)


def test_flags_override_and_none_means_unset() -> None:
    base = Settings(cutoff_hz=5.0)
    s = base.updated(cutoff_hz=None, wink_threshold_deg=12.0)
    assert s.cutoff_hz == 5.0 and s.wink_threshold_deg == 12.0
    assert s.to_dict()["wink_threshold_deg"] == 12.0


def test_cli_config_is_echoed_in_summary(tmp_path: Path) -> None:
    """The settings a run used, from file and flags, land in summary.json (rerun from saved landmarks)."""
    import json

    from typer.testing import CliRunner

    from buttwink.cli import app

    root = Path(__file__).resolve().parents[1]
    landmarks = tmp_path / "lm.parquet"
    from buttwink.pipeline import estimate_clip

    estimate_clip(root / "sample_videos" / "wink_parallel" / "video.mp4").save(landmarks)
    config = tmp_path / "c.toml"
    config.write_text("cutoff_hz = 5.0\nwink_threshold_deg = 9.0\n")
    res = CliRunner().invoke(app, ["analyze", str(landmarks), "--from-landmarks", "-o", str(tmp_path / "out"),
                                   "--config", str(config), "--threshold-deg", "11"])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "lm" / "summary.json").read_text())
    assert summary["settings"]["cutoff_hz"] == 5.0
    assert summary["settings"]["wink_threshold_deg"] == 11.0
    assert summary["model"]["sha256"]
    # The onsets of the clip's three winks are pooled by default; --no-pool-onsets reads every rep on its own.
    import pandas as pd

    pooled = pd.read_csv(tmp_path / "out" / "lm" / "reps.csv")
    assert summary["settings"]["pool_onsets"] is True
    assert pooled["wink"].sum() == 3 and (pooled["onset_set_weight"] > 0).all()
    res = CliRunner().invoke(app, ["analyze", str(landmarks), "--from-landmarks", "-o", str(tmp_path / "own"),
                                   "--config", str(config), "--threshold-deg", "11", "--no-pool-onsets"])
    assert res.exit_code == 0, res.output
    own = pd.read_csv(tmp_path / "own" / "lm" / "reps.csv")
    assert json.loads((tmp_path / "own" / "lm" / "summary.json").read_text())["settings"]["pool_onsets"] is False
    assert (own["onset_set_weight"] == 0).all()
    assert np.allclose(own["onset_depth_deg"], own["rep_onset_depth_deg"])
    assert np.allclose(own["rep_onset_depth_deg"], pooled["rep_onset_depth_deg"])


def test_the_pose_stage_reads_exactly_the_pose_stage_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    """The accuracy benchmark's cache key hashes ``pose_stage_values()``: a setting the pose stage reads but
    that list leaves out would let a changed setting be scored on stale landmarks."""
    import buttwink.pipeline as pipeline
    from buttwink.settings import POSE_STAGE_FIELDS

    read: set[str] = set()

    class Recording:
        def __getattr__(self, name: str) -> object:
            read.add(name)
            return getattr(Settings(), name)

    monkeypatch.setattr(pipeline, "estimate_clip", lambda *args, **kwargs: None)
    pipeline.estimate_with_settings("clip.mp4", Recording())  # type: ignore[arg-type]
    assert read == set(POSE_STAGE_FIELDS)
    values = Settings(max_height_px=480).pose_stage_values()
    assert values["max_height_px"] == 480 and set(values) == set(POSE_STAGE_FIELDS)


def test_wink_signal_is_one_of_the_known_angles(tmp_path: Path) -> None:
    from buttwink.settings import WINK_SIGNALS

    assert Settings().wink_signal in WINK_SIGNALS
    assert Settings(wink_signal="trunk_pelvis_flexion_deg").wink_signal == "trunk_pelvis_flexion_deg"
    with pytest.raises(ValueError, match="wink_signal must be one of"):
        Settings(wink_signal="knee_flexion_deg")
    bad = tmp_path / "bad.toml"
    bad.write_text('wink_signal = "hip_flexion_deg"\n')
    with pytest.raises(ValueError, match=f"{bad}: setting wink_signal"):
        Settings.from_toml(bad)


def test_trunk_pelvis_flexion_is_the_trunk_line_minus_the_pelvis_line() -> None:
    """The pelvis turned back under the landmarks' trunk: trunk inclination minus pelvis region inclination,
    zero at the standing frames (flexion +)."""
    import pandas as pd

    from buttwink.kinematics import relative_to_standing

    n = 20
    trunk = np.r_[np.full(5, 2.0), np.linspace(2.0, 40.0, 15)]
    pelvis = np.r_[np.full(5, 10.0), np.linspace(10.0, 35.0, 15)]  # leans forward less than the trunk: a tuck
    kin = pd.DataFrame({"trunk_inclination_deg": trunk, "pelvis_incl_deg": pelvis,
                        "lumbar_incl_deg": np.zeros(n), "thorax_incl_deg": np.zeros(n)})
    standing = np.r_[np.ones(5, bool), np.zeros(15, bool)]
    out = relative_to_standing(kin, standing)
    expected = (trunk - pelvis) - (2.0 - 10.0)
    assert np.allclose(out["trunk_pelvis_flexion_deg"], expected)
    assert out["trunk_pelvis_flexion_deg"].iloc[-1] == pytest.approx(38.0 - 25.0)
