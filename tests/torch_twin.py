"""The PyTorch twin of a core network: the one copy the parity tests and the benchmarks share.

``torch_twin(net)`` is an ``nn.Sequential`` whose module i mirrors
``net.layers[i]`` (Linear, BatchNorm1d, LayerNorm, GroupNorm, RMSNorm,
activations), in the network's dtype, loaded with its weights and batch-norm
buffers; for a stacked network (``runs=R``), ``run=r`` picks the r-th run.
``torch_state(net, run)`` is that state dict alone (compare it with
``model.state_dict()`` after training both).

PyTorch is a test and benchmark dependency (requirements-dev.txt); core never imports it.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["TORCH_ACTIVATIONS", "torch_module", "torch_state", "torch_twin"]

TORCH_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity}

# core attribute -> torch parameter / buffer name
_NAMES = {"W": "weight", "b": "bias", "gamma": "weight", "beta": "bias"}


def _torch_dtype(dtype) -> torch.dtype:
    return torch.float64 if np.dtype(dtype) == np.float64 else torch.float32


def torch_module(layer, dtype=None) -> nn.Module:
    """A fresh torch module of the same kind and size as the core ``layer`` (default weights)."""
    dtype = _torch_dtype(layer.dtype if dtype is None and hasattr(layer, "dtype") else dtype or np.float32)
    kind = type(layer).__name__
    if kind == "Dense":
        return nn.Linear(layer.in_features, layer.out_features, bias=layer.bias, dtype=dtype)
    if kind == "BatchNorm1d":
        return nn.BatchNorm1d(layer.num_features, momentum=layer.momentum, eps=layer.eps, dtype=dtype)
    if kind == "LayerNorm":
        return nn.LayerNorm(layer.num_features, eps=layer.eps, dtype=dtype)
    if kind == "GroupNorm":
        return nn.GroupNorm(layer.num_groups, layer.num_features, eps=layer.eps, dtype=dtype)
    if kind == "RMSNorm":
        return nn.RMSNorm(layer.num_features, eps=layer.eps, dtype=dtype)
    return TORCH_ACTIVATIONS[layer.name]()


def torch_state(net, run: int | None = None) -> dict[str, torch.Tensor]:
    """``net.state_dict()`` under torch's names (``"0.weight"``, ``"1.running_mean"``), of run ``run``."""
    state = {}
    for key, value in net.state_dict().items():
        index, attr = key.split(".", 1)
        if run is not None and attr != "num_batches_tracked":
            value = value[run]
        if attr == "W":
            value = value.T
        elif attr != "num_batches_tracked":
            value = value.reshape(-1)  # a per-run (1, d) vector -> (d,)
        state[f"{index}.{_NAMES.get(attr, attr)}"] = torch.tensor(np.ascontiguousarray(value))
    return state


def torch_twin(net, run: int | None = None) -> nn.Sequential:
    """nn.Sequential with module i mirroring ``net.layers[i]``, loaded from ``net`` (run ``run`` of a stack)."""
    model = nn.Sequential(*[torch_module(layer, net.dtype) for layer in net.layers])
    model.load_state_dict(torch_state(net, run))
    return model
