"""Expensive work, cached per config (bounded caches; nothing shared but results).

Each wrapper takes a frozen config (hashable) and returns what core computed.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from core.data import Dataset, load_dataset
from core.experiment import LandscapeConfig, LandscapeResult, run_landscape

# cache sizes: a classroom moves a few sliders; the bound keeps a hosted demo's memory flat
SMALL, MEDIUM = 16, 64


@st.cache_data(max_entries=MEDIUM, show_spinner=False)
def _landscape(config: LandscapeConfig) -> LandscapeResult:
    return run_landscape(config)


def landscape(config: LandscapeConfig) -> LandscapeResult:
    """The experiment for ``config``; the scrub position does not rerun it."""
    return _landscape(dataclasses.replace(config, at_step=LandscapeConfig.at_step))


@st.cache_data(max_entries=MEDIUM, show_spinner=False)
def _landscape_rates(config: LandscapeConfig) -> pd.DataFrame:
    return landscape(config).rates()


def landscape_rates(config: LandscapeConfig) -> pd.DataFrame:
    """(run, lr_scale, rate) of the experiment for ``config`` (``LandscapeResult.rates``); the learning
    rate, the steps and the scrub position do not change it."""
    return _landscape_rates(dataclasses.replace(config, at_step=LandscapeConfig.at_step, steps=1,
                                                lr_scale=LandscapeConfig.lr_scale))


@st.cache_data(max_entries=SMALL, show_spinner=False)
def dataset(name: str, n_samples: int = 500, noise: float = 0.2, seed: int = 0) -> Dataset:
    return load_dataset(name, n_samples=n_samples, noise=noise, seed=seed)


@st.cache_data(max_entries=MEDIUM, show_spinner=False)
def scale_invariance(config):
    """``core.explain.scale_invariance`` of every normalization on ``config``'s network, one frame
    (norm, layer, factor, change)."""
    import pandas as pd

    from core import explain
    from dashboard.runs import NORMS  # the five normalizations (noisy batch norm is the Why view's arm)

    parts = []
    for norm in NORMS:
        c = dataclasses.replace(config, norm=norm)
        if norm == "group" and c.width % c.groups:
            continue
        parts.append(explain.scale_invariance(c).assign(norm=norm))
    return pd.concat(parts, ignore_index=True)


@st.cache_data(max_entries=MEDIUM, show_spinner=False)
def signal_propagation(config, seeds: tuple = ()):
    """``core.explain.signal_propagation`` of every normalization on ``config``'s network, on each of
    ``seeds`` (default: the config's own)."""
    from core import explain
    from dashboard.runs import NORMS

    configs = [dataclasses.replace(config, norm=n, seed=s) for n in NORMS for s in (seeds or (config.seed,))]
    return explain.signal_propagation([c for c in configs if not (c.norm == "group" and c.width % c.groups)])


@st.cache_data(max_entries=SMALL, show_spinner=False)
def gradient_probe(configs: tuple, norms: tuple | None = None):
    """``core.explain.probe_runs`` of ``configs``: (ics, landscape) frames, their rows of ``norms``
    (default: all). The probed runs equal the plain ones (the probe restores everything), so they go
    into the run store too: a page probes every run it trains, in one training (batch norm's runs
    share their stack with noisy batch norm's), and keeps the rows it draws."""
    from core import explain
    from dashboard.runs import store

    with store().slots:  # one training at a time in the process, as the run store's
        histories, ics, land = explain.probe_runs(list(configs), boundaries=())  # the page draws none
    for c, h in zip(configs, histories, strict=True):
        if store().get(c) is None:
            store().put(c, h)
    if norms is not None:
        ics, land = (f[f["norm"].isin(norms)].reset_index(drop=True) for f in (ics, land))
    return ics, land
