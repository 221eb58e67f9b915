"""The dashboard's central claims, as tests: each must hold on at least five seeds.

1. The default configuration -- a 10-layer sigmoid network on the moons -- learns
   with batch norm and stays at a coin flip's loss without it (same seed, data and batches).
2. Batch norm tolerates a learning rate at which the plain network diverges.
3. Weights initialised far too small are rescued by batch norm.
4. Standardizing the article's features makes gradient descent converge in a few steps.
"""

from __future__ import annotations

import math

import pytest

from core.experiment import LandscapeConfig, run_landscape
from core.training import TrainConfig, train

LESSON = TrainConfig()  # the dashboard's first lesson is the default
# Fewer snapshots than the default keep these tests quick; the cadence does not
# change the training (test_training.py::test_the_telemetry_cadence_does_not_change_the_training).
QUICK = LESSON.replace(records=10)
SEEDS = [0, 1, 2, 3, 4]
LOG2 = math.log(2)


def val_accuracy(hist) -> float:
    return hist.final("val")["accuracy"]


def learned(hist) -> bool:
    final = hist.final("val")
    return not hist.diverged and final["accuracy"] >= 0.8 and final["loss"] < 0.5 * LOG2


def at_chance(hist) -> bool:
    """Validation loss within 10 % of ln 2 (a coin flip's), accuracy within 15 points of 50 %."""
    final = hist.final("val")
    return not hist.diverged and abs(final["loss"] - LOG2) <= 0.1 * LOG2 and final["accuracy"] < 0.65


def test_the_default_lesson_is_a_ten_layer_sigmoid_network_on_the_moons():
    assert (LESSON.dataset, LESSON.depth, LESSON.activation) == ("moons", 10, "sigmoid")


@pytest.mark.parametrize("seed", SEEDS)
def test_deep_sigmoid_network_learns_with_batch_norm_and_stays_at_chance_without(seed):
    assert learned(train(QUICK.replace(norm="batch", seed=seed)))
    assert at_chance(train(QUICK.replace(norm="none", seed=seed)))


@pytest.mark.parametrize("seed", SEEDS)
def test_why_without_batch_norm_the_first_layers_get_vanishing_gradients(seed):
    without = train(QUICK.replace(norm="none", seed=seed))
    first = without.layer_health.query("step == 0").set_index("layer")["grad_norm"]
    assert first.loc[1] < 0.01 * first.loc[LESSON.depth]  # sigmoid's slope <= 1/4 per layer


RELU = QUICK.replace(depth=8, activation="relu", init="he", optimizer="sgd")


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_norm_tolerates_a_learning_rate_at_which_the_plain_network_diverges(seed):
    """At the lesson's rate (1.0) on every seed."""
    relu = RELU.replace(lr=1.0, seed=seed)
    plain = train(relu.replace(norm="none"))
    normed = train(relu.replace(norm="batch"))
    assert plain.diverged and plain.diverged_at is not None
    assert learned(normed)


def test_at_three_times_that_rate_batch_norm_never_diverges_and_learns_on_most_seeds():
    """At 3.0 the claim is weaker, and said so: the plain network diverges on every seed and batch norm
    on none, but it reaches 80 % on most seeds, not all (one of 5 stopped at 79 % on one BLAS kernel,
    and 10 of 12 seeds learned there)."""
    relu = RELU.replace(lr=3.0)
    plain = [train(relu.replace(norm="none", seed=s)) for s in SEEDS]
    normed = [train(relu.replace(norm="batch", seed=s)) for s in SEEDS]
    assert all(h.diverged and h.diverged_at is not None for h in plain)
    assert not any(h.diverged for h in normed)
    assert sum(learned(h) for h in normed) >= 4, [val_accuracy(h) for h in normed]


@pytest.mark.parametrize("seed", SEEDS)
def test_weights_initialised_too_small_train_only_with_batch_norm(seed):
    tiny = QUICK.replace(depth=8, activation="relu", init="normal", init_scale=0.01, seed=seed)
    assert at_chance(train(tiny.replace(norm="none")))
    assert learned(train(tiny.replace(norm="batch")))


@pytest.mark.parametrize("data_seed", [42, 0, 1, 2, 3])
def test_standardized_features_converge_in_a_few_steps_raw_ones_need_thousands_times_more(data_seed):
    result = run_landscape(LandscapeConfig(data_seed=data_seed, lr_scale=0.5))
    raw, std = result.runs["raw"], result.runs["standardized"]
    assert std.steps_to_1pct is not None and std.steps_to_1pct <= 20
    assert raw.steps_to_1pct is None or raw.steps_to_1pct >= 1000 * std.steps_to_1pct
    assert raw.condition_number > 1000 * std.condition_number
