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
