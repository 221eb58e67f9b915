"""The article's experiment: gradient descent on a least-squares loss.

The loss is the mean squared error of a linear model,

    L(w, b) = mean((y - X w - b)^2),

a quadratic whose Hessian H = 2/n [X 1]^T [X 1] is the same everywhere. Its
condition number (largest over smallest eigenvalue) is the length of the
valley: gradient descent with step size lr contracts the error along
eigenvector i by (1 - lr * lambda_i) per step, so it is stable only for
lr < 2 / lambda_max and then needs on the order of lambda_max / lambda_min
steps to crawl along the flattest direction.

Because the loss is quadratic, the iterates have a closed form,

    theta_k - theta* = V diag((1 - lr lambda)^k) V^T (theta_0 - theta*),

which is what :func:`descent_at` evaluates: any step, even the millionth,
costs the same, and the result equals plain iteration (see the tests).

Momentum keeps a velocity. With e = theta - theta* and g = H e the gradient,

    heavy ball:  v_{k+1} = beta v_k - lr g(theta_k),             theta_{k+1} = theta_k + v_{k+1}
    Nesterov:    v_{k+1} = beta v_k - lr g(theta_k + beta v_k),  theta_{k+1} = theta_k + v_{k+1}

and since v_k = theta_k - theta_{k-1}, the pair (e_{k+1}, e_k) is a fixed matrix T times
(e_k, e_{k-1}) (:func:`momentum_matrix`). Iterate k is T^k applied to (e_0, e_0), and
:func:`momentum_at` raises T to any power by repeated squaring. The largest |eigenvalue| of T
is the per-step rate of the slowest direction (:func:`spectral_radius`); plain descent is
beta = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from core.params import Spec, check

__all__ = [
    "Trajectory",
    "Quadratic",
    "quadratic",
    "mse",
    "mse_gradient",
    "gradient_descent",
    "descent_at",
    "condition_number",
    "max_stable_lr",
    "steps_to_within",
    "loss_grid",
    "sample_steps",
    "DIVERGENCE_FACTOR",
    "METHODS",
    "momentum_matrix",
    "matrix_powers",
    "momentum_at",
    "spectral_radius",
    "stable_lr_limit",
    "steps_to_settle",
    "best_rates",
]

#: the descent methods: plain gradient descent, heavy-ball momentum, Nesterov's momentum
METHODS = ("plain", "momentum", "nesterov")

#: a run counts as diverged once its loss exceeds this many times its start
#: (or becomes inf/NaN); growth past the stable rate is geometric, so this
#: only decides how soon it is called.
DIVERGENCE_FACTOR = 1e6


def _design(X: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """X: (n, d) -> (n, d+1) with a column of ones when fit_intercept."""
    X = np.asarray(X, dtype=np.float64)
    return np.column_stack([X, np.ones(len(X))]) if fit_intercept else X


def mse(X, y, w, b=0.0) -> float:
    """Mean squared error of the linear model w: (d,), b scalar on X: (n, d)."""
    r = np.asarray(y, float) - np.asarray(X, float) @ np.asarray(w, float) - b
    return float(np.mean(r * r))


def mse_gradient(X, y, w, b=0.0) -> tuple[np.ndarray, float]:
    """(dL/dw: (d,), dL/db) of :func:`mse`."""
    X = np.asarray(X, float)
    r = np.asarray(y, float) - X @ np.asarray(w, float) - b
    n = len(r)
    return -2.0 / n * (X.T @ r), float(-2.0 / n * r.sum())


@dataclass(frozen=True, eq=False)
class Quadratic:
    """The MSE loss of one design as a quadratic: everything descent needs.

    hessian: (p, p) with p = d (+1 with intercept); eigvals ascending, eigvecs
    columns; theta_star: (p,) least-squares minimiser; loss_star its loss.
    mean, scale: (d,) of the standardization applied (zeros/ones if none).
    """

    X: np.ndarray  # (n, d), as descended on (standardized if asked)
    y: np.ndarray
    fit_intercept: bool
    hessian: np.ndarray
    eigvals: np.ndarray
    eigvecs: np.ndarray
    theta_star: np.ndarray
    loss_star: float
    mean: np.ndarray
    scale: np.ndarray

    @property
    def condition_number(self) -> float:
        lo = self.eigvals[0]
        return float(self.eigvals[-1] / lo) if lo > 0 else float("inf")

    @property
    def max_stable_lr(self) -> float:
        return float(2.0 / self.eigvals[-1])

    def loss(self, theta: np.ndarray) -> np.ndarray:
        """Loss at parameters theta: (..., p) -> (...)."""
        e = theta - self.theta_star
        return self.loss_star + 0.5 * np.einsum("...i,ij,...j->...", e, self.hessian, e)

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """theta (..., p) -> weights (..., d), bias (...)."""
        if self.fit_intercept:
            return theta[..., :-1], theta[..., -1]
        return theta, np.zeros(theta.shape[:-1])

    def theta(self, w: np.ndarray, b: float = 0.0) -> np.ndarray:
        w = np.asarray(w, dtype=np.float64)
        return np.r_[w, b] if self.fit_intercept else w.copy()

    def from_raw(self, w_raw, b_raw=0.0) -> tuple[np.ndarray, float]:
        """The same model in this quadratic's coordinates: w_s = w * scale."""
        w_raw = np.asarray(w_raw, dtype=np.float64)
        return w_raw * self.scale, float(b_raw + w_raw @ self.mean)

    def to_raw(self, w, b) -> tuple[np.ndarray, np.ndarray]:
        """Weights (..., d) and bias (...) back to raw-feature coordinates."""
        w = np.asarray(w, dtype=np.float64)
        w_raw = w / self.scale
        return w_raw, np.asarray(b) - w_raw @ self.mean


def quadratic(X, y, *, standardize: bool, fit_intercept: bool = True) -> Quadratic:
    """Build the :class:`Quadratic` for X: (n, d), y: (n,).

    With ``standardize`` the features go through scikit-learn's
    ``StandardScaler`` first (mean 0, population std 1).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    d = X.shape[1]
    if standardize:
        scaler = StandardScaler().fit(X)
        Xs = scaler.transform(X)
        mean, scale = scaler.mean_.copy(), scaler.scale_.copy()
    else:
        Xs, mean, scale = X, np.zeros(d), np.ones(d)
    A = _design(Xs, fit_intercept)
    n = len(y)
    hessian = 2.0 / n * (A.T @ A)
    eigvals, eigvecs = np.linalg.eigh(hessian)
    eigvals = np.clip(eigvals, 0.0, None)
    theta_star = np.linalg.lstsq(A, y, rcond=None)[0]
    r = y - A @ theta_star
    return Quadratic(Xs, y, fit_intercept, hessian, eigvals, eigvecs, theta_star,
                     float(np.mean(r * r)), mean, scale)


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Gradient-descent iterates.

    steps: (k,) step numbers; weights: (k, d); bias: (k,); loss: (k,) MSE of
    each iterate. When the run diverged, the arrays stop before the first
    non-finite or exploded iterate and ``diverged_at`` is that step.
    """

    steps: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    loss: np.ndarray
    lr: float
    diverged_at: int | None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


def descent_at(q: Quadratic, steps, *, lr: float, theta0: np.ndarray) -> Trajectory:
    """Gradient descent on ``q`` evaluated at the given step numbers (ascending).

    steps: (k,) non-negative ints. Uses the closed form of the iterates.
    """
    steps = np.asarray(steps, dtype=np.int64)
    theta0 = np.asarray(theta0, dtype=np.float64)
    c = q.eigvecs.T @ (theta0 - q.theta_star)  # (p,)
    mu = 1.0 - lr * q.eigvals  # (p,)
    with np.errstate(over="ignore", invalid="ignore"):
        # mu ** k for every step and mode: |mu| > 1 grows (diverges)
        coeff = mu[None, :] ** steps[:, None] * c[None, :]  # (k, p)
        theta = q.theta_star[None, :] + coeff @ q.eigvecs.T
        loss = q.loss_star + 0.5 * np.sum(coeff * coeff * q.eigvals[None, :], axis=1)
    start = q.loss_star + 0.5 * float(np.sum(c * c * q.eigvals))
    return _trajectory(q, steps, theta, loss, lr=lr, start=start)


def _trajectory(q: Quadratic, steps: np.ndarray, theta: np.ndarray, loss: np.ndarray, *, lr: float,
                start: float) -> Trajectory:
    """The iterates up to the first non-finite or exploded one (loss past DIVERGENCE_FACTOR × start)."""
    limit = DIVERGENCE_FACTOR * max(start, 1e-12)
    bad = ~np.isfinite(loss) | (loss > limit) | ~np.isfinite(theta).all(axis=1)
    diverged_at = None
    if bad.any():
        first = int(np.argmax(bad))
        diverged_at = int(steps[first])
        steps, theta, loss = steps[:first], theta[:first], loss[:first]
    w, b = q.split(theta)
    return Trajectory(steps, w, b, loss, float(lr), diverged_at)


def _theta0(q: Quadratic, w0) -> np.ndarray:
    d = q.X.shape[1]
    w = np.zeros(d) if w0 is None else np.asarray(w0, dtype=np.float64).reshape(d)
    return q.theta(w, 0.0)


def gradient_descent(X, y, *, lr: float, steps: int, standardize: bool,
                     fit_intercept: bool = True, w0=None) -> Trajectory:
    """Full-batch gradient descent on the MSE, every iterate from 0 to ``steps``.

    X: (n, d), y: (n,). w0: (d,) starting weights in the coordinates descended
    on (standardized ones when ``standardize``), zeros when None; the bias
    starts at 0. Never raises on divergence: the trajectory stops and
    ``diverged_at`` names the step.
    """
    check("lr", lr, Spec("float", low=0, low_open=True))
    check("steps", steps, Spec("int", low=0))
    q = quadratic(X, y, standardize=standardize, fit_intercept=fit_intercept)
    return descent_at(q, np.arange(int(steps) + 1), lr=lr, theta0=_theta0(q, w0))


def condition_number(X, fit_intercept: bool = True) -> float:
    """Condition number of the MSE Hessian 2/n [X 1]^T [X 1] for X as given."""
    A = _design(X, fit_intercept)
    ev = np.linalg.eigvalsh(A.T @ A)
    return float(ev[-1] / ev[0]) if ev[0] > 0 else float("inf")


def max_stable_lr(X, fit_intercept: bool = True) -> float:
    """2 / largest eigenvalue of the MSE Hessian: above it descent diverges."""
    A = _design(X, fit_intercept)
    return float(2.0 / np.linalg.eigvalsh(2.0 / len(A) * (A.T @ A))[-1])


def steps_to_within(q: Quadratic, *, lr: float, theta0, rel: float = 0.01,
                    max_steps: int = 10**7) -> int | None:
    """First step whose loss is within ``rel`` of the optimum (loss <= (1+rel) L*).

    Exact: the loss of a stable run never increases (every mode shrinks), so
    a binary search over the closed form finds the first such step. None if
    not reached within ``max_steps`` or the run is unstable.
    """
    target = q.loss_star * (1.0 + rel) + 1e-12
    first = descent_at(q, [0, max_steps], lr=lr, theta0=theta0)
    if first.diverged or len(first.loss) < 2 or first.loss[1] > target:
        return None
    if first.loss[0] <= target:
        return 0
    lo, hi = 0, max_steps  # loss(lo) > target >= loss(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if descent_at(q, [mid], lr=lr, theta0=theta0).loss[0] <= target:
            hi = mid
        else:
            lo = mid
    return hi


# ---------------------------------------------------------------- momentum

def momentum_matrix(q: Quadratic, *, lr: float, beta: float, nesterov: bool = False) -> np.ndarray:
    """T: (2p, 2p) with (e_{k+1}, e_k) = T (e_k, e_{k-1}), where e = theta - theta*.

    heavy ball: e_{k+1} = (I - lr H) e_k + beta (e_k - e_{k-1})
    Nesterov:   e_{k+1} = (I - lr H) (e_k + beta (e_k - e_{k-1}))
    """
    p = len(q.theta_star)
    eye, zero = np.eye(p), np.zeros((p, p))
    g = eye - lr * q.hessian  # one plain step: e -> (I - lr H) e
    if nesterov:
        top = np.hstack([(1 + beta) * g, -beta * g])
    else:
        top = np.hstack([g + beta * eye, -beta * eye])
    return np.vstack([top, np.hstack([eye, zero])])


def matrix_powers(T: np.ndarray, ks) -> np.ndarray:
    """T: (m, m), ks: (k,) non-negative ints -> (k, m, m), T**ks[i], by repeated squaring."""
    ks = np.asarray(ks, dtype=np.int64)
    out = np.broadcast_to(np.eye(len(T)), (len(ks), *T.shape)).copy()
    square = T.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for bit in range(int(ks.max()).bit_length() if len(ks) else 0):
            odd = (ks >> bit) & 1 == 1
            out[odd] = out[odd] @ square
            square = square @ square
    return out


def momentum_at(q: Quadratic, steps, *, lr: float, beta: float, theta0: np.ndarray,
                nesterov: bool = False) -> Trajectory:
    """Descent with momentum on ``q`` at the given step numbers, starting at rest (v_0 = 0).

    steps: (k,) non-negative ints. The same :class:`Trajectory` as :func:`descent_at` (which it
    equals for beta = 0), cut at divergence the same way.
    """
    steps = np.asarray(steps, dtype=np.int64)
    e0 = np.asarray(theta0, dtype=np.float64) - q.theta_star
    T = momentum_matrix(q, lr=lr, beta=beta, nesterov=nesterov)
    with np.errstate(over="ignore", invalid="ignore"):
        e = (matrix_powers(T, steps) @ np.r_[e0, e0])[:, : len(e0)]  # (k, p)
        theta = q.theta_star[None, :] + e
        loss = q.loss_star + 0.5 * np.einsum("ki,ij,kj->k", e, q.hessian, e)
    return _trajectory(q, steps, theta, loss, lr=lr, start=q.loss_star + 0.5 * float(e0 @ q.hessian @ e0))


def spectral_radius(T: np.ndarray) -> float:
    """The largest |eigenvalue| of T: the per-step contraction of the slowest direction (< 1: converges)."""
    return float(np.abs(np.linalg.eigvals(T)).max())


def stable_lr_limit(q: Quadratic, *, beta: float = 0.0, nesterov: bool = False) -> float:
    """The largest stable learning rate of the method, measured: the edge where the spectral radius of
    its :func:`momentum_matrix` reaches 1, found by bisection (for plain descent, 2/λ_max)."""
    def stable(lr: float) -> bool:
        return spectral_radius(momentum_matrix(q, lr=lr, beta=beta, nesterov=nesterov)) < 1.0

    lo, hi = 1e-3 / q.eigvals[-1], 8.0 / q.eigvals[-1]  # stable, unstable (every limit is below 4/λ_max)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if stable(mid) else (lo, mid)
    return float(lo)


def steps_to_settle(q: Quadratic, *, lr: float, beta: float, theta0, nesterov: bool = False,
                    rel: float = 0.01, max_steps: int = 10**7, block: int = 4096) -> int | None:
    """First step from which the loss stays within ``rel`` of the optimum (loss <= (1+rel) L*).

    Momentum's loss goes up and down, so a first visit is not enough: the run is read block by
    block (each block is T^0 .. T^(block-1) applied to the state at its start) until it has stayed
    within for ``3 / (1 - rate)`` steps (three e-foldings of the slowest direction, at least one
    block). None if the method is unstable or has not settled by ``max_steps``. For beta = 0 it
    equals :func:`steps_to_within` (plain descent's loss never rises).
    """
    T = momentum_matrix(q, lr=lr, beta=beta, nesterov=nesterov)
    rate = spectral_radius(T)
    if not rate < 1.0:
        return None
    target = q.loss_star * (1.0 + rel) + 1e-12
    window = max(block, int(np.ceil(3.0 / (1.0 - rate))))
    powers = matrix_powers(T, np.arange(block))  # (block, 2p, 2p)
    jump = powers[-1] @ T  # T^block
    e0 = np.asarray(theta0, dtype=np.float64) - q.theta_star
    state, p, start, last_above = np.r_[e0, e0], len(e0), 0, -1
    while start < max_steps:
        e = (powers @ state)[:, :p]
        above = np.flatnonzero(q.loss_star + 0.5 * np.einsum("ki,ij,kj->k", e, q.hessian, e) > target)
        if len(above):
            last_above = start + int(above[-1])
        start += block
        if start - (last_above + 1) >= window:
            return last_above + 1
        state = jump @ state
    return None


def best_rates(q: Quadratic) -> dict[str, float]:
    """The best per-step rates for this surface's condition number κ (Distill, "Why Momentum Really
    Works"): plain descent at its best rate, (κ-1)/(κ+1); heavy ball at its best rate and β,
    (√κ-1)/(√κ+1); with the learning rate and β that reach them."""
    lo, hi = float(q.eigvals[0]), float(q.eigvals[-1])
    if not lo > 0:  # a flat direction (collinear features): no rate below 1 is possible
        return {"plain": 1.0, "plain_lr": 2.0 / hi, "momentum": 1.0, "momentum_lr": 1.0 / hi, "momentum_beta": 1.0}
    kappa = hi / lo
    root = np.sqrt(kappa)
    return {
        "plain": (kappa - 1) / (kappa + 1), "plain_lr": 2.0 / (hi + lo),
        "momentum": (root - 1) / (root + 1), "momentum_lr": (2.0 / (np.sqrt(hi) + np.sqrt(lo))) ** 2,
        "momentum_beta": ((root - 1) / (root + 1)) ** 2,
    }


def sample_steps(steps: int, max_points: int = 400) -> np.ndarray:
    """Up to ``max_points`` step numbers in [0, steps]: every early step, then log-spaced.

    Keeps the last step. Enough to draw a path or a log-x loss curve.
    """
    if steps + 1 <= max_points:
        return np.arange(steps + 1)
    head = np.arange(min(50, max_points // 4))
    tail = np.unique(np.geomspace(max(head[-1], 1), steps, max_points - len(head)).astype(np.int64))
    return np.unique(np.r_[head, tail, steps])


def loss_grid(q: Quadratic, wa: np.ndarray, wb: np.ndarray) -> pd.DataFrame:
    """The loss over a grid of the first two weights, in q's coordinates.

    wa: (na,), wb: (nb,) -> tidy frame (w_a, w_b, loss) of na*nb rows. With an
    intercept the bias takes its best value at every point (the surface is
    the loss with the bias minimised out); other weights sit at the optimum.
    """
    WA, WB = np.meshgrid(np.asarray(wa, float), np.asarray(wb, float), indexing="xy")
    theta = np.broadcast_to(q.theta_star, WA.shape + q.theta_star.shape).copy()
    theta[..., 0] = WA
    theta[..., 1] = WB
    if q.fit_intercept:
        # best bias for these weights: mean(y - X w)
        theta[..., -1] = q.y.mean() - theta[..., :-1] @ q.X.mean(axis=0)
    loss = q.loss(theta)
    return pd.DataFrame({"w_a": WA.ravel(), "w_b": WB.ravel(), "loss": loss.ravel()})
