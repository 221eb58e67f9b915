"""Alias of :mod:`core.nn.optimizers` (the module moved into the ``core.nn`` package)."""

from core.nn.optimizers import *  # noqa: F401,F403
from core.nn.optimizers import __all__  # noqa: F401
