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


def places(group: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values sorted by group (``group``: equal for a group's values, which are contiguous): each
    value's group number (0, 1, …), its place within its group, and where each group starts.

    A (groups, longest group) array filled at [number, place] holds a group a row, so work over
    every group is one array operation instead of a loop over the groups."""
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    number = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(group)]))
    return number, np.arange(len(group)) - starts[number], starts


def reduce(frames: Sequence[pd.DataFrame], by: Sequence[str], values: Sequence[str], *,
           band: str | None = None) -> pd.DataFrame:
    """The median over seeds of ``values`` per ``by`` group (a frame per seed in ``frames``); with
    ``band`` (one of ``values``), its lowest and highest value over seeds as ``lo`` and ``hi``.
    Rows come sorted by ``by`` (as ``groupby(by).median()`` gives them); a seed's row with a
    non-finite value is left out.

    One frame is returned as it is (columns ``by`` + ``values``; with ``band``, lo = hi = the value)."""
    by, values = list(by), list(values)
    if len(frames) == 1:
        out = frames[0][by + values]
        return out.assign(lo=out[band], hi=out[band]) if band else out
    keys = pd.concat([f[by] for f in frames], ignore_index=True)
    x = np.concatenate([f[values].to_numpy(dtype=np.float64, na_value=np.nan) for f in frames])
    codes = [pd.factorize(keys[c], sort=True)[0] for c in by]  # in the keys' order (a category's too)
    rows, median, lo, hi = median_by(codes, x, values.index(band) if band else 0)
    out = keys.iloc[rows].reset_index(drop=True).assign(**{v: median[:, j] for j, v in enumerate(values)})
    return out.assign(lo=lo, hi=hi) if band else out


def median_by(codes: Sequence[np.ndarray], x: np.ndarray, band: int = 0):
    """The median of the rows of ``x`` (n, values) per group of rows with equal ``codes`` (integer
    arrays, one per key, n each; a negative code: no group), the groups in the order of their codes;
    a row with a non-finite value is left out. Returns a row of each group (its first), the medians
    (groups, values), and the lowest and highest value of column ``band`` per group."""
    ok = np.isfinite(x).all(axis=1) & np.logical_and.reduce([c >= 0 for c in codes])
    group = np.ravel_multi_index([c[ok] for c in codes], [max(c.max(initial=0), 0) + 1 for c in codes])
    order = np.argsort(group, kind="stable")
    rows = np.flatnonzero(ok)[order]  # by group, then in the order given (by seed)
    if not len(rows):
        return rows, np.empty((0, x.shape[1])), np.empty(0), np.empty(0)
    number, place, starts = places(group[order])
    seeds = np.full((len(starts), place.max() + 1, x.shape[1]), np.nan)
    seeds[number, place] = x[rows]  # a group a row, its seeds' values along it (NaN: no value there)
    return (rows[starts], np.nanmedian(seeds, axis=1), np.nanmin(seeds[:, :, band], axis=1),
            np.nanmax(seeds[:, :, band], axis=1))
