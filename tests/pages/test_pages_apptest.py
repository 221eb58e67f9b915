"""Every view of the registry, run headless with Streamlit's AppTest.

Through the app (``dashboard/app.py`` and ``st.navigation``) and as a page
file on its own, each view runs clean (no exception, no guard message),
draws its charts with finite data under 5,000 rows, redraws when a widget
keyed by a config field moves, and reads its settings back from a URL --
even a hostile one.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Widget

from core.params import specs
from dashboard.guard import FAILURE_TEXT
from dashboard.registry import ALL_VIEWS, CONFIG_CLASSES, HOME, ROOT, VIEWS

APP = ROOT / "dashboard" / "app.py"
TIMEOUT = 300  # seconds per run: the first import and a first training run are slow on 2 cores
MAX_ROWS = 5000
#: widgets a test moves first when a page has them (the article's knobs, then the networks'); every
#: test moves them the same way (one notch up), so a retrained run is reused across tests
PREFERRED = ("lr_scale", "gamma", "steps", "dataset", "batch_size", "compare", "layer", "stage",
             "norm_layer", "lr", "depth")
MOVES_PER_VIEW = 2
#: config-keyed widgets that may legitimately leave every chart unchanged: key -> reason
NOT_DRAWN: dict[str, str] = {}

#: field name -> its spec; a name several configs share (dataset, batch_size ...) keeps every spec
SPECS_ALL: dict[str, list] = {}
for _cls in CONFIG_CLASSES:
    for _name, _spec in specs(_cls).items():
        SPECS_ALL.setdefault(_name, []).append(_spec)
SPECS = {name: found[0] for name, found in SPECS_ALL.items()}


def admitted(key: str, value) -> bool:
    return any(spec.admits(value) for spec in SPECS_ALL[key])


def _name(view) -> str:
    """The view's url_path, or "home" for the default page (served at /, url_path "")."""
    return view.url_path or "home"


def _ids(views):
    return [_name(v) for v in views]


# ------------------------------------------------------------------ running a view

def open_view(view, *, query: dict[str, str] | None = None, direct: bool = False) -> AppTest:
    """A fresh AppTest on ``view``, run once; ``query`` is the URL's query string at the first run."""
    if direct:
        at = AppTest.from_file(str(view.path), default_timeout=TIMEOUT)
        at.query_params.update(query or {})
        return at.run()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if view is HOME:
        at.query_params.update(query or {})
        return at.run()
    # a deep link: AppTest's first run is always the default page, so the link's address appears
    # with the view's first run, as it does when a browser opens the view's URL
    at.run()
    at.query_params.clear()
    at.query_params.update(query or {})
    at.switch_page(os.path.relpath(view.path, APP.parent))  # "../pages/x.py"
    return at.run()


def outside_code(markdown: str) -> str:
    """The Markdown source with its inline code spans (shown character for character) removed."""
    return re.sub(r"(`+)(.+?)\1", "", markdown, flags=re.S)


def assert_clean(at: AppTest, what: str = "") -> None:
    """No uncaught exception, and no error box carrying the guard's failure text."""
    assert not at.exception, f"{what}: exception {[e.value for e in at.exception]}"
    failed = [e.value for e in at.error if FAILURE_TEXT in str(e.value)]
    assert not failed, f"{what}: the view failed: {failed}"


def open_panel(at: AppTest, key: str) -> AppTest:
    """Open a folded sidebar panel (``dashboard.style.folded``) as a click on its header does: its
    open state set, and the rerun that draws its content."""
    at.session_state[key] = True
    return at.run()


def charts_of(at: AppTest) -> list:
    """Vega-Lite chart elements (st.altair_chart / st.vega_lite_chart)."""
    return [*at.get("vega_lite_chart"), *at.get("arrow_vega_lite_chart")]


def chart_frames(el) -> list[pd.DataFrame]:
    frames = [dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data) for d in el.proto.datasets]
    if el.proto.HasField("data") and el.proto.data.data:
        frames.append(dataframe_util.convert_arrow_bytes_to_pandas_df(el.proto.data.data))
    return frames


def signature(at: AppTest) -> tuple:
    """What the charts show: every spec and every data set, hashed."""
    out = []
    for el in charts_of(at):
        h = hashlib.sha1(el.proto.spec.encode())
        for d in el.proto.datasets:
            h.update(d.data.data)
        if el.proto.HasField("data"):
            h.update(el.proto.data.data)
        out.append(h.hexdigest())
    return tuple(out)


def non_finite_cells(frame: pd.DataFrame) -> dict[str, int]:
    bad = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s):
            continue
        if pd.api.types.is_numeric_dtype(s):
            n = int((~np.isfinite(s.to_numpy(dtype=float))).sum())
        else:
            n = int(s.isna().sum())
        if n:
            bad[col] = n
    return bad


def assert_chart_data_ok(at: AppTest, what: str) -> int:
    """Every chart's data finite and under 5,000 rows; returns the largest row count."""
    largest = 0
    for i, el in enumerate(charts_of(at)):
        frames = chart_frames(el)
        rows = sum(len(f) for f in frames)
        largest = max(largest, rows)
        assert rows < MAX_ROWS, f"{what}: chart {i} carries {rows} rows"
        for f in frames:
            assert non_finite_cells(f) == {}, f"{what}: chart {i} has NaN/inf/null in {non_finite_cells(f)}"
    return largest


# ------------------------------------------------------------------ widgets keyed by config fields

def config_widgets(at: AppTest) -> dict[str, Widget]:
    """key -> widget, for the widgets whose key is a config field name (enabled ones only)."""
    out = {}
    for node in at._tree:
        if isinstance(node, Widget) and node.key in SPECS and not getattr(node.proto, "disabled", False):
            out[node.key] = node
    return out


def _parse_option(text: str, kind: str):
    s = re.sub(r"[^0-9eE.+\-]", "", text.replace(",", ""))
    try:
        v = float(s)
    except ValueError:
        return None
    return int(round(v)) if kind == "int" else v


def _option_values(w: Widget) -> list:
    """The real values behind a widget's formatted options, in order (None where unknown)."""
    fmt = w.format_func
    pool, kinds = [], set()
    for sp in SPECS_ALL[w.key]:
        kinds.add(sp.kind)
        if sp.kind == "choice":
            pool += [c for c in sp.choices if c not in pool]
        elif sp.kind == "int":
            pool += list(range(int(sp.low), int(sp.low) + len(w.options)))
    out = []
    for text in w.options:
        hit = next((c for c in pool if str(fmt(c)) == text), None)
        for kind in ("int", "float"):
            if hit is None and kind in kinds:
                parsed = _parse_option(text, kind)
                if parsed is not None and str(fmt(parsed)) == text:
                    hit = parsed
        out.append(hit)
    return out


def moved_value(w: Widget, direction: int = 1) -> Any:
    """Another valid value for widget ``w``, one notch away (the other way at an end); None if stuck."""
    kind = w.type
    v = w.value
    is_int = isinstance(v, int) and not isinstance(v, bool)
    if kind in ("toggle", "checkbox"):
        return not v
    if kind in ("slider", "number_input"):
        step = w.step or (1 if is_int else 0.1)
        lo = w.min if w.min is not None else -math.inf
        hi = w.max if w.max is not None else math.inf
        for d in (direction, -direction):
            new = v + d * step
            new = int(new) if is_int else round(float(new), 10)
            if lo <= new <= hi and new != v:
                return new
        return None
    if kind in ("select_slider", "selectbox", "radio", "button_group"):
        values = _option_values(w)
        try:
            i = values.index(v)
        except ValueError:
            return None
        for j in (i + direction, i - direction):
            if 0 <= j < len(values) and values[j] is not None:
                return values[j]
        return None
    return None


def pick_widgets(widgets: dict[str, Widget], n: int = MOVES_PER_VIEW) -> list[str]:
    keys = [k for k in PREFERRED if k in widgets]
    keys += [k for k in widgets if k not in keys]
    return keys[:n]


def move(at: AppTest, key: str, value: Any) -> AppTest:
    config_widgets(at)[key].set_value(value)
    return at.run()


def query_string_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if SPECS[key].kind == "float":
        return repr(float(value))
    return str(value)


# ------------------------------------------------------------------ runs clean, draws

@pytest.mark.parametrize("view", ALL_VIEWS, ids=_ids(ALL_VIEWS))
def test_view_runs_clean_through_the_app(view):
    at = open_view(view)
    assert_clean(at, _name(view))
    assert at.title, f"{_name(view)}: no title"


@pytest.mark.parametrize("view", ALL_VIEWS, ids=_ids(ALL_VIEWS))
def test_page_file_runs_clean_on_its_own(view):
    at = open_view(view, direct=True)
    assert_clean(at, view.file)
    if view in VIEWS:
        assert charts_of(at), f"{view.file} drew no chart when run on its own"


@pytest.mark.parametrize("view", VIEWS, ids=_ids(VIEWS))
def test_view_draws_charts_with_finite_data_under_5000_rows(view):
    at = open_view(view)
    assert_clean(at, _name(view))
    charts = charts_of(at)
    assert charts, f"{_name(view)} drew no chart"
    for el in charts:
        assert chart_frames(el) or '"values"' in el.proto.spec, "a chart without data"
    assert assert_chart_data_ok(at, _name(view)) > 0


@pytest.mark.parametrize("view", VIEWS, ids=_ids(VIEWS))
def test_moving_a_config_widget_changes_what_the_charts_show(view):
    at = open_view(view)
    assert_clean(at, _name(view))
    widgets = config_widgets(at)
    assert widgets, f"{_name(view)} has no widget keyed by a config field"
    moved = []
    for key in pick_widgets(widgets):
        widget = config_widgets(at).get(key)
        if widget is None:
            continue
        new = moved_value(widget)
        assert new is not None, f"{_name(view)}: could not find another value for '{key}'"
        before = signature(at)
        move(at, key, new)
        what = f"{_name(view)} after {key}={new!r}"
        assert_clean(at, what)
        assert at.session_state[key] == new, f"{what}: the widget did not keep its value"
        assert charts_of(at), f"{what}: no chart left"
        assert_chart_data_ok(at, what)
        if key not in NOT_DRAWN:
            assert signature(at) != before, f"{what}: no chart changed"
        moved.append(key)
    assert moved


# ------------------------------------------------------------------ the landscape's divergence

LANDSCAPE = next((v for v in VIEWS if v.url_path == "landscape"), None)  # by its stable url path


def test_landscape_lr_scale_above_1_names_the_divergence_step_and_keeps_data_finite():
    from core.experiment import LandscapeConfig, run_landscape

    assert LANDSCAPE is not None, "the registry has no 'landscape' view"
    at = open_view(LANDSCAPE)
    widget = config_widgets(at)["lr_scale"]
    unstable = [v for v in _option_values(widget) if v is not None and v > 1]
    assert unstable, "the learning-rate slider offers nothing above the stable limit"
    assert not at.error, "an error at the default settings"
    for lr_scale in unstable:
        move(at, "lr_scale", lr_scale)
        what = f"lr_scale={lr_scale}"
        assert_clean(at, what)
        config = LandscapeConfig(**{f: at.session_state[f] for f in specs(LandscapeConfig)
                                    if f in at.session_state})
        expected = {r.diverged_at for r in run_landscape(config).runs.values()}
        assert None not in expected, f"{what}: the core says a run did not diverge in {config.steps} steps"
        errors = [str(e.value) for e in at.error]
        assert errors, f"{what}: no error shown"
        named = {int(m.replace(",", "")) for e in errors for m in re.findall(r"diverged at step ([\d,]+)", e)}
        assert named == expected, f"{what}: the page names steps {named}, the core says {expected}"
        assert charts_of(at)
        assert_chart_data_ok(at, what)
    move(at, "lr_scale", LandscapeConfig().lr_scale)
    assert not at.error, "the divergence error stayed after going back to a stable rate"


# ------------------------------------------------------------------ URL round trip

@pytest.mark.parametrize("view", VIEWS, ids=_ids(VIEWS))
def test_a_views_own_url_reproduces_its_widgets_and_charts(view):
    at = open_view(view)
    for key in pick_widgets(config_widgets(at)):
        widget = config_widgets(at).get(key)
        new = moved_value(widget) if widget is not None else None
        if new is not None:
            move(at, key, new)
    assert_clean(at, _name(view))
    url = {k: v for k, v in at.query_params.items()}
    values = {k: w.value for k, w in config_widgets(at).items()}
    assert url, f"{_name(view)} wrote no settings to the URL"
    for key, value in values.items():
        assert key in url, f"{_name(view)}: '{key}' is not in the URL"
        assert url[key] == query_string_value(key, value), (key, url[key], value)

    again = open_view(view, query=url)
    assert_clean(again, f"{_name(view)} from its URL")
    assert not again.warning, f"its own URL gave a warning: {[w.value for w in again.warning]}"
    got = {k: w.value for k, w in config_widgets(again).items()}
    assert got == values
    assert signature(again) == signature(at), "the same URL drew different charts"
    assert dict(again.query_params) == url


@pytest.mark.parametrize("view", VIEWS, ids=_ids(VIEWS))
def test_url_values_set_before_the_first_run_reach_the_widgets(view):
    """One setting per link (a page may snap a setting that depends on another, e.g. a step to the run)."""
    defaults = config_widgets(open_view(view))
    tried = 0
    for key in pick_widgets(defaults):
        new = moved_value(defaults[key])
        if new is None:
            continue
        text = query_string_value(key, new)
        at = open_view(view, query={key: text})
        assert_clean(at, f"{_name(view)}?{key}={text}")
        assert not at.warning, [w.value for w in at.warning]
        widget = config_widgets(at)[key]
        assert query_string_value(key, widget.value) == text, (key, widget.value, text)
        assert at.query_params[key] == text, "the page did not write the setting back to its URL"
        tried += 1
    assert tried


HOSTILE = {
    "article": {"lr_scale": "abc", "steps": "-5", "dataset": "<script>", "unknown": "1"},
    "more": {"lr": "1e999", "batch_size": "**bold**", "gamma": "nan", "depth": "9" * 200,
             "n_show": "", "compare": "<img src=x onerror=alert(1)>", "zz<b>": "1"},
}


@pytest.mark.parametrize("query", HOSTILE.values(), ids=list(HOSTILE))
@pytest.mark.parametrize("view", VIEWS, ids=_ids(VIEWS))
def test_malformed_url_gives_one_warning_and_valid_settings(view, query):
    at = open_view(view, query=query)
    what = f"{_name(view)} with {query}"
    assert_clean(at, what)
    warnings = [str(w.value) for w in at.warning]
    assert len(warnings) == 1, f"{what}: {len(warnings)} warnings: {warnings}"
    text = outside_code(warnings[0])  # what the link held is shown only inside code spans
    assert "<script>" not in text and "<img" not in text and "<b>" not in text, "markup reached the page"
    assert "**bold**" not in text, "markdown reached the page unescaped"
    assert len(warnings[0]) < 1200
    widgets = config_widgets(at)
    defaults = {k: w.value for k, w in config_widgets(open_view(view)).items()}
    for key, w in widgets.items():
        assert admitted(key, w.value), f"{what}: {key}={w.value!r} is not a valid setting"
    for key, text in query.items():
        unusable = text.strip() in ("", "abc", "nan") or len(text) > 64 or not re.fullmatch(r"[\w.+-]*", text)
        if key in widgets and unusable:
            assert widgets[key].value == defaults[key], f"{what}: '{key}' did not keep its default"
    if "steps" in widgets and query.get("steps") == "-5":  # below the range: the smallest choice
        values = [v for v in _option_values(widgets["steps"]) if v is not None]
        assert widgets["steps"].value == min(values)
    assert charts_of(at)
    assert_chart_data_ok(at, what)


def test_landscape_url_notice_mentions_each_problem_once_and_reads_cleanly():
    """steps=-5 is one problem: one phrase, not "set to 1" then "set to 10"; no HTML entities shown."""
    from core.experiment import LandscapeConfig

    assert LANDSCAPE is not None
    at = open_view(LANDSCAPE, query={"lr_scale": "abc", "steps": "-5", "unknown": "1"})
    (text,) = [str(w.value) for w in at.warning]
    assert at.session_state["lr_scale"] == LandscapeConfig().lr_scale
    assert len(re.findall(r"steps", text)) == 1, f"'steps' is reported more than once: {text}"
    assert "&#" not in text.replace("\\", ""), f"an HTML entity would show literally: {text}"


def test_blas_limit_is_set_once_per_process(monkeypatch):
    """app.py limits BLAS to one thread per process, once: threadpoolctl scans every loaded library
    on each call, which every rerun of every session paid before (3 % of a rerun's time)."""
    import threadpoolctl

    calls = []
    real = threadpoolctl.threadpool_limits

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(threadpoolctl, "threadpool_limits", counting)
    for _ in range(3):
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.run()
        assert not at.exception
    assert len(calls) <= 1, calls  # the first run in this process sets it; reruns and new sessions don't
    blas = [lib for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    assert blas and all(lib["num_threads"] == 1 for lib in blas), blas
