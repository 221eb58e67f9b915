"""Why normalization helps: the competing explanations, measured on the runs themselves.

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

- **Internal covariate shift, Santurkar's notion, and the landscape along the
  gradient** (Santurkar et al. 2018): :class:`GradientProbe` measures, at a
  run's snapshots, how much a layer's gradient changes when the layers below
  it take their update (``||G - G'||``, ``cos(G, G')``), and the loss and the
  gradient at ``w - eta * g`` for step sizes eta around the learning rate
  (the loss's range, the gradient's change, the effective beta-smoothness).
  :func:`probe_runs` trains the runs with it; the probe restores the network
  exactly, so the runs train as they do without it.

The networks are the runs' own: the same seeds, data and initial weights as
``core.training.train`` (``core.training.loop.network``), so these numbers
describe the runs the other views show.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data import minibatches
from core.nn import MLP, mse, softmax_cross_entropy
from core.training.config import TrainConfig
from core.training.history import History
from core.training.loop import network, run_generators, train_many
from core.training.modes import bn_buffers, restore_bn
from core.training.prepare import Data, prepare, schedule

__all__ = ["ETAS", "PROBE_POINTS", "SCALE_FACTORS", "GradientProbe", "effective_lr", "initial_network",
           "probe_runs", "scale_invariance", "signal_propagation"]

#: the step sizes of the landscape probe, as multiples of the run's learning rate
ETAS = (0.25, 0.5, 1.0, 2.0, 4.0)
#: the gradient probe measures at most this many of a run's snapshots (evenly spread)
PROBE_POINTS = 8

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


def _per_run(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    """(R,) values shaped to broadcast over a stacked array ``like`` (R, ...)."""
    return values.reshape(-1, *([1] * (like.ndim - 1))).astype(like.dtype)


def _norms(a: np.ndarray) -> np.ndarray:
    """(R, ...) -> (R,) L2 norms in float64."""
    v = a.reshape(len(a), -1).astype(np.float64)
    return np.sqrt(np.einsum("ij,ij->i", v, v))


class GradientProbe:
    """A ``train_many`` probe: Santurkar's covariate shift and the landscape along the gradient.

    At a snapshot of step k, with the gradients g of the step's batch in the
    network (G_i = the gradient of layer i's Dense weights):

    - for each hidden layer i > 1, the layers below it take a gradient step
      (every parameter of the layers before block i: p -= lr * grad), the
      same batch goes forward and backward again, and G'_i is layer i's new
      gradient: ``ics`` rows (run, step, layer, l2 = ||G - G'||, cos = cos(G, G'));
    - for each eta in ``ETAS`` x lr, the loss and gradient at w - eta * g (all
      parameters): ``landscape`` rows (run, step, eta, loss, grad_change =
      ||g(w - eta g) - g(w)||, distance = ||eta g||).

    Training mode throughout (batch norm with the batch's statistics, as the
    step itself). Everything is restored after: parameters, gradients and
    batch norm's buffers, so the run goes on exactly as without the probe.
    """

    def __init__(self, record_steps: np.ndarray, points: int = PROBE_POINTS, etas=ETAS):
        steps = np.asarray(record_steps)
        self.at = set(steps[np.unique(np.linspace(0, len(steps) - 1, min(points, len(steps))).round().astype(int))].tolist())
        self.etas = tuple(etas)
        self.ics: list[tuple] = []
        self.landscape: list[tuple] = []

    def __call__(self, configs: list[TrainConfig], k: int, net: MLP, batch: tuple) -> None:
        if k not in self.at:
            return
        xb, yb = batch
        lr = np.array([c.lr for c in configs])
        saved = (net.flat_params.copy(), net.flat_grads.copy(), bn_buffers(net))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self._shift(configs, k, net, xb, yb, lr, saved)
            self._along_gradient(configs, k, net, xb, yb, lr, saved)
        net.flat_params[...], net.flat_grads[...] = saved[0], saved[1]
        restore_bn(saved[2], batch_stats=True)

    def _loss(self, net: MLP, xb, yb) -> np.ndarray:
        """Forward and backward on the batch; the (R,) losses (the gradients are left in the network)."""
        out = net.forward(xb, training=True)
        loss, grad = (softmax_cross_entropy if np.issubdtype(yb.dtype, np.integer) else mse)(out, yb)
        net.backward(grad)
        return np.atleast_1d(loss)

    def _restore(self, net: MLP, saved) -> None:
        net.flat_params[...] = saved[0]
        restore_bn(saved[2])

    def _shift(self, configs, k, net: MLP, xb, yb, lr, saved) -> None:
        G = [b.dense.grad_W.copy() for b in net.blocks]
        grads = {id(p): g.copy() for _, p, g in net.params()}
        for i, block in enumerate(net.blocks[1:], start=1):
            below = net.layers[:net.layers.index(block.dense)]
            for layer in below:
                for _, p, _ in layer.params():
                    p -= _per_run(lr, p) * grads[id(p)]
            self._loss(net, xb, yb)
            G2 = block.dense.grad_W
            l2 = _norms(G[i] - G2)
            dot = np.einsum("ij,ij->i", *(a.reshape(len(a), -1).astype(np.float64) for a in (G[i], G2)))
            cos = dot / np.maximum(_norms(G[i]) * _norms(G2), 1e-300)
            for r, c in enumerate(configs):
                self.ics.append((c, k, i + 1, float(l2[r]), float(cos[r])))
            self._restore(net, saved)

    def _along_gradient(self, configs, k, net: MLP, xb, yb, lr, saved) -> None:
        w, g = saved[0], saved[1]
        for m in self.etas:
            step = _per_run(m * lr, w) * g
            net.flat_params[...] = w - step
            loss = self._loss(net, xb, yb)
            change, dist = _norms(net.flat_grads - g), _norms(step)
            for r, c in enumerate(configs):
                self.landscape.append((c, k, m, float(loss[r]), float(change[r]), float(dist[r])))
            self._restore(net, saved)


def probe_runs(configs: list[TrainConfig], points: int = PROBE_POINTS, *, boundaries=None):
    """Train ``configs`` with a :class:`GradientProbe` at up to ``points`` snapshots of each.

    Returns (histories, ics, landscape): the Histories (equal to ``train_many``'s:
    the probe restores everything), and two frames keyed by norm and seed:
    ics (norm, seed, step, layer, l2, cos) and landscape (norm, seed, step,
    eta (a multiple of lr), loss, grad_change, distance); rows that are not
    finite (a diverging run) are left out. ``boundaries``: as ``train_many``'s.
    """
    configs = list(configs)
    for c in configs:
        c.validate()
    probes: dict[int, GradientProbe] = {}

    def probe(stack, k, net, batch):
        key = id(stack[0])
        if key not in probes:
            split, *_ = run_generators(stack[0])
            probes[key] = GradientProbe(schedule(stack[0], prepare(stack[0], split)).record_steps, points)
        probes[key](stack, k, net, batch)

    histories = train_many(configs, probe=probe, boundaries=boundaries)
    ics = [(c.norm, c.seed, *row) for p in probes.values() for (c, *row) in p.ics]
    land = [(c.norm, c.seed, *row) for p in probes.values() for (c, *row) in p.landscape]
    ics = pd.DataFrame(ics, columns=["norm", "seed", "step", "layer", "l2", "cos"])
    land = pd.DataFrame(land, columns=["norm", "seed", "step", "eta", "loss", "grad_change", "distance"])
    return (histories, ics[np.isfinite(ics[["l2", "cos"]]).all(axis=1)].reset_index(drop=True),
            land[np.isfinite(land[["loss", "grad_change", "distance"]]).all(axis=1)].reset_index(drop=True))
