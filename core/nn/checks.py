"""Argument checks shared by the layers, the network and the optimizers.

Every message has scikit-learn's form: "The 'lr' parameter must be a float in
the range (0, inf). Got -1 instead."
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_choice", "check_float", "check_int"]


def check_choice(name: str, value, allowed: tuple):
    """``value`` if it is one of ``allowed``; ValueError otherwise."""
    if value not in allowed:
        raise ValueError(f"The '{name}' parameter must be one of {allowed}. Got {value!r} instead.")
    return value


def check_int(name: str, value, low: int) -> int:
    """``value`` as an int if it is an integer >= ``low`` (bools are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"The '{name}' parameter must be an int >= {low}. Got {value!r} instead.")
    return int(value)


def check_float(name: str, value, low: float, high: float = math.inf, *, low_open: bool = False) -> float:
    """``value`` as a float if it is finite and in [low, high] ((low, high] with ``low_open``)."""
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
