"""Losses (value and gradient with respect to the prediction) and accuracy.

Both losses are means over the batch, like PyTorch's defaults
(``torch.nn.CrossEntropyLoss()`` and ``torch.nn.MSELoss()``), and return
``(loss, grad)``: the loss as a Python float and its gradient with the shape
and dtype of the prediction.
"""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "mse", "softmax_cross_entropy"]


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy of integer class labels.

    logits: (n, k) float; labels: (n,) int in [0, k).
    Returns ``(loss, grad)`` with grad: (n, k) = (softmax(logits) - onehot(labels)) / n.

    Numerically stable: the row maximum is subtracted before exponentiating,
    so large logits give a finite loss.
    """
    logits = np.asarray(logits)
    labels = np.asarray(labels)
    n, k = logits.shape
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match logits {logits.shape}, got {labels.shape}.")
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    sums = np.add.reduce(p, axis=1)
    # loss_i = log(sum_j exp(shifted_ij)) - shifted_i,label_i, averaged in float64
    total = np.add.reduce(np.log(sums), dtype=np.float64) - np.add.reduce(
        shifted[rows, labels], dtype=np.float64
    )
    loss = float(total) / n
    p /= sums[:, None]
    p[rows, labels] -= 1
    p *= 1.0 / n
    return loss, p


def mse(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over samples.

    pred: (n,) or (n, 1); target: (n,) (or the shape of pred).
    Returns ``(loss, grad)`` with loss = mean((pred - target)**2) and
    grad = 2 * (pred - target) / n, shaped like ``pred``.

    A (n, 1) prediction is compared sample by sample with a (n,) target (what
    ``torch.nn.MSELoss()(pred.squeeze(1), target)`` computes), never broadcast
    to (n, n).
    """
    pred = np.asarray(pred)
    target = np.asarray(target)
    n = pred.shape[0]
    if pred.size != n or target.size != n:
        raise ValueError(
            f"mse expects pred of shape (n,) or (n, 1) and target of n values; got {pred.shape} and {target.shape}."
        )
    diff = pred.reshape(n) - target.reshape(n).astype(pred.dtype, copy=False)
    loss = float(np.add.reduce(np.square(diff, dtype=np.float64))) / n
    grad = diff
    grad *= 2.0 / n
    return loss, grad.reshape(pred.shape)


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows whose largest logit is at the label.

    logits: (n, k); labels: (n,) int. Returns a float in [0, 1] (0.0 for n = 0).
    """
    logits = np.asarray(logits)
    labels = np.asarray(labels)
    n = logits.shape[0]
    if n == 0:
        return 0.0
    return np.count_nonzero(logits.argmax(axis=1) == labels) / n
