"""core.training: TrainConfig validation, determinism, divergence, the frames' shape and finiteness."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from core import params
from core.data import DATASETS
from core.telemetry import SCHEMAS, STAGES
from core.training import BOUNDARY_FRAMES, BOUNDARY_RESOLUTION, History, TrainConfig, train

# A small, fast configuration for behaviour that does not depend on size.
SMALL = TrainConfig(n_samples=120, depth=3, width=8, epochs=3, batch_size=16, records=6)


def assert_all_finite(hist: History) -> None:
    for name, frame in hist.frames().items():
        numeric = frame.select_dtypes(include="number")
        assert np.isfinite(numeric.to_numpy(dtype=np.float64)).all(), f"{name} holds NaN or inf"
    if hist.boundary is not None:
        assert np.isfinite(hist.boundary).all()


# ---------------------------------------------------------------- config


def test_config_is_frozen_hashable_and_every_field_is_in_the_param_table():
    config = TrainConfig()
    assert hash(config) == hash(TrainConfig())
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lr = 1.0  # type: ignore[misc]
    assert set(params.specs(TrainConfig)) == {f.name for f in dataclasses.fields(TrainConfig)}


def test_config_round_trips_through_a_url():
    config = TrainConfig(dataset="circles", depth=4, lr=0.03, norm="layer", standardize_inputs=False)
    back, notices = params.from_query(TrainConfig, params.to_query(config))
    assert back == config and notices == []


def test_default_config_is_valid_and_is_the_lesson():
    config = TrainConfig()
    config.validate()
    assert (config.dataset, config.activation, config.norm) == ("moons", "sigmoid", "batch")
    assert config.depth >= 8


@pytest.mark.parametrize(
    ("change", "field", "allowed"),
    [
        ({"depth": 0}, "depth", "an int in the range [1, 50]"),
        ({"lr": -1.0}, "lr", "a float in the range (0, 10]"),
        ({"dataset": "mnist"}, "dataset", "one of 'seed', 'moons'"),
        ({"batch_size": 1}, "batch_size", "an int in the range [2, 50000]"),
        ({"width": 513}, "width", "an int in the range [1, 512]"),
        ({"norm": "weight"}, "norm", "one of 'none', 'batch', 'layer', 'group', 'rms'"),
        ({"groups": 0}, "groups", "an int in the range [1, 512]"),
        ({"n_samples": 50_001}, "n_samples", "an int in the range [40, 50000]"),
        ({"lr": float("nan")}, "lr", "a float in the range (0, 10]"),
    ],
)
def test_invalid_config_raises_one_error_naming_the_field_and_what_is_allowed(change, field, allowed):
    config = dataclasses.replace(TrainConfig(), **change)
    with pytest.raises(ValueError) as err:
        train(config)
    message = str(err.value)
    assert message.startswith(f"The '{field}' parameter must be {allowed}")
    assert message.endswith(f"Got {change[field]!r} instead.")


@pytest.mark.parametrize(("width", "groups"), [(8, 3), (32, 5), (6, 4)])
def test_group_norm_needs_groups_that_divide_the_width_and_says_so(width, groups):
    config = SMALL.replace(norm="group", width=width, groups=groups)
    with pytest.raises(ValueError, match=rf"^The 'groups' parameter must divide the width \({width}\) when norm='group'\. Got {groups} instead\.$"):
        train(config)
    SMALL.replace(norm="layer", width=width, groups=groups).validate()  # only group norm uses it


def test_validation_message_has_scikit_learns_form():
    with pytest.raises(ValueError, match=r"^The 'lr' parameter must be a float in the range \(0, 10\]\. Got -1 instead\.$"):
        TrainConfig(lr=-1).validate()


def test_wide_enough_ranges_for_the_dashboard():
    spec = params.specs(TrainConfig)
    assert spec["depth"].high >= 50 and spec["width"].high >= 512
    assert spec["n_samples"].high >= 50_000 and spec["batch_size"].low == 2
    assert set(spec["dataset"].choices) == set(DATASETS)


# ---------------------------------------------------------------- determinism


def test_same_config_gives_identical_frames():
    a, b = train(SMALL), train(SMALL)
    for name in History.FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    np.testing.assert_array_equal(a.boundary, b.boundary)


def test_the_telemetry_cadence_does_not_change_the_training():
    sparse, dense = train(SMALL.replace(records=2)), train(SMALL.replace(records=50))
    assert sparse.final("val") == dense.final("val")
    pd.testing.assert_frame_equal(sparse.mode_metrics, dense.mode_metrics)
    last = dense.norm_params["step"].max()
    pd.testing.assert_frame_equal(
        sparse.norm_params[sparse.norm_params["step"] == last].reset_index(drop=True),
        dense.norm_params[dense.norm_params["step"] == last].reset_index(drop=True),
    )


def test_a_different_seed_gives_a_different_run():
    a, b = train(SMALL), train(SMALL.replace(seed=1))
    assert not a.metrics["loss"].equals(b.metrics["loss"])


# ---------------------------------------------------------------- frames


def test_frames_have_their_columns_and_no_nan_or_inf():
    hist = train(SMALL)
    for name, schema in SCHEMAS.items():
        assert list(getattr(hist, name).columns) == list(schema), name
    assert list(hist.mode_metrics.columns) == ["mode", "loss", "accuracy"]
    assert set(hist.layer_stats["stage"].unique()) == set(STAGES)
    assert_all_finite(hist)


def test_snapshots_cover_the_run_from_step_zero_to_the_last_update():
    hist = train(SMALL)
    steps = sorted(hist.metrics["step"].unique())
    assert steps[0] == 0 and steps[-1] == hist.steps == hist.steps_done
    assert len(steps) == SMALL.records
    for name in ("layer_stats", "histograms", "layer_health", "norm_params"):
        assert sorted(getattr(hist, name)["step"].unique()) == steps, name
    assert set(hist.metrics["split"]) == {"train", "val"}


def test_histograms_use_fixed_bins_and_their_fractions_sum_to_one():
    a = train(SMALL)
    b = train(SMALL.replace(norm="none", seed=3, lr=0.5))
    both = pd.concat([a.histograms, b.histograms])
    edges = both.groupby(["stage", "bin"], observed=True)[["bin_left", "bin_right"]].nunique()
    assert (edges == 1).all().all()  # a bin has the same edges in every run and step
    sums = a.histograms.groupby(["step", "layer", "stage"], observed=True)["fraction"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, atol=1e-5)
    assert (a.histograms["fraction"] > 0).all()  # empty bins are left out
    assert a.histograms.groupby(["stage"], observed=True)["bin"].max().max() <= 29  # 28 bins + 2 overflow


def test_norm_frames_are_empty_without_normalization_and_running_stats_only_for_batch_norm():
    none = train(SMALL.replace(norm="none"))
    layer = train(SMALL.replace(norm="layer"))
    batch = train(SMALL)
    assert none.norm_params.empty and none.norm_param_bands.empty and none.running_stats.empty
    assert not layer.norm_params.empty and layer.running_stats.empty
    assert not batch.running_stats.empty
    first = batch.norm_params[batch.norm_params["step"] == 0]
    assert (first["gamma"] == 1).all() and (first["beta"] == 0).all()  # γ starts at 1, β at 0


@pytest.mark.parametrize("norm", ["group", "rms"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_group_and_rms_norm_train_and_record_finite_gamma_and_beta_frames(norm, seed):
    hist = train(SMALL.replace(norm=norm, groups=2, seed=seed))
    assert not hist.diverged and hist.running_stats.empty
    assert not hist.norm_params.empty and not hist.norm_param_bands.empty
    assert_all_finite(hist)
    first = hist.norm_params[hist.norm_params["step"] == 0]
    assert (first["gamma"] == 1).all() and (first["beta"] == 0).all()
    last = hist.norm_params[hist.norm_params["step"] == hist.steps]
    assert (last["gamma"] != 1).any()  # γ is trained
    if norm == "rms":  # RMSNorm has no shift: β stays the 0 it amounts to
        assert (hist.norm_params["beta"] == 0).all()
    else:
        assert (last["beta"] != 0).any()


def test_group_norm_with_one_group_trains_exactly_like_layer_norm():
    group, layer = train(SMALL.replace(norm="group", groups=1)), train(SMALL.replace(norm="layer"))
    for name in ("metrics", "norm_params", "layer_stats"):
        pd.testing.assert_frame_equal(getattr(group, name), getattr(layer, name), rtol=1e-5)


def test_eval_mode_differs_from_train_mode_only_with_batch_norm():
    for norm in ("none", "layer", "group", "rms"):
        hist = train(SMALL.replace(norm=norm))
        assert set(hist.mode_metrics["mode"]) == {"train", "eval"}
        assert hist.mode_layers["rms_diff"].max() < 1e-4, norm
    batch = train(SMALL)
    assert batch.mode_layers.query("stage == 'post_norm'")["rms_diff"].max() > 1e-3


def test_a_two_d_data_set_records_a_decision_boundary_and_the_data_under_it():
    hist = train(SMALL.replace(records=40, epochs=20))
    assert hist.boundary.shape == (len(hist.boundary_steps), BOUNDARY_RESOLUTION, BOUNDARY_RESOLUTION)
    assert len(hist.boundary_steps) == BOUNDARY_FRAMES
    assert hist.boundary_steps[0] == 0 and hist.boundary_steps[-1] == hist.steps
    assert ((hist.boundary >= 0) & (hist.boundary <= 1)).all()  # P(class 1)
    frame = hist.boundary_frame(step=hist.steps // 2)
    assert len(frame) == BOUNDARY_RESOLUTION**2 and frame["step"].nunique() == 1
    assert frame["x1"].min() < hist.points["x1"].min() and frame["x2"].max() > hist.points["x2"].max()
    assert set(hist.points["split"]) == {"train", "val"}


def test_other_data_sets_record_no_boundary():
    hist = train(SMALL.replace(dataset="wine"))
    assert hist.boundary is None and hist.boundary_frame().empty and hist.points.empty
    assert hist.n_classes == 3


def test_regression_reports_mse_in_target_stds_and_r2_as_accuracy():
    hist = train(SMALL.replace(dataset="seed", n_samples=100, epochs=20, lr=0.01, norm="none", activation="tanh"))
    assert hist.task == "regression" and hist.accuracy_name == "r2"
    m = hist.metrics
    np.testing.assert_allclose(m["accuracy"], np.maximum(-1.0, 1.0 - m["loss"]))
    assert hist.final("val")["accuracy"] > 0.5  # learns y = 2A + 3B
    assert_all_finite(hist)


def test_progress_goes_from_zero_to_one_and_is_not_called_too_often():
    calls = []
    train(SMALL.replace(epochs=30), progress=calls.append)
    assert calls and calls[-1] == 1.0 and len(calls) <= 110
    assert all(0.0 <= c <= 1.0 for c in calls) and calls == sorted(calls)


def test_memory_footprint_is_reported_in_bytes():
    hist = train(SMALL)
    assert hist.memory_bytes() >= sum(f.memory_usage(deep=True).sum() for f in hist.frames().values())


# ---------------------------------------------------------------- divergence


def test_divergence_stops_cleanly_and_everything_recorded_is_finite():
    config = TrainConfig(activation="relu", init="he", norm="none", optimizer="sgd", lr=10.0, depth=10,
                         epochs=5, records=50)
    hist = train(config)
    assert hist.diverged and hist.diverged_at is not None
    assert hist.diverged_at < hist.steps and hist.steps_done == hist.diverged_at
    assert hist.metrics["step"].max() <= hist.diverged_at
    assert hist.mode_metrics.empty  # the final comparison needs a finite network
    assert_all_finite(hist)


def test_a_run_that_converges_reports_no_divergence():
    hist = train(SMALL)
    assert not hist.diverged and hist.diverged_at is None


# ---------------------------------------------------------------- size


def test_telemetry_rows_do_not_grow_with_the_number_of_samples():
    small = train(SMALL.replace(n_samples=200, batch_size=200))
    large = train(SMALL.replace(n_samples=5000, batch_size=5000))
    for name in History.FRAMES:
        if name not in ("points", "histograms"):  # histograms keep only non-empty bins
            assert len(getattr(small, name)) == len(getattr(large, name)), name
    snapshots = len(large.metrics["step"].unique())
    assert len(large.histograms) <= snapshots * SMALL.depth * len(STAGES) * 30
    assert len(large.points) <= 1000


def test_a_fifty_layer_wide_network_keeps_small_telemetry():
    # 512 wide is the benchmark's business (benchmarks/bench_core.py prints its footprint);
    # 100 units are enough to show the evenly spaced subset of tracked units.
    config = TrainConfig(dataset="wine", depth=50, width=100, batch_size=8, epochs=1, records=100,
                         activation="relu", init="he")
    hist = train(config)
    snapshots = hist.steps + 1  # 142 training samples in batches of 8: 18 steps, 19 snapshots
    assert hist.norm_params["unit"].nunique() == 32  # an evenly spaced subset of the 100 units
    assert len(hist.layer_stats) == snapshots * 50 * len(STAGES)
    assert len(hist.norm_params) == snapshots * 50 * 32
    assert hist.memory_bytes() < 3_000_000
    assert_all_finite(hist)
