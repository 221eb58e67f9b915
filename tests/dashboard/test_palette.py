"""The colours and text of the charts: readable on white, runs apart under colour blindness.

Computed from the values the charts are drawn with (dashboard/palette.py, the
theme in .streamlit/config.toml, the specs the builders return).
"""

from __future__ import annotations

import itertools
import tomllib

import numpy as np
import pandas as pd
import pytest

from dashboard import netcharts, palette
from dashboard.charts import loss_curves
from dashboard.registry import ROOT
from dashboard.selections import CompareView
from dashboard.vegalite import dressed, wrapped
from tests.dashboard.colour import contrast, delta_e

WCAG_AA_TEXT = 4.5
WCAG_GRAPHICS = 3.0  # lines and markers (WCAG 2.1, 1.4.11 non-text contrast)
#: the smallest CIELAB ΔE between two runs drawn together, for normal vision and each simulated
#: dichromacy (about 2.3 is a just-noticeable difference; 20 is clearly different at a glance)
MIN_DELTA_E = 20.0
DEFICIENCIES = (None, "deuteranopia", "protanopia")

#: runs that one chart draws together: the landscape's pair, and every Compare choice's runs
SHOWN_TOGETHER = [("raw", "standardized")] + [CompareView(compare=c).norms for c in ("batch", "layer", "both")] + [
    ("none", "batch", "noisy_batch")]  # the Why view's noisy arm


def _text_colours(config: dict) -> list[tuple[str, str]]:
    out = []
    for part, props in config.items():
        if isinstance(props, dict):
            out += [(f"{part}.{k}", v) for k, v in props.items() if k.lower().endswith("color") and k != "gridColor"]
    return out


@pytest.mark.parametrize("presenter", [False, True], ids=["normal", "presenter"])
def test_every_chart_text_colour_has_wcag_aa_contrast_on_the_background(presenter):
    config = palette.chart_config(presenter)
    colours = _text_colours(config)
    assert {"axis.labelColor", "axis.titleColor", "legend.labelColor", "title.color"} <= {n for n, _ in colours}
    for name, colour in colours:
        ratio = contrast(colour, config["background"])
        assert ratio >= WCAG_AA_TEXT, f"{name} {colour}: {ratio:.2f}:1 on {config['background']}"


def test_the_contrast_check_fails_streamlits_default_axis_grey():
    assert contrast("#808495", "#ffffff") < WCAG_AA_TEXT  # what the axes used to be drawn in (3.7:1)


def test_the_themes_text_has_wcag_aa_contrast_on_its_backgrounds():
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    for bg in ("backgroundColor", "secondaryBackgroundColor"):
        assert contrast(theme["textColor"], theme[bg]) >= WCAG_AA_TEXT, bg
    assert theme["backgroundColor"].lower() == palette.BACKGROUND


def test_presenter_mode_draws_every_chart_text_at_16_px_or_more():
    sizes = {f"{part}.{k}": v for part, props in palette.chart_config(True).items() if isinstance(props, dict)
             for k, v in props.items() if k.lower().endswith("fontsize")}
    assert {"axis.labelFontSize", "axis.titleFontSize", "legend.labelFontSize", "title.fontSize"} <= set(sizes)
    assert min(sizes.values()) >= 16, sizes


@pytest.mark.parametrize("runs", SHOWN_TOGETHER, ids="+".join)
@pytest.mark.parametrize("deficiency", DEFICIENCIES, ids=lambda d: d or "normal")
def test_runs_drawn_together_stay_apart_under_colour_blindness(runs, deficiency):
    for a, b in itertools.combinations(runs, 2):
        d = delta_e(palette.style(a).color, palette.style(b).color, deficiency)
        assert d >= MIN_DELTA_E, f"{a} and {b}: ΔE {d:.1f} under {deficiency or 'normal vision'}"


def test_the_old_red_and_green_runs_fail_the_colour_blindness_check():
    assert delta_e("#d62728", "#2ca02c", "deuteranopia") < MIN_DELTA_E  # both became olive


@pytest.mark.parametrize("runs", SHOWN_TOGETHER, ids="+".join)
def test_runs_drawn_together_differ_in_marker_shape_too_and_their_lines_stand_out(runs):
    shapes = [palette.style(r).shape for r in runs]
    assert len(set(shapes)) == len(shapes), shapes
    labels = [palette.label(r) for r in runs]
    assert len(set(labels)) == len(labels), labels
    for r in runs:
        assert contrast(palette.style(r).color, palette.BACKGROUND) >= WCAG_GRAPHICS, r


def _scales(spec: dict, channel: str) -> list[dict]:
    found, stack = [], [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            enc = node.get("encoding", {})
            if channel in enc and "scale" in enc[channel]:
                found.append(enc[channel]["scale"])
            stack.extend(v for k, v in node.items() if k != "datasets")
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _curves(runs) -> pd.DataFrame:
    steps = np.arange(0, 100, 5)
    return pd.concat([pd.DataFrame({"run": r, "step": steps, "split": s, "loss": 1.0 / (1 + steps + i)})
                      for i, r in enumerate(runs) for s in ("train", "val")], ignore_index=True)


def test_a_run_has_the_same_colour_and_shape_in_every_chart_that_draws_it():
    runs = ("none", "batch", "layer")
    specs = [
        netcharts.metric_curves(_curves(runs), metric="loss", runs=runs, log_y=True, title="t").to_dict(),
        netcharts.by_layer(pd.DataFrame({"run": np.repeat(runs, 3), "layer": np.tile([1, 2, 3], 3),
                                         "saturated": 0.5}), value="saturated", runs=runs, title="t",
                           y_title="y").to_dict(),
    ]
    want_colour = {palette.label(r): palette.style(r).color for r in runs}
    want_shape = {palette.label(r): palette.style(r).shape for r in runs}
    for spec in specs:
        colours, shapes = _scales(spec, "color"), _scales(spec, "shape")
        assert colours and shapes, "each run needs its colour and its marker shape"
        for scale in colours:
            assert dict(zip(scale["domain"], scale["range"], strict=True)) == want_colour
        for scale in shapes:
            assert dict(zip(scale["domain"], scale["range"], strict=True)) == want_shape
    landscape = loss_curves(pd.DataFrame({"run": ["raw", "standardized"] * 3, "step": [0, 0, 1, 1, 2, 2],
                                          "loss": [3.0, 3.0, 2.0, 1.0, 1.5, 0.5]}), title="t").to_dict()
    (shape,) = _scales(landscape, "shape")
    assert shape["range"] == [palette.style("raw").shape, palette.style("standardized").shape]


def test_metric_curves_put_markers_on_every_run_and_split():
    runs = ("none", "batch")
    spec = netcharts.metric_curves(_curves(runs), metric="loss", runs=runs, log_y=True, title="t").to_dict()
    marks = [layer for layer in spec["layer"] if layer.get("mark", {}).get("type") == "point"
             and "shape" in layer.get("encoding", {})]  # (the hover's rings are points without shapes)
    assert len(marks) == 1 and marks[0]["encoding"]["shape"]["field"] == "run"


def test_long_titles_are_wrapped_into_lines_not_cut():
    title = "Loss (solid: training batches, dashed: validation) over every recorded step"
    lines = wrapped(title, 44)
    assert isinstance(lines, list) and len(lines) == 2 and all(len(x) <= 44 for x in lines)
    assert " ".join(lines) == title
    assert wrapped("short", 44) == "short"
    spec = dressed({"title": {"text": title, "anchor": "middle"}, "mark": "point"},
                   palette.chart_config(False), title_chars=44)
    assert spec["title"]["text"] == lines and spec["config"]["title"]["limit"] == 0


def test_axis_text_limits_are_left_to_vega():
    # labelLimit/titleLimit 0 on the axes made Chromium draw a 16 px y-axis title partly outside
    # the canvas (seen on the landscape in presenter mode); chart titles are wrapped instead
    for presenter in (False, True):
        axis = palette.chart_config(presenter)["axis"]
        assert "labelLimit" not in axis and "titleLimit" not in axis
