"""A multi-layer perceptron with switchable normalization, on one run or a stack of runs.

``MLP`` stacks ``depth`` hidden blocks and an output ``Dense``. A hidden block is

- ``norm_position="before"`` (Ioffe and Szegedy): Dense -> norm -> activation
- ``norm_position="after"`` (as the article words it): Dense -> activation -> norm

with ``norm`` one of :data:`NORMS`: ``"none"``, ``"batch"`` (``BatchNorm1d``),
``"layer"`` (``LayerNorm``), ``"group"`` (``GroupNorm`` with ``groups`` groups),
``"rms"`` (``RMSNorm``) or ``"noisy_batch"`` (``NoisyBatchNorm1d``: batch norm, then noise
drawn afresh each step by :meth:`MLP.resample_noise`, from ``noise_rng``; with ``runs``, a None
among its generators is a run without noise: plain batch norm). The Dense layers keep their bias even when a norm
follows them (redundant but harmless), so the network has exactly the
parameters of the PyTorch twin ``nn.Sequential(Linear, BatchNorm1d, Tanh, ...,
Linear)`` (tests/torch_twin.py).

``net.layers`` lists the layers in that order, so ``net.layers[i]`` is module
``i`` of the twin; parameter and state names are ``"<i>.<attr>"`` (``"0.W"``,
``"1.gamma"``, ``"1.running_mean"``), like PyTorch's ``"0.weight"`` (note that
``Dense.W`` is (in, out), the transpose of ``Linear.weight``).

With ``runs=R`` every layer holds R sets of parameters and the network maps a
stack (R, n, in_features) to (R, n, out_features): R independent networks
trained in one pass of numpy calls. A one-run network also accepts a stack: the
runs then share its parameters (the telemetry's eval pass uses this to push
chunks of rows through in one go).

All parameters live in one flat vector, ``net.flat_params`` (their gradients
in ``net.flat_grads``), of which the layers' arrays are views -- what PyTorch's
``parameters_to_vector`` gives. With ``runs=R`` it is (R, P), one row per run,
so a per-run hyperparameter of shape (R, 1) (each run's learning rate)
broadcasts over its row. ``opt.step(net.flat())`` updates the whole
network with a few vector operations instead of a few per parameter (Adam:
about ten per parameter); ``opt.step(net.params())`` gives the same result,
parameter by parameter. Update parameters in place (``layer.W[...] = ...``,
``load_state_dict``).
"""

from __future__ import annotations

import numpy as np

from core.nn.checks import check_choice, check_int
from core.nn.layers import (
    NORM_LAYERS,
    BatchNorm1d,
    Dense,
    Layer,
    NoisyBatchNorm1d,
    make_activation,
    make_norm,
)

__all__ = ["NORMS", "NORM_POSITIONS", "Block", "MLP"]

NORMS = ("none", *NORM_LAYERS)
NORM_POSITIONS = ("before", "after")


class Block:
    """One hidden layer of an ``MLP`` and the values of its last forward pass.

    Layers: ``dense`` (Dense), ``norm`` (a normalization layer or None), ``activation``.
    After ``MLP.forward`` each block holds the arrays that pass computed
    (references, not copies), all (n, width) or (R, n, width):

    - ``pre_norm``: the values entering the norm layer; with no norm, the values
      where it would be (the Dense output when ``position`` is ``"before"``, the
      activation output when ``"after"``);
    - ``post_norm``: the values leaving the norm layer (the same array as
      ``pre_norm`` when there is no norm);
    - ``pre_activation``, ``post_activation``: the activation's input and output;
    - ``out``: the block's output, the next block's input.
    """

    __slots__ = ("index", "dense", "norm", "activation", "position",
                 "pre_norm", "post_norm", "pre_activation", "post_activation", "out")

    def __init__(self, index: int, dense: Dense, norm: Layer | None, activation: Layer, position: str):
        self.index, self.dense, self.norm, self.activation, self.position = index, dense, norm, activation, position
        self.pre_norm = self.post_norm = self.pre_activation = self.post_activation = self.out = None

    @property
    def layers(self) -> list[Layer]:
        """This block's layers in forward order."""
        if self.norm is None:
            return [self.dense, self.activation]
        if self.position == "before":
            return [self.dense, self.norm, self.activation]
        return [self.dense, self.activation, self.norm]

    def forward(self, h: np.ndarray, training: bool) -> np.ndarray:
        """h: (..., n, d) -> (..., n, width); records the values at each stage."""
        z = self.dense.forward(h)
        if self.position == "before":
            self.pre_norm = z
            self.post_norm = self.pre_activation = self._normalize(z, training)
            self.out = self.post_activation = self.activation.forward(self.pre_activation)
        else:
            self.pre_activation = z
            self.post_activation = self.pre_norm = self.activation.forward(z)
            self.out = self.post_norm = self._normalize(self.pre_norm, training)
        return self.out

    def _normalize(self, v: np.ndarray, training: bool) -> np.ndarray:
        return v if self.norm is None else self.norm.forward(v, training)

    def backward(self, g: np.ndarray, input_grad: bool) -> np.ndarray | None:
        """The gradient at the block's output -> at its input (None without ``input_grad``)."""
        for layer in reversed(self.layers[1:]):
            g = layer.backward(g)
        return self.dense.backward(g, input_grad=input_grad)

    def __repr__(self) -> str:
        return f"Block({self.index}: {' -> '.join(repr(layer) for layer in self.layers)})"


def _generators(rng, runs: int | None, keep_none: bool = False):
    """One generator (``runs=None``) or a list of ``runs``; ints become seeded generators (with
    ``keep_none``, a None in the list stays None: a run whose noise is off)."""
    if runs is None:
        return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    rngs = list(rng)
    if len(rngs) != runs:
        raise ValueError(f"An MLP with runs={runs} needs {runs} generators or seeds, got {len(rngs)}.")
    return [r if isinstance(r, np.random.Generator) or (keep_none and r is None) else np.random.default_rng(r)
            for r in rngs]


class MLP:
    """Fully connected network: ``depth`` hidden blocks of ``width`` units, then a Dense output.

    forward: x (n, in_features) -> out (n, out_features), or with ``runs=R``
    (R, n, in_features) -> (R, n, out_features); backward: the gradient of the
    loss with respect to ``out`` -> fills every parameter's gradient.

    ``rng`` (a ``numpy.random.Generator`` or an int seed; with ``runs``, a
    sequence of them, one per run) draws the initial weights layer by layer
    from the first; with ``runs``, ``init`` and ``init_scale`` may also be
    sequences (one per run); ``dtype`` is the compute dtype (float32 for speed, float64
    for checks). ``groups`` is group norm's number of groups (it must divide ``width``).
    """

    def __init__(self, in_features: int, out_features: int, *, depth: int = 2, width: int = 32,
                 activation: str = "relu", norm: str = "none", norm_position: str = "before",
                 init: str = "he", init_scale: float = 1.0, rng, dtype=np.float32,
                 momentum: float | None = 0.1, eps: float | None = None, groups: int = 4,
                 runs: int | None = None, noise_rng=None) -> None:
        self.in_features = check_int("in_features", in_features, 1)
        self.out_features = check_int("out_features", out_features, 1)
        self.depth = check_int("depth", depth, 0)
        self.width = check_int("width", width, 1)
        self.runs = None if runs is None else check_int("runs", runs, 1)
        check_choice("norm", norm, NORMS)
        check_choice("norm_position", norm_position, NORM_POSITIONS)
        make_activation(activation)  # validates the name
        self.activation, self.norm, self.norm_position = activation, norm, norm_position
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"The 'dtype' parameter must be float32 or float64. Got {self.dtype} instead.")
        rng = _generators(rng, self.runs)
        dense = dict(rng=rng, init=init, init_scale=init_scale, runs=self.runs, dtype=self.dtype)
        if norm == "noisy_batch" and noise_rng is None:
            raise ValueError("norm='noisy_batch' needs noise_rng: the generator(s) of its noise.")
        noise = None if noise_rng is None else _generators(noise_rng, self.runs, keep_none=True)

        self.blocks: list[Block] = []
        fan_in = self.in_features
        for i in range(self.depth):
            norm_layer = make_norm(norm, self.width, momentum=momentum, eps=eps, groups=groups,
                                   runs=self.runs, dtype=self.dtype, rng=noise)
            self.blocks.append(Block(i, Dense(fan_in, self.width, **dense), norm_layer,
                                     make_activation(activation), norm_position))
            fan_in = self.width
        self.output = Dense(fan_in, self.out_features, **dense)
        self.layers: list[Layer] = [layer for b in self.blocks for layer in b.layers] + [self.output]
        self.flat_params, self.flat_grads = self._gather()

    def _gather(self) -> tuple[np.ndarray, np.ndarray]:
        """Copy every parameter and gradient into one flat vector each, (P,) or (R, P) (a row per
        run); the layers keep views of them."""
        rows = 1 if self.runs is None else self.runs
        entries = [(layer, name) for layer in self.layers for name in layer.param_names]
        total = sum(getattr(layer, name).size for layer, name in entries) // rows
        flat_params, flat_grads = np.empty((rows, total), self.dtype), np.zeros((rows, total), self.dtype)
        start = 0
        for layer, name in entries:
            value = getattr(layer, name)
            stop = start + value.size // rows
            flat_params[:, start:stop] = value.reshape(rows, -1)
            for attr, flat in ((name, flat_params), ("grad_" + name, flat_grads)):
                view = flat[:, start:stop].reshape(value.shape)  # a view: the run's slice, reshaped
                assert np.shares_memory(view, flat)
                setattr(layer, attr, view)
            start = stop
        if self.runs is None:
            return flat_params[0], flat_grads[0]
        return flat_params, flat_grads

    def flat(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The whole network as one ``("all", flat_params, flat_grads)`` triple, for ``opt.step``."""
        return [("all", self.flat_params, self.flat_grads)]


    @property
    def n_params(self) -> int:
        """Number of trainable parameters (weights, biases, gammas and betas), all runs together."""
        return sum(p.size for _, p, _ in self.params())

    def resample_noise(self) -> None:
        """Noisy batch norm: every layer draws this step's noise (nothing for the other norms)."""
        for block in self.blocks:
            if isinstance(block.norm, NoisyBatchNorm1d):
                block.norm.resample()

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (n, in_features) or (R, n, in_features) -> out: (n or R, n, out_features).

        ``training`` selects batch norm's mode (batch statistics and running
        updates, or the running statistics). Each block records this pass's
        values (``pre_norm``, ``post_norm``, ``pre_activation``, ``post_activation``, ``out``).
        """
        h = np.asarray(x, dtype=self.dtype)
        if h.ndim not in (2, 3) or h.shape[-1] != self.in_features:
            raise ValueError(f"MLP expected input of shape (n, {self.in_features}), got {h.shape}.")
        for block in self.blocks:
            h = block.forward(h, training)
        return self.output.forward(h)

    __call__ = forward

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = False) -> np.ndarray | None:
        """grad_out: like the output -> fills every gradient.

        Returns the gradient with respect to the input only with
        ``input_grad=True`` (otherwise None: it is not computed).
        """
        g = self.output.backward(grad_out, input_grad=self.depth > 0 or input_grad)
        for block in reversed(self.blocks):
            g = block.backward(g, input_grad=block.index > 0 or input_grad)
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
        missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        if missing or unexpected:
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}.")
        for key, value in state.items():
            if np.shape(value) != own[key].shape:
                raise ValueError(f"load_state_dict: {key!r} has shape {np.shape(value)}, expected {own[key].shape}.")
        for key, value in state.items():
            index, attr = key.split(".", 1)
            layer = self.layers[int(index)]
            if attr == "num_batches_tracked":
                layer.num_batches_tracked = int(value)
            else:
                getattr(layer, attr)[...] = value

    def load_runs(self, net: MLP, runs: list[int]) -> None:
        """Make this stack of ``len(runs)`` networks a copy of runs ``runs`` of the stack ``net`` (the
        same architecture): their parameters and batch-norm running statistics, in place."""
        self.flat_params[...] = net.flat_params[runs]
        for mine, theirs in zip(self.layers, net.layers, strict=True):
            if isinstance(mine, BatchNorm1d):
                mine.running_mean[...] = theirs.running_mean[runs]
                mine.running_var[...] = theirs.running_var[runs]
                mine.num_batches_tracked = theirs.num_batches_tracked

    def __repr__(self) -> str:
        return f"MLP({', '.join(repr(layer) for layer in self.layers)})"
