"""Noisy batch norm (Santurkar et al. 2018, section 2.1): batch norm, then noise with a random
non-zero mean and non-unit scale per unit, redrawn every training step; none in evaluation mode.
Its gradients are checked with the other layers' (tests/core/test_layers_gradcheck.py)."""

from __future__ import annotations

import numpy as np
import pytest

from core.nn import BatchNorm1d, NoisyBatchNorm1d
from core.training import TrainConfig, train, train_many

SMALL = TrainConfig(depth=3, width=8, epochs=2, n_samples=200, records=4)


def _pair(runs=None):
    x = np.random.default_rng(0).standard_normal((runs, 16, 5) if runs else (16, 5)) * 3 + 2
    rng = np.random.default_rng(5)
    noisy = NoisyBatchNorm1d(5, dtype=np.float64, runs=runs, rng=rng if runs is None else [rng] * runs)
    return x, BatchNorm1d(5, dtype=np.float64, runs=runs), noisy


@pytest.mark.parametrize("runs", [None, 3], ids=["n-by-d", "runs-n-d"])
def test_training_output_is_batch_norm_scaled_and_shifted_per_unit_by_the_steps_noise(runs):
    x, bn, noisy = _pair(runs)
    noisy.resample()
    s, m = noisy.noise_scale, noisy.noise_shift
    assert np.all((s >= 0.5) & (s <= 1.5)) and np.all(np.abs(m) <= 1.0)
    np.testing.assert_allclose(noisy.forward(x), bn.forward(x) * s + m)
    out = noisy.forward(x)  # the same step: the same noise, the same output
    np.testing.assert_array_equal(out, noisy.forward(x))
    # per unit, the batch's mean is m and its spread s (times gamma = 1): the distribution moved
    np.testing.assert_allclose(out.mean(axis=-2, keepdims=True), m.reshape(out.shape[:-2] + (1, 5)), atol=1e-12)


def test_each_step_draws_new_noise_and_evaluation_mode_adds_none():
    x, bn, noisy = _pair()
    noisy.resample()
    first = noisy.forward(x)
    noisy.resample()
    assert not np.allclose(first, noisy.forward(x))
    bn.forward(x), bn.forward(x)  # the same running statistics (two training passes each)
    np.testing.assert_allclose(noisy.forward(x, training=False), bn.forward(x, training=False))


def test_a_noisy_run_is_reproducible_and_its_noise_is_a_stream_of_its_own():
    c = SMALL.replace(norm="noisy_batch", seed=3)
    a, b = train(c), train(c)
    np.testing.assert_array_equal(a.metrics["loss"].to_numpy(), b.metrics["loss"].to_numpy())
    alone = a.metrics["loss"].to_numpy()
    stacked = train_many([c, c.replace(seed=4)])[0].metrics["loss"].to_numpy()
    np.testing.assert_allclose(stacked, alone, rtol=1e-5)  # a run's noise is the same in a stack
    # the split, the initial weights and the batches are the batch-norm run's: the same step-0
    # statistics entering the first norm, where no noise has acted yet
    plain = train(c.replace(norm="batch"))
    s_noisy = a.layer_stats.query("step == 0 and layer == 1 and stage == 'pre_norm'")
    s_bn = plain.layer_stats.query("step == 0 and layer == 1 and stage == 'pre_norm'")
    assert len(s_noisy) and np.allclose(s_noisy["mean"], s_bn["mean"], rtol=1e-6)
    assert not np.allclose(a.metrics["loss"].to_numpy()[-3:], plain.metrics["loss"].to_numpy()[-3:])


def test_noisy_batch_norm_is_a_norm_choice_and_needs_its_generator():
    TrainConfig(norm="noisy_batch").validate()
    from core.nn import MLP
    with pytest.raises(ValueError, match="noise_rng"):
        MLP(2, 2, norm="noisy_batch", rng=0)


def test_a_run_without_a_noise_generator_is_plain_batch_norm_in_a_stack_of_noisy_ones():
    """rng None for a run: its noise stays s = 1, m = 0 at every step, so its output is batch norm's
    exactly, while the other runs' noise is drawn as it is without it."""
    x = np.random.default_rng(0).standard_normal((3, 16, 5))
    mixed = NoisyBatchNorm1d(5, dtype=np.float64, runs=3, rng=[np.random.default_rng(1), None, np.random.default_rng(2)])
    noisy = NoisyBatchNorm1d(5, dtype=np.float64, runs=3, rng=[np.random.default_rng(s) for s in (1, 7, 2)])
    bn = BatchNorm1d(5, dtype=np.float64, runs=3)
    for _ in range(3):
        mixed.resample()
        noisy.resample()
        out, ref, plain = mixed.forward(x), noisy.forward(x), bn.forward(x)
        np.testing.assert_array_equal(out[1], plain[1])
        np.testing.assert_array_equal(out[[0, 2]], ref[[0, 2]])
        assert not np.allclose(out[0], plain[0])
        g = np.random.default_rng(3).standard_normal(x.shape)
        np.testing.assert_array_equal(mixed.backward(g)[1], bn.backward(g)[1])
