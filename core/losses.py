"""Alias of :mod:`core.nn.losses` (the module moved into the ``core.nn`` package)."""

from core.nn.losses import *  # noqa: F401,F403
from core.nn.losses import __all__  # noqa: F401
