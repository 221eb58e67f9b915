"""Batch norm's two modes compared on the final network: batch statistics against running ones.

In training mode a batch-norm layer standardizes each mini-batch with its own
mean and variance; in evaluation mode with the running estimates it kept
during training. ``compare_modes`` feeds the validation subset both ways and
reports the loss and accuracy of each (``mode_metrics``) and, per layer and
stage, the values' summary in each mode with their root-mean-square
difference (``mode_layers``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data import minibatches
from core.nn import MLP, BatchNorm1d
from core.telemetry import STAGES, summarize, tracked_units, typed_frame
from core.training.history import MODE_SCHEMA
from core.training.prepare import Task

__all__ = ["bn_buffers", "compare_modes", "restore_bn"]


def bn_buffers(net: MLP) -> list[tuple]:
    """Copies of every batch-norm layer's running statistics (to undo a probe pass)."""
    return [
        (layer, layer.running_mean.copy(), layer.running_var.copy(), layer.num_batches_tracked,
         layer.batch_mean, layer.batch_var)
        for layer in net.layers
        if isinstance(layer, BatchNorm1d)
    ]


def restore_bn(saved: list[tuple], *, batch_stats: bool = False) -> None:
    for layer, rm, rv, nbt, bm, bv in saved:
        layer.running_mean[...] = rm
        layer.running_var[...] = rv
        layer.num_batches_tracked = nbt
        if batch_stats:
            layer.batch_mean, layer.batch_var = bm, bv


def compare_modes(net: MLP, task: Task, X: np.ndarray, y: np.ndarray, batch_size: int,
                  runs: list[int]) -> dict[int, tuple[pd.DataFrame, pd.DataFrame]]:
    """The final stacked network on (X, y), X: (R, m, d), y: (R, m), in eval mode and in training
    mode (mini-batches of batch_size): {run: (mode_metrics, mode_layers)} for each run in ``runs``.

    Training-mode passes update nothing that lasts: batch norm's running
    statistics are restored afterwards. Layer values are those of the tracked units.
    """
    # Stages that are one array under two names (e.g. post_norm and pre_activation) are captured once.
    first = net.blocks[0]
    same = {s: next(t for t in STAGES if getattr(first, t) is getattr(first, s)) for s in STAGES}
    captured = sorted(set(same.values()), key=STAGES.index)
    units = tracked_units(net.width)

    def capture() -> dict[str, np.ndarray]:  # stage -> (R, depth, n, k)
        return {s: np.stack([getattr(b, s)[..., units] for b in net.blocks], axis=1) for s in captured}

    out = net.forward(X, training=False)
    eval_metrics, eval_vals = task.evaluate(out, y), capture()
    train_metrics, train_vals = _train_mode_pass(net, task, X, y, batch_size, capture)
    result = {}
    for r in runs:
        rows = {"mode": ["eval"], "loss": [eval_metrics[0][r]], "accuracy": [eval_metrics[1][r]]}
        if train_metrics is not None:
            rows = {"mode": ["train", "eval"], "loss": [train_metrics[0][r], eval_metrics[0][r]],
                    "accuracy": [train_metrics[1][r], eval_metrics[1][r]]}
        metrics = typed_frame(rows, MODE_SCHEMA["mode_metrics"])
        metrics = metrics[np.isfinite(metrics[["loss", "accuracy"]]).all(axis=1)].reset_index(drop=True)
        layers = _mode_layers({s: v[r] for s, v in eval_vals.items()},
                              None if train_vals is None else {s: v[r] for s, v in train_vals.items()},
                              same, len(net.blocks))
        result[r] = (metrics, layers)
    return result


def _train_mode_pass(net: MLP, task: Task, X: np.ndarray, y: np.ndarray, batch_size: int, capture):
    """((R,) losses, (R,) accuracies) of X in training mode, mini-batch by mini-batch, and the
    captured layer values back in X's order; (None, None) for a single row. Batch norm's buffers
    are restored after."""
    saved = bn_buffers(net)
    pieces: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
    loss_sum = acc_sum = 0.0
    m = X.shape[-2]
    batches = minibatches(m, batch_size, np.random.default_rng(0)) if m > 1 else []
    for idx in batches:
        idx = np.sort(idx)
        loss, acc = task.evaluate(net.forward(X[:, idx], training=True), y[:, idx])
        loss_sum = loss_sum + loss * len(idx)
        acc_sum = acc_sum + acc * len(idx)
        pieces.append((idx, capture()))
    restore_bn(saved, batch_stats=True)
    if not pieces:
        return None, None
    order = np.concatenate([i for i, _ in pieces])
    values = {}
    for s in pieces[0][1]:
        v = np.concatenate([p[s] for _, p in pieces], axis=2)
        restored = np.empty_like(v)
        restored[:, :, order] = v  # back in X's order, to pair with eval mode
        values[s] = restored
    return (loss_sum / len(order), acc_sum / len(order)), values


def _mode_layers(eval_vals: dict, train_vals: dict | None, same: dict, depth: int) -> pd.DataFrame:
    """Per layer, stage and mode (one run's values, (depth, n, k) per stage): the values' summary
    and the rms difference between the modes; rows that are not finite (eval mode can blow up)
    are dropped."""
    cols: dict[str, list] = {c: [] for c in MODE_SCHEMA["mode_layers"]}
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
    return typed_frame({c: v[finite] for c, v in data.items()}, MODE_SCHEMA["mode_layers"])
