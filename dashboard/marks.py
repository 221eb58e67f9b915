"""A run's second cue besides its colour: marker symbols of its shape along its line.

Shapes come from dashboard/palette.py, like the colours, so a run is the same
square, circle or triangle on every page, and a legend shows shape and colour
together.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from dashboard import palette
from dashboard.vegalite import nominal, view

MARKERS = 8  # marker symbols along each line


def marker_rows(df: pd.DataFrame, x: str, *, span: float | None = None, log: bool = False,
                n: int = MARKERS, by: Sequence[str] = ("run",)) -> pd.DataFrame:
    """The rows of each line (``by``) where its markers go: the first row in each of ``n`` equal
    stretches of ``x`` (of log x with ``log``) over ``span`` (else the data's largest x).

    The stretches do not depend on which rows there are, so the markers of a line cut at a step
    are the full line's markers up to that step (a player's cursor draws the same picture)."""
    if df.empty:
        return df
    df = df.sort_values(x, kind="stable")
    xs = df[x].to_numpy(dtype=float)
    if log:
        xs = np.log10(1.0 + np.maximum(xs, 0.0))
        span = np.log10(1.0 + span) if span is not None else None
    top = float(span if span is not None else xs.max()) or 1.0
    bucket = np.floor(xs / top * n).astype(int)
    keys = [df[c].to_numpy() for c in by if c in df.columns]
    first = ~pd.DataFrame({**{f"k{i}": k for i, k in enumerate(keys)}, "b": bucket}).duplicated().to_numpy()
    return df.loc[first]


def run_markers(df: pd.DataFrame, *, x: dict, y: dict, runs: Sequence[str], transform=None,
                size: int = 70, **encoding) -> alt.Chart:
    """Filled marker symbols, shape and colour by run (df already labelled): a run's second cue."""
    return view(df, mark={"type": "point", "filled": True, "size": size, "opacity": 1},
                transform=transform, x=x, y=y,
                color=nominal("run", title=None, scale=palette.scale(runs, "color"), legend=palette.legend(runs)),
                shape=nominal("run", title=None, scale=palette.scale(runs, "shape"), legend=palette.legend(runs)),
                **encoding)
