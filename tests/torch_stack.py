"""R PyTorch twins trained as one stack: parameters shaped (R, in, out), batched matrix products.

``TorchStack(nets)`` is the stacked counterpart of ``tests/torch_twin.py``'s
``torch_twin``: from R one-run core networks of the same architecture it takes
each run's weights and batch-norm buffers (through ``torch_state``, so under
the twin's names and layouts) and stacks them along a leading runs axis:

- ``Dense``: ``W`` (R, in, out) -- core's layout, ``x @ W`` -- and ``b`` (R, 1, out);
  forward is one ``torch.baddbmm(b, x, W)`` for all runs;
- ``BatchNorm1d``: ``gamma``, ``beta``, ``running_mean``, ``running_var`` (R, 1, d);
  statistics over each run's batch axis, biased variance for the normalization
  and the unbiased one for the running estimates (``torch.nn.BatchNorm1d``'s
  semantics, by its own kernel: see ``_batch_norm``);
- ``LayerNorm``, ``RMSNorm``: over the units axis (-1), per-run γ (and β);
- activations: elementwise, as in the twin.

``forward(x)`` maps (R, n, in) to (R, n, out) in training mode; autograd does
the backward. ``loss(out, y)`` is the sum over runs of each run's mean
cross-entropy, so each run's parameters get exactly their own gradient, and
``torch.optim.SGD`` over ``parameters()`` updates every run as it would alone
(every update is elementwise).

PyTorch is a test and benchmark dependency (requirements-dev.txt); core never imports it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tests.torch_twin import TORCH_ACTIVATIONS, torch_state

__all__ = ["TorchStack"]

_NORM_KINDS = ("BatchNorm1d", "LayerNorm", "RMSNorm")


class TorchStack:
    """R copies of a core network's architecture, each with its own weights, trained at once."""

    def __init__(self, nets) -> None:
        nets = list(nets)
        if not nets:
            raise ValueError("TorchStack needs at least one network.")
        kinds = [type(layer).__name__ for layer in nets[0].layers]
        for net in nets[1:]:
            if [type(layer).__name__ for layer in net.layers] != kinds:
                raise ValueError("TorchStack: every network must have the same layers.")
        states = [torch_state(net) for net in nets]
        self.runs = len(nets)
        self.layers: list[tuple] = []  # (kind, layer of run 0, {name: stacked tensor})
        for i, layer in enumerate(nets[0].layers):
            kind = type(layer).__name__
            if kind == "GroupNorm":
                raise NotImplementedError("TorchStack has no group norm.")
            if kind == "BatchNorm1d" and layer.momentum is None:
                raise NotImplementedError("TorchStack's batch norm needs a momentum (not the cumulative average).")

            def stacked(name: str, i=i) -> torch.Tensor:
                return torch.stack([s[f"{i}.{name}"] for s in states])

            tensors: dict[str, torch.Tensor] = {}
            if kind == "Dense":
                tensors["W"] = stacked("weight").transpose(1, 2).contiguous()  # (R, in, out)
                if layer.bias:
                    tensors["b"] = stacked("bias").unsqueeze(1)  # (R, 1, out)
            elif kind in _NORM_KINDS:
                tensors["gamma"] = stacked("weight").unsqueeze(1)  # (R, 1, d)
                if kind != "RMSNorm":
                    tensors["beta"] = stacked("bias").unsqueeze(1)
                if kind == "BatchNorm1d":
                    tensors["running_mean"] = stacked("running_mean").unsqueeze(1)
                    tensors["running_var"] = stacked("running_var").unsqueeze(1)
            else:
                tensors["activation"] = TORCH_ACTIVATIONS[layer.name]()
            for name in ("W", "b", "gamma", "beta"):
                if name in tensors:
                    tensors[name].requires_grad_(True)
            self.layers.append((kind, layer, tensors))

    def parameters(self) -> list[torch.Tensor]:
        """Every trainable tensor (W, b, gamma, beta), each with its runs axis first."""
        return [t[name] for _, _, t in self.layers for name in ("W", "b", "gamma", "beta") if name in t]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (R, n, in) -> out: (R, n, out), training mode (batch norm updates its running estimates)."""
        h = x
        for kind, layer, t in self.layers:
            if kind == "Dense":
                h = torch.baddbmm(t["b"], h, t["W"]) if "b" in t else torch.bmm(h, t["W"])
            elif kind == "BatchNorm1d":
                h = self._batch_norm(h, layer, t)
            elif kind == "LayerNorm":
                mean = h.mean(-1, keepdim=True)
                var = h.var(-1, unbiased=False, keepdim=True)
                h = t["gamma"] * (h - mean) * torch.rsqrt(var + layer.eps) + t["beta"]
            elif kind == "RMSNorm":
                h = t["gamma"] * h * torch.rsqrt(h.square().mean(-1, keepdim=True) + layer.eps)
            else:
                h = t["activation"](h)
        return h

    __call__ = forward

    @staticmethod
    def _batch_norm(h: torch.Tensor, layer, t: dict) -> torch.Tensor:
        """h: (R, n, d) -> (R, n, d): each run standardized with its own batch's mean and biased variance.

        PyTorch's own batch-norm kernel does it: seen as (n, R * d), the stack is one batch of
        n samples with R * d channels, and each channel (a unit of a run) is normalized over
        the batch, its running estimates updated in place (views of the (R, 1, d) buffers).
        A hand-written ``(h - h.mean(-2)) / sqrt(h.var(-2) + eps)`` with autograd is the same
        and measured 1.2-2x slower.
        """
        R, n, d = h.shape
        out = F.batch_norm(h.transpose(0, 1).reshape(n, R * d), t["running_mean"].view(-1),
                           t["running_var"].view(-1), t["gamma"].view(-1), t["beta"].view(-1),
                           training=True, momentum=layer.momentum, eps=layer.eps)
        return out.view(n, R, d).transpose(0, 1)

    @staticmethod
    def loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """out: (R, n, k), y: (R, n) int -> the (R,) per-run mean cross-entropies."""
        R, n, k = out.shape
        return F.cross_entropy(out.reshape(R * n, k), y.reshape(R * n), reduction="none").view(R, n).mean(1)
