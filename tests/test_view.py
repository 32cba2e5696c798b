"""View checks on hand-built landmark tables with known geometry."""

import numpy as np
import pandas as pd
import pytest

from buttwink.pose import LANDMARK_FIELDS, LANDMARK_NAMES, landmark_columns
from buttwink.view import assess_view, estimate_view_yaw, trunk_length_px, view_confidence

W, H = 640, 480


def _table(yaw_deg: float, facing: float = 1.0, n: int = 30, shoulder_y: float = 150.0) -> pd.DataFrame:
    """A standing person seen ``yaw_deg`` off the side view: left/right points split by width * sin(yaw)."""
    trunk = 150.0
    centre = {"shoulder": (320, shoulder_y), "hip": (320, shoulder_y + trunk), "knee": (330, shoulder_y + 260),
              "ankle": (320, shoulder_y + 320), "heel": (310, shoulder_y + 330),
              "foot_index": (345, shoulder_y + 330), "ear": (318, shoulder_y - 40), "nose": (335, shoulder_y - 35)}
    widths = {"shoulder": 0.65, "hip": 0.45}
    values = np.full((n, len(LANDMARK_NAMES), len(LANDMARK_FIELDS)), np.nan)
    for i, name in enumerate(LANDMARK_NAMES):
        side, _, joint = name.partition("_")
        if joint not in centre and name not in centre:
            continue
        x, y = centre.get(joint, centre.get(name))
        x = 320 + (x - 320) * facing
        half = widths.get(joint, 0.3) * trunk * np.sin(np.radians(yaw_deg)) / 2
        x += -half if side == "left" else half
        values[:, i, :5] = (x, y, 0.0, 0.99 if side == "left" else 0.8, 0.99)
    table = pd.DataFrame(values.reshape(n, -1), columns=landmark_columns())
    table.insert(0, "detected", True)
    table.insert(0, "time_s", np.arange(n) / 30)
    table.insert(0, "frame", np.arange(n))
    return table


@pytest.mark.parametrize("yaw", [0.0, 20.0, 40.0, 80.0])
def test_view_yaw_estimate_follows_the_geometry(yaw: float) -> None:
    assert estimate_view_yaw(_table(yaw)) == pytest.approx(yaw, abs=2.0)


def test_side_view_is_usable_with_near_side_and_facing() -> None:
    right = assess_view(_table(5.0, facing=1.0), W, H)
    left = assess_view(_table(5.0, facing=-1.0), W, H)
    assert right.usable and left.usable
    assert right.near_side == "left"  # the more visible side in the table
    assert (right.facing, left.facing) == ("right", "left")


def test_front_view_is_refused_and_oblique_warned() -> None:
    front = assess_view(_table(80.0), W, H)
    assert not front.usable and "not a side view" in front.reasons[0]
    oblique = assess_view(_table(25.0), W, H)
    assert oblique.usable and any("oblique" in w for w in oblique.warnings)


def test_person_leaving_the_picture_is_refused() -> None:
    cropped = assess_view(_table(0.0, shoulder_y=-60.0), W, H)  # shoulders above the top edge
    assert not cropped.usable and "shoulders" in cropped.reasons[0]


def test_no_person() -> None:
    table = _table(0.0)
    table["detected"] = False
    result = assess_view(table, W, H)
    assert not result.usable and result.reasons == ["no person found"]


def test_view_confidence_falls_with_yaw() -> None:
    factors = [view_confidence(y) for y in (0, 15, 20, 30, 60)]
    assert factors[0] == factors[1] == 1.0
    assert factors[1] > factors[2] > factors[3] > 0.25 - 1e-9
    assert factors[4] == pytest.approx(0.25)


@pytest.mark.parametrize(("scale", "small"), [(1.0, False), (0.45, False), (0.35, True)])
def test_a_person_small_in_the_picture_is_warned(scale: float, small: bool) -> None:
    """_table's trunk is 150 px; scaled about the picture's centre to 67 px it is still fine, to 52 px it is
    below SMALL_TRUNK_PX (60 px), which names its length."""
    table = _table(0.0)
    for column in table.columns:
        for axis, centre in (("_x_px", W / 2), ("_y_px", H / 2)):
            if column.endswith(axis):
                table[column] = centre + (table[column] - centre) * scale
    assert trunk_length_px(table) == pytest.approx(150.0 * scale)
    view = assess_view(table, W, H)
    assert view.usable
    warned = [w for w in view.warnings if "small in the picture" in w]
    assert bool(warned) is small
    if small:
        assert f"hip to shoulder {150.0 * scale:.0f} px" in warned[0]
