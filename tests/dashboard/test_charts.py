"""dashboard/charts.py: every builder gives a schema-valid spec, no NaN/inf, under 5,000 rows.

Each builder gets example frames shaped like the ones the pages hand it
(built with the same core functions), then the same frames with NaN and
inf sprinkled over every numeric column, then the frames of the largest
settings a page's controls allow.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect

import numpy as np
import pandas as pd
import pytest

from core.data import load_dataset
from core.experiment import LandscapeConfig, run_landscape
from core.params import specs
from core.standardize import STANDARDIZE_DATASETS, StandardizeConfig, batch_demo, histogram_frame
from dashboard import charts
from tests.dashboard.chartspec import (
    MAX_ROWS,
    bad_cells,
    chart_spec,
    datasets,
    encoded_fields,
    poison,
    row_count,
)

# ------------------------------------------------------------------ example frames, as the pages build them

@functools.lru_cache(maxsize=8)
def _landscape(config: LandscapeConfig):
    return run_landscape(config)


def _surface_args(result, run="raw"):
    r = result.runs[run]
    path = r.path
    at = int(path["step"].iloc[len(path) // 2])
    shown = path[path["step"] <= at]
    fast = result.runs.get(f"{run}-{result.config.optimizer}")  # a momentum run on the same surface
    second = fast.path[fast.path["step"] <= at] if fast is not None else None
    return (r.surface, shown), dict(title="surface", x_title="w_a", y_title="w_b", extent=r.extent,
                                    optimum=r.optimum, current=shown.tail(1), second=second,
                                    band_domain=(float(r.surface["band"].min()), float(r.surface["band"].max())))


def _loss_args(result):
    return (result.losses(),), dict(title="loss", runs=list(result.runs),
                                    dashed=tuple(n for n, r in result.runs.items() if r.method != "plain"),
                                    current_step=int(result.runs["raw"].path["step"].iloc[-1]),
                                    optimum=result.runs["raw"].quadratic.loss_star)


def _rate_args(result):
    limits = pd.DataFrame({"run": list(result.runs),
                           "lr_scale": [r.max_stable_lr / r.quadratic.max_stable_lr for r in result.runs.values()]})
    return (result.rates(), limits), dict(title="rates", current=result.config.lr_scale, runs=list(result.runs),
                                          dashed=tuple(n for n, r in result.runs.items() if r.method != "plain"))


def _page_data(name: str):
    """X of the features the Standardization page draws at its largest n_show."""
    data = load_dataset(name, n_samples=100 if name == "seed" else 100_000, noise=0.1,
                        seed=42 if name == "seed" else 0)
    n_show = int(specs(StandardizeConfig)["n_show"].high)
    from core.standardize import spread_features

    names = spread_features(data, n_show if data.n_features > 2 else 2)
    cols = [data.feature_names.index(n) for n in names]
    return data.X[:, cols], names


def _hist_args(name="seed"):
    X, names = _page_data(name)
    return (histogram_frame(X, names, shared=True),), dict(title="before", x_title="value")


def _scatter_args(name="seed", batch_size=10):
    X, names = _page_data(name)
    demo = batch_demo(X, names, batch_size=batch_size, batch=0, seed=0, gamma=1.0, beta=0.0)
    in_batch = np.zeros(len(X), dtype=bool)
    in_batch[demo.batch] = True
    xa, xb = names[0], names[1]
    df = pd.DataFrame({xa: X[:, 0], xb: X[:, 1],
                       "in_batch": np.where(in_batch, "this batch", "other batches"),
                       "index": np.arange(len(X))})
    return (df,), dict(x=xa, y=xb)


def _strip_args(name="seed", batch_size=10, gamma=1.5, beta=0.5):
    X, names = _page_data(name)
    demo = batch_demo(X, names, batch_size=batch_size, batch=0, seed=0, gamma=gamma, beta=beta)
    df = pd.concat([
        pd.DataFrame({"stage": "x_hat", "value": demo.x_hat[:, 0], "index": demo.batch}),
        pd.DataFrame({"stage": "gamma x_hat + beta", "value": demo.y[:, 0], "index": demo.batch}),
    ], ignore_index=True)
    rules = pd.DataFrame({"at": [0.0, beta], "what": ["0", "β"]})
    return (df,), dict(title="steps", x_title="value", domain=(-3.0, 3.0), rules=rules)


def _default_landscape():
    return _landscape(LandscapeConfig())


#: builder name -> () -> (args, kwargs) at the pages' usual settings
EXAMPLES = {
    "feature_histograms": lambda: _hist_args("wine"),
    "batch_scatter": lambda: _scatter_args("wine"),
    "strip": lambda: _strip_args("seed"),
    "surface": lambda: _surface_args(_default_landscape()),
    "loss_curves": lambda: _loss_args(_default_landscape()),
    "rate_curves": lambda: _rate_args(_momentum_landscape()),
}


def _momentum_landscape():
    return _landscape(LandscapeConfig(optimizer="momentum", beta=0.99))


def _largest_landscape():
    high = {n: s.high for n, s in specs(LandscapeConfig).items() if s.kind in ("int", "float")}
    return _landscape(dataclasses.replace(
        LandscapeConfig(), steps=int(high["steps"]), n_samples=int(high["n_samples"]),
        noise=float(high["noise"]), lr_scale=0.99, w0_a=float(high["w0_a"]), w0_b=-float(high["w0_b"])))


def _diverging_landscape():
    return _landscape(dataclasses.replace(LandscapeConfig(), steps=1_000_000, lr_scale=2.0))


def _largest_cases() -> dict:
    """label -> (builder, () -> (args, kwargs)) at the largest settings any page can ask for."""
    batch_high = int(specs(StandardizeConfig)["batch_size"].high)
    cases = {}
    for name in STANDARDIZE_DATASETS:
        cases[f"feature_histograms[{name}]"] = ("feature_histograms", lambda n=name: _hist_args(n))
        cases[f"batch_scatter[{name}]"] = ("batch_scatter", lambda n=name: _scatter_args(n, batch_high))
        cases[f"strip[{name}]"] = ("strip", lambda n=name: _strip_args(n, batch_high))
    momentum = (("momentum", _momentum_landscape),
                ("nesterov-diverging", lambda: _landscape(LandscapeConfig(optimizer="nesterov", lr_scale=1.5,
                                                                          steps=1_000_000))))
    cases["rate_curves[nesterov-diverging]"] = ("rate_curves", lambda: _rate_args(momentum[1][1]()))
    for label, result in (("largest", _largest_landscape), ("diverging", _diverging_landscape), *momentum):
        for run in ("raw", "standardized"):
            cases[f"surface[{label}-{run}]"] = ("surface", lambda r=result, u=run: _surface_args(r(), u))
        cases[f"loss_curves[{label}]"] = ("loss_curves", lambda r=result: _loss_args(r()))
    return cases


LARGEST = _largest_cases()


def _builders() -> dict:
    """Public functions of dashboard/charts.py that return a chart."""
    out = {}
    for name, fn in inspect.getmembers(charts, inspect.isfunction):
        if name.startswith("_") or fn.__module__ != charts.__name__:
            continue
        ret = inspect.signature(fn).return_annotation
        if "Chart" in str(ret):
            out[name] = fn
    return out


BUILDERS = sorted(_builders())


# ------------------------------------------------------------------ tests

def test_every_builder_has_an_example_here():
    missing = sorted(set(BUILDERS) - set(EXAMPLES))
    assert not missing, f"add example arguments for {missing} to EXAMPLES in {__file__}"
    assert BUILDERS, "no chart builders found in dashboard/charts.py"


@pytest.mark.parametrize("name", BUILDERS)
def test_builder_spec_validates_against_altairs_schema(name):
    args, kwargs = EXAMPLES[name]()
    spec = chart_spec(getattr(charts, name)(*args, **kwargs))
    assert "$schema" in spec and "vega-lite" in spec["$schema"]
    assert row_count(spec) > 0
    assert bad_cells(spec) == []


def _poisoned_call(name, only_drawn: bool):
    rng = np.random.default_rng(7)
    args, kwargs = EXAMPLES[name]()
    drawn = encoded_fields(chart_spec(getattr(charts, name)(*args, **kwargs)))

    def spoil(df):
        if not only_drawn:
            return poison(df, rng)[0]
        keep = [c for c in df.columns if c not in drawn]
        return poison(df.drop(columns=keep), rng)[0].join(df[keep])[list(df.columns)]

    args = [spoil(a) if isinstance(a, pd.DataFrame) else a for a in args]
    kwargs = {k: spoil(v) if isinstance(v, pd.DataFrame) and k != "current" else v
              for k, v in kwargs.items()}
    return chart_spec(getattr(charts, name)(*args, **kwargs))


@pytest.mark.parametrize("name", BUILDERS)
def test_builder_drops_rows_with_nan_or_inf_in_the_columns_it_draws(name):
    spec = _poisoned_call(name, only_drawn=True)
    bad = bad_cells(spec)
    assert bad == [], f"{name} let NaN/inf reach its data in {sorted({c for c, _ in bad})}"
    assert row_count(spec) > 0, f"{name} dropped everything, not just the bad rows"


@pytest.mark.parametrize("name", BUILDERS)
def test_builder_lets_no_nan_or_inf_reach_the_spec_in_any_column(name):
    """The house rule is absolute: a NaN in a column the chart does not draw still ships as null."""
    spec = _poisoned_call(name, only_drawn=False)
    bad = bad_cells(spec)
    assert bad == [], f"{name} let NaN/inf reach its data in {sorted({c for c, _ in bad})}"
    assert row_count(spec) > 0


@pytest.mark.parametrize("name", BUILDERS)
def test_builder_with_only_bad_rows_still_gives_a_valid_empty_chart(name):
    args, kwargs = EXAMPLES[name]()
    blank = []
    for a in args:
        if isinstance(a, pd.DataFrame):
            a = a.copy()
            for c in a.columns:
                if pd.api.types.is_numeric_dtype(a[c]) and not pd.api.types.is_bool_dtype(a[c]):
                    a[c] = np.nan
        blank.append(a)
    spec = chart_spec(getattr(charts, name)(*blank, **kwargs))
    assert bad_cells(spec) == []


def test_surface_current_marker_with_nan_is_dropped():
    args, kwargs = EXAMPLES["surface"]()
    kwargs["current"] = pd.DataFrame({"step": [5], "w_a": [np.nan], "w_b": [np.inf], "loss": [np.inf]})
    spec = chart_spec(charts.surface(*args, **kwargs))
    assert bad_cells(spec) == []


def test_loss_curves_drop_zero_and_negative_losses_for_the_log_scale():
    df = pd.DataFrame({"run": ["raw"] * 4, "step": [0, 1, 2, 3], "loss": [1.0, 0.0, -1.0, 0.5]})
    spec = chart_spec(charts.loss_curves(df, title="t", runs=["raw"]))
    losses = sorted(r["loss"] for rows in datasets(spec) for r in rows if "loss" in r)
    assert losses == [0.5, 1.0]


@pytest.mark.parametrize("label", sorted(LARGEST))
def test_chart_data_stays_under_5000_rows_at_the_largest_settings(label):
    name, make = LARGEST[label]
    args, kwargs = make()
    spec = chart_spec(getattr(charts, name)(*args, **kwargs))
    rows = row_count(spec)
    assert 0 < rows < MAX_ROWS, f"{label}: {rows} rows"
    assert bad_cells(spec) == []


def test_the_diverging_landscape_still_gives_finite_chart_data():
    result = _diverging_landscape()
    assert all(r.diverged_at is not None for r in result.runs.values())
    for run in ("raw", "standardized"):
        args, kwargs = _surface_args(result, run)
        spec = chart_spec(charts.surface(*args, **kwargs))
        assert bad_cells(spec) == [] and row_count(spec) > 0
    args, kwargs = _loss_args(result)
    assert bad_cells(chart_spec(charts.loss_curves(*args, **kwargs))) == []
