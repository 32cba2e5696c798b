"""Helpers shared by the clinic tests: short clips, distinct copies of a clip, and a real ``buttwink serve``
in its own process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from buttwink.synth import CameraParams, SquatParams, render_clip

BUTTWINK = Path(sys.executable).with_name("buttwink")
#: A one-rep clip, about 3 s at 15 fps (analysed in a few seconds).
ONE_REP = SquatParams(reps=1, stand_s=0.6, descent_s=1.0, ascent_s=0.8, depth_deg=-20.0, wink_deg=15.0,
                      onset_depth_deg=0.0)
SMALL = CameraParams(width=320, height=240, fps=15.0)


def render_one_rep(folder: Path, seed: int = 11, **changes: float) -> Path:
    """Render the one-rep clip (with ``changes`` to its squat) into ``folder``; return the video."""
    from dataclasses import replace

    render_clip(folder, replace(ONE_REP, **changes), SMALL, seed=seed)
    return folder / "video.mp4"


def variant(clip: Path, folder: Path, n: int, name: str | None = None) -> Path:
    """A copy of ``clip`` with ``n`` bytes appended: the same video to a decoder, another file to a hash."""
    out = folder / (name or f"variant{n}.mp4")
    out.write_bytes(clip.read_bytes() + b"\0" * n)
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], timeout: float, what: str, every: float = 0.3) -> object:
    """Poll ``condition`` until it returns something true; fail naming ``what`` after ``timeout`` s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def get_json(url: str, token: str | None = None) -> tuple[int, dict]:
    """GET a JSON url: (status, body)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def post_clip(url: str, clip: Path, athlete: str, session_date: str | None = None,
              token: str | None = None) -> tuple[int, dict]:
    """POST a clip as multipart form data (stdlib only)."""
    boundary = "----buttwinktest" + os.urandom(8).hex()
    parts = [(b'Content-Disposition: form-data; name="athlete"', athlete.encode())]
    if session_date:
        parts.append((b'Content-Disposition: form-data; name="session_date"', session_date.encode()))
    parts.append((f'Content-Disposition: form-data; name="file"; filename="{clip.name}"\r\n'
                  "Content-Type: video/mp4".encode(), clip.read_bytes()))
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n" for head, data in parts)
    body += b"--" + boundary.encode() + b"--\r\n"
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url + "/api/clips", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


class Server:
    """``buttwink serve`` in its own process group, on a free loopback port."""

    def __init__(self, data: Path, log: Path, *extra: str, host: str = "127.0.0.1") -> None:
        self.data, self.log_path, self.extra, self.host = data, log, extra, host
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Server:
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the process's life
        self.proc = subprocess.Popen([str(BUTTWINK), "serve", "--host", self.host, "--port", str(self.port),
                                      "--data", str(self.data), *self.extra],
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

        def up() -> bool:
            assert self.proc is not None and self.proc.poll() is None, f"server exited: {self.log()}"
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
            return False

        wait_for(up, timeout, "the server to listen")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the server process only (its workers must notice by themselves)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """Stop the server and anything left in its process group."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def serving(data: Path, log: Path, *extra: str, host: str = "127.0.0.1") -> Iterator[Server]:
    server = Server(data, log, *extra, host=host).start()
    try:
        yield server
    finally:
        server.stop()
