"""Initial weights of a Dense layer.

- ``"he"``: normal with std ``sqrt(2 / fan_in)`` (Kaiming He, for relu);
- ``"glorot"``: normal with std ``sqrt(2 / (fan_in + fan_out))`` (Xavier Glorot);
- ``"normal"``: normal with std ``scale`` (to show what a bad initialisation does).

``scale`` also multiplies the std of ``"he"`` and ``"glorot"``. The draws are
made in float64 (then cast by the layer), so one generator state gives the same
weights in float32 and float64.
"""

from __future__ import annotations

import math

import numpy as np

from core.nn.checks import check_choice, check_float

__all__ = ["INITS", "init_std", "init_weight"]

INITS = ("he", "glorot", "normal")


def init_std(init: str, fan_in: int, fan_out: int, scale: float = 1.0) -> float:
    """The standard deviation of the initial weights."""
    check_choice("init", init, INITS)
    check_float("init_scale", scale, 0.0)
    if init == "he":
        return math.sqrt(2.0 / fan_in) * scale
    if init == "glorot":
        return math.sqrt(2.0 / (fan_in + fan_out)) * scale
    return float(scale)


def init_weight(rng: np.random.Generator, fan_in: int, fan_out: int, init: str = "he",
                scale: float = 1.0) -> np.ndarray:
    """W: (fan_in, fan_out) float64, drawn from ``rng``."""
    return rng.standard_normal((fan_in, fan_out)) * init_std(init, fan_in, fan_out, scale)
