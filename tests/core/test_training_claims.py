"""The dashboard's claims, as tests: what a student is told on the Training page must be true.

1. The default configuration -- a 10-layer sigmoid network on the moons -- learns
   with batch norm and barely learns without it (same seed, data and batches).
2. Batch norm tolerates a learning rate at which the plain network diverges.
"""

from __future__ import annotations

import pytest

from core.training import TrainConfig, train

LESSON = TrainConfig()  # the dashboard's first lesson is the default
# Fewer snapshots than the default keep these tests quick; the cadence does not
# change the training (test_training.py::test_the_telemetry_cadence_does_not_change_the_training).
QUICK = LESSON.replace(records=10)


def val_accuracy(hist) -> float:
    return hist.final("val")["accuracy"]


def test_the_default_lesson_is_a_ten_layer_sigmoid_network_on_the_moons():
    assert (LESSON.dataset, LESSON.depth, LESSON.activation) == ("moons", 10, "sigmoid")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deep_sigmoid_network_learns_with_batch_norm_and_barely_without(seed):
    with_bn = train(QUICK.replace(norm="batch", seed=seed))
    without = train(QUICK.replace(norm="none", seed=seed))
    assert not with_bn.diverged and not without.diverged
    assert val_accuracy(with_bn) > 0.85
    assert val_accuracy(without) < 0.7  # about chance: two balanced classes
    # the plain network ends no better than a coin flip's loss, ln 2 = 0.693 (it only
    # learns the class balance); batch norm's falls far below it
    assert without.final("val")["loss"] > 0.65
    assert with_bn.final("val")["loss"] < 0.35


def test_why_without_batch_norm_the_first_layers_get_vanishing_gradients():
    without = train(QUICK.replace(norm="none"))
    first = without.layer_health.query("step == 0").set_index("layer")["grad_norm"]
    assert first.loc[1] < 0.01 * first.loc[LESSON.depth]  # sigmoid's slope <= 1/4 per layer


@pytest.mark.parametrize("lr", [1.0, 3.0])
def test_batch_norm_tolerates_a_learning_rate_at_which_the_plain_network_diverges(lr):
    relu = QUICK.replace(activation="relu", init="he", optimizer="sgd", lr=lr)
    plain = train(relu.replace(norm="none"))
    normed = train(relu.replace(norm="batch"))
    assert plain.diverged and plain.diverged_at is not None
    assert not normed.diverged
    assert val_accuracy(normed) > 0.85
