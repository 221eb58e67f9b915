"""The eval-mode pass, ``MLP.forward(x, training=False)``: what the telemetry's validation probe and
decision boundary use (it replaced ``MLP.predict``, a second forward pass with batch norm folded in)."""

from __future__ import annotations

import numpy as np
import pytest

from core.nn import MLP


def _trained_looking(norm: str, position: str, dtype, runs=None) -> MLP:
    """A network whose weights, biases, γ, β and running statistics are all away from their initial values."""
    rng = np.random.default_rng(3)
    net = MLP(3, 4, depth=3, width=6, activation="tanh", norm=norm, norm_position=position, groups=2,
              rng=1 if runs is None else list(range(runs)), runs=runs, dtype=dtype)
    for _, p, _ in net.params():
        p[...] = rng.standard_normal(p.shape)
    for block in net.blocks:
        if norm == "batch":
            block.norm.running_mean[...] = rng.standard_normal(block.norm.running_mean.shape)
            block.norm.running_var[...] = rng.uniform(0.5, 2.0, block.norm.running_var.shape)
    return net


@pytest.mark.parametrize("position", ["before", "after"])
@pytest.mark.parametrize("norm", ["none", "batch", "layer", "group", "rms"])
def test_eval_pass_rows_are_independent_and_it_changes_no_parameter_or_statistic(norm, position):
    net = _trained_looking(norm, position, np.float64)
    x = np.random.default_rng(6).standard_normal((11, 3))
    state = net.state_dict()
    whole = net.forward(x, training=False)
    chunks = np.concatenate([net.forward(x[i : i + 4], training=False) for i in range(0, 11, 4)])
    np.testing.assert_allclose(chunks, whole, rtol=1e-13, atol=1e-13)
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)


def test_eval_mode_batch_norm_is_the_affine_map_folded_into_the_dense_layer_before_it():
    net = _trained_looking("batch", "before", np.float64)
    x = np.random.default_rng(4).standard_normal((10, 3))
    h = x
    for block in net.blocks:  # (x @ W + b - running_mean) * s + beta, s = gamma / sqrt(running_var + eps)
        bn = block.norm
        s = bn.gamma / np.sqrt(bn.running_var + bn.eps)
        h = np.tanh(h @ (block.dense.W * s) + (block.dense.b - bn.running_mean) * s + bn.beta)
    folded = h @ net.output.W + net.output.b
    np.testing.assert_allclose(net.forward(x, training=False), folded, rtol=1e-12, atol=1e-12)


def test_eval_mode_differs_from_training_mode_only_through_batch_norm():
    x = np.random.default_rng(5).standard_normal((16, 3))
    for norm in ("none", "layer", "group", "rms"):
        net = _trained_looking(norm, "before", np.float64)
        np.testing.assert_allclose(net.forward(x, training=False), net.forward(x, training=True), rtol=1e-13)
    net = _trained_looking("batch", "before", np.float64)
    assert not np.allclose(net.forward(x, training=False), net.forward(x, training=True))


def test_a_stacked_eval_pass_gives_each_run_its_own_output():
    stacked = _trained_looking("batch", "after", np.float64, runs=2)
    x = np.random.default_rng(7).standard_normal((2, 5, 3))
    out = stacked.forward(x, training=False)
    assert out.shape == (2, 5, 4)
    assert not np.allclose(out[0], out[1])  # different weights, different outputs
    # the same inputs in both runs: a run's output depends on its own parameters only
    same = stacked.forward(np.stack([x[0], x[0]]), training=False)
    np.testing.assert_array_equal(same[0], out[0])


def test_the_network_rejects_inputs_of_the_wrong_shape():
    net = MLP(3, 2, depth=1, width=4, rng=0)
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        net.forward(np.ones((2, 4)), training=False)
    stacked = MLP(3, 2, depth=1, width=4, rng=[0, 1], runs=2)
    with pytest.raises(ValueError, match=r"\(2, n, 3\)"):
        stacked.forward(np.ones((3, 5, 3)))


@pytest.mark.parametrize("norm", ["batch", "group"])
def test_a_one_run_network_evaluates_a_stack_of_chunks_like_the_whole_batch(norm):
    """What the telemetry's eval pass does: chunks of rows as a stack, with the parameters shared."""
    net = _trained_looking(norm, "before", np.float64)
    x = np.random.default_rng(8).standard_normal((12, 3))
    whole = net.forward(x, training=False)
    stacked = net.forward(x.reshape(3, 4, 3), training=False)
    np.testing.assert_allclose(stacked.reshape(12, 4), whole, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("norm", ["none", "batch", "layer", "group", "rms"])
def test_a_smaller_stack_loaded_with_some_runs_gives_those_runs_eval_outputs(norm):
    """``MLP.load_runs``: the decision boundary's grid goes through a copy of just the runs that draw it."""
    net = _trained_looking(norm, "before", np.float64, runs=4)
    x = np.random.default_rng(7).standard_normal((4, 9, 3))
    whole = net.forward(x, training=False)
    some = MLP(3, 4, depth=3, width=6, activation="tanh", norm=norm, groups=2, rng=[0, 0], runs=2, dtype=np.float64)
    some.load_runs(net, [3, 1])
    np.testing.assert_allclose(some.forward(x[[3, 1]], training=False), whole[[3, 1]], rtol=1e-12, atol=1e-12)
