"""Momentum on the Loss landscape, as a user drives it (AppTest): the method and β in the sidebar and
the link, the second path on each surface, the measured table and sentences."""

from __future__ import annotations

import json

from core.experiment import LandscapeConfig, run_landscape
from dashboard.momentum_text import momentum_lines
from dashboard.registry import VIEWS
from tests.pages.test_pages_apptest import (
    assert_chart_data_ok,
    assert_clean,
    charts_of,
    config_widgets,
    open_view,
    outside_code,
)

LANDSCAPE = next(v for v in VIEWS if v.url_path == "landscape")


def _dashed_black_lines(at) -> int:
    """Surface charts' dashed black path layers (the momentum path)."""
    count = 0
    for el in charts_of(at):
        spec = json.loads(el.proto.spec)
        for part in spec.get("layer", []):
            mark = part.get("mark", {})
            if isinstance(mark, dict) and mark.get("type") == "line" and mark.get("color") == "#000000":
                count += "strokeDash" in mark
    return count


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_plain_descent_draws_one_path_per_surface_and_no_beta():
    at = open_view(LANDSCAPE)
    assert_clean(at, "plain")
    assert _dashed_black_lines(at) == 0
    assert "beta" not in config_widgets(at)
    assert "heavy-ball" not in _markdown(at)


def test_choosing_momentum_draws_its_path_beside_plain_descent_and_puts_it_in_the_link():
    at = open_view(LANDSCAPE)
    config_widgets(at)["optimizer"].set_value("momentum").run()
    assert_clean(at, "momentum chosen")
    assert at.query_params.get("optimizer") == "momentum" and at.query_params.get("beta") == "0.9"
    assert _dashed_black_lines(at) == 2, "one momentum path on each surface"
    assert "beta" in config_widgets(at)
    config_widgets(at)["beta"].set_value(0.99).run()
    assert_clean(at, "beta moved")
    assert at.query_params.get("beta") == "0.99"
    assert_chart_data_ok(at, "momentum")


def test_the_measured_sentences_are_the_ones_core_computes_for_the_link():
    for query in ({"optimizer": "momentum", "beta": "0.5"}, {"optimizer": "nesterov", "lr_scale": "0.3"},
                  {"optimizer": "momentum", "lr_scale": "1.5", "data_seed": "3"}):
        at = open_view(LANDSCAPE, query=query)
        assert_clean(at, str(query))
        assert config_widgets(at)["optimizer"].value == query["optimizer"]
        config = LandscapeConfig(optimizer=query["optimizer"], beta=float(query.get("beta", 0.9)),
                                 lr_scale=float(query.get("lr_scale", 0.5)),
                                 data_seed=int(query.get("data_seed", 42)))
        text = _markdown(at)
        for line in momentum_lines(run_landscape(config)):
            assert line in text, f"{query}: missing {line!r}"
        for run in run_landscape(config).runs.values():
            if run.steps_to_1pct is not None:
                assert f"{run.steps_to_1pct:,}" in text


def test_a_malformed_method_or_beta_in_the_link_gets_one_notice_and_plain_descent():
    at = open_view(LANDSCAPE, query={"optimizer": "[evil](http://evil.example.com)", "beta": "-3"})
    assert_clean(at, "malformed")
    warned = " ".join(w.value for w in at.warning)
    assert "optimizer" in warned and "beta" in warned
    assert "evil" not in outside_code(warned).lower()
    assert config_widgets(at)["optimizer"].value == "plain"
