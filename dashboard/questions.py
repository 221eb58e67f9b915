"""Predict, then reveal: each lesson's one question, answered by the measurement.

A :class:`Question` has a prompt and two to four answers; its ``pick`` reads what the lesson's view
computed (the same object the lesson's check reads: the runs dict or the landscape result) and
returns the index of the answer the measurement gives (None when it cannot tell, e.g. a run
diverged before the thing asked about was recorded). No answer is marked right in the text: the
right one is whatever ``pick`` measures on the runs on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dashboard import checks
from dashboard import observe as ob
from dashboard.checks import LR_RATIO, MODE_GAP, PM1, PM1_SHARE, SLOWER_FACTOR

__all__ = ["Question", "QUESTIONS", "question"]


@dataclass(frozen=True)
class Question:
    prompt: str
    answers: tuple[str, ...]
    pick: Callable[[Any], int | None] = field(compare=False, repr=False, default=lambda measured: None)


def _two_runs(first: bool, second: bool) -> int:
    """Answers "only the first", "only the second", "both", "neither" -> the index of what happened."""
    return {(True, False): 0, (False, True): 1, (True, True): 2, (False, False): 3}[(bool(first), bool(second))]


def _valley(result) -> int | None:
    raw, std = result.runs["raw"].steps_to_1pct, result.runs["standardized"].steps_to_1pct
    if std is None:
        return None
    ratio = float("inf") if raw is None else raw / max(std, 1)
    return 0 if ratio < 3 else 1 if ratio < SLOWER_FACTOR else 2


def _learned(runs: dict) -> int | None:
    if not {"none", "batch"} <= runs.keys():
        return None
    return _two_runs(ob.outcome(runs["batch"]) == "learned", ob.outcome(runs["none"]) == "learned")


def _diverged(runs: dict) -> int | None:
    if not {"none", "batch"} <= runs.keys():
        return None
    return _two_runs(runs["none"].diverged, runs["batch"].diverged)


def _modes_differ(runs: dict) -> int | None:
    if not {"batch", "layer"} <= runs.keys():
        return None
    gap_bn, gap_ln = ob.mode_gap(runs["batch"]), ob.mode_gap(runs["layer"])
    if gap_bn is None or gap_ln is None:
        return None
    return _two_runs(gap_bn >= MODE_GAP, gap_ln >= MODE_GAP)


def _shrinks(runs: dict) -> int | None:
    if "none" not in runs:
        return None
    spread = ob.layer_stat(runs["none"], 0, "pre_activation")
    if len(spread) < 2:
        return None
    ratio = spread.iloc[-1] / max(spread.iloc[0], 1e-300)
    return 0 if ratio > 0.1 else 1 if ratio > 1e-3 else 2


def _signs(runs: dict) -> int | None:
    if "batch" not in runs:
        return None
    mags = ob.normalized_magnitude(runs["batch"])
    if not len(mags):
        return None
    return 1 if float((mags >= PM1).mean()) >= PM1_SHARE else 0


def _sweep_best(results, axis: str) -> tuple | None:
    """(no normalization's, the other norm's) largest value learned on every seed, and the sweep's
    values; None when ``results`` is not such a sweep."""
    from core.sweep import headline

    norms = tuple(dict.fromkeys(results["norm"])) if hasattr(results, "columns") and len(results) else ()
    if "none" not in norms or len(norms) < 2 or str(results["axis"].iloc[0]) != axis:
        return None
    best = headline(results)
    return best["none"], best[next(n for n in norms if n != "none")], sorted(results["value"].unique())


def _lr_sweep(results) -> int | None:
    got = _sweep_best(results, "lr")
    if got is None or got[1] is None:
        return None
    plain, normed, _ = got
    if plain is None or normed / plain >= LR_RATIO * (1 - 1e-9):
        return 0
    return 1 if normed >= plain else 2


def _depth_sweep(results) -> int | None:
    got = _sweep_best(results, "depth")
    if got is None:
        return None
    plain, _, values = got
    return 0 if plain is not None and plain >= max(values) else 1


def _batch_sweep(results) -> int | None:
    from core.sweep import summary

    if not hasattr(results, "columns") or not {"batch", "layer"} <= set(results["norm"]):
        return None
    summ = summary(results)
    small = summ[summ["value"] == summ["value"].min()].set_index("norm")
    bn, ln = 1 - small.loc["batch", "acc_median"], 1 - small.loc["layer", "acc_median"]
    if not (bn == bn and ln == ln):
        return None
    return 0 if bn > ln else 1


def _why_pair(runs: dict, needed=("none", "batch")) -> bool:
    """Whether ``runs`` holds the Why view's measurements (WhyRuns) of ``needed``."""
    return isinstance(runs, dict) and all(hasattr(runs.get(n), "history") for n in needed)


def _less(a: float, b: float) -> int | None:
    """0 when a < b, 1 when a >= b, None when either was not measured."""
    return None if not (a == a and b == b) else 0 if a < b else 1


def _drift(runs: dict) -> int | None:
    if not _why_pair(runs):
        return None
    return _less(checks.input_drift(runs["batch"]), checks.input_drift(runs["none"]))


def _predictive(runs: dict) -> int | None:
    if not _why_pair(runs):
        return None
    return _less(checks.landscape_change(runs["batch"]), checks.landscape_change(runs["none"]))


def _noisy_learns(runs: dict) -> int | None:
    if not _why_pair(runs, ("noisy_batch",)):
        return None
    return {"learned": 0, "partial": 1}.get(ob.outcome(runs["noisy_batch"].history), 2)


def _invariant(runs: dict) -> int | None:
    from dashboard.whycharts import INVARIANT

    if not _why_pair(runs):
        return None
    return _two_runs(checks.scaled_change(runs["batch"], 10.0) < INVARIANT, checks.scaled_change(runs["none"], 10.0) < INVARIANT)


def _signal(runs: dict) -> int | None:
    from dashboard.whycharts import signal_drift

    if not _why_pair(runs, ("none",)):
        return None
    d = signal_drift(runs["none"].config)
    return None if d != d else 0 if d < 10 else 1 if d < checks.DRIFTED else 2


BOTH = ("Only the one with batch norm", "Only the one without normalization", "Both", "Neither")

QUESTIONS: dict[str, Question] = {
    "valley": Question(
        "At the same fraction of each surface's largest stable rate, how many times as many steps will "
        "descent on the raw features need as on the standardized ones, to get within 1 % of the optimum?",
        ("Fewer than 3 times as many", "3 to 100 times as many", "100 times as many or more"), _valley),
    "deep_sigmoid": Question(
        "Ten sigmoid layers on the moons: which network will learn them (validation loss well below a coin "
        "flip's)?", BOTH, _learned),
    "high_lr": Question(
        "Learning rate 1 on an 8-layer ReLU network: which run will diverge?",
        ("Only the one without normalization", "Only the one with batch norm", "Both", "Neither"), _diverged),
    "tiny_batches": Question(
        "Batches of 4: whose layer outputs will differ between training mode and evaluation mode (by a "
        "tenth of their spread or more)?",
        ("Batch norm's only", "Layer norm's only", "Both", "Neither"), _modes_differ),
    "bad_init": Question(
        "Weights drawn with std 0.01, at step 0, without normalization: how spread will the deepest "
        "layer's inputs be, next to the first layer's?",
        ("About as spread (within 10 times)", "10 to 1,000 times narrower", "1,000 times narrower or more"),
        _shrinks),
    "train_eval": Question(
        "Two samples per batch, training mode: which values will batch norm's normalized units take, "
        "before γ and β?",
        ("Spread-out values, like a bell curve", "Only −1 and +1"), _signs),
    "lr_sweep": Question(
        "Eight ReLU layers, a sweep of learning rates over seeds: up to which rate will each network learn "
        "on every seed?",
        ("Batch norm up to a rate at least 3 times higher", "Batch norm higher, but less than 3 times",
         "No normalization as high or higher"), _lr_sweep),
    "depth_sweep": Question(
        "Sigmoid networks from 2 to 20 layers: how deep will the one without normalization still learn on "
        "every seed?", ("At every depth of the sweep", "Only the shallower ones"), _depth_sweep),
    "batch_sweep": Question(
        "Batches of 2: which normalization will have the higher validation error?",
        ("Batch norm", "Layer norm"), _batch_sweep),
    "covariate_shift": Question(
        "Eight ReLU layers: whose layer inputs will move less between snapshots of training (the mean, in "
        "units of its spread)?", ("With batch norm", "Without normalization"), _drift),
    "smoother_landscape": Question(
        "Eight ReLU layers: stepping along the gradient, whose gradient will change less (stay more "
        "predictive)?", ("With batch norm", "Without normalization"), _predictive),
    "noisy_batch": Question(
        "Random noise after every batch norm, drawn afresh at every step, keeps the layers' input "
        "distributions moving. Will the noisy network still learn the moons?",
        ("Yes, about as a network that learns", "Only partly", "No"), _noisy_learns),
    "scale_invariance": Question(
        "Multiply one layer's weights by 10 at step 0: whose output will stay the same (within 1 %)?",
        BOTH, _invariant),
    "signal_propagation": Question(
        "Ten sigmoid layers at step 0, no normalization: how much will the units' pre-activation variance "
        "change down the depth (largest layer over smallest)?",
        ("Less than 10 times", "10 to 1,000 times", "1,000 times or more"), _signal),
}


def question(key: str) -> Question | None:
    return QUESTIONS.get(key)
