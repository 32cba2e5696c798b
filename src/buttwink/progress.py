"""An athlete's progress over sessions: per-session figures from report folders, ``progress.csv`` and
``progress.png``.

A *session* is one athlete on one date; it holds one or more clips' report folders (from ``analyze``,
``batch`` or the clinic server). Its figures are read from each folder's ``reps.csv`` over the reps that
could be assessed (``status == ok``):

- ``wink_share``: the share of assessed reps with a wink, with its 95 % Wilson interval (``_low``/``_high``);
- ``onset_depth``: thigh angle at the wink's onset (0 = parallel, negative below), over the reps with a wink;
- ``onset_hip_flexion``: hip flexion at the onset, over the reps with a wink;
- ``tuck``: the tuck beyond the descent's trend at the bottom (``departure_deg``, calibrated, which is the
  wink's size when the rep winks), over every assessed rep, so that a tuck shrinking below the threshold still shows;

each angle as its median and its spread across reps (first and third quartiles, ``_q1``/``_q3``).

``buttwink progress`` and the clinic server's athlete page both call :func:`session_figures` and
:func:`progress_png`, so they show the same figures for the same sessions.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from buttwink.csv_safety import escape_row

#: The angles a session is summarised by: (figure key, reps.csv column, which reps).
ANGLE_FIGURES = (
    ("onset_depth", "onset_depth_deg", "wink"),
    ("onset_hip_flexion", "onset_hip_flexion_deg", "wink"),
    ("tuck", "departure_deg", "assessed"),
)
#: progress.csv columns, in order.
PROGRESS_COLUMNS = (
    "athlete", "session_date", "clips", "reps_found", "reps_assessed", "reps_with_wink",
    "wink_share", "wink_share_low", "wink_share_high",
    *(f"{key}_{stat}_deg" for key, _, _ in ANGLE_FIGURES for stat in ("median", "q1", "q3")),
    "measured_with",
)
#: The wink signal of a report whose summary.json does not name one (reports made before 2026-12-03).
EARLIER_WINK_SIGNAL = "posterior_pelvic_tilt_deg"


class ProgressError(ValueError):
    """A report folder or sessions file cannot be used; ``str(err)`` is one line naming it and the reason."""


@dataclass(frozen=True)
class SessionClip:
    """One report folder of one athlete's session."""

    athlete: str
    session_date: dt.date
    report_dir: Path


@dataclass
class Session:
    """One athlete's session: its report folders and figures (see the module)."""

    athlete: str
    session_date: dt.date
    report_dirs: list[Path] = field(default_factory=list)
    figures: dict[str, float | int | str] = field(default_factory=dict)

    def as_row(self) -> dict[str, object]:
        """The session as a progress.csv row (NaN as an empty cell)."""
        row: dict[str, object] = {"athlete": self.athlete, "session_date": self.session_date.isoformat()}
        for key in PROGRESS_COLUMNS[2:]:
            value = self.figures.get(key, float("nan"))
            row[key] = "" if isinstance(value, float) and math.isnan(value) else (
                round(value, 4) if isinstance(value, float) else value)
        return row


def parse_date(text: str, what: str = "session date") -> dt.date:
    """A YYYY-MM-DD date; raise :class:`ProgressError` naming ``what`` otherwise."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ProgressError(f"{what} {text!r} is not a date (YYYY-MM-DD)") from None


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson score interval of a share ``successes / n`` (NaN, NaN when ``n`` is 0)."""
    if n <= 0:
        return float("nan"), float("nan")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def read_reps(report_dir: Path) -> pd.DataFrame:
    """A report folder's ``reps.csv``; raise :class:`ProgressError` when the folder is not a finished report."""
    from buttwink.report import is_complete

    report_dir = Path(report_dir)
    if not report_dir.is_dir():
        raise ProgressError(f"{report_dir}: not a report folder (not found)")
    if not is_complete(report_dir):
        raise ProgressError(f"{report_dir}: not a finished buttwink report (no summary.json saying ok)")
    try:
        reps = pd.read_csv(report_dir / "reps.csv")
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=["status", "wink"])
    except (OSError, ValueError) as exc:
        raise ProgressError(f"{report_dir / 'reps.csv'}: cannot be read ({exc})") from None
    return reps


def measured_with(report_dir: Path) -> str:
    """How a report measured its winks, from its ``summary.json``: the wink signal and the threshold, e.g.
    ``"trunk_pelvis_flexion_deg, 8°"``. Figures measured differently are not comparable across sessions."""
    from buttwink.report import read_summary

    summary = read_summary(Path(report_dir)) or {}
    settings = summary.get("settings") if isinstance(summary.get("settings"), dict) else {}
    signal = str(summary.get("wink_signal") or EARLIER_WINK_SIGNAL)
    threshold = settings.get("wink_threshold_deg", 8.0)
    return f"{signal}, {threshold:g}°" if isinstance(threshold, int | float) else signal


def measure_changes(sessions: Sequence[Session]) -> list[str]:
    """One line per athlete whose sessions were measured differently (:func:`measured_with`): their tucks and
    wink shares cannot be compared across those sessions."""
    notes = []
    for athlete in dict.fromkeys(s.athlete for s in sessions):
        ways = dict.fromkeys(str(s.figures.get("measured_with", "")) for s in sessions if s.athlete == athlete)
        if len(ways) > 1:
            notes.append(f"{athlete}: sessions measured differently ({'; '.join(ways)}); reanalyse the older clips "
                         "before comparing them")
    return notes


def _truthy(values: pd.Series) -> np.ndarray:
    return values.astype(str).str.strip().str.lower().isin(("true", "1", "1.0", "yes")).to_numpy()


def session_figures(reps: pd.DataFrame) -> dict[str, float | int]:
    """The figures of one session from its reps (all its clips' reps.csv rows together): see the module."""
    found = len(reps)
    ok = reps[reps["status"].astype(str) == "ok"] if found else reps
    wink = _truthy(ok["wink"]) if len(ok) else np.zeros(0, dtype=bool)
    low, high = wilson_interval(int(wink.sum()), len(ok))
    figures: dict[str, float | int] = {
        "clips": 0, "reps_found": found, "reps_assessed": len(ok), "reps_with_wink": int(wink.sum()),
        "wink_share": float(wink.mean()) if len(ok) else float("nan"), "wink_share_low": low,
        "wink_share_high": high,
    }
    for key, column, which in ANGLE_FIGURES:
        values = np.array([], dtype=float)
        if len(ok) and column in ok.columns:
            values = pd.to_numeric(ok[column], errors="coerce").to_numpy(dtype=float)
            if which == "wink":
                values = values[wink]
            values = values[np.isfinite(values)]
        if len(values):
            q1, median, q3 = np.percentile(values, [25, 50, 75])
        else:
            q1 = median = q3 = float("nan")
        figures.update({f"{key}_median_deg": float(median), f"{key}_q1_deg": float(q1),
                        f"{key}_q3_deg": float(q3)})
    return figures


def build_sessions(clips: Iterable[SessionClip]) -> list[Session]:
    """Group report folders by athlete and date and compute each session's figures; sorted by athlete, date."""
    groups: dict[tuple[str, dt.date], list[Path]] = {}
    for clip in clips:
        groups.setdefault((clip.athlete, clip.session_date), []).append(Path(clip.report_dir))
    sessions = []
    for (athlete, date), dirs in sorted(groups.items(), key=lambda kv: (kv[0][0].casefold(), kv[0][1])):
        tables = [read_reps(d) for d in dirs]
        tables = [t for t in tables if len(t)]
        reps = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["status", "wink"])
        figures: dict[str, float | int | str] = dict(session_figures(reps))
        figures["clips"] = len(dirs)
        figures["measured_with"] = " + ".join(dict.fromkeys(measured_with(d) for d in dirs))
        sessions.append(Session(athlete, date, dirs, figures))
    return sessions


def expand_report_dirs(paths: Iterable[Path]) -> list[Path]:
    """Report folders from paths that are report folders or batch output folders (their sub-folders that are
    finished reports); raise :class:`ProgressError` for a path that is neither."""
    from buttwink.report import is_complete

    out: list[Path] = []
    for path in paths:
        path = Path(path)
        if is_complete(path):
            out.append(path)
        elif path.is_dir() and (found := sorted(p for p in path.iterdir() if is_complete(p))):
            out.extend(found)
        else:
            raise ProgressError(f"{path}: not a finished buttwink report folder, nor a batch folder holding any")
    return out


def read_sessions_csv(path: Path) -> list[SessionClip]:
    """A sessions file: CSV with columns ``report_dir``, ``athlete``, ``session_date`` (relative report
    folders are taken from the file's own folder; a batch folder stands for all its reports)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProgressError(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    need = {"report_dir", "athlete", "session_date"}
    header = {h.strip() for h in reader.fieldnames or []}
    if not need <= header:
        raise ProgressError(f"{path}: needs the columns report_dir, athlete, session_date (has "
                            f"{', '.join(sorted(h for h in header if h)) or 'none'})")
    clips = []
    for line, row in enumerate(rows, start=2):
        athlete = (row["athlete"] or "").strip()
        if not athlete:
            raise ProgressError(f"{path}, line {line}: no athlete")
        date = parse_date(row["session_date"] or "", f"{path}, line {line}: session_date")
        folder = Path((row["report_dir"] or "").strip()).expanduser()
        folder = folder if folder.is_absolute() else path.parent / folder
        clips.extend(SessionClip(athlete, date, d) for d in expand_report_dirs([folder]))
    if not clips:
        raise ProgressError(f"{path}: lists no sessions")
    return clips


def progress_csv_text(sessions: Sequence[Session]) -> str:
    """progress.csv: one row per session (every text cell escaped against formula injection)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(PROGRESS_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for session in sessions:
        writer.writerow(escape_row(session.as_row()))
    return buf.getvalue()


def _spread(centre: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Error-bar lengths below and above ``centre`` (never negative; none where the bounds are unknown)."""
    below = np.nan_to_num(centre - low, nan=0.0)
    above = np.nan_to_num(high - centre, nan=0.0)
    return np.maximum(0.0, np.vstack([below, above]))


def progress_png(sessions: Sequence[Session], title: str = "") -> bytes:
    """The progress chart of one athlete's sessions as PNG bytes: four panels over the session dates (onset
    depth, hip flexion at the onset, tuck, share of reps with a wink), each a median with its spread."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    sessions = sorted(sessions, key=lambda s: s.session_date)
    dates = [dt.datetime.combine(s.session_date, dt.time()) for s in sessions]
    fig, axes = plt.subplots(4, 1, figsize=(7.5, 8.5), sharex=True, dpi=100)
    panels = (
        ("onset_depth", "onset depth\n(thigh angle, °)", "#c0392b"),
        ("onset_hip_flexion", "hip flexion\nat onset (°)", "#8e44ad"),
        ("tuck", "tuck (°)", "#d35400"),
    )

    def f(session: Session, key: str) -> float:
        return float(session.figures.get(key, float("nan")))

    for ax, (key, label, colour) in zip(axes, panels, strict=False):
        med = np.array([f(s, f"{key}_median_deg") for s in sessions])
        lo = np.array([f(s, f"{key}_q1_deg") for s in sessions])
        hi = np.array([f(s, f"{key}_q3_deg") for s in sessions])
        have = np.isfinite(med)
        if have.any():
            xs = [d for d, h in zip(dates, have, strict=True) if h]
            ax.errorbar(xs, med[have], yerr=_spread(med[have], lo[have], hi[have]), fmt="o-", color=colour,
                        capsize=4, lw=1.5, label="median, quartiles")
        for d, h in zip(dates, have, strict=True):
            if not h and key != "tuck":  # no rep with a wink that session: nothing to place
                ax.annotate("no wink", (mdates.date2num(d), 0.5), xycoords=("data", "axes fraction"),
                            ha="center", fontsize=8, color="#555")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.margins(y=0.2)
        if key == "onset_depth":
            ax.axhline(0, color="#888", lw=0.8, ls="--")
            ax.set_title("lower = deeper onset (0 = parallel)", loc="right", fontsize=8, color="#555")
        if key == "tuck":
            ax.set_title("lower = smaller tuck", loc="right", fontsize=8, color="#555")
    ax = axes[3]
    share = np.array([f(s, "wink_share") for s in sessions]) * 100
    lo = np.array([f(s, "wink_share_low") for s in sessions]) * 100
    hi = np.array([f(s, "wink_share_high") for s in sessions]) * 100
    have = np.isfinite(share)
    if have.any():
        xs = [d for d, h in zip(dates, have, strict=True) if h]
        ax.errorbar(xs, share[have], yerr=_spread(share[have], lo[have], hi[have]), fmt="s-",
                    color="#2c3e50", capsize=4, lw=1.5)
    ax.set_ylim(-5, 105)
    ax.set_ylabel("reps with\na wink (%)")
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    if dates:
        pad = dt.timedelta(days=max(2, (max(dates) - min(dates)).days // 10))
        ax.set_xlim(min(dates) - pad, max(dates) + pad)
        ax.set_xticks(dates)
    fig.autofmt_xdate()
    fig.suptitle(title or "progress", fontsize=12)
    fig.text(0.01, 0.005, "onset and hip flexion over reps with a wink; tuck over every assessed rep; "
             "bars: quartiles (share: 95 % interval)", fontsize=7, color="#555")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def write_progress(sessions: Sequence[Session], outdir: Path) -> list[Path]:
    """Write progress.csv (every session) and the chart: progress.png for one athlete, else
    ``progress_<athlete>.png`` per athlete. Every file is written atomically; returns the paths."""
    from buttwink._fs import atomic_write_text, new_mode
    from buttwink.report import safe_name, unique_names

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = [atomic_write_text(outdir / "progress.csv", progress_csv_text(sessions))]
    athletes = sorted({s.athlete for s in sessions}, key=str.casefold)
    names = unique_names([Path(a) for a in athletes]) if len(athletes) > 1 else {}
    for athlete in athletes:
        png = progress_png([s for s in sessions if s.athlete == athlete], title=f"progress: {athlete}")
        name = "progress.png" if len(athletes) == 1 else f"progress_{names.get(Path(athlete), safe_name(athlete))}.png"
        path = outdir / name
        tmp = outdir / f".{name}.{os.getpid()}.tmp"
        tmp.write_bytes(png)
        tmp.chmod(new_mode())
        tmp.replace(path)
        written.append(path)
    return written
