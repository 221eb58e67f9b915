"""core.sweep and core.sweep_files: a grid's results are the single runs', the status is measured and
holds over seeds, the headline claim holds over seed sets, files round-trip and bad ones get one clear
error, and the command line runs a grid (in processes too)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from core.sweep import (
    SweepConfig,
    SweepGrid,
    describe_part,
    estimate_seconds,
    headline,
    main,
    parts,
    run_row,
    run_sweep,
    summary,
)
from core.sweep_files import (
    SweepFileError,
    bundle_json,
    load_bundle,
    load_bundle_file,
    parse_grid,
    results_csv,
)
from core.training import TrainConfig, train
from dashboard import sweeps as ds

TINY = TrainConfig(n_samples=100, epochs=2, depth=4, width=16, activation="relu", init="he", records=5)


def tiny_grid(**kw) -> SweepGrid:
    return SweepGrid(**{"base": TINY, "axis": "lr", "values": (0.01, 10.0), "norms": ("none", "batch"),
                        "seeds": (0, 1), **kw})


@pytest.fixture(scope="module")
def tiny_results() -> pd.DataFrame:
    return run_sweep(tiny_grid())


def test_sweep_rows_equal_the_rows_of_the_corresponding_single_train_runs(tiny_results):
    grid = tiny_grid()
    expected = pd.DataFrame([run_row(grid, *cell, train(grid.cell(*cell))) for cell in grid.cells()])
    assert len(tiny_results) == grid.size
    for col in ("value", "norm", "seed", "status", "steps"):
        assert list(tiny_results[col]) == list(expected[col]), col
    np.testing.assert_allclose(tiny_results["final_loss"].to_numpy(float), expected["final_loss"].to_numpy(float),
                               rtol=1e-6, equal_nan=True)


def test_a_cell_is_the_base_config_with_the_axis_value_norm_and_seed():
    grid = tiny_grid(axis="batch_size", values=(4, 64), scale_lr=True)
    cell = grid.cell(4, "layer", 3)
    assert (cell.batch_size, cell.norm, cell.seed, cell.depth) == (4, "layer", 3, TINY.depth)
    assert math.isclose(cell.lr, TINY.lr * 4 / TINY.batch_size)


def test_a_diverged_run_is_a_row_marked_diverged_with_no_loss(tiny_results):
    gone = tiny_results[(tiny_results["norm"] == "none") & (tiny_results["value"] == 10.0)]
    assert (gone["status"] == "diverged").all()
    assert gone["final_loss"].isna().all() and gone["diverged_at"].notna().all()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_learned_means_well_above_chance_and_holds_for_an_easy_run_on_every_seed(seed):
    easy = TrainConfig(depth=2, width=16, activation="relu", init="he", epochs=20, lr=0.1, seed=seed)
    grid = SweepGrid(base=easy, axis="lr", values=(0.1,), norms=("none",), seeds=(seed,))
    row = run_row(grid, 0.1, "none", seed, train(easy))
    assert row["status"] == "learned" and row["final_accuracy"] >= 0.8


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_run_at_a_negligible_rate_did_not_learn_on_every_seed(seed):
    slow = TrainConfig(depth=2, width=16, activation="relu", init="he", epochs=1, lr=1e-5, optimizer="sgd",
                       n_samples=200, seed=seed)
    grid = SweepGrid(base=slow, axis="lr", values=(1e-5,), norms=("none",), seeds=(seed,))
    assert run_row(grid, 1e-5, "none", seed, train(slow))["status"] == "did not learn"


def test_summary_and_headline_are_measured_over_seeds():
    rows = []
    for v, statuses in ((0.1, ("learned", "learned")), (1.0, ("learned", "diverged")), (3.0, ("diverged",) * 2)):
        for seed, st in enumerate(statuses):
            rows.append({"axis": "lr", "value": v, "norm": "none", "seed": seed, "status": st,
                         "final_loss": math.nan if st == "diverged" else 0.2 + seed,
                         "final_accuracy": math.nan if st == "diverged" else 0.9, "steps_to_target": None})
    res = pd.DataFrame(rows)
    summ = summary(res)
    assert list(summ["diverged"]) == [0.0, 0.5, 1.0]
    assert summ.loc[0, "loss_median"] == pytest.approx(0.7) and summ.loc[1, "loss_max"] == pytest.approx(0.2)
    assert math.isnan(summ.loc[2, "loss_median"])
    assert headline(res) == {"none": 0.1}


def test_no_nan_or_inf_reaches_a_sweep_chart_frame_and_diverged_runs_are_counted(tiny_results):
    summ = summary(tiny_results)
    for metric in ("loss", "error", "steps"):
        frame = ds.band_frame(summ, metric)
        assert np.isfinite(frame[["value", "median", "lo", "hi"]].to_numpy(float)).all()
    phases = ds.phase_frame(tiny_results)
    assert np.isfinite(phases[["value", "share", "start", "end"]].to_numpy(float)).all()
    gone = phases[(phases["run"] == "none") & (phases["value"] == 10.0)]
    assert list(gone["status"]) == ["diverged"] and list(gone["text"]) == ["2D"]


# ---------------------------------------------------------------- the lesson's claim over seeds


@pytest.mark.parametrize("first_seed", [0, 3])
def test_batch_norm_learns_at_rates_at_least_3x_higher_on_every_seed_of_a_seed_set(first_seed):
    grid = SweepConfig(seed=first_seed).grid()  # 8 ReLU layers of 32, He, momentum 0.9, moons, 3 seeds
    best = headline(run_sweep(grid))
    assert best["batch"] is not None and best["none"] is not None
    assert best["batch"] / best["none"] >= 3.0 * (1 - 1e-9), best  # 0.3 / 0.1 is 2.9999999999999996


# ---------------------------------------------------------------- files


def test_a_bundle_round_trips_with_diverged_runs_as_nulls(tiny_results):
    grid = tiny_grid()
    text = bundle_json(grid, tiny_results)
    assert "NaN" not in text and "Infinity" not in text
    grid2, res2 = load_bundle(text.encode())
    assert grid2 == grid
    pd.testing.assert_frame_equal(res2, tiny_results, check_dtype=False)
    assert results_csv(tiny_results).splitlines()[0].startswith("axis,value,norm,seed")


def _bundle(tiny_results, **changes) -> bytes:
    raw = json.loads(bundle_json(tiny_grid(), tiny_results))
    raw.update(changes)
    return json.dumps(raw).encode()


@pytest.mark.parametrize("case", ["binary", "not json", "foreign json", "version", "rows", "status", "grid",
                                  "values"])
def test_a_malformed_or_foreign_bundle_raises_one_error_type_with_a_clear_message(tiny_results, case):
    raw = json.loads(bundle_json(tiny_grid(), tiny_results))
    data = {
        "binary": b"\x89PNG\r\n\x1a\n\xff\xfe",
        "not json": b"axis,value\nlr,1",
        "foreign json": b'{"name": "www.example.com", "items": [1, 2]}',
        "version": _bundle(tiny_results, version=99),
        "rows": _bundle(tiny_results, results=raw["results"][:-1]),
        "status": _bundle(tiny_results, results=[{**r, "status": "exploded"} for r in raw["results"]]),
        "grid": _bundle(tiny_results, grid={**raw["grid"], "base": {**raw["grid"]["base"], "depth": -3}}),
        "values": _bundle(tiny_results, results=[{**r, "value": "x"} for r in raw["results"]]),
    }[case]
    with pytest.raises(SweepFileError) as err:
        load_bundle(data)
    message = str(err.value)
    assert message and "Traceback" not in message and "www.example.com" not in message


@pytest.mark.parametrize("text, says", [
    ("axis = ", "not valid TOML"),
    ('axis = "width"\nvalues = [1]\nnorms = ["none"]\nseeds = [0]', "'axis'"),
    ('values = [0.1]\nnorms = ["none"]\nseeds = [0]\nfoo = 1', "unknown key"),
    ('values = [100.0]\nnorms = ["none"]\nseeds = [0]', "'lr'"),
    ('values = [0.1]\nnorms = ["best"]\nseeds = [0]', "norm"),
    ('values = [0.1]\nnorms = ["none"]\nseeds = [0]\n[base]\ndepht = 3', "unknown setting"),
    ('values = [0.1]\nnorms = ["none"]\nseeds = [0]\n[base]\ndataset = "www.example.com"', "'dataset'"),
])
def test_a_bad_grid_file_says_what_is_wrong_without_quoting_the_file(text, says):
    with pytest.raises(SweepFileError, match=says) as err:
        parse_grid(text)
    assert "www.example.com" not in str(err.value) and "depht" not in str(err.value)


GRID_TOML = """
axis = "depth"
values = [1, 2]
norms = ["none", "layer"]
seeds = [0, 1]
[base]
n_samples = 100
epochs = 2
width = 8
records = 5
"""


def test_the_command_line_runs_a_grid_and_writes_a_bundle_the_loader_reads(tmp_path, capsys):
    (tmp_path / "grid.toml").write_text(GRID_TOML)
    assert main([str(tmp_path / "grid.toml"), "--out", str(tmp_path / "one")]) == 0
    grid, res = load_bundle_file(tmp_path / "one" / "sweep.json")
    assert grid.axis == "depth" and len(res) == 8 and set(res["status"]) <= {"learned", "did not learn", "diverged"}
    assert (tmp_path / "one" / "results.csv").read_text().count("\n") == 9
    assert "learned" in capsys.readouterr().out
    assert main([str(tmp_path / "grid.toml"), "--out", str(tmp_path / "two"), "--jobs", "2"]) == 0
    _, res2 = load_bundle_file(tmp_path / "two" / "sweep.json")
    pd.testing.assert_frame_equal(res, res2)


def test_the_command_line_refuses_a_bad_grid_file_with_a_message_and_no_traceback(tmp_path, capsys):
    (tmp_path / "bad.toml").write_text('axis = "lr"\nvalues = []\n')
    assert main([str(tmp_path / "bad.toml"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "values" in err and "Traceback" not in err


def test_a_learning_rate_sweep_trains_one_stack_per_normalization_and_a_depth_sweep_one_per_depth():
    lr = tiny_grid(values=(0.01, 0.1, 10.0), seeds=(0, 1, 2))
    assert [sorted({c[1] for c in p}) for p in parts(lr)] == [["none"], ["batch"]]
    assert [len(p) for p in parts(lr)] == [9, 9]
    assert sorted(c for p in parts(lr, jobs=4) for c in p) == sorted(lr.cells())
    assert len(parts(lr, jobs=4)) == 4 and max(map(len, parts(lr, jobs=4))) == 5
    depth = tiny_grid(axis="depth", values=(1, 2))
    assert sorted((p[0][0], p[0][1], len(p)) for p in parts(depth)) == [
        (1, "batch", 2), (1, "none", 2), (2, "batch", 2), (2, "none", 2)]


def test_the_progress_names_the_runs_being_trained_and_rises_from_zero_to_one():
    grid = tiny_grid()
    seen: list[tuple[float, str]] = []
    res = run_sweep(grid, progress=lambda f, text: seen.append((f, text)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(b >= a for a, b in zip(fractions, fractions[1:], strict=False))
    labels = list(dict.fromkeys(text for _, text in seen))
    assert labels == ["Training runs 1–4 of 8 together: no normalization, learning rates 0.01 to 10, seeds 0 to 1",
                      "Training runs 5–8 of 8 together: batch norm, learning rates 0.01 to 10, seeds 0 to 1"]
    one = SweepGrid(base=TINY, axis="depth", values=(2,), norms=("layer",), seeds=(3,))
    assert describe_part(one, one.cells()) == "Training run 1 of 1: hidden layers 2, layer norm, seed 3"
    assert list(res["norm"]) == [c[1] for c in grid.cells()]  # rows in the grid's order, not the stacks'


def test_the_live_budget_counts_stacks_more_seeds_cost_less_than_in_proportion_small_batches_more():
    """The estimate follows the engine's structure: the seeds of a rate sweep share their stack's steps
    (four seeds, 32 runs a stack, cost less than 4/3 of three), and a batch of 2 takes far more steps
    than one of 256."""
    three, four = SweepConfig().grid(), SweepConfig(seeds=4).grid()
    assert estimate_seconds(three) < estimate_seconds(four) < 4 / 3 * estimate_seconds(three)
    small = SweepConfig(sweep="batch_size", batch_min=2, batch_max=2).grid()
    large = SweepConfig(sweep="batch_size", batch_min=256, batch_max=256).grid()
    assert estimate_seconds(small) > 10 * estimate_seconds(large)
    part = three.configs()[:5]
    assert 0 < estimate_seconds(three, part) < estimate_seconds(three)
