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

MAX_ROWS = 5000

#: one colour per run, the same on every page
RUN_COLORS = {
    "raw": "#d62728",
    "standardized": "#1f77b4",
    "none": "#d62728",
    "batch": "#1f77b4",
    "layer": "#2ca02c",
}
RUN_LABELS = {
    "raw": "raw features",
    "standardized": "standardized features",
    "none": "no normalization",
    "batch": "batch norm",
    "layer": "layer norm",
}
FEATURE_SCHEME = "tableau10"


def finite(df: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows whose numeric columns (or the given ones) are all finite."""
    cols = list(columns) if columns is not None else list(df.select_dtypes("number").columns)
    if not cols or df.empty:
        return df
    ok = np.isfinite(df[cols].to_numpy(dtype=float)).all(axis=1)
    return df.loc[ok] if not ok.all() else df


def run_color(runs: Sequence[str]) -> alt.Scale:
    runs = list(runs)
    return alt.Scale(domain=[RUN_LABELS.get(r, r) for r in runs],
                     range=[RUN_COLORS.get(r, "#7f7f7f") for r in runs])


def _labelled(df: pd.DataFrame, column: str = "run") -> pd.DataFrame:
    return df.assign(**{column: df[column].map(lambda r: RUN_LABELS.get(r, r))})


# ------------------------------------------------------------ standardization

def feature_histograms(df: pd.DataFrame, *, title: str, x_title: str, shared_x: bool = True,
                       height: int = 70) -> alt.Chart:
    """Histograms, one row per feature, from pre-binned counts.

    df: (feature, bin_left, bin_right, count). With ``shared_x`` every row
    uses the same x axis, so different scales are the first thing you see.
    """
    df = finite(df)
    base = alt.Chart(df).mark_bar(opacity=0.85, binSpacing=0).encode(
        x=alt.X("bin_left:Q", title=x_title, bin="binned"),
        x2="bin_right:Q",
        y=alt.Y("count:Q", title="count", axis=alt.Axis(tickCount=3)),
        color=alt.Color("feature:N", scale=alt.Scale(scheme=FEATURE_SCHEME), legend=None),
        tooltip=[alt.Tooltip("feature:N"), alt.Tooltip("bin_left:Q", title="from", format=".3g"),
                 alt.Tooltip("bin_right:Q", title="to", format=".3g"), alt.Tooltip("count:Q")],
    ).properties(height=height)
    # feature names above each row (a header at the left would push the plot past a fitted width)
    chart = base.facet(row=alt.Row("feature:N", title=None, header=alt.Header(
        labelOrient="top", labelAnchor="start", labelAngle=0, labelFontSize=13, labelFontWeight="bold")),
        title=title)
    return chart.resolve_scale(x="shared" if shared_x else "independent", y="independent")


def batch_scatter(df: pd.DataFrame, *, x: str, y: str) -> alt.Chart:
    """Every sample as a dot, the chosen mini-batch highlighted.

    df: (x, y, in_batch: bool, index).
    """
    df = finite(df)
    return alt.Chart(df).mark_circle(size=60).encode(
        x=alt.X(f"{x}:Q", title=x, scale=alt.Scale(zero=False)),
        y=alt.Y(f"{y}:Q", title=y, scale=alt.Scale(zero=False)),
        color=alt.Color("in_batch:N", title=None,
                        scale=alt.Scale(domain=["this batch", "other batches"],
                                        range=["#e45756", "#c7ccd6"])),
        opacity=alt.condition("datum.in_batch == 'this batch'", alt.value(1.0), alt.value(0.5)),
        tooltip=["index:Q", alt.Tooltip(f"{x}:Q", format=".3g"), alt.Tooltip(f"{y}:Q", format=".3g"),
                 "in_batch:N"],
    ).properties(height=260)


def strip(df: pd.DataFrame, *, title: str, x_title: str, domain: tuple[float, float] | None = None,
          rules: pd.DataFrame | None = None) -> alt.Chart:
    """Values as dots along one axis, one row per stage.

    df: (stage, value, index). rules: optional (stage, at, what) vertical marks.
    """
    df = finite(df)
    scale = alt.Scale(domain=list(domain)) if domain else alt.Scale(zero=False)
    dots = alt.Chart(df).mark_tick(thickness=3, size=26).encode(
        x=alt.X("value:Q", title=x_title, scale=scale),
        y=alt.Y("stage:N", title=None, sort=None, axis=alt.Axis(labelLimit=260)),
        color=alt.Color("stage:N", legend=None, sort=None, scale=alt.Scale(scheme="set1")),
        tooltip=["stage:N", "index:Q", alt.Tooltip("value:Q", format=".3f")],
    )
    layers = [dots]
    if rules is not None and not rules.empty:
        layers.append(alt.Chart(finite(rules)).mark_rule(strokeDash=[4, 3], color="#333").encode(
            x="at:Q", tooltip=["what:N", alt.Tooltip("at:Q", format=".3f")]))
    return alt.layer(*layers).properties(title=title, height=60 + 40 * df["stage"].nunique())


# ------------------------------------------------------------ loss landscape

def surface(grid: pd.DataFrame, path: pd.DataFrame, *, title: str, x_title: str, y_title: str,
            extent: tuple[float, float, float, float], optimum: tuple[float, float],
            current: pd.DataFrame | None = None, band_domain: tuple[float, float] | None = None,
            size: int = 380) -> alt.LayerChart:
    """The loss surface as a banded heatmap with the descent path on top.

    grid: (w_a, w_b, loss, band) on a regular grid; path: (step, w_a, w_b,
    loss); current: one row, the iterate shown by the scrubber.
    """
    grid = finite(grid)
    path = finite(path)
    a = np.sort(grid["w_a"].unique())
    b = np.sort(grid["w_b"].unique())
    da = (a[1] - a[0]) / 2 if len(a) > 1 else 0.5
    db = (b[1] - b[0]) / 2 if len(b) > 1 else 0.5
    cells = grid.assign(a0=grid["w_a"] - da, a1=grid["w_a"] + da, b0=grid["w_b"] - db, b1=grid["w_b"] + db)
    xs = alt.Scale(domain=[extent[0], extent[1]], nice=False, zero=False)
    ys = alt.Scale(domain=[extent[2], extent[3]], nice=False, zero=False)
    color_scale = alt.Scale(scheme="viridis", domain=list(band_domain) if band_domain else alt.Undefined)
    heat = alt.Chart(cells).mark_rect().encode(
        x=alt.X("a0:Q", title=x_title, scale=xs),
        x2="a1:Q",
        y=alt.Y("b0:Q", title=y_title, scale=ys),
        y2="b1:Q",
        color=alt.Color("band:Q", title="log₁₀ loss", scale=color_scale,
                        legend=alt.Legend(orient="bottom", gradientLength=size - 60)),
        tooltip=[alt.Tooltip("w_a:Q", title=x_title, format=".3g"),
                 alt.Tooltip("w_b:Q", title=y_title, format=".3g"),
                 alt.Tooltip("loss:Q", title="loss (MSE)", format=".4g")],
    )
    line = alt.Chart(path).mark_line(color="white", strokeWidth=2.5, clip=True).encode(
        x=alt.X("w_a:Q", scale=xs), y=alt.Y("w_b:Q", scale=ys), order="step:Q")
    dots = alt.Chart(path).mark_circle(color="#ff7f0e", size=22, clip=True, opacity=0.9).encode(
        x=alt.X("w_a:Q", scale=xs), y=alt.Y("w_b:Q", scale=ys),
        tooltip=[alt.Tooltip("step:Q"), alt.Tooltip("w_a:Q", format=".4g"),
                 alt.Tooltip("w_b:Q", format=".4g"), alt.Tooltip("loss:Q", format=".4g")])
    opt = pd.DataFrame({"w_a": [optimum[0]], "w_b": [optimum[1]], "what": ["least-squares optimum"]})
    star = alt.Chart(opt).mark_point(shape="cross", size=260, color="white", strokeWidth=3,
                                     filled=True).encode(
        x=alt.X("w_a:Q", scale=xs), y=alt.Y("w_b:Q", scale=ys), tooltip=["what:N"])
    layers = [heat, line, dots, star]
    if current is not None and not current.empty:
        cur = finite(current)
        layers.append(alt.Chart(cur).mark_circle(size=260, color="#ff2d55", stroke="white",
                                                 strokeWidth=2, opacity=1, clip=True).encode(
            x=alt.X("w_a:Q", scale=xs), y=alt.Y("w_b:Q", scale=ys),
            tooltip=[alt.Tooltip("step:Q"), alt.Tooltip("loss:Q", format=".4g")]))
    return alt.layer(*layers).properties(title=title, width=size, height=size)


def loss_curves(df: pd.DataFrame, *, title: str, x: str = "step", log_x: bool = True,
                runs: Sequence[str] | None = None, current_step: int | None = None,
                height: int = 300) -> alt.LayerChart:
    """Loss against step, one line per run, log-scale loss.

    df: (run, step, loss); only positive finite losses are drawn.
    """
    df = finite(df)
    df = df[df["loss"] > 0]
    runs = list(runs or df["run"].unique())
    df = _labelled(df)
    x_enc = alt.X(f"{x}:Q", title=x, scale=alt.Scale(type="symlog") if log_x else alt.Undefined)
    lines = alt.Chart(df).mark_line(strokeWidth=2.5).encode(
        x=x_enc,
        y=alt.Y("loss:Q", title="loss (log scale)", scale=alt.Scale(type="log")),
        color=alt.Color("run:N", title=None, scale=run_color(runs), legend=alt.Legend(orient="top")),
        tooltip=["run:N", alt.Tooltip(f"{x}:Q"), alt.Tooltip("loss:Q", format=".4g")],
    )
    layers = [lines]
    if current_step is not None:
        layers.append(alt.Chart(pd.DataFrame({x: [current_step]})).mark_rule(
            color="#ff2d55", strokeDash=[5, 3], strokeWidth=2).encode(x=f"{x}:Q"))
    return alt.layer(*layers).properties(title=title, height=height)
