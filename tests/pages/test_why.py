"""The "Why it works" view: its charts and measured sentences, on several networks and seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import explain
from core.training import TrainConfig
from dashboard import whycharts
from dashboard.registry import VIEWS
from tests.pages.test_pages_apptest import assert_clean, chart_frames, charts_of, open_view

WHY = next(v for v in VIEWS if v.url_path == "why")


@pytest.mark.parametrize("query", [{}, {"activation": "relu", "norm_position": "after", "depth": "4"},
                                   {"compare": "rms", "depth": "3", "width": "8", "groups": "3"}])
def test_the_view_draws_its_measurements(query):
    at = open_view(WHY, query=query)
    assert_clean(at, str(query))
    charts = charts_of(at)
    assert len(charts) == 10
    for el in charts:
        for frame in chart_frames(el):
            numeric = frame.select_dtypes("number").to_numpy(float)
            assert np.isfinite(numeric).all()
    text = " ".join(m.value for m in at.markdown)
    assert "Weights × 10: the output" in text and "squared mean" in text
    assert "Santurkar" in text and "Loss range along the gradient" in text


@pytest.mark.parametrize("seed", range(4))
def test_the_sentences_say_what_the_measurement_found(seed):
    c = TrainConfig(seed=seed)  # the default network: 10 sigmoid layers, normalization before the activation
    rows = [explain.scale_invariance(c.replace(norm=n)).assign(norm=n) for n in ("none", "batch", "layer")]
    worst = whycharts.worst_change(pd.concat(rows, ignore_index=True))
    at10 = whycharts.invariance_sentences(worst, 10.0)
    unchanged, _, changed = at10.partition("changed with")
    assert "batch norm" in unchanged and "layer norm" in unchanged and "no normalization" in changed
    # shrinking the weights 10x brings eps into play for batch norm on every seed: the page says so
    assert whycharts.eps_shows(worst)
