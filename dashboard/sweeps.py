"""The Sweeps view's support: the live budget, the results trained once per grid point, the frames its
charts draw and the measured sentences.

Results are kept per point of the grid (one axis value: every norm and seed of it) in a bounded store
shared by the sessions, so a sweep that returns, a range that grows by one value, or a display control
that moves retrains nothing that was trained before.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import OrderedDict

import numpy as np
import pandas as pd
import streamlit as st

from core.sweep import AXES, SweepGrid, estimate_seconds, headline, results_table, run_sweep
from dashboard import observe as ob
from dashboard.charts import RUN_LABELS

#: the largest grid a live demo trains: estimated seconds on this machine, and runs
LIVE_SECONDS = 45.0
LIVE_RUNS = 160
MAX_POINTS = 2048  # grid points (one value x norms x seeds) kept


class PointStore:
    """A thread-safe LRU of ``SweepGrid of one value -> its results rows``."""

    def __init__(self, max_points: int = MAX_POINTS):
        self.max_points = max_points
        self._rows: OrderedDict[SweepGrid, pd.DataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: SweepGrid) -> pd.DataFrame | None:
        with self._lock:
            rows = self._rows.get(key)
            if rows is not None:
                self._rows.move_to_end(key)
            return rows

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)

    def put(self, key: SweepGrid, rows: pd.DataFrame) -> None:
        with self._lock:
            self._rows[key] = rows
            while len(self._rows) > self.max_points:
                self._rows.popitem(last=False)


@st.cache_resource(show_spinner=False)
def store() -> PointStore:
    return PointStore()


def point(grid: SweepGrid, value) -> SweepGrid:
    return dataclasses.replace(grid, values=(value,))


def too_big(grid: SweepGrid) -> str | None:
    """Why the grid is too big to train live (None: it is not), saying how to shrink it."""
    todo = [v for v in grid.values if store().get(point(grid, v)) is None]
    if not todo:
        return None
    seconds = estimate_seconds(dataclasses.replace(grid, values=tuple(todo)))
    runs = len(todo) * len(grid.norms) * len(grid.seeds)
    if seconds <= LIVE_SECONDS and runs <= LIVE_RUNS:
        return None
    return (f"This sweep needs {runs} new runs, about {seconds:,.0f} s of training — more than this live demo "
            f"allows ({LIVE_SECONDS:.0f} s, {LIVE_RUNS} runs). Shrink it: fewer seeds, a narrower range, fewer "
            "normalizations, fewer epochs or samples, or a smaller network (small batches cost the most "
            "steps). Or run it from the command line, python -m core.sweep GRID.toml --out DIR, and load "
            "its sweep.json below.")


def results(grid: SweepGrid) -> pd.DataFrame:
    """The grid's results, each point trained once: the points not kept yet train together, in one
    ``run_sweep`` (as few stacks as it allows), under a progress bar that names the runs being trained."""
    from dashboard.runs import store as run_store  # one training slot for the whole server

    s = store()
    got = {v: s.get(point(grid, v)) for v in grid.values}
    if any(rows is None for rows in got.values()):
        bar = st.progress(0.0, text="Training…")
        with run_store().slots:
            # another session may have trained some of them while this one waited for the slot
            got = {v: s.get(point(grid, v)) if rows is None else rows for v, rows in got.items()}
            todo = tuple(v for v, rows in got.items() if rows is None)
            if todo:
                rows = run_sweep(dataclasses.replace(grid, values=todo),
                                 progress=lambda fraction, text: bar.progress(min(fraction, 1.0), text=text))
                for v in todo:
                    got[v] = rows[rows["value"] == float(v)].reset_index(drop=True)
                    s.put(point(grid, v), got[v])
        bar.empty()
    return results_table(pd.concat([got[v] for v in grid.values], ignore_index=True).to_dict("records"))


# ---------------------------------------------------------------- frames for the charts


def label(norm: str) -> str:
    return RUN_LABELS.get(norm, norm)


def band_frame(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """(value, run, median, lo, hi) of a summary's metric ("loss", "error" = 1 - accuracy, "steps"), finite
    rows only: a point where every seed diverged (or none reached the target) has no row."""
    if summary.empty:
        return pd.DataFrame(columns=["value", "run", "median", "lo", "hi"])
    if metric == "error":
        med, lo, hi = 1 - summary["acc_median"], 1 - summary["acc_max"], 1 - summary["acc_min"]
    elif metric == "steps":
        med = lo = hi = summary["steps_median"]
    else:
        med, lo, hi = summary[f"{metric}_median"], summary[f"{metric}_min"], summary[f"{metric}_max"]
    out = pd.DataFrame({"value": summary["value"].astype(float), "run": summary["norm"],
                        "median": med.astype(float), "lo": lo.astype(float), "hi": hi.astype(float)})
    ok = np.isfinite(out[["value", "median", "lo", "hi"]].to_numpy(float)).all(axis=1)
    return out[ok].reset_index(drop=True)


def phase_frame(results_: pd.DataFrame) -> pd.DataFrame:
    """(value, run, status, count, share, start, end, text) per (value, norm, status) present: stacked
    shares of seeds, with the count and a letter as a label (L learned, N did not learn, D diverged)."""
    rows = []
    letters = {"learned": "L", "did not learn": "N", "diverged": "D"}
    for (value, norm), g in results_.groupby(["value", "norm"], sort=False):
        start = 0.0
        for status in ("learned", "did not learn", "diverged"):
            n = int((g["status"] == status).sum())
            if n:
                share = n / len(g)
                rows.append({"value": float(value), "run": norm, "status": status, "count": n, "share": share,
                             "start": start, "end": start + share, "text": f"{n}{letters[status]}"})
                start += share
    return pd.DataFrame(rows, columns=["value", "run", "status", "count", "share", "start", "end", "text"])


def value_text(axis: str, value: float) -> str:
    return f"{value:g}" if axis == "lr" else f"{int(value)}"


# ---------------------------------------------------------------- what you see (plain text)


def _every(seeds: int) -> str:
    return f"all {seeds} seeds" if seeds > 1 else "its one seed"


def lr_sentences(results_: pd.DataFrame) -> list[str]:
    """The learning-rate headline, measured: the largest rate each normalization learned at on every
    seed, the ratio, and where no normalization first diverged."""
    best = headline(results_)
    seeds = results_["seed"].nunique()
    lines = []
    for norm, v in best.items():
        who = label(norm).capitalize()
        lines.append(f"{who} learned on {_every(seeds)} up to rate {v:g}." if v is not None
                     else f"{who} did not learn on every seed at any rate of the sweep.")
    base = best.get("none")
    for norm, v in best.items():
        if norm != "none" and v is not None and base:
            lines.append(f"{label(norm).capitalize()} learned at a rate {ob.num(v / base)}× as high as no "
                         "normalization.")
    div = results_[(results_["norm"] == "none") & (results_["status"] == "diverged")]
    if len(div):
        lo = float(div["value"].min())
        n = int((div["value"] == lo).sum())
        lines.append(f"Without normalization the first divergence came at rate {lo:g} ({n} of {seeds} seeds).")
    return lines


def batch_sentences(summary: pd.DataFrame) -> list[str]:
    """Per normalization: the median validation error at the smallest and largest batch of the sweep."""
    lines = []
    for norm, g in summary.groupby("norm", sort=False):
        g = g.sort_values("value")
        lo, hi = g.iloc[0], g.iloc[-1]
        e_lo, e_hi = 1 - lo["acc_median"], 1 - hi["acc_median"]
        if math.isfinite(e_lo) and math.isfinite(e_hi):
            lines.append(f"{label(norm).capitalize()}: median validation error {ob.pct(e_lo)} at batch "
                         f"{int(lo['value'])}, {ob.pct(e_hi)} at batch {int(hi['value'])}.")
    gap = _gap_at_smallest(summary)
    if gap:
        lines.append(gap)
    return lines


def _gap_at_smallest(summary: pd.DataFrame) -> str | None:
    smallest = summary[summary["value"] == summary["value"].min()]
    errs = {r.norm: 1 - r.acc_median for r in smallest.itertuples() if math.isfinite(r.acc_median)}
    if "batch" in errs and "layer" in errs:
        d = errs["batch"] - errs["layer"]
        word = "higher" if d > 0 else "lower"
        return (f"At batch {int(smallest['value'].iloc[0])} batch norm's error is {abs(100 * d):.0f} points {word} "
                "than layer norm's.")
    return None


def depth_sentences(results_: pd.DataFrame, summary: pd.DataFrame, target: float) -> list[str]:
    """Per normalization: the deepest network that learned on every seed, and the steps to the target."""
    best = headline(results_)
    lines = []
    for norm, v in best.items():
        who = label(norm).capitalize()
        lines.append(f"{who} learned on every seed up to {int(v)} hidden layers." if v is not None
                     else f"{who} did not learn on every seed at any depth of the sweep.")
        g = summary[summary["norm"] == norm].sort_values("value")
        reached = g[g["reached"] == 1.0]
        if len(reached) >= 2:
            a, b = reached.iloc[0], reached.iloc[-1]
            lines.append(f"{who} reached {ob.pct(target)} validation accuracy in a median of "
                         f"{a['steps_median']:,.0f} steps at {int(a['value'])} layers and "
                         f"{b['steps_median']:,.0f} at {int(b['value'])}.")
    return lines


def not_reached(summary: pd.DataFrame, target: float) -> str:
    """Where no seed reached the target accuracy (the steps chart has no point there), per normalization."""
    parts = []
    for norm, g in summary.groupby("norm", sort=False):
        missed = [int(v) for v in g.loc[g["reached"] == 0, "value"]]
        if missed:
            parts.append(f"{label(norm)} at {', '.join(map(str, missed))} layers")
    if not parts:
        return f"Every point has at least one seed that reached {ob.pct(target)} validation accuracy."
    return f"No seed reached {ob.pct(target)} validation accuracy (no point drawn): " + "; ".join(parts) + "."


def axis_title(axis: str) -> str:
    return AXES[axis]
