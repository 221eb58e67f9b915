"""dashboard/netcharts.py: every builder gives a schema-valid spec, no NaN/inf, under 5,000 rows.

Each builder gets the frames the network pages (Training, Activations, γ and
β) hand it, built the way the pages build them (with the helpers they use,
``dashboard.frames.metric_frame``, ``boundary_frames``, ``mode_frames`` and
``dashboard.runs.variants``) from real ``core.training.train`` runs at the
pages' default views; then the same frames with NaN and inf sprinkled over
their numeric columns, then frames of every numeric cell NaN, then the runs
of the deepest network the controls allow and of a run that diverges. Last,
the ``@builder`` memo and the Arrow spec of ``dashboard.chartcache``.
"""

from __future__ import annotations

import copy
import functools
import inspect

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from core.params import specs
from core.training import History, TrainConfig, train
from dashboard import frames, netcharts
from dashboard.chartcache import content_key, vega_lite_spec
from dashboard.charts import RUN_COLORS, RUN_LABELS
from dashboard.frames import boundary_frames, metric_frame, mode_frames
from dashboard.runs import variants
from dashboard.selections import ActivationsView, CompareView, NormParamsView, TrainingView
from tests.dashboard.chartspec import (
    MAX_ROWS,
    bad_cells,
    chart_spec,
    datasets,
    encoded_fields,
    numeric_columns,
    poison,
    row_count,
)
from tests.dashboard.chartspec import _dicts as chartspec_dicts

RECORDS_HIGH = int(specs(TrainConfig)["records"].high)
DEPTH_HIGH = int(specs(TrainConfig)["depth"].high)

#: name -> (config, compared runs). The configs are kept fast to train (a fraction of a second each).
CASES = {
    # the pages' default lesson (moons, 10 sigmoid layers, batch norm against none), 2 epochs, 10 snapshots
    "default": (TrainConfig(epochs=2, records=10), CompareView()),
    # the deepest network and the most snapshots the controls allow, every run compared: a chart's rows
    # grow with layers x snapshots x runs, not with the width (the pages draw a few tracked units) nor
    # the samples (frames.MAX_POINTS caps the dots; n_samples still gives more than that many)
    "depth50": (TrainConfig(depth=DEPTH_HIGH, width=4, n_samples=1000, batch_size=8, epochs=1,
                            records=RECORDS_HIGH), CompareView(compare="both")),
    # relu at lr 10: without normalization the loss blows up within a few steps; batch norm trains on
    "diverged": (TrainConfig(activation="relu", lr=10.0, epochs=2, records=RECORDS_HIGH), CompareView()),
}

Call = tuple[str, tuple, dict]  # (builder name, args, kwargs) of one chart a page draws


@functools.lru_cache(maxsize=16)
def _train(config: TrainConfig) -> History:
    config.validate()
    return train(config)


def _runs(case: str) -> dict[str, History]:
    """The runs a page compares for ``case``, as ``dashboard.runs.get_runs`` trains them."""
    config, view = CASES[case]
    return {n: _train(c) for n, c in variants(config, view.norms).items()}


def _nearest(options, want: int) -> int:
    """The recorded step a player shows for ``want`` (dashboard.playback.player)."""
    return min(options, key=lambda s: abs(s - want))


# ------------------------------------------------------------------ the pages' charts, as the pages build them

def _training_page(runs: dict, norms, view: TrainingView) -> list[Call]:
    """pages/training.py: loss and accuracy curves, a decision boundary per run."""
    recorded = sorted(set().union(*(set(h.metrics["step"]) for h in runs.values())))
    upto = _nearest(recorded, view.train_step)
    is_class = all(h.task == "classification" for h in runs.values())
    span = (0, max(recorded))
    loss = metric_frame(runs, "loss")  # whole: the chart's cursor param stops the curves at upto
    calls = [("metric_curves", (loss,), dict(
        metric="loss", runs=norms, log_y=True, title="Loss", x_domain=span,
        diverged={n: h.diverged_at for n, h in runs.items() if h.diverged}, cursor="train_step"))]
    acc = metric_frame(runs, "accuracy")
    if is_class and not acc.empty:
        calls.append(("metric_curves", (acc,), dict(
            metric="accuracy", runs=norms, log_y=False, title="Accuracy", x_domain=span,
            diverged={n: h.diverged_at for n, h in runs.items() if h.diverged}, cursor="train_step")))
    for norm, (grid, points) in boundary_frames(runs, upto).items():
        calls.append(("decision_boundary", (grid, points), dict(title=RUN_LABELS[norm],
                                                                color=RUN_COLORS[norm])))
    return calls


def _activations_page(runs: dict, norms, config: TrainConfig, view: ActivationsView) -> list[Call]:
    """pages/activations.py: a layer's percentile band, histograms down the depth, per-layer health."""
    layer, stage = min(view.layer, config.depth), view.stage
    bands = frames.layer_bands(runs, layer, stage)
    calls = [("percentile_bands", (bands,), dict(runs=norms, y_title=f"layer {layer}",
                                                 title=f"Layer {layer}: percentiles"))]
    at = _nearest(frames.recorded_steps(runs, "histograms"), view.hist_step)
    picked = frames.histograms_at(runs, at, stage)
    top = max([float(sel["fraction"].max()) for _, sel in picked.values() if not sel.empty] or [1.0])
    for norm, (rec, sel) in picked.items():
        calls.append(("depth_histograms", (sel,), dict(title=f"{RUN_LABELS[norm]} — step {rec:,}",
                                                        x_title=stage, color_max=top)))
    every = frames.health_all(runs)  # as the page: every step with a cursor param when it fits
    per_layer, step_param = (every, {"cursor": "hist_step"}) if len(every) < MAX_ROWS else (
        frames.health_at(runs, at), {})
    calls.append(("by_layer", (per_layer,), dict(value="saturated", runs=norms, y_domain=(0, 1),
                                                 title="Saturated", y_title="share", **step_param)))
    calls.append(("by_layer", (per_layer,), dict(value="grad_norm", runs=norms, log_y=True,
                                                 title="Gradient norm", y_title="‖∂loss/∂W‖", **step_param)))
    shared = frames.positive_range(runs, "layer_health", "grad_norm")
    for norm, hist in runs.items():
        calls.append(("layer_step_heatmap", (hist.layer_health,), dict(
            value="grad_norm", log_color=True, title=RUN_LABELS[norm], legend_title="grad norm",
            domain=shared)))
    return calls


def _norm_params_page(runs: dict, config: TrainConfig, view: NormParamsView) -> list[Call]:
    """pages/norm_params.py: γ and β bands, batch against running statistics, train against eval mode."""
    normed = {n: h for n, h in runs.items() if n != "none" and not h.norm_params.empty}
    layer = min(view.norm_layer, config.depth)
    calls = []
    for norm, hist in normed.items():
        layer_frames = frames.norm_layer_frames(hist, layer)
        for p in ("gamma", "beta"):
            b, u = layer_frames[p]
            sym = "γ" if p == "gamma" else "β"
            calls.append(("param_band", (b, u), dict(param=sym, color=RUN_COLORS[norm],
                                                     title=f"{sym} over training")))
        if norm == "batch" and "mean" in layer_frames:
            for stat in ("mean", "variance"):
                calls.append(("running_vs_batch", (layer_frames[stat],), dict(stat=stat, title=f"Batch {stat}")))
    _, per_layer = mode_frames(normed)
    for norm, df in per_layer.items():
        calls.append(("mode_bars", (df,), dict(value="std", y_title="std", title=RUN_LABELS[norm])))
    return calls


@functools.lru_cache(maxsize=4)
def _page_calls(case: str) -> tuple[Call, ...]:
    """Every chart the three network pages draw for ``case`` at their default views."""
    config, view = CASES[case]
    runs = _runs(case)
    return (*_training_page(runs, view.norms, TrainingView()),
            *_activations_page(runs, view.norms, config, ActivationsView()),
            *_norm_params_page(runs, config, NormParamsView()))


def _calls(case: str, name: str) -> list[Call]:
    calls = [c for c in _page_calls(case) if c[0] == name]
    assert calls, f"no page draws {name} for the {case!r} runs"
    return calls


def _draw(call: Call, frames=None):
    """The builder's chart for ``call``, its positional frames replaced by ``frames`` if given."""
    name, args, kwargs = call
    if frames is not None:
        frames = iter(frames)
        args = tuple(next(frames) if isinstance(a, pd.DataFrame) else a for a in args)
    return getattr(netcharts, name)(*args, **kwargs)


def _frames(call: Call) -> list[pd.DataFrame]:
    return [a for a in call[1] if isinstance(a, pd.DataFrame)]


def _builders() -> dict:
    """Public functions of dashboard/netcharts.py that return a chart."""
    out = {}
    for name, fn in inspect.getmembers(netcharts, inspect.isfunction):
        if name.startswith("_") or fn.__module__ != netcharts.__name__:
            continue
        if "Chart" in str(inspect.signature(fn).return_annotation):
            out[name] = fn
    return out


BUILDERS = sorted(_builders())


# ------------------------------------------------------------------ tests

def test_every_builder_has_an_example_here():
    assert BUILDERS, "no chart builders found in dashboard/netcharts.py"
    missing = sorted(set(BUILDERS) - {name for name, _, _ in _page_calls("default")})
    assert not missing, f"add the page frames for {missing} to the _*_page functions in {__file__}"


@pytest.mark.parametrize("name", BUILDERS)
def test_builder_spec_validates_against_altairs_schema(name):
    for call in _calls("default", name):
        spec = chart_spec(_draw(call))
        assert "$schema" in spec and "vega-lite" in spec["$schema"]
        assert row_count(spec) > 0, f"{name}({call[2]}) drew no data"
        assert bad_cells(spec) == []


@pytest.mark.parametrize("name", BUILDERS)
def test_builder_drops_exactly_the_rows_with_nan_or_inf_in_the_columns_it_draws(name):
    """Poisoned rows go, and only they: the data equals that of the frames without those rows."""
    rng = np.random.default_rng(7)
    for call in _calls("default", name):
        drawn = encoded_fields(chart_spec(_draw(call)))
        poisoned, cleaned = [], []
        for df in _frames(call):
            cols = [c for c in numeric_columns(df) if c in drawn]
            bad, clean_rows = poison(df, rng, columns=cols)
            ok = np.isfinite(bad[cols].to_numpy(dtype=float)).all(axis=1)
            assert ok.sum() == clean_rows
            poisoned.append(bad)
            cleaned.append(bad[ok])
        assert sum(len(p) - len(c) for p, c in zip(poisoned, cleaned, strict=True)) > 0, "nothing poisoned"
        spec = chart_spec(_draw(call, poisoned))
        bad = bad_cells(spec)
        assert bad == [], f"{name}({call[2]}) let NaN/inf reach its data in {sorted({c for c, _ in bad})}"
        expected = chart_spec(_draw(call, cleaned))
        assert row_count(expected) > 0
        assert datasets(spec) == datasets(expected), (
            f"{name}({call[2]}): {row_count(spec)} rows drawn, {row_count(expected)} without the poisoned rows")


@pytest.mark.parametrize("name", BUILDERS)
def test_builder_lets_no_nan_or_inf_reach_the_spec_in_any_column(name):
    """The house rule is absolute: a NaN in a column the chart does not draw still ships as null."""
    rng = np.random.default_rng(11)
    for call in _calls("default", name):
        spec = chart_spec(_draw(call, [poison(df, rng)[0] for df in _frames(call)]))
        bad = bad_cells(spec)
        assert bad == [], f"{name}({call[2]}) let NaN/inf reach its data in {sorted({c for c, _ in bad})}"
        assert row_count(spec) > 0, f"{name}({call[2]}) dropped everything, not just the bad rows"


@pytest.mark.parametrize("name", BUILDERS)
def test_builder_with_only_nan_rows_still_gives_a_valid_empty_chart(name):
    for call in _calls("default", name):
        blank = [df.assign(**{c: np.nan for c in numeric_columns(df)}) for df in _frames(call)]
        spec = chart_spec(_draw(call, blank))
        assert bad_cells(spec) == []
        assert row_count(spec) == 0, f"{name}({call[2]}) drew {row_count(spec)} rows of NaN frames"


def test_the_large_cases_are_what_they_claim():
    deep = _runs("depth50")
    assert len(deep) == 3 and all(h.layer_health["layer"].max() == DEPTH_HIGH for h in deep.values())
    assert all(h.layer_health["step"].nunique() == RECORDS_HIGH for h in deep.values())
    diverged = _runs("diverged")
    assert diverged["none"].diverged and diverged["none"].diverged_at is not None
    assert not diverged["batch"].diverged


@pytest.mark.parametrize("name", BUILDERS)
@pytest.mark.parametrize("case", ["depth50", "diverged"])
def test_chart_data_stays_under_5000_rows_for_a_50_layer_network_and_a_diverged_run(case, name):
    over = []
    for call in _calls(case, name):
        spec = chart_spec(_draw(call))
        rows = row_count(spec)
        if not 0 < rows < MAX_ROWS:
            over.append(f"{name}(title={call[2].get('title')!r}) ships {rows} rows")
        assert bad_cells(spec) == []
    assert not over, f"{case}: " + "; ".join(over)


def _layers(spec) -> list[dict]:
    return [node for node in chartspec_dicts(spec) if "mark" in node]


@pytest.mark.parametrize("metric", ["loss", "accuracy"])
def test_metric_curves_draw_a_diverged_run_up_to_its_divergence_with_the_point_marked(metric):
    """The plain run diverges within a few steps: its recorded points are drawn (not a line of one
    point, which shows nothing), and a cross at the divergence step, at its last finite value, carries
    the label "diverged at step N" -- on the loss and on the accuracy chart."""
    runs = _runs("diverged")
    hist = runs["none"]
    (call,) = [c for c in _calls("diverged", "metric_curves") if c[2]["metric"] == metric]
    chart = _draw(call)
    spec = chart_spec(chart)
    assert bad_cells(spec) == []
    rows = [r for rows in datasets(spec) for r in rows]
    label = f"diverged at step {hist.diverged_at:,}"
    marks = [r for r in rows if r.get("label") == label]
    assert marks, f"no mark labelled {label!r}"
    m = hist.metrics[hist.metrics["split"] == "train"]
    last = float(m[np.isfinite(m[metric])].sort_values("step")[metric].iloc[-1])
    assert marks[0]["run"] == RUN_LABELS["none"] and marks[0]["step"] == hist.diverged_at
    assert marks[0][metric] == pytest.approx(last)
    kinds = {(n["mark"]["type"] if isinstance(n["mark"], dict) else n["mark"]) for n in _layers(spec)}
    assert {"line", "point", "text", "rule"} <= kinds
    recorded = [r for r in rows if r.get("run") == RUN_LABELS["none"] and "split" in r]
    assert len(recorded) >= 1 and all(r["step"] <= hist.diverged_at for r in recorded)
    assert not [r for r in rows if r.get("run") == RUN_LABELS["batch"] and "label" in r], "batch norm did not diverge"


def test_builder_returns_the_same_chart_for_equal_inputs():
    """Frames built apart with equal contents are keyed by a hash of their values."""
    name, args, kwargs = _calls("default", "metric_curves")[0]
    first = getattr(netcharts, name)(*copy.deepcopy(args), **kwargs)
    again = getattr(netcharts, name)(*copy.deepcopy(args), **dict(reversed(copy.deepcopy(kwargs).items())))
    assert again is first


def test_a_frame_a_memoized_function_returned_is_keyed_by_that_call_without_hashing_it():
    runs = _runs("default")
    df = frames.metric_frame(runs, "loss")
    assert frames.metric_frame(runs, "loss") is df
    key = content_key(df)
    assert key[0] == "derived"
    assert content_key(df.copy())[0] == "frame"  # a copy (which could be changed) is hashed
    kwargs = dict(metric="loss", runs=["none", "batch"], log_y=True, title="t")
    assert netcharts.metric_curves(df, **kwargs) is netcharts.metric_curves(df, **kwargs)


def test_builder_gives_a_new_chart_when_a_frames_content_changes():
    name, (df,), kwargs = _calls("default", "metric_curves")[0]
    first = getattr(netcharts, name)(df, **kwargs)
    changed = df.copy()
    changed.iloc[0, changed.columns.get_loc("loss")] = 123.0
    second = getattr(netcharts, name)(changed, **kwargs)
    assert second is not first
    losses = lambda chart: {r.get("loss") for rows in datasets(chart_spec(chart)) for r in rows}  # noqa: E731
    assert 123.0 in losses(second) and 123.0 not in losses(first)


def test_vega_lite_spec_ships_arrow_datasets_that_its_layers_name():
    (call,) = [c for c in _calls("diverged", "metric_curves") if c[2]["metric"] == "loss"]
    chart = _draw(call)
    spec = vega_lite_spec(chart)
    assert vega_lite_spec(chart) is spec  # converted once per chart object
    # each layer's own data, or the top level's (the curves' frame, given once for the layers sharing it)
    named = [layer.get("data", spec.get("data"))["name"] for layer in spec["layer"]]
    # the curves, their run markers, the diverged run's points and its divergence mark
    assert len(named) == len(spec["layer"]) >= 4 and set(named) == set(spec["datasets"])
    assert "values" not in str(spec.get("data", "")) and all("values" not in layer.get("data", {})
                                                             for layer in spec["layer"])
    json_rows = [len(rows) for rows in datasets(chart_spec(chart))]
    arrow_rows = []
    for name in sorted(set(named)):
        blob = spec["datasets"][name]
        assert isinstance(blob, bytes), type(blob)
        table = pa.ipc.open_stream(blob).read_all()
        assert sum(col.null_count for col in table.columns) == 0
        for col in table.columns:
            if pa.types.is_floating(col.type):
                assert np.isfinite(col.to_numpy()).all()
        arrow_rows.append(table.num_rows)
    assert sorted(arrow_rows) == sorted(json_rows) and min(arrow_rows) > 0
