"""Alias of :mod:`core.nn.network` (the module moved into the ``core.nn`` package)."""

from core.nn.network import *  # noqa: F401,F403
from core.nn.network import __all__  # noqa: F401
