"""Why normalization helps: two of the competing explanations, measured on the runs themselves.

- **Scale invariance.** With batch norm right after a Dense layer, the loss
  ignores the scale of that layer's weights: ``BN(c·W x + b) = BN(W x + b)``
  for any c > 0, since the mean subtraction removes the bias and the division
  by the std removes c. So a gradient step of size lr changes the direction
  of W by about ``lr / ||W||²`` (the *effective* learning rate), which falls
  on its own as ||W|| grows. :func:`scale_invariance` scales one layer's
  weights of a network and measures how much the output moves;
  :func:`effective_lr` reads ||W|| and the update ratio ||ΔW|| / ||W|| a
  training run recorded.
- **Signal propagation** (Brock, De and Smith 2021): what matters is how the
  mean and the variance of the signal evolve with depth at initialisation.
  :func:`signal_propagation` feeds a run's first training batch through its
  network at step 0 and reports, per layer, the mean over units of the
  squared unit means and the mean unit variance of the pre-activations.

The networks are the runs' own: the same seeds, data and initial weights as
``core.training.train`` (``core.training.loop.network``), so these numbers
describe the runs the other views show.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data import minibatches
from core.nn import MLP
from core.training.config import TrainConfig
from core.training.history import History
from core.training.loop import network, run_generators
from core.training.prepare import Data, prepare, schedule

__all__ = ["SCALE_FACTORS", "effective_lr", "initial_network", "scale_invariance", "signal_propagation"]

#: the factors :func:`scale_invariance` multiplies a layer's weights by
SCALE_FACTORS = (0.1, 10.0)


def initial_network(config: TrainConfig) -> tuple[MLP, Data, np.ndarray]:
    """(network at step 0, data, first training batch's rows (b, d)) of the run ``config`` describes."""
    config.validate()
    split, init, batches = run_generators(config)
    data = prepare(config, split)
    net = network([config], data.X_tr.shape[1], data.task.out_features, [init])
    first = minibatches(len(data.tr), schedule(config, data).batch_size, batches)[0]
    return net, data, data.X_tr[first]


def signal_propagation(configs: list[TrainConfig]) -> pd.DataFrame:
    """Per run and hidden layer, the pre-activations' statistics at initialisation, on the first batch.

    Columns: norm, seed, layer (1 = first), sq_mean (mean over units of the
    squared unit mean), mean_var (mean over units of the unit variance).
    Training mode: batch norm standardizes with the batch's statistics, as at step 0.
    """
    rows = []
    for c in configs:
        net, _, xb = initial_network(c)
        with np.errstate(over="ignore", invalid="ignore"):
            net.forward(xb[None], training=True)
            for block in net.blocks:
                v = block.pre_activation[0].astype(np.float64)  # (b, width)
                rows.append((c.norm, c.seed, block.index + 1, float(np.mean(v.mean(axis=0) ** 2)),
                             float(np.mean(v.var(axis=0)))))
    frame = pd.DataFrame(rows, columns=["norm", "seed", "layer", "sq_mean", "mean_var"])
    finite = np.isfinite(frame[["sq_mean", "mean_var"]]).all(axis=1)
    return frame[finite].reset_index(drop=True)


def scale_invariance(config: TrainConfig, factors=SCALE_FACTORS) -> pd.DataFrame:
    """How much the output of the run's network at step 0 moves when one layer's weights are scaled.

    For each hidden layer and factor c, the Dense weights are multiplied by c
    (the biases are 0 at step 0, so this scales the layer's whole output);
    the network's training-mode output on the first batch is compared with
    the original: ``change = ||out' - out|| / ||out||``. The weights are
    restored exactly after each probe. Columns: layer, factor, change.
    """
    net, _, xb = initial_network(config)
    x = xb[None]
    base = net.forward(x, training=True).astype(np.float64)
    rows = []
    for block in net.blocks:
        W = block.dense.W.copy()
        for c in factors:
            block.dense.W[...] = W * c
            with np.errstate(over="ignore", invalid="ignore"):
                out = net.forward(x, training=True).astype(np.float64)
            block.dense.W[...] = W
            change = np.linalg.norm(out - base) / max(np.linalg.norm(base), 1e-12)
            rows.append((block.index + 1, float(c), float(change) if np.isfinite(change) else np.inf))
    frame = pd.DataFrame(rows, columns=["layer", "factor", "change"])
    return frame[np.isfinite(frame["change"])].reset_index(drop=True)


def effective_lr(history: History) -> pd.DataFrame:
    """Per recorded step and hidden layer: ||W||, the effective learning rate lr / ||W||², and the
    measured update ratio ||ΔW|| / ||W|| (from the run's ``layer_health``).

    Columns: step, layer, weight_norm, effective_lr, update_ratio. Rows with a
    zero weight norm are left out (no direction to speak of).
    """
    h = history.layer_health
    h = h[h["weight_norm"] > 0]
    return pd.DataFrame({
        "step": h["step"].to_numpy(), "layer": h["layer"].to_numpy(),
        "weight_norm": h["weight_norm"].to_numpy(np.float64),
        "effective_lr": history.config.lr / h["weight_norm"].to_numpy(np.float64) ** 2,
        "update_ratio": h["update_ratio"].to_numpy(np.float64),
    })
