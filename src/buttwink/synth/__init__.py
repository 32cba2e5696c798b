"""Procedural ground-truth squat renderer: a shaded mannequin squatting, seen from the side.

Public API::

    from buttwink.synth import SquatParams, CameraParams, render_clip, compute_truth

* :func:`compute_truth` — kinematics and ground truth without rendering (pure, fast).
* :func:`render_clip` — render ``video.mp4`` plus ``truth.csv``, ``reps_truth.csv``, ``params.json``.
* :func:`render_frames` — the frames as uint8 RGB arrays.
* :func:`render_silhouettes` — the body's exact silhouette in each frame (a perfect segmentation).

Angles follow ``docs/conventions.md`` (degrees, sagittal plane); pixels have x right, y down.
"""

from .kinematics import FRAME_COLUMNS, REP_COLUMNS, Truth, compute_truth
from .params import CameraParams, SquatParams
from .render import RenderResult, render_clip, render_frames, render_silhouettes

__all__ = [
    "FRAME_COLUMNS",
    "REP_COLUMNS",
    "CameraParams",
    "RenderResult",
    "SquatParams",
    "Truth",
    "compute_truth",
    "render_clip",
    "render_frames",
    "render_silhouettes",
]
