"""The Training view's curve controls through AppTest: smoothing changes the drawn data and keeps the
raw curve, the log switch changes the loss axis, both live in the link, neither retrains, and the
loss axis of a classification carries the loss of guessing."""

from __future__ import annotations

import json

import numpy as np

from dashboard.registry import VIEWS
from dashboard.runs import store
from tests.pages.test_pages_apptest import (
    assert_chart_data_ok,
    assert_clean,
    chart_frames,
    charts_of,
    open_view,
)

TRAINING = next(v for v in VIEWS if v.url_path == "training")
FAST = {"epochs": "3", "seeds": "2"}


def _loss_chart(at):
    for el in charts_of(at):
        spec = json.loads(el.proto.spec)
        if "Loss" in json.dumps(spec.get("title", "")):
            return spec, chart_frames(el)
    raise AssertionError("no loss chart on the page")


def _parts(spec):
    out, stack = [], [spec]
    while stack:
        node = stack.pop()
        stack.extend(node.get("layer", [])) if "layer" in node else out.append(node)
    return out


def _y_types(spec) -> set:
    return {p["encoding"]["y"].get("scale", {}).get("type") for p in _parts(spec) if "y" in p.get("encoding", {})}


def _curve_frame(frames):
    (df,) = [f for f in frames if {"loss", "split", "step"} <= set(f.columns) and len(f) > 10][:1]
    return df


def _caption(at) -> str:
    return " ".join(str(c.value) for c in at.caption)


def test_tiny_batches_open_smoothed_with_the_raw_curve_behind_and_larger_batches_raw():
    at = open_view(TRAINING, query={**FAST, "batch_size": "4"})
    assert_clean(at, "batch 4")
    assert_chart_data_ok(at, "batch 4")
    spec, frames = _loss_chart(at)
    df = _curve_frame(frames)
    assert "raw" in df.columns, "auto smoothing is on for batches of 4: the raw curve should be kept"
    assert not np.allclose(df["raw"], df["loss"]), "the drawn curve should be the smoothed one"
    assert "smoothed with weight 0.8" in _caption(at)
    assert at.query_params.get("smooth") == "auto"

    at = open_view(TRAINING, query=FAST)
    spec, frames = _loss_chart(at)
    assert "raw" not in _curve_frame(frames).columns
    assert "smoothed" not in _caption(at)


def test_a_smoothing_weight_and_a_linear_axis_from_the_link_are_drawn_and_kept_without_retraining():
    at = open_view(TRAINING, query={**FAST, "smooth": "0.9", "log_y": "false"})
    assert_clean(at, "smooth=0.9&log_y=false")
    spec, frames = _loss_chart(at)
    assert "log" not in _y_types(spec)
    assert "raw" in _curve_frame(frames).columns
    assert at.query_params.get("smooth") == "0.9" and at.query_params.get("log_y") == "0"
    trained = len(store())

    at.toggle(key="log_y").set_value(True).run()
    spec, _ = _loss_chart(at)
    assert _y_types(spec) == {"log"}
    at.select_slider(key="smooth").set_value("0").run()
    spec, frames = _loss_chart(at)
    assert "raw" not in _curve_frame(frames).columns
    assert at.query_params.get("smooth") == "0" and at.query_params.get("log_y") == "1"
    assert len(store()) == trained, "a curve control retrained a run"
    assert_clean(at, "after the controls")


def test_a_classification_loss_axis_marks_chance_and_a_regression_does_not():
    at = open_view(TRAINING, query=FAST)
    spec, _ = _loss_chart(at)
    labels = [p for p in _parts(spec) if p.get("mark", {}).get("type") == "text"
              and p.get("encoding", {}).get("text", {}).get("field") == "label"]
    assert labels, "no chance line on the moons' loss axis"
    assert "loss of guessing" in _caption(at)
    at = open_view(TRAINING, query={**FAST, "dataset": "diabetes"})
    assert_clean(at, "regression")
    spec, _ = _loss_chart(at)
    assert "loss of guessing" not in _caption(at)


def test_a_malformed_smoothing_in_the_link_opens_with_auto_and_a_notice():
    at = open_view(TRAINING, query={**FAST, "smooth": "<b>lots</b>"})
    assert_clean(at, "bad smooth")
    assert at.query_params.get("smooth") == "auto"
    notices = " ".join(str(w.value) for w in at.warning)
    assert "smooth" in notices


def test_the_landscapes_loss_axis_switches_between_log_and_linear_and_keeps_it_in_the_link():
    landscape = next(v for v in VIEWS if v.url_path == "landscape")
    at = open_view(landscape, query={"loss_log": "0"})
    assert_clean(at, "loss_log=0")
    spec, _ = _loss_chart(at)
    assert "log" not in _y_types(spec) and "linear" in json.dumps(spec.get("title", ""))
    at.toggle(key="loss_log").set_value(True).run()
    spec, _ = _loss_chart(at)
    assert _y_types(spec) == {"log"}
    assert at.query_params.get("loss_log") == "1"
    assert_chart_data_ok(at, "landscape log")


ACTIVATIONS = next(v for v in VIEWS if v.url_path == "activations")
WHY = next(v for v in VIEWS if v.url_path == "why")


def _chart_titled(at, words: str):
    for el in charts_of(at):
        spec = json.loads(el.proto.spec)
        if words in json.dumps(spec.get("title", ""), ensure_ascii=False):
            return spec, chart_frames(el)
    raise AssertionError(f"no chart titled with {words!r}")


def test_the_activation_bands_are_smoothed_for_tiny_batches_with_the_raw_median_behind():
    at = open_view(ACTIVATIONS, query={**FAST, "batch_size": "4"})
    assert_clean(at, "activations, batch 4")
    assert_chart_data_ok(at, "activations, batch 4")
    _, frames = _chart_titled(at, "percentiles")
    (df,) = [f for f in frames if {"p15", "p50", "p85"} <= set(f.columns)][:1]
    assert "raw" in df.columns, "auto smoothing is on for batches of 4: the raw median should be kept"
    assert not np.allclose(df["raw"], df["p50"]), "the drawn band should be the smoothed one"
    assert "smoothed with weight 0.8" in _caption(at)

    at.select_slider(key="smooth").set_value("0").run()
    _, frames = _chart_titled(at, "percentiles")
    (df,) = [f for f in frames if {"p15", "p50", "p85"} <= set(f.columns)][:1]
    assert "raw" not in df.columns
    assert at.query_params.get("smooth") == "0" and "log_y" not in at.query_params
    assert_clean(at, "activations, smoothing off")


def test_the_why_views_curves_take_the_smoothing_and_its_loss_curves_the_log_switch():
    at = open_view(WHY, query={**FAST, "smooth": "0.9", "log_y": "0"})
    assert_clean(at, "why, smooth=0.9&log_y=0")
    assert_chart_data_ok(at, "why, smoothed")
    trained = len(store())
    for words, log in (("Validation loss", False), ("Range of the loss", False), ("‖G − G′‖", True)):
        spec, frames = _chart_titled(at, words)
        assert ("log" in _y_types(spec)) is log, words
        assert any("raw" in f.columns for f in frames), f"{words}: the raw curve should be drawn behind"
    assert "smoothed with weight 0.9" in _caption(at)
    at.toggle(key="log_y").set_value(True).run()
    spec, _ = _chart_titled(at, "Validation loss")
    assert _y_types(spec) == {"log"}
    assert len(store()) == trained, "a curve control retrained a run"
    assert_clean(at, "why, after the switch")


def test_moving_the_why_views_smoothing_sends_the_same_charts_with_another_weight():
    """Every smoothing weight is in the Why curves' data; a move of the smoothing changes only the
    chart's param (what the browser draws), not the data, and trains nothing."""
    from dashboard.selections import WEIGHTS

    at = open_view(WHY, query={**FAST, "smooth": "0.9"})
    assert_clean(at, "why, smooth=0.9")
    spec, frames = _chart_titled(at, "Validation loss")
    (curves,) = [f for f in frames if "raw" in f.columns]
    assert sorted(set(curves["smooth"])) == list(WEIGHTS)
    assert {p["name"]: p.get("value") for p in spec["params"]}["smooth"] == 0.9
    trained = len(store())
    at.select_slider(key="smooth").set_value("0.5").run()
    assert_clean(at, "why, smooth=0.5")
    spec_after, frames_after = _chart_titled(at, "Validation loss")
    assert {p["name"]: p.get("value") for p in spec_after["params"]}["smooth"] == 0.5
    assert len(frames_after) == len(frames) and all(a.equals(b) for a, b in zip(frames, frames_after, strict=True))
    assert len(store()) == trained, "moving the smoothing retrained a run"
    assert "smoothed with weight 0.5" in _caption(at)


def test_gamma_and_beta_are_smoothed_for_tiny_batches_with_the_raw_median_behind():
    gamma_beta = next(v for v in VIEWS if v.url_path == "gamma-beta")
    at = open_view(gamma_beta, query={**FAST, "batch_size": "4"})
    assert_clean(at, "γβ, batch 4")
    assert_chart_data_ok(at, "γβ, batch 4")
    _, frames = _chart_titled(at, "γ over training")
    (bands,) = [f for f in frames if "q50" in f.columns][:1]
    assert "raw" in bands.columns and not np.allclose(bands["raw"], bands["q50"])
    assert "smoothed with weight 0.8" in _caption(at)
    at.select_slider(key="smooth").set_value("0").run()
    _, frames = _chart_titled(at, "γ over training")
    assert not any("raw" in f.columns for f in frames)
    assert_clean(at, "γβ, smoothing off")
