"""View settings of the network pages (which layer, which step): URL-serializable.

They only choose what to draw from recorded runs; changing them never retrains.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.params import param, validate
from core.telemetry import STAGES

LAST = 10**7  # "the last recorded step" / "the deepest layer", clamped on use
MAX_SEEDS = 10  # seeds a view can train each run with


@dataclass(frozen=True)
class ActivationsView:
    layer: int = param(50, "int", low=1, high=50,
                       help="Which hidden layer's distribution to follow over training (1 = first).")
    stage: str = param("pre_activation", "choice", choices=STAGES,
                       help="Where in the layer: before/after the normalization, before/after the activation.")
    hist_step: int = param(LAST, "int", low=0, high=LAST, help="The training step the histograms show.")

    def validate(self) -> None:
        validate(self)


#: the smoothing weights a view offers ("auto": ``TINY_BATCH_SMOOTHING`` for tiny batches, else off)
SMOOTHING = ("auto", "0", "0.5", "0.8", "0.9", "0.95")
TINY_BATCH = 8  # batches up to this size give curves too noisy to compare unsmoothed
TINY_BATCH_SMOOTHING = 0.8
#: every weight a smoothing choice can give, ascending (0: none)
WEIGHTS = tuple(sorted({0.0, TINY_BATCH_SMOOTHING, *(float(c) for c in SMOOTHING if c != "auto")}))


@dataclass(frozen=True)
class TrainingView:
    train_step: int = param(LAST, "int", low=0, high=LAST,
                            help="Show training up to this step (curves and decision boundary).")

    def validate(self) -> None:
        validate(self)


@dataclass(frozen=True)
class CurvesView:
    """How the network views draw their curves over training (shared by them: one setting)."""

    smooth: str = param("auto", "choice", choices=SMOOTHING,
                        help="Smooth the curves with TensorBoard's debiased moving average of this weight (0: "
                             "raw); the raw curves stay faint behind. Auto: 0.8 for batches of 8 or fewer "
                             "(their curves are too noisy to compare), else off.")
    log_y: bool = param(True, "bool", help="Draw the loss on a log axis (losses span decades); off: linear.")

    def validate(self) -> None:
        validate(self)

    def smoothing(self, batch_size: int) -> float:
        """The smoothing weight the curves are drawn with, for runs trained on ``batch_size``."""
        if self.smooth == "auto":
            return TINY_BATCH_SMOOTHING if batch_size <= TINY_BATCH else 0.0
        return float(self.smooth)


@dataclass(frozen=True)
class LandscapeView:
    """How the Loss landscape view draws its loss against step (never recomputed for it)."""

    loss_log: bool = param(True, "bool", help="Draw the loss against step on a log axis (it falls by decades "
                                               "towards the optimum); off: linear.")

    def validate(self) -> None:
        validate(self)


@dataclass(frozen=True)
class NormParamsView:
    norm_layer: int = param(1, "int", low=1, high=50, help="Which normalization layer to show.")

    def validate(self) -> None:
        validate(self)


@dataclass(frozen=True)
class CompareView:
    """Which runs the views compare against the plain network, and over how many seeds."""

    compare: str = param("batch", "choice", choices=("batch", "layer", "both", "group", "rms"),
                         help="Which normalized run(s) to put beside the network without normalization.")
    seeds: int = param(3, "int", low=1, high=MAX_SEEDS,
                       help="How many seeds each run is trained with (the seed, the seed + 1, ...): curves show "
                            "the median over seeds with a band from the lowest to the highest.")

    def validate(self) -> None:
        validate(self)

    @property
    def norms(self) -> tuple[str, ...]:
        return {"batch": ("none", "batch"), "layer": ("none", "layer"), "both": ("none", "batch", "layer"),
                "group": ("none", "group"), "rms": ("none", "rms")}[self.compare]

    def seed_list(self, seed: int) -> tuple[int, ...]:
        """The seeds each run is trained with: ``seed``, ``seed + 1``, ... (``seeds`` of them)."""
        return tuple(range(seed, seed + self.seeds))


@dataclass(frozen=True)
class SweepsView:
    """How the Sweeps view draws its results (never re-runs the grid)."""

    log_y: bool = param(True, "bool", help="Draw the final loss on a log axis (over a sweep it spans decades, "
                                            "from learned to nearly diverged); off: linear.")

    def validate(self) -> None:
        validate(self)

