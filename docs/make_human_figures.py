"""Regenerate docs/img/human_body.png and docs/img/human_lbs_dqs.png (python docs/make_human_figures.py).

Needs the MakeHuman data (fetched with pip on first use, see docs/human_body.md).
"""

from pathlib import Path

import cv2
import numpy as np

import buttwink.synth.human_render as HR  # noqa: N812
from buttwink.synth.body import BodyShape
from buttwink.synth.human import HumanParams, compute_human_truth
from buttwink.synth.makehuman import BodyShapeParams
from buttwink.synth.params import CameraParams, SquatParams

IMG = Path(__file__).resolve().parent / "img"


def stills() -> None:
    """Tight male (seed 0) and loose female (seed 5): standing, at the wink onset (10°) and at the bottom."""
    squat = SquatParams(reps=1, wink_deg=15, onset_depth_deg=10, jitter=0, stand_s=0.2)
    cam = CameraParams(width=480, height=360, fps=15, supersample=2)
    rows = []
    for clothes, shape, seed in (("tight", BodyShapeParams(), 0),
                                 ("loose", BodyShapeParams(sex=0.0, weight=0.6, buttocks=0.7), 5)):  # fmt: skip
        human = HumanParams(shape=shape, clothes=clothes)
        truth = compute_human_truth(squat, human, cam, seed)
        f = truth.frames
        descent = f.index[f.phase == "descent"]
        idx = [0, int(descent[np.argmin(np.abs(f.depth_deg[descent] - 10))]), int(f.depth_deg.idxmin())]
        crops = []
        for i, im in zip(idx, HR.render_human_frames(squat, human, cam, seed, truth, idx), strict=True):
            cx = int(np.clip(f.hip_x_px[i] + 45, 140, cam.width - 140))
            crops.append(im[50:340, cx - 140 : cx + 140])
        rows.append(np.hstack(crops))
    cv2.imwrite(str(IMG / "human_body.png"), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))


def skinning() -> None:
    """The seat at the bottom of a squat (thigh 25° below parallel): linear blend (left), dual quaternions (right)."""
    # light clothes, so that the creases show
    HR.draw_shape = lambda seed: BodyShape(1.0, (214, 160, 125), (200, 200, 205), (170, 180, 200), (60, 60, 65),
                                           (40, 28, 20))  # fmt: skip
    squat = SquatParams(reps=1, depth_deg=-25, jitter=0, stand_s=0.2)
    cam = CameraParams(width=960, height=720, fps=15, distance_m=2.2, yaw_deg=10)
    crops = []
    for method in ("lbs", "dqs"):
        human = HumanParams(skinning=method)
        truth = compute_human_truth(squat, human, cam, 1)
        i = int(truth.frames.depth_deg.idxmin())
        frame = next(HR.render_human_frames(squat, human, cam, 1, truth, [i]))
        hx, hy = int(truth.frames.hip_x_px[i]), int(truth.frames.hip_y_px[i])
        crops.append(frame[hy - 220 : hy + 150, hx - 200 : hx + 220])
    both = np.hstack(crops)
    both = cv2.resize(both, (both.shape[1] * 3 // 4, both.shape[0] * 3 // 4), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(IMG / "human_lbs_dqs.png"), cv2.cvtColor(both, cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    stills()
    skinning()
