"""Optimizers matching ``torch.optim.SGD`` (with or without momentum) and ``torch.optim.Adam``.

``opt.step(params)`` takes the ``(name, param, grad)`` triples of a network
(``MLP.params()``) and updates every ``param`` in place. Gradients are read,
never modified. Weight decay is L2 regularisation added to the gradient,
``g = grad + weight_decay * param``, as both PyTorch optimizers do.

State (momentum buffers, Adam moments) is kept per parameter position, so
pass the same parameters in the same order at every step.

Fast path: when the parameters are, in order, contiguous views tiling one flat
buffer (and the gradients likewise), as ``core.network.MLP`` arranges, the
update is done on the flat buffers with a few vector operations for the whole
network. Otherwise each parameter is updated on its own; the results are the
same.

Telemetry: ``step(params, record=True)`` returns, per parameter name, a
``StepRecord(grad_norm, update_norm, weight_norm, ratio)``: the L2 norms of
the raw gradient, of the update applied, of the weight before the update,
and ``ratio = update_norm / weight_norm`` (0.0 when the weight is all zero).
With ``record=False`` (the default) nothing extra is computed.
"""

from __future__ import annotations

import math
import operator
from typing import NamedTuple

import numpy as np

__all__ = ["OPTIMIZERS", "SGD", "Adam", "Momentum", "Optimizer", "StepRecord", "make_optimizer"]

OPTIMIZERS = ("sgd", "momentum", "adam")


class StepRecord(NamedTuple):
    """Per-parameter statistics of one optimizer step (L2 norms)."""

    grad_norm: float
    update_norm: float
    weight_norm: float
    ratio: float


def _check_float(name: str, value, low: float, high: float = math.inf, *, low_open: bool = False) -> float:
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = math.isfinite(value) and (value > low if low_open else value >= low) and value <= high
    if not ok:
        left = "(" if low_open else "["
        right = "]" if math.isfinite(high) else ")"
        raise ValueError(
            f"The '{name}' parameter must be a float in the range {left}{low}, {high}{right}. Got {value!r} instead."
        )
    return value


def _flat_base(arrays: list[np.ndarray]) -> np.ndarray | None:
    """The 1-d buffer that ``arrays`` tile exactly, in order, as contiguous views; else None."""
    base = arrays[0].base
    if base is None or base.ndim != 1 or not base.flags.c_contiguous or not base.flags.writeable:
        return None
    position = base.__array_interface__["data"][0]
    end = position + base.nbytes
    for a in arrays:
        if a.base is not base or not a.flags.c_contiguous or a.__array_interface__["data"][0] != position:
            return None
        position += a.nbytes
    return base if position == end else None


class Optimizer:
    """Base class: bookkeeping of the parameter layout and of the optional record."""

    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        self.lr = _check_float("lr", lr, 0.0, low_open=True)
        self.weight_decay = _check_float("weight_decay", weight_decay, 0.0)
        self.step_count = 0
        self._layout_key: list[np.ndarray] | None = None
        self._seen_params: list[tuple] | None = None
        self._state: list[dict[str, np.ndarray]] = []

    def _layout(self, params) -> tuple[list, list]:
        """(param arrays, grad arrays) to update: the flat buffers when possible.

        Re-detected only when the parameter or gradient arrays change; the
        state is reset when they do.
        """
        # Fast path: the very same (name, param, grad) tuples as last time hold the same arrays.
        seen = self._seen_params
        if seen is not None and len(seen) == len(params) and all(map(operator.is_, seen, params)):
            return self._targets
        key = [p for _, p, _ in params] + [g for _, _, g in params]
        old = self._layout_key
        if old is None or len(old) != len(key) or not all(map(operator.is_, old, key)):
            arrays, grads = key[: len(params)], key[len(params) :]
            for name, p, g in params:
                if p.shape != g.shape or p.dtype != g.dtype:
                    raise ValueError(
                        f"Parameter {name!r} is {p.dtype} {p.shape} but its gradient is {g.dtype} {g.shape}."
                    )
            flat_p, flat_g = _flat_base(arrays), _flat_base(grads)
            if flat_p is not None and flat_g is not None and flat_p.dtype == flat_g.dtype:
                self._targets = ([flat_p], [flat_g])
                self._offsets = np.cumsum([0] + [a.size for a in arrays[:-1]])
            else:
                self._targets = (arrays, grads)
                self._offsets = None
            self._layout_key = key
            self._state = [self._new_state(p) for p in self._targets[0]]
        # tuples cannot be changed in place; anything else is checked array by array every time
        self._seen_params = list(params) if all(type(t) is tuple for t in params) else None
        return self._targets

    def _new_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return {"tmp": np.empty_like(p)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> np.ndarray:
        """Advance the state and return the update u (applied as ``p -= u``)."""
        raise NotImplementedError

    def _decayed(self, p: np.ndarray, g: np.ndarray, state) -> np.ndarray:
        """The gradient with L2 weight decay added (in ``state["g"]``), or g itself."""
        if not self.weight_decay:
            return g
        buf = state.get("g")
        if buf is None:
            buf = state["g"] = np.empty_like(p)
        np.multiply(p, p.dtype.type(self.weight_decay), out=buf)
        buf += g
        return buf

    def step(self, params, record: bool = False) -> dict[str, StepRecord] | None:
        """Update every param in place from its grad.

        params: list of ``(name, param, grad)`` triples. With ``record=True``,
        returns ``{name: StepRecord}`` for this step; otherwise None.
        """
        if not params:
            return {} if record else None
        targets, grads = self._layout(params)
        self.step_count += 1
        stats = {} if record else None
        for i, (p, g, state) in enumerate(zip(targets, grads, self._state, strict=True)):
            u = self._update(p, g, state)
            if record:
                if self._offsets is not None:
                    stats = _records([name for name, _, _ in params], self._offsets, g, u, p)
                else:
                    stats.update(_records([params[i][0]], np.zeros(1, dtype=np.intp), g, u, p))
            p -= u
        return stats


def _records(names: list[str], offsets: np.ndarray, g: np.ndarray, u: np.ndarray, w: np.ndarray) -> dict:
    """StepRecords of the segments of flat-able g, u, w starting at ``offsets``: one reduction each."""
    g_n, u_n, w_n = (
        np.sqrt(np.add.reduceat(np.square(v.ravel(), dtype=np.float64), offsets)) for v in (g, u, w)
    )
    ratio = np.divide(u_n, w_n, out=np.zeros_like(u_n), where=w_n > 0)
    return {
        name: StepRecord(float(g_n[i]), float(u_n[i]), float(w_n[i]), float(ratio[i]))
        for i, name in enumerate(names)
    }


class SGD(Optimizer):
    """Plain stochastic gradient descent: ``p -= lr * (grad + weight_decay * p)`` (``torch.optim.SGD``)."""

    def _update(self, p, g, state):
        g = self._decayed(p, g, state)
        return np.multiply(g, p.dtype.type(self.lr), out=state["tmp"])

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, weight_decay={self.weight_decay})"


class Momentum(Optimizer):
    """SGD with momentum, PyTorch's formulation (``torch.optim.SGD(momentum=mu)``, no dampening):

    ``buf = mu * buf + g`` (``buf = g`` at the first step), ``p -= lr * buf``.
    """

    def __init__(self, lr: float, momentum: float = 0.9, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
        self.momentum = _check_float("momentum", momentum, 0.0, 1.0)

    def _new_state(self, p):
        return {"tmp": np.empty_like(p), "buf": np.zeros_like(p)}

    def _update(self, p, g, state):
        g = self._decayed(p, g, state)
        buf = state["buf"]
        buf *= p.dtype.type(self.momentum)
        buf += g
        return np.multiply(buf, p.dtype.type(self.lr), out=state["tmp"])

    def __repr__(self) -> str:
        return f"Momentum(lr={self.lr}, momentum={self.momentum}, weight_decay={self.weight_decay})"


class Adam(Optimizer):
    """Adam as ``torch.optim.Adam`` (L2 weight decay added to the gradient, not AdamW):

    ``m = b1 * m + (1 - b1) * g``, ``v = b2 * v + (1 - b2) * g**2``,
    ``p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``.
    """

    def __init__(
        self,
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, weight_decay)
        b1, b2 = betas
        self.betas = (_check_float("betas[0]", b1, 0.0, 1.0), _check_float("betas[1]", b2, 0.0, 1.0))
        if self.betas[0] >= 1.0 or self.betas[1] >= 1.0:
            raise ValueError(
                f"The 'betas' parameter must hold floats in the range [0, 1). Got {betas!r} instead."
            )
        self.eps = _check_float("eps", eps, 0.0)

    def _new_state(self, p):
        # M = m / (1 - b1) and V = v / (1 - b2): the same moments, rescaled so each
        # updates with two vector operations; the constants fold into the step.
        return {"tmp": np.empty_like(p), "M": np.zeros_like(p), "V": np.zeros_like(p)}

    def _update(self, p, g, state):
        g = self._decayed(p, g, state)
        t = self.step_count
        b1, b2 = self.betas
        f = p.dtype.type
        M, V, tmp = state["M"], state["V"], state["tmp"]
        M *= f(b1)  # M = b1 * M + g
        M += g
        np.multiply(g, g, out=tmp)  # V = b2 * V + g * g
        V *= f(b2)
        V += tmp
        # sqrt(v) / sqrt(1 - b2**t) + eps = a * (sqrt(V) + eps / a), a = sqrt((1 - b2) / (1 - b2**t))
        a = math.sqrt((1.0 - b2) / (1.0 - b2**t))
        np.sqrt(V, out=tmp)
        tmp += f(self.eps / a)
        np.divide(M, tmp, out=tmp)
        tmp *= f(self.lr * (1.0 - b1) / ((1.0 - b1**t) * a))
        return tmp

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, weight_decay={self.weight_decay})"


def make_optimizer(name: str, lr: float, weight_decay: float = 0.0, momentum: float = 0.9) -> Optimizer:
    """An optimizer by name: ``"sgd"``, ``"momentum"`` (SGD with momentum) or ``"adam"``."""
    if name == "sgd":
        return SGD(lr, weight_decay=weight_decay)
    if name == "momentum":
        return Momentum(lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return Adam(lr, weight_decay=weight_decay)
    raise ValueError(f"The 'optimizer' parameter must be one of {OPTIMIZERS}. Got {name!r} instead.")
