"""buttwink: find butt wink (posterior pelvic tilt near the bottom of a squat) in side-view squat videos.

Quick start::

    import buttwink
    result = buttwink.analyze("squat.mp4")          # video -> pose -> angles -> reps -> onset
    result.reps                                     # one row per rep (pandas DataFrame)
    result.frames                                   # one row per frame: every angle, raw and smoothed
    buttwink.write_report(result, "out/")           # report.png, frames.csv, reps.csv, summary.json

Every stage is also a plain function (see docs/api.md). Importing this package loads no model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["ClipError", "PoseTrack", "Result", "Settings", "__version__", "analyze", "analyze_landmarks",
           "estimate_clip", "write_report"]

_LAZY = {
    "analyze": "buttwink.pipeline", "analyze_landmarks": "buttwink.pipeline", "estimate_clip": "buttwink.pipeline",
    "PoseTrack": "buttwink.pipeline", "Result": "buttwink.pipeline", "ClipError": "buttwink.pipeline",
    "Settings": "buttwink.settings", "write_report": "buttwink.report",
}

if TYPE_CHECKING:
    from buttwink.pipeline import ClipError, PoseTrack, Result, analyze, analyze_landmarks, estimate_clip
    from buttwink.report import write_report
    from buttwink.settings import Settings


def __getattr__(name: str) -> Any:
    """Import the public API lazily, so ``import buttwink`` stays cheap (no OpenCV/MediaPipe until used)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'buttwink' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
