"""The "What you see" sentences say what the recorded frames show, on several seeds and configs.

Each test recomputes the fact from the frames itself and checks the sentence's
word (narrowed, widened, smaller, saturated, did not learn ...) against it.
"""

from __future__ import annotations

import re

import pytest

from core.training import TrainConfig, train
from dashboard import observe, what_you_see

QUICK = TrainConfig(records=10)
CONFIGS = {
    "deep_sigmoid_0": QUICK,
    "deep_sigmoid_1": QUICK.replace(seed=1),
    "deep_sigmoid_2": QUICK.replace(seed=2),
    "tiny_tanh_batches": QUICK.replace(depth=4, activation="tanh", batch_size=4, epochs=4),
    "bad_init_relu": QUICK.replace(depth=6, activation="relu", init="normal", init_scale=0.01, epochs=5),
    "regression": QUICK.replace(dataset="seed", n_samples=200, depth=3, activation="tanh", epochs=5),
}
NORMS = ("none", "batch", "layer")


@pytest.fixture(scope="module")
def all_runs() -> dict[str, dict]:
    return {name: {n: train(c.replace(norm=n)) for n in NORMS} for name, c in CONFIGS.items()}


def _width(hist, layer, stage, first: bool) -> float:
    s = hist.layer_stats
    sel = s[(s["layer"] == layer) & (s["stage"] == stage)].sort_values("step")
    row = sel.iloc[0] if first else sel.iloc[-1]
    return float(row["p85"] - row["p15"])


def _sentences_about(lines, norm):
    who = observe.with_label(norm)
    return [s for s in lines if who in s.lower() or who.capitalize() in s]


@pytest.mark.parametrize("name", CONFIGS)
def test_a_band_is_said_to_narrow_or_widen_only_when_its_measured_width_did(all_runs, name):
    runs = all_runs[name]
    depth = CONFIGS[name].depth
    for layer in sorted({1, (depth + 1) // 2, depth}):
        for stage in ("pre_activation", "post_activation"):
            lines = what_you_see.activations(runs, layer=layer, stage=stage, step=0)
            for norm, hist in runs.items():
                band = [s for s in _sentences_about(lines, norm) if f"layer {layer}'s band" in s]
                assert len(band) == 1
                w0, w1 = _width(hist, layer, stage, True), _width(hist, layer, stage, False)
                assert ("narrowed" in band[0]) == (w1 * observe.WIDTH_FACTOR < w0), (band[0], w0, w1)
                assert ("widened" in band[0]) == (w1 > observe.WIDTH_FACTOR * w0), (band[0], w0, w1)


@pytest.mark.parametrize("name", CONFIGS)
def test_the_gradient_is_said_smaller_at_layer_1_only_when_it_is(all_runs, name):
    runs = all_runs[name]
    for step in (0, 10**9):
        lines = what_you_see.activations(runs, layer=1, stage="pre_activation", step=step)
        for norm, hist in runs.items():
            h = observe.health_at(hist, step)
            first, last = float(h["grad_norm"].iloc[0]), float(h["grad_norm"].iloc[-1])
            said = [s for s in _sentences_about(lines, norm) if "gradient reaching layer 1" in s]
            if first <= 0:
                continue
            assert len(said) == 1
            assert ("smaller" in said[0]) == (first <= last), (said[0], first, last)
            number = re.search(r"was ([\d.,e]+)×", said[0]).group(1).replace(",", "")
            ratio = last / first if first <= last else first / last
            assert float(number) == pytest.approx(ratio, rel=0.06)


@pytest.mark.parametrize("name", CONFIGS)
def test_saturation_is_mentioned_only_when_measured(all_runs, name):
    runs = all_runs[name]
    for step in (0, 10**9):
        lines = what_you_see.activations(runs, layer=1, stage="pre_activation", step=step)
        for norm, hist in runs.items():
            measured = float(observe.health_at(hist, step)["saturated"].mean())
            said = any(("saturated" in s or "outputs were 0" in s) for s in _sentences_about(lines, norm))
            assert said == (measured >= observe.SATURATION_SHOWN), (norm, measured)


@pytest.mark.parametrize("name", CONFIGS)
def test_running_statistics_are_mentioned_only_with_batch_norm_on_screen(all_runs, name):
    runs = all_runs[name]
    for shown in (("none", "batch"), ("none", "layer"), ("none",)):
        lines = what_you_see.norm_params({n: runs[n] for n in shown})
        assert any("running statistics" in s for s in lines) == ("batch" in shown)
        assert any("γ ranged" in s for s in lines) == (shown != ("none",))


@pytest.mark.parametrize("name", CONFIGS)
def test_the_boundary_sentence_appears_only_on_a_two_d_classification_set(all_runs, name):
    lines = what_you_see.training(all_runs[name])
    assert any("decision boundary" in s for s in lines) == (CONFIGS[name].dataset != "seed")


@pytest.mark.parametrize("name", CONFIGS)
def test_a_run_is_said_not_to_learn_only_when_its_accuracy_stayed_at_chance(all_runs, name):
    runs = all_runs[name]
    lines = what_you_see.training(runs)
    for norm, hist in runs.items():
        said = [s for s in _sentences_about(lines, norm) if "did not learn" in s]
        final = hist.final("val")
        if said:
            assert hist.task == "classification" and final["accuracy"] < 0.65
        if norm != "none" and observe.outcome(hist) == "chance":
            assert said


def test_layer_norm_in_the_deep_sigmoid_network_is_said_not_to_learn_either_with_the_measured_reason(all_runs):
    for name in ("deep_sigmoid_0", "deep_sigmoid_1", "deep_sigmoid_2"):
        lines = what_you_see.training(all_runs[name])
        said = [s for s in lines if s.startswith("With layer norm the network did not learn either")]
        assert said, lines
        assert "gradient reaching layer 1" in said[0]


def test_layer_norm_is_said_the_same_in_both_modes_and_batch_norm_not(all_runs):
    for name in ("deep_sigmoid_0", "tiny_tanh_batches"):
        lines = what_you_see.norm_params(all_runs[name])
        assert any(s.startswith("With layer norm the layers' outputs were the same") for s in lines)
        assert any(s.startswith("With batch norm the layers' outputs in training mode differed") for s in lines)


@pytest.mark.parametrize("name", CONFIGS)
def test_sentences_are_plain_text(all_runs, name):
    runs = all_runs[name]
    lines = (what_you_see.training(runs) + what_you_see.norm_params(runs)
             + what_you_see.activations(runs, layer=1, stage="post_activation", step=0))
    assert lines
    for s in lines:
        assert not re.search(r"[*_`#\[\]<>|]", s), s
        assert "nan" not in s.lower().split() and "inf" not in s.lower().split()
