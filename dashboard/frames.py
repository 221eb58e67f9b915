"""Frames the network views derive from their runs (one History, or one per seed, per normalization):
memoized on their inputs, pure (no Streamlit calls)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import seeds as sd
from dashboard.chartcache import memo
from dashboard.charts import RUN_LABELS
from dashboard.selections import WEIGHTS

MAX_POINTS = 600  # data points drawn over a decision boundary


def smoothed(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing of a curve: the debiased exponential moving average.

        s_i = w·s_(i-1) + (1 - w)·x_i,   s_(-1) = 0,   shown: s_i / (1 - w^(i+1))

    which is the mean of x_0 … x_i weighted by w^(i-k) (pandas' ``ewm`` with ``adjust=True``).
    Non-finite points are left out of the average and stay non-finite (a diverged run's curve
    still ends where it diverged). ``weight`` 0 returns the curve as it is.
    """
    x = np.asarray(values, dtype=np.float64)
    return smoothed_curves(x, np.zeros(len(x), dtype=np.intp), weight)


def smoothed_curves(values: np.ndarray, curve: np.ndarray, weight: float) -> np.ndarray:
    """``smoothed`` for many curves at once: ``values`` (n,) holds the curves one after another,
    ``curve`` (n,) says which curve each value belongs to (equal for a curve's values, which are
    contiguous and in order).

    One pass of the recursion over the longest curve serves every curve: the curves' finite values
    go into the rows of a (curves, length) array, each at its place along its own curve, so the
    loop runs over steps, not over curves."""
    x = np.asarray(values, dtype=np.float64)
    out = x.copy()
    ok = np.isfinite(x)
    if weight <= 0 or not ok.any():
        return out
    kept = x[ok]
    row, place, starts = sd.places(curve[ok])
    grid = np.zeros((len(starts), place.max() + 1))
    grid[row, place] = kept  # a curve a row, its finite values along it
    # s_i / (1 - w^(i+1)), both divided by 1 - w: total_i = w·total_(i-1) + x_i over
    # weights_i = w·weights_(i-1) + 1 = (1 - w^(i+1)) / (1 - w); so the first point is x_0 exactly
    total, weights = np.zeros(len(starts)), 0.0
    shown = np.empty_like(grid)
    for i in range(grid.shape[1]):
        total = weight * total + grid[:, i]
        weights = weight * weights + 1.0
        shown[:, i] = total / weights
    out[ok] = shown[row, place]
    return out


def smoothed_by(df: pd.DataFrame, columns, weight: float, *, by: str | None = None,
                raw: str | None = None, log: bool = False) -> pd.DataFrame:
    """df with ``columns`` smoothed (``smoothed``) along step, each ``by`` group on its own records,
    and a ``raw`` column keeping the unsmoothed values of the column ``raw`` (default: the first).

    log: average the logarithms (for a curve drawn on a log axis: a geometric mean, so a curve that
    falls by decades is not held up by its first, largest values); values <= 0 are left out."""
    return smoothed_at(df, columns, (weight,), by=by, raw=raw, log=log)


def smoothed_at(df: pd.DataFrame, columns, weights, *, by: str | None = None, raw: str | None = None,
                log: bool = False, level: str | None = None) -> pd.DataFrame:
    """``smoothed_by`` at each of ``weights`` (0: the values as they are): with several, the rows once
    a weight, one copy under the other, and with ``level`` a column of the weight."""
    # rows by group, then by step (np.lexsort is stable: as sort_values(kind="stable") orders them);
    # numpy instead of pandas' sort: a chart builder smooths every curve it draws
    group = pd.factorize(df[by], sort=True, use_na_sentinel=False)[0] if by else np.zeros(len(df), dtype=int)
    order = np.lexsort((df["step"].to_numpy(), group))
    out = df if (order == np.arange(len(df))).all() else df.iloc[order]
    group = group[order]
    cols = {}
    for c in columns:
        x = out[c].to_numpy(dtype=np.float64)
        logs = np.log(np.where(x > 0, x, np.nan)) if log else x
        at = [smoothed_curves(logs, group, w) if w > 0 else None for w in weights]
        cols[c] = [x if s is None else np.exp(s) if log else s for s in at]
    raw_values = out[raw or columns[0]].to_numpy(dtype=np.float64)
    if len(weights) == 1:
        return out.assign(raw=raw_values, **{c: v[0] for c, v in cols.items()})
    n = len(weights)
    return out.iloc[np.tile(np.arange(len(out)), n)].reset_index(drop=True).assign(
        raw=np.tile(raw_values, n), **{c: np.concatenate(v) for c, v in cols.items()},
        **({level: np.repeat(np.asarray(weights, dtype=np.float64), len(out))} if level else {}))


@memo
def metric_frame(runs: dict, metric: str, smooth: float = 0.0) -> pd.DataFrame:
    """(run, step, split, <metric>) of every run, long format. Runs over several seeds: the median
    over seeds, with its band (``lo``, ``hi``: the lowest and highest seed).

    smooth: a weight in [0, 1) for ``smoothed``: each seed's curves are smoothed before the median
    and the band are taken, and ``raw`` keeps the unsmoothed curve (its median over seeds)."""
    several = sd.count(runs) > 1
    frames = [seed_curves(hists if several else hists[:1], metric, smooth).assign(run=norm)
              for norm, hists in sd.as_seeds(runs).items() if metric in hists[0].metrics.columns]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def seed_curves(hists, metric: str, smooth: float) -> pd.DataFrame:
    """(step, split, <metric>) of one run's seeds, each seed's training and validation curves
    smoothed on their own (and ``raw``, the unsmoothed values, with ``smooth``), by step and split;
    over several seeds the median over seeds of each, and ``lo`` and ``hi``, the lowest and highest
    seed's <metric>.

    On the seeds' columns as arrays: a view's frames are small, and pandas' cost per call, not the
    arithmetic, was most of their time (17.6 ms for the default Training view's 6 runs, 4.0 ms now)."""
    ms = [h.metrics for h in hists]
    split_names, split = np.unique(np.concatenate([m["split"].to_numpy().astype(str) for m in ms]),
                                   return_inverse=True)
    step = np.concatenate([m["step"].to_numpy() for m in ms])
    seed = np.repeat(np.arange(len(ms)), [len(m) for m in ms])
    value = np.concatenate([m[metric].to_numpy(dtype=np.float64, na_value=np.nan) for m in ms])
    order = np.lexsort((step, split, seed))  # each seed's curves, a split at a time, along step
    step, split, seed, value = step[order], split[order], seed[order], value[order]
    columns = {metric: smoothed_curves(value, seed * len(split_names) + split, smooth)}
    if smooth > 0:
        columns["raw"] = value
    if len(ms) == 1:
        by_step = np.lexsort((split, step))
        return pd.DataFrame({"step": step[by_step], "split": split_names[split[by_step]],
                             **{c: v[by_step] for c, v in columns.items()}})
    rows, median, lo, hi = sd.median_by([step, split], np.column_stack(list(columns.values())))
    return pd.DataFrame({"step": step[rows], "split": split_names[split[rows]],
                         **{c: median[:, j] for j, c in enumerate(columns)}, "lo": lo, "hi": hi})


#: what users read for a data set whose key could be mistaken for something else (the key stays:
#: it is in URLs and tests)


@memo
def boundary_frames(runs: dict, step: int | None = None) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Per run, (grid (x1, x2, prob), points (x1, x2, label)) at the recorded step nearest ``step``.

    Empty for data sets that are not two-dimensional classification. Over seeds: the first seed's.
    """
    out = {}
    for norm, hist in sd.first(runs).items():
        if hist.task != "classification" or hist.boundary is None:
            continue
        grid = hist.boundary_frame(step)
        if grid.empty:
            continue
        grid = grid[["x1", "x2", "value"]].rename(columns={"value": "prob"})
        pts = hist.points
        if len(pts) > MAX_POINTS:
            pts = pts.iloc[:MAX_POINTS]
        out[norm] = (grid, pts[["x1", "x2", "y"]].rename(columns={"y": "label"}))
    return out


def boundary_step(hist, step: int) -> int:
    """The recorded step whose decision boundary ``boundary_frames`` shows for ``step``."""
    steps = np.asarray(hist.boundary_steps)
    return int(steps[np.argmin(np.abs(steps - step))]) if len(steps) else 0


def _mode_row(norm: str, hist) -> dict:
    by = {str(r["mode"]): r for _, r in hist.mode_metrics.iterrows()}
    row = {"run": RUN_LABELS[norm]}
    for mode in ("train", "eval"):
        if mode in by:
            row[f"val loss, {mode} mode"] = float(by[mode]["loss"])
            row[f"{hist.accuracy_name}, {mode} mode"] = float(by[mode]["accuracy"])
    return row


def _mode_layers(hist) -> pd.DataFrame:
    ml = hist.mode_layers
    sel = ml[ml["stage"].astype(str) == "post_norm"][["layer", "mode", "std", "rms_diff"]]
    return sel.assign(mode=sel["mode"].astype(str))


@memo
def mode_frames(runs: dict) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Train mode against eval mode: a summary table and, per run, (layer, mode, std) rows. Over
    seeds: each number is the median over the seeds that measured it."""
    rows, per_layer = [], {}
    for norm, hists in sd.as_seeds(runs).items():
        measured = [h for h in hists if not h.mode_metrics.empty]
        if measured:
            table = pd.DataFrame([_mode_row(norm, h) for h in measured])
            rows.append({"run": RUN_LABELS[norm], **table.drop(columns="run").median().to_dict()})
        layered = [_mode_layers(h) for h in hists if not h.mode_layers.empty]
        if layered:
            per_layer[norm] = sd.reduce(layered, ("layer", "mode"), ("std", "rms_diff")) if len(layered) > 1 \
                else layered[0]
    return pd.DataFrame(rows), per_layer


@memo
def recorded_steps(runs: dict, frame: str) -> list[int]:
    """Every step any run (any seed) recorded in its frame ``frame`` ("metrics", "histograms", ...), ascending."""
    steps = [getattr(h, frame)["step"].to_numpy() for hs in sd.as_seeds(runs).values() for h in hs]
    return np.unique(np.concatenate(steps)).tolist() if steps else []


def _last_step(steps: np.ndarray, step: int) -> int:
    """The latest recorded step at or before ``step`` (else the first one; 0 when none)."""
    if not len(steps):
        return 0
    ok = steps <= step
    return int(steps[ok].max() if ok.any() else steps.min())


def _layer_rows(hist, layer: int, stage: str) -> pd.DataFrame:
    s = hist.layer_stats
    return s[(s["layer"].to_numpy() == layer) & (s["stage"] == stage).to_numpy()]


@memo
def layer_bands(runs: dict, layer: int, stage: str, smooth: float = 0.0) -> pd.DataFrame:
    """(run, step, p15, p50, p85, ...) of one layer's values at one stage, every run (over seeds: the
    median over seeds of each percentile).

    smooth: a weight for ``smoothed``: each seed's percentiles are smoothed before the median, and
    ``raw`` keeps the unsmoothed median (p50; its median over seeds)."""
    frames = []
    several = sd.count(runs) > 1
    values = ("p15", "p50", "p85", "raw") if smooth > 0 else ("p15", "p50", "p85")
    for norm, hists in sd.as_seeds(runs).items():
        rows = [_layer_rows(h, layer, stage) for h in hists]
        if smooth > 0:
            rows = [smoothed_by(r, ("p15", "p50", "p85"), smooth, raw="p50") for r in rows]
        if several:
            frames.append(sd.reduce(rows, ("step",), values).assign(run=norm))
        else:
            frames.append(rows[0].assign(run=norm))
    return pd.concat(frames, ignore_index=True)


@memo
def smoothed_param(bands: pd.DataFrame, units: pd.DataFrame, weight: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """γ or β of one layer (``norm_layer_frames``) smoothed along step: the bands' quantiles, with
    ``raw`` keeping the unsmoothed median, and each unit's line on its own; as they are for weight 0."""
    if weight <= 0 or bands.empty:
        return bands, units
    return (smoothed_by(bands, ("q05", "q25", "q50", "q75", "q95"), weight, raw="q50"),
            smoothed_by(units, ("value",), weight, by="unit"))


@memo
def smoothed_runs(df: pd.DataFrame, value: str, weight: float, log: bool = False) -> pd.DataFrame:
    """(run, step, <value> smoothed, raw) from (run, step, <value>): each run's curve smoothed
    (``smoothed``; with ``log``, its logarithm) along its own records; as it is for ``weight`` 0."""
    return smoothed_by(df, (value,), weight, by="run", log=log) if weight > 0 and len(df) else df


#: the column of ``smoothing_levels`` and the Vega-Lite param that picks one of its weights
LEVEL = "smooth"


@memo
def smoothing_levels(df: pd.DataFrame, value: str, log: bool = False) -> pd.DataFrame:
    """(run, step, <value>, raw, smooth) from (run, step, <value>): the curves smoothed at every
    weight the Curves button offers (``smoothed_runs``; the column ``smooth`` holds the weight,
    0 the raw curves), so a chart picks one in the browser (a Vega-Lite param, ``LEVEL``) and a
    move of the smoothing redraws it without building anything."""
    return smoothed_at(df, (value,), WEIGHTS, by="run", log=log, level=LEVEL)


@memo
def histograms_at(runs: dict, step: int, stage: str) -> dict[str, tuple[int, pd.DataFrame]]:
    """Per run, (the step shown, its per-layer histograms at ``stage``) at the latest record <= step
    (over seeds: the first seed's)."""
    out = {}
    for norm, hist in sd.first(runs).items():
        h = hist.histograms
        steps = h["step"].to_numpy()
        rec = _last_step(steps, step)
        out[norm] = (rec, h[(steps == rec) & (h["stage"] == stage).to_numpy()])
    return out


@memo
def histogram_extent(runs: dict, stage: str) -> tuple[float, float] | None:
    """(lowest bin edge, highest bin edge) of the histograms at ``stage`` over every run and step:
    the one x axis runs drawn side by side share, steady while a player moves."""
    lo, hi = np.inf, -np.inf
    for hist in sd.first(runs).values():
        h = hist.histograms
        sel = (h["stage"] == stage).to_numpy()
        if sel.any():
            lo = min(lo, float(h["bin_left"].to_numpy()[sel].min()))
            hi = max(hi, float(h["bin_right"].to_numpy()[sel].max()))
    return (lo, hi) if np.isfinite(lo) and np.isfinite(hi) and hi > lo else None


HEALTH = ("saturated", "grad_norm")


def _health_rows(hist, step: int) -> pd.DataFrame:
    steps = hist.layer_health["step"].to_numpy()
    return hist.layer_health[steps == _last_step(steps, step)]


@memo
def health_at(runs: dict, step: int) -> pd.DataFrame:
    """(run, layer, saturated, grad_norm, ...) at the latest record <= step, every run (over seeds: the
    median over seeds, per layer)."""
    frames = []
    several = sd.count(runs) > 1
    for norm, hists in sd.as_seeds(runs).items():
        if several:  # a diverged seed's last record may be earlier: the median per layer, at the latest
            rows = [_health_rows(h, step) for h in hists]
            shown = max(int(r["step"].max()) for r in rows if len(r)) if any(len(r) for r in rows) else 0
            frames.append(sd.reduce(rows, ("layer",), HEALTH).assign(step=shown, run=norm))
        else:
            frames.append(_health_rows(hists[0], step).assign(run=norm))
    return pd.concat(frames, ignore_index=True)


@memo
def health_median(hists: tuple) -> pd.DataFrame:
    """(step, layer, saturated, grad_norm) of one normalization: its layer_health, or the median over
    its seeds."""
    hists = tuple(hists) if isinstance(hists, (tuple, list)) else (hists,)
    if len(hists) == 1:
        return hists[0].layer_health
    return sd.reduce([h.layer_health for h in hists], ("step", "layer"), HEALTH)


@memo
def health_all(runs: dict) -> pd.DataFrame:
    """(run, step, layer, saturated, grad_norm, ...) of every run at every recorded step (over seeds:
    the median over seeds)."""
    return pd.concat([health_median(hs).assign(run=norm) for norm, hs in sd.as_seeds(runs).items()],
                     ignore_index=True)


@memo
def positive_range(runs: dict, frame: str, column: str) -> tuple[float, float] | None:
    """(min, max) of a column's positive values over every run (a shared log colour scale; over seeds,
    of every seed)."""
    values = np.concatenate([getattr(h, frame)[column].to_numpy(dtype=float)
                             for hs in sd.as_seeds(runs).values() for h in hs])
    values = values[np.isfinite(values) & (values > 0)]
    return (float(values.min()), float(values.max())) if len(values) else None


@memo
def norm_layer_frames(hist, layer: int) -> dict:
    """One normalized layer of a run: the units drawn as lines (``"units"``: the first four), per
    parameter ``"gamma"`` / ``"beta"`` a (bands over all units, those units' values) pair, and per
    statistic ``"mean"`` / ``"variance"`` two units' batch values against the running estimate
    (step, unit, series, value), when the run keeps running statistics.

    Selected with numpy masks and built column by column: a dozen pandas filters and renames took
    ~15 ms here."""
    bands = hist.norm_param_bands
    in_layer = bands["layer"].to_numpy() == layer
    cols = {c: hist.norm_params[c].to_numpy() for c in ("step", "layer", "unit", "gamma", "beta")}
    sel = cols["layer"] == layer
    shown = np.unique(cols["unit"][sel])[:4]
    lines = sel & np.isin(cols["unit"], shown)
    out: dict = {"units": shown.tolist()}
    for p in ("gamma", "beta"):
        out[p] = (bands[in_layer & (bands["param"] == p).to_numpy()],
                  pd.DataFrame({"step": cols["step"][lines], "unit": cols["unit"][lines], "value": cols[p][lines]}))
    rs = getattr(hist, "running_stats", None)
    if rs is not None and not rs.empty:
        unit = rs["unit"].to_numpy()
        keep = (rs["layer"].to_numpy() == layer) & np.isin(unit, shown[:2])
        step, unit, n = rs["step"].to_numpy()[keep], unit[keep], int(keep.sum())
        for stat, batch, running in (("mean", "batch_mean", "running_mean"), ("variance", "batch_var", "running_var")):
            out[stat] = pd.DataFrame({
                "step": np.concatenate([step, step]), "unit": np.concatenate([unit, unit]),
                "value": np.concatenate([rs[batch].to_numpy()[keep], rs[running].to_numpy()[keep]]),
                "series": np.repeat(np.array(["batch", "running"], dtype=object), n)})
    return out
