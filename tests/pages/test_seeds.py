"""The network views over several seeds: 1, 3 and 10 seeds a run.

With more than one seed every curve is the median over the seeds inside a band from the lowest seed
to the highest, no NaN reaches a chart, and "What you see" counts seeds, its counts computed from the
runs the page trained (read back from the run store, judged here through core's records); with one
seed the page shows no band. A link asking for seeds out of range opens with the nearest value and a
notice that says so.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from core.training import TrainConfig
from dashboard import observe as ob
from dashboard.registry import VIEWS
from dashboard.runs import seeded_variants, store
from dashboard.what_you_see import OUTCOME_WORDS, beats
from tests.pages.test_pages_apptest import (
    assert_chart_data_ok,
    assert_clean,
    chart_frames,
    charts_of,
    open_view,
)

BY_PATH = {v.url_path: v for v in VIEWS}
#: the default lesson (10 sigmoid layers on the moons), trained for fewer epochs: ten seeds stay quick
EPOCHS = 4


def _open(path: str, seeds: int, **extra: str):
    at = open_view(BY_PATH[path], query={"seeds": str(seeds), "epochs": str(EPOCHS), **extra})
    assert_clean(at, f"{path} with {seeds} seeds")
    return at


def _runs_on_screen(at, seeds: int) -> dict:
    """The page's runs, read back from the run store: normalization -> one History per seed."""
    config = TrainConfig(epochs=EPOCHS, seed=int(at.session_state["seed"]))
    norms = ("none", at.session_state["compare"])
    configs = seeded_variants(config, norms, range(config.seed, config.seed + seeds))
    runs = {n: tuple(store().get(c) for c in cs) for n, cs in configs.items()}
    assert all(h is not None for hs in runs.values() for h in hs), "the page did not train every seed"
    return runs


def _bands(at) -> list[tuple[dict, list]]:
    """(layer spec, the chart's frames) of every band from the lowest seed to the highest."""
    out = []
    for el in charts_of(at):
        spec = json.loads(el.proto.spec)
        for part in spec.get("layer", []):
            enc = part.get("encoding", {})
            if enc.get("y", {}).get("field") == "lo" and enc.get("y2", {}).get("field") == "hi":
                out.append((part, chart_frames(el)))
    return out


def _what_you_see(at) -> str:
    return " ".join(str(m.value) for m in at.markdown if str(m.value).startswith("- "))


@pytest.mark.parametrize("seeds", [3, 10])
def test_training_over_seeds_draws_median_curves_in_bands_and_counts_the_seeds_it_measured(seeds):
    at = _open("training", seeds)
    assert_chart_data_ok(at, f"training, {seeds} seeds")  # finite, under 5,000 rows
    bands = _bands(at)
    assert len(bands) == 2, "the loss and the accuracy curves each need a band over seeds"
    for part, frames in bands:
        assert part["mark"]["type"] == "area"
        data = next(f for f in frames if {"lo", "hi"} <= set(f.columns))
        metric = next(c for c in ("loss", "accuracy") if c in data.columns)
        assert (data["lo"] <= data[metric] + 1e-9).all() and (data[metric] <= data["hi"] + 1e-9).all()
        assert (data["hi"] > data["lo"]).any(), "seeds that differ draw a band of some width"
    runs = _runs_on_screen(at, seeds)
    won = sum(beats(bn, plain) for bn, plain in zip(runs["batch"], runs["none"], strict=True))
    text = _what_you_see(at)
    assert f"Batch norm beat no normalization on {won} of {seeds} seeds" in text, text
    said = next(line for line in text.split("- ") if line.startswith("With batch norm, the network"))
    for kind, count in Counter(ob.outcome(h) for h in runs["batch"]).items():
        assert re.search(rf"{re.escape(OUTCOME_WORDS[kind])} on {count}( of {seeds} seeds)?[,.; ]", said), said
    assert f"median over {seeds} seeds" in " ".join(str(c.value) for c in at.caption)


def test_training_with_one_seed_draws_single_runs_and_speaks_of_one_run():
    at = _open("training", 1)
    assert_chart_data_ok(at, "training, 1 seed")
    assert _bands(at) == [], "one seed has no band over seeds"
    for el in charts_of(at):
        for frame in chart_frames(el):
            assert not {"lo", "hi"} & set(frame.columns)
    text = _what_you_see(at)
    assert "seeds" not in text and "validation loss" in text, text


@pytest.mark.parametrize("path", ["activations", "gamma-beta"])
def test_the_other_network_views_over_seeds_say_what_they_measured_over_them(path):
    at = _open(path, 3)
    assert_chart_data_ok(at, f"{path}, 3 seeds")
    text = _what_you_see(at)
    assert "3 seeds" in text or "3 of 3" in text, text
    titles = " ".join(str(s.value) for s in at.subheader) + " ".join(
        json.dumps(json.loads(el.proto.spec).get("title", "")) for el in charts_of(at))
    assert "seed 0" in titles, "a one-run picture must say which seed it shows"


@pytest.mark.parametrize(("asked", "shown"), [("11", 10), ("0", 1), ("-3", 1), ("2.5", 2)])
def test_seeds_out_of_range_in_a_link_open_the_nearest_value_with_a_notice(asked, shown):
    at = open_view(BY_PATH["training"], query={"seeds": asked, "epochs": str(EPOCHS)})
    assert_clean(at, f"seeds={asked}")
    assert at.session_state["seeds"] == shown
    assert at.query_params.get("seeds") == str(shown)
    (notice,) = [str(w.value) for w in at.warning]
    assert notice.startswith("**The link was adjusted:**") and f"`seeds={asked}`" in notice, notice
    if asked != "2.5":
        assert "1 to 10" in notice, notice
