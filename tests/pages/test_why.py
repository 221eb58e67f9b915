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
    assert len(charts) == 12  # 10 of the four explanations, 2 of the noisy arm
    for el in charts:
        for frame in chart_frames(el):
            numeric = frame.select_dtypes("number").to_numpy(float)
            assert np.isfinite(numeric).all()
    text = " ".join(m.value for m in at.markdown)
    assert "Weights × 10: the output" in text and "squared mean" in text
    assert "Santurkar" in text and "Loss range along the gradient" in text
    assert "noisy batch norm's layer inputs moved" in text


@pytest.mark.parametrize("kw", [{}, {"depth": 8, "activation": "relu", "init": "he"}], ids=["sigmoid", "relu"])
def test_noisy_batch_norm_really_moves_the_layer_inputs_more_than_batch_norm_on_every_seed(kw):
    """What the noisy arm's sentence reports is a measurement: per seed, the noisy runs' inputs drift
    more than batch norm's (the noise acts), and the sentence's verdict follows from its numbers."""
    from core.training import train_many

    base = TrainConfig(epochs=8, **kw)
    configs = [base.replace(norm=n, seed=s) for n in whycharts.NOISY_ARM for s in (0, 1, 2)]
    hists = dict(zip(configs, train_many(configs), strict=True))
    for s in (0, 1, 2):
        one = {n: (hists[base.replace(norm=n, seed=s)],) for n in whycharts.NOISY_ARM}
        facts = whycharts.noisy_facts(one)
        assert facts["noisy_batch"]["shift"] > 2 * facts["batch"]["shift"], (s, facts)
    runs = {n: tuple(hists[base.replace(norm=n, seed=s)] for s in (0, 1, 2)) for n in whycharts.NOISY_ARM}
    facts, line = whycharts.noisy_facts(runs), whycharts.noisy_sentence(runs)
    noisy, bn, plain = facts["noisy_batch"], facts["batch"], facts["none"]
    # each number in its place: noisy batch norm's first, then batch norm's, then the plain network's
    assert (f"|Δ mean| / std {noisy['shift']:.3g} against {bn['shift']:.3g}; no normalization "
            f"{plain['shift']:.3g})") in line, line
    assert (f"learned on {noisy['learned']} of 3 seeds (batch norm {bn['learned']}, no normalization "
            f"{plain['learned']})") in line, line
    assert (f"loss of {noisy['loss']:.3g} against batch norm's {bn['loss']:.3g} and no normalization's "
            f"{plain['loss']:.3g}") in line, line
    learned_all = facts["noisy_batch"]["learned"] == 3
    assert ("does not train on every seed" in line) == (not learned_all)
    as_well = learned_all and facts["noisy_batch"]["loss"] <= whycharts.AS_WELL * facts["batch"]["loss"]
    assert ("about as well as batch norm" in line) == as_well


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
