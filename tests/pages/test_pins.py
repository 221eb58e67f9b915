"""Pinned runs: "Keep the runs on screen", change a setting, and the kept runs are drawn beside the new
ones on Training and Activations, in their own colours; they travel in the link as configs (and are
taken from the run store when it is opened), survive a reload through it, rebuild from config.json,
and a malformed or hostile ``pin=`` gets a notice shown as text, never a traceback."""

from __future__ import annotations

import json

import pytest

from core.training import TrainConfig
from dashboard import palette, pins
from dashboard.registry import VIEWS
from dashboard.runs import store
from tests.pages.test_pages_apptest import (
    assert_chart_data_ok,
    assert_clean,
    chart_frames,
    charts_of,
    open_view,
)

BY_PATH = {v.url_path: v for v in VIEWS}
FAST = {"epochs": "3", "seeds": "2"}


def _runs_in(at, title_part: str) -> list[str]:
    """The run labels of the first chart whose title holds ``title_part``."""
    for el in charts_of(at):
        spec = json.loads(el.proto.spec)
        if title_part in json.dumps(spec.get("title", "")):
            for f in chart_frames(el):
                if "run" in f.columns:
                    return list(dict.fromkeys(f["run"].astype(str)))
    raise AssertionError(f"no chart titled with {title_part!r}")


def _colours(at, title_part: str) -> dict[str, str]:
    for el in charts_of(at):
        spec = json.loads(el.proto.spec)
        if title_part in json.dumps(spec.get("title", "")):
            for part in spec.get("layer", []):
                scale = part.get("encoding", {}).get("color", {}).get("scale", {})
                if "domain" in scale:
                    return dict(zip(scale["domain"], scale["range"], strict=True))
    raise AssertionError("no colour scale")


def _dashes(at, title_part: str, field: str) -> dict[str, list]:
    """The strokeDash scale (domain -> pattern) on ``field`` of the first chart titled with ``title_part``."""
    for el in charts_of(at):
        spec = json.loads(el.proto.spec)
        if title_part in json.dumps(spec.get("title", "")):
            stack = [spec]
            while stack:
                node = stack.pop()
                stack.extend(node.get("layer", []))
                dash = node.get("encoding", {}).get("strokeDash", {})
                if dash.get("field") == field and "domain" in dash.get("scale", {}):
                    return dict(zip(dash["scale"]["domain"], dash["scale"]["range"], strict=True))
    raise AssertionError(f"no strokeDash on {field!r}")


def test_pinned_runs_are_drawn_in_their_own_dashes_as_well_as_colours():
    at = open_view(BY_PATH["training"], query=FAST)
    at.button(key="pin_keep").click().run()
    at.select_slider(key="lr").set_value(0.3).run()
    loss = [f for el in charts_of(at) if "Loss" in json.dumps(json.loads(el.proto.spec).get("title", ""))
            for f in chart_frames(el) if "dash" in f.columns][0]
    pinned = loss["run"].str.endswith("(pinned)")
    assert pinned.any() and (~pinned).any()
    assert set(loss.loc[pinned, "dash"]) == {"pinned train", "pinned val"}
    assert set(loss.loc[~pinned, "dash"]) == {"train", "val"}
    patterns = _dashes(at, "Loss", "dash")
    assert len({json.dumps(p) for p in patterns.values()}) == 4, "a pinned curve shares a pattern with a current one"
    link = dict(at.query_params)
    acts = open_view(BY_PATH["activations"], query=link)
    assert_clean(acts, "activations with pins")
    by_run = _dashes(acts, "percentiles", "run")
    solid = [r for r in by_run if not r.endswith("(pinned)")]
    kept = [r for r in by_run if r.endswith("(pinned)")]
    assert solid and kept
    assert all(by_run[r] == palette.SOLID for r in solid) and all(by_run[r] == palette.DASHED for r in kept)


def test_keeping_the_runs_then_changing_a_setting_draws_both_and_the_link_reopens_them():
    at = open_view(BY_PATH["training"], query=FAST)
    at.button(key="pin_keep").click().run()
    at.select_slider(key="lr").set_value(0.3).run()
    assert_clean(at, "pinned, then lr 0.3")
    assert_chart_data_ok(at, "pinned")
    want = ["no normalization", "batch norm", "no normalization, lr 0.1 (pinned)", "batch norm, lr 0.1 (pinned)"]
    assert _runs_in(at, "Loss") == want
    assert _runs_in(at, "Accuracy") == want
    colours = _colours(at, "Loss")
    assert colours[want[2]] == palette.PINNED[0].color and colours[want[3]] == palette.PINNED[1].color
    assert len(set(colours.values())) == 4, "a pinned run shares a colour with a run on screen"
    link = dict(at.query_params)
    assert link["pin"] == "norm:none,epochs:3|norm:batch,epochs:3"

    trained = len(store())
    again = open_view(BY_PATH["training"], query=link)  # a reload through the link
    assert_clean(again, "the link with pins")
    assert _runs_in(again, "Loss") == want
    assert len(store()) == trained, "opening the link retrained runs the store holds"
    assert dict(again.query_params)["pin"] == link["pin"]

    acts = open_view(BY_PATH["activations"], query=link)
    assert_clean(acts, "activations with pins")
    assert _runs_in(acts, "percentiles") == want


def test_unpin_all_clears_the_pins_and_the_link():
    at = open_view(BY_PATH["training"], query={**FAST, "pin": "norm:batch,batch_size:8,epochs:3"})
    assert _runs_in(at, "Loss")[-1] == "batch norm, batch 8 (pinned)"
    at.button(key="pin_clear").click().run()
    assert_clean(at, "unpinned")
    assert "pin" not in dict(at.query_params)
    assert not [r for r in _runs_in(at, "Loss") if "pinned" in r]


def test_at_most_four_runs_are_pinned_the_oldest_go_first_and_the_page_says_so():
    at = open_view(BY_PATH["training"], query={**FAST, "compare": "both"})  # three runs on screen
    at.button(key="pin_keep").click().run()
    at.select_slider(key="lr").set_value(0.3).run()
    at.button(key="pin_keep").click().run()
    assert_clean(at, "six pinned")
    assert len(pins.decode(dict(at.query_params)["pin"])[0]) == pins.MAX_PINS
    assert any("unpinned: at most 4" in str(c.value) for c in at.caption)
    assert len([r for r in _runs_in(at, "Loss") if "pinned" in r]) == pins.MAX_PINS


@pytest.mark.parametrize(("pin", "words"), [
    ("norm:batch|nonsense|norm:none,depth:3", "is not a list of settings"),
    ("norm:batch,lr:99", "pinned run 1: lr=99"),
    ("norm:group,groups:5,width:32", "cannot train together"),
    ("|".join(["norm:batch"] * 6), "the first 4 are kept"),
    ("norm:<b>x</b>,<script>alert(1)</script>:2", "pinned run 1"),
])
def test_a_malformed_pin_gets_a_notice_as_text_and_the_rest_still_draws(pin, words):
    at = open_view(BY_PATH["training"], query={**FAST, "pin": pin})
    assert_clean(at, pin)
    notice = " ".join(str(w.value) for w in at.warning)
    assert words in notice, notice
    assert "<b>" not in notice.replace("`<b>", "") and "<script>" not in notice.replace("`<script>", "")
    assert_chart_data_ok(at, pin)


def test_the_views_config_json_rebuilds_the_pins(monkeypatch):
    from tests.pages.test_pages_apptest import signature
    from tests.pages.test_views_behave import _capture_view_json

    seen = _capture_view_json(monkeypatch)
    at = open_view(BY_PATH["training"], query={**FAST, "pin": "norm:batch,batch_size:8,epochs:3"})
    saved = seen[-1]
    assert saved["settings"]["pin"] == "norm:batch,batch_size:8,epochs:3"
    assert "pin=" in saved["query"]
    assert {k for k in saved["configs"] if "(pinned)" in k} == {"batch norm, batch 8 (pinned), seed 0",
                                                                "batch norm, batch 8 (pinned), seed 1"}
    assert saved["configs"]["batch norm, batch 8 (pinned), seed 1"]["batch_size"] == 8
    again = open_view(BY_PATH["training"], query={k: str(v) for k, v in saved["settings"].items()})
    assert signature(again) == signature(at), "the rebuilt view draws different charts"


def test_pins_round_trip_through_their_link_text_and_are_named_by_what_differs():
    configs = [TrainConfig(norm="batch", batch_size=4, lr=0.3), TrainConfig(norm="none", activation="relu")]
    text = pins.encode(configs)
    assert pins.decode(text) == (configs, [])
    now = TrainConfig(batch_size=32)
    assert pins.label(configs[0], now) == "batch norm, lr 0.3, batch 4"
    assert pins.label(configs[1], now) == "no normalization, relu"
    assert pins.label(TrainConfig(norm="layer"), now) == "layer norm, same settings"
