"""Does the real estimator see the mannequin? MediaPipe PoseLandmarker (VIDEO mode) against the truth."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

#: BlazePose indices (person's left, person's right) of the joints compared with the truth
JOINTS: dict[str, tuple[int, int]] = {
    "shoulder": (11, 12),
    "hip": (23, 24),
    "knee": (25, 26),
    "ankle": (27, 28),
    "heel": (29, 30),
    "toe": (31, 32),
}


def _default_model() -> Path:
    from buttwink.models import ensure_model

    return Path(ensure_model().path)


def estimator_agreement(
    video_path: str | os.PathLike[str], truth_df: pd.DataFrame, model_path: str | os.PathLike[str] | None = None
) -> dict[str, object]:
    """Run MediaPipe PoseLandmarker on ``video_path`` and compare its near-side points with ``truth_df``.

    The near side is the side facing the camera: the person's right when they face image-right (truth toe
    x > heel x), else the left. Errors are Euclidean pixel distances divided by the frame's
    ``body_height_px`` (percent of body height).

    Returns a dict with ``n_frames``, ``detection_rate`` (0..1), ``near_side`` ("right"/"left"),
    ``median_error_pct`` (joint -> median % of body height over detected frames), ``p90_error_pct``,
    ``mean_offset_pct`` (joint -> mean (dx, dy) in % of height, x right / y down) and
    ``max_median_error_pct`` over shoulder, hip, knee and ankle.
    """
    os.environ.setdefault("GLOG_minloglevel", "2")
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    model = Path(model_path) if model_path is not None else _default_model()
    facing_right = float(np.median(truth_df["toe_x_px"] - truth_df["heel_x_px"])) > 0
    side = 1 if facing_right else 0
    cap = cv2.VideoCapture(str(video_path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    opts = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model)),
        running_mode=vision.RunningMode.VIDEO,
        output_segmentation_masks=False,
    )
    errs: dict[str, list[float]] = {j: [] for j in JOINTS}
    offs: dict[str, list[tuple[float, float]]] = {j: [] for j in JOINTS}
    n = detected = 0
    with vision.PoseLandmarker.create_from_options(opts) as lm:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            if n >= len(truth_df):
                break
            rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            h, w = rgb.shape[:2]
            res = lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), int(round(n * 1000 / fps)))
            row = truth_df.iloc[n]
            n += 1
            if not res.pose_landmarks:
                continue
            detected += 1
            lms = res.pose_landmarks[0]
            scale = 100.0 / float(row["body_height_px"])
            for j, idx in JOINTS.items():
                p = lms[idx[side]]
                dx, dy = p.x * w - row[f"{j}_x_px"], p.y * h - row[f"{j}_y_px"]
                errs[j].append(float(np.hypot(dx, dy)) * scale)
                offs[j].append((dx * scale, dy * scale))
    cap.release()
    med = {j: float(np.median(v)) if v else float("nan") for j, v in errs.items()}
    return {
        "n_frames": n,
        "detection_rate": detected / n if n else 0.0,
        "near_side": "right" if facing_right else "left",
        "median_error_pct": med,
        "p90_error_pct": {j: float(np.percentile(v, 90)) if v else float("nan") for j, v in errs.items()},
        "mean_offset_pct": {j: tuple(np.mean(v, axis=0).round(2)) if v else (np.nan, np.nan) for j, v in offs.items()},
        "max_median_error_pct": max(med[j] for j in ("shoulder", "hip", "knee", "ankle")),
    }
