"""Runs over several seeds: which runs a page has, and frames reduced over seeds.

A network view's runs are a dict ``normalization -> History`` (one seed) or
``normalization -> (History, ...)`` (one per seed, the first being the
config's own seed). The helpers here accept both, so a one-seed page builds
exactly the frames it built before seeds existed.

Reduced frames hold the median over seeds of each value and, for curves,
its lowest and highest value (``lo``, ``hi``: the band). Non-finite values
are dropped before reducing: the median is over the seeds that recorded a
finite value there (a diverged seed's curve ends where it diverged).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def as_seeds(runs: dict) -> dict[str, tuple]:
    """Every run as a tuple of its seeds' Histories."""
    return {n: tuple(h) if isinstance(h, (tuple, list)) else (h,) for n, h in runs.items()}


def first(runs: dict) -> dict:
    """Each normalization's first seed (the config's own): what one-run pictures show."""
    return {n: hs[0] for n, hs in as_seeds(runs).items()}


def count(runs: dict) -> int:
    """How many seeds each run has (the fewest, should they differ)."""
    seeded = as_seeds(runs)
    return min((len(hs) for hs in seeded.values()), default=1)


def seed_values(runs: dict) -> list[int]:
    """The seeds of the runs on screen, in order (the first normalization's)."""
    seeded = as_seeds(runs)
    return [int(h.config.seed) for h in next(iter(seeded.values()), ())]


def reduce(frames: Sequence[pd.DataFrame], by: Sequence[str], values: Sequence[str], *,
           band: str | None = None) -> pd.DataFrame:
    """The median over seeds of ``values`` per ``by`` group (a frame per seed in ``frames``); with
    ``band`` (one of ``values``), its lowest and highest value over seeds as ``lo`` and ``hi``.

    One frame is returned as it is (columns ``by`` + ``values``; with ``band``, lo = hi = the value)."""
    by, values = list(by), list(values)
    if len(frames) == 1:
        out = frames[0][by + values]
        return out.assign(lo=out[band], hi=out[band]) if band else out
    stacked = pd.concat([f[by + values] for f in frames], ignore_index=True)
    stacked = stacked.astype({v: np.float64 for v in values})
    ok = np.isfinite(stacked[values].to_numpy()).all(axis=1)
    grouped = stacked[ok].groupby(by, sort=True, observed=True)
    out = grouped[values].median()
    if band:
        out = out.assign(lo=grouped[band].min(), hi=grouped[band].max())
    return out.reset_index()
