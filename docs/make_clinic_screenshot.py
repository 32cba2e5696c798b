"""Make the README's picture of the clinic's athlete page (docs/img/clinic_athlete.png).

Renders three sessions of a made-up athlete whose wink starts deeper and gets smaller over a corrective
programme (two 3-rep clips a session), starts ``buttwink serve`` on a free loopback port with a temporary data
folder, uploads the clips through the API, waits for the analyses, and takes a screenshot of the athlete page
with headless Chromium (the before/after comparison of the first and last session included).

    python docs/make_clinic_screenshot.py            # about 3 minutes on 2 cores
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img" / "clinic_athlete.png"
BUTTWINK = Path(sys.executable).with_name("buttwink")
ATHLETE = "Alex Rivera"
#: (session date, wink size, onset depth): the onset moves from above parallel to below it, the tuck shrinks.
SESSIONS = (("2026-09-07", 18.0, 18.0), ("2026-10-05", 13.0, 6.0), ("2026-11-02", 9.0, -6.0))


def main() -> None:
    from buttwink.synth import CameraParams, SquatParams, render_clip

    with tempfile.TemporaryDirectory(prefix="buttwink-shot-") as tmp:
        work = Path(tmp)
        uploads = []
        for date, wink, onset in SESSIONS:
            for seed in (1, 2):
                folder = work / f"{date}-{seed}"
                render_clip(folder, SquatParams(reps=3, depth_deg=-22.0, wink_deg=wink, onset_depth_deg=onset),
                            CameraParams(width=480, height=360, fps=30.0), seed=seed)
                uploads.append((date, folder / "video.mp4"))
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([str(BUTTWINK), "serve", "--port", str(port), "--data", str(work / "data"),
                                   "--jobs", "2"], start_new_session=True)
        try:
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            ids = []
            for date, clip in uploads:
                result = subprocess.run(["curl", "-sf", "-F", f"file=@{clip}", "-F", f"athlete={ATHLETE}",
                                         "-F", f"session_date={date}", f"{url}/api/clips"],
                                        capture_output=True, check=True, text=True)
                ids.append(json.loads(result.stdout)["id"])
            while True:
                states = [json.loads(urllib.request.urlopen(f"{url}/api/clips/{i}").read())["status"] for i in ids]
                if all(s in ("done", "failed") for s in states):
                    break
                time.sleep(1)
            page = f"{url}/athletes/{quote(ATHLETE)}?a={SESSIONS[0][0]}&b={SESSIONS[-1][0]}"
            shot = work / "shot.png"
            subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                            "--no-first-run", "--disable-background-networking", "--disable-component-update",
                            "--disable-sync", f"--user-data-dir={work / 'profile'}", "--hide-scrollbars",
                            "--window-size=1100,1420", "--virtual-time-budget=15000", f"--screenshot={shot}", page],
                           check=True, capture_output=True, timeout=120)
            from PIL import Image

            image = Image.open(shot).convert("RGB")
            image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.LANCZOS)
            image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(OUT, optimize=True)
            print(f"{OUT}: {OUT.stat().st_size / 1024:.0f} KB")
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
