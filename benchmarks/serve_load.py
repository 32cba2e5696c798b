"""Load test of the clinic server on loopback: N concurrent uploads (20 by default) to a real ``buttwink serve``,
then the same clips through ``buttwink batch``.

It checks that every upload is accepted and every clip is analysed (exit status 1 otherwise), and reports:

- upload latency (request sent -> ``202`` received) per upload: median, 95th percentile, max;
- analysis throughput: clips per minute from the first upload to the last clip done, against ``buttwink batch``
  on the same clips with the same number of processes;
- peak memory (resident, the server or batch process and all its children, sampled every 0.2 s).

The clips are one short rendered squat (a one-rep clip, 320x240 at 15 fps, about 3 s) and copies of it with
bytes appended, so each has its own content hash (the server would otherwise recognise a repeat) but costs the
same to analyse. Everything runs in a temporary folder and stops by itself (``--timeout``).

    python benchmarks/serve_load.py                 # 20 uploads, 2 analysis processes
    python benchmarks/serve_load.py --uploads 6 --jobs 1

A run on 2 shared cores (2026-12-03, 20 uploads of a 74 KB clip, ``--jobs 2``): all 20 accepted in 0.42 s
(latency median 373 ms, p95 379 ms, max 397 ms; each upload is decoded and hashed before its 202); 20 done in
74.5 s = 16.1 clips/min against ``buttwink batch`` 76.8 s = 15.6 clips/min; peak memory 1.40 GB (server and
its analysis processes) against 1.33 GB (batch).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BUTTWINK = Path(sys.executable).with_name("buttwink")


def tree_rss_bytes(root: int) -> int:
    """Resident memory of ``root`` and all its descendants (Linux /proc; 0 elsewhere)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(stat[1])
            rss[int(entry.name)] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    keep, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in keep:
                keep.add(child)
                frontier.append(child)
    return sum(rss.get(p, 0) for p in keep)


class PeakMemory:
    """Samples :func:`tree_rss_bytes` of a process in a thread; ``peak`` in bytes."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.pid))
            self._stop.wait(0.2)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post_clip(url: str, clip: Path, athlete: str) -> tuple[int, dict, float]:
    """POST one clip (multipart); returns status, body, seconds."""
    boundary = "----buttwinkload" + os.urandom(8).hex()
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"athlete\"\r\n\r\n{athlete}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{clip.name}\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode() + clip.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url + "/api/clips", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read()), time.perf_counter() - t0
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}"), time.perf_counter() - t0


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def make_clips(folder: Path, n: int, small: bool = False) -> list[Path]:
    from buttwink.synth import CameraParams, SquatParams, render_clip

    camera = CameraParams(width=160, height=120, fps=10.0) if small else CameraParams(width=320, height=240, fps=15.0)
    render_clip(folder / "render", SquatParams(reps=1, stand_s=0.6, descent_s=1.0, ascent_s=0.8, depth_deg=-20.0),
                camera, seed=11)
    data = (folder / "render" / "video.mp4").read_bytes()
    clips_dir = folder / "clips"
    clips_dir.mkdir()
    clips = []
    for i in range(n):
        path = clips_dir / f"clip{i:02d}.mp4"
        path.write_bytes(data + b"\0" * i)  # the same video, another content hash
        clips.append(path)
    return clips


def run_server(clips: list[Path], work: Path, jobs: int, timeout: float) -> dict[str, object]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(work / "server.log", "wb")  # noqa: SIM115 - the server's output, closed below
    proc = subprocess.Popen([str(BUTTWINK), "serve", "--port", str(port), "--data", str(work / "data"),
                             "--jobs", str(jobs)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start: {(work / 'server.log').read_text()}") from None
                time.sleep(0.2)
        memory = PeakMemory(proc.pid)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(clips)) as pool:
            results = list(pool.map(lambda c: post_clip(url, c, "Load Test"), clips))
        uploaded = time.perf_counter() - t0
        refused = [(s, b) for s, b, _ in results if s != 202]
        ids = [b["id"] for s, b, _ in results if s == 202]
        end = time.monotonic() + timeout
        states: dict[str, str] = {}
        while time.monotonic() < end:
            states = {i: get_json(f"{url}/api/clips/{i}")["status"] for i in ids}
            if all(s in ("done", "failed") for s in states.values()):
                break
            time.sleep(0.5)
        elapsed = time.perf_counter() - t0
        peak = memory.stop()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    latencies = sorted(t for _, _, t in results)
    return {"refused": refused, "done": sum(s == "done" for s in states.values()),
            "failed": sum(s == "failed" for s in states.values()),
            "unfinished": sum(s not in ("done", "failed") for s in states.values()),
            "upload_all_s": uploaded, "latency_median_s": statistics.median(latencies),
            "latency_p95_s": latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))],
            "latency_max_s": latencies[-1], "elapsed_s": elapsed, "peak_rss_mb": peak / 1024**2}


def run_batch(clips: list[Path], work: Path, jobs: int, timeout: float) -> dict[str, object]:
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(BUTTWINK), "batch", str(clips[0].parent), "-o", str(work / "batch"), "-j", str(jobs)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    memory = PeakMemory(proc.pid)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        code = -1
    peak = memory.stop()
    return {"exit": code, "elapsed_s": time.perf_counter() - t0, "peak_rss_mb": peak / 1024**2}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=20, help="concurrent uploads (default 20)")
    parser.add_argument("--jobs", type=int, default=2, help="analysis processes, server and batch (default 2)")
    parser.add_argument("--timeout", type=float, default=900, help="give up after this many seconds a phase")
    parser.add_argument("--no-batch", action="store_true", help="skip the buttwink batch comparison")
    parser.add_argument("--small", action="store_true", help="160x120 clips at 10 fps (a quick run, as the test "
                                                              "suite's)")
    args = parser.parse_args()
    if not 1 <= args.uploads <= 200:
        parser.error("--uploads must be between 1 and 200")
    with tempfile.TemporaryDirectory(prefix="buttwink-load-") as tmp:
        work = Path(tmp)
        clips = make_clips(work, args.uploads, args.small)
        print(f"{len(clips)} clips of {clips[0].stat().st_size / 1024:.0f} KB; {args.jobs} analysis process(es)")
        server = run_server(clips, work, args.jobs, args.timeout)
        batch = None if args.no_batch else run_batch(clips, work, args.jobs, args.timeout)
    n = len(clips)
    print(f"uploads: {n - len(server['refused'])} of {n} accepted in {server['upload_all_s']:.2f} s; latency "
          f"median {server['latency_median_s'] * 1000:.0f} ms, p95 {server['latency_p95_s'] * 1000:.0f} ms, "
          f"max {server['latency_max_s'] * 1000:.0f} ms")
    print(f"server: {server['done']} done, {server['failed']} failed, {server['unfinished']} unfinished in "
          f"{server['elapsed_s']:.1f} s = {60 * n / server['elapsed_s']:.1f} clips/min; peak memory "
          f"{server['peak_rss_mb']:.0f} MB")
    if batch is not None:
        print(f"batch:  exit {batch['exit']} in {batch['elapsed_s']:.1f} s = {60 * n / batch['elapsed_s']:.1f} "
              f"clips/min; peak memory {batch['peak_rss_mb']:.0f} MB")
        print(f"server / batch throughput: {batch['elapsed_s'] / server['elapsed_s']:.2f}")
    ok = not server["refused"] and server["done"] == n and (batch is None or batch["exit"] == 0)
    if not ok:
        print(f"FAILED: refused {server['refused'][:3]}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
