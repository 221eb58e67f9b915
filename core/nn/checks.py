"""Argument checks shared by the layers, the network and the optimizers.

Each builds a ``core.params.Spec`` and checks through ``core.params.check``, the
one mechanism configs use too, so every message has scikit-learn's form: "The
'lr' parameter must be a float > 0. Got -1 instead."
"""

from __future__ import annotations

import math

from core.params import Spec, check

__all__ = ["check_choice", "check_float", "check_int"]


def check_choice(name: str, value, allowed: tuple):
    """``value`` if it is one of ``allowed``; ValueError otherwise."""
    return check(name, value, Spec("choice", choices=tuple(allowed)))


def check_int(name: str, value, low: int) -> int:
    """``value`` as an int if it is an integer >= ``low`` (bools are not integers here)."""
    return int(check(name, value, Spec("int", low=low)))


def check_float(name: str, value, low: float, high: float = math.inf, *, low_open: bool = False) -> float:
    """``value`` as a float if it is finite and in [low, high] ((low, high] with ``low_open``)."""
    return float(check(name, value, Spec("float", low=low, high=None if math.isinf(high) else high,
                                         low_open=low_open)))
