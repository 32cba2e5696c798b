"""Video reader: sizes, timestamps, colour order, downscale, phone rotation, errors."""

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from buttwink.video import VideoError, iter_frames, probe_video


def _marked_frames(n: int = 12, w: int = 160, h: int = 120) -> list[np.ndarray]:
    frames = []
    for _ in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        f[:30, :40] = (255, 0, 0)  # a red block in the top-left corner
        frames.append(f)
    return frames


def test_reader_sizes_times_and_rgb_order(tmp_path: Path, make_clip) -> None:
    clip = make_clip(tmp_path / "c.mp4", _marked_frames(15), fps=25.0)
    info = probe_video(clip)
    assert (info.width, info.height, info.frame_count) == (160, 120, 15)
    assert info.fps == pytest.approx(25.0) and info.duration_s == pytest.approx(0.6)
    frames = list(iter_frames(clip))
    assert len(frames) == 15
    times = np.array([f.time_s for f in frames])
    assert times[0] == 0.0 and np.all(np.diff(times) > 0)
    assert np.diff(times).mean() == pytest.approx(1 / 25, abs=1e-3)
    corner = frames[0].rgb[5:25, 5:35].reshape(-1, 3).mean(axis=0)
    assert corner[0] > 200 and corner[1] < 60 and corner[2] < 60  # red stays in channel 0 (RGB)
    assert frames[0].rgb.dtype == np.uint8 and frames[0].rgb.flags["C_CONTIGUOUS"]


def test_downscale_keeps_aspect_and_even_sizes(tmp_path: Path, make_clip) -> None:
    clip = make_clip(tmp_path / "big.mp4", [np.zeros((600, 802, 3), np.uint8)] * 3)
    info = probe_video(clip, max_height=301)
    assert info.height % 2 == 0 and info.width % 2 == 0
    assert info.width / info.height == pytest.approx(802 / 600, rel=0.02)
    assert next(iter_frames(clip, max_height=301)).rgb.shape == (info.height, info.width, 3)
    assert probe_video(clip, max_height=1000).scale == 1.0


@pytest.mark.parametrize(("display_rotation", "corner"), [("90", "bottom-left"), ("-90", "top-right")])
def test_rotated_phone_clip_is_delivered_upright(tmp_path: Path, make_clip, ffmpeg: str, display_rotation: str,
                                                 corner: str) -> None:
    landscape = make_clip(tmp_path / "land.mp4", _marked_frames())
    rotated = tmp_path / "rot.mp4"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-display_rotation", display_rotation, "-i", str(landscape),
                    "-c", "copy", str(rotated)], check=True)
    info = probe_video(rotated)
    assert info.rotation_deg in (90, 270)
    assert (info.width, info.height) == (120, 160)  # portrait after rotation
    rgb = next(iter_frames(rotated)).rgb
    assert rgb.shape == (160, 120, 3)
    rows, cols = np.nonzero(rgb[..., 0] > 128)
    where = ("top" if rows.mean() < 80 else "bottom") + "-" + ("left" if cols.mean() < 60 else "right")
    assert where == corner
    # Same picture as OpenCV's own orientation handling.
    cap = cv2.VideoCapture(str(rotated))
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    ok, bgr = cap.read()
    cap.release()
    assert ok and np.abs(bgr[..., ::-1].astype(int) - rgb.astype(int)).mean() < 2


def test_variable_frame_rate_keeps_real_times(tmp_path: Path, make_clip, ffmpeg: str) -> None:
    clip = make_clip(tmp_path / "cfr.mp4", _marked_frames(30), fps=30.0)
    vfr = tmp_path / "vfr.mp4"
    # Keep every frame but stretch the second half's timestamps 2x (a phone dropping to 15 fps).
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-i", str(clip), "-vf",
                    "setpts='if(lt(N,15),N,15+2*(N-15))/(30*TB)'", "-fps_mode", "vfr", "-c:v", "mpeg4", str(vfr)],
                   check=True)
    times = np.array([f.time_s for f in iter_frames(vfr)])
    steps = np.diff(times)
    assert len(times) == 30 and np.all(steps > 0)
    assert np.median(steps[:12]) == pytest.approx(1 / 30, abs=0.004)
    assert np.median(steps[17:]) == pytest.approx(2 / 30, abs=0.006)


def _bad_inputs(tmp_path: Path, make_clip) -> dict[str, Path]:
    good = make_clip(tmp_path / "good.mp4", _marked_frames(30))
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(good.read_bytes()[:2048])
    png = tmp_path / "image.png"
    cv2.imwrite(str(png), np.full((64, 64, 3), 200, np.uint8))
    png_as_mp4 = tmp_path / "image.mp4"
    png_as_mp4.write_bytes(png.read_bytes())
    return {"missing": tmp_path / "nope.mp4", "empty": empty, "text": text, "truncated": truncated,
            "png": png, "png_as_mp4": png_as_mp4, "folder": tmp_path}


@pytest.mark.parametrize("case", ["missing", "empty", "text", "truncated", "png", "png_as_mp4", "folder"])
def test_unreadable_inputs_raise_one_line_errors_naming_the_file(tmp_path: Path, make_clip, case: str) -> None:
    path = _bad_inputs(tmp_path, make_clip)[case]
    with pytest.raises(VideoError) as err:
        probe_video(path)
    message = str(err.value)
    assert str(path) in message and "\n" not in message and err.value.reason
