"""Every chart that colours its runs says which colour is which: drawn with Vega-Lite itself (vl-convert,
the renderer the Save menu uses) from the spec and data a view sends, each such chart has a legend
naming its runs, and no legend's symbols are faint.

A layer drawn first (a band over seeds, the raw curve behind a smoothed one) that says "no legend"
for the runs' colour hid the legend of the whole chart, and a faint first layer made the legend's
symbols faint: the Training view's loss and accuracy over seeds, every smoothed Why curve and the
Activations band showed it before this test.
"""

from __future__ import annotations

import json
import re

import pytest
import vl_convert as vlc
from streamlit import dataframe_util

from dashboard.registry import VIEWS
from tests.pages.test_pages_apptest import assert_clean, charts_of, open_view

NETWORK = ("training", "activations", "gamma-beta", "why")
#: each view as it opens, and the network views with tiny batches too (their curves smoothed)
CASES = [(v, {}) for v in VIEWS] + [(v, {"batch_size": "4"}) for v in VIEWS if v.url_path in NETWORK]


def _records(blob: bytes) -> list[dict]:
    return json.loads(dataframe_util.convert_arrow_bytes_to_pandas_df(blob).to_json(orient="records"))


def _drawn(el) -> str:
    """The chart as Vega-Lite draws it: its spec with its data inline, as SVG."""
    spec = json.loads(el.proto.spec)
    spec["datasets"] = {**spec.get("datasets", {}), **{d.name: _records(d.data.data) for d in el.proto.datasets}}
    if el.proto.HasField("data") and el.proto.data.data:
        spec["data"] = {"values": _records(el.proto.data.data)}
    return vlc.vegalite_to_svg(spec)


def _colours_runs_with_a_legend(spec: dict) -> bool:
    """Whether a layer colours (or shapes) by run and does not turn that legend off."""
    stack = [spec]
    while stack:
        node = stack.pop()
        stack.extend(node.get("layer", []))
        for channel in ("color", "fill", "stroke", "shape"):
            enc = node.get("encoding", {}).get(channel)
            if isinstance(enc, dict) and enc.get("field") == "run" and enc.get("legend", {}) is not None:
                return True
    return False


@pytest.mark.parametrize(("view", "query"), CASES, ids=[f"{v.url_path or 'home'}{'-batch4' if q else ''}"
                                                        for v, q in CASES])
def test_every_chart_colouring_its_runs_draws_their_legend_with_opaque_symbols(view, query):
    at = open_view(view, query=query)
    assert_clean(at, f"{view.url_path} {query}")
    for el in charts_of(at):
        spec = json.loads(el.proto.spec)
        title = json.dumps(spec.get("title", ""), ensure_ascii=False)
        svg = _drawn(el)
        legends = re.findall(r'aria-label="Symbol legend for ([^"]*)"', svg)
        if _colours_runs_with_a_legend(spec):
            assert any(("color" in g or "shape" in g) for g in legends), f"{title}: no legend of its runs ({legends})"
        for part in svg.split('role-legend"')[1:]:
            faint = re.findall(r'opacity="(0\.[0-9]+)"', part.split('class="foreground"')[0])
            assert not faint, f"{title}: a legend's symbols are drawn at opacity {faint[0]}"
