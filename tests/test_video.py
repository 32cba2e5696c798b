"""Video reader: sizes, timestamps, colour order, downscale, phone rotation, variable frame rate, errors."""

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from buttwink.video import VideoError, iter_frames, probe_video

W, H = 160, 120  # landscape test frames
BLOCK_H, BLOCK_W = 30, 40  # the marker block in the top-left corner


def _marked_frames(n: int = 12, colour: tuple[int, int, int] = (255, 255, 255)) -> list[np.ndarray]:
    """Black landscape frames with a block of ``colour`` in the top-left corner (an asymmetric marker)."""
    frames = []
    for _ in range(n):
        f = np.zeros((H, W, 3), np.uint8)
        f[:BLOCK_H, :BLOCK_W] = colour
        frames.append(f)
    return frames


def _marker_corner(rgb: np.ndarray) -> str:
    rows, cols = np.nonzero(rgb.max(axis=2) > 128)
    h, w = rgb.shape[:2]
    assert rows.size > 0.5 * BLOCK_H * BLOCK_W * (h * w) / (H * W), "marker not found"
    return ("top" if rows.mean() < h / 2 else "bottom") + "-" + ("left" if cols.mean() < w / 2 else "right")


@pytest.mark.parametrize(("fourcc", "suffix"), [("mp4v", ".mp4"), ("MJPG", ".avi")])
def test_reader_sizes_times_and_rgb_order(tmp_path: Path, make_clip, fourcc: str, suffix: str) -> None:
    frames = _marked_frames(15, colour=(0, 0, 255))  # blue marker ...
    for f in frames:
        f[BLOCK_H:] = (255, 0, 0)  # ... on a pure red frame
    clip = make_clip(tmp_path / f"c{suffix}", frames, fps=25.0, fourcc=fourcc)
    info = probe_video(clip)
    assert (info.width, info.height, info.frame_count) == (W, H, 15)
    assert (info.source_width, info.source_height, info.rotation_deg, info.scale) == (W, H, 0, 1.0)
    assert info.fps == pytest.approx(25.0) and info.duration_s == pytest.approx(0.6)
    assert info.codec not in ("", "unknown")
    got = list(iter_frames(clip))
    assert [f.index for f in got] == list(range(15))
    times = np.array([f.time_s for f in got])
    assert times[0] == 0.0 and np.all(np.diff(times) > 0)
    assert np.diff(times) == pytest.approx(np.full(14, 1 / 25), abs=1e-3)
    rgb = got[0].rgb
    assert rgb.shape == (H, W, 3) and rgb.dtype == np.uint8 and rgb.flags["C_CONTIGUOUS"]
    red = rgb[BLOCK_H + 10:, :].reshape(-1, 3).mean(axis=0)
    assert red[0] > 200 and red[1] < 50 and red[2] < 50  # red is channel 0: RGB, not BGR
    blue = rgb[5:BLOCK_H - 5, 5:BLOCK_W - 5].reshape(-1, 3).mean(axis=0)
    assert blue[2] > 200 and blue[0] < 50


@pytest.mark.parametrize(("size", "max_height"), [((802, 600), 301), ((644, 484), 360), ((300, 900), 720)])
def test_downscale_keeps_aspect_and_even_sizes(tmp_path: Path, make_clip, size: tuple[int, int],
                                               max_height: int) -> None:
    width, height = size
    clip = make_clip(tmp_path / "big.mp4", [np.zeros((height, width, 3), np.uint8)] * 3)
    info = probe_video(clip, max_height=max_height)
    assert info.height % 2 == 0 and info.width % 2 == 0
    assert max_height - 2 <= info.height <= max_height
    assert info.width / info.height == pytest.approx(width / height, rel=0.02)
    assert info.scale == pytest.approx(info.height / height, rel=0.01)
    assert (info.source_width, info.source_height) == (width, height)
    shapes = {f.rgb.shape for f in iter_frames(clip, max_height=max_height)}
    assert shapes == {(info.height, info.width, 3)}


def test_no_downscale_below_max_height(tmp_path: Path, make_clip) -> None:
    clip = make_clip(tmp_path / "small.mp4", _marked_frames(3))
    for max_height in (None, H, 1000):
        info = probe_video(clip, max_height=max_height)
        assert (info.width, info.height, info.scale) == (W, H, 1.0)


# ``-display_rotation`` is counter-clockwise; OpenCV reports the clockwise rotation needed to show it upright.
ROTATIONS = [("90", 270, "bottom-left"), ("-90", 90, "top-right"), ("180", 180, "bottom-right")]


@pytest.mark.parametrize(("display_rotation", "meta", "corner"), ROTATIONS)
def test_rotated_phone_clip_is_delivered_upright(tmp_path: Path, make_clip, ffmpeg: str, display_rotation: str,
                                                 meta: int, corner: str) -> None:
    landscape = make_clip(tmp_path / "land.mp4", _marked_frames())
    rotated = tmp_path / "rot.mp4"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-display_rotation", display_rotation, "-i", str(landscape),
                    "-c", "copy", str(rotated)], check=True)
    cap = cv2.VideoCapture(str(rotated), cv2.CAP_FFMPEG)
    reported = cap.get(cv2.CAP_PROP_ORIENTATION_META)
    cap.release()
    assert int(reported) % 360 == meta  # the metadata really is in the file, as OpenCV sees it

    info = probe_video(rotated)
    assert info.rotation_deg == meta
    expected = (H, W) if meta in (90, 270) else (W, H)  # portrait after a quarter turn
    assert (info.width, info.height) == expected == (info.source_width, info.source_height)
    frames = list(iter_frames(rotated))
    assert len(frames) == 12
    for frame in (frames[0], frames[-1]):
        assert frame.rgb.shape == (expected[1], expected[0], 3)
        assert _marker_corner(frame.rgb) == corner
    # Same picture as OpenCV's own orientation handling.
    cap = cv2.VideoCapture(str(rotated), cv2.CAP_FFMPEG)
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    ok, bgr = cap.read()
    cap.release()
    assert ok and np.abs(bgr[..., ::-1].astype(int) - frames[0].rgb.astype(int)).mean() < 2


def test_rotation_happens_before_the_downscale(tmp_path: Path, make_clip, ffmpeg: str) -> None:
    landscape = make_clip(tmp_path / "land.mp4", _marked_frames(4))
    rotated = tmp_path / "rot.mp4"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-display_rotation", "-90", "-i", str(landscape),
                    "-c", "copy", str(rotated)], check=True)
    info = probe_video(rotated, max_height=80)  # portrait 120x160 -> 60x80
    assert (info.width, info.height) == (60, 80)
    rgb = next(iter_frames(rotated, max_height=80)).rgb
    assert rgb.shape == (80, 60, 3) and _marker_corner(rgb) == "top-right"


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
    assert times[-1] == pytest.approx((15 + 2 * 14) / 30, abs=0.02)  # not 29/30: real time, not index/fps


def _bad_inputs(tmp_path: Path, make_clip) -> dict[str, Path]:
    good = make_clip(tmp_path / "good.mp4", _marked_frames(30))
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(good.read_bytes()[:2048])
    png = tmp_path / "image.png"
    assert cv2.imwrite(str(png), np.full((64, 64, 3), 200, np.uint8))
    png_as_mp4 = tmp_path / "image.mp4"
    png_as_mp4.write_bytes(png.read_bytes())
    folder = tmp_path / "folder.mp4"
    folder.mkdir()
    return {"missing": tmp_path / "nope.mp4", "empty": empty, "text": text, "truncated": truncated,
            "png": png, "png_as_mp4": png_as_mp4, "folder": folder}


#: A word each reason must contain, where the reason is knowable from the file system alone.
REASON_WORDS = {"missing": "not found", "empty": "empty", "folder": "folder"}


@pytest.mark.parametrize("case", ["missing", "empty", "text", "truncated", "png", "png_as_mp4", "folder"])
def test_unreadable_inputs_raise_one_line_errors_naming_the_file(tmp_path: Path, make_clip, case: str) -> None:
    path = _bad_inputs(tmp_path, make_clip)[case]
    for read in (probe_video, lambda p: next(iter_frames(p))):
        with pytest.raises(VideoError) as err:
            read(path)
        message = str(err.value)
        assert message.startswith(f"{path}: ") and "\n" not in message
        assert err.value.path == path and err.value.reason and err.value.reason in message
        assert REASON_WORDS.get(case, "") in err.value.reason
        assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(("codec", "fmt"), [("libvpx", "webm"), ("mpeg4", "matroska")])
def test_streamed_clip_without_duration_in_header_is_read(tmp_path: Path, make_clip, ffmpeg: str, codec: str,
                                                          fmt: str) -> None:
    clip = make_clip(tmp_path / "c.mp4", _marked_frames(12), fps=30.0)
    streamed = tmp_path / f"streamed.{'webm' if fmt == 'webm' else 'mkv'}"
    with open(streamed, "wb") as out:  # written to a pipe: the muxer cannot go back to store the duration
        subprocess.run([ffmpeg, "-loglevel", "error", "-i", str(clip), "-c:v", codec, "-f", fmt, "-"],
                       stdout=out, check=True)
    frames = list(iter_frames(streamed))
    assert len(frames) == 12
    assert frames[-1].time_s == pytest.approx(11 / 30, abs=0.01)
    info = probe_video(streamed)
    assert info.frame_count == 12 and info.duration_s == pytest.approx(0.4, abs=0.04)


def test_frames_from_a_probed_clip_are_not_probed_again(tmp_path: Path, make_clip,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    clip = make_clip(tmp_path / "c.mp4", _marked_frames(6), fps=30.0)
    info = probe_video(clip, max_height=32)
    expected = [(f.index, f.time_s, f.rgb.shape) for f in iter_frames(clip, max_height=32)]

    def no_probe(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("probed again")

    monkeypatch.setattr("buttwink.video.probe_video", no_probe)
    assert [(f.index, f.time_s, f.rgb.shape) for f in iter_frames(info)] == expected
    assert expected[0][2][0] == info.height == 32


def test_a_video_error_survives_pickling(tmp_path: Path) -> None:
    # Errors raised in a worker process (batch, Dask) are pickled back to the parent.
    import pickle

    err = pickle.loads(pickle.dumps(VideoError(tmp_path / "clip.mp4", "no video stream")))
    assert isinstance(err, VideoError)
    assert err.path == tmp_path / "clip.mp4" and err.reason == "no video stream"
    assert str(err) == f"{tmp_path / 'clip.mp4'}: no video stream"
