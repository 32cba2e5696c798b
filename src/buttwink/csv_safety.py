"""CSV cells a spreadsheet cannot run: the OWASP rule against formula injection.

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return
before one) as a formula, so a clip named ``=HYPERLINK(...).mp4`` would run when ``summary.csv`` is opened.
Every text cell buttwink writes to a CSV goes through :func:`escape_cell`, which puts a single quote in
front of such a cell. Numbers stay numbers: a negative angle is not text, and a text cell that is exactly a
number (``-12.5``) is left as it is.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def escape_cell(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would read as a formula; else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return value


def escape_frame(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` with :func:`escape_cell` applied to every text (object or string) column."""
    out = table.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(escape_cell)
    return out


def escape_row(row: dict[str, object]) -> dict[str, object]:
    """A copy of one ``csv.DictWriter`` row with :func:`escape_cell` applied to each value."""
    return {key: escape_cell(value) for key, value in row.items()}
