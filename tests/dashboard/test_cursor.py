"""Scrubber charts: one chart per run whose top-level param picks the step (dashboard.vegalite).

The landscape surfaces and loss curves and the training curves are built once
with a ``cursor`` param and drawn with its value set per step (``draw(...,
params=...)``). Rendered by Vega itself (vl-convert), such a chart at step k
must be the very picture the chart built from the frames cut at k draws.
"""

from __future__ import annotations

import functools
import re

import pytest
import vl_convert as vlc

from core.experiment import LandscapeConfig, run_landscape
from core.training import TrainConfig, train
from dashboard import charts, frames, netcharts
from dashboard.exports import _spec
from dashboard.frames import metric_frame
from dashboard.vegalite import with_params


@functools.lru_cache(maxsize=1)
def _landscape():
    return run_landscape(LandscapeConfig())


@functools.lru_cache(maxsize=1)
def _runs():
    return {n: train(TrainConfig(norm=n, epochs=2, records=10)) for n in ("none", "batch")}


def _svg(chart, params=None) -> str:
    """The chart as Vega draws it (clip-path and gradient ids, numbered per process, left out)."""
    return re.sub(r"(clip|gradient_)\d+", r"\1", vlc.vegalite_to_svg(_spec(chart, params)))


def _steps(path, k=3):
    steps = sorted(path["step"].unique())
    return [steps[0], steps[len(steps) // 2], steps[-1]][:k]


@pytest.mark.parametrize("run", ["raw", "standardized"])
def test_surface_at_each_scrubber_step_draws_what_the_path_cut_at_that_step_draws(run):
    r = _landscape().runs[run]
    common = dict(title="t", x_title="a", y_title="b", extent=r.extent, optimum=r.optimum,
                  band_domain=(float(r.surface["band"].min()), float(r.surface["band"].max())))
    scrubbed = charts.surface(r.surface, r.path, cursor="at_step", **common)
    pictures = set()
    for k in _steps(r.path):
        shown = r.path[r.path["step"] <= k]
        cut = charts.surface(r.surface, shown, current=shown.tail(1), **common)
        picture = _svg(scrubbed, {"at_step": int(k)})
        assert picture == _svg(cut), f"step {k}"
        pictures.add(picture)
    assert len(pictures) == 3, "the scrubber's steps should draw three different pictures"


def test_loss_curves_rule_follows_the_cursor():
    result = _landscape()
    losses = result.losses()
    scrubbed = charts.loss_curves(losses, title="t", runs=["raw", "standardized"], cursor="at_step")
    for k in _steps(result.runs["raw"].path, 2):
        fixed = charts.loss_curves(losses, title="t", runs=["raw", "standardized"], current_step=int(k))
        assert _svg(scrubbed, {"at_step": int(k)}) == _svg(fixed), f"step {k}"


@pytest.mark.parametrize("metric", ["loss", "accuracy"])
def test_metric_curves_stop_at_the_cursor(metric):
    runs = _runs()
    df = metric_frame(runs, metric)
    span = (0, int(df["step"].max()))
    common = dict(metric=metric, runs=["none", "batch"], log_y=metric == "loss", title="t", x_domain=span)
    scrubbed = netcharts.metric_curves(df, cursor="train_step", **common)
    for k in _steps(df, 3)[1:]:
        cut = netcharts.metric_curves(df[df["step"] <= k], **common)
        assert _svg(scrubbed, {"train_step": int(k)}) == _svg(cut), f"step {k}"


def test_the_scrubbed_chart_is_one_chart_for_every_step():
    """Built once: the memo returns the same chart object whatever step is shown."""
    r = _landscape().runs["raw"]
    args = dict(title="t", x_title="a", y_title="b", extent=r.extent, optimum=r.optimum, cursor="at_step")
    assert charts.surface(r.surface, r.path, **args) is charts.surface(r.surface, r.path, **args)


def test_with_params_sets_only_the_named_params_and_leaves_the_spec_alone():
    spec = {"params": [{"name": "at_step", "value": 0}, {"name": "other", "value": 1}], "layer": []}
    out = with_params(spec, {"at_step": 7})
    assert out["params"] == [{"name": "at_step", "value": 7}, {"name": "other", "value": 1}]
    assert spec["params"][0]["value"] == 0, "the cached spec must not change"
    assert out["layer"] is spec["layer"]
    assert with_params(spec, None) is spec


@pytest.mark.parametrize("value,log_y", [("saturated", False), ("grad_norm", True)])
def test_per_layer_lines_at_each_player_step_draw_what_the_health_at_that_step_draws(value, log_y):
    runs = _runs()
    every = frames.health_all(runs)
    common = dict(value=value, runs=["none", "batch"], title="t", y_title="y", log_y=log_y)
    scrubbed = netcharts.by_layer(every, cursor="hist_step", **common)
    steps = sorted(every["step"].unique())
    pictures = set()
    for k in (steps[0], steps[len(steps) // 2] + 1, steps[-1]):  # +1: between two records
        picture = _svg(scrubbed, {"hist_step": int(k)})
        assert picture == _svg(netcharts.by_layer(frames.health_at(runs, int(k)), **common)), f"step {k}"
        pictures.add(picture)
    if value == "grad_norm":  # (no unit saturates in this short run: that picture stays the same)
        assert len(pictures) == 3
