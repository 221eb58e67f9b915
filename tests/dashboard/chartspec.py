"""Reading a chart builder's Vega-Lite spec in tests: validate it, find its data, poison its inputs.

Shared by tests/dashboard/test_charts.py and test_netcharts.py.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

#: The house rule: a chart's data stays under this many rows.
MAX_ROWS = 5000


def chart_spec(chart) -> dict:
    """The chart's Vega-Lite dict, validated against Altair's own schema."""
    assert isinstance(chart, alt.TopLevelMixin), type(chart)
    spec = chart.to_dict(validate=True)
    json.dumps(spec, allow_nan=False)  # NaN/inf are not JSON: a browser would choke
    return spec


def _dicts(spec):
    """Every dict nested in the spec, outside its top-level ``datasets``."""
    stack = [{k: v for k, v in spec.items() if k != "datasets"}]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def datasets(spec) -> list[list[dict]]:
    """Every inline data set in the spec: top-level ``datasets`` and any ``values``."""
    found = [rows for rows in spec.get("datasets", {}).values()]
    for node in _dicts(spec):
        data = node.get("data")
        if isinstance(data, dict) and isinstance(data.get("values"), list):
            found.append(data["values"])
    return found


def row_count(spec) -> int:
    """Rows of data the chart ships, over all its data sets."""
    return sum(len(rows) for rows in datasets(spec))


def bad_cells(spec) -> list:
    """(column, value) of every null or non-finite number in the chart's data.

    Altair turns NaN and inf into null when it serializes a DataFrame.
    """
    bad = []
    for rows in datasets(spec):
        for row in rows:
            for col, v in row.items():
                if v is None or (isinstance(v, float) and not math.isfinite(v)):
                    bad.append((col, v))
    return bad


def encoded_fields(spec) -> set[str]:
    """Every column the spec encodes (axes, colours, tooltips ...)."""
    return {node["field"] for node in _dicts(spec) if isinstance(node.get("field"), str)}


def numeric_columns(df: pd.DataFrame) -> list[str]:
    """The columns holding numbers (booleans are not numbers here)."""
    return [c for c in df.columns
            if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]


def poison(df: pd.DataFrame, rng: np.random.Generator,
           columns: Sequence[str] | None = None) -> tuple[pd.DataFrame, int]:
    """A copy with NaN, inf and -inf in a few rows of every numeric column; returns (frame, clean rows).

    columns: poison only these (of the numeric ones); default all. The
    poisoned columns become float64.
    """
    df = df.copy()
    numeric = [c for c in numeric_columns(df) if columns is None or c in columns]
    if df.empty or not numeric:
        return df, len(df)
    for c in numeric:
        df[c] = df[c].astype(float)
    hit = np.zeros(len(df), dtype=bool)
    for c in numeric:
        rows = rng.choice(len(df), size=min(3, len(df)), replace=False)
        for r, v in zip(rows, (np.nan, np.inf, -np.inf), strict=False):
            df.iloc[r, df.columns.get_loc(c)] = v
            hit[r] = True
    return df, int((~hit).sum())
