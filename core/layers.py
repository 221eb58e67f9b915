"""Alias of :mod:`core.nn.layers` (the module moved into the ``core.nn`` package)."""

from core.nn.init import INITS  # noqa: F401,E402
from core.nn.layers import *  # noqa: F401,F403
from core.nn.layers import __all__  # noqa: F401
