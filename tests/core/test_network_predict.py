"""MLP.predict: the eval-mode forward pass, with batch norm folded into the Dense layer before it."""

from __future__ import annotations

import numpy as np
import pytest

from core.network import MLP


def _trained_looking(norm: str, position: str, dtype) -> MLP:
    """A network whose biases, γ, β and running statistics are all away from their initial values."""
    rng = np.random.default_rng(3)
    net = MLP(
        3, 4, depth=3, width=6, activation="tanh", norm=norm, norm_position=position, rng=1, dtype=dtype
    )
    net.flat_params[...] = rng.standard_normal(net.flat_params.size)
    for block in net.blocks:
        if norm == "batch":
            block.norm.running_mean[...] = rng.standard_normal(6)
            block.norm.running_var[...] = rng.uniform(0.5, 2.0, 6)
    return net


@pytest.mark.parametrize("position", ["before", "after"])
@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
def test_predict_equals_the_eval_mode_forward_pass_up_to_rounding(norm, position):
    net = _trained_looking(norm, position, np.float64)
    x = np.random.default_rng(4).standard_normal((10, 3))
    np.testing.assert_allclose(net.predict(x), net.forward(x, training=False), rtol=1e-12, atol=1e-12)


def test_predict_in_float32_stays_within_float32_rounding_of_the_forward_pass():
    net = _trained_looking("batch", "before", np.float32)
    x = np.random.default_rng(5).standard_normal((50, 3)).astype(np.float32)
    np.testing.assert_allclose(net.predict(x), net.forward(x, training=False), rtol=1e-5, atol=1e-5)


def test_predict_in_chunks_gives_the_same_rows_and_changes_no_parameter_or_statistic():
    net = _trained_looking("batch", "before", np.float64)
    x = np.random.default_rng(6).standard_normal((11, 3))
    state = net.state_dict()
    whole = net.predict(x)
    np.testing.assert_allclose(net.predict(x, rows=4), whole, rtol=1e-14, atol=1e-14)
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)


def test_predict_leaves_the_blocks_recorded_values_of_the_last_forward_pass():
    net = _trained_looking("batch", "before", np.float64)
    x = np.random.default_rng(7).standard_normal((8, 3))
    net.forward(x)
    recorded = [(b.pre_norm, b.post_norm, b.post_activation) for b in net.blocks]
    net.predict(np.ones((5, 3)))
    for block, arrays in zip(net.blocks, recorded, strict=True):
        now = (block.pre_norm, block.post_norm, block.post_activation)
        assert all(a is b for a, b in zip(now, arrays, strict=True))


def test_predict_rejects_inputs_of_the_wrong_shape():
    net = MLP(3, 2, depth=1, width=4, rng=0)
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        net.predict(np.ones((2, 4)))
