"""Chart builders for the network views (Training, Activations, γ and β).

Same rules as dashboard/charts.py: a tidy frame in, an Altair chart out; no
NaN/inf reaches a chart (``finite``); one colour per run on every page.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from dashboard import palette
from dashboard.chartcache import memo
from dashboard.charts import MAX_ROWS, _labelled, finite, positive, run_color
from dashboard.marks import hover_layers, marker_rows, raw_line, run_markers
from dashboard.vegalite import cursor_filter, layer, nominal, ordinal, quant, view, with_cursor

SPLIT_DASH = {"domain": ["train", "val"], "range": [[1, 0], [6, 4]]}
#: a pinned run's curves: the split's pattern, dotted (training) and dash-dotted (validation)
PINNED_SPLIT_DASH = {"train": [2, 2], "val": [6, 2, 2, 2]}
#: the curves' patterns by ``dash`` (the split, and "pinned ..." for a pinned run's): one legend, the split's
CURVE_DASH = {"domain": ["train", "val", "pinned train", "pinned val"],
              "range": [*SPLIT_DASH["range"], PINNED_SPLIT_DASH["train"], PINNED_SPLIT_DASH["val"]]}


def run_dash(runs: Sequence[str]) -> dict:
    """The strokeDash encoding of one line per run: solid, a pinned run dashed (``palette.dash_scale``)."""
    return nominal("run", title=None, scale=palette.dash_scale(runs), legend=None)


@memo
def metric_curves(df: pd.DataFrame, *, metric: str, runs: Sequence[str], log_y: bool,
                  title: str, diverged: dict[str, int] | None = None, height: int = 280,
                  x_domain: tuple[float, float] | None = None, cursor: str | None = None,
                  seeds: int = 1, chance: float | None = None) -> alt.LayerChart:
    """One metric against step: colour = run, dash = split (train solid, validation dashed; a pinned
    run's training dotted and its validation dash-dotted, ``CURVE_DASH``).

    df: (run, step, split, <metric>), and over seeds ``lo`` and ``hi``: the median curve is drawn with
    a band from the lowest seed to the highest. diverged: run -> the step it diverged at;
    such a run is drawn up to its last finite record, with its points shown
    (a run that blew up early may have recorded one), and a marked, labelled
    point at the divergence step (at its last finite value). With ``cursor``
    (a Vega-Lite param name, its value set when drawn) the curves stop at
    that step. Over ``seeds`` seeds a run is marked when every seed diverged, at the last one's step.

    A ``raw`` column (smoothed curves, ``frames.smoothed``) is drawn faint behind each curve.
    Hovering the plot draws a rule at the nearest recorded step, marks every curve's value there
    and lists them in its tooltip. ``chance``: the loss of guessing (log K for K classes), a
    dotted reference rule.
    """
    df = finite(df)
    if log_y:
        df = positive(df, (metric, "lo", "raw"))
    marks = _divergence_marks(df, metric, diverged or {}, x_domain, seeds)
    pinned = df["run"].map(palette.is_pinned).to_numpy(dtype=bool)
    df = _labelled(df).assign(dash=np.where(pinned, "pinned " + df["split"].astype(str), df["split"].astype(str)))
    x = quant("step", title="step", **({"scale": {"domain": list(x_domain)}} if x_domain else {}))
    y = quant(metric, title=metric + (" (log scale)" if log_y else ""),
              scale={"type": "log"} if log_y else {"zero": False})
    runmarks = marker_rows(df, "step", span=x_domain[1] if x_domain else None, by=("run", "split"))
    color = nominal("run", title=None, scale=run_color(runs), legend=palette.legend(runs))
    dash = nominal("dash", title=None, scale=CURVE_DASH, legend={
        "orient": "bottom", "symbolType": "stroke", "symbolStrokeWidth": 2, "symbolOpacity": 1, "values": ["train", "val"],
        "labelExpr": "datum.label == 'val' ? 'validation' : 'training'"})
    layers = [view(
        df, mark={"type": "line", "strokeWidth": 2.2}, transform=cursor_filter(cursor),
        x=x, y=y, color=color, strokeDash=dash,
        tooltip=[nominal("run"), nominal("split"), quant("step"), quant(metric, format=".4g")],
    ), run_markers(runmarks, x=quant("step"), y=y, runs=runs, transform=cursor_filter(cursor))]
    if "raw" in df.columns:  # with the curves' own legends: a layer before them saying none hides theirs
        layers.insert(0, raw_line(df, transform=cursor_filter(cursor), x=x,
                                  y=quant("raw", title=y["title"], scale=y["scale"]),
                                  color=color, strokeDash=dash, detail=nominal("split")))
    if "lo" in df.columns:
        layers.insert(0, _seed_band(df, x, quant("lo", title=y["title"], scale=y["scale"]), color, cursor))
    if chance is not None and np.isfinite(chance) and chance > 0:
        layers.append(_chance_rule(chance, y))
    if len(marks):
        layers += _divergence_layers(df, marks, metric, diverged or {}, x, y, runs, cursor)
    layers += hover_layers(df, metric, x, y, runs, cursor)
    chart = layer(*layers, title=title, height=height)
    return with_cursor(chart, cursor, int(df["step"].max()) if len(df) else 0)


def _chance_rule(chance: float, y: dict) -> alt.Chart:
    """A dotted grey rule at the loss of guessing, labelled."""
    k = int(round(np.exp(chance)))
    ref = pd.DataFrame({"y": [float(chance)], "label": [f"chance: log {k} = {chance:.2f}"]})
    yq = quant("y", title=y["title"], scale=y["scale"])
    return layer(
        view(ref, mark={"type": "rule", "strokeDash": [1, 3], "strokeWidth": 1.5, "color": "#4b5563"}, y=yq,
             tooltip=[nominal("label", title="reference")]),
        # at the right end, under the rule: where a run that learned has left it
        view(ref, mark={"type": "text", "align": "right", "baseline": "top", "dx": -4, "dy": 3,
                        "color": "#374151", "x": {"expr": "width"}}, y=yq, text={"field": "label"}))


def _seed_band(df: pd.DataFrame, x: dict, y: dict, color: dict, cursor: str | None) -> alt.Chart:
    """The band from the lowest seed (``lo``) to the highest (``hi``) under each median curve, coloured
    as the curves, with their legend (drawn first, a band saying "no legend" would hide it)."""
    return view(df, mark={"type": "area"}, transform=cursor_filter(cursor), x=x, y=y,
                y2={"field": "hi"}, color=color,
                # the training batches' band fainter: it is the noisier one, and validation is the measure
                opacity=nominal("split", scale={"domain": ["train", "val"], "range": [0.09, 0.2]}, legend=None),
                detail=nominal("split"),
                tooltip=[nominal("run"), nominal("split"), quant("step"), quant("lo", title="lowest seed", format=".4g"),
                         quant("hi", title="highest seed", format=".4g")])


def _divergence_marks(df: pd.DataFrame, metric: str, diverged: dict[str, int],
                      x_domain: tuple[float, float] | None, seeds: int = 1) -> pd.DataFrame:
    """(run, step, <metric>, label, align) per diverged run: its divergence step at its last finite
    value (training split first). Runs with no finite record get no mark."""
    rows = []
    hi = x_domain[1] if x_domain else (df["step"].max() if len(df) else 0)
    for run, step in diverged.items():
        mine = df[df["run"] == run]
        if mine.empty:
            continue
        train = mine[mine["split"] == "train"]
        last = (train if len(train) else mine).sort_values("step").iloc[-1]
        rows.append({"run": palette.label(run), "step": int(step), metric: float(last[metric]),
                     "label": f"diverged at step {int(step):,}" if seeds == 1
                     else f"all {seeds} seeds diverged, the last at step {int(step):,}",
                     "align": "right" if step > 0.6 * hi else "left"})
    return pd.DataFrame(rows)


def _divergence_layers(df, marks, metric, diverged, x, y, runs, cursor) -> list[alt.Chart]:
    """A diverged run's recorded points, its divergence rule, a cross at its last value, the label."""
    color = nominal("run", scale=run_color(runs), legend=None)
    gone = df[df["run"].isin([palette.label(r) for r in diverged])]
    tip = [nominal("run"), quant("step", title="diverged at step")]
    out = [view(gone, mark={"type": "point", "filled": True, "size": 45}, transform=cursor_filter(cursor),
                x=x, y=y, color=color,
                tooltip=[nominal("run"), nominal("split"), quant("step"), quant(metric, format=".4g")])]
    out.append(view(marks, mark={"type": "rule", "strokeDash": [2, 3], "strokeWidth": 1.5, "opacity": 0.7},
                    transform=cursor_filter(cursor), x=x, color=color, tooltip=tip))
    out.append(view(marks, mark={"type": "point", "shape": "cross", "size": 170, "filled": True,
                                 "strokeWidth": 1}, transform=cursor_filter(cursor), x=x, y=y, color=color,
                    tooltip=tip))
    for align, dx in (("left", 9), ("right", -9)):
        part = marks[marks["align"] == align]
        if len(part):
            out.append(view(part, mark={"type": "text", "align": align, "dx": dx, "dy": -10,
                                        "fontWeight": "bold"},
                            transform=cursor_filter(cursor), x=x, y=y, color=color, text={"field": "label"}))
    return out


@memo
def decision_boundary(grid: pd.DataFrame, points: pd.DataFrame, *, title: str, size: int = 260,
                      color: str = "#1f77b4") -> alt.LayerChart:
    """The model's class-1 probability over the plane, with the data on top.

    grid: (x1, x2, prob) on a regular grid; points: (x1, x2, label). ``size`` is the plot's
    height; its width is its column's (never wider than the column, on a phone or three abreast).
    """
    grid = finite(grid)
    points = finite(points)
    xs = sorted(grid["x1"].unique())
    ys = sorted(grid["x2"].unique())
    dx = (xs[1] - xs[0]) / 2 if len(xs) > 1 else 0.5
    dy = (ys[1] - ys[0]) / 2 if len(ys) > 1 else 0.5
    # each cell's edges, from its centre and the grid's half-step (computed where it is drawn:
    # four columns fewer to convert and send for every frame)
    edges = [{"calculate": f"datum.{c} {op} {float(h)!r}", "as": name}
             for c, h, pair in (("x1", dx, ("a0", "a1")), ("x2", dy, ("b0", "b1")))
             for op, name in zip("-+", pair, strict=True)]
    xsc = {"scale": {"domain": [xs[0] - dx, xs[-1] + dx], "nice": False, "zero": False}} if xs else {}
    ysc = {"scale": {"domain": [ys[0] - dy, ys[-1] + dy], "nice": False, "zero": False}} if ys else {}
    heat = view(
        grid, mark={"type": "rect", "opacity": 0.85}, transform=edges,
        x=quant("a0", title="x1", **xsc), x2={"field": "a1"},
        y=quant("b0", title="x2", **ysc), y2={"field": "b1"},
        color=quant("prob", title="P(class 1)", scale={"scheme": "blueorange", "domain": [0, 1]},
                    legend=None),  # the page's caption says what the colours mean
        tooltip=[quant("prob", title="P(class 1)", format=".2f")],
    )
    dots = view(
        points, mark={"type": "circle", "size": 18, "stroke": "white", "strokeWidth": 0.5, "opacity": 0.9},
        x=quant("x1", **xsc), y=quant("x2", **ysc),
        color=nominal("label", title="class", scale={"range": ["#08306b", "#7f2704"]}, legend=None),
    )
    return layer(heat, dots, title={"text": title, "anchor": "middle"}, width="container", height=size)


@memo
def percentile_bands(df: pd.DataFrame, *, runs: Sequence[str], title: str, y_title: str,
                     height: int = 260) -> alt.LayerChart:
    """Ioffe and Szegedy's Figure 1: the 15th, 50th and 85th percentiles over training.

    df: (run, step, p15, p50, p85); a ``raw`` column (smoothed bands, ``frames.smoothed``): the
    unsmoothed median, drawn faint behind.
    """
    df = _labelled(finite(df))
    color = nominal("run", title=None, scale=run_color(runs), legend=palette.legend(runs))
    x = quant("step", title="step")
    band = view(df, mark={"type": "area", "opacity": 0.18}, x=x, y=quant("p15", title=y_title),
                y2={"field": "p85"}, color=color)
    edges = [view(df, mark={"type": "line", "strokeWidth": 1, "opacity": 0.7}, x=x, y=quant(p), color=color,
                  strokeDash=run_dash(runs)) for p in ("p15", "p85")]
    mid = view(df, mark={"type": "line", "strokeWidth": 2.5}, x=x, y=quant("p50"), color=color,
               strokeDash=run_dash(runs),
               tooltip=[nominal("run"), quant("step"), quant("p15", format=".3f"), quant("p50", format=".3f"),
                        quant("p85", format=".3f")])
    dots = run_markers(marker_rows(df, "step"), x=x, y=quant("p50"), runs=runs)
    behind = [raw_line(df, x=x, y=quant("raw"), color=color)] if "raw" in df.columns else []
    hover = hover_layers(df, "p50", x, quant("p50"), runs, None)
    return layer(band, *behind, *edges, mid, dots, *hover, title=title, height=height)


@memo
def depth_histograms(df: pd.DataFrame, *, title: str, x_title: str, height_per_layer: int = 14,
                     width: int | str = "container", color_max: float | None = None,
                     x_domain: tuple[float, float] | None = None) -> alt.Chart:
    """Per-layer histograms at one step, stacked by depth, as a heatmap.

    df: (layer, bin_left, bin_right, fraction). Layer 1 (nearest the input)
    on top; darker = more of the layer's values in that bin. Runs drawn side by
    side pass the same ``x_domain`` (and ``color_max``): one axis to compare on.
    """
    df = finite(df)
    n_layers = max(1, df["layer"].nunique())
    xs = {"scale": {"domain": list(x_domain), "nice": False, "zero": False}} if x_domain else {}
    return view(
        df, mark="rect",
        x=quant("bin_left", title=x_title, bin="binned", **xs), x2={"field": "bin_right"},
        y=ordinal("layer", title="layer (1 = first hidden)", sort="ascending"),
        color=quant("fraction", title="share of values",
                    scale={"scheme": "blues", **({"domain": [0, color_max]} if color_max else {})}),
        tooltip=[ordinal("layer"), quant("bin_left", title="from", format=".3g"),
                 quant("bin_right", title="to", format=".3g"), quant("fraction", title="share", format=".1%")],
    ).properties(title=title, height=max(120, height_per_layer * n_layers), width=width)


@memo
def by_layer(df: pd.DataFrame, *, value: str, runs: Sequence[str], title: str, y_title: str,
             log_y: bool = False, height: int = 240, y_domain=None, cursor: str | None = None) -> alt.Chart:
    """A per-layer quantity at one step, one line per run. df: (run, layer, <value>).

    With ``cursor`` (a Vega-Lite param name, its value set when drawn) df holds
    every recorded step (a ``step`` column) and each run shows its latest
    record at or before the cursor: one chart for every step of a player.
    """
    df = finite(df)
    if log_y:
        df = df[df[value] > 0]
    df = _labelled(df)
    scale = {"type": "log"} if log_y else ({"domain": list(y_domain)} if y_domain else {})
    latest = [{"joinaggregate": [{"op": "max", "field": "step", "as": "shown_step"}], "groupby": ["run"]},
              {"filter": "datum.step == datum.shown_step"}]
    shown = cursor_filter(cursor) + latest if cursor else None
    x = quant("layer", title="layer (1 = first hidden)", axis={"tickMinStep": 1})
    y = quant(value, title=y_title, scale=scale)
    line = view(
        df, mark={"type": "line", "strokeWidth": 2.2}, transform=shown, x=x, y=y,
        color=nominal("run", title=None, scale=run_color(runs), legend=palette.legend(runs)),
        strokeDash=run_dash(runs),
    )
    dots = run_markers(df, x=x, y=y, runs=runs, transform=shown,
                       tooltip=[nominal("run"), quant("layer"), quant(value, format=".3g")])
    chart = layer(line, dots, title=title, height=height)
    return with_cursor(chart, cursor, int(df["step"].max()) if cursor and len(df) else 0)


@memo
def layer_step_heatmap(df: pd.DataFrame, *, value: str, title: str, legend_title: str,
                       log_color: bool = False, domain=None, height_per_layer: int = 12) -> alt.Chart:
    """A per-layer quantity over training: x = step, y = layer. df: (step, layer, <value>)."""
    df = finite(df)
    if log_color:
        df = df[df[value] > 0]
    dom = {"domain": list(domain)} if domain else {}
    scale = {"type": "log", "scheme": "viridis", **dom} if log_color else {"scheme": "orangered", **dom}
    n_layers = max(1, df["layer"].nunique())
    steps = np.sort(df["step"].unique())
    most = max(1, (MAX_ROWS - 1) // n_layers)  # a deep net recorded often: every k-th step, evenly
    if len(steps) > most:
        df = df[df["step"].isin(steps[np.linspace(0, len(steps) - 1, most).round().astype(int)])]
    return view(
        df, mark="rect",
        x=ordinal("step", title="step", axis={"labelOverlap": True, "labelAngle": 0}),
        y=ordinal("layer", title="layer"),
        color=quant(value, title=legend_title, scale=scale,
                    legend={"format": ".0e" if log_color else ".2f"}),
        tooltip=[ordinal("step"), ordinal("layer"), quant(value, format=".3g")],
    ).properties(title=title, height=max(120, height_per_layer * n_layers))


@memo
def param_band(bands: pd.DataFrame, units: pd.DataFrame, *, param: str, title: str,
               color: str = "#1f77b4", height: int = 240) -> alt.LayerChart:
    """γ or β over training: the band over all units (5–95 % and 25–75 %),
    the median, and a few single units as thin lines.

    bands: (step, q05, q25, q50, q75, q95); units: (step, unit, value). A ``raw`` column in bands
    (smoothed, ``frames.smoothed_param``): the unsmoothed median, drawn faint behind.
    """
    bands = finite(bands)
    units = finite(units)
    x = quant("step", title="step")
    outer = view(bands, mark={"type": "area", "opacity": 0.15, "color": color},
                 x=x, y=quant("q05", title=param), y2={"field": "q95"})
    inner = view(bands, mark={"type": "area", "opacity": 0.3, "color": color},
                 x=x, y=quant("q25"), y2={"field": "q75"})
    mid = view(bands, mark={"type": "line", "color": color, "strokeWidth": 2.5},
               x=x, y=quant("q50"),
               tooltip=[quant("step"), quant("q05", format=".3f"), quant("q50", format=".3f"),
                        quant("q95", format=".3f")])
    lines = view(units, mark={"type": "line", "strokeWidth": 1, "opacity": 0.8, "color": "#444"},
                 x=x, y=quant("value"), detail=nominal("unit"),
                 tooltip=[nominal("unit"), quant("step"), quant("value", format=".3f")])
    behind = [raw_line(bands, x=x, y=quant("raw"), color={"value": color})] if "raw" in bands.columns else []
    return layer(outer, inner, lines, *behind, mid, title=title, height=height)


@memo
def running_vs_batch(df: pd.DataFrame, *, stat: str, title: str, height: int = 240) -> alt.Chart:
    """A unit's batch statistic (noisy) against the running estimate (smooth).

    df: (step, unit, series ["batch", "running"], value).
    """
    df = finite(df)
    return view(
        df, mark={"type": "line", "strokeWidth": 2},
        x=quant("step", title="step"),
        y=quant("value", title=stat, scale={"zero": False}),
        color=nominal("series", title=None,
                      scale={"domain": ["batch", "running"], "range": ["#9ecae1", "#08519c"]},
                      legend={"orient": "top"}),
        strokeDash=nominal("unit", title="unit", legend=None),
        detail=nominal("unit"),
        tooltip=[nominal("series"), nominal("unit"), quant("step"), quant("value", format=".4f")],
    ).properties(title=title, height=height)


@memo
def mode_bars(df: pd.DataFrame, *, value: str, title: str, y_title: str, height: int = 240) -> alt.Chart:
    """Train mode against eval mode, per layer. df: (layer, mode, <value>)."""
    df = finite(df)
    return view(
        df, mark="bar",
        x=ordinal("layer", title="layer"),
        xOffset=nominal("mode"),
        y=quant(value, title=y_title),
        color=nominal("mode", title=None, scale={"domain": ["train", "eval"], "range": ["#fd8d3c", "#6a51a3"]},
                      legend={"orient": "top"}),
        tooltip=[ordinal("layer"), nominal("mode"), quant(value, format=".4f")],
    ).properties(title=title, height=height)
