"""Regenerate docs/img/angles.png: how the angles are read from a frame (python docs/make_figures.py)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
from matplotlib.figure import Figure

from buttwink.back_contour import BACK_STATIONS
from buttwink.kinematics import LUMBAR_REGION, PELVIS_REGION, THORAX_REGION, back_contour_points
from buttwink.pipeline import analyze_landmarks, estimate_clip
from buttwink.video import iter_frames

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "sample_videos" / "wink_parallel" / "video.mp4"
REGIONS = (("pelvis", PELVIS_REGION, "#d62728"), ("lumbar", LUMBAR_REGION, "#ff7f0e"),
           ("thorax", THORAX_REGION, "#1f77b4"))


def _line(points: np.ndarray, extend: float = 12.0) -> np.ndarray:
    pts = points[np.isfinite(points).all(axis=1)]
    centre = pts.mean(axis=0)
    direction = np.linalg.svd(pts - centre)[2][0]
    half = np.ptp(pts @ direction) / 2 + extend
    return np.array([centre - half * direction, centre + half * direction])


def _label(ax, xy: np.ndarray, text: str, colour: str, behind: float) -> None:
    """Angle label at ``xy`` (image px), on the side away from where the person faces."""
    ha = "right" if behind > 0 else "left" if behind < 0 else "center"
    ax.text(xy[0], xy[1], text, ha=ha, va="center", fontsize=8, color="white",
            bbox={"boxstyle": "round,pad=0.2", "facecolor": colour, "edgecolor": "none", "alpha": 0.85})


def main() -> None:
    track = estimate_clip(CLIP)
    result = analyze_landmarks(track)
    frames = result.frames
    rep = result.reps.iloc[0]
    picks = {"standing (reference posture)": int(rep["start"]) - 5,
             f"onset: {rep['onset_depth_deg']:.0f}° thigh angle": int(rep["onset_frame"]),
             f"bottom: {frames['depth_deg'][int(rep['bottom'])]:.0f}°, tuck {rep['wink_deg']:.0f}°": int(rep["bottom"])}
    images = {f.index: f.rgb for f in iter_frames(CLIP, max_height=track.video["height"]) if f.index in picks.values()}
    contours = back_contour_points(track.table)
    near = result.analysis.view.near_side
    behind = result.analysis.view.facing_sign  # labels go behind the back: -x when facing image-right
    fig = Figure(figsize=(13, 5.2), dpi=100)
    axes = fig.subplots(1, 3)
    for ax, (title, row) in zip(axes, picks.items(), strict=True):
        ax.imshow(images[row])
        contour = contours[row]
        ax.plot(contour[:, 0], contour[:, 1], ".", color="white", ms=3)
        f = frames.iloc[row]
        labels = {"pelvis": f"pelvis tilt {f['pelvis_tilt_deg']:+.0f}°",
                  "lumbar": f"lumbar {f['lumbar_angle_deg']:+.0f}°",
                  "thorax": f"flexion vs pelvis {f['lumbar_flexion_deg']:+.0f}°"}
        for name, (lo, hi), colour in REGIONS:
            sel = (lo - 1e-9 <= BACK_STATIONS) & (hi + 1e-9 >= BACK_STATIONS)
            seg = _line(contour[sel])
            ax.plot(seg[:, 0], seg[:, 1], "-", color=colour, lw=3, label=f"{name} line")
            _label(ax, seg.mean(axis=0) + np.array([-behind * 14, 0]), labels[name], colour, behind)
        tab = track.table.iloc[row]
        hip = np.array([tab[f"{near}_hip_x_px"], tab[f"{near}_hip_y_px"]])
        knee = np.array([tab[f"{near}_knee_x_px"], tab[f"{near}_knee_y_px"]])
        shoulder = np.array([tab[f"{near}_shoulder_x_px"], tab[f"{near}_shoulder_y_px"]])
        ax.plot(*np.c_[hip, knee], "-", color="#2ca02c", lw=2.5, label="thigh (depth)")
        ax.plot(*np.c_[hip, shoulder], "--", color="k", lw=1.5, label="hip–shoulder axis")
        ax.plot([hip[0], hip[0] + 60], [hip[1], hip[1]], ":", color="#2ca02c", lw=1.5)
        _label(ax, knee + np.array([0, 22]), f"thigh {f['depth_deg']:+.0f}°", "#2ca02c", 0)
        ax.set_title(f"{title}\npelvis tilt {f['pelvis_tilt_deg']:+.0f}°, spine-to-pelvis flexion "
                     f"{f['lumbar_flexion_deg']:+.0f}°", fontsize=10)
        ax.set_xlim(hip[0] - 150, hip[0] + 150)
        ax.set_ylim(hip[1] + 130, hip[1] - 190)
        ax.axis("off")
    axes[0].legend(loc="lower left", fontsize=8, framealpha=0.8)
    fig.suptitle("Angles read from one side-view frame: thigh angle from the landmarks; pelvis, lumbar and thorax "
                 "lines fitted to the back contour (white)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    out = ROOT / "docs" / "img" / "angles.png"
    fig.savefig(out)
    print(out)


if __name__ == "__main__":
    main()
