"""Network layers in plain numpy, CS231n style, on one run or on a stack of runs.

Every layer takes a batch ``x`` of shape (n, d) -- ``n`` samples of ``d``
features -- or a *stack* of batches (R, n, d), one per run, and returns an
array of the same layout. The code is written once for the stacked shape: the
batch axis is always -2 and the feature axis -1, so an (n, d) input is simply
a stack without its leading axis (nothing is copied or reshaped for it).

A layer built with ``runs=None`` (the default) has one set of parameters,
shaped as in PyTorch (``gamma``: (d,), ``W``: (d, k)); a layer built with
``runs=R`` has one set per run, with a leading runs axis (``gamma``: (R, 1, d),
``W``: (R, d, k); the 1 lets it broadcast over the batch), and takes (R, n, d).

``forward`` keeps what ``backward`` needs; ``backward(grad_out)`` returns the
gradient with respect to the input and writes the parameter gradients into
``grad_<name>`` (same shape as the parameter; overwritten, never accumulated).
``params()`` lists ``(name, param, grad)`` triples for the optimizers.

Normalization layers have PyTorch's semantics (``torch.nn.BatchNorm1d``,
``LayerNorm``, ``GroupNorm``, ``RMSNorm``), checked in tests/core/test_torch_parity.py.
"""

from __future__ import annotations

import numpy as np

from core.nn.checks import check_choice, check_float, check_int
from core.nn.init import INITS, init_weight

__all__ = [
    "ACTIVATIONS",
    "BatchNorm1d",
    "Dense",
    "GroupNorm",
    "Identity",
    "Layer",
    "LayerNorm",
    "NORM_LAYERS",
    "NoisyBatchNorm1d",
    "RMSNorm",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "make_activation",
    "make_norm",
    "sum_to_shape",
]


def sum_to_shape(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``g`` over the axes that broadcasting added or stretched, so it has ``shape``.

    The gradient of a parameter that was broadcast in the forward pass: a bias
    (k,) added to an (n, k) or (R, n, k) output gets the sum over the leading
    axes; a per-run bias (R, 1, k) gets the sum over the batch axis (-2).
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead == 1 and g.shape[0] == 1:  # (1, k) -> (k,): nothing was broadcast
        return g[0]
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    if g.shape != shape:
        g = sum_over(g, -2)
    return g


def sum_over(x: np.ndarray, axis: int) -> np.ndarray:
    """The sum of ``x`` over ``axis``, kept as an axis of length 1."""
    return x.sum(axis=axis, keepdims=True)


def mean_over(x: np.ndarray, axis: int) -> np.ndarray:
    """The mean of ``x`` over axis -2 (the batch) or -1 (the units), kept as an axis of length 1."""
    return sum_over(x, axis) / x.shape[axis]


def _per_run(shape: tuple, runs: int | None) -> tuple:
    """A parameter's shape: ``shape`` for one run; (runs, 1, d) for a vector, (runs, d, k) for a matrix."""
    if runs is None:
        return shape
    return (runs, 1, *shape) if len(shape) == 1 else (runs, *shape)


def _each(value, runs: int) -> list:
    """A per-run setting as a list: a sequence as it is, a single value repeated ``runs`` times."""
    return list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value] * runs


class Layer:
    """Base class: the parameter bookkeeping and the input check.

    Subclasses with parameters list their names in ``param_names``; for each
    name ``p`` the layer has ``self.p`` and its gradient ``self.grad_p``.
    """

    param_names: tuple[str, ...] = ()
    runs: int | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def params(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The ``(name, param, grad)`` triples of this layer (the arrays themselves, not copies)."""
        return [(p, getattr(self, p), getattr(self, "grad_" + p)) for p in self.param_names]

    def _new_param(self, name: str, shape: tuple, value: float | np.ndarray) -> None:
        """``self.<name>`` filled with ``value`` and its zero gradient ``self.grad_<name>``."""
        param = np.empty(_per_run(shape, self.runs), dtype=self.dtype)
        param[...] = value
        setattr(self, name, param)
        setattr(self, "grad_" + name, np.zeros_like(param))

    def _check_input(self, x: np.ndarray, features: int) -> None:
        """x must be (n, features), or (R, n, features) with R = ``runs`` when the layer has runs."""
        ok = x.ndim in (2, 3) and x.shape[-1] == features
        if self.runs is not None:
            ok = ok and x.ndim == 3 and x.shape[0] == self.runs
        if not ok:
            want = f"({self.runs}, n, {features})" if self.runs else f"(n, {features}) or (R, n, {features})"
            raise ValueError(f"{type(self).__name__} expected input of shape {want}, got {x.shape}.")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# ---------------------------------------------------------------- Dense


class Dense(Layer):
    """Fully connected layer: ``out = x @ W + b``.

    Parameters: ``W`` (d, k) and ``b`` (k,), or (R, d, k) and (R, 1, k) with
    ``runs=R``; ``b`` starts at 0 and ``W`` is drawn by ``core.nn.init``
    (``init``, ``init_scale``). ``rng`` is one generator, or with ``runs`` a
    sequence of R generators: run r's weights are drawn from the r-th, exactly
    as a one-run layer would draw them from it (``init`` and ``init_scale``
    may then be sequences too, one per run).
    """

    param_names = ("W", "b")

    def __init__(self, in_features: int, out_features: int, *, rng, init: str = "he",
                 init_scale: float = 1.0, bias: bool = True, runs: int | None = None, dtype=np.float32) -> None:
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.runs = None if runs is None else check_int("runs", runs, 1)
        self.dtype = np.dtype(dtype)
        rngs = [rng] if runs is None else list(rng)
        inits, scales = (_each(v, len(rngs)) for v in (init, init_scale))
        if not len(rngs) == len(inits) == len(scales) == (runs or 1):
            raise ValueError(f"Dense with runs={runs} needs {runs} generators, inits and scales, "
                             f"got {len(rngs)}, {len(inits)} and {len(scales)}.")
        for name in inits:
            check_choice("init", name, INITS)
        w = np.stack([init_weight(r, self.in_features, self.out_features, name, scale)
                      for r, name, scale in zip(rngs, inits, scales, strict=True)])
        self._new_param("W", (self.in_features, self.out_features), w if runs else w[0])
        self.bias = bool(bias)
        if self.bias:
            self._new_param("b", (self.out_features,), 0.0)
        else:
            self.param_names = ("W",)
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, d) or (R, n, d) -> out: (n, k) or (R, n, k). Keeps ``x`` for backward."""
        self._check_input(x, self.in_features)
        self.x = x
        out = x @ self.W
        if self.bias:
            out += self.b
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """grad_out: like the output -> grad_in: like the input; fills ``grad_W``, ``grad_b``.

        ``grad_W = x.T @ grad_out``, ``grad_b = sum over samples of grad_out``,
        ``grad_in = grad_out @ W.T``. With ``input_grad=False`` (the first layer
        of a network needs none) the input gradient is not computed: None.
        """
        self.grad_W[...] = sum_to_shape(self.x.swapaxes(-1, -2) @ grad_out, self.W.shape)
        if self.bias:
            self.grad_b[...] = sum_to_shape(grad_out, self.b.shape)
        if not input_grad:
            return None
        return grad_out @ self.W.swapaxes(-1, -2)

    def __repr__(self) -> str:
        runs = f", runs={self.runs}" if self.runs else ""
        return f"Dense({self.in_features}, {self.out_features}, bias={self.bias}{runs})"


# ---------------------------------------------------------------- activations


class ReLU(Layer):
    """``out = max(x, 0)``; the gradient passes where ``out > 0`` (as in PyTorch). Any shape."""

    name = "relu"

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        self.out = np.maximum(x, 0)
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * (self.out > 0)


class Tanh(Layer):
    """``out = tanh(x)``; ``grad_in = grad_out * (1 - out**2)``. Any shape."""

    name = "tanh"

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * (1 - self.out**2)


class Sigmoid(Layer):
    """``out = 1 / (1 + exp(-x))``; ``grad_in = grad_out * out * (1 - out)``. Any shape.

    For very negative ``x``, ``exp(-x)`` overflows to inf and ``out`` is the
    exact limit 0: that overflow is expected and not reported.
    """

    name = "sigmoid"

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        with np.errstate(over="ignore"):
            self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * self.out * (1 - self.out)


class Identity(Layer):
    """``out = x`` (the same array); ``grad_in = grad_out``. Any shape."""

    name = "identity"

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        self.out = x
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out


ACTIVATIONS: dict[str, type[Layer]] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "identity": Identity}


def make_activation(name: str) -> Layer:
    """A new activation layer by name: one of ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"identity"``."""
    return ACTIVATIONS[check_choice("activation", name, tuple(ACTIVATIONS))]()


# ---------------------------------------------------------------- normalization


def normalized_backward(dxhat: np.ndarray, xhat: np.ndarray, std: np.ndarray, axis, *,
                        centred: bool = True) -> np.ndarray:
    """The input gradient of ``xhat = (x - mean) / std`` with mean and std taken over ``axis``.

    ``dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std``; without
    centring (RMSNorm: ``xhat = x / rms``) the ``mean(dxhat)`` term is absent.
    """
    dx = dxhat - xhat * mean_over(dxhat * xhat, axis)
    if centred:
        dx -= mean_over(dxhat, axis)
    return dx / std


class _Norm(Layer):
    """Shared constructor of the normalization layers: γ (and β) per unit, ``eps``, ``dtype``, ``runs``."""

    param_names = ("gamma", "beta")

    def __init__(self, num_features: int, eps: float, dtype, runs: int | None) -> None:
        check_float("eps", eps, 0.0, low_open=True)
        self.num_features = check_int("num_features", num_features, 1)
        self.eps = float(eps)
        self.dtype = np.dtype(dtype)
        self.runs = None if runs is None else check_int("runs", runs, 1)
        self._new_param("gamma", (self.num_features,), 1.0)
        if "beta" in self.param_names:
            self._new_param("beta", (self.num_features,), 0.0)

    def _affine_backward(self, grad_out: np.ndarray, xhat: np.ndarray) -> None:
        """Fills ``grad_gamma = sum(grad_out * xhat)`` and ``grad_beta = sum(grad_out)``."""
        self.grad_gamma[...] = sum_to_shape(grad_out * xhat, self.gamma.shape)
        if "beta" in self.param_names:
            self.grad_beta[...] = sum_to_shape(grad_out, self.beta.shape)


class BatchNorm1d(_Norm):
    """Batch normalization: each unit standardized over the batch, then scaled and shifted.

    Training mode: ``out = gamma * (x - mean) / sqrt(var + eps) + beta`` with the
    batch's mean and *biased* variance per unit (axis -2, the samples of each
    run), and the running estimates updated with the *unbiased* variance,
    ``running = (1 - momentum) * running + momentum * batch`` (``momentum=None``:
    the cumulative average of all batches, as PyTorch). Eval mode
    (``training=False``) uses ``running_mean`` and ``running_var`` and updates nothing.

    Parameters ``gamma`` (starts at 1), ``beta`` (at 0); buffers ``running_mean``
    (at 0), ``running_var`` (at 1): (d,), or (R, 1, d) with ``runs=R``; and
    ``num_batches_tracked``. After a training-mode forward, ``batch_mean`` and
    ``batch_var`` (biased) are the statistics the batch was normalized with,
    shaped like the running estimates.
    """

    def __init__(self, num_features: int, momentum: float | None = 0.1, eps: float = 1e-5, dtype=np.float32,
                 *, runs: int | None = None) -> None:
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(
                f"The 'momentum' parameter must be a float in the range [0, 1] or None. Got {momentum!r} instead."
            )
        super().__init__(num_features, eps, dtype, runs)
        self.momentum = momentum
        shape = _per_run((self.num_features,), self.runs)
        self.running_mean = np.zeros(shape, dtype=self.dtype)
        self.running_var = np.ones(shape, dtype=self.dtype)
        self.num_batches_tracked = 0
        self.batch_mean: np.ndarray | None = None
        self.batch_var: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, d) or (R, n, d) -> out: the same shape.

        Raises ValueError in training mode for a batch of one sample (it has no
        variance), as PyTorch does.
        """
        self._check_input(x, self.num_features)
        if not training:
            # The statistics are constants: per unit an affine map, out = x * s + (beta - running_mean * s).
            scale = self.gamma / np.sqrt(self.running_var + self.eps)
            self.cache = (x, scale, training)
            return x * scale + (self.beta - self.running_mean * scale)
        mean = mean_over(x, -2)  # (1, d) or (R, 1, d)
        xc = x - mean
        var = mean_over(xc * xc, -2)  # biased
        self._update_running(mean, var, x.shape)
        std = np.sqrt(var + self.eps)
        xhat = xc / std
        self.cache = (xhat, std, training)
        return self.gamma * xhat + self.beta

    def _update_running(self, mean: np.ndarray, var: np.ndarray, shape: tuple) -> None:
        n = shape[-2]
        if n < 2:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {shape}: "
                "batch normalization needs a batch of at least 2 samples in training mode."
            )
        if self.runs is None and len(shape) == 3 and shape[0] > 1:
            raise ValueError(
                f"BatchNorm1d keeps one set of running statistics; for a stack of {shape[0]} runs "
                f"build it with runs={shape[0]}."
            )
        self.batch_mean = mean.reshape(self.running_mean.shape)  # (d,) or (R, 1, d)
        self.batch_var = var.reshape(self.running_var.shape)
        self.num_batches_tracked += 1
        m = self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked
        # running = (1 - m) * running + m * batch, written as running += m * (batch - running)
        self.running_mean += m * (self.batch_mean - self.running_mean)
        self.running_var += m * (self.batch_var * (n / (n - 1)) - self.running_var)  # unbiased variance

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out: like x -> grad_in: like x; fills ``grad_gamma``, ``grad_beta``.

        Per unit, over the n samples of the batch: ``grad_beta = sum(g)``,
        ``grad_gamma = sum(g * xhat)`` and, since γ is the same for every sample,
        ``dx = gamma / std * (g - (grad_beta + xhat * grad_gamma) / n)`` in
        training mode (CS231n's compact form). After an eval-mode forward the
        statistics are constants: ``dx = gamma / std * g``.
        """
        if not self.cache[2]:
            x, scale, _ = self.cache
            xhat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
            self._affine_backward(grad_out, xhat)
            return scale * grad_out
        xhat, std, _ = self.cache
        self._affine_backward(grad_out, xhat)
        n = grad_out.shape[-2]
        return self.gamma / std * (grad_out - (self.grad_beta + xhat * self.grad_gamma) / n)

    def __repr__(self) -> str:
        return f"BatchNorm1d({self.num_features}, momentum={self.momentum}, eps={self.eps})"



class NoisyBatchNorm1d(BatchNorm1d):
    """"Noisy" batch norm (Santurkar et al. 2018, section 2.1): batch norm, then a distribution shift
    made on purpose, drawn afresh at every training step.

    Training mode, per unit j: ``out_j = s_j * BN(x)_j + m_j``, where ``BN(x) = gamma * xhat + beta``
    is :class:`BatchNorm1d`'s output and the noise ``s_j ~ U(1 - scale, 1 + scale)``,
    ``m_j ~ U(-shift, shift)`` is drawn by :meth:`resample` (the training loop calls it once per
    step, before the step's forward pass). Within a step the noise is a fixed affine map, the same
    for every sample of the batch, so every unit's whole distribution moves from one step to the
    next: its mean by m_j, its spread by s_j (the paper perturbs each sample with i.i.d. noise whose
    mean and variance change every step; here the shift is the same for a unit's samples, the
    plainest form of an unstable input distribution). Eval mode adds no noise: batch norm with the
    running statistics. Before the first :meth:`resample` there is no noise (s = 1, m = 0).

    ``rng``: one generator, or with ``runs=R`` a sequence of R, run r's noise drawn from the r-th,
    so a run's noise is the same alone and in a stack; a None in it is a run without noise (s = 1,
    m = 0 at every step: plain batch norm, so batch-norm runs can share a stack with noisy ones).
    ``noise_scale`` (s) and ``noise_shift`` (m) hold the current step's noise: (d,), or (R, 1, d).
    """

    def __init__(self, num_features: int, momentum: float | None = 0.1, eps: float = 1e-5, dtype=np.float32,
                 *, rng, scale: float = 0.5, shift: float = 1.0, runs: int | None = None) -> None:
        super().__init__(num_features, momentum, eps, dtype, runs=runs)
        self.scale = check_float("scale", scale, 0.0, 1.0)
        self.shift = check_float("shift", shift, 0.0)
        self.rngs = [rng] if runs is None else list(rng)
        if len(self.rngs) != (runs or 1):
            raise ValueError(f"NoisyBatchNorm1d with runs={runs} needs {runs} generators, got {len(self.rngs)}.")
        self.noise_scale = np.ones_like(self.running_var)
        self.noise_shift = np.zeros_like(self.running_mean)

    def resample(self) -> None:
        """Draw this step's noise: per run and unit, s ~ U(1 - scale, 1 + scale), m ~ U(-shift, shift)."""
        d = self.num_features
        for r, rng in enumerate(self.rngs):
            if rng is None:
                continue
            s, m = rng.uniform(1 - self.scale, 1 + self.scale, d), rng.uniform(-self.shift, self.shift, d)
            self.noise_scale[r if self.runs else ...] = s
            self.noise_shift[r if self.runs else ...] = m

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, d) or (R, n, d) -> out: the same shape; ``s * BN(x) + m`` in training mode."""
        out = super().forward(x, training)
        return out * self.noise_scale + self.noise_shift if training else out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out: like x -> grad_in: like x; fills ``grad_gamma``, ``grad_beta``.

        Training mode: the gradient at batch norm's output is ``s * grad_out`` (m is a constant),
        then batch norm's backward."""
        return super().backward(grad_out * self.noise_scale if self.cache[2] else grad_out)

    def __repr__(self) -> str:
        return (f"NoisyBatchNorm1d({self.num_features}, momentum={self.momentum}, eps={self.eps}, "
                f"scale={self.scale}, shift={self.shift})")


class LayerNorm(_Norm):
    """Layer normalization: each sample standardized over its own d units, then scaled and shifted.

    ``out = gamma * (x - mean) / sqrt(var + eps) + beta``, mean and biased
    variance over the last axis; the same in training and eval mode.
    Parameters ``gamma`` (1), ``beta`` (0): (d,), or (R, 1, d) with ``runs=R``.
    After a forward, ``batch_mean`` and ``batch_var`` are the per-sample
    statistics: (n,), or (R, n) for a stack.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, dtype=np.float32, *, runs: int | None = None):
        super().__init__(num_features, eps, dtype, runs)
        self.batch_mean: np.ndarray | None = None
        self.batch_var: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, d) or (R, n, d) -> out: the same shape. ``training`` changes nothing."""
        self._check_input(x, self.num_features)
        mean = mean_over(x, -1)  # (n, 1) or (R, n, 1)
        xc = x - mean
        var = mean_over(xc * xc, -1)  # biased
        std = np.sqrt(var + self.eps)
        xhat = xc / std
        self.cache = (xhat, std)
        self.batch_mean, self.batch_var = mean[..., 0], var[..., 0]
        return self.gamma * xhat + self.beta

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out: like x -> grad_in: like x; fills ``grad_gamma``, ``grad_beta``.

        ``dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std`` over each sample's units.
        """
        xhat, std = self.cache
        self._affine_backward(grad_out, xhat)
        return normalized_backward(grad_out * self.gamma, xhat, std, axis=-1)

    def __repr__(self) -> str:
        return f"LayerNorm({self.num_features}, eps={self.eps})"


class GroupNorm(_Norm):
    """Group normalization: each sample's d units split into ``num_groups`` groups of d / G
    consecutive units, each group standardized on its own, then scaled and shifted per unit.

    ``out = gamma * (x - mean_g) / sqrt(var_g + eps) + beta`` (``torch.nn.GroupNorm``
    on (n, C) inputs with C = d). One group is layer norm; d groups of one unit
    normalize every unit to 0. Parameters ``gamma`` (1), ``beta`` (0): (d,), or
    (R, 1, d) with ``runs=R``. After a forward, ``batch_mean`` and ``batch_var``
    are the per-sample, per-group statistics: (n, G), or (R, n, G).
    """

    def __init__(self, num_features: int, num_groups: int, eps: float = 1e-5, dtype=np.float32, *,
                 runs: int | None = None) -> None:
        super().__init__(num_features, eps, dtype, runs)
        self.num_groups = check_int("num_groups", num_groups, 1)
        if self.num_features % self.num_groups:
            raise ValueError(
                f"The 'num_groups' parameter must divide num_features ({self.num_features}). "
                f"Got {num_groups!r} instead."
            )
        self.batch_mean: np.ndarray | None = None
        self.batch_var: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, d) or (R, n, d) -> out: the same shape; groups: (..., n, G, d / G)."""
        self._check_input(x, self.num_features)
        groups = x.reshape(*x.shape[:-1], self.num_groups, -1)
        mean = mean_over(groups, -1)  # (..., n, G, 1)
        xc = groups - mean
        var = mean_over(xc * xc, -1)  # biased
        std = np.sqrt(var + self.eps)
        xhat = xc / std
        self.cache = (xhat, std)
        self.batch_mean, self.batch_var = mean[..., 0], var[..., 0]
        return self.gamma * xhat.reshape(x.shape) + self.beta

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out: like x -> grad_in: like x; fills ``grad_gamma``, ``grad_beta``.

        ``dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std`` over each group's units.
        """
        xhat, std = self.cache
        self._affine_backward(grad_out, xhat.reshape(grad_out.shape))
        dxhat = (grad_out * self.gamma).reshape(xhat.shape)
        dx = normalized_backward(dxhat, xhat, std, axis=-1)
        return dx.reshape(grad_out.shape)

    def __repr__(self) -> str:
        return f"GroupNorm({self.num_features}, num_groups={self.num_groups}, eps={self.eps})"


class RMSNorm(_Norm):
    """RMS normalization: each sample divided by the root mean square of its d units, then scaled.

    ``out = gamma * x / sqrt(mean(x**2) + eps)`` over the last axis
    (``torch.nn.RMSNorm(d, eps=eps)``): no centring and no shift, so there is
    ``gamma`` (starts at 1; (d,), or (R, 1, d) with ``runs=R``) but no ``beta``.
    After a forward, ``batch_rms`` is each sample's rms: (n,), or (R, n).
    """

    param_names = ("gamma",)

    def __init__(self, num_features: int, eps: float = 1e-6, dtype=np.float32, *, runs: int | None = None):
        super().__init__(num_features, eps, dtype, runs)
        self.batch_rms: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, d) or (R, n, d) -> out: the same shape. ``training`` changes nothing."""
        self._check_input(x, self.num_features)
        rms = np.sqrt(mean_over(x * x, -1) + self.eps)  # (n, 1) or (R, n, 1)
        xhat = x / rms
        self.cache = (xhat, rms)
        self.batch_rms = rms[..., 0]
        return self.gamma * xhat

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out: like x -> grad_in: like x; fills ``grad_gamma``.

        ``dx = (dxhat - xhat * mean(dxhat * xhat)) / rms`` over each sample's units.
        """
        xhat, rms = self.cache
        self._affine_backward(grad_out, xhat)
        return normalized_backward(grad_out * self.gamma, xhat, rms, axis=-1, centred=False)

    def __repr__(self) -> str:
        return f"RMSNorm({self.num_features}, eps={self.eps})"


#: The normalization layer of each ``norm`` choice (``"none"``: no layer).
NORM_LAYERS: dict[str, type[_Norm]] = {
    "batch": BatchNorm1d, "layer": LayerNorm, "group": GroupNorm, "rms": RMSNorm,
    "noisy_batch": NoisyBatchNorm1d,
}


def make_norm(norm: str, width: int, *, momentum: float | None = 0.1, eps: float | None = None,
              groups: int = 4, runs: int | None = None, dtype=np.float32, rng=None) -> _Norm | None:
    """The normalization layer of ``norm`` over ``width`` units, or None for ``"none"``.

    ``eps`` defaults to each layer's own (PyTorch's: 1e-5, RMSNorm 1e-6);
    ``momentum`` is batch norm's, ``groups`` group norm's, ``rng`` the noise generator(s) of
    noisy batch norm (one, or one per run).
    """
    check_choice("norm", norm, ("none", *NORM_LAYERS))
    kw = {"dtype": dtype, "runs": runs} | ({} if eps is None else {"eps": eps})
    if norm == "none":
        return None
    if norm == "batch":
        return BatchNorm1d(width, momentum=momentum, **kw)
    if norm == "noisy_batch":
        if rng is None:
            raise ValueError("Noisy batch norm needs its noise generator(s): pass rng.")
        return NoisyBatchNorm1d(width, momentum=momentum, rng=rng, **kw)
    if norm == "group":
        return GroupNorm(width, groups, **kw)
    return NORM_LAYERS[norm](width, **kw)
