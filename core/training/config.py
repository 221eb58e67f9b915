"""The configuration of a training run: every field declared once, in ``core.params``' table."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from core import params as _params
from core.data import DATASETS, is_registered
from core.nn import ACTIVATIONS, INITS, NORM_POSITIONS, NORMS, OPTIMIZERS
from core.params import param

__all__ = ["TrainConfig", "STACKED_FIELDS", "stack_key"]

#: Fields in which the runs of one stack may differ (``train_many``): everything else -- the data
#: set and its size, the architecture, the schedule -- is shared, so the runs' arrays line up.
STACKED_FIELDS = ("seed", "lr", "momentum", "weight_decay", "init", "init_scale")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (hashable, printable, URL-serializable).

    The defaults are the dashboard's first lesson: a 10-layer sigmoid network
    on the moons that trains with batch norm and barely moves without it, in a
    fraction of a second. Every field is declared in ``core.params``' table;
    call :meth:`validate` at the edge (nothing is checked on construction).
    """

    dataset: str = param("moons", "choice", choices=DATASETS, unlisted=is_registered,
                         unlisted_text="an uploaded file's name",
                         help="Data set")
    n_samples: int = param(500, "int", low=40, high=50_000, help="Samples drawn (real data sets: at most all)")
    noise: float = param(0.2, "float", low=0, high=2, help="Noise of the synthetic data sets")
    val_fraction: float = param(0.2, "float", low=0.05, high=0.5, help="Share held out for validation")
    standardize_inputs: bool = param(True, "bool", help="Standardize the features with the training split's stats")
    depth: int = param(10, "int", low=1, high=50, help="Hidden layers")
    width: int = param(32, "int", low=1, high=512, help="Units per hidden layer")
    activation: str = param("sigmoid", "choice", choices=tuple(ACTIVATIONS), help="Activation")
    norm: str = param("batch", "choice", choices=NORMS, help="Normalization")
    groups: int = param(4, "int", low=1, high=512, help="Groups of units per layer (norm='group'; must divide the width)")
    norm_position: str = param("before", "choice", choices=NORM_POSITIONS, help="Normalize before or after the activation")
    bn_momentum: float = param(0.1, "float", low=0, high=1, low_open=True, help="Batch norm's running-average momentum")
    init: str = param("glorot", "choice", choices=INITS, help="Weight initialisation")
    init_scale: float = param(
        1.0, "float", low=0, high=10, low_open=True,
        help="Std of init='normal'; multiplies the He/Glorot std otherwise",
    )
    optimizer: str = param("momentum", "choice", choices=OPTIMIZERS, help="Optimizer")
    lr: float = param(0.1, "float", low=0, high=10, low_open=True, help="Learning rate")
    momentum: float = param(0.9, "float", low=0, high=1, high_open=True, help="Momentum (optimizer='momentum')")
    weight_decay: float = param(0.0, "float", low=0, high=1, help="L2 weight decay")
    batch_size: int = param(32, "int", low=2, high=50_000, help="Mini-batch size (at most the training set)")
    epochs: int = param(20, "int", low=1, high=500, help="Passes over the training set")
    seed: int = param(0, "int", low=0, high=2**31 - 1, help="Random seed")
    records: int = param(30, "int", low=2, high=100, help="Telemetry snapshots over the run")

    def validate(self) -> None:
        """Raise one ValueError naming the first field whose value is not allowed.

        Besides the table, one cross-field rule: with ``norm="group"``, ``groups``
        must divide ``width``. Every other combination of in-range values trains
        (a batch larger than the training set is clipped to it, more records
        than steps are reduced to one per step).
        """
        _params.validate(self)
        if self.norm == "group" and self.width % self.groups:
            raise ValueError(
                f"The 'groups' parameter must divide the width ({self.width}) when norm='group'. "
                f"Got {self.groups!r} instead."
            )

    def replace(self, **changes) -> TrainConfig:
        """A copy with ``changes`` (not validated)."""
        return dataclasses.replace(self, **changes)


def stack_key(config: TrainConfig) -> TrainConfig:
    """``config`` with the fields a stack may vary reset to their defaults: configs with equal
    keys train as one stack. Batch norm with and without Santurkar's noise share a stack too (the
    noise is drawn per run, and a batch-norm run's is none)."""
    key = dataclasses.replace(config, **{f: getattr(_DEFAULT, f) for f in STACKED_FIELDS})
    return dataclasses.replace(key, norm="batch") if key.norm == "noisy_batch" else key


_DEFAULT = TrainConfig()
