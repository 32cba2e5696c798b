"""Regenerate buttwink_walkthrough.ipynb (stored without outputs). Run: python notebooks/make_notebook.py"""

from pathlib import Path

import nbformat as nbf

cells = [
    ("md", """# buttwink walkthrough

Analyse squat clips through the Python API, look at every stage, compare clips in one DataFrame, and rerun
the measurement with other settings from saved landmarks (no pose estimation again).

The clips are the bundled ground-truth renders in `sample_videos/`, so each measurement can be compared
with the truth the renderer recorded."""),
    ("code", """import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import buttwink
from buttwink.pipeline import PoseTrack, analyze_landmarks
from buttwink.settings import Settings
from buttwink.video import iter_frames

ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
SAMPLES = ROOT / "sample_videos"
pd.set_option("display.width", 160)"""),
    ("md", "## 1. Analyse one clip (video → pose → angles → reps → onset)"),
    ("code", """clip = SAMPLES / "wink_parallel" / "video.mp4"
t0 = time.perf_counter()
result = buttwink.analyze(clip)
print(f"analysed {len(result.frames)} frames in {time.perf_counter() - t0:.1f} s")
print(result.summary()["verdict"])
result.reps[["rep", "status", "wink", "onset_time_s", "onset_depth_deg", "onset_hip_flexion_deg", "wink_deg",
             "confidence"]]"""),
    ("md", "## 2. Raw landmarks of the near side (pixels; y grows downwards)"),
    ("code", """view = result.analysis.view
table = result.track.table
fig, ax = plt.subplots(figsize=(10, 3))
for joint in ("shoulder", "hip", "knee"):
    ax.plot(table["time_s"], table[f"{view.near_side}_{joint}_y_px"], label=joint)
ax.invert_yaxis(); ax.set_xlabel("time, s"); ax.set_ylabel("image y, px"); ax.legend()
print(view)"""),
    ("md", "## 3. The back contour on the deepest frame (posterior edge of the segmentation mask)"),
    ("code", """from buttwink.kinematics import back_contour_points

row = int(np.nanargmin(result.frames["depth_deg"]))
frame = next(f for f in iter_frames(clip, max_height=result.track.video["height"]) if f.index == row)
contour = back_contour_points(table)[row]
fig, ax = plt.subplots(figsize=(5, 4))
ax.imshow(frame.rgb); ax.plot(contour[:, 0], contour[:, 1], "r.-", ms=4)
ax.set_title(f"frame {row}, depth {result.frames['depth_deg'][row]:.0f}°"); ax.axis("off");"""),
    ("md", "## 4. Raw vs cleaned and smoothed curves (degrees)"),
    ("code", """frames = result.frames
fig, axes = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
for ax, col in zip(axes, ("depth_deg", "posterior_pelvic_tilt_deg"), strict=True):
    ax.plot(frames["time_s"], frames[f"{col}_raw"], ".", ms=3, label="raw")
    ax.plot(frames["time_s"], frames[col], label="smoothed (zero-lag Butterworth)")
    ax.set_ylabel(col); ax.legend()
axes[-1].set_xlabel("time, s");"""),
    ("md", "## 5. Reps and the onset of posterior pelvic tilt"),
    ("code", """fig, ax = plt.subplots(figsize=(10, 3.5))
ax.plot(frames["time_s"], frames["depth_deg"], label="thigh angle (90 standing, 0 parallel)")
ax.plot(frames["time_s"], frames["lumbar_flexion_deg"], label="spine-to-pelvis flexion")
for _, rep in result.reps.iterrows():
    ax.axvspan(rep["start_time_s"], rep["end_time_s"], alpha=0.1, color="grey")
    if rep["wink"]:
        ax.axvline(rep["onset_time_s"], color="red")
ax.axhline(0, color="k", lw=0.5); ax.set_xlabel("time, s"); ax.legend();"""),
    ("md", "## 6. Compare clips in one DataFrame, next to the renderer's truth"),
    ("code", """tracks = {"wink_parallel": result.track}
tracks["no_wink"] = buttwink.estimate_clip(SAMPLES / "no_wink" / "video.mp4")
rows = []
for name, track in tracks.items():
    res = analyze_landmarks(track)
    truth = pd.read_csv(SAMPLES / name / "reps_truth.csv")
    reps = res.reps.assign(clip=name, truth_wink_deg=truth["wink_deg"].values,
                           truth_onset_depth_deg=truth["onset_depth_deg"].values)
    rows.append(reps)
compare = pd.concat(rows, ignore_index=True)
compare[["clip", "rep", "wink", "wink_deg", "truth_wink_deg", "onset_depth_deg", "truth_onset_depth_deg",
         "confidence"]]"""),
    ("md", """## 7. Change a setting and rerun only the stages after pose estimation

The landmarks file keeps everything pose estimation produced (landmarks, back contour, clip and model
metadata). Rerunning from it takes a fraction of a second. The same works from the command line:
`buttwink analyze out/clip/landmarks.parquet --from-landmarks -o out2 --threshold-deg 12`."""),
    ("code", """import tempfile

saved = result.track.save(Path(tempfile.mkdtemp()) / "landmarks.parquet")
for settings in (Settings(), Settings(cutoff_hz=2.0), Settings(wink_threshold_deg=20.0)):
    t0 = time.perf_counter()
    rerun = analyze_landmarks(PoseTrack.load(saved), settings)
    elapsed = time.perf_counter() - t0
    print(f"cutoff {settings.cutoff_hz} Hz, threshold {settings.wink_threshold_deg}°: "
          f"{rerun.summary()['verdict']}  ({elapsed:.2f} s)")"""),
]

def _one_statement_per_line(src: str) -> str:
    out = []
    for line in src.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        out.extend(indent + part.strip() for part in line.split("; ")) if "; " in line else out.append(line)
    return "\n".join(out).replace("ax.axis(\"off\");", "ax.axis(\"off\")")


nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(_one_statement_per_line(src))
            for kind, src in cells]
nbf.write(nb, Path(__file__).with_name("buttwink_walkthrough.ipynb"))
