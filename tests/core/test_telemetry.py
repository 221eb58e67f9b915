"""core.telemetry: fixed bins, exact quantiles and histograms, saturation, tracked units, all-or-nothing snapshots."""

from __future__ import annotations

import numpy as np
import pytest

from core.network import MLP
from core.telemetry import (
    MAX_TRACKED_UNITS,
    STAGES,
    NonFinite,
    Recorder,
    _histogram,
    bin_edges,
    quantiles,
    saturated_fraction,
    summarize,
    tracked_units,
)


def test_bins_depend_only_on_stage_activation_and_position_never_on_data():
    for act in ("relu", "tanh", "sigmoid", "identity"):
        for pos in ("before", "after"):
            for stage in STAGES:
                edges = bin_edges(stage, act, pos)
                assert np.all(np.diff(edges) > 0) and len(edges) - 1 <= 28
    np.testing.assert_array_equal(bin_edges("post_activation", "sigmoid", "before"), np.linspace(0, 1, 26))
    np.testing.assert_array_equal(bin_edges("pre_activation", "sigmoid", "before"), np.linspace(-3.5, 3.5, 29))
    # with the norm after the activation, its input is the activation's output
    np.testing.assert_array_equal(bin_edges("pre_norm", "tanh", "after"), bin_edges("post_activation", "tanh", "after"))


def test_histogram_counts_every_value_once_with_overflow_on_both_sides():
    edges = np.linspace(0.0, 1.0, 5)  # 4 bins of 0.25
    values = np.array([[-5.0, 0.0, 0.1, 0.25, 0.99, 1.0, 1.0001, 7.0]])
    frac = _histogram(values, edges)[0] * values.shape[1]
    # [underflow, [0, .25), [.25, .5), [.5, .75), [.75, 1], overflow]
    np.testing.assert_array_equal(frac, [1, 2, 1, 0, 2, 2])


def test_quantiles_match_numpy():
    rng = np.random.default_rng(0)
    v = rng.standard_normal((7, 301))
    q = quantiles(np.sort(v, axis=1), (0.15, 0.5, 0.85))
    np.testing.assert_allclose(q, np.quantile(v, (0.15, 0.5, 0.85), axis=1))
    s = summarize(v)
    np.testing.assert_allclose(s["std"], v.std(axis=1))


def test_saturation_is_flat_slope_for_sigmoid_and_tanh_and_zero_output_for_relu():
    sig = 1 / (1 + np.exp(-np.array([-5.0, -1.0, 0.0, 1.0, 5.0])))
    assert saturated_fraction(sig, "sigmoid") == pytest.approx(2 / 5)
    assert saturated_fraction(np.tanh(np.array([-3.0, 0.5, 3.0])), "tanh") == pytest.approx(2 / 3)
    assert saturated_fraction(np.array([0.0, 0.0, 1.0, 2.0]), "relu") == pytest.approx(0.5)
    assert saturated_fraction(np.array([9.0, -9.0]), "identity") == 0.0


def test_tracked_units_are_all_or_an_evenly_spaced_subset():
    np.testing.assert_array_equal(tracked_units(10), np.arange(10))
    wide = tracked_units(512)
    assert len(wide) == MAX_TRACKED_UNITS and wide[0] == 0 and wide[-1] == 511
    assert np.ptp(np.diff(wide)) <= 1


def _recorder_after_forward(x, norm="batch"):
    net = MLP(2, 2, depth=3, width=6, activation="tanh", norm=norm, rng=0)
    net.forward(x)
    rec = Recorder(depth=3, width=6, activation="tanh", norm=norm, norm_position="before")
    return net, rec


def test_a_snapshot_with_a_non_finite_value_raises_and_keeps_nothing():
    x = np.ones((4, 2), np.float32)
    x[0, 0] = np.inf
    net, rec = _recorder_after_forward(x, norm="none")
    with pytest.raises(NonFinite):
        rec.layers_part(0, net.blocks)
    with pytest.raises(NonFinite):
        rec.metrics_part(0, 0.0, {"train": (float("nan"), 0.5)})
    with pytest.raises(NonFinite):
        rec.health_part(0, np.zeros(3), np.array([1.0, np.inf, 1.0]), np.ones(3), np.zeros(3))
    assert all(frame.empty for frame in rec.frames().values())


def test_layer_stats_of_batch_norm_output_are_beta_and_gamma():
    x = np.random.default_rng(1).standard_normal((64, 2)).astype(np.float32)
    net, rec = _recorder_after_forward(x)
    part, _ = rec.layers_part(5, net.blocks)
    rec.commit(part, rec.norm_part(5, net.blocks))
    frames = rec.frames()
    post = frames["layer_stats"].query("stage == 'post_norm'")
    np.testing.assert_allclose(post["mean"], 0.0, atol=1e-5)  # β = 0
    np.testing.assert_allclose(post["std"], 1.0, atol=1e-3)  # γ = 1
    run = frames["running_stats"]
    assert len(run) == 3 * 6 and (run["step"] == 5).all()
    np.testing.assert_allclose(run["running_mean"], 0.1 * run["batch_mean"], rtol=1e-5, atol=1e-7)
