"""A run's data as the network sees it, its task (loss, score, boundary value) and its schedule.

``prepare(config)`` loads the data set, splits off the validation rows,
standardizes the inputs with the training rows' statistics and builds the
decision-boundary grid; ``schedule(config, data)`` says how the run steps and
when it records. ``stack(datas)`` lines up the data of several runs (same
sizes, different seeds) as (R, n, d) arrays for one stacked network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.data import load_dataset, train_val_split
from core.nn import accuracy, mse, softmax_cross_entropy
from core.training.config import TrainConfig
from core.training.history import spread

__all__ = ["BOUNDARY_FRAMES", "BOUNDARY_RESOLUTION", "VAL_PROBE", "Data", "Schedule", "Stacked", "Task",
           "prepare", "schedule", "stack"]

#: The decision boundary is the model's output on this many points per axis.
BOUNDARY_RESOLUTION = 40
#: The decision boundary is recorded at this many snapshots at most (evenly spaced,
#: the first and the last included), fewer when the network is expensive: the
#: frames may cost 10% of the training's multiply-adds, or 3e8 when that is more
#: (a small network, like the default, gets all 20), and never fewer than 2.
BOUNDARY_FRAMES = 20
_BOUNDARY_SHARE, _BOUNDARY_FLOOR = 0.10, 3e8
#: Validation metrics use at most this many validation samples (a fixed subset);
#: the eval/train-mode comparison uses the same samples.
VAL_PROBE = 256


class Task:
    """Loss, score and boundary value of a task (classification or regression).

    ``loss`` and ``score`` take one run's output (n, k) or a stack's (R, n, k)
    and give a float or an (R,) array.
    """

    def __init__(self, task: str, n_classes: int, y_mean: float = 0.0, y_std: float = 1.0):
        self.task, self.n_classes = task, n_classes
        self.y_mean, self.y_std = y_mean, y_std
        self.out_features = n_classes if task == "classification" else 1
        self.accuracy_name = "accuracy" if task == "classification" else "r2"
        if task == "regression":
            self.boundary_value = "prediction"
        else:
            self.boundary_value = "P(class 1)" if n_classes == 2 else "predicted class"

    def loss(self, out: np.ndarray, y: np.ndarray):
        """(loss, gradient with respect to ``out``)."""
        if self.task == "classification":
            return softmax_cross_entropy(out, y)
        return mse(out, y)

    def score(self, out: np.ndarray | None, y: np.ndarray | None, loss):
        """Classification: the accuracy of ``out``; regression: R² = 1 - loss, floored at -1
        (and -1 for a loss that is not finite)."""
        if self.task == "classification":
            return accuracy(out, y)
        if np.ndim(loss) == 0:
            return max(-1.0, 1.0 - loss) if math.isfinite(loss) else -1.0
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(loss), np.maximum(-1.0, 1.0 - loss), -1.0)

    def evaluate(self, out: np.ndarray, y: np.ndarray):
        """(loss, score) of ``out`` against ``y``."""
        loss, _ = self.loss(out, y)
        return loss, self.score(out, y, loss)

    def boundary(self, out: np.ndarray) -> np.ndarray:
        """out: (m, k) -> (m,) the boundary value of each grid point."""
        out = out.astype(np.float64)
        if self.task == "regression":
            return out[:, 0] * self.y_std + self.y_mean
        if self.n_classes == 2:
            with np.errstate(over="ignore"):
                return 1.0 / (1.0 + np.exp(out[:, 0] - out[:, 1]))
        return np.argmax(out, axis=1).astype(np.float64)


@dataclass
class Data:
    """A run's data as the network sees it (standardized, float32) and its decision-boundary grid."""

    ds: object
    X_raw: np.ndarray  # (n, d) raw units
    tr: np.ndarray  # training rows
    va: np.ndarray  # validation rows
    task: Task
    X_tr: np.ndarray  # (n_train, d)
    Y_tr: np.ndarray  # (n_train,) classes, or standardized targets
    probe: np.ndarray  # (<= VAL_PROBE, d): the validation rows every snapshot evaluates
    probe_y: np.ndarray
    grid: np.ndarray  # (BOUNDARY_RESOLUTION², d) on a 2-D data set, else (0, d)
    gx1: np.ndarray  # the grid's axes in raw units
    gx2: np.ndarray

    @property
    def two_d(self) -> bool:
        return self.X_raw.shape[1] == 2


def prepare(c: TrainConfig, rng_split: np.random.Generator) -> Data:
    """Load, split and standardize the data (with the training rows' statistics); build the grid."""
    ds = load_dataset(c.dataset, n_samples=c.n_samples, noise=c.noise, seed=c.seed)
    X_raw = np.asarray(ds.X, dtype=np.float64)
    tr, va = train_val_split(len(X_raw), c.val_fraction, rng_split)
    if c.standardize_inputs:
        mu, sd = X_raw[tr].mean(axis=0), X_raw[tr].std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
    else:
        mu, sd = np.zeros(X_raw.shape[1]), np.ones(X_raw.shape[1])
    X = ((X_raw - mu) / sd).astype(np.float32)
    if ds.task == "classification":
        task = Task("classification", max(ds.n_classes, 2))
        Y = np.asarray(ds.y, dtype=np.int64)
    else:
        y = np.asarray(ds.y, dtype=np.float64)
        y_mu, y_sd = float(y[tr].mean()), float(y[tr].std()) or 1.0
        task = Task("regression", 0, y_mu, y_sd)
        Y = ((y - y_mu) / y_sd).astype(np.float32)
    gx1 = gx2 = np.zeros(0)
    grid = np.zeros((0, X.shape[1]), np.float32)
    if X_raw.shape[1] == 2:  # the boundary grid, in raw units, fed like the data
        lo, hi = X_raw.min(axis=0), X_raw.max(axis=0)
        pad = 0.05 * np.where(hi > lo, hi - lo, 1.0)
        gx1 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], BOUNDARY_RESOLUTION)
        gx2 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], BOUNDARY_RESOLUTION)
        g1, g2 = np.meshgrid(gx1, gx2)
        grid = ((np.column_stack([g1.ravel(), g2.ravel()]) - mu) / sd).astype(np.float32)
    return Data(ds, X_raw, tr, va, task, X[tr], Y[tr], X[va][:VAL_PROBE], Y[va][:VAL_PROBE], grid, gx1, gx2)


@dataclass
class Stacked:
    """The data of R runs lined up for one stacked network (they share every size)."""

    runs: list[Data]
    X_tr: np.ndarray  # (R, n_train, d)
    Y_tr: np.ndarray  # (R, n_train)
    probe: np.ndarray  # (R, m, d), m <= VAL_PROBE
    probe_y: np.ndarray  # (R, m)
    grid: np.ndarray  # (R, BOUNDARY_RESOLUTION², d) or (R, 0, d)

    @property
    def task(self) -> Task:
        """The runs' task: the same kind and classes for all (regression targets are standardized
        per run; ``runs[r].task`` has run r's own target statistics)."""
        return self.runs[0].task


def stack(datas: list[Data]) -> Stacked:
    """Stack the runs' arrays; ValueError when their sizes differ (they cannot share a stack)."""
    sizes = {(d.X_tr.shape, d.probe.shape, d.grid.shape, d.task.task, d.task.n_classes) for d in datas}
    if len(sizes) != 1:
        raise ValueError(f"Runs of one stack must share their data sizes and task, got {sorted(sizes)}.")
    return Stacked(datas, *(np.stack([getattr(d, a) for d in datas])
                            for a in ("X_tr", "Y_tr", "probe", "probe_y", "grid")))


@dataclass
class Schedule:
    """How a run steps: batch size, steps per epoch and in all, when it records and draws the boundary."""

    batch_size: int
    steps_per_epoch: int
    total: int
    record_steps: np.ndarray  # ascending steps that take a snapshot (the last may be ``total``)
    boundary_at: set  # the snapshots that also evaluate the boundary grid
    progress_every: int


def schedule(c: TrainConfig, data: Data) -> Schedule:
    n_train = len(data.tr)
    bs = min(c.batch_size, n_train)
    steps_per_epoch = -(-n_train // bs)
    if steps_per_epoch > 1 and n_train % bs == 1:
        steps_per_epoch -= 1  # minibatches() merges a last batch of one
    total = c.epochs * steps_per_epoch
    record_steps = np.unique(np.round(np.linspace(0, total, min(c.records, total + 1))).astype(np.int64))
    boundary_at: set = set()
    if data.two_d:  # the grid's passes kept to a share of the training's work
        macs = data.X_tr.shape[1] * c.width + (c.depth - 1) * c.width**2 + c.width * data.task.out_features
        frames = max(_BOUNDARY_SHARE * 3 * total * bs * macs, _BOUNDARY_FLOOR) // (len(data.grid) * macs)
        frames = int(min(BOUNDARY_FRAMES, max(2, frames)))
        boundary_at = set(record_steps[spread(len(record_steps), frames)].tolist())
    return Schedule(bs, steps_per_epoch, total, record_steps, boundary_at, max(1, -(-total // 100)))
