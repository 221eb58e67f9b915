"""Curves a class can read: smoothing, the loss axis's scale, the hover rule and the chance line.

``frames.smoothed`` is TensorBoard's debiased moving average, checked against its recursion;
``metric_frame(smooth=w)`` smooths each seed before the median and keeps the raw curve;
``netcharts.metric_curves`` draws the raw curve faint behind, a hover rule whose tooltip names
every curve, and a dotted rule at the loss of guessing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.training import TrainConfig, train
from dashboard import marks, netcharts
from dashboard.frames import metric_frame, smoothed, smoothed_runs
from dashboard.selections import TINY_BATCH, TINY_BATCH_SMOOTHING, CurvesView
from tests.dashboard.chartspec import bad_cells, chart_spec


def _recursion(x: np.ndarray, w: float) -> np.ndarray:
    """s_i = w s_(i-1) + (1 - w) x_i from s_(-1) = 0, shown divided by 1 - w^(i+1)."""
    s, out = 0.0, []
    for i, v in enumerate(x):
        s = w * s + (1 - w) * v
        out.append(s / (1 - w ** (i + 1)))
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("w", [0.3, 0.8, 0.95])
def test_smoothing_is_the_debiased_moving_average(seed, w):
    x = np.random.default_rng(seed).lognormal(size=40)
    np.testing.assert_allclose(smoothed(x, w), _recursion(x, w), rtol=1e-12)
    assert smoothed(x, w)[0] == x[0], "debiased: the first point is the first value, not (1 - w) of it"
    assert np.std(np.diff(smoothed(x, w))) < np.std(np.diff(x)), "smoothing should calm the curve"


def test_no_smoothing_is_the_curve_itself_and_non_finite_points_stay_out_of_the_average():
    x = np.array([1.0, 2.0, np.nan, 4.0, np.inf, 8.0])
    np.testing.assert_array_equal(smoothed(x, 0.0), x)
    out = smoothed(x, 0.5)
    assert np.isnan(out[2]) and np.isinf(out[4]), "a non-finite point stays where it was"
    finite = np.array([1.0, 2.0, 4.0, 8.0])
    np.testing.assert_allclose(out[[0, 1, 3, 5]], _recursion(finite, 0.5))


@pytest.fixture(scope="module")
def runs():
    """Batch 4: the noisy training curves smoothing is for; two seeds a run."""
    return {n: tuple(train(TrainConfig(norm=n, batch_size=4, epochs=1, records=20, seed=s)) for s in (0, 1))
            for n in ("none", "batch")}


def test_a_smoothed_frame_keeps_the_raw_curve_and_smooths_each_seed_before_the_median(runs):
    raw = metric_frame(runs, "loss")
    smooth = metric_frame(runs, "loss", 0.8)
    key = ["run", "split", "step"]
    merged = raw.merge(smooth, on=key, suffixes=("", "_s"))
    assert len(merged) == len(raw)
    np.testing.assert_allclose(merged["raw"], merged["loss"])  # the raw column is the unsmoothed median
    assert not np.allclose(merged["loss_s"], merged["loss"]), "smoothing changed nothing"
    # the median of the seeds' smoothed curves, not the smoothed median
    for (run, split), rows in merged.groupby(["run", "split"]):
        per_seed = []
        for h in runs[run]:
            m = h.metrics[h.metrics["split"].astype(str) == split].sort_values("step")
            per_seed.append(_recursion(m["loss"].to_numpy(), 0.8))
        want = np.median(np.vstack(per_seed), axis=0)
        np.testing.assert_allclose(rows.sort_values("step")["loss_s"], want, rtol=1e-9)


def _layers(spec: dict) -> list[dict]:
    out, stack = [], [spec]
    while stack:
        node = stack.pop()
        if "layer" in node:
            stack.extend(node["layer"])
        else:
            out.append(node)
    return out


def _curves(runs, smooth=0.0, **kw):
    df = metric_frame(runs, "loss", smooth)
    args = dict(metric="loss", runs=["none", "batch"], log_y=True, title="t", seeds=2) | kw
    return chart_spec(netcharts.metric_curves(df, **args))


def test_the_raw_curve_is_drawn_faint_behind_the_smoothed_one(runs):
    spec = _curves(runs, 0.8)
    raw = [p for p in _layers(spec) if p.get("encoding", {}).get("y", {}).get("field") == "raw"]
    assert len(raw) == 1 and raw[0]["mark"]["opacity"] < 0.5
    assert not [p for p in _layers(_curves(runs)) if p.get("encoding", {}).get("y", {}).get("field") == "raw"]
    assert bad_cells(spec) == []


def test_the_loss_axis_is_log_or_linear_as_asked(runs):
    def y_scales(spec):
        return {p["encoding"]["y"].get("scale", {}).get("type") for p in _layers(spec) if "y" in p.get("encoding", {})}
    assert y_scales(_curves(runs, log_y=True)) == {"log"}
    assert "log" not in y_scales(_curves(runs, log_y=False))


def test_hovering_draws_a_rule_whose_tooltip_names_every_curve(runs):
    spec = _curves(runs)
    names = {p["name"] for p in spec.get("params", []) if "select" in p}
    assert "hover" in names
    (rule,) = [p for p in _layers(spec) if p.get("mark", {}).get("type") == "rule"
               and "condition" in p.get("encoding", {}).get("opacity", {})]
    titles = [t.get("title", t["field"]) for t in rule["encoding"]["tooltip"]]
    assert titles == ["step", "no normalization, training", "no normalization, validation",
                      "batch norm, training", "batch norm, validation"]
    rings = [p for p in _layers(spec) if {"filter": {"param": "hover", "empty": False}} in p.get("transform", [])]
    assert len(rings) == 1


def test_the_hover_reads_every_curve_at_every_step_even_where_it_recorded_other_steps():
    df = pd.DataFrame({"run": ["none"] * 3 + ["batch"] * 2, "split": "val", "step": [0, 10, 20, 0, 15],
                       "loss": [1.0, 0.5, 0.25, 2.0, 0.125]})
    table, names = marks._hover_table(df.assign(run=df["run"].map({"none": "no normalization",
                                                                       "batch": "batch norm"})),
                                          "loss", ["none", "batch"])
    assert names == ["no normalization, validation", "batch norm, validation"]
    assert table["step"].tolist() == [0, 10, 15, 20]
    assert table["v0"].tolist() == ["1", "0.5", "0.5", "0.25"]  # its latest record at or before the step
    assert table["v1"].tolist() == ["2", "2", "0.125", "—"]  # past its last record: no value


def test_the_loss_of_guessing_is_a_labelled_rule_at_log_k(runs):
    spec = _curves(runs, chance=float(np.log(2)))
    (text,) = [p for p in _layers(spec) if p.get("mark", {}).get("type") == "text"
               and p["encoding"].get("text", {}).get("field") == "label"]
    rules = [p for p in _layers(spec) if p.get("mark", {}).get("type") == "rule" and "y" in p["encoding"]
             and "x" not in p["encoding"]]
    assert len(rules) == 1
    assert not [p for p in _layers(_curves(runs)) if p.get("mark", {}).get("type") == "text"
                and p["encoding"].get("text", {}).get("field") == "label"]
    assert text["encoding"]["y"]["field"] == "y"


@pytest.mark.parametrize(("batch", "want"), [(2, TINY_BATCH_SMOOTHING), (TINY_BATCH, TINY_BATCH_SMOOTHING),
                                             (TINY_BATCH + 1, 0.0), (64, 0.0)])
def test_auto_smooths_tiny_batches_only_and_a_set_weight_is_kept(batch, want):
    assert CurvesView().smoothing(batch) == want
    assert CurvesView(smooth="0.9").smoothing(batch) == 0.9
    assert CurvesView(smooth="0").smoothing(batch) == 0.0


def test_smoothing_a_diverged_run_keeps_non_finite_values_off_the_chart():
    hist = train(TrainConfig(lr=10.0, norm="none", epochs=2, records=20, activation="relu", init_scale=3.0))
    runs = {"none": hist, "batch": train(TrainConfig(norm="batch", epochs=2, records=20))}
    df = metric_frame(runs, "loss", 0.9)
    assert isinstance(df, pd.DataFrame)
    spec = chart_spec(netcharts.metric_curves(df, metric="loss", runs=["none", "batch"], log_y=True, title="t",
                                              diverged={"none": int(hist.metrics["step"].max())}))
    assert bad_cells(spec) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_smoothing_on_a_log_axis_averages_the_logarithms_of_each_run_on_its_own(seed):
    rng = np.random.default_rng(seed)
    steps = np.arange(12)
    falling = 10.0 ** (-steps * 0.8) * np.exp(rng.normal(0, 0.3, len(steps)))  # down by decades
    flat = 1 + rng.random(len(steps))
    df = pd.DataFrame({"run": ["a"] * 12 + ["b"] * 12, "step": np.tile(steps, 2),
                       "v": np.concatenate([falling, flat])}).sample(frac=1, random_state=seed)
    out = smoothed_runs(df, "v", 0.9, True)
    a = out[out["run"] == "a"].sort_values("step")
    assert np.allclose(a["v"], np.exp(smoothed(np.log(falling), 0.9)))
    assert np.allclose(a["raw"], falling)
    # the plain average stays near the first, largest value; the logarithms' follow the fall
    assert smoothed(falling, 0.9)[-1] > 10 * a["v"].iloc[-1]
    b = out[out["run"] == "b"].sort_values("step")
    assert np.allclose(b["v"], np.exp(smoothed(np.log(flat), 0.9)))
    assert smoothed_runs(df, "v", 0.0, True) is df


def _hover_rule_titles(spec) -> list[str]:
    (rule,) = [p for p in _layers(spec) if p.get("mark", {}).get("type") == "rule"
               and "condition" in p.get("encoding", {}).get("opacity", {})]
    return [t.get("title", t["field"]) for t in rule["encoding"]["tooltip"]]


def test_the_activation_band_and_the_why_curves_hover_with_every_runs_value(runs):
    from dashboard import frames, whycharts

    bands = frames.layer_bands(runs, 3, "pre_activation")
    spec = chart_spec(netcharts.percentile_bands(bands, runs=["none", "batch"], title="t", y_title="y"))
    assert _hover_rule_titles(spec) == ["step", "no normalization", "batch norm"]
    assert not bad_cells(spec)
    ioffe = whycharts.ioffe_frame(runs)
    spec = chart_spec(whycharts.over_training(ioffe, value="mean_shift", runs=["none", "batch"], title="t",
                                              y_title="y"))
    assert _hover_rule_titles(spec) == ["step", "no normalization", "batch norm"]
    assert not bad_cells(spec)


def test_the_landscapes_loss_against_step_hovers_with_every_runs_loss():
    from core.experiment import LandscapeConfig, run_landscape
    from dashboard import charts

    spec = chart_spec(charts.loss_curves(run_landscape(LandscapeConfig()).losses(), title="t"))
    assert _hover_rule_titles(spec) == ["step", "raw features", "standardized features"]
    assert not bad_cells(spec)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_smoothed_frame_is_ordered_by_run_then_step_and_smooths_each_run_on_its_own_records(seed):
    """smoothed_runs on shuffled rows: the rows come out as sort_values(["run", "step"]) orders them
    (every other column riding along), each run's values the recursion over its own records only."""
    rng = np.random.default_rng(seed)
    runs = np.repeat(["noisy", "batch", "none"], [7, 12, 4])  # out of alphabetical order, uneven lengths
    steps = np.concatenate([rng.choice(100, n, replace=False) for n in (7, 12, 4)])
    df = pd.DataFrame({"run": runs, "step": steps, "v": rng.random(len(runs)) + 0.1,
                       "other": np.arange(len(runs))}).sample(frac=1, random_state=seed)
    out = smoothed_runs(df, "v", 0.8)
    want = df.sort_values(["run", "step"], kind="stable")
    assert out["run"].tolist() == want["run"].tolist() and out["step"].tolist() == want["step"].tolist()
    assert out["other"].tolist() == want["other"].tolist() and np.allclose(out["raw"], want["v"])
    for run, mine in want.groupby("run"):
        assert np.allclose(out.loc[out["run"] == run, "v"], _recursion(mine["v"].to_numpy(), 0.8)), run


def test_finite_and_positive_keep_the_rows_a_chart_can_draw():
    from dashboard.charts import finite, positive

    df = pd.DataFrame({"run": ["a", "b", "c", "d"], "v": [1.0, np.inf, 0.0, 2.0],
                       "n": pd.array([1, 2, None, 4], dtype="Int64"), "raw": [1.0, 1.0, 1.0, -1.0]})
    assert finite(df)["run"].tolist() == ["a", "d"]  # inf, and a missing nullable integer, dropped
    assert finite(df, ["v"])["run"].tolist() == ["a", "c", "d"]
    assert positive(df, ("v", "raw", "absent"))["run"].tolist() == ["a", "b"]
    kept = df.iloc[[0]]
    assert finite(kept) is kept and positive(kept, ("v",)) is kept  # nothing dropped: the frame itself


def _picture(svg: str) -> str:
    """An SVG as a picture: without the marks' class names (which carry the layers' numbers) and the
    empty groups of layers with nothing to draw."""
    import re

    svg = re.sub(r' class="[^"]*"', "", svg)
    return re.sub(r'<g role="graphics-object" aria-roledescription="group mark container"/>', "", svg)


@pytest.mark.parametrize("log", [False, True])
def test_the_why_curves_at_every_smoothing_are_one_chart_whose_param_picks_the_weight(log):
    """The chart of every weight's curves (``smoothing_levels``), drawn with its param at a weight, is the
    picture of the chart built for that weight alone; its data at each weight are that weight's curves."""
    from dashboard import exports, frames, whycharts
    from dashboard.selections import WEIGHTS

    rng = np.random.default_rng(3)
    steps = np.arange(0, 300, 10)
    df = pd.DataFrame({"run": np.repeat(["none", "batch"], len(steps)), "step": np.tile(steps, 2),
                       "v": np.concatenate([np.exp(-steps / 100) + rng.random(len(steps)) * 0.1,
                                            0.5 + rng.random(len(steps)) * 0.2])}).sample(frac=1, random_state=3)
    levels = frames.smoothing_levels(df, "v", log)
    assert sorted(set(levels["smooth"])) == list(WEIGHTS) and 0.8 in WEIGHTS
    for w in WEIGHTS:
        one = smoothed_runs(df, "v", w, log)
        mine = levels[levels["smooth"] == w]
        key = ["run", "step"]
        pd.testing.assert_frame_equal(mine.sort_values(key)[key + ["v"]].reset_index(drop=True),
                                      one.sort_values(key)[key + ["v"]].reset_index(drop=True))
    kw = {"value": "v", "runs": ["none", "batch"], "title": "t", "y_title": "y", "log_y": log}
    chart = whycharts.over_training(levels, level="smooth", **kw)
    ordered = df.sort_values(["run", "step"], kind="stable")  # the rows in the order the levels hold them
    for w in (0.0, 0.5, 0.95):
        alone = whycharts.over_training(smoothed_runs(ordered, "v", w, log), **kw)
        assert _picture(exports.chart_svg(chart, {"smooth": w})()) == _picture(exports.chart_svg(alone)()), w
    assert _picture(exports.chart_svg(chart, {"smooth": 0.9})()) != _picture(exports.chart_svg(chart, {"smooth": 0.5})())


def test_smoothed_curves_and_curves_over_seeds_keep_their_legend_with_opaque_symbols(runs):
    """The raw curve and the seeds' band are drawn first (behind); a first layer saying "no legend" hid
    the runs' legend."""
    import re

    from dashboard import exports, frames, whycharts

    for chart in (netcharts.metric_curves(metric_frame(runs, "loss", 0.8), metric="loss", runs=["none", "batch"],
                                          log_y=True, title="t", seeds=2),
                  netcharts.metric_curves(metric_frame(runs, "loss"), metric="loss", runs=["none", "batch"],
                                          log_y=True, title="t", seeds=2),
                  netcharts.percentile_bands(frames.layer_bands(runs, 3, "pre_activation", 0.8),
                                             runs=["none", "batch"], title="t", y_title="y"),
                  whycharts.over_training(frames.smoothed_runs(whycharts.ioffe_frame(runs), "mean_shift", 0.8, True),
                                          value="mean_shift", runs=["none", "batch"], title="t", y_title="y")):
        svg = exports.chart_svg(chart)()
        named = re.findall(r'aria-label="Symbol legend for [^"]*color[^"]*: ([^"]*)"', svg)
        assert named and "no normalization" in named[0] and "batch norm" in named[0], "the runs' legend is missing"
        legends = [part.split('class="foreground"')[0] for part in svg.split('role-legend"')[1:]]
        assert legends and not any(re.search(r'opacity="0\.[0-9]+"', g) for g in legends), "faint legend symbols"
