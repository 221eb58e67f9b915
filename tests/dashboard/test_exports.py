"""Exports: histories as zipped CSVs with their config, configs as JSON, charts as PNG and SVG."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd

from core.experiment import LandscapeConfig, run_landscape
from core.training import TrainConfig, train
from dashboard import charts, exports


def test_history_zip_holds_one_csv_per_frame_and_the_config():
    config = TrainConfig(n_samples=120, depth=3, width=8, epochs=2, records=4)
    hist = train(config)
    blob = exports.frames_zip(hist.frames(), config)
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        names = set(zf.namelist())
        assert names == {f"{n}.csv" for n in hist.frames()} | {"config.json"}
        metrics = pd.read_csv(zf.open("metrics.csv"))
        assert len(metrics) == len(hist.metrics)
        assert list(metrics.columns) == list(hist.metrics.columns)
        saved = json.loads(zf.read("config.json"))
    assert saved.pop("config") == "TrainConfig"
    assert TrainConfig(**saved) == config


def test_config_json_round_trips():
    config = LandscapeConfig(lr_scale=0.3, steps=300, w0_a=1.5)
    data = json.loads(exports.config_json(config))
    assert data.pop("config") == "LandscapeConfig"
    assert LandscapeConfig(**data) == config


def test_a_chart_saves_as_png_and_svg():
    run = run_landscape(LandscapeConfig(steps=50)).runs["raw"]
    chart = charts.surface(run.surface, run.path, title="valley", x_title="a", y_title="b",
                           extent=run.extent, optimum=run.optimum)
    png = exports.chart_png(chart)()
    svg = exports.chart_svg(chart)()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert svg.lstrip().startswith("<svg") and "valley" in svg


def test_slug_makes_safe_file_names():
    assert exports.slug("Loss (log scale): γ/β!") == "loss-log-scale"
    assert exports.slug("") == "chart"


def test_view_json_holds_the_settings_and_their_query_string():
    settings = {"lr": 0.3, "standardize_inputs": True, "compare": "both", "train_step": 130}
    data = json.loads(exports.view_json("training", settings, {"batch": TrainConfig(lr=0.3)}))
    assert data["view"] == "training" and data["settings"] == settings
    assert data["query"] == "lr=0.3&standardize_inputs=1&compare=both&train_step=130"
    assert data["configs"]["batch"]["config"] == "TrainConfig" and data["configs"]["batch"]["lr"] == 0.3


def test_saved_charts_are_named_after_the_page_and_the_chart():
    from dashboard.drawing import chart_file_name

    taken: set[str] = set()
    assert chart_file_name("training", "Loss (solid: training, dashed: validation)", 1, taken) == "training-loss"
    assert chart_file_name("training", {"text": "batch norm, step 260"}, 2, taken) == "training-batch-norm"
    assert chart_file_name("training", "Loss: again", 3, taken) == "training-loss-3"  # no two files alike
    assert chart_file_name("landscape", None, 4) == "landscape"
    assert chart_file_name("", None, 5) == "chart-5"


def test_a_saved_chart_has_the_pages_chart_style():
    from dashboard import palette

    result = run_landscape(LandscapeConfig(steps=30))
    chart = charts.loss_curves(result.losses(), title="loss", runs=["raw", "standardized"])
    svg = exports.chart_svg(chart)()
    assert palette.LABEL.lower() in svg.lower(), "the saved SVG lacks the page's axis text colour"


def test_a_history_over_seeds_zips_one_folder_per_seed_each_with_its_own_config():
    base = TrainConfig(n_samples=120, depth=2, width=8, epochs=1, records=3)
    hists = [train(TrainConfig(**{**base.__dict__, "seed": s})) for s in (4, 5)]
    blob = exports.seeds_zip({h.config.seed: (h.frames(), h.config) for h in hists})
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        names = set(zf.namelist())
        for h in hists:
            folder = f"seed-{h.config.seed}/"
            assert {f"{folder}{n}.csv" for n in h.frames()} | {f"{folder}config.json"} <= names
            saved = json.loads(zf.read(f"{folder}config.json"))
            assert saved.pop("config") == "TrainConfig" and TrainConfig(**saved) == h.config
            metrics = pd.read_csv(zf.open(f"{folder}metrics.csv"))
            assert len(metrics) == len(h.metrics)
