"""Charts of a sweep: a tidy frame in, an Altair chart out (pure functions, memoized on content).

``band`` draws a metric against the swept value, one line per normalization (the median over seeds)
with a band from the smallest to the largest seed, marker shapes as the second cue; ``phase_strip``
the share of seeds that learned, did not learn or diverged at each value, as stacked cells with
their counts written on them. Every builder drops non-finite rows first.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from dashboard import palette
from dashboard.chartcache import memo
from dashboard.charts import finite
from dashboard.marks import run_markers
from dashboard.vegalite import layer, nominal, ordinal, quant, view

STATUS_ORDER = ("learned", "did not learn", "diverged")


@memo
def band(df: pd.DataFrame, *, runs: Sequence[str], x_title: str, y_title: str, title: str,
         log_x: bool = True, log_y: bool = False, height: int = 280, y_format: str = ".3g",
         cap: float | None = None, x_domain: Sequence[float] | None = None,
         integer_x: bool = False) -> alt.LayerChart:
    """df: (value, run, median, lo, hi). A median line per run over a min-max band of the seeds.

    cap: values above it are drawn at it (the tooltips keep the measured ones), so one run whose loss
    grew to 1e17 without becoming infinite does not flatten every other line. x_domain: the sweep's
    range (a run with no point at its ends still shows the whole sweep); integer_x: whole ticks only."""
    df = finite(df, ["value", "median", "lo", "hi"])
    df = df.assign(median_shown=df["median"].clip(upper=cap), lo_shown=df["lo"].clip(upper=cap),
                   hi_shown=df["hi"].clip(upper=cap)) if cap is not None else \
        df.assign(median_shown=df["median"], lo_shown=df["lo"], hi_shown=df["hi"])
    if log_y:
        df = df[(df["lo"] > 0) & (df["median"] > 0)]
    df = df.assign(run=df["run"].map(palette.label))
    xscale = {"type": "log"} if log_x else {"zero": False}
    if x_domain is not None:
        xscale = {**xscale, "domain": [float(min(x_domain)), float(max(x_domain))]}
    x = quant("value", title=x_title, scale=xscale,
              axis={"format": "d", "tickMinStep": 1} if integer_x else {"format": "~g"})
    yscale = {"type": "log"} if log_y else {"zero": True}
    y = quant("median_shown", title=y_title + (" (log scale)" if log_y else ""), scale=yscale)
    color = nominal("run", title=None, scale=palette.scale(runs, "color"), legend=palette.legend(runs))
    tip = [nominal("run"), quant("value", title=x_title, format="~g"),
           quant("median", title=f"median {y_title}", format=y_format),
           quant("lo", title="lowest seed", format=y_format), quant("hi", title="highest seed", format=y_format)]
    bands = view(df, mark={"type": "area", "opacity": 0.18}, x=x, y=quant("lo_shown", scale=yscale), y2={"field": "hi_shown"},
                 color={**color, "legend": None})
    line = view(df, mark={"type": "line", "strokeWidth": 2.2}, x=x, y=y, color={**color, "legend": None},
                tooltip=tip)
    marks = run_markers(df, x=quant("value", scale=xscale), y=quant("median_shown", scale=yscale), runs=runs,
                        tooltip=tip)
    # the markers' layer first: a merged legend takes the first layer's (colour and shape together)
    return layer(marks, bands, line, title=title, height=height)


@memo
def phase_strip(df: pd.DataFrame, *, runs: Sequence[str], x_title: str, title: str,
                values: Sequence[float], axis_labels: Sequence[str], row_height: int = 84) -> alt.LayerChart:
    """df: (value, run, status, count, share, start, end, text). One row per run (its name above it), one
    cell per value, each cell split bottom to top by the share of seeds per status, with the count and
    the status's letter written on it. One view, not a facet, so it fits its column."""
    df = finite(df, ["value", "share", "start", "end"])
    names = {float(v): t for v, t in zip(values, axis_labels, strict=True)}
    order = [r for r in runs if r in set(df["run"])]
    row = df["run"].map({r: len(order) - 1 - i for i, r in enumerate(order)}).astype(float)
    cells = df.assign(at=df["value"].map(names), y0=row + 0.72 * df["start"], y1=row + 0.72 * df["end"],
                      mid=row + 0.72 * (df["start"] + df["end"]) / 2, run=df["run"].map(palette.label))
    ys = {"domain": [0, max(len(order), 1)], "nice": False, "zero": True}
    x = ordinal("at", title=x_title, sort=list(axis_labels), axis={"labelAngle": 0}, scale={"paddingInner": 0.08})
    color = nominal("status", title=None, scale={"domain": list(STATUS_ORDER),
                                                  "range": [palette.STATUS[s].color for s in STATUS_ORDER]},
                    legend={"orient": "top", "labelExpr": "datum.label == 'learned' ? 'L = learned' : "
                            "datum.label == 'diverged' ? 'D = diverged' : 'N = did not learn'"})
    tip = [nominal("run"), ordinal("at", title=x_title), nominal("status"), quant("count", title="seeds")]
    bars = view(cells, mark={"type": "bar"}, x=x, y=quant("y0", title=None, scale=ys, axis=None),
                y2={"field": "y1"}, color=color, tooltip=tip)
    text = view(cells, mark={"type": "text", "color": palette.TEXT, "fontWeight": "bold"}, x=x,
                y=quant("mid", scale=ys, axis=None), text={"field": "text"}, tooltip=tip)
    heads = pd.DataFrame({"run": [palette.label(r) for r in order], "at": axis_labels[0] if len(axis_labels) else "",
                          "y": [len(order) - 1 - i + 0.76 for i in range(len(order))]})
    names_ = view(heads, mark={"type": "text", "align": "left", "baseline": "bottom", "fontWeight": "bold",
                               "dx": -14, "color": palette.TEXT},
                  x=ordinal("at", sort=list(axis_labels)), y=quant("y", scale=ys), text={"field": "run"})
    return layer(bars, text, names_, title=title, height=max(row_height * len(order), 60))
