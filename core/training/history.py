"""What a run recorded: :class:`History`, its frames' schemas, and the data points under a boundary."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.telemetry import typed_frame
from core.training.config import TrainConfig

__all__ = ["History", "MAX_POINTS", "MODE_SCHEMA", "POINTS_SCHEMA", "empty", "points", "spread"]

#: The ``points`` frame (the data under a decision boundary) keeps at most this many samples.
MAX_POINTS = 1000


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
    :meth:`boundary_frame` gives one step as a tidy frame. ``with_boundary``: False only for a run on
    a 2-D data set whose boundary was not asked for (``train_many``'s ``boundaries``: it has None); on
    other data sets there is none to record either way, so a page drawing boundaries need not retrain it.

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
    with_boundary: bool = True

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
        """Bytes held by the frames and arrays: their columns' and indexes' buffers (a category's labels are
        counted as its codes; the config and scalars are negligible)."""
        total = sum(f.index.nbytes + sum(f[c].nbytes for c in f.columns) for f in self.frames().values())
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


MODE_SCHEMA = {
    "mode_metrics": {"mode": "category", "loss": "float64", "accuracy": "float64"},
    "mode_layers": {
        "layer": "int16", "stage": "category", "mode": "category",
        "mean": "float32", "std": "float32", "p15": "float32", "p50": "float32", "p85": "float32",
        "rms_diff": "float32",
    },
}


def empty(schema: dict[str, str]) -> pd.DataFrame:
    return typed_frame({c: np.array([], dtype=object if d == "category" else d) for c, d in schema.items()}, schema)


POINTS_SCHEMA = {"x1": "float32", "x2": "float32", "y": "float64", "split": "category"}


def points(ds, X_raw: np.ndarray, tr: np.ndarray, va: np.ndarray) -> pd.DataFrame:
    """At most MAX_POINTS samples (train and val in proportion) for drawing under a boundary."""
    n = len(tr) + len(va)
    k_tr = max(1, round(MAX_POINTS * len(tr) / n))
    idx_tr, idx_va = tr[spread(len(tr), k_tr)], va[spread(len(va), MAX_POINTS - k_tr)]
    idx = np.concatenate([idx_tr, idx_va])
    split = np.array(["train"] * len(idx_tr) + ["val"] * len(idx_va))
    return typed_frame(
        {"x1": X_raw[idx, 0], "x2": X_raw[idx, 1], "y": np.asarray(ds.y, np.float64)[idx], "split": split},
        POINTS_SCHEMA,
    )


def spread(n: int, k: int) -> np.ndarray:
    """k (or all n) evenly spaced indices of range(n)."""
    return np.arange(n) if n <= k else np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))
