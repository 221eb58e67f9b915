"""Optimizers matching ``torch.optim.SGD`` (with or without momentum) and ``torch.optim.Adam``.

``opt.step(params)`` takes the ``(name, param, grad)`` triples of a network
(``MLP.params()``) and updates every ``param`` in place (``param -= update``);
gradients are read, never modified. Weight decay is L2 regularisation added to
the gradient, ``g = grad + weight_decay * param``, as both PyTorch optimizers do.

The state (momentum buffers, Adam's moments) is kept per parameter position,
so pass the same parameters in the same order at every step; like
``torch.optim``, it is updated in place (``buf *= mu; buf += g`` is
``buf = mu * buf + g`` without a new array each step). Pass ``net.flat()``
to update a whole network as one vector. A stacked
network's parameters carry their runs axis; every update is elementwise, so
each run is updated exactly as it would be alone.

Per-run hyperparameters: ``lr``, ``momentum`` and ``weight_decay`` may each be
a sequence of R values, one per run of a stacked network; they are kept as
(R, 1) columns of ``dtype`` (give the network's, so the update stays in its
precision), which broadcast over the rows of the network's flat vector
(R, P) (``net.flat()``), so run r is updated with its own values.

Telemetry: ``step(params, record=True)`` returns, per parameter name, a
``StepRecord(grad_norm, update_norm, weight_norm, ratio)``: the L2 norms of the
raw gradient, of the update applied and of the weight before it, and
``ratio = update_norm / weight_norm`` (0.0 for an all-zero weight).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from core.nn.checks import check_choice, check_float

__all__ = ["OPTIMIZERS", "SGD", "Adam", "Momentum", "Optimizer", "StepRecord", "make_optimizer"]

OPTIMIZERS = ("sgd", "momentum", "adam")


class StepRecord(NamedTuple):
    """Per-parameter statistics of one optimizer step (L2 norms)."""

    grad_norm: float
    update_norm: float
    weight_norm: float
    ratio: float


def _record(g: np.ndarray, u: np.ndarray, w: np.ndarray) -> StepRecord:
    g_n, u_n, w_n = (float(np.linalg.norm(v.astype(np.float64).ravel())) for v in (g, u, w))
    return StepRecord(g_n, u_n, w_n, u_n / w_n if w_n > 0 else 0.0)


def per_run(name: str, value, low: float, high: float = math.inf, *, low_open: bool = False, dtype=np.float64):
    """A checked hyperparameter: a float, or for a sequence (one value per run) an (R, 1) column of ``dtype``."""
    if isinstance(value, (list, tuple, np.ndarray)):
        checked = [check_float(name, v, low, high, low_open=low_open) for v in value]
        return np.array(checked, dtype=dtype).reshape(-1, 1)
    return check_float(name, value, low, high, low_open=low_open)


class Optimizer:
    """Base class: the step loop, weight decay, and the per-parameter state."""

    def __init__(self, lr, weight_decay=0.0, *, dtype=np.float64) -> None:
        self.dtype = np.dtype(dtype)
        self.lr = per_run("lr", lr, 0.0, low_open=True, dtype=dtype)
        self.weight_decay = per_run("weight_decay", weight_decay, 0.0, dtype=dtype)
        self.step_count = 0
        self.state: list[dict[str, np.ndarray]] = []

    def update(self, g: np.ndarray, state: dict[str, np.ndarray]) -> np.ndarray:
        """Advance ``state`` with the (decayed) gradient g and return the update u (``p -= u``)."""
        raise NotImplementedError

    def step(self, params, record: bool = False) -> dict[str, StepRecord] | None:
        """Update every param in place from its grad.

        params: list of ``(name, param, grad)`` triples. With ``record=True``,
        returns ``{name: StepRecord}`` for this step; otherwise None.
        """
        if len(self.state) != len(params):
            self.state = [{} for _ in params]
        self.step_count += 1
        stats = {} if record else None
        for (name, p, grad), state in zip(params, self.state, strict=True):
            if p.shape != grad.shape:
                raise ValueError(f"Parameter {name!r} is {p.shape} but its gradient is {grad.shape}.")
            g = grad + self.weight_decay * p if np.any(self.weight_decay) else grad
            u = self.update(g, state)
            if record:
                stats[name] = _record(grad, u, p)
            p -= u
        return stats


class SGD(Optimizer):
    """Plain stochastic gradient descent: ``p -= lr * g`` (``torch.optim.SGD``)."""

    def update(self, g, state):
        return self.lr * g

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, weight_decay={self.weight_decay})"


class Momentum(Optimizer):
    """SGD with momentum as ``torch.optim.SGD(momentum=mu)`` (no dampening):

    ``buf = mu * buf + g`` (``buf = g`` at the first step), ``p -= lr * buf``.
    """

    def __init__(self, lr, momentum=0.9, weight_decay=0.0, *, dtype=np.float64) -> None:
        super().__init__(lr, weight_decay, dtype=dtype)
        self.momentum = per_run("momentum", momentum, 0.0, 1.0, dtype=dtype)

    def update(self, g, state):
        if "buf" not in state:
            state["buf"] = g.copy()
        else:
            buf = state["buf"]  # buf = mu * buf + g, in place
            buf *= self.momentum
            buf += g
        return self.lr * state["buf"]

    def __repr__(self) -> str:
        return f"Momentum(lr={self.lr}, momentum={self.momentum}, weight_decay={self.weight_decay})"


class Adam(Optimizer):
    """Adam as ``torch.optim.Adam`` (L2 weight decay added to the gradient, not AdamW):

    ``m = b1 * m + (1 - b1) * g``, ``v = b2 * v + (1 - b2) * g**2``,
    ``p -= lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - b1**t)``,
    ``v_hat = v / (1 - b2**t)``.
    """

    def __init__(self, lr, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay=0.0, *, dtype=np.float64) -> None:
        super().__init__(lr, weight_decay, dtype=dtype)
        b1, b2 = betas
        self.betas = (check_float("betas[0]", b1, 0.0, 1.0), check_float("betas[1]", b2, 0.0, 1.0))
        if self.betas[0] >= 1.0 or self.betas[1] >= 1.0:
            raise ValueError(f"The 'betas' parameter must hold floats in the range [0, 1). Got {betas!r} instead.")
        self.eps = check_float("eps", eps, 0.0)

    def update(self, g, state):
        b1, b2 = self.betas
        t = self.step_count
        if not state:
            state["m"], state["v"] = np.zeros_like(g), np.zeros_like(g)
        m, v = state["m"], state["v"]
        m *= b1  # m = b1 * m + (1 - b1) * g, in place
        m += (1 - b1) * g
        v *= b2  # v = b2 * v + (1 - b2) * g**2, in place
        v += (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, weight_decay={self.weight_decay})"


def make_optimizer(name: str, lr, weight_decay=0.0, momentum=0.9, *, dtype=np.float64) -> Optimizer:
    """An optimizer by name: ``"sgd"``, ``"momentum"`` (SGD with momentum) or ``"adam"``
    (hyperparameters a float, or one per run: see the module docstring)."""
    check_choice("optimizer", name, OPTIMIZERS)
    if name == "sgd":
        return SGD(lr, weight_decay=weight_decay, dtype=dtype)
    if name == "momentum":
        return Momentum(lr, momentum=momentum, weight_decay=weight_decay, dtype=dtype)
    return Adam(lr, weight_decay=weight_decay, dtype=dtype)


