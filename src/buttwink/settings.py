"""All analysis settings in one place: a dataclass, loadable from TOML, echoed into every summary.json."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

#: The settings the pose stage reads (:func:`buttwink.pipeline.estimate_with_settings`); everything else only
#: changes the measurement after it, so saved landmarks stay valid when only those change.
POSE_STAGE_FIELDS: tuple[str, ...] = ("model_variant", "max_height_px", "min_detection_confidence",
                                      "min_tracking_confidence")


@dataclass(frozen=True)
class Settings:
    """Analysis settings. Units in the names: ``_deg`` degrees, ``_s`` seconds, ``_hz`` hertz."""

    # Pose stage
    model_variant: str = "full"
    max_height_px: int = 720
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    # Cleaning and smoothing
    min_visibility: float = 0.5  # landmarks below this visibility are dropped (NaN) before smoothing
    max_gap_s: float = 0.25  # gaps up to this long are filled by interpolation; longer ones stay NaN
    hampel_window_s: float = 0.25  # outlier filter half-window ~ 7 frames at 30 fps
    hampel_sigmas: float = 2.5
    cutoff_hz: float = 4.0  # Butterworth low-pass cutoff (after the filtfilt correction)
    filter_order: int = 2  # per pass; filtfilt doubles it
    # Reps
    min_rep_range_deg: float = 30.0  # depth excursion (standing - bottom) below which a dip is not a rep
    max_bottom_depth_deg: float = 45.0  # a rep whose bottom is shallower than this is a partial rep
    min_rep_duration_s: float = 0.8
    # Onset detector
    wink_threshold_deg: float = 8.0  # departure from the descent trend that counts as a wink
    pool_onsets: bool = True  # read each rep's onset depth together with the clip's other reps (a person's onset
    # varies little between reps); False: every rep on its own
    # View checks
    max_view_yaw_deg: float = 50.0  # clips filmed further than this off the side view are refused
    min_detected_fraction: float = 0.6
    min_clip_duration_s: float = 2.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def pose_stage_values(self) -> dict[str, Any]:
        """The values of :data:`POSE_STAGE_FIELDS`: what pose estimation depends on among the settings."""
        return {name: getattr(self, name) for name in POSE_STAGE_FIELDS}

    def updated(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied; ``None`` values are ignored (unset CLI flags)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_toml(cls, path: Path | str) -> Settings:
        """Load settings from a TOML file (top level or an ``[analysis]`` table); unknown keys are errors."""
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        data = data.get("analysis", data)
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"{path}: unknown setting(s): {', '.join(unknown)}")
        default = cls()
        coerced = {}
        for key, value in data.items():
            expected = type(getattr(default, key))
            if expected is float and isinstance(value, int):
                value = float(value)
            if not isinstance(value, expected):
                raise ValueError(f"{path}: setting {key} must be {expected.__name__}, got {value!r}")
            coerced[key] = value
        return replace(default, **coerced)
