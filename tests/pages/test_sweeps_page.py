"""The Sweeps view in AppTest: its default learning-rate sweep with the measured headline, each sweep
kind, a grid too big for a live demo refused with a way to shrink it, a bundle loaded, a malformed
bundle refused with one clear message, and no NaN or inf in any chart's data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.sweep import SweepConfig, run_sweep
from core.sweep_files import bundle_json
from dashboard import sweeps
from dashboard.registry import VIEWS
from tests.pages.test_pages_apptest import assert_clean, chart_frames, charts_of, open_view

SWEEPS = next(v for v in VIEWS if v.url_path == "sweeps")
TINY = {"seeds": "1", "epochs": "2", "n_samples": "100", "width": "8"}


def texts(at) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "warning", "error", "info", "success")
                     for e in getattr(at.main, kind))


def assert_finite_charts(at, what: str) -> None:
    charts = charts_of(at)
    assert charts, f"{what}: no chart"
    for el in charts:
        for frame in chart_frames(el):
            nums = frame.select_dtypes("number")
            assert np.isfinite(nums.to_numpy(float)).all(), f"{what}: NaN or inf in a chart"
            assert len(frame) < 5000


def test_the_default_sweep_draws_the_loss_and_phase_strip_and_says_the_measured_headline():
    at = open_view(SWEEPS)
    assert_clean(at, "sweeps default")
    assert_finite_charts(at, "sweeps default")
    body = texts(at)
    assert "learned on all 3 seeds up to rate" in body and "as high as no normalization" in body
    assert at.query_params.get("sweep") == "lr" and at.query_params.get("seeds") == "3"


@pytest.mark.parametrize("kind, extra", [
    ("lr", {"lr_min": "0.01", "lr_max": "10.0", "depth": "4"}),
    ("batch_size", {"batch_min": "16", "batch_max": "64", "depth": "2"}),
    ("depth", {"depth_min": "1", "depth_max": "3"}),
])
def test_each_sweep_kind_draws_its_charts_from_a_link(kind, extra):
    at = open_view(SWEEPS, query={"sweep": kind, **TINY, **extra})
    assert_clean(at, kind)
    assert_finite_charts(at, kind)
    assert len(charts_of(at)) >= (3 if kind == "depth" else 2)
    assert "What you see" in [h.value for h in at.subheader]
    assert at.query_params.get("sweep") == kind


def test_a_diverged_run_is_shown_in_the_strip_as_diverged_never_as_nan():
    at = open_view(SWEEPS, query={"sweep": "lr", **TINY, "depth": "4", "width": "16", "lr_min": "10.0",
                                  "lr_max": "10.0", "compare": "layer"})
    assert_clean(at, "diverged")
    assert_finite_charts(at, "diverged")
    strips = [f for el in charts_of(at) for f in chart_frames(el) if "status" in f.columns]
    assert strips and "diverged" in set(pd.concat(strips)["status"])


def test_a_grid_too_big_for_a_live_demo_is_refused_with_how_to_shrink_it_and_nothing_trains():
    at = open_view(SWEEPS, query={"seeds": "10", "n_samples": "50000", "epochs": "200"})
    assert_clean(at, "too big")
    warning = " ".join(str(w.value) for w in at.warning)
    assert "more than this live demo allows" in warning and "fewer seeds" in warning
    assert not charts_of(at)


def _uploaded(at, name: str, data: bytes):
    at.file_uploader(key="sweep_upload").set_value((name, data, "application/json"))
    return at.run()


def test_an_uploaded_bundle_is_drawn_and_a_malformed_one_gets_one_clear_message():
    config = SweepConfig(lr_min=0.01, lr_max=0.1, seeds=1, epochs=2, n_samples=100, width=8, depth=2)
    grid = config.grid()
    bundle = bundle_json(grid, run_sweep(grid)).encode()
    at = open_view(SWEEPS, query={"seeds": "10", "n_samples": "50000", "epochs": "200"})  # refused live
    _uploaded(at, "sweep.json", bundle)
    assert_clean(at, "bundle")
    assert "Showing the uploaded bundle" in texts(at) and charts_of(at)
    bad = json.dumps({"format": "something else", "note": "[click](http://www.example.com)"}).encode()
    _uploaded(at, "sweep.json", bad)
    assert_clean(at, "bad bundle")
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1 and "not a sweep bundle" in errors[0]
    assert "example.com" not in texts(at)
    _uploaded(at, "sweep.json", b"\x00\xffnot json at all")
    assert_clean(at, "binary")
    assert any("not text" in str(e.value) for e in at.error)


def _loss_scales(at) -> list:
    out = []
    for el in charts_of(at):
        spec = json.loads(el.proto.spec)
        if "Final validation loss" not in json.dumps(spec.get("title", "")):
            continue
        stack, types = [spec], set()
        while stack:
            node = stack.pop()
            stack.extend(node.get("layer", []))
            y = node.get("encoding", {}).get("y")
            if y and y.get("field") == "median_shown":
                types.add(y.get("scale", {}).get("type"))
        out.append(types)
    return out


@pytest.mark.parametrize("kind, extra", [("lr", {"lr_min": "0.01", "lr_max": "1.0", "depth": "2"}),
                                         ("depth", {"depth_min": "1", "depth_max": "2"})])
def test_the_final_loss_switches_between_log_and_linear_without_running_the_grid_again(kind, extra):
    at = open_view(SWEEPS, query={"sweep": kind, **TINY, **extra, "log_y": "0"})
    assert_clean(at, f"{kind}, log_y=0")
    assert _loss_scales(at) == [{None}], "a linear loss axis was asked for"
    assert at.query_params.get("log_y") == "0"
    trained = len(sweeps.store())  # the points the view has trained
    at.toggle(key="log_y").set_value(True).run()
    assert _loss_scales(at) == [{"log"}]
    assert at.query_params.get("log_y") == "1"
    assert len(sweeps.store()) == trained, "the switch trained the grid again"
    assert_clean(at, f"{kind}, log_y=1")
    assert_finite_charts(at, f"{kind}, log")
