"""All analysis settings in one place: a dataclass, loadable from TOML, echoed into every summary.json."""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

#: The settings the pose stage reads (:func:`buttwink.pipeline.estimate_with_settings`); everything else only
#: changes the measurement after it, so saved landmarks stay valid when only those change.
POSE_STAGE_FIELDS: tuple[str, ...] = ("model_variant", "max_height_px", "min_detection_confidence",
                                      "min_tracking_confidence", "mirror_consensus")

#: Allowed range of every numeric setting, both ends included: (low, high). Values outside, NaN and infinities
#: are refused when a :class:`Settings` is made, so a bad value fails before any clip is analysed.
RANGES: dict[str, tuple[float, float]] = {
    "max_height_px": (64, 4320),
    "min_detection_confidence": (0.0, 1.0),
    "min_tracking_confidence": (0.0, 1.0),
    "min_visibility": (0.0, 1.0),
    "max_gap_s": (0.0, 5.0),
    "hampel_window_s": (0.01, 5.0),
    "hampel_sigmas": (0.5, 20.0),
    "cutoff_hz": (0.5, 20.0),
    "filter_order": (1, 8),
    "min_rep_range_deg": (5.0, 150.0),
    "max_bottom_depth_deg": (-90.0, 90.0),
    "min_rep_duration_s": (0.1, 60.0),
    "wink_threshold_deg": (0.5, 90.0),
    "max_view_yaw_deg": (0.0, 90.0),
    "min_detected_fraction": (0.0, 1.0),
    "min_clip_duration_s": (0.0, 60.0),
}
MODEL_VARIANTS = ("lite", "full", "heavy")
#: The angles the onset detector can read for the tuck (``Settings.wink_signal``): the pelvis region line's
#: posterior tilt, or the pelvis turned back under the landmarks' trunk axis (hips to shoulders; the default).
WINK_SIGNALS = ("posterior_pelvic_tilt_deg", "trunk_pelvis_flexion_deg")


class SettingsError(ValueError):
    """A setting has a value of the wrong type or outside its range. ``setting`` names it, ``requirement``
    says what it must be ("be between 0.5 and 90") and ``value`` what it got; ``str(err)`` is a one-line
    message naming all three (and the TOML file, when it came from one). :meth:`as_flag` words it for a
    command-line flag."""

    def __init__(self, setting: str, requirement: str, value: object, where: str = "") -> None:
        self.setting, self.requirement, self.value = setting, requirement, value
        super().__init__(f"{where}setting {setting} must {requirement}, got {value!r}")

    def as_flag(self, flag: str) -> str:
        return f"{flag} must {self.requirement} (got {self.value!r})"


@dataclass(frozen=True)
class Settings:
    """Analysis settings. Units in the names: ``_deg`` degrees, ``_s`` seconds, ``_hz`` hertz."""

    # Pose stage
    model_variant: str = "full"
    max_height_px: int = 720
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    mirror_consensus: bool = True  # also read every frame flipped left-right (twice the pose time) and call a
    # wink only where both readings do (buttwink.mirror)
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
    wink_signal: str = "trunk_pelvis_flexion_deg"  # the per-frame angle the onset detector reads (WINK_SIGNALS)
    pool_onsets: bool = True  # read each rep's onset depth together with the clip's other reps (a person's onset
    # varies little between reps); False: every rep on its own
    # View checks
    max_view_yaw_deg: float = 50.0  # clips filmed further than this off the side view are refused
    min_detected_fraction: float = 0.6
    min_clip_duration_s: float = 0.8  # the shortest clip that can hold a rep (a GIF of one rep is ~1.3 s)

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f.name, getattr(self, f.name), type(f.default))

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
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))  # a BOM is not a statement
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML ({exc})") from None
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a TOML settings file (not UTF-8 text)") from None
        except RecursionError:
            raise ValueError(f"{path}: not a settings file (nested too deeply)") from None
        except OSError as exc:
            raise ValueError(f"{path}: cannot read the settings file ({exc.strerror or exc})") from None
        if "analysis" in data and len(data) > 1:
            others = ", ".join(sorted(k for k in data if k != "analysis"))
            raise ValueError(f"{path}: settings both at the top level ({others}) and in [analysis]; put them in "
                             "one place")
        data = data.get("analysis", data)
        if not isinstance(data, dict):
            raise ValueError(f"{path}: [analysis] must be a table of settings")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"{path}: unknown setting(s): {', '.join(unknown)}")
        default = cls()
        coerced = {}
        for key, value in data.items():
            expected = type(getattr(default, key))
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            try:
                _check(key, value, expected)
            except SettingsError as exc:
                raise SettingsError(key, exc.requirement, exc.value, f"{path}: ") from None
            coerced[key] = value
        return replace(default, **coerced)


def _check(name: str, value: object, expected: type) -> None:
    """Raise :class:`SettingsError` unless ``value`` is a valid value of setting ``name``."""
    # bool is an int in Python; a setting that wants a number never takes True/False, and vice versa.
    ok_type = isinstance(value, expected) and (expected is bool or not isinstance(value, bool))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        ok_type = True
    if not ok_type:
        raise SettingsError(name, f"be {_type_word(expected)}", value)
    if name == "model_variant" and value not in MODEL_VARIANTS:
        raise SettingsError(name, f"be one of {', '.join(MODEL_VARIANTS)}", value)
    if name == "wink_signal" and value not in WINK_SIGNALS:
        raise SettingsError(name, f"be one of {', '.join(WINK_SIGNALS)}", value)
    if name in RANGES:
        low, high = RANGES[name]
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number) or not low <= number <= high:
            raise SettingsError(name, f"be between {low:g} and {high:g}", value)


def _type_word(expected: type) -> str:
    return {bool: "true or false", int: "a whole number", float: "a number", str: "text"}.get(expected,
                                                                                           expected.__name__)
