"""A multi-layer perceptron with switchable normalization, in plain numpy.

``MLP`` stacks ``depth`` hidden blocks and an output ``Dense``. A hidden block is

- ``norm_position="before"`` (Ioffe and Szegedy): Dense -> norm -> activation
- ``norm_position="after"`` (as the article words it): Dense -> activation -> norm

with ``norm`` one of ``"none"``, ``"batch"`` (``BatchNorm1d``) or ``"layer"``
(``LayerNorm``). The Dense layers keep their bias even when a norm follows
them (it is then redundant but harmless), so the network has exactly the
parameters of the plain PyTorch twin
``nn.Sequential(Linear, BatchNorm1d, Tanh, ..., Linear)``.

``net.layers`` lists the layers in that same order, so ``net.layers[i]``
corresponds to module ``i`` of the twin. Parameter and state names are
``"<i>.<attr>"`` with ``i`` that index (``"0.W"``, ``"1.gamma"``,
``"1.running_mean"``), mirroring PyTorch's ``"0.weight"``; note that
``Dense.W`` is (in, out), the transpose of ``Linear.weight``.

All parameters (and, separately, all gradients) live in one flat
contiguous buffer, ``net.flat_params`` / ``net.flat_grads``, of which each
layer's arrays are views. The optimizers in ``core.optimizers`` notice this
and update the whole network with a handful of vector operations instead of
a few per parameter. Update parameters in place (``layer.W[...] = ...``, or
``load_state_dict``); rebinding ``layer.W`` to a new array detaches it from the
flat buffer (still correct, just slower to optimize).
"""

from __future__ import annotations

import numpy as np

from core.layers import INITS, BatchNorm1d, Dense, Layer, LayerNorm, make_activation

__all__ = ["NORMS", "NORM_POSITIONS", "Block", "MLP"]

NORMS = ("none", "batch", "layer")
NORM_POSITIONS = ("before", "after")


class Block:
    """One hidden layer of an ``MLP`` and the values of its last forward pass.

    Layers: ``dense`` (Dense), ``norm`` (BatchNorm1d, LayerNorm or None),
    ``activation``.

    After ``MLP.forward`` each block holds references (not copies) to the
    arrays that pass computed, all (n, width):

    - ``pre_norm``: the values entering the norm layer; with no norm, the values
      at the place where it would be (the Dense output when ``position`` is
      ``"before"``, the activation output when ``"after"``);
    - ``post_norm``: the values leaving the norm layer (the same array as
      ``pre_norm`` when there is no norm);
    - ``pre_activation``: the values entering the activation;
    - ``post_activation``: the activation's output;
    - ``out``: the block's output, the next block's input.
    """

    __slots__ = (
        "index",
        "dense",
        "norm",
        "activation",
        "position",
        "pre_norm",
        "post_norm",
        "pre_activation",
        "post_activation",
        "out",
    )

    def __init__(self, index: int, dense: Dense, norm: Layer | None, activation: Layer, position: str):
        self.index = index
        self.dense = dense
        self.norm = norm
        self.activation = activation
        self.position = position
        self.pre_norm = self.post_norm = self.pre_activation = self.post_activation = self.out = None

    @property
    def layers(self) -> list[Layer]:
        """This block's layers in forward order."""
        if self.norm is None:
            return [self.dense, self.activation]
        if self.position == "before":
            return [self.dense, self.norm, self.activation]
        return [self.dense, self.activation, self.norm]

    def __repr__(self) -> str:
        return f"Block({self.index}: {' -> '.join(repr(layer) for layer in self.layers)})"


def _check_choice(name: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"The '{name}' parameter must be one of {allowed}. Got {value!r} instead.")


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"The '{name}' parameter must be an int >= {low}. Got {value!r} instead.")
    return int(value)


class MLP:
    """Fully connected network: ``depth`` hidden blocks of ``width`` units, then a Dense output.

    forward: x (n, in_features) -> out (n, out_features); backward: the
    gradient of the loss with respect to ``out`` -> fills every parameter's
    gradient (overwriting, not accumulating).

    ``rng`` (a ``numpy.random.Generator`` or an int seed) draws the initial
    weights, layer by layer from the first; ``dtype`` is the compute dtype
    (float32 for speed, float64 for checks).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        depth: int = 2,
        width: int = 32,
        activation: str = "relu",
        norm: str = "none",
        norm_position: str = "before",
        init: str = "he",
        init_scale: float = 1.0,
        rng: np.random.Generator | int,
        dtype=np.float32,
        momentum: float | None = 0.1,
        eps: float = 1e-5,
    ) -> None:
        self.in_features = _check_int("in_features", in_features, 1)
        self.out_features = _check_int("out_features", out_features, 1)
        self.depth = _check_int("depth", depth, 0)
        self.width = _check_int("width", width, 1)
        _check_choice("norm", norm, NORMS)
        _check_choice("norm_position", norm_position, NORM_POSITIONS)
        _check_choice("init", init, INITS)
        make_activation(activation)  # validates the name
        self.activation, self.norm, self.norm_position = activation, norm, norm_position
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"The 'dtype' parameter must be float32 or float64. Got {self.dtype} instead.")
        if not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(rng)

        self.blocks: list[Block] = []
        self.layers: list[Layer] = []
        fan_in = self.in_features
        for i in range(self.depth):
            dense = Dense(fan_in, self.width, rng=rng, init=init, init_scale=init_scale, dtype=self.dtype)
            if norm == "batch":
                norm_layer = BatchNorm1d(self.width, momentum=momentum, eps=eps, dtype=self.dtype)
            elif norm == "layer":
                norm_layer = LayerNorm(self.width, eps=eps, dtype=self.dtype)
            else:
                norm_layer = None
            block = Block(i, dense, norm_layer, make_activation(activation), norm_position)
            self.blocks.append(block)
            self.layers.extend(block.layers)
            fan_in = self.width
        self.output = Dense(
            fan_in, self.out_features, rng=rng, init=init, init_scale=init_scale, dtype=self.dtype
        )
        self.layers.append(self.output)
        self._pack()

    def _pack(self) -> None:
        """Move every parameter and gradient into one flat buffer each; layers keep views."""
        entries = [(layer, name) for layer in self.layers for name in layer.param_names]
        total = sum(getattr(layer, name).size for layer, name in entries)
        self.flat_params = np.empty(total, dtype=self.dtype)
        self.flat_grads = np.zeros(total, dtype=self.dtype)
        offset = 0
        for layer, name in entries:
            value = getattr(layer, name)
            view = self.flat_params[offset : offset + value.size].reshape(value.shape)
            view[...] = value
            setattr(layer, name, view)
            setattr(layer, "grad_" + name, self.flat_grads[offset : offset + value.size].reshape(value.shape))
            offset += value.size

    @property
    def n_params(self) -> int:
        """Number of trainable parameters (weights, biases, gammas and betas)."""
        return sum(p.size for _, p, _ in self.params())

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, in_features) -> out: (n, out_features).

        ``training`` selects batch norm's mode (batch statistics and running
        updates, or running statistics). Each block's ``pre_norm``,
        ``post_norm``, ``pre_activation``, ``post_activation`` and ``out`` are
        set to this pass's arrays.
        """
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"MLP expected input of shape (n, {self.in_features}), got {x.shape}.")
        h = x
        for block in self.blocks:
            z = block.dense.forward(h)
            norm = block.norm
            if block.position == "before":
                block.pre_norm = z
                if norm is not None:
                    z = norm.forward(z, training)
                block.post_norm = block.pre_activation = z
                h = block.post_activation = block.activation.forward(z)
            else:
                block.pre_activation = z
                a = block.post_activation = block.pre_norm = block.activation.forward(z)
                h = norm.forward(a, training) if norm is not None else a
                block.post_norm = h
            block.out = h
        return self.output.forward(h)

    __call__ = forward

    def predict(self, x: np.ndarray, *, rows: int | None = None) -> np.ndarray:
        """x: (n, in_features) -> out: (n, out_features), the eval-mode output, ``rows`` rows at a time.

        The same function as ``forward(x, training=False)`` (equal up to rounding), made
        for inference: batch norm placed before the activation is folded into the Dense
        layer before it, ``(x @ W + b - running_mean) * s + beta = x @ (W * s) + (b -
        running_mean) * s + beta`` with ``s = gamma / sqrt(running_var + eps)``, so such a
        block costs one product, one bias and the activation; the blocks' recorded values
        (``pre_norm``, ...) are left as they were. Like any forward pass it overwrites what
        the layers keep for ``backward``. Rows are independent in eval mode, so passing
        them in chunks (``rows``) changes nothing but the size of the temporaries.
        """
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"MLP expected input of shape (n, {self.in_features}), got {x.shape}.")
        steps = []  # per block: (W, b, norm applied before the activation, norm applied after it)
        for block in self.blocks:
            dense, norm = block.dense, block.norm
            W, b = dense.W, dense.b
            if isinstance(norm, BatchNorm1d) and block.position == "before":
                s = norm.running_var + norm.eps
                np.sqrt(s, out=s)
                np.divide(norm.gamma, s, out=s)
                W = W * s
                b = (b - norm.running_mean) * s + norm.beta
                norm = None
            before, after = (norm, None) if block.position == "before" else (None, norm)
            steps.append((W, b, before, after, block.activation))
        out = self.output

        def run(h: np.ndarray) -> np.ndarray:
            for W, b, before, after, activation in steps:
                z = np.dot(h, W)
                z += b
                if before is not None:
                    z = before.forward(z, training=False)
                h = activation.forward(z)
                if after is not None:
                    h = after.forward(h, training=False)
            z = np.dot(h, out.W)
            z += out.b
            return z

        if rows is None or len(x) <= rows:
            return run(x)
        return np.concatenate([run(x[i : i + rows]) for i in range(0, len(x), rows)])

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = False) -> np.ndarray | None:
        """grad_out: (n, out_features) -> fills every gradient.

        Returns the gradient with respect to the input, (n, in_features), only
        with ``input_grad=True`` (otherwise None: it is not computed).
        """
        g = self.output.backward(grad_out, input_grad=self.depth > 0 or input_grad)
        for block in reversed(self.blocks):
            norm = block.norm
            if block.position == "before":
                g = block.activation.backward(g)
                if norm is not None:
                    g = norm.backward(g)
            else:
                if norm is not None:
                    g = norm.backward(g)
                g = block.activation.backward(g)
            g = block.dense.backward(g, input_grad=block.index > 0 or input_grad)
        return g

    def params(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """All ``(name, param, grad)`` triples, named ``"<layer index>.<attr>"``, in layer order."""
        return [(f"{i}.{name}", p, g) for i, layer in enumerate(self.layers) for name, p, g in layer.params()]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of all parameters and batch-norm buffers, keyed ``"<layer index>.<attr>"``."""
        state = {name: p.copy() for name, p, _ in self.params()}
        for i, layer in enumerate(self.layers):
            if isinstance(layer, BatchNorm1d):
                state[f"{i}.running_mean"] = layer.running_mean.copy()
                state[f"{i}.running_var"] = layer.running_var.copy()
                state[f"{i}.num_batches_tracked"] = np.array(layer.num_batches_tracked, dtype=np.int64)
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy values into the network in place (cast to its dtype); keys and shapes must match exactly."""
        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}.")
        for key, value in state.items():
            value = np.asarray(value)
            if value.shape != own[key].shape:
                raise ValueError(
                    f"load_state_dict: {key!r} has shape {value.shape}, expected {own[key].shape}."
                )
        for key, value in state.items():
            index, attr = key.split(".", 1)
            layer = self.layers[int(index)]
            if attr == "num_batches_tracked":
                layer.num_batches_tracked = int(value)
            else:
                getattr(layer, attr)[...] = value

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"MLP({inner})"
