"""Parameters of a synthetic squat clip: the movement (:class:`SquatParams`) and the view (:class:`CameraParams`).

Units: metres, seconds, degrees, pixels. Angle conventions follow ``docs/conventions.md``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

ArmPosition = Literal["forward", "bar", "hips"]
Facing = Literal["right", "left"]


@dataclass(frozen=True)
class SquatParams:
    """How the mannequin squats.

    Attributes:
        height_m: body height in metres; every segment length and girth scales with it.
        depth_deg: thigh angle at the bottom of each rep, ``depth_deg`` convention (90 standing,
            0 thigh parallel to the floor, negative below parallel).
        descent_s, ascent_s: duration of the way down / up, seconds.
        pause_s: time held at the bottom, seconds.
        stand_s: standing time before the first rep and after every rep, seconds.
        reps: number of repetitions.
        stance_width: distance between the ankle joint centres as a fraction of body height.
        toe_out_deg: outward rotation of each foot about the vertical, degrees.
        trunk_lean_deg: trunk inclination (hip joint centre to shoulder, from vertical, forward +) at the
            bottom of a rep without a wink; it grows in proportion to the thigh's descent.
        ankle_dorsiflexion_deg: shank inclination (forward +) at the bottom; the foot stays flat, so knee
            flexion follows from depth and dorsiflexion.
        arms: "forward" (arms extended forward), "bar" (hands at the shoulders, as in a back squat) or
            "hips" (hands on the hips).
        lumbar_flexion_per_deg: natural lumbar flexion (degrees, flexion +) per degree of thigh descent
            (90 - depth_deg); the pelvis tilts anteriorly with the trunk, by whatever the trunk lean needs.
        wink_deg: butt wink, posterior pelvic tilt (degrees, >= 0) reached at the bottom; 0 = no wink.
        onset_depth_deg: ``depth_deg`` at which the wink starts in the descent (and is gone again on the
            ascent). A rep whose bottom is not deeper than this has no wink.
        wink_l5s1_share: fraction of the wink's lumbar flexion taken by the L5/S1 joint; the rest goes to
            T12/L1. The thorax keeps its path: pelvis rotates back by the wink, the spine flexes to absorb it.
        jitter: scale of the per-rep random variation drawn from the seed (depth, wink size, lean, tempo);
            0 makes all reps identical. The onset depth is never jittered.
    """

    height_m: float = 1.75
    depth_deg: float = -15.0
    descent_s: float = 1.2
    ascent_s: float = 1.0
    pause_s: float = 0.25
    stand_s: float = 0.5
    reps: int = 3
    stance_width: float = 0.24
    toe_out_deg: float = 15.0
    trunk_lean_deg: float = 40.0
    ankle_dorsiflexion_deg: float = 32.0
    arms: ArmPosition = "forward"
    lumbar_flexion_per_deg: float = 0.08
    wink_deg: float = 0.0
    onset_depth_deg: float = 0.0
    wink_l5s1_share: float = 0.65
    jitter: float = 1.0

    def __post_init__(self) -> None:
        bad = [f.name for f in fields(self) if isinstance(getattr(self, f.name), float)
               and not math.isfinite(getattr(self, f.name))]
        if bad:
            raise ValueError(f"{', '.join(bad)} must be finite numbers")
        if self.height_m <= 0.5 or self.height_m > 2.5:
            raise ValueError("height_m must be a human height in metres")
        if not -60.0 <= self.depth_deg < 85.0:
            raise ValueError("depth_deg must be in [-60, 85)")
        if self.reps < 1:
            raise ValueError("reps must be >= 1")
        if min(self.descent_s, self.ascent_s) <= 0 or min(self.pause_s, self.stand_s) < 0:
            raise ValueError("durations must be positive")
        if self.wink_deg < 0:
            raise ValueError("wink_deg is a magnitude (>= 0)")
        if not 0.0 <= self.wink_l5s1_share <= 1.0:
            raise ValueError("wink_l5s1_share must be in [0, 1]")
        if self.arms not in ("forward", "bar", "hips"):
            raise ValueError("arms must be 'forward', 'bar' or 'hips'")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CameraParams:
    """Where the camera is and what the video looks like.

    Attributes:
        distance_m: horizontal distance from the camera to the person's sagittal plane aim point, metres.
        height_m: camera height above the floor, metres; ``None`` = standing hip-joint height.
        yaw_deg: rotation of the camera about the vertical away from the pure side view, degrees
            (positive = camera moves toward the person's front). 0-30 is the supported range.
        width, height: frame size in pixels.
        fps: frames per second.
        vfov_deg: vertical field of view, degrees.
        pitch_deg: camera tilt about its horizontal axis, degrees (positive = tilted up, as a phone on the floor
            aimed at the person; 0 = level).
        facing: "right" = the person faces image-right (near side = person's right side),
            "left" = mirror image (near side = person's left side).
        noise_sigma: sensor noise, standard deviation in 8-bit grey levels (0 = none).
        blur_sigma: Gaussian blur sigma in pixels (0 = none), applied before the noise.
        wall_distance_m: distance of the background wall behind the person's midline, metres.
        supersample: render at this many times the resolution and downscale (anti-aliasing).
    """

    distance_m: float = 3.6
    height_m: float | None = None
    yaw_deg: float = 0.0
    width: int = 640
    height: int = 480
    fps: float = 30.0
    vfov_deg: float = 40.0
    pitch_deg: float = 0.0
    facing: Facing = "right"
    noise_sigma: float = 0.0
    blur_sigma: float = 0.0
    wall_distance_m: float = 1.3
    supersample: int = 1

    def __post_init__(self) -> None:
        bad = [f.name for f in fields(self) if isinstance(getattr(self, f.name), float)
               and not math.isfinite(getattr(self, f.name))]
        if bad:
            raise ValueError(f"{', '.join(bad)} must be finite numbers")
        if self.facing not in ("right", "left"):
            raise ValueError("facing must be 'right' or 'left'")
        if self.width < 32 or self.height < 32:
            raise ValueError("frame too small")
        if not 1.0 <= self.fps <= 1000.0 or self.distance_m <= 0.5:
            raise ValueError("fps must be between 1 and 1000 and distance above 0.5 m")
        if not -45.0 <= self.yaw_deg <= 45.0:
            raise ValueError("yaw_deg must be within +-45")
        if not -45.0 <= self.pitch_deg <= 45.0:
            raise ValueError("pitch_deg must be within +-45")
        if self.supersample < 1:
            raise ValueError("supersample must be >= 1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
