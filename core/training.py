"""Train an MLP from a :class:`TrainConfig` and record what the dashboard shows.

``train(config)`` loads the data set, splits off a validation set, builds the
network (``core.network.MLP``) and the optimizer, and runs mini-batch training
(batches drawn without replacement each epoch: the article's step 1). At
``config.records`` evenly spaced *snapshots* it records telemetry
(``core.telemetry``); the result is a :class:`History` of tidy DataFrames.

Conventions (what every frame's ``step`` means):

- ``step`` counts the optimizer updates applied so far, 0 .. ``History.steps``.
  The snapshot at step k describes the weights after k updates: the
  validation metrics of those weights, the activations, gradients and batch
  statistics of the training batch that is fed to them (the forward/backward
  pass of update k+1), and the size of that update. The last snapshot (after
  the last update) feeds the last training batch once more, without updating
  anything, and reports the last update's ratio.
- Inputs are standardized with the training split's mean and std when
  ``standardize_inputs`` is true (the default), fed raw otherwise.
- Regression targets are always standardized internally with the training
  split's mean and std: the loss is the mean squared error in units of the
  target's std (1.0 = predicting the mean), and the ``accuracy`` column holds
  R² = 1 - loss, floored at -1. ``History.accuracy_name`` says which.
- ``metrics``: "train" is the mean loss (and accuracy) of the training
  batches since the previous snapshot, as the optimizer saw them (training
  mode; at step 0, the first batch); "val" is measured in eval mode on a fixed
  subset of at most 256 validation samples (the same at every snapshot).
- Divergence: a non-finite loss, or a snapshot holding a non-finite value,
  stops the run at once: ``diverged=True``, ``diverged_at`` = that step. That
  snapshot is dropped, so the curves end at the last snapshot before it and
  nothing non-finite is ever recorded.

Deterministic: the same config gives identical frames (the data, the split,
the initial weights and the batches each have their own seeded generator).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import params as _params
from core.data import DATASETS, load_dataset, minibatches, train_val_split
from core.nn import (
    ACTIVATIONS,
    INITS,
    MLP,
    NORM_POSITIONS,
    NORMS,
    OPTIMIZERS,
    BatchNorm1d,
    make_optimizer,
    mse,
    softmax_cross_entropy,
)
from core.nn import accuracy as _accuracy
from core.params import param
from core.telemetry import STAGES, NonFinite, Recorder, summarize, tracked_units, typed_frame

__all__ = ["TrainConfig", "History", "train", "train_many", "BOUNDARY_FRAMES", "BOUNDARY_RESOLUTION", "VAL_PROBE"]

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
#: The ``points`` frame (the data under a decision boundary) keeps at most this many samples.
MAX_POINTS = 1000


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (hashable, printable, URL-serializable).

    The defaults are the dashboard's first lesson: a 10-layer sigmoid network
    on the moons that trains with batch norm and barely moves without it, in a
    fraction of a second. Every field is declared in ``core.params``' table;
    call :meth:`validate` at the edge (nothing is checked on construction).
    """

    dataset: str = param("moons", "choice", choices=DATASETS, help="Data set")
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


@dataclass(eq=False)
class History:
    """What one run recorded: tidy DataFrames plus a few scalars.

    Frames (``step`` = updates applied so far; ``layer`` = hidden layer, 1 = first):

    - ``metrics``: step, epoch, split ("train" | "val"), loss, accuracy
      (classification: fraction correct; regression: R², floored at -1);
      "train" averages the training batches since the previous snapshot
      (training mode), "val" is the validation subset in eval mode;
    - ``layer_stats``: step, layer, stage (``core.telemetry.STAGES``), mean,
      std, p15, p50, p85;
    - ``histograms``: step, layer, stage, bin, bin_left, bin_right, overflow,
      fraction (fixed bins, see ``core.telemetry.bin_edges``; the two
      ``overflow`` bins count everything beyond the edges; empty bins are
      left out);
    - ``layer_health``: step, layer, saturated, grad_norm, weight_norm,
      update_ratio (of the layer's Dense weight; ``update_ratio`` =
      ||ΔW|| / ||W|| of one update);
    - ``norm_params``: step, layer, unit, gamma, beta (tracked units);
    - ``norm_param_bands``: step, layer, param ("gamma" | "beta"), mean,
      q05, q25, q50, q75, q95 over all units;
    - ``running_stats``: step, layer, unit, batch_mean, batch_var (biased, what
      the batch was normalized with), running_mean, running_var (unbiased
      estimate) -- batch norm only;
    - ``mode_metrics``: mode ("train" | "eval"), loss, accuracy of the final
      network on the validation subset: batch statistics of mini-batches of
      ``batch_size`` against running statistics;
    - ``mode_layers``: layer, stage, mode, mean, std, p15, p50, p85 of the
      tracked units' values in both modes, and rms_diff, the root mean square
      of (train-mode value - eval-mode value) (the same on both rows);
    - ``points``: x1, x2, y, split -- at most 1,000 samples of a 2-D data set
      in raw feature units (empty otherwise).

    Decision boundary (2-D data sets, else None / empty): ``boundary``
    (frames, 40, 40) float32 indexed [snapshot, x2 index, x1 index], the
    model's ``boundary_value`` ("P(class 1)", "predicted class" or
    "prediction", in target units) on the grid ``boundary_x1`` x
    ``boundary_x2`` (raw feature units), at ``boundary_steps`` (2 to 20
    snapshots, evenly spaced, the first and the last included: all 20 for
    small networks, fewer when the grid would cost more than 10% of training);
    :meth:`boundary_frame` gives one step as a tidy frame.

    Empty frames keep their columns. No frame holds NaN or inf.
    """

    config: TrainConfig
    task: str
    n_classes: int
    accuracy_name: str
    n_train: int
    n_val: int
    steps: int
    steps_per_epoch: int
    steps_done: int
    record_steps: np.ndarray
    diverged: bool
    diverged_at: int | None
    wall_time: float
    metrics: pd.DataFrame
    layer_stats: pd.DataFrame
    histograms: pd.DataFrame
    layer_health: pd.DataFrame
    norm_params: pd.DataFrame
    norm_param_bands: pd.DataFrame
    running_stats: pd.DataFrame
    mode_metrics: pd.DataFrame
    mode_layers: pd.DataFrame
    points: pd.DataFrame
    tracked_units: np.ndarray
    boundary: np.ndarray | None = None
    boundary_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    boundary_x1: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    boundary_x2: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    boundary_value: str = ""

    FRAMES = (
        "metrics",
        "layer_stats",
        "histograms",
        "layer_health",
        "norm_params",
        "norm_param_bands",
        "running_stats",
        "mode_metrics",
        "mode_layers",
        "points",
    )

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every DataFrame by name."""
        return {name: getattr(self, name) for name in self.FRAMES}

    def memory_bytes(self) -> int:
        """Bytes held by the frames and arrays (deep; the config and scalars are negligible)."""
        total = sum(int(f.memory_usage(deep=True, index=True).sum()) for f in self.frames().values())
        for arr in (self.boundary, self.boundary_steps, self.boundary_x1, self.boundary_x2,
                    self.record_steps, self.tracked_units):
            if arr is not None:
                total += arr.nbytes
        return total

    def final(self, split: str = "val") -> dict[str, float]:
        """The last recorded loss and accuracy of ``split`` (empty dict when nothing was recorded)."""
        rows = self.metrics[self.metrics["split"] == split]
        if rows.empty:
            return {}
        last = rows.iloc[-1]
        return {"step": int(last["step"]), "loss": float(last["loss"]), "accuracy": float(last["accuracy"])}

    def boundary_frame(self, step: int | None = None) -> pd.DataFrame:
        """The decision boundary at the recorded step nearest ``step`` (default: the last).

        Columns: step, x1, x2 (cell centres), x1_lo, x1_hi, x2_lo, x2_hi (cell
        edges, for rect marks), value. 1,600 rows; empty for data sets that are
        not 2-D or when nothing was recorded.
        """
        cols = ["step", "x1", "x2", "x1_lo", "x1_hi", "x2_lo", "x2_hi", "value"]
        if self.boundary is None or len(self.boundary_steps) == 0:
            return pd.DataFrame({c: pd.Series(dtype="float32") for c in cols}).astype({"step": "int32"})
        i = len(self.boundary_steps) - 1 if step is None else int(np.argmin(np.abs(self.boundary_steps - step)))
        x1, x2 = self.boundary_x1, self.boundary_x2
        h1 = (x1[1] - x1[0]) / 2 if len(x1) > 1 else 0.5
        h2 = (x2[1] - x2[0]) / 2 if len(x2) > 1 else 0.5
        g1, g2 = np.meshgrid(x1, x2)  # [x2 index, x1 index], like boundary
        return pd.DataFrame(
            {
                "step": np.full(g1.size, self.boundary_steps[i], np.int32),
                "x1": g1.ravel(),
                "x2": g2.ravel(),
                "x1_lo": (g1 - h1).ravel(),
                "x1_hi": (g1 + h1).ravel(),
                "x2_lo": (g2 - h2).ravel(),
                "x2_hi": (g2 + h2).ravel(),
                "value": self.boundary[i].ravel(),
            }
        )


# ---------------------------------------------------------------------- helpers

_MODE_SCHEMA = {
    "mode_metrics": {"mode": "category", "loss": "float64", "accuracy": "float64"},
    "mode_layers": {
        "layer": "int16", "stage": "category", "mode": "category",
        "mean": "float32", "std": "float32", "p15": "float32", "p50": "float32", "p85": "float32",
        "rms_diff": "float32",
    },
}


def _empty(schema: dict[str, str]) -> pd.DataFrame:
    return typed_frame({c: np.array([], dtype=object if d == "category" else d) for c, d in schema.items()}, schema)


def _bn_buffers(net: MLP) -> list[tuple]:
    """Copies of every batch-norm layer's running statistics (to undo a probe pass)."""
    return [
        (layer, layer.running_mean.copy(), layer.running_var.copy(), layer.num_batches_tracked,
         layer.batch_mean, layer.batch_var)
        for layer in net.layers
        if isinstance(layer, BatchNorm1d)
    ]


def _restore_bn(saved: list[tuple], *, batch_stats: bool = False) -> None:
    for layer, rm, rv, nbt, bm, bv in saved:
        layer.running_mean[...] = rm
        layer.running_var[...] = rv
        layer.num_batches_tracked = nbt
        if batch_stats:
            layer.batch_mean, layer.batch_var = bm, bv


class _Task:
    """Loss, score and boundary value of a task (classification or regression)."""

    def __init__(self, task: str, n_classes: int, y_mean: float = 0.0, y_std: float = 1.0):
        self.task, self.n_classes = task, n_classes
        self.y_mean, self.y_std = y_mean, y_std
        self.out_features = n_classes if task == "classification" else 1
        self.accuracy_name = "accuracy" if task == "classification" else "r2"
        if task == "regression":
            self.boundary_value = "prediction"
        else:
            self.boundary_value = "P(class 1)" if n_classes == 2 else "predicted class"

    def loss(self, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        if self.task == "classification":
            return softmax_cross_entropy(out, y)
        return mse(out, y)

    def score(self, out: np.ndarray, y: np.ndarray, loss: float) -> float:
        if self.task == "classification":
            return _accuracy(out, y)
        return max(-1.0, 1.0 - loss) if math.isfinite(loss) else -1.0

    def boundary(self, out: np.ndarray) -> np.ndarray:
        out = out.astype(np.float64)
        if self.task == "regression":
            return out[:, 0] * self.y_std + self.y_mean
        if self.n_classes == 2:
            with np.errstate(over="ignore"):
                return 1.0 / (1.0 + np.exp(out[:, 0] - out[:, 1]))
        return np.argmax(out, axis=1).astype(np.float64)


def _evaluate(task: _Task, out: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    loss, _ = task.loss(out, y)
    return loss, task.score(out, y, loss)


def _norm(a: np.ndarray) -> float:
    """L2 norm: a float32 BLAS dot, redone in float64 if the square overflowed (inf/NaN stay so)."""
    v = a.ravel()
    sq = float(np.dot(v, v))
    if not math.isfinite(sq):
        sq = float(np.dot(v.astype(np.float64), v.astype(np.float64)))
    return math.sqrt(sq) if sq >= 0 else float("nan")


#: Eval-mode passes over many rows go in chunks of at most this many rows (stacked,
#: see ``_eval_pass``): a few MB of fresh temporaries per pass cost more in page
#: faults (the allocator hands freed memory back to the system) than in arithmetic.
_PREDICT_ROWS = 256
#: Matrix products of at most this many multiply-adds run on one thread in
#: OpenBLAS (numpy's BLAS); bigger ones wake its other threads, which then spin.
_ONE_THREAD_MACS = 1 << 18


def _predict_rows(net: MLP) -> int:
    """Rows per eval-mode pass: _PREDICT_ROWS, or fewer (at least 64) when that keeps every
    product on one BLAS thread, as the training steps of a small network are (same speed on
    an idle machine, half the CPU time, and no waiting for busy threads on a loaded one)."""
    widest = max(net.in_features, net.width if net.depth else 0, net.out_features)
    rows = _ONE_THREAD_MACS // (widest * widest)
    return rows if 64 <= rows < _PREDICT_ROWS else _PREDICT_ROWS


def _eval_pass(net: MLP, X: np.ndarray, rows: int) -> np.ndarray:
    """X: (m, in_features) -> (m, out_features): the eval-mode output.

    Rows are independent in eval mode, so X is cut into chunks of ``rows`` rows
    (the last padded with zeros) and the chunks go through the network as one
    stack (m / rows, rows, in_features): every matrix product stays the size
    of one chunk, and each numpy call serves all chunks at once. Overwrites the
    blocks' recorded values (read them before).
    """
    m = len(X)
    if m <= rows:
        return net.forward(X, training=False)
    chunks = -(-m // rows)
    padded = np.zeros((chunks * rows, X.shape[1]), dtype=X.dtype)
    padded[:m] = X
    out = net.forward(padded.reshape(chunks, rows, -1), training=False)
    return out.reshape(chunks * rows, -1)[:m]


def _spread(n: int, k: int) -> np.ndarray:
    """k (or all n) evenly spaced indices of range(n)."""
    return np.arange(n) if n <= k else np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))


# ---------------------------------------------------------------------- train


def train(config: TrainConfig, progress: Callable[[float], None] | None = None) -> History:
    """Train the network ``config`` describes and return its :class:`History`.

    Validates ``config`` first (ValueError naming the field). ``progress``, when
    given, is called with the fraction done (0 .. 1), at most about 100 times.
    Never raises on divergence: see the module docstring.
    """
    config.validate()
    t0 = time.perf_counter()
    # A diverging run overflows on purpose; it is detected and reported, not warned about.
    # (BLAS threads are left as the process set them: changing them here would change
    # them for every thread of the process, e.g. every other session of a dashboard.)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        history = _train(config, progress)
    history.wall_time = time.perf_counter() - t0
    return history


def train_many(configs, progress: Callable[[float], None] | None = None) -> list[History]:
    """Train every config; the Histories in the order of ``configs``, each what ``train`` gives.

    ``progress`` is called with the fraction of all the runs done (0 .. 1).
    """
    configs = list(configs)
    for c in configs:
        c.validate()
    out = []
    for i, c in enumerate(configs):
        part = None if progress is None else (lambda f, i=i: progress((i + f) / len(configs)))
        out.append(train(c, part))
    return out


@dataclass
class _Data:
    """A run's data as the network sees it (standardized, float32) and its decision-boundary grid."""

    ds: object
    X_raw: np.ndarray  # (n, d) raw units
    tr: np.ndarray  # training rows
    va: np.ndarray  # validation rows
    task: _Task
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


def _prepare(c: TrainConfig, rng_split: np.random.Generator) -> _Data:
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
        task = _Task("classification", max(ds.n_classes, 2))
        Y = np.asarray(ds.y, dtype=np.int64)
    else:
        y = np.asarray(ds.y, dtype=np.float64)
        y_mu, y_sd = float(y[tr].mean()), float(y[tr].std()) or 1.0
        task = _Task("regression", 0, y_mu, y_sd)
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
    return _Data(ds, X_raw, tr, va, task, X[tr], Y[tr], X[va][:VAL_PROBE], Y[va][:VAL_PROBE], grid, gx1, gx2)


@dataclass
class _Schedule:
    """How a run steps: batch size, steps per epoch and in all, when it records and draws the boundary."""

    batch_size: int
    steps_per_epoch: int
    total: int
    record_steps: np.ndarray  # ascending steps that take a snapshot (the last may be ``total``)
    boundary_at: set  # the snapshots that also evaluate the boundary grid
    progress_every: int


def _schedule(c: TrainConfig, data: _Data) -> _Schedule:
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
        boundary_at = set(record_steps[_spread(len(record_steps), frames)].tolist())
    return _Schedule(bs, steps_per_epoch, total, record_steps, boundary_at, max(1, -(-total // 100)))


class _Run:
    """A network in training and what its snapshots record (the loop itself is :func:`_loop`)."""

    def __init__(self, c: TrainConfig, data: _Data, sched: _Schedule, rng_init: np.random.Generator):
        self.data, self.sched = data, sched
        self.net = MLP(
            data.X_tr.shape[1], data.task.out_features, depth=c.depth, width=c.width, activation=c.activation,
            norm=c.norm, norm_position=c.norm_position, init=c.init, init_scale=c.init_scale, rng=rng_init,
            dtype=np.float32, momentum=c.bn_momentum, groups=c.groups,
        )
        self.opt = make_optimizer(c.optimizer, c.lr, weight_decay=c.weight_decay, momentum=c.momentum)
        self.rec = Recorder(depth=c.depth, width=c.width, activation=c.activation, norm=c.norm,
                            norm_position=c.norm_position)
        self.params = self.net.flat()  # the whole network as one vector: a few operations per update
        self.rows = _predict_rows(self.net)
        self.probe_and_grid = np.concatenate([data.probe, data.grid])
        self.last_ratio = np.zeros(c.depth)
        self.seen = [0.0, 0.0, 0]  # training batches since the last snapshot: sum of losses, of scores, count
        self.since: list[tuple[int, float, float]] = []  # and each one's (step, loss, score)
        self.boundaries: list[np.ndarray] = []
        self.boundary_steps: list[int] = []
        self.snapshots = 0  # taken so far

    def count(self, k: int, loss: float, score: float, *, trace: bool = True) -> None:
        """A training batch's loss and score, towards the next snapshot's training metrics (and, with
        ``trace``, kept one by one for a divergence before that snapshot)."""
        self.seen[0] += loss
        self.seen[1] += score
        self.seen[2] += 1
        if trace:
            self.since.append((k, loss, score))

    def step(self) -> None:
        self.opt.step(self.params)

    def step_with_ratio(self) -> np.ndarray:
        """One optimizer step; returns ||ΔW|| / ||W|| of each hidden Dense weight (0 where W = 0)."""
        blocks = self.net.blocks
        before = [b.dense.W.copy() for b in blocks]
        self.step()
        ratio = np.zeros(len(blocks))
        for i, (b, w0) in enumerate(zip(blocks, before, strict=True)):
            w_norm = _norm(w0)
            np.subtract(b.dense.W, w0, out=w0)
            ratio[i] = _norm(w0) / w_norm if w_norm > 0 else 0.0
        return ratio

    def snapshot(self, k: int, grad: np.ndarray, update: bool) -> None:
        """Record step k from the forward pass just made, then run its backward (and update).

        Order matters: the layer values are read before the eval pass (it
        overwrites what the layers keep for backward), gradient norms after
        backward, metrics on the weights before the update. Raises NonFinite
        (the caller stops) before committing anything.
        """
        data, task, rec, blocks = self.data, self.data.task, self.rec, self.net.blocks
        with_grid = k in self.sched.boundary_at
        layer_part, saturated = rec.layers_part(k, blocks)
        norm_part = rec.norm_part(k, blocks)
        self.net.backward(grad)
        out = _eval_pass(self.net, self.probe_and_grid if with_grid else data.probe, self.rows)
        cut = len(data.probe)
        train_loss = self.seen[0] / self.seen[2]
        # classification: the batches' mean accuracy; regression: R² of the mean loss
        train_score = self.seen[1] / self.seen[2] if task.task == "classification" else task.score(None, None, train_loss)
        metric_part = rec.metrics_part(k, k / self.sched.steps_per_epoch, {
            "train": (train_loss, train_score),
            "val": _evaluate(task, out[:cut], data.probe_y),
        })
        b = task.boundary(out[cut:]) if with_grid else None
        if b is not None and not np.isfinite(b).all():
            raise NonFinite(f"decision boundary at step {k}")
        grad_norm = np.array([_norm(b.dense.grad_W) for b in blocks])
        weight_norm = np.array([_norm(b.dense.W) for b in blocks])
        ratio = self.step_with_ratio() if update else self.last_ratio
        rec.commit(layer_part, norm_part, rec.health_part(k, saturated, grad_norm, weight_norm, ratio), metric_part)
        if b is not None:
            self.boundaries.append(b.astype(np.float32).reshape(BOUNDARY_RESOLUTION, BOUNDARY_RESOLUTION))
            self.boundary_steps.append(k)
        self.last_ratio = ratio
        self.snapshots += 1
        self.seen[:] = [0.0, 0.0, 0]
        self.since.clear()

    def record_divergence(self) -> None:
        """A run that diverged: its training batches' losses from the last snapshot up to the
        divergence, so its curve shows how it blew up (at most one snapshot interval of rows)."""
        task = self.data.task
        for step, loss, score in self.since:
            train_score = score if task.task == "classification" else task.score(None, None, loss)
            try:
                self.rec.commit(self.rec.metrics_part(step, step / self.sched.steps_per_epoch,
                                                      {"train": (loss, train_score)}))
            except NonFinite:
                break


def _loop(run: _Run, rng_batches: np.random.Generator, epochs: int, progress) -> tuple[int, int | None, tuple]:
    """Train: forward, loss, backward, step, and a snapshot at each recorded step.

    Returns (steps done, the step it diverged at or None, the last batch).
    """
    net, task, sched = run.net, run.data.task, run.sched
    X_tr, Y_tr, n_train = run.data.X_tr, run.data.Y_tr, len(run.data.tr)
    k = next_i = 0
    last = (None, None)
    for _epoch in range(epochs):
        batches = minibatches(n_train, sched.batch_size, rng_batches)
        order = np.concatenate(batches)
        Xe, Ye = X_tr[order], Y_tr[order]
        start = 0
        for batch in batches:
            xb, yb = Xe[start:start + len(batch)], Ye[start:start + len(batch)]
            start += len(batch)
            last = (xb, yb)
            out = net.forward(xb, training=True)
            loss, grad = task.loss(out, yb)
            if not math.isfinite(loss):
                return k, k, last
            run.count(k, loss, task.score(out, yb, loss))
            if k == sched.record_steps[next_i]:
                try:
                    run.snapshot(k, grad, update=True)
                except NonFinite:
                    return k, k, last
                next_i += 1
            else:
                net.backward(grad)
                if k == sched.total - 1:
                    run.last_ratio = run.step_with_ratio()
                else:
                    run.step()
            k += 1
            if progress is not None and k % sched.progress_every == 0:
                progress(0.95 * k / sched.total)
    return k, None, last


def _last_snapshot(run: _Run, k: int, last: tuple) -> int | None:
    """The trained weights recorded, the last batch fed once more; the step it diverged at, or None."""
    if not all(np.isfinite(p).all() for _, p, _ in run.params):
        return k
    xb, yb = last
    if xb is None or run.snapshots == len(run.sched.record_steps):  # the loop recorded step k already
        return None
    saved = _bn_buffers(run.net)
    out = run.net.forward(xb, training=True)
    _restore_bn(saved)  # keep the trained running statistics (the batch's own stay visible)
    loss, grad = run.data.task.loss(out, yb)
    try:
        if not math.isfinite(loss):
            raise NonFinite("loss")
        run.count(k, loss, run.data.task.score(out, yb, loss), trace=False)
        run.snapshot(k, grad, update=False)
    except NonFinite:
        return k
    return None


def _train(config: TrainConfig, progress: Callable[[float], None] | None) -> History:
    c = config
    rng_split, rng_init, rng_batches = (np.random.default_rng(s) for s in np.random.SeedSequence(c.seed).spawn(3))
    data = _prepare(c, rng_split)
    sched = _schedule(c, data)
    run = _Run(c, data, sched, rng_init)
    if progress is not None:
        progress(0.0)
    k, diverged_at, last = _loop(run, rng_batches, c.epochs, progress)
    if diverged_at is None:
        diverged_at = _last_snapshot(run, k, last)
    if diverged_at is None:
        modes = _compare_modes(run.net, data.task, data.probe, data.probe_y, sched.batch_size)
    else:
        run.record_divergence()
        modes = (_empty(_MODE_SCHEMA["mode_metrics"]), _empty(_MODE_SCHEMA["mode_layers"]))
    frames = run.rec.frames()
    if progress is not None:
        progress(1.0)
    return _history(c, data, sched, run, k, diverged_at, frames, modes)


def _history(c: TrainConfig, data: _Data, sched: _Schedule, run: _Run, k: int, diverged_at: int | None,
             frames: dict, modes: tuple) -> History:
    task, two_d = data.task, data.two_d
    boundary = np.stack(run.boundaries) if run.boundaries else (
        np.zeros((0, BOUNDARY_RESOLUTION, BOUNDARY_RESOLUTION), np.float32) if two_d else None)
    return History(
        config=c, task=task.task, n_classes=task.n_classes, accuracy_name=task.accuracy_name,
        n_train=len(data.tr), n_val=len(data.va), steps=sched.total, steps_per_epoch=sched.steps_per_epoch,
        steps_done=k, record_steps=np.asarray(sched.record_steps, np.int32),
        diverged=diverged_at is not None, diverged_at=diverged_at, wall_time=0.0,
        **frames, mode_metrics=modes[0], mode_layers=modes[1],
        points=_points(data.ds, data.X_raw, data.tr, data.va) if two_d else _empty(_POINTS_SCHEMA),
        tracked_units=tracked_units(c.width), boundary=boundary,
        boundary_steps=np.asarray(run.boundary_steps, np.int32),
        boundary_x1=np.asarray(data.gx1, np.float32), boundary_x2=np.asarray(data.gx2, np.float32),
        boundary_value=task.boundary_value if two_d else "",
    )


_POINTS_SCHEMA = {"x1": "float32", "x2": "float32", "y": "float64", "split": "category"}


def _points(ds, X_raw: np.ndarray, tr: np.ndarray, va: np.ndarray) -> pd.DataFrame:
    """At most MAX_POINTS samples (train and val in proportion) for drawing under a boundary."""
    n = len(tr) + len(va)
    k_tr = max(1, round(MAX_POINTS * len(tr) / n))
    idx_tr, idx_va = tr[_spread(len(tr), k_tr)], va[_spread(len(va), MAX_POINTS - k_tr)]
    idx = np.concatenate([idx_tr, idx_va])
    split = np.array(["train"] * len(idx_tr) + ["val"] * len(idx_va))
    return typed_frame(
        {"x1": X_raw[idx, 0], "x2": X_raw[idx, 1], "y": np.asarray(ds.y, np.float64)[idx], "split": split},
        _POINTS_SCHEMA,
    )


def _compare_modes(net: MLP, task: _Task, X: np.ndarray, y: np.ndarray, batch_size: int):
    """The final network on (X, y) in eval mode and in training mode (mini-batches of batch_size):
    (mode_metrics, mode_layers).

    Training-mode passes update nothing that lasts: batch norm's running
    statistics are restored afterwards. Layer values are those of the tracked units.
    """
    # Stages that are one array under two names (e.g. post_norm and pre_activation) are captured once.
    first = net.blocks[0]
    same = {s: next(t for t in STAGES if getattr(first, t) is getattr(first, s)) for s in STAGES}
    captured = sorted(set(same.values()), key=STAGES.index)
    units = tracked_units(net.width)

    def capture() -> dict[str, np.ndarray]:
        return {s: np.stack([getattr(b, s)[:, units] for b in net.blocks]) for s in captured}  # (depth, n, k)

    out = net.forward(X, training=False)
    eval_metrics, eval_vals = _evaluate(task, out, y), capture()
    train_metrics, train_vals = _train_mode_pass(net, task, X, y, batch_size, capture)
    rows_m = {"mode": ["eval"], "loss": [eval_metrics[0]], "accuracy": [eval_metrics[1]]}
    if train_metrics is not None:
        rows_m = {"mode": ["train", "eval"], "loss": [train_metrics[0], eval_metrics[0]],
                  "accuracy": [train_metrics[1], eval_metrics[1]]}
    mode_metrics = typed_frame(rows_m, _MODE_SCHEMA["mode_metrics"])
    mode_metrics = mode_metrics[np.isfinite(mode_metrics[["loss", "accuracy"]]).all(axis=1)].reset_index(drop=True)
    return mode_metrics, _mode_layers(eval_vals, train_vals, same, len(net.blocks))


def _train_mode_pass(net: MLP, task: _Task, X: np.ndarray, y: np.ndarray, batch_size: int, capture):
    """(loss, accuracy) of X in training mode, mini-batch by mini-batch, and the captured layer values
    back in X's order; (None, None) for a single row. Batch norm's buffers are restored after."""
    saved = _bn_buffers(net)
    pieces: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
    loss_sum = acc_sum = 0.0
    batches = minibatches(len(X), batch_size, np.random.default_rng(0)) if len(X) > 1 else []
    for idx in batches:
        idx = np.sort(idx)
        out = net.forward(X[idx], training=True)
        loss, acc = _evaluate(task, out, y[idx])
        loss_sum += loss * len(idx)
        acc_sum += acc * len(idx)
        pieces.append((idx, capture()))
    _restore_bn(saved, batch_stats=True)
    if not pieces:
        return None, None
    order = np.concatenate([i for i, _ in pieces])
    values = {}
    for s in pieces[0][1]:
        v = np.concatenate([p[s] for _, p in pieces], axis=1)
        restored = np.empty_like(v)
        restored[:, order] = v  # back in X's order, to pair with eval mode
        values[s] = restored
    return (loss_sum / len(order), acc_sum / len(order)), values


def _mode_layers(eval_vals: dict, train_vals: dict | None, same: dict, depth: int) -> pd.DataFrame:
    """Per layer, stage and mode: the values' summary and the rms difference between the modes;
    rows that are not finite (eval mode can blow up) are dropped."""
    cols: dict[str, list] = {c: [] for c in _MODE_SCHEMA["mode_layers"]}
    layer = np.arange(1, depth + 1)
    summaries: dict[str, tuple] = {}  # captured stage -> (rms, [(mode, statistics)])
    for s, values in eval_vals.items():
        ev = values.reshape(depth, -1)
        modes = [("eval", ev)]
        with np.errstate(over="ignore", invalid="ignore"):
            if train_vals is not None:
                modes.insert(0, ("train", train_vals[s].reshape(depth, -1)))
                diff = np.subtract(modes[0][1], ev, dtype=np.float64)
                rms = np.sqrt(np.mean(np.square(diff, out=diff), axis=1))
            else:
                rms = np.zeros(depth)
            # sorted in their own dtype (float32 sorts faster), moments in float64
            summaries[s] = (rms, [(mode, summarize(v)) for mode, v in modes])
    for s in STAGES:
        rms, stats = summaries[same[s]]
        for mode, st in stats:
            cols["layer"].append(layer)
            cols["stage"].append(np.full(depth, s))
            cols["mode"].append(np.full(depth, mode))
            for name, val in st.items():
                cols[name].append(val)
            cols["rms_diff"].append(rms)
    data = {c: np.concatenate(v) for c, v in cols.items()}
    finite = np.ones(len(data["layer"]), bool)
    for c in ("mean", "std", "p15", "p50", "p85", "rms_diff"):
        finite &= np.isfinite(data[c]) & (np.abs(data[c]) <= np.finfo(np.float32).max)
    return typed_frame({c: v[finite] for c, v in data.items()}, _MODE_SCHEMA["mode_layers"])
