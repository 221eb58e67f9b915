"""Standardization, and batch norm's three steps on real data.

Feature scaling uses scikit-learn's ``StandardScaler``; the per-batch step
uses the same ``BatchNorm1d`` layer as the networks (in float64).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from core.data import Dataset, minibatches
from core.params import param, validate

__all__ = ["scale_report", "histogram_frame", "BatchDemo", "batch_demo", "spread_features",
           "StandardizeConfig", "STANDARDIZE_DATASETS"]

BINS = 24


def spread_features(data: Dataset, k: int = 4) -> list[str]:
    """The k feature names whose scales differ most (largest and smallest std)."""
    std = data.X.std(axis=0)
    order = np.argsort(std)
    picks = []
    for i in range(len(order)):  # alternate: largest, smallest, next largest ...
        j = order[-1 - i // 2] if i % 2 == 0 else order[i // 2]
        if data.feature_names[j] not in picks:
            picks.append(data.feature_names[j])
        if len(picks) == min(k, len(order)):
            break
    return [n for n in data.feature_names if n in picks]


def scale_report(X: np.ndarray, names) -> tuple[pd.DataFrame, np.ndarray]:
    """Mean, std, min and max per feature before and after StandardScaler.

    X: (n, d). Returns (table with a row per feature, X standardized (n, d)).
    """
    Z = StandardScaler().fit_transform(X)
    rows = []
    for j, name in enumerate(names):
        rows.append({
            "feature": name,
            "mean": X[:, j].mean(), "std": X[:, j].std(), "min": X[:, j].min(), "max": X[:, j].max(),
            "mean after": Z[:, j].mean() + 0.0, "std after": Z[:, j].std(),
            "min after": Z[:, j].min(), "max after": Z[:, j].max(),
        })
    table = pd.DataFrame(rows).set_index("feature")
    # -0.0 and 1e-17 read as noise in a table; they are zero
    table = table.mask(table.abs() < 1e-12, 0.0)
    return table, Z


def histogram_frame(X: np.ndarray, names, *, shared: bool, bins: int = BINS) -> pd.DataFrame:
    """Counts per bin, tidy: (feature, bin_left, bin_right, count).

    With ``shared`` all features use one set of edges spanning every
    feature's range (so the widths compare on one axis); otherwise each has
    its own edges. At most d * bins rows.
    """
    frames = []
    lo_all, hi_all = float(np.min(X)), float(np.max(X))
    for j, name in enumerate(names):
        col = X[:, j]
        lo, hi = (lo_all, hi_all) if shared else (float(col.min()), float(col.max()))
        if hi <= lo:
            hi = lo + 1.0
        counts, edges = np.histogram(col, bins=bins, range=(lo, hi))
        frames.append(pd.DataFrame({"feature": name, "bin_left": edges[:-1], "bin_right": edges[1:],
                                    "count": counts}))
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True, eq=False)
class BatchDemo:
    """Batch norm's three steps on one mini-batch.

    batches: index arrays, the article's step 1; batch: the chosen indices (m,);
    stats: per feature, the batch's mean and std next to the full data's;
    x_hat: (m, d) the batch standardized with its own statistics (step 2);
    y: (m, d) gamma * x_hat + beta (step 3).
    """

    batches: list
    batch: np.ndarray
    stats: pd.DataFrame
    x_hat: np.ndarray
    y: np.ndarray


def batch_demo(X: np.ndarray, names, *, batch_size: int, batch: int, seed: int,
               gamma: float, beta: float, eps: float = 1e-5) -> BatchDemo:
    """Split X: (n, d) into batches at random without replacement, then
    standardize batch number ``batch`` with its own statistics and scale and
    shift it: exactly what BatchNorm1d does in training mode."""
    from core.layers import BatchNorm1d  # the networks' own layer

    batches = minibatches(len(X), batch_size, np.random.default_rng(seed))
    idx = batches[min(batch, len(batches) - 1)]
    xb = X[idx]
    if len(idx) > 1:  # step 2: the layer with gamma = 1, beta = 0 is the standardization
        x_hat = BatchNorm1d(X.shape[1], eps=eps, dtype=np.float64).forward(xb, training=True)
    else:  # one sample has no spread: batch norm is undefined for it; show zeros
        x_hat = np.zeros_like(xb)
    out = gamma * x_hat + beta  # step 3
    stats = pd.DataFrame({
        "feature": list(names),
        "batch mean": xb.mean(axis=0), "full-data mean": X.mean(axis=0),
        "batch std": xb.std(axis=0), "full-data std": X.std(axis=0),
    }).set_index("feature")
    return BatchDemo(batches, idx, stats, x_hat, out)


STANDARDIZE_DATASETS = ("seed", "wine", "diabetes", "breast_cancer")


@dataclass(frozen=True)
class StandardizeConfig:
    """Settings of the Standardization view."""

    dataset: str = param("seed", "choice", choices=STANDARDIZE_DATASETS,
                         help="The article's data, or a real scikit-learn data set whose features sit on very different scales.")
    n_show: int = param(4, "int", low=1, high=8, help="How many features to draw (those whose scales differ most).")
    batch_size: int = param(10, "int", low=2, high=64, help="Samples per mini-batch.")
    batch: int = param(0, "int", low=0, high=500, help="Which mini-batch to look at.")
    shuffle_seed: int = param(0, "int", low=0, high=9999, help="Seed of the random split into batches.")
    feature: int = param(0, "int", low=0, high=63, help="Which feature the three steps show (by position).")
    gamma: float = param(1.0, "float", low=-3, high=3, help="γ: the scale batch norm learns.")
    beta: float = param(0.0, "float", low=-5, high=5, help="β: the shift batch norm learns.")
    undo: bool = param(False, "bool", help="Step 3 with γ = the batch's std and β = its mean, per feature "
                                           "(whatever their size): it gives back the raw batch.")

    def validate(self) -> None:
        validate(self)
