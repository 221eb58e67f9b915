"""Altair chart builders: a tidy DataFrame in, an ``alt.Chart`` out.

Pure functions (no Streamlit), unit-tested on their specs. Every builder
drops non-finite rows first (``finite``) so no NaN or inf reaches a chart,
and the frames they get are already aggregated (under 5,000 rows).
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from dashboard import palette
from dashboard.chartcache import memo
from dashboard.marks import hover_layers, marker_rows, run_markers
from dashboard.vegalite import cursor_filter, layer, nominal, quant, view, with_cursor

MAX_ROWS = 5000

#: one colour (and marker shape) per run, the same on every page: dashboard/palette.py
RUN_COLORS = {run: s.color for run, s in palette.RUNS.items()}
RUN_LABELS = {run: s.label for run, s in palette.RUNS.items()}
FEATURE_SCHEME = "tableau10"
#: the colour of a second descent path on a surface (momentum): black dashes on a white halo, apart
#: from the plain path's white line and orange dots on every band of the viridis surface
SECOND_PATH = "#000000"


def finite(df: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows whose numeric columns (or the given ones) are all finite."""
    cols = list(columns) if columns is not None else [c for c, t in df.dtypes.items() if t.kind in "iufc"]
    return _rows_where(df, cols, np.isfinite)


def positive(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Rows whose ``columns`` (those of them df has) are all above 0: what a log axis can draw."""
    return _rows_where(df, [c for c in columns if c in df.columns], lambda v: v > 0)


def _rows_where(df: pd.DataFrame, cols: list, test) -> pd.DataFrame:
    """The rows where ``test`` holds for every one of ``cols`` (df itself when it holds on all),
    column by column on numpy arrays: a chart builder calls it on every curve it draws."""
    if not cols or df.empty:
        return df
    ok = np.logical_and.reduce([test(df[c].to_numpy(dtype=float, na_value=np.nan)) for c in cols])
    return df.loc[ok] if not ok.all() else df


def run_color(runs: Sequence[str]) -> dict:
    return palette.scale(runs, "color")


def _labelled(df: pd.DataFrame, column: str = "run") -> pd.DataFrame:
    return df.assign(**{column: df[column].map(palette.label)})


# ------------------------------------------------------------ standardization

@memo
def feature_histograms(df: pd.DataFrame, *, title: str, x_title: str, height: int = 56) -> alt.LayerChart:
    """Histograms, one row per feature, on one shared x axis, from pre-binned counts.

    df: (feature, bin_left, bin_right, count). One view (a ridgeline), not a facet: a single view
    fits its column's width (Vega-Lite cannot fit a facet), so no row is cut at the right. Each
    row's bars are scaled to its own tallest bin (the counts are in the tooltips); the feature's
    name is written above its row.
    """
    df = finite(df)
    names = list(dict.fromkeys(df["feature"]))
    n = max(1, len(names))
    row = df["feature"].map({f: n - 1 - i for i, f in enumerate(names)}).to_numpy(dtype=float)
    tallest = df.groupby("feature", sort=False)["count"].transform("max").to_numpy(dtype=float)
    bars = df.assign(base=row, top=row + 0.72 * df["count"].to_numpy(dtype=float) / np.maximum(tallest, 1.0))
    bars = bars[bars["count"].to_numpy() > 0]  # an empty bin would draw as a hairline
    lo = float(df["bin_left"].min()) if len(df) else 0.0
    hi = float(df["bin_right"].max()) if len(df) else 1.0
    xs = {"domain": [lo, hi if hi > lo else lo + 1.0], "nice": False, "zero": False}
    ys = {"domain": [0, n], "nice": False, "zero": True}
    hist = view(
        bars, mark={"type": "rect", "opacity": 0.85},
        x=quant("bin_left", title=x_title, scale=xs), x2={"field": "bin_right"},
        y=quant("base", title=None, scale=ys, axis=None), y2={"field": "top"},
        color=nominal("feature", scale={"scheme": FEATURE_SCHEME, "domain": names}, legend=None),
        tooltip=[nominal("feature"), quant("bin_left", title="from", format=".3g"),
                 quant("bin_right", title="to", format=".3g"), quant("count")],
    )
    heads = pd.DataFrame({"feature": names, "x": lo, "y": [n - 1 - i + 0.78 for i in range(len(names))]})
    labels = view(heads, mark={"type": "text", "align": "left", "baseline": "bottom", "fontWeight": "bold",
                               "dx": 2},
                  x=quant("x", scale=xs), y=quant("y", scale=ys), text=nominal("feature"))
    return layer(hist, labels, title=title, height=max(height * n, 160), width="container")  # two rows: not flat


@memo
def batch_scatter(df: pd.DataFrame, *, x: str, y: str) -> alt.Chart:
    """Every sample as a dot, the chosen mini-batch highlighted.

    df: (x, y, in_batch: bool, index).
    """
    df = finite(df)
    return view(
        df, mark={"type": "circle", "size": 60},
        x=quant(x, title=x, scale={"zero": False}),
        y=quant(y, title=y, scale={"zero": False}),
        color=nominal("in_batch", title=None,
                      scale={"domain": ["this batch", "other batches"], "range": ["#e45756", "#c7ccd6"]}),
        opacity={"condition": {"test": "datum.in_batch == 'this batch'", "value": 1.0}, "value": 0.5},
        tooltip=[quant("index"), quant(x, format=".3g"), quant(y, format=".3g"), nominal("in_batch")],
    ).properties(height=260)


@memo
def strip(df: pd.DataFrame, *, title: str, x_title: str, domain: tuple[float, float] | None = None,
          rules: pd.DataFrame | None = None) -> alt.LayerChart:
    """Values as dots along one axis, one row per stage.

    df: (stage, value, index). rules: optional (stage, at, what) vertical marks.
    """
    df = finite(df)
    scale = {"domain": list(domain)} if domain else {"zero": False}
    layers = [view(
        df, mark={"type": "tick", "thickness": 3, "size": 26},
        x=quant("value", title=x_title, scale=scale),
        y=nominal("stage", title=None, sort=None, axis={"labelLimit": 260}),
        color=nominal("stage", legend=None, sort=None, scale={"scheme": "set1"}),
        tooltip=[nominal("stage"), quant("index"), quant("value", format=".3f")],
    )]
    if rules is not None and not rules.empty:
        layers.append(view(finite(rules), mark={"type": "rule", "strokeDash": [4, 3], "color": "#333"},
                           x=quant("at"), tooltip=[nominal("what"), quant("at", format=".3f")]))
    return layer(*layers, title=title, height=60 + 40 * df["stage"].nunique())


# ------------------------------------------------------------ loss landscape

@memo
def surface(grid: pd.DataFrame, path: pd.DataFrame, *, title: str, x_title: str, y_title: str,
            extent: tuple[float, float, float, float], optimum: tuple[float, float],
            current: pd.DataFrame | None = None, band_domain: tuple[float, float] | None = None,
            size: int = 270, cursor: str | None = None,
            second: pd.DataFrame | None = None) -> alt.LayerChart:
    """The loss surface as a banded heatmap with the descent path on top, ``size`` px square (with its
    axes it fits a phone's 358 px column).

    grid: (w_a, w_b, loss, band) on a regular grid; path: (step, w_a, w_b,
    loss); current: one row, the iterate shown by the scrubber. With ``cursor``
    (a Vega-Lite param name, its value set when drawn) the path is drawn up to
    that step and the current iterate is the last one there: one chart for
    every position of a scrubber. second: (step, w_a, w_b, loss), a second descent on the same
    surface (with momentum), drawn dashed in orange up to the same step.
    """
    grid = finite(grid)
    path = finite(path)
    a = np.sort(grid["w_a"].unique())
    b = np.sort(grid["w_b"].unique())
    da = (a[1] - a[0]) / 2 if len(a) > 1 else 0.5
    db = (b[1] - b[0]) / 2 if len(b) > 1 else 0.5
    cells = grid.assign(a0=grid["w_a"] - da, a1=grid["w_a"] + da, b0=grid["w_b"] - db, b1=grid["w_b"] + db)
    xs = {"domain": [extent[0], extent[1]], "nice": False, "zero": False}
    ys = {"domain": [extent[2], extent[3]], "nice": False, "zero": False}
    color_scale = {"scheme": "viridis", **({"domain": list(band_domain)} if band_domain else {})}
    x, y = quant("w_a", scale=xs), quant("w_b", scale=ys)
    heat = view(
        cells, mark="rect",
        x=quant("a0", title=x_title, scale=xs), x2={"field": "a1"},
        y=quant("b0", title=y_title, scale=ys), y2={"field": "b1"},
        color=quant("band", title="log₁₀ loss", scale=color_scale,
                    legend={"orient": "bottom", "gradientLength": 200}),
        tooltip=[quant("w_a", title=x_title, format=".3g"), quant("w_b", title=y_title, format=".3g"),
                 quant("loss", title="loss (MSE)", format=".4g")],
    )
    shown = cursor_filter(cursor)
    line = view(path, mark={"type": "line", "color": "white", "strokeWidth": 2.5, "clip": True},
                transform=shown, x=x, y=y, order=quant("step"))
    dots = view(path, mark={"type": "circle", "color": "#ff7f0e", "size": 22, "clip": True, "opacity": 0.9},
                transform=shown, x=x, y=y,
                tooltip=[quant("step"), quant("w_a", format=".4g"), quant("w_b", format=".4g"),
                         quant("loss", format=".4g")])
    opt = pd.DataFrame({"w_a": [optimum[0]], "w_b": [optimum[1]], "what": ["least-squares optimum"]})
    star = view(opt, mark={"type": "point", "shape": "cross", "size": 260, "color": "white", "strokeWidth": 3,
                           "filled": True},
                x=x, y=y, tooltip=[nominal("what")])
    layers = [heat, line, dots, star]
    if second is not None and not second.empty:
        lines, square = _second_path(finite(second), shown, x, y)
        layers[1:1] = lines
        layers += [square] if cursor else []
    marker = {"type": "circle", "size": 260, "color": "#ff2d55", "stroke": "white", "strokeWidth": 2,
              "opacity": 1, "clip": True}
    last = last_of()
    if cursor and not path.empty:
        layers.append(view(path, mark=marker, transform=shown + last, x=x, y=y,
                           tooltip=[quant("step"), quant("loss", format=".4g")]))
    elif current is not None and not current.empty:
        layers.append(view(finite(current), mark=marker, x=x, y=y,
                           tooltip=[quant("step"), quant("loss", format=".4g")]))
    # square, so that equal curvature looks round: a bowl is a circle only on equal axes (a plot as
    # wide as its column and of fixed height turned the standardized bowl into an oval)
    chart = layer(*layers, title=title, width=size, height=size, autosize={"type": "pad"})
    return with_cursor(chart, cursor, int(path["step"].max()) if not path.empty else 0)


def decade_ticks(top: int) -> list[int]:
    """0, 1, 10, 100, ... up to ``top``: the ticks of a log step axis."""
    ticks, t = [0], 1
    while t <= max(top, 1):
        ticks.append(t)
        t *= 10
    return ticks


def _second_path(path: pd.DataFrame, shown: list[dict], x: dict, y: dict) -> tuple[list, alt.Chart]:
    """A second descent on a surface: black dashes on a white halo (seen on every band), and its
    iterate at the scrubber's step as a white-edged black square."""
    line = {"type": "line", "clip": True}
    halo = view(path, mark={**line, "color": "white", "strokeWidth": 5, "opacity": 0.85},
                transform=shown, x=x, y=y, order=quant("step"))
    dashes = view(path, mark={**line, "color": SECOND_PATH, "strokeWidth": 2.5, "strokeDash": [6, 3]},
                  transform=shown, x=x, y=y, order=quant("step"))
    square = view(path, mark={"type": "square", "size": 200, "color": SECOND_PATH, "stroke": "white",
                              "strokeWidth": 2, "opacity": 1, "clip": True},
                  transform=shown + last_of(), x=x, y=y, tooltip=[quant("step"), quant("loss", format=".4g")])
    return [halo, dashes], square


def last_of() -> list[dict]:
    """A Vega-Lite transform keeping only the row of the largest step (after a cursor's filter)."""
    return [{"joinaggregate": [{"op": "max", "field": "step", "as": "last_step"}]},
            {"filter": "datum.step == datum.last_step"}]


@memo
def loss_curves(df: pd.DataFrame, *, title: str, x: str = "step", log_x: bool = True,
                runs: Sequence[str] | None = None, current_step: int | None = None,
                height: int = 300, cursor: str | None = None, dashed: Sequence[str] = (),
                optimum: float | None = None, log_y: bool = True) -> alt.LayerChart:
    """Loss against step, one line per run, log-scale loss (linear with ``log_y=False``); the ``dashed`` runs' lines dashed; with
    ``optimum`` (a positive loss) a grey rule marks the least-squares optimum's loss.

    df: (run, step, loss); only positive finite losses are drawn. A dashed
    rule marks ``current_step``, or with ``cursor`` (a Vega-Lite param name)
    the param's value.
    """
    df = finite(df)
    df = df[df["loss"] > 0]
    runs = list(runs or df["run"].unique())
    df = _labelled(df)
    top = int(df[x].max()) if len(df) else 1
    log_axis = {"scale": {"type": "symlog"}, "axis": {"values": decade_ticks(top), "format": ","}}
    xq = quant(x, title=x + (" (log scale)" if log_x else ""), **(log_axis if log_x else {}))
    yq = quant("loss", title="loss (log scale)", scale={"type": "log"}) if log_y else quant("loss", title="loss")
    dash = {}
    if dashed:  # a second cue for runs that share a colour: their lines dashed
        dash = {"strokeDash": nominal("run", title=None, legend=None, scale=palette.dash_scale(runs, dashed))}
    layers = [view(
        df, mark={"type": "line", "strokeWidth": 2.5}, x=xq, y=yq,
        color=nominal("run", title=None, scale=run_color(runs), legend=palette.legend(runs)),
        tooltip=[nominal("run"), quant(x), quant("loss", format=".4g")], **dash,
    ), run_markers(marker_rows(df, x, log=log_x), x=quant(x), y=yq, runs=runs)]
    rule = {"type": "rule", "color": "#ff2d55", "strokeDash": [5, 3], "strokeWidth": 2}
    if optimum is not None and np.isfinite(optimum) and optimum > 0:
        layers.append(view(pd.DataFrame({"loss": [float(optimum)], "what": ["the least-squares optimum"]}),
                           mark={"type": "rule", "color": palette.LABEL, "strokeWidth": 1.5, "strokeDash": [2, 2]},
                           y=yq, tooltip=[nominal("what"), quant("loss", format=".4g")]))
    if cursor:
        layers.append(view(pd.DataFrame({"at": [0]}), mark=rule, transform=[{"calculate": cursor, "as": x}],
                           x=quant(x)))
    elif current_step is not None:
        layers.append(view(pd.DataFrame({x: [current_step]}), mark=rule, x=quant(x)))
    if x == "step":  # a rule at the hovered step with every run's loss there
        layers += hover_layers(df, "loss", xq, yq, runs, None)
    chart = layer(*layers, title=title, height=height)
    return with_cursor(chart, cursor, int(df[x].max()) if len(df) else 0)


@memo
def rate_curves(df: pd.DataFrame, limits: pd.DataFrame, *, title: str, current: float,
                runs: Sequence[str], dashed: Sequence[str] = (), height: int = 260) -> alt.LayerChart:
    """Per-step rate against learning rate, one line per run, with the stable limit marked.

    df: (run, lr_scale, rate); limits: (run, lr_scale), each run's measured stable limit (where its
    rate reaches 1). A rule at rate 1 (above it the error grows), a dashed rule at ``current``, the
    learning rate on screen, and a marker where each run's curve crosses 1.
    """
    df, limits = _labelled(finite(df)), _labelled(finite(limits))
    dash = {"strokeDash": nominal("run", title=None, legend=None, scale=palette.dash_scale(runs, dashed))}
    xq = quant("lr_scale", title="learning rate (× plain descent's largest stable rate)")
    yq = quant("rate", title="per-step rate ρ (error × ρ each step)", scale={"domain": [0, 1.5]})
    lines = view(df, mark={"type": "line", "strokeWidth": 2.5, "clip": True}, x=xq, y=yq,
                 color=nominal("run", title=None, scale=run_color(runs), legend=palette.legend(runs)),
                 tooltip=[nominal("run"), quant("lr_scale", format=".3g"), quant("rate", format=".6g")], **dash)
    one = view(pd.DataFrame({"rate": [1.0], "what": ["rate 1: the stable limit"]}),
               mark={"type": "rule", "color": palette.LABEL, "strokeWidth": 1.5}, y=quant("rate"),
               tooltip=[nominal("what")])
    now = view(pd.DataFrame({"lr_scale": [float(current)], "what": ["the learning rate on screen"]}),
               mark={"type": "rule", "color": "#ff2d55", "strokeDash": [5, 3], "strokeWidth": 2},
               x=quant("lr_scale"), tooltip=[nominal("what")])
    edge = run_markers(limits.assign(rate=1.0), x=quant("lr_scale"), y=quant("rate"), runs=runs, size=110,
                       tooltip=[nominal("run"), quant("lr_scale", title="stable up to (×)", format=".3g")])
    return layer(lines, one, now, edge, title=title, height=height)
