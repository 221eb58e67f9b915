"""How runs and text look in every chart: one table, used by every page.

Each run has a colour from Okabe and Ito's colour-blind-safe palette and a
second cue, its marker shape, so two runs stay apart without colour (under
deuteranopia or protanopia, or on a washed-out projector). The old red and
green runs became the same olive under a deuteranopia simulation.

``chart_config`` is the Vega-Lite ``config`` every chart is drawn with: text
dark enough on white (WCAG AA, at least 4.5:1) and, for a projector, larger.
The tests compute the contrast and the colour-blind distances from these
values (tests/dashboard/test_palette.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunStyle:
    label: str
    color: str
    shape: str  # a Vega-Lite point shape


#: one entry per run; the same run looks the same on every page
RUNS: dict[str, RunStyle] = {
    "raw": RunStyle("raw features", "#D55E00", "square"),  # Okabe–Ito vermillion
    "standardized": RunStyle("standardized features", "#0072B2", "circle"),  # blue
    # descent with momentum on a surface: the surface's colour, its own marker (and a dashed line)
    "raw-momentum": RunStyle("raw, momentum", "#D55E00", "diamond"),
    "raw-nesterov": RunStyle("raw, Nesterov", "#D55E00", "diamond"),
    "standardized-momentum": RunStyle("standardized, momentum", "#0072B2", "triangle-up"),
    "standardized-nesterov": RunStyle("standardized, Nesterov", "#0072B2", "triangle-up"),
    "none": RunStyle("no normalization", "#D55E00", "square"),
    "batch": RunStyle("batch norm", "#0072B2", "circle"),
    "layer": RunStyle("layer norm", "#009E73", "triangle-up"),  # bluish green
    "group": RunStyle("group norm", "#CC79A7", "diamond"),  # reddish purple
    "rms": RunStyle("RMS norm", "#0072B2", "triangle-down"),  # blue (never drawn beside batch norm)
    # the Why view's unstable arm, drawn beside none and batch: group norm's reddish purple (never beside it)
    "noisy_batch": RunStyle("noisy batch norm", "#CC79A7", "triangle-right"),
}
OTHER = RunStyle("", "#595959", "diamond")


#: background and text colours of the charts (the theme's background is white)
BACKGROUND = "#ffffff"
TEXT = "#111827"  # titles: the theme's text colour
LABEL = "#374151"  # axis labels, legend labels, facet headers
GRID = "#dfe3ea"

#: the smallest font of any chart text, in px: normal, and on a projector
FONT_SIZE = {False: 12, True: 16}
TITLE_SIZE = {False: 14, True: 20}


#: pinned runs (``dashboard.pins``), by slot: the Okabe–Ito colours no run uses, and shapes of their own
PINNED = (RunStyle("", "#E69F00", "cross"), RunStyle("", "#56B4E9", "diamond"),  # orange, sky blue
          RunStyle("", "#000000", "triangle-right"), RunStyle("", "#8C8C8C", "triangle-left"))  # black, grey
_PIN = "pinned:"


def pinned_key(slot: int, text: str) -> str:
    """The run key of the pinned run in ``slot``, labelled ``text``."""
    return f"{_PIN}{slot}:{text}"


def style(run: str) -> RunStyle:
    if run.startswith(_PIN):
        slot, _, text = run[len(_PIN):].partition(":")
        look = PINNED[int(slot) % len(PINNED)] if slot.isdigit() else OTHER
        return RunStyle(f"{text} (pinned)", look.color, look.shape)
    return RUNS.get(run, RunStyle(run, OTHER.color, OTHER.shape))


def label(run: str) -> str:
    return style(run).label


def scale(runs, channel: str) -> dict:
    """A Vega-Lite scale mapping the runs' labels to their colour or shape (``channel``)."""
    runs = list(runs)
    return {"domain": [label(r) for r in runs], "range": [getattr(style(r), channel) for r in runs]}


#: the line pattern of a run (Vega-Lite strokeDash): solid, or dashed (pinned runs, and runs that
#: share a colour with another: ``dash_scale``)
SOLID, DASHED = [1, 0], [6, 3]


def is_pinned(run: str) -> bool:
    return run.startswith(_PIN)


def dash_scale(runs, dashed=()) -> dict:
    """A Vega-Lite scale mapping the runs' labels to their line pattern: pinned runs and the
    ``dashed`` ones dashed, the others solid."""
    runs = list(runs)
    return {"domain": [label(r) for r in runs],
            "range": [DASHED if is_pinned(r) or r in dashed else SOLID for r in runs]}


def legend(runs) -> dict:
    """The legend of the runs: above the plot; two runs on one line, three one per line (three
    on one line ran past a narrow column's edge). Its symbols opaque: a legend takes its symbols'
    look from the chart's first layer, which is often a faint one (a band, the raw curve behind)."""
    return {"orient": "top", "columns": 1 if len(list(runs)) > 2 else 2, "labelLimit": 300,  # pinned runs' names
            "symbolOpacity": 1}


def chart_config(presenter: bool = False) -> dict:
    """Vega-Lite ``config``: dark text at readable sizes; chart titles never cut short (the pages
    wrap them into lines: ``vegalite.dressed``)."""
    small, big = FONT_SIZE[presenter], TITLE_SIZE[presenter]
    text = {"labelColor": LABEL, "titleColor": TEXT, "labelFontSize": small, "titleFontSize": small + 1}
    return {
        "background": BACKGROUND,
        # no labelLimit/titleLimit 0 on axes: in Chromium that put a y-axis title outside the canvas
        "axis": {**text, "gridColor": GRID},
        "legend": {**text, "symbolSize": 120 if presenter else 80},
        "header": text,
        "title": {"color": TEXT, "subtitleColor": LABEL, "fontSize": big, "subtitleFontSize": small,
                  "limit": 0, "anchor": "start"},
        "text": {"color": TEXT, "fontSize": small},
    }


#: a sweep run's outcome: colour (Okabe–Ito) and a one-letter label written on it (black text: at least
#: 5:1 on each colour)
STATUS: dict[str, RunStyle] = {
    "learned": RunStyle("L = learned", "#009E73", "circle"),  # bluish green
    "did not learn": RunStyle("N = did not learn", "#F0E442", "square"),  # yellow
    "diverged": RunStyle("D = diverged", "#D55E00", "cross"),  # vermillion
}
