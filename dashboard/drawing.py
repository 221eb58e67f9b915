"""Drawing helpers the views share: a chart into a container with its Save menu, banners, the
Export menu and the view's settings file."""

from __future__ import annotations

import functools
import re

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import chartcache, exports, palette
from dashboard import seeds as sd
from dashboard.charts import RUN_LABELS
from dashboard.style import EXPORT_PANEL, folded, presenter_on
from dashboard.vegalite import dressed, with_params

CHART_CHROME = 120  # pixels of title, axis labels and legend around a plot
LEGEND_ROW = 60  # pixels a further legend takes (one above the plot and one below it)
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
         legends: int = 1, **kw) -> None:
    """Show an Altair chart, with a small menu to save it as PNG or SVG.

    The chart's Vega-Lite spec is converted once per chart object
    (``chartcache.vega_lite_spec``), so a chart a rerun did not change (the
    builders are memoized) costs next to nothing to send again. ``params``
    sets the values of the chart's top-level params (a scrubber's step): the
    same chart serves every value. ``legends``: how many legends the chart shows, each given room
    beside the plot's own height (a chart is fitted into the height it is drawn in).
    """
    kw.setdefault("width", "stretch")
    h = getattr(chart, "height", None)
    if isinstance(h, int):  # the plot's height plus room for title, axis and legend
        kw.setdefault("height", h + CHART_CHROME + LEGEND_ROW * max(legends - 1, 0))
    presenter = presenter_on()
    spec = dressed(with_params(chartcache.vega_lite_spec(chart), params), palette.chart_config(presenter),
                   title_chars=TITLE_CHARS[presenter])
    container.vega_lite_chart(spec=spec, **kw)
    if save:
        seq = st.session_state.get(_SEQ, 0) + 1
        st.session_state[_SEQ] = seq
        name = chart_file_name(st.session_state.get(_PAGE, ""), getattr(chart, "title", None), seq,
                               st.session_state.setdefault(_NAMES, set()))
        # lazy, like the sidebar's folded panels (style.folded): the two buttons are drawn only while
        # the menu is open, two messages fewer a chart on every run of every session
        menu = container.popover("Save chart", icon=":material/download:", type="tertiary", key=f"save-{seq}",
                                 on_change="rerun")
        if menu.open:
            menu.download_button("PNG", exports.chart_png(chart, params), file_name=f"{name}.png",
                                 mime="image/png", key=f"png-{seq}", on_click="ignore", icon=":material/image:")
            menu.download_button("SVG", exports.chart_svg(chart, params), file_name=f"{name}.svg",
                                 mime="image/svg+xml", key=f"svg-{seq}", on_click="ignore",
                                 icon=":material/polyline:")


# Frames the network views derive from their runs. Memoized (``chartcache.memo``: a run is keyed by
# its config) so a rerun that moves a layer or a step slider redoes only what that value changes.


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
    panel = folded("Export", EXPORT_PANEL, ":material/download:", container=st.sidebar)
    if panel is None:
        return
    with panel:
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
