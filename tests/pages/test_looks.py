"""What the pages send the browser to draw: shared axes for compared runs, the chart text style,
presenter mode's larger chart text (AppTest, through the app)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import palette
from dashboard.guard import FAILURE_TEXT
from dashboard.registry import ROOT

APP = str(ROOT / "dashboard" / "app.py")
TIMEOUT = 300


def _run(query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [e for e in at.error if FAILURE_TEXT in str(e.value)]
    return at


def _specs(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in [*at.get("vega_lite_chart"), *at.get("arrow_vega_lite_chart")]]


def _title(spec: dict) -> str:
    t = spec.get("title", "")
    t = t.get("text", "") if isinstance(t, dict) else t
    return " ".join(t) if isinstance(t, list) else t


@pytest.mark.parametrize("query", [{"lesson": "bad_init", "predict": "0"}, {"lesson": "bad_init", "compare": "both", "predict": "0"}],
                         ids=["bad_init", "bad_init-both"])
def test_the_depth_histograms_of_compared_runs_share_one_x_axis(query):
    at = _run(query)
    if "compare" in query:  # a lesson sets every other setting to its default: compare afterwards
        at.session_state["compare"] = query["compare"]
        at.run()
    hists = [s for s in _specs(at) if " — step " in _title(s)]
    runs = 3 if at.session_state["compare"] == "both" else 2
    assert len(hists) == runs, [_title(s) for s in hists]
    domains = {json.dumps(s["encoding"]["x"]["scale"]["domain"]) for s in hists}
    assert len(domains) == 1, f"each run has its own x axis: {domains}"
    (lo, hi), = [json.loads(d) for d in domains]
    assert hi - lo > 1.0, f"the shared axis spans only {lo}..{hi}"


@pytest.mark.parametrize("presenter", [False, True], ids=["normal", "presenter"])
def test_every_chart_is_sent_with_the_readable_text_style(presenter):
    at = _run({"presenter": "1"} if presenter else {})
    at.switch_page("../pages/training.py").run()
    specs = _specs(at)
    assert specs
    for spec in specs:
        axis = spec["config"]["axis"]
        assert axis["labelColor"] == palette.LABEL and axis["titleColor"] == palette.TEXT, _title(spec)
        assert axis["labelFontSize"] == palette.FONT_SIZE[presenter], _title(spec)
        if presenter:
            assert min(axis["labelFontSize"], spec["config"]["legend"]["labelFontSize"]) >= 16
