"""Network layers in plain numpy, following the forward/backward pattern.

Each layer keeps what its backward pass needs during ``forward`` and, in
``backward(grad_out)``, returns the gradient with respect to its input and
stores the gradients of its parameters (``grad_<name>``). Gradients are
overwritten by every backward pass, never accumulated.

Shapes are written as in CS231n: ``n`` is the batch size, ``d`` the number of
features of the layer's input, ``k`` the number of its outputs.

Speed notes: everything computes in the layer's ``dtype`` (float32 by
default). Every forward and backward returns a freshly allocated array, so a
result the caller keeps is never overwritten by a later pass; the
intermediates a layer keeps are references to arrays it computed anyway, never
copies. Parameters are updated in place by the optimizers, so code holding a
reference to ``layer.W`` always sees the current weights (``core.network.MLP``
relies on it: it re-seats all parameters as views into one flat buffer).

Every layer has ``params()``: a list of ``(name, param, grad)`` triples (empty
for activations) that optimizers and telemetry iterate over.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "BatchNorm1d",
    "Dense",
    "Identity",
    "Layer",
    "LayerNorm",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "make_activation",
]

INITS = ("he", "glorot", "normal")
_ZEROS_MAX_SIZE = 1 << 14  # elements: ReLU's cached zeros stay under 64 KB (float32)


class Layer:
    """Base class: a layer without parameters that passes values through.

    Subclasses with parameters list their names in ``param_names``; for each
    name ``p`` the layer has the parameter ``self.p`` and its gradient
    ``self.grad_p`` (same shape and dtype).
    """

    param_names: tuple[str, ...] = ()

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def params(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The ``(name, param, grad)`` triples of this layer (views, not copies)."""
        return [(p, getattr(self, p), getattr(self, "grad_" + p)) for p in self.param_names]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _filled(n: int, value: float, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of ``n`` times ``value`` (for reductions as matrix-vector products)."""
    v = np.full(n, value, dtype=dtype)
    v.flags.writeable = False
    return v


def _scalar(value: float, dtype: np.dtype) -> np.ndarray:
    """A read-only 0-d array: ufuncs take it faster than a Python or numpy scalar."""
    v = np.array(value, dtype=dtype)
    v.flags.writeable = False
    return v


def _dot(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``a @ b`` written into ``out``: np.dot (the least call overhead) when it accepts ``out``
    (matching dtypes, contiguous), np.matmul otherwise (it casts)."""
    try:
        return np.dot(a, b, out=out)
    except ValueError:
        return np.matmul(a, b, out=out)


class Dense(Layer):
    """Fully connected layer: ``out = x @ W + b``.

    Parameters: ``W`` (d, k), ``b`` (k,); gradients ``grad_W`` (d, k), ``grad_b`` (k,).

    Initialisation of ``W`` (``b`` starts at zero):
      - ``"he"``: normal with std ``sqrt(2 / d)`` (Kaiming He, for relu);
      - ``"glorot"``: normal with std ``sqrt(2 / (d + k))`` (Xavier Glorot);
      - ``"normal"``: normal with std ``init_scale`` (to show bad initialisation).
    ``init_scale`` also multiplies the std of ``"he"`` and ``"glorot"``.
    The draws are made in float64 and then cast, so the same ``rng`` state gives
    the same weights in float32 and float64.
    """

    param_names = ("W", "b")

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        rng: np.random.Generator,
        init: str = "he",
        init_scale: float = 1.0,
        bias: bool = True,
        dtype=np.float32,
    ) -> None:
        if init not in INITS:
            raise ValueError(f"The 'init' parameter must be one of {INITS}. Got {init!r} instead.")
        if not np.isfinite(init_scale) or init_scale < 0:
            raise ValueError(
                f"The 'init_scale' parameter must be a finite float >= 0. Got {init_scale!r} instead."
            )
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.dtype = np.dtype(dtype)
        if init == "he":
            std = np.sqrt(2.0 / self.in_features) * init_scale
        elif init == "glorot":
            std = np.sqrt(2.0 / (self.in_features + self.out_features)) * init_scale
        else:
            std = float(init_scale)
        w = rng.standard_normal((self.in_features, self.out_features)) * std
        self.W = w.astype(self.dtype)
        self.grad_W = np.zeros_like(self.W)
        self.bias = bool(bias)
        if self.bias:
            self.b = np.zeros(self.out_features, dtype=self.dtype)
            self.grad_b = np.zeros_like(self.b)
        else:
            self.param_names = ("W",)
        self.x: np.ndarray | None = None
        self._ones = _filled(0, 1.0, self.dtype)  # (n,) ones for the bias gradient, made for the last n

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, d) -> out: (n, k). Keeps a reference to ``x`` for backward."""
        self.x = x
        out = np.dot(x, self.W)  # np.dot: less call overhead than np.matmul for 2-d operands
        if self.bias:
            out += self.b
        return out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """grad_out: (n, k) -> grad_in: (n, d); fills ``grad_W`` (d, k), ``grad_b`` (k,).

        With ``input_grad=False`` the input gradient is not computed (the first
        layer of a network does not need it) and None is returned.
        """
        _dot(self.x.T, grad_out, self.grad_W)
        if self.bias:
            ones = self._ones
            if ones.shape[0] != grad_out.shape[0]:
                ones = self._ones = _filled(grad_out.shape[0], 1.0, self.dtype)
            _dot(ones, grad_out, self.grad_b)
        if not input_grad:
            return None
        return np.dot(grad_out, self.W.T)

    def __repr__(self) -> str:
        return f"Dense({self.in_features}, {self.out_features}, bias={self.bias})"


class ReLU(Layer):
    """``out = max(x, 0)``; the gradient is passed where ``out > 0`` (as in PyTorch)."""

    name = "relu"

    def __init__(self) -> None:
        self._zeros: dict = {}

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, d) -> out: (n, d)."""
        # np.maximum runs about twice as fast against a zeros array of x's shape
        # (or, second best, a zeros row) as against a scalar 0. Small batches get
        # a cached full array (at most two, under 64 KB each), larger ones a row.
        key = (x.shape, x.dtype)
        zeros = self._zeros.get(key)
        if zeros is None:
            shape = x.shape if x.size <= _ZEROS_MAX_SIZE else x.shape[-1:]
            zeros = np.zeros(shape, dtype=x.dtype)
            zeros.flags.writeable = False
            if len(self._zeros) >= 2:
                self._zeros.clear()
            self._zeros[key] = zeros
        out = np.maximum(x, zeros)
        self.out = out
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out: (n, d) -> grad_in: (n, d)."""
        out = self.out
        return grad_out * (out > out.dtype.type(0))


class Tanh(Layer):
    """``out = tanh(x)``; ``grad_in = grad_out * (1 - out**2)``."""

    name = "tanh"

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, d) -> out: (n, d)."""
        out = np.tanh(x)
        self.out = out
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out: (n, d) -> grad_in: (n, d)."""
        out = self.out
        g = np.multiply(out, out)
        np.subtract(out.dtype.type(1), g, out=g)
        g *= grad_out
        return g


#: np.exp that does not warn on overflow (cheaper than entering np.errstate at every call).
_exp_no_overflow_warning = np.errstate(over="ignore")(np.exp)


class Sigmoid(Layer):
    """``out = 1 / (1 + exp(-x))``; ``grad_in = grad_out * out * (1 - out)``.

    For very negative ``x``, ``exp(-x)`` overflows to inf and ``out`` is the
    exact limit 0; that overflow is expected and not reported.
    """

    name = "sigmoid"

    def __init__(self) -> None:
        self._one: dict = {}  # dtype -> 1 as a 0-d array

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, d) -> out: (n, d)."""
        out = np.negative(x)
        _exp_no_overflow_warning(out, out=out)
        one = self._one.get(out.dtype)
        if one is None:
            one = self._one[out.dtype] = _scalar(1, out.dtype)
        out += one
        np.divide(one, out, out=out)  # faster than np.reciprocal
        self.out = out
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out: (n, d) -> grad_in: (n, d)."""
        out = self.out
        g = np.multiply(out, out)  # out * (1 - out) = out - out**2: no scalar operand
        np.subtract(out, g, out=g)
        g *= grad_out
        return g


class Identity(Layer):
    """``out = x`` (the same array); ``grad_in = grad_out``."""

    name = "identity"

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, d) -> out: (n, d), the same array."""
        self.out = x
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out: (n, d) -> grad_in: (n, d), the same array."""
        return grad_out


ACTIVATIONS: dict[str, type[Layer]] = {
    "relu": ReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "identity": Identity,
}


def make_activation(name: str) -> Layer:
    """A new activation layer by name: one of ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"identity"``."""
    try:
        return ACTIVATIONS[name]()
    except (KeyError, TypeError):
        raise ValueError(
            f"The 'activation' parameter must be one of {tuple(ACTIVATIONS)}. Got {name!r} instead."
        ) from None


class BatchNorm1d(Layer):
    """Batch normalization over the batch axis, with PyTorch's semantics.

    Training mode (``forward(x, training=True)``) normalizes each feature with
    the mean and the *biased* variance of the batch:
    ``out = (x - mean) / sqrt(var + eps) * gamma + beta``, and updates the
    running estimates with the *unbiased* variance:
    ``running = (1 - momentum) * running + momentum * batch`` (with
    ``momentum=None``, a cumulative average over all batches seen, as PyTorch).
    Eval mode (``training=False``) normalizes with ``running_mean`` and
    ``running_var`` and updates nothing.

    Parameters: ``gamma`` (d,) starts at 1, ``beta`` (d,) at 0; gradients
    ``grad_gamma``, ``grad_beta``. Buffers: ``running_mean`` (d,) starts at 0,
    ``running_var`` (d,) at 1, ``num_batches_tracked`` (int).

    Telemetry: after a training-mode forward, ``batch_mean`` (d,) and
    ``batch_var`` (d,, biased) are the statistics that batch was normalized
    with (references, not copies); an eval-mode forward leaves them as they
    were (it normalizes with the running estimates).
    """

    param_names = ("gamma", "beta")

    def __init__(self, num_features: int, momentum: float | None = 0.1, eps: float = 1e-5, dtype=np.float32):
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(
                f"The 'momentum' parameter must be a float in the range [0, 1] or None. Got {momentum!r} instead."
            )
        if not eps > 0:
            raise ValueError(f"The 'eps' parameter must be a float > 0. Got {eps!r} instead.")
        self.num_features = int(num_features)
        self.momentum = momentum
        self.eps = float(eps)
        self.dtype = np.dtype(dtype)
        d = self.num_features
        self.gamma = np.ones(d, dtype=self.dtype)
        self.beta = np.zeros(d, dtype=self.dtype)
        self.grad_gamma = np.zeros(d, dtype=self.dtype)
        self.grad_beta = np.zeros(d, dtype=self.dtype)
        # The running estimates are the two rows of one array, so that they are
        # updated with three vector operations instead of six.
        self._running = np.empty((2, d), dtype=self.dtype)
        self._running[0], self._running[1] = 0, 1
        self.running_mean, self.running_var = self._running[0], self._running[1]
        self.num_batches_tracked = 0
        self.batch_mean: np.ndarray | None = None
        self.batch_var: np.ndarray | None = None
        self._eps = _scalar(self.eps, self.dtype)
        self._n = 0  # the batch size the constants below were made for
        self._ones = self._mean_w = self._inv_n = None  # (n,) ones, (n,) 1/n, 0-d 1/n
        self._momentum_key = None  # (n, momentum) the two constants below were made for
        self._keep = self._coef = self._update = None  # 0-d 1 - momentum; (2, 1) [momentum,
        # momentum * n / (n - 1)]; a (2, d) buffer for the update of ``_running``
        self._xc = self._std = self._scale = None
        self._training = True

    def _batch_constants(self, n: int) -> None:
        self._n = n
        self._ones = _filled(n, 1.0, self.dtype)
        self._mean_w = _filled(n, 1.0 / n, self.dtype)
        self._inv_n = _scalar(1.0 / n, self.dtype)

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, d) -> out: (n, d).

        Raises ValueError in training mode when n == 1 (a batch of one has no
        variance to normalize by), as PyTorch does.
        """
        n, d = x.shape
        if d != self.num_features:
            raise ValueError(
                f"BatchNorm1d expected {self.num_features} features, got input of shape {x.shape}."
            )
        self._training = training
        if not training:
            std = np.add(self.running_var, self._eps)
            np.sqrt(std, out=std)
            scale = np.divide(self.gamma, std)
            xc = np.subtract(x, self.running_mean)
            out = np.multiply(xc, scale)
            out += self.beta
            self._xc, self._std, self._scale = xc, std, scale
            return out
        if n < 2:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {x.shape}: "
                "batch normalization needs a batch of at least 2 samples in training mode."
            )
        if n != self._n:
            self._batch_constants(n)
        # Means over the batch as matrix-vector products (faster than x.mean(0)),
        # written into the two rows of a fresh (2, d) array: [mean; biased var].
        w = self._mean_w
        stats = np.empty((2, d), dtype=self.dtype)
        mean, var = stats[0], stats[1]
        _dot(w, x, mean)
        xc = np.subtract(x, mean)
        out = np.multiply(xc, xc)
        _dot(w, out, var)
        std = np.add(var, self._eps)
        np.sqrt(std, out=std)
        scale = np.divide(self.gamma, std)
        np.multiply(xc, scale, out=out)
        out += self.beta
        self._xc, self._std, self._scale = xc, std, scale
        self.batch_mean, self.batch_var = mean, var
        # Running estimates: the unbiased variance, PyTorch's momentum convention.
        self.num_batches_tracked += 1
        m = self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked
        rm, rv, running = self.running_mean, self.running_var, self._running
        if rm.base is running and rv.base is running:
            if self._momentum_key != (n, m):
                self._momentum_key = (n, m)
                self._keep = _scalar(1.0 - m, self.dtype)
                self._coef = np.array([[m], [m * n / (n - 1)]], dtype=self.dtype)
                self._update = np.empty_like(running)
            running *= self._keep
            running += np.multiply(stats, self._coef, out=self._update)
        else:  # running_mean / running_var were rebound to other arrays
            rm *= 1.0 - m
            rm += m * mean
            rv *= 1.0 - m
            rv += (m * n / (n - 1)) * var
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out: (n, d) -> grad_in: (n, d); fills ``grad_gamma`` (d,), ``grad_beta`` (d,).

        With ``xc = x - mean`` and ``std = sqrt(var + eps)``:
        ``grad_gamma = sum(grad_out * xc) / std``, ``grad_beta = sum(grad_out)`` and
        ``grad_in = gamma / std * (grad_out - grad_beta / n - xc * grad_gamma / (n * std))``.
        After an eval-mode forward the statistics are constants and
        ``grad_in = gamma / std * grad_out``.
        """
        if grad_out.shape[0] != self._n:
            self._batch_constants(grad_out.shape[0])
        xc, std, scale = self._xc, self._std, self._scale
        ones, grad_beta, grad_gamma = self._ones, self.grad_beta, self.grad_gamma
        _dot(ones, grad_out, grad_beta)
        g = np.multiply(grad_out, xc)
        _dot(ones, g, grad_gamma)
        grad_gamma /= std
        if not self._training:
            np.multiply(grad_out, scale, out=g)
            return g
        c = np.divide(grad_gamma, std)
        c *= self._inv_n
        np.multiply(xc, c, out=g)
        np.subtract(grad_out, g, out=g)
        g -= np.multiply(grad_beta, self._inv_n, out=c)
        g *= scale
        return g

    def __repr__(self) -> str:
        return f"BatchNorm1d({self.num_features}, momentum={self.momentum}, eps={self.eps})"


class LayerNorm(Layer):
    """Layer normalization over the last axis, with PyTorch's semantics.

    Each sample is normalized with its own mean and biased variance over its
    ``d`` features: ``out = (x - mean) / sqrt(var + eps) * gamma + beta``, the
    same in training and eval mode (there are no running estimates).

    Parameters: ``gamma`` (d,) starts at 1, ``beta`` (d,) at 0; gradients
    ``grad_gamma``, ``grad_beta``.

    Telemetry: after a forward, ``batch_mean`` (n,) and ``batch_var`` (n,) are
    the per-sample statistics used (references, not copies).
    """

    param_names = ("gamma", "beta")

    def __init__(self, num_features: int, eps: float = 1e-5, dtype=np.float32):
        if not eps > 0:
            raise ValueError(f"The 'eps' parameter must be a float > 0. Got {eps!r} instead.")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.dtype = np.dtype(dtype)
        d = self.num_features
        self.gamma = np.ones(d, dtype=self.dtype)
        self.beta = np.zeros(d, dtype=self.dtype)
        self.grad_gamma = np.zeros(d, dtype=self.dtype)
        self.grad_beta = np.zeros(d, dtype=self.dtype)
        self.batch_mean: np.ndarray | None = None
        self.batch_var: np.ndarray | None = None
        self._mean_w = _filled(d, 1.0 / d, self.dtype)  # (d,) 1/d: means over features
        self._ones = _filled(0, 1.0, self.dtype)  # (n,) ones, made for the last n
        self._eps = _scalar(self.eps, self.dtype)
        self._xhat = self._inv_std = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, d) -> out: (n, d). ``training`` is accepted and ignored."""
        n, d = x.shape
        if d != self.num_features:
            raise ValueError(
                f"LayerNorm expected {self.num_features} features, got input of shape {x.shape}."
            )
        w = self._mean_w
        mean = np.dot(x, w)  # (n,)
        xhat = x - mean[:, None]
        out = np.multiply(xhat, xhat)
        var = np.dot(out, w)  # (n,)
        inv_std = np.add(var, self._eps)
        np.sqrt(inv_std, out=inv_std)
        np.reciprocal(inv_std, out=inv_std)
        xhat *= inv_std[:, None]
        np.multiply(xhat, self.gamma, out=out)
        out += self.beta
        self._xhat, self._inv_std = xhat, inv_std
        self.batch_mean, self.batch_var = mean, var
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out: (n, d) -> grad_in: (n, d); fills ``grad_gamma`` (d,), ``grad_beta`` (d,).

        With ``xhat`` the normalized input, ``s`` (n,) the inverse std and
        ``gx = grad_out * gamma``:
        ``grad_in = s * (gx - mean_j(gx) - xhat * mean_j(gx * xhat))`` per row.
        """
        n, d = grad_out.shape
        xhat, inv_std = self._xhat, self._inv_std
        ones_n, w = self._ones, self._mean_w
        if ones_n.shape[0] != n:
            ones_n = self._ones = _filled(n, 1.0, self.dtype)
        _dot(ones_n, grad_out, self.grad_beta)
        t = np.multiply(grad_out, xhat)
        _dot(ones_n, t, self.grad_gamma)
        gx = np.multiply(grad_out, self.gamma)
        mean_gx = np.dot(gx, w)  # (n,)
        np.multiply(gx, xhat, out=t)
        mean_gxx = np.dot(t, w)  # (n,)
        np.multiply(xhat, mean_gxx[:, None], out=t)
        np.subtract(gx, t, out=gx)
        gx -= mean_gx[:, None]
        gx *= inv_std[:, None]
        return gx

    def __repr__(self) -> str:
        return f"LayerNorm({self.num_features}, eps={self.eps})"
