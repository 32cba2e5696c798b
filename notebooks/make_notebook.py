"""Regenerate buttwink_walkthrough.ipynb, stored without outputs so diffs stay small.

Run: python notebooks/make_notebook.py [OUT.ipynb]   (default: next to this script)
"""

import sys
from pathlib import Path

import nbformat as nbf

CELLS = [
    ("md", """# buttwink walkthrough

Analyse squat clips through the Python API, look at every stage, compare all the sample clips in one
DataFrame next to their ground truth, and rerun the measurement with other settings from saved landmarks
(no pose estimation again).

The clips are the bundled renders in `../sample_videos/`: each comes with the truth the renderer recorded
(`truth.csv` per frame, `reps_truth.csv` per rep). Run this notebook from the `notebooks/` folder."""),
    ("code", """import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import buttwink
from buttwink.kinematics import LUMBAR_REGION, PELVIS_REGION, THORAX_REGION, back_contour_points
from buttwink.pipeline import ONSET_SIGNAL, WINK_SIGNAL, PoseTrack, analyze_landmarks, estimate_with_settings
from buttwink.video import iter_frames

SAMPLES = Path("../sample_videos")
assert SAMPLES.is_dir(), "run the notebook with notebooks/ as the working directory"
CLIPS = sorted(p.name for p in SAMPLES.iterdir() if (p / "video.mp4").exists())
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)
print("sample clips:", ", ".join(CLIPS))"""),
    ("md", """## 1. Analyse one clip: video → pose → angles → reps → onset

`buttwink.analyze` runs every stage; `result.frames` has one row per frame, `result.reps` one row per rep.
Settings live in one dataclass, `buttwink.Settings`. Every frame is read twice, as it is and mirrored, and
a rep is called a wink only where both readings call one (`Settings(mirror_consensus=False)` reads each
frame once, in half the time)."""),
    ("code", """clip = SAMPLES / "wink_parallel" / "video.mp4"
settings = buttwink.Settings()
result = buttwink.analyze(clip, settings)
print(f"{len(result.frames)} frames; pose estimation {result.timings_s['pose_s']:.1f} s, "
      f"measurement {result.timings_s['measure_s']:.2f} s")
print("verdict:", result.summary()["verdict"])
result.reps[["rep", "status", "wink", "wink_deg", "onset_time_s", "onset_depth_deg", "onset_hip_flexion_deg",
             "confidence"]]"""),
    ("md", """## 2. Raw landmarks of the near side

Straight from MediaPipe, in image pixels (y grows downwards). The view check picks the side nearer the
camera; the far side is mostly hidden."""),
    ("code", """view = result.analysis.view
table = result.track.table
print(f"near side {view.near_side}, facing {view.facing}, estimated yaw {view.view_yaw_deg:.0f}°")
fig, axes = plt.subplots(2, 1, figsize=(10, 4.5), sharex=True)
for joint in ("shoulder", "hip", "knee"):
    axes[0].plot(table["time_s"], table[f"{view.near_side}_{joint}_x_px"], label=joint)
    axes[1].plot(table["time_s"], table[f"{view.near_side}_{joint}_y_px"], label=joint)
axes[0].set_ylabel("image x, px")
axes[1].set_ylabel("image y, px")
axes[1].invert_yaxis()
axes[1].set_xlabel("time, s")
axes[0].legend(ncol=3)
plt.show()"""),
    ("md", """## 3. The back contour on the deepest frame

The posterior edge of PoseLandmarker's segmentation mask, traced perpendicular to the hip–shoulder axis at
stations from 0.2 trunk-lengths below the hips to the shoulders. Straight lines fitted over the pelvis,
lumbar and thorax regions give the back angles (see `docs/method.md`)."""),
    ("code", """from buttwink.back_contour import BACK_STATIONS

row = int(np.nanargmin(result.frames["depth_deg"]))
frame = next(f for f in iter_frames(clip, max_height=int(result.track.video["height"])) if f.index == row)
contour = back_contour_points(table)[row]
fig, ax = plt.subplots(figsize=(6, 4.5))
ax.imshow(frame.rgb)
ax.plot(contour[:, 0], contour[:, 1], "w.", ms=4, label="back edge")
for (lo, hi), colour, name in ((PELVIS_REGION, "tab:red", "pelvis"), (LUMBAR_REGION, "tab:orange", "lumbar"),
                               (THORAX_REGION, "tab:cyan", "thorax")):
    pts = contour[(BACK_STATIONS - lo > -1e-9) & (hi - BACK_STATIONS > -1e-9)]
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) >= 2:
        centre = pts.mean(axis=0)
        direction = np.linalg.svd(pts - centre)[2][0]
        ends = centre + np.outer([-1, 1], direction) * np.abs((pts - centre) @ direction).max()
        ax.plot(ends[:, 0], ends[:, 1], color=colour, lw=3, label=name)
for joint in ("shoulder", "hip", "knee"):
    ax.plot(table.loc[row, f"{view.near_side}_{joint}_x_px"], table.loc[row, f"{view.near_side}_{joint}_y_px"],
            "o", color="yellow", ms=5)
ax.set_title(f"frame {row}, thigh angle {result.frames['depth_deg'][row]:.0f}° (0 = parallel)")
ax.legend(loc="lower left", fontsize=8)
ax.axis("off")
plt.show()"""),
    ("md", """## 4. Raw vs cleaned and smoothed curves

Each angle is despiked (Hampel filter), short gaps are filled, and a zero-lag 4 Hz Butterworth low-pass
smooths it. The raw series (`*_raw`) are kept next to the smoothed ones. The onset detector reads the
despiked, unfiltered series (`*_despiked`)."""),
    ("code", """frames = result.frames
fig, axes = plt.subplots(3, 1, figsize=(10, 7), sharex=True)
for ax, col in zip(axes, ("depth_deg", WINK_SIGNAL, ONSET_SIGNAL), strict=True):
    ax.plot(frames["time_s"], frames[f"{col}_raw"], ".", ms=3, color="grey", label="raw")
    if f"{col}_despiked" in frames:
        ax.plot(frames["time_s"], frames[f"{col}_despiked"], lw=0.8, label="despiked (onset detector input)")
    ax.plot(frames["time_s"], frames[col], lw=2, label="smoothed")
    ax.set_ylabel(col, fontsize=8)
axes[0].legend(fontsize=8)
axes[-1].set_xlabel("time, s")
plt.show()"""),
    ("md", """## 5. Depth with the reps, and the wink signal with the onsets

Top: the thigh angle (90° standing, 0° parallel, negative below) with each rep's span and bottom. Bottom:
the wink signal, the pelvis turned under the trunk, against the renderer's truth (the silhouette reads
about half of it: `onset.CALIBRATIONS`), with the measured onset (solid) and the true onset (dashed) of
each rep."""),
    ("code", """truth = pd.read_csv(SAMPLES / "wink_parallel" / "truth.csv")
reps_truth = pd.read_csv(SAMPLES / "wink_parallel" / "reps_truth.csv")
fig, axes = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
axes[0].plot(frames["time_s"], frames["depth_deg"], label="measured")
axes[0].plot(truth["time_s"], truth["depth_deg"], "k--", lw=0.8, label="truth")
axes[0].axhline(0, color="k", lw=0.5)
axes[0].set_ylabel("thigh angle, °")
axes[1].plot(frames["time_s"], frames[WINK_SIGNAL], label="pelvis under the trunk, measured")
trunk = truth["trunk_inclination_deg"] - truth["trunk_inclination_deg"].iloc[0]
axes[1].plot(truth["time_s"], trunk - truth["pelvis_tilt_deg"], "k--", lw=0.8, label="truth")
axes[1].set_ylabel("pelvis under the trunk, °")
for _, rep in result.reps.iterrows():
    for ax in axes:
        ax.axvspan(rep["start_time_s"], rep["end_time_s"], alpha=0.08, color="grey")
    axes[0].plot(rep["bottom_time_s"], frames["depth_deg"][rep["bottom"]], "v", color="k")
    axes[0].annotate(f"rep {rep['rep']}: {rep['status']}", (rep["start_time_s"], 80), fontsize=8)
    if rep["wink"]:
        axes[1].axvline(rep["onset_time_s"], color="red", label="onset, measured" if rep["rep"] == 1 else None)
for t in reps_truth["onset_time_s"].dropna():
    axes[1].axvline(t, color="red", ls="--", lw=0.8)
axes[0].legend(fontsize=8)
axes[1].legend(fontsize=8)
axes[1].set_xlabel("time, s")
plt.show()"""),
    ("md", """## 6. All sample clips in one DataFrame, next to the truth

Pose estimation is the slow stage, so it runs once per clip (the clip from section 1 is reused) and the
landmarks are kept for section 7. A truth rep winks when its tuck reaches the wink threshold."""),
    ("code", """tracks = {"wink_parallel": result.track}
t0 = time.perf_counter()
for name in CLIPS:
    if name not in tracks:
        tracks[name] = estimate_with_settings(SAMPLES / name / "video.mp4", settings)
pose_s = time.perf_counter() - t0
pose_per_clip_s = pose_s / max(len(tracks) - 1, 1)
print(f"pose estimation: {len(tracks) - 1} more clips in {pose_s:.1f} s ({pose_per_clip_s:.1f} s per clip)")


def compare_clips(tracks, settings):
    rows = []
    for name, track in sorted(tracks.items()):
        reps = analyze_landmarks(track, settings).reps
        reps["onset_depth_deg"] = reps["onset_depth_deg"].astype(float)  # None (no wink) becomes NaN
        truth = pd.read_csv(SAMPLES / name / "reps_truth.csv")
        truth = truth[["rep", "wink_deg", "onset_depth_deg", "onset_time_s"]].add_prefix("truth_")
        merged = reps.merge(truth, left_on="rep", right_on="truth_rep", how="outer").drop(columns="truth_rep")
        merged.insert(0, "clip", name)
        rows.append(merged)
    table = pd.concat(rows, ignore_index=True)
    table["truth_wink"] = table["truth_wink_deg"] >= settings.wink_threshold_deg
    table["onset_error_deg"] = table["onset_depth_deg"] - table["truth_onset_depth_deg"]
    return table


COLUMNS = ["clip", "rep", "status", "wink", "truth_wink", "wink_deg", "truth_wink_deg", "onset_depth_deg",
           "truth_onset_depth_deg", "onset_error_deg", "confidence"]
compare = compare_clips(tracks, settings)
print("clips compared:", ", ".join(sorted(compare["clip"].unique())))
print(f"verdicts matching the truth: {(compare['wink'] == compare['truth_wink']).sum()} of {len(compare)} reps")
compare[COLUMNS].round(1)"""),
    ("md", """### The pelvis line's own reading, apart from the detector

`validation.pelvis_reading` compares the silhouette's pelvis line with the rendered tuck while the
descent's trend is *known* from the truth (a line fitted before the true onset), so no trend or corner is
searched for: `read_tuck_deg` against `true_tuck_deg` over the last 4° of each descent, and their ratio
(`response`, 1 = the line turns with the pelvis). It separates how well the silhouette sees the pelvis
from how well the detector fits it; `benchmarks/accuracy.py` prints the same over its whole grid."""),
    ("code", """from buttwink.validation import pelvis_reading

readings = []
for name, track in sorted(tracks.items()):
    measured = analyze_landmarks(track, settings).frames
    reading = pelvis_reading(measured, pd.read_csv(SAMPLES / name / "truth.csv"),
                             pd.read_csv(SAMPLES / name / "reps_truth.csv"))
    reading.insert(0, "clip", name)
    readings.append(reading)
readings = pd.concat(readings, ignore_index=True)
print(f"response to the tuck: mean {readings['response'].mean():.2f} over {readings['response'].notna().sum()} reps")
readings.round(2)"""),
    ("md", """## 7. Change a setting and rerun only the stages after pose estimation

The landmarks file keeps everything pose estimation produced (landmarks, back contour, clip and model
metadata; see `docs/api.md`). `analyze_landmarks` reruns view checks, angles, cleaning, reps and the onset
detector from it. The same works from the command line:
`buttwink analyze out/clip/landmarks.parquet --from-landmarks -o out2 --threshold-deg 12`."""),
    ("code", """folder = Path(tempfile.mkdtemp(prefix="buttwink-notebook-"))
saved = {name: track.save(folder / f"{name}.parquet") for name, track in tracks.items()}
variants = {"default": settings, "cutoff 2 Hz": settings.updated(cutoff_hz=2.0),
            "threshold 20°": settings.updated(wink_threshold_deg=20.0),
            "each rep on its own": settings.updated(pool_onsets=False)}
results, tables = {}, {}
for label, variant in variants.items():
    t0 = time.perf_counter()
    results[label] = analyze_landmarks(PoseTrack.load(saved["wink_parallel"]), variant)
    elapsed = time.perf_counter() - t0
    print(f"rerun {label!r} (cutoff {variant.cutoff_hz} Hz, threshold {variant.wink_threshold_deg}°) from "
          f"saved landmarks: {elapsed:.2f} s vs {pose_per_clip_s:.1f} s of pose estimation per clip")
    tables[label] = compare_clips({n: PoseTrack.load(p) for n, p in saved.items()}, variant)"""),
    ("md", "What changed: the smoothed curves (a lower cutoff rounds the bottom of each rep), the calls, and "
           "without the pooling of a clip's onsets each rep's own onset (`rep_onset_depth_deg`)."),
    ("code", """fig, ax = plt.subplots(figsize=(10, 3))
for label in ("default", "cutoff 2 Hz"):
    f = results[label].frames
    ax.plot(f["time_s"], f[WINK_SIGNAL], label=label)
ax.plot(frames["time_s"], frames[f"{WINK_SIGNAL}_raw"], ".", ms=2, color="grey", label="raw")
ax.set_ylabel("pelvis under the trunk, °")
ax.set_xlabel("time, s")
ax.legend(fontsize=8)
plt.show()
diff = results["cutoff 2 Hz"].frames["depth_deg"] - results["default"].frames["depth_deg"]
print(f"depth curve, cutoff 4 → 2 Hz: largest change {np.nanmax(np.abs(diff)):.1f}°")
changes = pd.concat({label: t.set_index(["clip", "rep"])[["wink", "wink_deg", "onset_depth_deg"]]
                     for label, t in tables.items()}, axis=1)
changes.round(1)"""),
    ("md", """## 8. Export for OpenSim

Keypoints as a TRC marker file and angles as a MOT file, the formats Sports2D writes (see
`buttwink.export`). `buttwink.write_report` writes both into every report folder."""),
    ("code", """from buttwink.export import export_all

trc, mot = export_all(result, folder)
print("\\n".join(trc.read_text().splitlines()[:3]))
pd.read_csv(mot, sep="\\t", skiprows=6).head()"""),
]


def build() -> nbf.NotebookNode:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src) for kind, src in CELLS]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"  # stable ids: regenerating gives the same file
    return nb


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("buttwink_walkthrough.ipynb")
    nbf.write(build(), out)
