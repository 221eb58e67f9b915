"""Small helpers the network views share: frames across runs, banners, drawing."""

from __future__ import annotations

import functools
import re

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import chartcache, exports, palette
from dashboard import seeds as sd
from dashboard.chartcache import memo
from dashboard.charts import RUN_LABELS
from dashboard.style import presenter_on
from dashboard.vegalite import dressed, with_params

MAX_POINTS = 600  # data points drawn over a decision boundary
CHART_CHROME = 120  # pixels of title, axis labels and legend around a plot
#: a chart title's longest line, in characters: a half-width column on a laptop, a phone's width;
#: in presenter mode charts are one to a row, at the full width, in larger type
TITLE_CHARS = {False: 44, True: 70}


_SEQ = "_chart_seq"
_PAGE = "_chart_page"
_NAMES = "_chart_names"


def reset_chart_keys(page: str = "") -> None:
    """Call once at the top of a run: charts' save buttons are keyed by their order, and their files
    named after the page (``page``) and the chart."""
    st.session_state[_SEQ] = 0
    st.session_state[_PAGE] = page
    st.session_state[_NAMES] = set()


def chart_file_name(page: str, title, seq: int, taken: set[str] | None = None) -> str:
    """A saved chart's file name without extension: the page, then the chart's title up to its first
    parenthesis, colon or comma ("training-loss"); ``chart-<seq>`` stands for a missing title, and
    a name already ``taken`` on the page gets the chart's number."""
    text = title.get("text", "") if isinstance(title, dict) else title
    head = re.split(r"[(:,]", text, maxsplit=1)[0] if isinstance(text, str) else ""
    name = "-".join(p for p in (exports.slug(page) if page else "", exports.slug(head) if head.strip() else "") if p)
    name = name or f"chart-{seq}"
    if taken is not None:
        if name in taken:
            name = f"{name}-{seq}"
        taken.add(name)
    return name


def draw(container, chart: alt.TopLevelMixin, *, params: dict | None = None, save: bool = True,
         **kw) -> None:
    """Show an Altair chart, with a small menu to save it as PNG or SVG.

    The chart's Vega-Lite spec is converted once per chart object
    (``chartcache.vega_lite_spec``), so a chart a rerun did not change (the
    builders are memoized) costs next to nothing to send again. ``params``
    sets the values of the chart's top-level params (a scrubber's step): the
    same chart serves every value.
    """
    kw.setdefault("width", "stretch")
    h = getattr(chart, "height", None)
    if isinstance(h, int):  # the plot's height plus room for title, axis and legend
        kw.setdefault("height", h + CHART_CHROME)
    presenter = presenter_on()
    spec = dressed(with_params(chartcache.vega_lite_spec(chart), params), palette.chart_config(presenter),
                   title_chars=TITLE_CHARS[presenter])
    container.vega_lite_chart(spec=spec, **kw)
    if save:
        seq = st.session_state.get(_SEQ, 0) + 1
        st.session_state[_SEQ] = seq
        name = chart_file_name(st.session_state.get(_PAGE, ""), getattr(chart, "title", None), seq,
                               st.session_state.setdefault(_NAMES, set()))
        with container.popover("Save chart", icon=":material/download:", type="tertiary", key=f"save-{seq}"):
            st.download_button("PNG", exports.chart_png(chart, params), file_name=f"{name}.png", mime="image/png",
                               key=f"png-{seq}", on_click="ignore", icon=":material/image:")
            st.download_button("SVG", exports.chart_svg(chart, params), file_name=f"{name}.svg",
                               mime="image/svg+xml", key=f"svg-{seq}", on_click="ignore",
                               icon=":material/polyline:")


# Frames the network views derive from their runs. Memoized (``chartcache.memo``: a run is keyed by
# its config) so a rerun that moves a layer or a step slider redoes only what that value changes.

@memo
def metric_frame(runs: dict, metric: str) -> pd.DataFrame:
    """(run, step, split, <metric>) of every run, long format. Runs over several seeds: the median
    over seeds, with its band (``lo``, ``hi``: the lowest and highest seed)."""
    frames = []
    several = sd.count(runs) > 1
    for norm, hists in sd.as_seeds(runs).items():
        if metric not in hists[0].metrics.columns:
            continue
        if several:
            frames.append(sd.reduce([h.metrics for h in hists], ("step", "split"), (metric,), band=metric)
                          .assign(split=lambda d: d["split"].astype(str), run=norm))
        else:
            frames.append(hists[0].metrics[["step", "split", metric]].assign(run=norm))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


#: what users read for a data set whose key could be mistaken for something else (the key stays:
#: it is in URLs and tests)
DATASET_LABELS = {"seed": "the article's A, B data (A in [1, 10], B in [1, 200], y = 2A + 3B)"}


def dataset_label(name: str) -> str:
    """A data set as a choice list shows it: its name and what it is."""
    from core.data import DATASET_INFO

    if name in DATASET_LABELS:
        return DATASET_LABELS[name]
    return f"{name} — {DATASET_INFO[name][2]}" if name in DATASET_INFO else name


def diverged_banner(runs: dict) -> None:
    """One clear banner per diverged run: which run, at which step (over seeds: which seeds)."""
    if sd.count(runs) > 1:
        _diverged_seeds_banner(runs)
        return
    for norm, hist in sd.first(runs).items():
        if hist.diverged:
            st.error(
                f"**The run with {RUN_LABELS[norm]} diverged at step {hist.diverged_at:,}**: its loss or "
                "weights became infinite or NaN, so training stopped there and its curves end at that "
                "step. Lower the learning rate, or compare with the normalized run.",
                icon=":material/error:",
            )


def _diverged_seeds_banner(runs: dict) -> None:
    for norm, hists in sd.as_seeds(runs).items():
        gone = [h for h in hists if h.diverged]
        if not gone:
            continue
        where = ", ".join(f"seed {h.config.seed} at step {h.diverged_at:,}" for h in gone)
        rest = ("its curves end there" if len(gone) == len(hists)
                else "the curves are the median of the seeds still training")
        st.error(f"**The run with {RUN_LABELS[norm]} diverged on {len(gone)} of {len(hists)} seeds** ({where}): "
                 f"its loss or weights became infinite or NaN, so training stopped there and {rest}. Lower the "
                 "learning rate, or compare with the normalized run.", icon=":material/error:")


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


def boundary_title(hist, shown: int) -> str:
    """A boundary chart's title: the run and the step it was computed at (a diverged run: where it
    diverged, and the last step it was computed at)."""
    name = RUN_LABELS.get(hist.config.norm, hist.config.norm)
    if hist.diverged:  # short: three boundaries share a row (the caption gives the steps)
        return f"{name} (diverged)"
    return f"{name}, step {shown:,}"


def boundary_note(hist, shown: int) -> str:
    """A caption line for a run whose boundary is not at the player's step."""
    name = RUN_LABELS.get(hist.config.norm, hist.config.norm)
    if hist.diverged:
        return (f"{name[0].upper() + name[1:]}: the boundary at step {shown:,}, its last record before it "
                f"diverged at step {hist.diverged_at:,}.")
    return f"{name[0].upper() + name[1:]}: the boundary at step {shown:,}."


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
def layer_bands(runs: dict, layer: int, stage: str) -> pd.DataFrame:
    """(run, step, p15, p50, p85, ...) of one layer's values at one stage, every run (over seeds: the
    median over seeds of each percentile)."""
    frames = []
    several = sd.count(runs) > 1
    for norm, hists in sd.as_seeds(runs).items():
        if several:
            rows = [_layer_rows(h, layer, stage) for h in hists]
            frames.append(sd.reduce(rows, ("step",), ("p15", "p50", "p85")).assign(run=norm))
        else:
            frames.append(_layer_rows(hists[0], layer, stage).assign(run=norm))
    return pd.concat(frames, ignore_index=True)


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


def three_digits(df: pd.DataFrame) -> dict:
    """``st.dataframe`` column settings showing every numeric column to 3 significant digits
    (pandas' Styler does the same at ~20 ms a table)."""
    return {c: st.column_config.NumberColumn(format="%.3g") for c in df.columns
            if pd.api.types.is_numeric_dtype(df[c])}


def export_menu(files: list[tuple[str, object, str, str]]) -> None:
    """A sidebar expander of download buttons: (label, data or callable, file name, mime); none when a
    link hid it (``hide=export``)."""
    from dashboard.state import is_hidden

    if is_hidden("export"):
        return
    with st.sidebar.expander("Export", icon=":material/download:"):
        for i, (label, data, name, mime) in enumerate(files):
            st.download_button(label, data, file_name=name, mime=mime, key=f"export-{i}",
                               on_click="ignore", width="stretch")


def view_settings() -> dict:
    """Every setting of the page as its URL holds them (call after ``PageState.write_url``), with
    the values session state keeps (numbers as numbers) under the URL's field names."""
    ss = st.session_state
    out = {}
    for key, text in st.query_params.to_dict().items():
        if key == "lesson":
            continue
        value = ss[key] if key in ss else text
        out[key] = value.item() if isinstance(value, np.generic) else value
    return out


def _history_zip(hists: tuple) -> bytes:
    """One run's recorded history as a ZIP of CSVs with its config.json; over seeds, one folder a seed."""
    if len(hists) == 1:
        return exports.frames_zip(hists[0].frames(), hists[0].config)
    return exports.seeds_zip({h.config.seed: (h.frames(), h.config) for h in hists})


def export_view(view: str, runs: dict | None = None, files: list | None = None, configs: dict | None = None) -> None:
    """The sidebar's Export menu, drawn last on a page (after ``write_url``): each run's recorded
    history (a ZIP of CSVs with its config.json; over seeds, a folder per seed), the page's other
    ``files``, and ``<view>-config.json``, the settings that rebuild the view (``seeds`` among them)
    and the config of every run behind it."""
    out = list(files or [])
    seeded = sd.as_seeds(runs or {})
    several = sd.count(seeded) > 1
    for norm, hists in seeded.items():
        what = f"{len(hists)} seeds, " if several else ""
        out.append((f"History, {RUN_LABELS[norm]} ({what}CSV, zipped)", functools.partial(_history_zip, hists),
                    f"history-{norm}.zip", "application/zip"))
    if seeded:
        configs = {(f"{norm}, seed {h.config.seed}" if several else norm): h.config
                   for norm, hists in seeded.items() for h in hists} | (configs or {})
    out.append(("View settings (JSON)", exports.view_json(view, view_settings(), configs),
                f"{view}-config.json", "application/json"))
    export_menu(out)
