"""Lessons: one click sets up a view, says what to look for, and checks its claim.

A lesson names a view (by its URL path) and the settings it needs, by config
field name; fields it does not name go back to their defaults, so a lesson
always shows the same thing whatever was set before.

Each lesson carries a ``check`` (``dashboard.checks``): a function of what its
view computed (the runs dict of ``dashboard.runs.get_runs`` for the network
views, the ``LandscapeResult`` for the landscape) that returns a
:class:`Verdict`, whether its claim holds there and the measured numbers. The
page calls it on the runs on screen; :func:`verdict` computes them first,
through core only (no Streamlit), for scripts and tests::

    python -m dashboard.lessons --seeds 10
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.experiment import LandscapeConfig, run_landscape
from core.params import specs
from core.sweep import SweepConfig, run_sweep
from core.training import TrainConfig, train, train_many
from dashboard import checks
from dashboard.checks import Verdict
from dashboard.selections import CompareView

__all__ = ["Lesson", "LESSONS", "Verdict", "lesson", "measure", "verdict", "train_config",
           "landscape_config", "compare_view"]


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    view: str  # url_path of the view it opens
    look_for: str  # what to look at; the measured numbers are the verdict's
    settings: dict = field(default_factory=dict)
    check: Callable[[Any], Verdict] = field(default=lambda measured: Verdict(False, ""), compare=False,
                                            repr=False)
    #: the Why view: runs it judges besides the compared ones (the noisy arm), and whether its claim reads
    #: the gradient probe (which measures while training)
    extra: tuple[str, ...] = ()
    probe: bool = False

    @property
    def seed_field(self) -> str:
        """The setting that seeds what the lesson shows (the landscape's data seed, else the run's)."""
        return "data_seed" if self.view == "landscape" else "seed"

    @property
    def seed(self) -> int:
        """The lesson's own seed: its setting, else the config's default."""
        cls = {"landscape": LandscapeConfig, "sweeps": SweepConfig}.get(self.view, TrainConfig)
        return int(self.settings.get(self.seed_field, getattr(cls(), self.seed_field)))


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "valley", "The article: a valley against a bowl", "landscape",
        "Raw features make a long narrow valley; standardized, the loss is a round bowl. Compare the two "
        "condition numbers and the steps each descent needs, at the same fraction of its own largest "
        "stable learning rate. Press play to watch both paths.",
        {"lr_scale": 0.5, "steps": 1000},
        checks.valley,
    ),
    Lesson(
        "deep_sigmoid", "A deep sigmoid network that trains only with batch norm", "training",
        "Ten sigmoid layers on the moons, with and without batch norm: watch whether each validation loss "
        "leaves log 2 (a coin flip's loss) and whether each decision boundary follows the moons. Then open "
        "Activations to see how much gradient reaches the first layers.",
        {"dataset": "moons", "depth": 10, "activation": "sigmoid", "compare": "batch"},
        checks.deep_sigmoid,
    ),
    Lesson(
        "high_lr", "A learning rate only the normalized network survives", "training",
        "Plain gradient descent at learning rate 1 on an 8-layer ReLU network: watch for the banner that "
        "says where a run diverged, and compare the run with batch norm, which normalizes every layer's "
        "inputs whatever scale the weights grow to.",
        {"dataset": "moons", "depth": 8, "activation": "relu", "init": "he", "optimizer": "sgd", "lr": 1.0,
         "compare": "batch"},
        checks.high_lr,
    ),
    Lesson(
        "tiny_batches", "Tiny batches: batch norm depends on the batch, layer norm does not", "gamma-beta",
        "With 4 samples per batch, each batch's mean and variance are rough estimates: compare batch norm's "
        "batch statistics with its running ones, and its outputs in training mode (batch statistics) with "
        "evaluation mode (running statistics). Layer norm normalizes each sample on its own. Then move the "
        "batch size up and see how the measured gap changes.",
        {"dataset": "moons", "depth": 4, "activation": "tanh", "batch_size": 4, "lr": 0.1, "epochs": 10,
         "compare": "both"},
        checks.tiny_batches,
    ),
    Lesson(
        "bad_init", "Bad initialisation rescued by normalization", "activations",
        "Weights drawn with std 0.01: go to step 0 and compare the spread of each layer's values down the "
        "depth, without normalization and with batch norm, then follow both runs to the end of training.",
        {"dataset": "moons", "depth": 8, "activation": "relu", "init": "normal", "init_scale": 0.01,
         "compare": "batch"},
        checks.bad_init,
    ),
    Lesson(
        "train_eval", "Batches of two: training mode sees only signs", "gamma-beta",
        "With two samples per batch, the batch mean lies halfway between them, so batch norm standardizes "
        "every unit to -1 or +1 before γ and β. Look at the batch variance against the running one, and at "
        "the layers' outputs in training mode against evaluation mode, which uses the running statistics.",
        {"dataset": "moons", "depth": 4, "activation": "tanh", "batch_size": 2, "lr": 0.1, "epochs": 5,
         "compare": "batch"},
        checks.train_eval,
    ),
    Lesson(
        "lr_sweep", "Sweep the learning rate: how high can each network go?", "sweeps",
        "Learning rates from 0.003 to 10, each on three seeds, for a deep ReLU network (He initialisation, "
        "SGD with momentum) with and without batch norm. Read the strip: up to which rate does "
        "every seed still learn (L), and where do the runs diverge (D)? The loss curve shows how good the "
        "runs that survived are.",
        {"sweep": "lr", "lr_min": 0.003, "lr_max": 10.0, "seeds": 3, "compare": "batch"},
        checks.lr_sweep,
    ),
    Lesson(
        "depth_sweep", "Sweep the depth: the more layers, the slower — unless normalized", "sweeps",
        "The article's opening claim, measured: sigmoid networks of 2 to 20 hidden layers, three seeds each, "
        "with and without batch norm. Read the strip: from which depth does the plain network stop learning "
        "(N), and does batch norm learn at every depth? The steps chart gives how long each one took to "
        "reach the target validation accuracy.",
        {"sweep": "depth", "depth_min": 2, "depth_max": 20, "activation": "sigmoid", "init": "glorot",
         "compare": "batch"},
        checks.depth_sweep,
    ),
    Lesson(
        "batch_sweep", "Sweep the batch size: batch norm needs a batch, layer norm does not", "sweeps",
        "Four tanh layers on the moons, batches of 2 to 64, ten epochs, three seeds each, with batch norm "
        "and layer norm. Batch norm standardizes each unit with its batch's statistics, which two samples "
        "estimate badly; layer norm uses each sample's own. Compare the two error curves at the smallest "
        "batches: the view says how large the gap is (on this easy data set, a few points).",
        {"sweep": "batch_size", "batch_min": 2, "batch_max": 64, "depth": 4, "activation": "tanh",
         "init": "glorot", "epochs": 10, "lr": 0.03, "compare": "both"},
        checks.batch_sweep,
    ),
    Lesson(
        "covariate_shift", "Internal covariate shift: does batch norm steady the layers' inputs?", "why",
        "Eight ReLU layers on the moons, with and without batch norm. Ioffe and Szegedy's notion: how far "
        "each layer's input mean moves between snapshots, in units of its spread. Then read Santurkar's "
        "notion beside it, the change of a layer's gradient when the layers below update.",
        {"dataset": "moons", "depth": 8, "activation": "relu", "init": "he", "compare": "batch"},
        checks.covariate_shift,
    ),
    Lesson(
        "smoother_landscape", "The landscape along the gradient: smoother with batch norm?", "why",
        "Eight ReLU layers on the moons. At snapshots of training, step along the gradient from a quarter "
        "to four times the learning rate and see how much the gradient changes (gradient predictiveness): "
        "Santurkar et al.'s claim is that batch norm makes it change less; here it does on most seeds, not "
        "all, so try a few. Compare the loss's range too, and the default sigmoid network, where this "
        "network disagrees with the paper.",
        {"dataset": "moons", "depth": 8, "activation": "relu", "init": "he", "compare": "batch"},
        checks.smoother_landscape, probe=True,
    ),
    Lesson(
        "noisy_batch", "Noisy batch norm: unsteady inputs on purpose, and it still trains", "why",
        "After every batch norm, each unit is scaled and shifted by random amounts drawn afresh at every "
        "step, so the layers' input distributions keep moving. Compare how far the inputs move with and "
        "without the noise, and whether the noisy network still learns the moons.",
        {"dataset": "moons", "depth": 8, "activation": "relu", "init": "he", "compare": "batch"},
        checks.noisy_batch, extra=("noisy_batch",),
    ),
    Lesson(
        "scale_invariance", "Scale invariance: batch norm ignores the size of the weights", "why",
        "Ten sigmoid layers at step 0: multiply one layer's weights by a constant and see whether the "
        "network's output moves, without normalization and with each normalization. Then follow lr / ||W||² "
        "over training, the effective learning rate of a layer batch norm follows.",
        {"dataset": "moons", "depth": 10, "activation": "sigmoid", "compare": "batch"},
        checks.scale_invariance,
    ),
    Lesson(
        "signal_propagation", "Signal propagation: what reaches the deep layers at step 0", "why",
        "Ten sigmoid layers at initialisation: follow the squared mean and the variance of the units' "
        "pre-activations down the depth, without normalization and with batch norm. Flat lines mean the "
        "signal keeps its scale from the first layer to the last.",
        {"dataset": "moons", "depth": 10, "activation": "sigmoid", "compare": "batch"},
        checks.signal_propagation,
    ),
)


def lesson(key: str) -> Lesson | None:
    return next((x for x in LESSONS if x.key == key), None)


def _pick(cls, settings: dict, **changes):
    fields = set(specs(cls))
    return dataclasses.replace(cls(), **{k: v for k, v in {**settings, **changes}.items() if k in fields})


def train_config(item: Lesson, seed: int | None = None) -> TrainConfig:
    """The lesson's TrainConfig (its settings, defaults elsewhere), with ``seed`` if given."""
    return _pick(TrainConfig, item.settings, **({} if seed is None else {"seed": int(seed)}))


def compare_view(item: Lesson) -> CompareView:
    return _pick(CompareView, item.settings)


def landscape_config(item: Lesson, seed: int | None = None) -> LandscapeConfig:
    """The lesson's LandscapeConfig, with data seed ``seed`` if given."""
    return _pick(LandscapeConfig, item.settings, **({} if seed is None else {"data_seed": int(seed)}))


def sweep_config(item: Lesson, seed: int | None = None) -> SweepConfig:
    """The lesson's SweepConfig, its seeds starting at ``seed`` if given."""
    return _pick(SweepConfig, item.settings, **({} if seed is None else {"seed": int(seed)}))


def measure(item: Lesson, seed: int | None = None, seeds: int = 1):
    """What the lesson's view computes with ``seed`` (default: the lesson's): the landscape result, a
    sweep's results table (its seeds from ``seed`` on), or the runs dict (normalization -> History) of
    the compared runs; with ``seeds`` > 1, normalization -> one History per seed (``seed``,
    ``seed + 1``, ...), as the view shows them."""
    if item.view == "landscape":
        return run_landscape(landscape_config(item, seed))
    if item.view == "sweeps":
        return run_sweep(sweep_config(item, seed).grid())
    config = train_config(item, seed)
    norms = compare_view(item).norms
    if item.view == "why":
        return _measure_why(item, config, tuple(dict.fromkeys((*norms, *item.extra))), seeds)
    if seeds == 1:
        return {n: train(dataclasses.replace(config, norm=n)) for n in norms}
    todo = [dataclasses.replace(config, norm=n, seed=config.seed + i) for n in norms for i in range(seeds)]
    hists = iter(train_many(todo))
    return {n: tuple(next(hists) for _ in range(seeds)) for n in norms}


def _measure_why(item: Lesson, config: TrainConfig, norms: tuple[str, ...], seeds: int) -> dict:
    """The Why view's runs with what its panels measured on them (``dashboard.whyrun``): normalization ->
    WhyRun, or a tuple of them over seeds; trained with the gradient probe when the lesson reads it."""
    from core.explain import probe_runs
    from dashboard.whyrun import bundle

    todo = [dataclasses.replace(config, norm=n, seed=config.seed + i) for n in norms for i in range(seeds)]
    ics = land = None
    if item.probe:
        hists, ics, land = probe_runs(todo)
    else:
        hists = train_many(todo)
    got = iter(hists)
    runs = {n: tuple(next(got) for _ in range(seeds)) for n in norms}
    return bundle(runs if seeds > 1 else {n: hs[0] for n, hs in runs.items()}, ics, land)


def verdict(key: str, *, seed: int | None = None, seeds: int = 1) -> Verdict:
    """Compute what lesson ``key`` shows with ``seed`` (its other settings unchanged) and judge its claim;
    with ``seeds`` > 1, on the seeds ``seed``, ``seed + 1``, ... (the verdict counts them, as the
    lesson's box does on the view)."""
    item = lesson(key)
    if item is None:
        raise KeyError(f"There is no lesson called {key!r}; the lessons are {[x.key for x in LESSONS]}.")
    return checks.judge(item.check, measure(item, seed, seeds))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="On how many seeds each lesson's claim holds.")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 .. N-1 (and each lesson's own)")
    parser.add_argument("--lesson", action="append", help="only this lesson (repeatable)")
    args = parser.parse_args(argv)
    for item in LESSONS:
        if args.lesson and item.key not in args.lesson:
            continue
        seeds = list(range(args.seeds))
        results = {s: verdict(item.key, seed=s) for s in seeds}
        own = results[item.seed] if item.seed in results else verdict(item.key, seed=item.seed)
        held = sum(v.holds for v in results.values())
        print(f"{item.key}: holds on {held} of {len(seeds)} seeds (0..{args.seeds - 1}); "
              f"on its own seed {item.seed}: {'holds' if own.holds else 'does not hold'}")
        if item.seed not in results:
            print(f"  seed {item.seed}: {own.text}")
        for s, v in results.items():
            print(f"  seed {s}: {v.text}")
        print(flush=True)


if __name__ == "__main__":
    main()
