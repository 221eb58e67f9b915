"""Losses (value and gradient with respect to the prediction) and accuracy.

Both losses are means over the batch, like PyTorch's defaults
(``torch.nn.CrossEntropyLoss()`` and ``torch.nn.MSELoss()``), and return
``(loss, grad)``: the loss as a Python float -- or, for a stack of runs, an
(R,) array, one mean per run -- and its gradient with the shape and dtype of
the prediction (for a stack: the gradient of the sum of the runs' losses, so
each run gets exactly its own gradient).
"""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "mse", "softmax_cross_entropy"]


def _scalar_or_runs(per_run: np.ndarray) -> float | np.ndarray:
    """A float for one run (0-d), the (R,) array for a stack."""
    return float(per_run) if per_run.ndim == 0 else per_run


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray):
    """Mean softmax cross-entropy of integer class labels.

    logits: (n, k) or (R, n, k) float; labels: (n,) or (R, n) int in [0, k).
    Returns ``(loss, grad)``: loss = mean(log(sum_j exp(logits_j)) - logits_label)
    (computed in float64), grad: like logits, ``(softmax(logits) - onehot(labels)) / n``.

    Numerically stable: the row maximum is subtracted before exponentiating.
    """
    logits, labels = np.asarray(logits), np.asarray(labels)
    n, k = logits.shape[-2:]
    if labels.shape != logits.shape[:-1]:
        raise ValueError(f"labels must have shape {logits.shape[:-1]} to match logits {logits.shape}, got {labels.shape}.")
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    sums = exp.sum(axis=-1, keepdims=True)  # (..., n, 1)
    onehot = labels[..., None] == np.arange(k)  # (..., n, k)
    at_label = (shifted * onehot).sum(axis=-1, dtype=np.float64)
    loss = (np.log(sums[..., 0], dtype=np.float64) - at_label).mean(axis=-1)
    grad = (exp / sums - onehot) / n
    return _scalar_or_runs(loss), grad


def mse(pred: np.ndarray, target: np.ndarray):
    """Mean squared error over samples.

    pred: (n,), (n, 1) or (R, n, 1); target: (n,) or (R, n) (the samples of pred).
    Returns ``(loss, grad)`` with loss = mean((pred - target)**2) (in float64) and
    grad = 2 * (pred - target) / n, shaped like ``pred``. A (n, 1) prediction is
    compared sample by sample with a (n,) target (as
    ``torch.nn.MSELoss()(pred.squeeze(1), target)``), never broadcast to (n, n).
    """
    pred, target = np.asarray(pred), np.asarray(target)
    samples = pred if pred.ndim == 1 else pred[..., 0]  # (n,) or (R, n)
    if pred.ndim > 1 and pred.shape[-1] != 1 or target.shape[-1] != samples.shape[-1] or target.ndim > samples.ndim:
        raise ValueError(
            f"mse expects pred of shape (n,), (n, 1) or (R, n, 1) and target of n values; got {pred.shape} and {target.shape}."
        )
    diff = samples - target.astype(pred.dtype, copy=False)
    loss = np.square(diff, dtype=np.float64).mean(axis=-1)
    grad = 2 * diff / samples.shape[-1]
    return _scalar_or_runs(loss), grad.reshape(pred.shape)


def accuracy(logits: np.ndarray, labels: np.ndarray):
    """Fraction of rows whose largest logit is at the label.

    logits: (n, k) or (R, n, k); labels: (n,) or (R, n) int. A float in [0, 1]
    (0.0 for n = 0), or an (R,) array for a stack.
    """
    logits, labels = np.asarray(logits), np.asarray(labels)
    if logits.shape[-2] == 0:
        return _scalar_or_runs(np.zeros(logits.shape[:-2]))
    return _scalar_or_runs((logits.argmax(axis=-1) == labels).mean(axis=-1))
