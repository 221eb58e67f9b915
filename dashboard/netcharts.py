"""Chart builders for the network views (Training, Activations, γ and β).

Same rules as dashboard/charts.py: a tidy frame in, an Altair chart out; no
NaN/inf reaches a chart (``finite``); one colour per run on every page.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from dashboard.charts import RUN_LABELS, _labelled, finite, run_color

SPLIT_DASH = alt.Scale(domain=["train", "val"], range=[[1, 0], [6, 4]])


def metric_curves(df: pd.DataFrame, *, metric: str, runs: Sequence[str], log_y: bool,
                  title: str, diverged: dict[str, int] | None = None, height: int = 280,
                  x_domain: tuple[float, float] | None = None) -> alt.LayerChart:
    """One metric against step: colour = run, dash = split (train solid, validation dashed).

    df: (run, step, split, <metric>). diverged: run -> step, drawn as a rule.
    """
    df = finite(df)
    if log_y:
        df = df[df[metric] > 0]
    df = _labelled(df)
    y = alt.Y(f"{metric}:Q", title=metric + (" (log scale)" if log_y else ""),
              scale=alt.Scale(type="log") if log_y else alt.Scale(zero=False))
    lines = alt.Chart(df).mark_line(strokeWidth=2.2).encode(
        x=alt.X("step:Q", title="step",
                scale=alt.Scale(domain=list(x_domain)) if x_domain else alt.Undefined),
        y=y,
        color=alt.Color("run:N", title=None, scale=run_color(runs), legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("split:N", title=None, scale=SPLIT_DASH,
                                  legend=alt.Legend(orient="top", symbolType="stroke", symbolStrokeWidth=2,
                                                    labelExpr="datum.label == 'val' ? 'validation' : 'training'")),
        tooltip=["run:N", "split:N", "step:Q", alt.Tooltip(f"{metric}:Q", format=".4g")],
    )
    layers = [lines]
    if diverged:
        rules = pd.DataFrame({"run": [RUN_LABELS.get(r, r) for r in diverged],
                              "step": list(diverged.values())})
        layers.append(alt.Chart(rules).mark_rule(strokeDash=[2, 2], strokeWidth=2).encode(
            x="step:Q", color=alt.Color("run:N", scale=run_color(runs), legend=None),
            tooltip=[alt.Tooltip("run:N", title="diverged"), alt.Tooltip("step:Q", title="at step")]))
    return alt.layer(*layers).properties(title=title, height=height)


def decision_boundary(grid: pd.DataFrame, points: pd.DataFrame, *, title: str, size: int = 260,
                      color: str = "#1f77b4") -> alt.LayerChart:
    """The model's class-1 probability over the plane, with the data on top.

    grid: (x1, x2, prob) on a regular grid; points: (x1, x2, label).
    """
    grid = finite(grid)
    points = finite(points)
    xs = sorted(grid["x1"].unique())
    ys = sorted(grid["x2"].unique())
    dx = (xs[1] - xs[0]) / 2 if len(xs) > 1 else 0.5
    dy = (ys[1] - ys[0]) / 2 if len(ys) > 1 else 0.5
    cells = grid.assign(a0=grid["x1"] - dx, a1=grid["x1"] + dx, b0=grid["x2"] - dy, b1=grid["x2"] + dy)
    xsc = alt.Scale(domain=[xs[0] - dx, xs[-1] + dx], nice=False, zero=False) if xs else alt.Undefined
    ysc = alt.Scale(domain=[ys[0] - dy, ys[-1] + dy], nice=False, zero=False) if ys else alt.Undefined
    heat = alt.Chart(cells).mark_rect(opacity=0.85).encode(
        x=alt.X("a0:Q", title="x1", scale=xsc), x2="a1:Q",
        y=alt.Y("b0:Q", title="x2", scale=ysc), y2="b1:Q",
        color=alt.Color("prob:Q", title="P(class 1)", scale=alt.Scale(scheme="blueorange", domain=[0, 1]),
                        legend=alt.Legend(orient="bottom", gradientLength=size - 40)),
        tooltip=[alt.Tooltip("prob:Q", title="P(class 1)", format=".2f")],
    )
    dots = alt.Chart(points).mark_circle(size=18, stroke="white", strokeWidth=0.5, opacity=0.9).encode(
        x=alt.X("x1:Q", scale=xsc), y=alt.Y("x2:Q", scale=ysc),
        color=alt.Color("label:N", title="class", scale=alt.Scale(range=["#08306b", "#7f2704"]),
                        legend=None),
    )
    return alt.layer(heat, dots).properties(title=alt.TitleParams(title, anchor="middle"), width=size,
                                            height=size)


def percentile_bands(df: pd.DataFrame, *, runs: Sequence[str], title: str, y_title: str,
                     height: int = 260) -> alt.LayerChart:
    """Ioffe and Szegedy's Figure 1: the 15th, 50th and 85th percentiles over training.

    df: (run, step, p15, p50, p85).
    """
    df = _labelled(finite(df))
    color = alt.Color("run:N", title=None, scale=run_color(runs), legend=alt.Legend(orient="top"))
    band = alt.Chart(df).mark_area(opacity=0.18).encode(
        x=alt.X("step:Q", title="step"), y=alt.Y("p15:Q", title=y_title), y2="p85:Q", color=color)
    edges = [alt.Chart(df).mark_line(strokeWidth=1, opacity=0.7).encode(
        x="step:Q", y=f"{p}:Q", color=color) for p in ("p15", "p85")]
    mid = alt.Chart(df).mark_line(strokeWidth=2.5).encode(
        x="step:Q", y="p50:Q", color=color,
        tooltip=["run:N", "step:Q", alt.Tooltip("p15:Q", format=".3f"), alt.Tooltip("p50:Q", format=".3f"),
                 alt.Tooltip("p85:Q", format=".3f")])
    return alt.layer(band, *edges, mid).properties(title=title, height=height)


def depth_histograms(df: pd.DataFrame, *, title: str, x_title: str, height_per_layer: int = 14,
                     width: int | str = "container", color_max: float | None = None) -> alt.Chart:
    """Per-layer histograms at one step, stacked by depth, as a heatmap.

    df: (layer, bin_left, bin_right, fraction). Layer 1 (nearest the input)
    on top; darker = more of the layer's values in that bin.
    """
    df = finite(df)
    n_layers = max(1, df["layer"].nunique())
    return alt.Chart(df).mark_rect().encode(
        x=alt.X("bin_left:Q", title=x_title, bin="binned"), x2="bin_right:Q",
        y=alt.Y("layer:O", title="layer (1 = first hidden)", sort="ascending"),
        color=alt.Color("fraction:Q", title="share of values",
                        scale=alt.Scale(scheme="blues", domain=[0, color_max] if color_max else alt.Undefined)),
        tooltip=["layer:O", alt.Tooltip("bin_left:Q", title="from", format=".3g"),
                 alt.Tooltip("bin_right:Q", title="to", format=".3g"),
                 alt.Tooltip("fraction:Q", title="share", format=".1%")],
    ).properties(title=title, height=max(120, height_per_layer * n_layers), width=width)


def by_layer(df: pd.DataFrame, *, value: str, runs: Sequence[str], title: str, y_title: str,
             log_y: bool = False, height: int = 240, y_domain=None) -> alt.Chart:
    """A per-layer quantity at one step, one line per run. df: (run, layer, <value>)."""
    df = finite(df)
    if log_y:
        df = df[df[value] > 0]
    df = _labelled(df)
    scale = alt.Scale(type="log") if log_y else alt.Scale(domain=list(y_domain) if y_domain else alt.Undefined)
    return alt.Chart(df).mark_line(point=True, strokeWidth=2.2).encode(
        x=alt.X("layer:Q", title="layer (1 = first hidden)", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y(f"{value}:Q", title=y_title, scale=scale),
        color=alt.Color("run:N", title=None, scale=run_color(runs), legend=alt.Legend(orient="top")),
        tooltip=["run:N", "layer:Q", alt.Tooltip(f"{value}:Q", format=".3g")],
    ).properties(title=title, height=height)


def layer_step_heatmap(df: pd.DataFrame, *, value: str, title: str, legend_title: str,
                       log_color: bool = False, domain=None, height_per_layer: int = 12) -> alt.Chart:
    """A per-layer quantity over training: x = step, y = layer. df: (step, layer, <value>)."""
    df = finite(df)
    if log_color:
        df = df[df[value] > 0]
    dom = list(domain) if domain else alt.Undefined
    scale = alt.Scale(type="log", scheme="viridis", domain=dom) if log_color else alt.Scale(
        scheme="orangered", domain=dom)
    n_layers = max(1, df["layer"].nunique())
    return alt.Chart(df).mark_rect().encode(
        x=alt.X("step:O", title="step", axis=alt.Axis(labelOverlap=True, labelAngle=0)),
        y=alt.Y("layer:O", title="layer"),
        color=alt.Color(f"{value}:Q", title=legend_title, scale=scale,
                        legend=alt.Legend(format=".0e" if log_color else ".2f")),
        tooltip=["step:O", "layer:O", alt.Tooltip(f"{value}:Q", format=".3g")],
    ).properties(title=title, height=max(120, height_per_layer * n_layers))


def param_band(bands: pd.DataFrame, units: pd.DataFrame, *, param: str, title: str,
               color: str = "#1f77b4", height: int = 240) -> alt.LayerChart:
    """γ or β over training: the band over all units (5–95 % and 25–75 %),
    the median, and a few single units as thin lines.

    bands: (step, q05, q25, q50, q75, q95); units: (step, unit, value).
    """
    bands = finite(bands)
    units = finite(units)
    outer = alt.Chart(bands).mark_area(opacity=0.15, color=color).encode(
        x=alt.X("step:Q", title="step"), y=alt.Y("q05:Q", title=param), y2="q95:Q")
    inner = alt.Chart(bands).mark_area(opacity=0.3, color=color).encode(x="step:Q", y="q25:Q", y2="q75:Q")
    mid = alt.Chart(bands).mark_line(color=color, strokeWidth=2.5).encode(
        x="step:Q", y="q50:Q",
        tooltip=["step:Q", alt.Tooltip("q05:Q", format=".3f"), alt.Tooltip("q50:Q", format=".3f"),
                 alt.Tooltip("q95:Q", format=".3f")])
    lines = alt.Chart(units).mark_line(strokeWidth=1, opacity=0.8, color="#444").encode(
        x="step:Q", y="value:Q", detail="unit:N",
        tooltip=["unit:N", "step:Q", alt.Tooltip("value:Q", format=".3f")])
    return alt.layer(outer, inner, lines, mid).properties(title=title, height=height)


def running_vs_batch(df: pd.DataFrame, *, stat: str, title: str, height: int = 240) -> alt.Chart:
    """A unit's batch statistic (noisy) against the running estimate (smooth).

    df: (step, unit, series ["batch", "running"], value).
    """
    df = finite(df)
    return alt.Chart(df).mark_line(strokeWidth=2).encode(
        x=alt.X("step:Q", title="step"),
        y=alt.Y("value:Q", title=stat, scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", title=None, scale=alt.Scale(domain=["batch", "running"],
                                                                range=["#9ecae1", "#08519c"]),
                        legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("unit:N", title="unit", legend=None),
        detail="unit:N",
        tooltip=["series:N", "unit:N", "step:Q", alt.Tooltip("value:Q", format=".4f")],
    ).properties(title=title, height=height)


def mode_bars(df: pd.DataFrame, *, value: str, title: str, y_title: str, height: int = 240) -> alt.Chart:
    """Train mode against eval mode, per layer. df: (layer, mode, <value>)."""
    df = finite(df)
    return alt.Chart(df).mark_bar().encode(
        x=alt.X("layer:O", title="layer"),
        xOffset="mode:N",
        y=alt.Y(f"{value}:Q", title=y_title),
        color=alt.Color("mode:N", title=None, scale=alt.Scale(domain=["train", "eval"],
                                                              range=["#fd8d3c", "#6a51a3"]),
                        legend=alt.Legend(orient="top")),
        tooltip=["layer:O", "mode:N", alt.Tooltip(f"{value}:Q", format=".4f")],
    ).properties(title=title, height=height)
