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
from dashboard.vegalite import cursor_filter, level_filter, nominal, quant, view

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


def raw_line(df: pd.DataFrame, *, x: dict, y: dict, **encoding) -> alt.Chart:
    """The unsmoothed curve (a ``raw`` column in ``y``) drawn faint behind a smoothed one."""
    return view(df, mark={"type": "line", "strokeWidth": 1.2, "opacity": 0.3}, x=x, y=y, **encoding)


SPLIT_NAMES = {"train": "training", "val": "validation"}


def _hover_table(df: pd.DataFrame, metric: str, runs: Sequence[str],
                 level: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """One row a recorded step (of any curve), a text column a curve: its value at its latest record
    at or before that step ("—" outside its records), and the curves' names. Curves recorded on other
    steps (a pinned run with another batch size) still read at every step; text, so nothing is NaN.
    A curve is a run's, or with a ``split`` column a run's training or validation curve. With
    ``level`` (a column of the curves' smoothing weights, ``frames.smoothing_levels``), a table per
    weight, one under the other, with that column."""
    step_of, value_of = df["step"].to_numpy(), df[metric].to_numpy(dtype=float)
    run_of = df["run"].to_numpy()
    split_of = df["split"].astype(str).to_numpy() if "split" in df.columns else None
    curves, names = [], []
    for run in runs:
        for split in ("train", "val") if split_of is not None else (None,):
            mine = (run_of == palette.label(run)) & (True if split is None else split_of == split)
            if mine.any():
                curves.append(mine)
                names.append(palette.label(run) if split is None else f"{palette.label(run)}, {SPLIT_NAMES[split]}")
    level_of = df[level].to_numpy() if level else np.zeros(len(df))
    weights = np.unique(level_of)
    steps_at = [np.unique(step_of[level_of == w]) for w in weights]  # a level's recorded steps
    table = {"step": np.concatenate(steps_at)} if steps_at else {"step": []}
    if level:
        table[level] = np.repeat(weights, [len(st) for st in steps_at])
    for i, curve in enumerate(curves):
        texts = []
        for w, steps in zip(weights, steps_at, strict=True):
            mine = curve & (level_of == w)
            order = np.argsort(step_of[mine], kind="stable")
            at, values = step_of[mine][order], value_of[mine][order]
            j = np.searchsorted(at, steps, side="right") - 1
            inside = (j >= 0) & (steps <= (at[-1] if len(at) else -np.inf))
            text = [f"{v:.4g}" for v in values[np.maximum(j, 0)]] if len(at) else "—"
            texts.append(np.where(inside, text, "—"))
        table[f"v{i}"] = np.concatenate(texts)
    return pd.DataFrame(table), names


#: the hover's selection: the nearest step to the pointer, made once (Altair validates each new one
#: against its schema, ~5 ms); layering copies it, so no two charts share one
HOVER = alt.selection_point(name="hover", fields=["step"], nearest=True, on="pointerover", clear="pointerout")


def hover_layers(df: pd.DataFrame, metric: str, x: dict, y: dict, runs: Sequence[str],
                 cursor: str | None, level: str | None = None) -> list:
    """A vertical rule at the hovered step (the nearest recorded one) whose tooltip lists every
    curve's value there, and a ring on each curve recorded at that step. With ``level`` (the
    curves at several smoothing weights, ``frames.smoothing_levels``), those of the weight the
    param ``level`` picks."""
    if df.empty:
        return []
    wide, names = _hover_table(df, metric, runs, level)
    pick = level_filter(level)
    rule = view(wide, mark={"type": "rule", "color": "#6b7280", "strokeWidth": 1.2},
                transform=[*pick, *cursor_filter(cursor)], x=x,
                opacity={"condition": {"param": "hover", "empty": False, "value": 0.7}, "value": 0},
                tooltip=[quant("step"), *(nominal(f"v{i}", title=n) for i, n in enumerate(names))],
                ).properties(name="hover_rule").add_params(HOVER)  # a fixed name: the same spec every build
    rings = view(df, mark={"type": "point", "size": 60, "strokeWidth": 2, "filled": False},
                 transform=[*pick, *cursor_filter(cursor), {"filter": {"param": "hover", "empty": False}}],
                 x=x, y=y,
                 color=nominal("run", scale=palette.scale(runs, "color"), legend=None))
    return [rule, rings]
