"""Frames reduced over seeds: the median with a band from the lowest seed to the highest, NaN and inf
left out of both; one seed's frame is the run's own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import seeds as sd
from dashboard.frames import metric_frame


class Run:
    """A stand-in for a History: its metrics frame only."""

    def __init__(self, losses):
        n = len(losses)
        self.metrics = pd.DataFrame({"step": np.arange(n) * 10, "epoch": 0, "split": ["val"] * n,
                                     "loss": np.asarray(losses, dtype=np.float32), "accuracy": 0.5})


def test_the_median_over_seeds_lies_in_a_band_from_the_lowest_seed_to_the_highest():
    runs = {"none": (Run([1.0, 0.8, 0.6]), Run([1.2, 0.4, 0.5]), Run([0.9, 0.7, 0.9]))}
    df = metric_frame(runs, "loss")
    assert np.allclose(df["loss"], [1.0, 0.7, 0.6])
    assert np.allclose(df["lo"], [0.9, 0.4, 0.5]) and np.allclose(df["hi"], [1.2, 0.8, 0.9])
    assert (df["run"] == "none").all() and (df["split"] == "val").all()


def test_a_seed_that_diverged_leaves_its_nan_and_inf_out_of_the_median_and_the_band():
    runs = {"batch": (Run([1.0, 0.5, np.nan]), Run([1.0, np.inf, np.nan]), Run([2.0, 0.7, 0.3]))}
    df = metric_frame(runs, "loss")
    assert np.isfinite(df[["loss", "lo", "hi"]].to_numpy()).all()
    assert np.allclose(df["loss"], [1.0, 0.6, 0.3]) and np.allclose(df["hi"], [2.0, 0.7, 0.3])


def test_one_seed_gives_the_runs_own_frame_without_a_band():
    one = Run([1.0, 0.5])
    for runs in ({"none": one}, {"none": (one,)}):
        df = metric_frame(runs, "loss")
        assert not {"lo", "hi"} & set(df.columns)
        assert np.allclose(df["loss"], [1.0, 0.5])


def test_seed_helpers_read_single_runs_and_runs_over_seeds_alike():
    a, b = Run([1.0]), Run([2.0])
    assert sd.first({"none": (a, b)}) == {"none": a} and sd.first({"none": a}) == {"none": a}
    assert sd.count({"none": (a, b), "batch": (a, b)}) == 2 and sd.count({"none": a}) == 1


def _groupby_reduce(frames, by, values, band):
    """The reduction as pandas' groupby writes it: what ``sd.reduce`` must equal."""
    stacked = pd.concat([f[by + values] for f in frames], ignore_index=True).astype(dict.fromkeys(values, float))
    grouped = stacked[np.isfinite(stacked[values].to_numpy()).all(axis=1)].groupby(by, sort=True, observed=True)
    out = grouped[values].median()
    return out.assign(lo=grouped[band].min(), hi=grouped[band].max()).reset_index()


@pytest.mark.parametrize("seed", range(6))
def test_the_reduction_equals_pandas_groupby_for_seeds_of_unequal_lengths_and_non_finite_values(seed):
    """Seeds recording different steps (one diverged early), categorical and integer keys, NaN and
    inf in either value: the same groups, order, medians and band as a groupby."""
    rng = np.random.default_rng(seed)
    frames = []
    for n in rng.integers(1, 30, size=rng.integers(2, 6)):
        steps = np.sort(rng.choice(40, size=n, replace=False))
        split = pd.Categorical(rng.choice(["train", "val"], size=n), categories=["train", "val"])
        f = pd.DataFrame({"step": steps.astype(np.int32), "split": split,
                          "loss": rng.lognormal(size=n).astype(np.float32), "raw": rng.normal(size=n)})
        f.loc[rng.random(n) < 0.15, "loss"] = rng.choice([np.nan, np.inf, -np.inf])
        f.loc[rng.random(n) < 0.1, "raw"] = np.nan
        frames.append(f.drop_duplicates(["step", "split"]))
    got = sd.reduce(frames, ("step", "split"), ("loss", "raw"), band="loss")
    want = _groupby_reduce(frames, ["step", "split"], ["loss", "raw"], "loss")
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got[["step"]], want[["step"]])
    assert list(got["split"].astype(str)) == list(want["split"].astype(str))
    np.testing.assert_allclose(got[["loss", "raw", "lo", "hi"]].to_numpy(), want[["loss", "raw", "lo", "hi"]].to_numpy(),
                               rtol=1e-12)


def test_the_reduction_of_seeds_with_no_finite_value_is_empty():
    frames = [pd.DataFrame({"step": [0, 1], "loss": [np.nan, np.inf]}) for _ in range(3)]
    got = sd.reduce(frames, ("step",), ("loss",), band="loss")
    assert got.empty and list(got.columns) == ["step", "loss", "lo", "hi"]
