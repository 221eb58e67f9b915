"""core.explain: scale invariance, the effective learning rate and signal propagation, over seeds."""

from __future__ import annotations

import numpy as np
import pytest

from core import explain
from core.training import TrainConfig, train

SEEDS = range(4)
NET = dict(depth=5, width=32, activation="relu", init="he")


@pytest.mark.parametrize("norm", ["batch", "layer", "group", "rms"])
def test_a_normalization_right_after_the_weights_ignores_their_scale(norm):
    for seed in SEEDS:
        inv = explain.scale_invariance(TrainConfig(norm=norm, seed=seed, **NET), factors=(2.0, 10.0))
        assert inv["change"].max() < 0.01, (norm, seed, inv["change"].max())


def test_without_normalization_scaling_a_layer_changes_the_output():
    for seed in SEEDS:
        inv = explain.scale_invariance(TrainConfig(norm="none", seed=seed, **NET), factors=(2.0, 10.0))
        assert inv.groupby("layer")["change"].min().min() > 0.1


def test_after_a_sigmoid_the_normalization_no_longer_removes_the_scale():
    # sigmoid(c z) is not c sigmoid(z): a norm after the activation cannot divide c away
    for seed in SEEDS:
        inv = explain.scale_invariance(
            TrainConfig(norm="batch", norm_position="after", activation="sigmoid", depth=5, seed=seed),
            factors=(10.0,))
        assert inv["change"].max() > 0.05


def test_after_relu_batch_norm_still_removes_the_scale():
    # relu(c z) = c relu(z) for c > 0, so batch norm after it divides c away
    for seed in SEEDS:
        inv = explain.scale_invariance(TrainConfig(norm="batch", norm_position="after", seed=seed, **NET),
                                       factors=(2.0, 10.0))
        assert inv["change"].max() < 0.01


def test_the_probe_restores_the_weights_exactly():
    c = TrainConfig(norm="batch", **NET)
    net, _, xb = explain.initial_network(c)
    before = net.flat_params.copy()
    explain.scale_invariance(c)  # its own network: and a second network built from c is the same
    again, _, xb2 = explain.initial_network(c)
    np.testing.assert_array_equal(again.flat_params, before)
    np.testing.assert_array_equal(xb, xb2)


def test_the_initial_network_is_the_runs_own_step_zero():
    c = TrainConfig(norm="batch", epochs=1, **NET)
    net, _, _ = explain.initial_network(c)
    h = train(c)
    at0 = h.layer_health[h.layer_health["step"] == 0].sort_values("layer")["weight_norm"].to_numpy()
    ours = [float(np.linalg.norm(b.dense.W)) for b in net.blocks]
    np.testing.assert_allclose(ours, at0, rtol=1e-5)


def test_effective_lr_is_lr_over_the_squared_weight_norm():
    h = train(TrainConfig(norm="batch", epochs=2, lr=0.05, **NET))
    eff = explain.effective_lr(h)
    np.testing.assert_allclose(eff["effective_lr"], 0.05 / eff["weight_norm"] ** 2)
    assert len(eff) == len(h.layer_health)


def test_batch_norm_keeps_the_signal_at_mean_zero_and_unit_variance_down_the_depth():
    configs = [TrainConfig(norm=n, depth=10, seed=s, **{k: v for k, v in NET.items() if k != "depth"})
               for n in ("none", "batch") for s in SEEDS]
    sp = explain.signal_propagation(configs)
    bn, none = sp[sp["norm"] == "batch"], sp[sp["norm"] == "none"]
    assert len(bn) == len(none) == 10 * len(SEEDS)
    np.testing.assert_allclose(bn["mean_var"], 1.0, atol=1e-3)
    assert bn["sq_mean"].max() < 1e-6
    # without normalization the squared mean of deep layers is far from 0, on every seed
    deep = none[none["layer"] >= 5].groupby("seed")["sq_mean"].median()
    assert (deep > 1e-3).all()
