"""Mirror stage: read the clip a second time through its left-right mirror image, and keep a wink call only
where both readings make it.

MediaPipe does not read a person and their mirror image alike: on the real clips, flipping a clip moved the
onsets of the winks that stayed winks by a median 18.5° of thigh angle and changed 18 % of the yes/no calls
(``benchmarks/invariance.py``). Neither reading is the better one on average. On the human ground-truth grids,
calling a wink only where the clip and its mirror image both call it halved the false winks and left no call
made with confidence >= 0.5 wrong (docs/validation_log.md, 2026-12-04).

The mirror image's landmarks and back contour are estimated in the same pass over the video
(:func:`buttwink.pipeline.estimate_clip` with ``mirror=True``) and mapped back to the clip's own pixels and
body sides by :func:`unflip_table`, so that both readings describe the same person in the same coordinates.
Every later stage runs on each reading; :func:`consensus_reps` joins the two rep tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from buttwink.back_contour import back_columns
from buttwink.pose import LANDMARK_FIELDS, LANDMARK_NAMES

#: Prefix of the mirror reading's columns in a landmarks table that carries both readings.
MIRROR_PREFIX = "mirror_"
#: A mirror rep pairs with a rep of the clip's own reading when their spans overlap by at least this share of
#: the shorter span.
MIN_SPAN_OVERLAP = 0.5


def _swap_side(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name[len("left_"):]
    if name.startswith("right_"):
        return "left_" + name[len("right_"):]
    return name


def unflip_table(table: pd.DataFrame, width: float) -> pd.DataFrame:
    """A landmarks table estimated on the left-right mirror image of a ``width``-pixel-wide video, in the
    original video's terms: x (pixels) becomes ``width - x``, the world x (metres) changes sign, and left and
    right landmarks swap names (the mirror image's left hip is the person's right hip). The back contour's
    x is mapped the same way. Columns the table lacks are left out; the frame, time and detection stay."""
    out = table.copy()
    for name in LANDMARK_NAMES:
        source = _swap_side(name)
        for field in LANDMARK_FIELDS:
            column, source_column = f"{name}_{field}", f"{source}_{field}"
            if source_column not in table:
                continue
            values = table[source_column].to_numpy(float)
            if field == "x_px":
                values = width - values
            elif field == "wx_m":
                values = -values
            out[column] = values
    for column in back_columns():
        if column in table and column.endswith("_x_px"):
            out[column] = width - table[column].to_numpy(float)
    return out


def split_readings(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(the clip's own reading, the mirror reading or None) from a landmarks table that may carry both; the
    mirror reading's columns are stored with :data:`MIRROR_PREFIX` and share ``frame``, ``time_s``."""
    mirror_columns = [c for c in table.columns if c.startswith(MIRROR_PREFIX)]
    own = table.drop(columns=mirror_columns)
    if not mirror_columns:
        return own, None
    mirror = pd.concat([table[["frame", "time_s"]],
                        table[mirror_columns].rename(columns=lambda c: c[len(MIRROR_PREFIX):])], axis=1)
    return own, mirror[[c for c in own.columns if c in mirror.columns]]


def join_readings(own: pd.DataFrame, mirror: pd.DataFrame) -> pd.DataFrame:
    """One table with both readings (the inverse of :func:`split_readings`); rows must match one to one."""
    if len(own) != len(mirror):
        raise ValueError(f"the mirror reading has {len(mirror)} rows, the clip's own {len(own)}")
    extra = mirror.drop(columns=[c for c in ("frame", "time_s") if c in mirror.columns])
    extra = extra.add_prefix(MIRROR_PREFIX)
    return pd.concat([own.reset_index(drop=True), extra.reset_index(drop=True)], axis=1)


def _overlap(a: pd.Series, b: pd.Series) -> float:
    start = max(float(a["start_time_s"]), float(b["start_time_s"]))
    end = min(float(a["end_time_s"]), float(b["end_time_s"]))
    shorter = min(float(a["end_time_s"]) - float(a["start_time_s"]), float(b["end_time_s"]) - float(b["start_time_s"]))
    return (end - start) / shorter if shorter > 0 else 0.0


def pair_reps(own: pd.DataFrame, mirror: pd.DataFrame) -> list[int | None]:
    """For each rep of ``own`` (in order), the row position in ``mirror`` of the rep whose span overlaps it
    most (at least :data:`MIN_SPAN_OVERLAP` of the shorter span), each mirror rep used once; None if none."""
    pairs: list[int | None] = []
    used: set[int] = set()
    for _, rep in own.iterrows():
        best, best_overlap = None, MIN_SPAN_OVERLAP
        for j in range(len(mirror)):
            if j in used:
                continue
            overlap = _overlap(rep, mirror.iloc[j])
            if overlap >= best_overlap:
                best, best_overlap = j, overlap
        if best is not None:
            used.add(best)
        pairs.append(best)
    return pairs


#: A rep's onset columns: cleared where a rep has no wink after the join.
ONSET_COLUMNS = ("onset_frame", "onset_time_s", "onset_depth_deg", "onset_depth_low_deg", "onset_depth_high_deg",
                 "onset_hip_flexion_deg", "rep_onset_depth_deg")


def number_or_nan(value: object) -> float:
    """``value`` as a float; NaN when it is missing or not a number (a reps table's cells may be None)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
    return number


def _finite_mean(a: object, b: object) -> float:
    """Mean of the finite ones of two values; NaN when neither is."""
    values = [v for v in (number_or_nan(a), number_or_nan(b)) if np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def _clear_onset(table: pd.DataFrame, index: object) -> None:
    for column in ONSET_COLUMNS:
        if column in table:
            table.at[index, column] = np.nan


def consensus_reps(own: pd.DataFrame, mirror: pd.DataFrame | None, mirror_refusal: str = "") -> pd.DataFrame:
    """The rep table of the clip's own reading with each call joined to the mirror reading's.

    The reps (their spans, depths and partial status) are the clip's own. A rep stays assessed only when the
    mirror reading assesses the rep it pairs with (:func:`pair_reps`); otherwise it is ``unassessed`` with the
    mirror reading's reason. Of an assessed rep:

    - ``wink``: both readings call it; ``confidence`` the lower of the two when they agree, 0 when they do
      not (then the rep is no wink, and ``reason`` says the readings disagree);
    - ``wink_deg``, ``departure_deg`` and the departures: the mean of the two readings (``wink_deg`` 0 when
      no wink);
    - the onset (a wink): its depth the mean of the two, its stated range spanning both readings' ranges,
      its time and frame where the clip's own thigh angle is nearest that depth within the descent.

    ``mirror`` None (the mirror reading refused the clip or the stretch) leaves every assessed rep
    unassessed with ``mirror_refusal`` as the reason.

    Two columns keep each reading's own tuck (calibrated departure at the bottom, degrees, the
    ``departure_deg`` of that reading) for the reps both readings assessed: ``own_departure_deg`` and
    ``mirror_departure_deg`` (NaN elsewhere)."""
    out = own.copy()
    out["own_departure_deg"] = np.nan
    out["mirror_departure_deg"] = np.nan
    if out.empty:
        return out
    pairs = pair_reps(own, mirror) if mirror is not None and len(mirror) else [None] * len(own)
    for k, j in enumerate(pairs):
        index = out.index[k]
        if out.at[index, "status"] != "ok":
            continue
        if j is None:
            why = mirror_refusal if mirror is None and mirror_refusal else "the mirror image shows no such rep"
            _unassess(out, index, f"not confirmed in the mirror image: {why}")
            continue
        other = mirror.iloc[j]  # type: ignore[union-attr]
        if other["status"] != "ok":
            _unassess(out, index, f"not assessed in the mirror image: {other['reason'] or other['status']}")
            continue
        _join_call(out, index, other)
    return out


def _unassess(table: pd.DataFrame, index: object, reason: str) -> None:
    table.at[index, "status"] = "unassessed"
    table.at[index, "reason"] = reason
    table.at[index, "wink"] = False
    table.at[index, "wink_deg"] = 0.0
    table.at[index, "confidence"] = 0.0
    _clear_onset(table, index)


def _mirror_note(other: pd.Series) -> str:
    """What the mirror reading said of a rep, for the ``model`` column."""
    if not bool(other["wink"]):
        return f"mirror image: no wink (tuck {number_or_nan(other['departure_deg']):.0f}°)"
    return (f"mirror image: wink of {number_or_nan(other['wink_deg']):.0f}° from thigh angle "
            f"{number_or_nan(other['onset_depth_deg']):.0f}°, confidence {number_or_nan(other['confidence']):.2f}")


def _join_call(table: pd.DataFrame, index: object, other: pd.Series) -> None:
    mine = table.loc[index]
    table.at[index, "own_departure_deg"] = number_or_nan(mine["departure_deg"])
    table.at[index, "mirror_departure_deg"] = number_or_nan(other["departure_deg"])
    if "model" in table:
        table.at[index, "model"] = f"{mine['model']}; {_mirror_note(other)}"
    both = bool(mine["wink"]) and bool(other["wink"])
    agree = bool(mine["wink"]) == bool(other["wink"])
    for column in ("departure_deg", "descent_departure_deg", "ascent_departure_deg"):
        if column in table:
            table.at[index, column] = _finite_mean(mine[column], other[column])
    lower = min(number_or_nan(mine["confidence"]), number_or_nan(other["confidence"]))
    table.at[index, "confidence"] = lower if agree else 0.0
    if not both:
        table.at[index, "wink"] = False
        table.at[index, "wink_deg"] = 0.0
        if not agree:
            table.at[index, "reason"] = "the clip and its mirror image disagree: one reads a wink, the other not"
            _clear_onset(table, index)
        return
    table.at[index, "wink_deg"] = (number_or_nan(mine["wink_deg"]) + number_or_nan(other["wink_deg"])) / 2
    depth = (number_or_nan(mine["onset_depth_deg"]) + number_or_nan(other["onset_depth_deg"])) / 2
    table.at[index, "onset_depth_deg"] = depth
    lows = [number_or_nan(mine["onset_depth_low_deg"]), number_or_nan(other["onset_depth_low_deg"])]
    highs = [number_or_nan(mine["onset_depth_high_deg"]), number_or_nan(other["onset_depth_high_deg"])]
    table.at[index, "onset_depth_low_deg"] = float(np.nanmin(lows)) if np.isfinite(lows).any() else np.nan
    table.at[index, "onset_depth_high_deg"] = float(np.nanmax(highs)) if np.isfinite(highs).any() else np.nan
    for column in ("onset_hip_flexion_deg", "rep_onset_depth_deg", "onset_time_s"):
        if column in table:
            table.at[index, column] = _finite_mean(mine[column], other[column])


def place_onsets(reps: pd.DataFrame, frames: pd.DataFrame) -> pd.DataFrame:
    """Each wink's ``onset_frame`` and ``onset_time_s`` moved to the descent frame whose (smoothed) thigh
    angle is nearest its ``onset_depth_deg``: after :func:`consensus_reps` the onset depth is the mean of
    two readings, and the frame shown for it must be one where the clip's own reading is at that depth."""
    out = reps.copy()
    depth = frames["depth_deg"].to_numpy(float)
    time_s = frames["time_s"].to_numpy(float)
    for index, rep in out.iterrows():
        target = number_or_nan(rep.get("onset_depth_deg"))
        if not (bool(rep.get("wink")) and np.isfinite(target)):
            continue
        start, bottom = int(rep["start"]), int(rep["bottom"])
        descent = depth[start:bottom + 1]
        if not np.isfinite(descent).any():
            continue
        row = start + int(np.nanargmin(np.abs(descent - target)))
        out.at[index, "onset_frame"] = row
        out.at[index, "onset_time_s"] = float(time_s[row])
    return out
