"""What the Why view measured on one run: its History and the gradient probe's rows for it.

The Why view's lessons judge more than a History holds (the probe's gradient changes, the network's
response to scaled weights, the signal at step 0), so the view hands them, and
``dashboard.lessons.measure`` computes for them, one :class:`WhyRun` per normalization and seed:
``{norm: (WhyRun, ...)}`` over seeds, ``{norm: WhyRun}`` for one seed, as the runs dicts of the other
network views (``dashboard.checks.judge`` reads them the same way).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd

from core.training import History, TrainConfig
from dashboard.seeds import as_seeds

__all__ = ["WhyRun", "bundle"]

ICS_COLUMNS = ["step", "layer", "l2", "cos"]
LANDSCAPE_COLUMNS = ["step", "eta", "loss", "grad_change", "distance"]


@dataclass(frozen=True, eq=False)
class WhyRun:
    """One run (a normalization and a seed) of the Why view.

    ``ics``: (step, layer, l2, cos), Santurkar's ‖G − G′‖ and cos(G, G′); ``landscape``: (step, eta,
    loss, grad_change, distance) along the gradient; both empty when the run was not probed. They are
    the run's rows of the probe's frames of every run (``probed_ics``, ``probed_landscape``, keyed by
    norm and seed), picked out when first read: a page hands its WhyRuns over on every rerun, and
    only an open lesson of the view reads them.
    """

    history: History
    probed_ics: pd.DataFrame | None = None
    probed_landscape: pd.DataFrame | None = None

    @property
    def config(self) -> TrainConfig:
        return self.history.config

    @functools.cached_property
    def ics(self) -> pd.DataFrame:
        return _rows(self.probed_ics, self.config, ICS_COLUMNS)

    @functools.cached_property
    def landscape(self) -> pd.DataFrame:
        return _rows(self.probed_landscape, self.config, LANDSCAPE_COLUMNS)


def _rows(frame: pd.DataFrame | None, config: TrainConfig, columns: list[str]) -> pd.DataFrame:
    if frame is None or frame.empty:
        return pd.DataFrame(columns=columns)
    mine = frame[(frame["norm"] == config.norm) & (frame["seed"] == config.seed)]
    return mine[columns].reset_index(drop=True)


def bundle(runs: dict, ics: pd.DataFrame | None = None, landscape: pd.DataFrame | None = None) -> dict:
    """runs (normalization -> History, or one per seed) with each run's probe rows: normalization ->
    WhyRun (one seed) or a tuple of them (over seeds)."""
    out = {}
    for norm, hs in as_seeds(runs).items():
        whys = tuple(WhyRun(h, ics, landscape) for h in hs)
        out[norm] = whys if isinstance(runs[norm], (tuple, list)) else whys[0]
    return out
