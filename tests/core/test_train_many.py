"""train_many: stacked runs give what each run gives alone.

Tolerances: a stacked run does the same arithmetic as the run alone (the same
matrix products per run, the same reductions), so on this machine the frames
are equal bit for bit. Another BLAS kernel may round a batched product
differently from a single one, so the tests allow float32 rounding: the
first snapshots' metrics to 1e-5 relative, and whole frames of well-conditioned
runs (a few layers, batch or layer norm, a moderate rate) to 1e-3 relative.
Chaotic runs (a high rate, ten sigmoid layers without normalization) may
drift apart after many steps once a rounding difference grows: they are only
compared on what does not drift (divergence step, which runs diverge).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.training import MAX_STACK, STACKED_FIELDS, TrainConfig, stack_key, stacks, train, train_many

BASE = TrainConfig(depth=3, width=16, epochs=3, n_samples=200, records=6, activation="relu", init="he")


def _assert_frames_close(a, b, rtol=1e-3, atol=1e-5, boundary=True):
    assert a.steps_done == b.steps_done and a.diverged_at == b.diverged_at
    for name in a.FRAMES:
        fa, fb = getattr(a, name), getattr(b, name)
        assert list(fa.columns) == list(fb.columns), name
        assert fa.shape == fb.shape, (name, fa.shape, fb.shape)
        for col in fa.columns:
            if fa[col].dtype.kind == "f":
                np.testing.assert_allclose(fb[col].to_numpy(float), fa[col].to_numpy(float), rtol=rtol, atol=atol,
                                           err_msg=f"{name}.{col}")
            else:
                pd.testing.assert_series_equal(fa[col], fb[col], check_names=False, obj=f"{name}.{col}")
    if boundary and a.boundary is not None:
        np.testing.assert_allclose(b.boundary, a.boundary, rtol=rtol, atol=1e-4)
        np.testing.assert_array_equal(a.boundary_steps, b.boundary_steps)


def _first_metrics_equal(a, b, snapshots=3):
    steps = a.record_steps[:snapshots]
    ma = a.metrics[a.metrics["step"].isin(steps)].reset_index(drop=True)
    mb = b.metrics[b.metrics["step"].isin(steps)].reset_index(drop=True)
    assert len(ma) == len(mb) > 0
    np.testing.assert_allclose(mb["loss"], ma["loss"], rtol=1e-5)
    np.testing.assert_allclose(mb["accuracy"], ma["accuracy"], rtol=1e-5)


VARIED = [
    BASE.replace(seed=0),
    BASE.replace(seed=1, lr=0.03),
    BASE.replace(seed=2, momentum=0.5, weight_decay=1e-3),
    BASE.replace(seed=3, init="glorot", init_scale=0.7),
    BASE.replace(seed=4, init="normal", init_scale=0.3, lr=0.2),
]


@pytest.mark.parametrize("norm", ["batch", "layer", "group", "rms", "none"])
def test_one_stack_equals_each_run_alone(norm):
    configs = [c.replace(norm=norm) for c in VARIED]
    assert len({stack_key(c) for c in configs}) == 1  # they do share one stack
    for alone, stacked in zip([train(c) for c in configs], train_many(configs), strict=True):
        assert stacked.config == alone.config
        _first_metrics_equal(alone, stacked)
        _assert_frames_close(alone, stacked)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_other_optimizers_stack_per_run_rates(optimizer):
    configs = [c.replace(optimizer=optimizer, lr=c.lr / (10 if optimizer == "adam" else 1)) for c in VARIED[:3]]
    for alone, stacked in zip([train(c) for c in configs], train_many(configs), strict=True):
        _assert_frames_close(alone, stacked)


def test_regression_runs_keep_their_own_target_scale():
    configs = [TrainConfig(dataset="diabetes", n_samples=200, depth=2, width=16, epochs=3, records=5, seed=s)
               for s in (0, 1, 2)]
    alone, stacked = [train(c) for c in configs], train_many(configs)
    for a, b in zip(alone, stacked, strict=True):
        assert b.accuracy_name == "r2"
        _assert_frames_close(a, b)


def test_a_diverging_run_stops_alone_and_leaves_the_others_untouched():
    configs = [TrainConfig(norm="none", activation="relu", init="he", depth=8, epochs=3, lr=lr, seed=s)
               for s, lr in [(0, 0.05), (1, 5.0), (2, 0.05), (3, 0.5)]]
    alone, stacked = [train(c) for c in configs], train_many(configs)
    assert [h.diverged for h in stacked] == [h.diverged for h in alone]
    assert any(h.diverged for h in stacked) and not all(h.diverged for h in stacked)
    for a, b in zip(alone, stacked, strict=True):
        assert (b.diverged_at, b.steps_done) == (a.diverged_at, a.steps_done)
        if a.diverged:  # what it recorded up to the divergence, and nothing not finite
            pd.testing.assert_frame_equal(a.metrics, b.metrics, rtol=1e-5)
            assert b.mode_metrics.empty
        else:
            _assert_frames_close(a, b)
        for frame in b.frames().values():
            numeric = frame.select_dtypes("number").to_numpy(float)
            assert np.isfinite(numeric).all()


def test_mixed_configs_come_back_in_order_and_duplicates_train_once():
    other = BASE.replace(depth=2, norm="layer", seed=7)  # another stack
    configs = [VARIED[1], other, VARIED[0], VARIED[1]]
    hs = train_many(configs)
    assert [h.config for h in hs] == configs
    assert hs[0] is hs[3]  # one training, one History
    assert stack_key(other) != stack_key(VARIED[0])
    _assert_frames_close(train(other), hs[1])


def test_stack_key_varies_only_the_stacked_fields():
    c = BASE
    for field, value in [("seed", 9), ("lr", 0.5), ("momentum", 0.1), ("weight_decay", 0.01),
                         ("init", "glorot"), ("init_scale", 2.0)]:
        assert field in STACKED_FIELDS
        assert stack_key(c.replace(**{field: value})) == stack_key(c)
    for field, value in [("depth", 4), ("batch_size", 16), ("norm", "none"), ("epochs", 2), ("optimizer", "adam"),
                         ("dataset", "circles"), ("records", 4), ("bn_momentum", 0.2)]:
        assert stack_key(c.replace(**{field: value})) != stack_key(c)
    # batch norm with and without Santurkar's noise: one stack (a batch-norm run's noise is none)
    assert stack_key(c.replace(norm="noisy_batch")) == stack_key(c.replace(norm="batch"))
    assert stack_key(c.replace(norm="noisy_batch")) != stack_key(c.replace(norm="layer"))


@pytest.mark.parametrize("position", ["before", "after"])
def test_batch_norm_runs_stacked_with_noisy_ones_are_what_each_gives_alone(position):
    """One stack of batch-norm and noisy batch-norm runs (the Why view's noisy arm beside its batch-norm
    runs): every History is the run's alone, over seeds and rates, noisy runs first or last."""
    configs = [BASE.replace(norm=n, seed=s, lr=lr, norm_position=position, records=8)
               for n in ("noisy_batch", "batch") for s, lr in ((0, 0.1), (1, 0.5))]
    for order in (configs, configs[::-1]):
        assert len(stacks(order)) == 1
        for c, h in zip(order, train_many(order), strict=True):
            _assert_frames_close(train(c), h, rtol=1e-6, atol=1e-7)


def test_more_runs_than_one_stack_holds():
    configs = [BASE.replace(epochs=1, records=2, seed=s) for s in range(MAX_STACK + 2)]
    hs = train_many(configs)
    assert [h.config.seed for h in hs] == list(range(MAX_STACK + 2))
    _assert_frames_close(train(configs[-1]), hs[-1])


def test_progress_rises_from_zero_to_one_over_all_stacks():
    seen = []
    train_many([VARIED[0], VARIED[1], BASE.replace(depth=2)], progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert all(b >= a for a, b in zip(seen, seen[1:], strict=False))
    assert len(seen) <= 3 * 105


def test_an_invalid_config_is_refused_before_anything_trains():
    calls = []
    with pytest.raises(ValueError, match="'lr'"):
        train_many([BASE, BASE.replace(lr=-1.0)], progress=calls.append)
    assert calls == []


def test_train_is_a_stack_of_one():
    h = train(BASE)
    _assert_frames_close(h, train_many([BASE])[0], rtol=0, atol=0)


@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
def test_metrics_only_runs_record_the_same_metrics_steps_and_divergence_and_nothing_else(norm):
    """The same runs, recorded less: over seeds and rates from learning to diverging (the ReLU stack
    without normalization diverges at 5), every run's metrics, steps and divergence are those of the
    fully recorded run; the other frames are empty and the boundary grid is not evaluated."""
    configs = [TrainConfig(norm=norm, activation="relu", init="he", depth=6, width=16, epochs=3, n_samples=200,
                           records=8, lr=lr, seed=s) for s in (0, 1, 2) for lr in (0.03, 0.5, 5.0)]
    full, lean = train_many(configs), train_many(configs, metrics_only=True)
    if norm == "none":
        assert any(h.diverged for h in full) and not all(h.diverged for h in full)
    for a, b in zip(full, lean, strict=True):
        assert b.config == a.config
        assert (b.diverged, b.diverged_at, b.steps_done, b.steps) == (a.diverged, a.diverged_at, a.steps_done, a.steps)
        pd.testing.assert_frame_equal(a.metrics, b.metrics, rtol=1e-6)
        assert a.final("val") == pytest.approx(b.final("val"), rel=1e-6)
        for name in ("layer_stats", "histograms", "layer_health", "norm_params", "running_stats", "mode_metrics",
                     "mode_layers", "points"):
            assert getattr(b, name).empty and list(getattr(b, name).columns) == list(getattr(a, name).columns), name
        assert len(b.boundary_steps) == 0 and (b.boundary is None or len(b.boundary) == 0)
    assert any(len(a.boundary_steps) for a in full) and any(not a.layer_stats.empty for a in full)


def test_stacks_are_the_unique_configs_grouped_by_stack_key_in_order_at_most_max_stack():
    other = BASE.replace(depth=2)
    configs = [BASE.replace(seed=s) for s in range(MAX_STACK + 3)] + [other, BASE.replace(seed=0)]
    got = stacks(configs)
    assert [len(s) for s in got] == [MAX_STACK, 3, 1]
    assert got[2] == [other] and [c.seed for c in got[1]] == [MAX_STACK, MAX_STACK + 1, MAX_STACK + 2]
    assert all(len({stack_key(c) for c in s}) == 1 for s in got)


@pytest.mark.parametrize("norm", ["batch", "noisy_batch", "layer", "none"])
def test_runs_asked_for_their_boundary_record_it_and_the_others_only_skip_it(norm):
    """A page draws one seed's boundary: only the runs asked for it evaluate the grid (in a smaller
    stack of a copy of them), and they record what every run records unasked (rates from learning to
    diverging); the others record everything else the same and no boundary."""
    configs = [TrainConfig(norm=norm, activation="relu", init="he", depth=6, width=16, epochs=3, n_samples=200,
                           records=8, lr=lr, seed=s) for s in (0, 1) for lr in (0.03, 0.5, 5.0)]
    asked = [configs[0], configs[4]]  # not the stack's first run alone, and a diverging rate among them
    full, some = train_many(configs), train_many(configs, boundaries=asked)
    assert all(h.with_boundary for h in full) and any(len(h.boundary_steps) for h in full)
    for c, a, b in zip(configs, full, some, strict=True):
        _assert_frames_close(a, b, rtol=1e-6, atol=1e-7, boundary=False)
        assert (b.diverged, b.diverged_at, b.steps_done) == (a.diverged, a.diverged_at, a.steps_done)
        if c in asked:
            assert b.with_boundary and b.boundary_value == a.boundary_value
            np.testing.assert_array_equal(b.boundary_steps, a.boundary_steps)
            np.testing.assert_allclose(b.boundary, a.boundary, rtol=1e-5, atol=1e-6)
        else:
            assert not b.with_boundary and b.boundary is None and len(b.boundary_steps) == 0
            assert b.boundary_frame().empty
    none = train_many(configs[:2], boundaries=[])
    assert not any(h.with_boundary or h.boundary is not None for h in none)
    # no 2-D data, no boundary to ask for: such a run has all a page drawing boundaries needs
    wine = train_many([configs[0].replace(dataset="wine")], boundaries=[])[0]
    assert wine.with_boundary and wine.boundary is None
