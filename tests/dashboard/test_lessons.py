"""Every lesson opens a real view with valid settings, and its claim holds over seeds.

Each lesson's check must hold on the lesson's own seed and on at least 4 of
any 5 other seeds, for two different sets of seeds; the verdict's text must
state the numbers it measured. Verdicts are computed once per (lesson, seed)
and shared by the tests.
"""

from __future__ import annotations

import dataclasses
import functools
import re

import pytest

from core.params import specs
from core.training import train
from dashboard import checks, observe
from dashboard.lessons import LESSONS, Verdict, compare_view, lesson, measure, train_config, verdict
from dashboard.registry import ALL_VIEWS, CONFIG_CLASSES

SEED_SETS = ((1, 2, 3, 4, 5), (11, 23, 37, 58, 99))


def _field_specs(name):
    return [specs(cls)[name] for cls in CONFIG_CLASSES if name in specs(cls)]


@pytest.mark.parametrize("item", LESSONS, ids=lambda x: x.key)
def test_lesson_opens_a_real_view_with_settings_every_config_admits(item):
    assert item.view in {v.url_path for v in ALL_VIEWS}
    assert item.title and len(item.look_for) > 40
    for name, value in item.settings.items():
        found = _field_specs(name)
        assert found, f"{item.key}: '{name}' is no setting of any view"
        assert any(s.admits(value) for s in found), f"{item.key}: {name}={value!r} is not allowed"


def test_lesson_keys_are_unique_and_found_by_key():
    keys = [x.key for x in LESSONS]
    assert len(keys) == len(set(keys))
    assert lesson("valley").view == "landscape"
    assert lesson("no-such-lesson") is None
    with pytest.raises(KeyError, match="no lesson called"):
        verdict("no-such-lesson")


@pytest.mark.parametrize("item", LESSONS, ids=lambda x: x.key)
def test_lesson_note_types_no_number_but_its_own_settings(item):
    """Measured numbers belong to the verdict; a note names only its settings (step 0, ±1, log 2)."""
    allowed = {f"{v:g}" for v in item.settings.values() if isinstance(v, (int, float))} | {"0", "1", "2"}
    for number in re.findall(r"\d+(?:\.\d+)?", item.look_for):
        assert number in allowed, f"{item.key}: typed number {number}"


@functools.cache
def _verdict(key: str, seed: int) -> Verdict:
    return verdict(key, seed=seed)


def _assert_robust(key: str) -> None:
    item = lesson(key)
    own = _verdict(key, item.seed)
    assert own.holds, own.text
    for seeds in SEED_SETS:
        results = {s: _verdict(key, s) for s in seeds if s != item.seed}
        held = sum(v.holds for v in results.values())
        assert held >= 4, {s: v.text for s, v in results.items() if not v.holds}


def test_valley_lesson_holds_on_its_seed_and_4_of_5_others():
    _assert_robust("valley")


def test_deep_sigmoid_lesson_holds_on_its_seed_and_4_of_5_others():
    _assert_robust("deep_sigmoid")


def test_high_lr_lesson_holds_on_its_seed_and_4_of_5_others():
    _assert_robust("high_lr")


def test_tiny_batches_lesson_holds_on_its_seed_and_4_of_5_others():
    _assert_robust("tiny_batches")


def test_bad_init_lesson_holds_on_its_seed_and_4_of_5_others():
    _assert_robust("bad_init")


def test_train_eval_lesson_holds_on_its_seed_and_4_of_5_others():
    _assert_robust("train_eval")


def test_covariate_shift_lesson_holds_on_its_seed_and_4_of_5_others():
    _assert_robust("covariate_shift")


def test_smoother_landscape_lesson_holds_on_its_seed_and_on_most_others():
    """Weaker than the other lessons, and said so on the page and in the README: batch norm's gradient
    is the more predictive one on most seeds, not on 4 of every 5 (15 of 19 seeds on OpenBLAS's SkylakeX
    kernel, 14 of 15 on another machine's)."""
    item = lesson("smoother_landscape")
    own = _verdict("smoother_landscape", item.seed)
    assert own.holds, own.text
    others = sorted({s for seeds in SEED_SETS for s in seeds} - {item.seed})
    held = {s: _verdict("smoother_landscape", s).holds for s in others}
    assert sum(held.values()) >= 0.7 * len(held), held


def test_noisy_batch_lesson_holds_on_its_seed_and_4_of_5_others():
    _assert_robust("noisy_batch")


def test_scale_invariance_lesson_holds_on_its_seed_and_4_of_5_others():
    _assert_robust("scale_invariance")


def test_signal_propagation_lesson_holds_on_its_seed_and_4_of_5_others():
    _assert_robust("signal_propagation")


def test_every_lesson_has_a_robustness_test_named_after_it():
    """A sweep lesson's verdict is itself measured over three seeds (a grid per seed set): its robustness
    test, over disjoint seed sets, is tests/dashboard/test_sweep_lessons.py."""
    from tests.dashboard import test_sweep_lessons

    names = set(globals())
    for item in LESSONS:
        if item.view == "sweeps":
            assert hasattr(test_sweep_lessons, "test_each_sweep_lesson_holds_on_two_disjoint_seed_sets")
            continue
        # a lesson whose claim holds on most seeds only says so, and is tested as such
        assert {f"test_{item.key}_lesson_holds_on_its_seed_and_4_of_5_others",
                f"test_{item.key}_lesson_holds_on_its_seed_and_on_most_others"} & names, item.key


@pytest.mark.parametrize("item", LESSONS, ids=lambda x: x.key)
def test_verdict_text_is_plain_and_states_measured_numbers(item):
    v = _verdict(item.key, item.seed)
    assert isinstance(v, Verdict) and isinstance(v.holds, bool)
    assert v.text.startswith("Seen in this run: ")
    assert not re.search(r"[*_`#\[\]<>]", v.text)
    assert re.search(r"\d", v.text)
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.holds = False  # type: ignore[misc]


def test_deep_sigmoid_verdict_numbers_are_the_runs_final_validation_metrics():
    runs = measure(lesson("deep_sigmoid"))
    text = checks.deep_sigmoid(runs).text
    for hist in runs.values():
        final = hist.final("val")
        assert f"{final['loss']:.3g}" in text
        assert f"{100 * final['accuracy']:.0f} %" in text


# ------------------------------------------------------------ the claim fails where it should


def test_train_eval_check_says_not_seen_when_the_batch_is_not_two():
    item = lesson("train_eval")
    runs = measure(dataclasses.replace(item, settings={**item.settings, "batch_size": 32, "epochs": 2}))
    v = item.check(runs)
    assert not v.holds and "batches of 32" in v.text


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tiny_batches_gap_and_statistics_spread_shrink_with_batches_of_32(seed):
    """The mechanism, not a direction fitted to one run: a larger batch, closer modes and statistics."""
    config = dataclasses.replace(train_config(lesson("tiny_batches"), seed), norm="batch")
    small, large = train(config), train(dataclasses.replace(config, batch_size=32))
    assert observe.mode_gap(large) < observe.mode_gap(small)
    assert observe.batch_var_factor(large) < observe.batch_var_factor(small)


def test_checks_say_which_run_is_missing_when_the_comparison_lacks_it():
    runs = measure(dataclasses.replace(lesson("deep_sigmoid"), settings={"compare": "layer", "epochs": 1}))
    v = checks.deep_sigmoid(runs)
    assert not v.holds and "batch norm" in v.text and "not on screen" in v.text


def test_lesson_configs_keep_the_lesson_settings_and_only_change_the_seed():
    item = lesson("tiny_batches")
    config = train_config(item, seed=7)
    assert (config.batch_size, config.depth, config.seed) == (4, 4, 7)
    assert compare_view(item).norms == ("none", "batch", "layer")


ODD = {
    "one_layer": {"depth": 1, "epochs": 1},
    "regression": {"dataset": "seed", "n_samples": 100, "depth": 2, "epochs": 1},
    "diverging": {"depth": 6, "activation": "relu", "init": "he", "optimizer": "sgd", "lr": 10.0, "epochs": 1},
}


@pytest.mark.parametrize("odd", ODD, ids=str)
def test_every_check_gives_a_verdict_on_runs_unlike_its_lessons(odd):
    """A user may change any setting: a check still answers (in words), it never raises."""
    base = lesson("tiny_batches")
    runs = measure(dataclasses.replace(base, settings={**ODD[odd], "compare": "both"}))
    for item in LESSONS:
        if item.view == "landscape":
            continue
        v = item.check(runs)
        assert isinstance(v.holds, bool) and len(v.text) > 20 and "nan" not in v.text.lower()
    if odd == "diverging":
        assert runs["none"].diverged and not lesson("deep_sigmoid").check(runs).holds


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_smoother_landscape_is_not_seen_on_the_default_sigmoid_plateau(seed):
    """Where this network disagrees with Santurkar et al.: 10 sigmoid layers without normalization sit on
    a plateau, so the plain network's gradient changes less along the gradient than batch norm's."""
    item = lesson("smoother_landscape")
    plateau = dataclasses.replace(item, settings={"compare": "batch"})  # the defaults: 10 sigmoid layers
    v = item.check(measure(plateau, seed))
    assert not v.holds and v.text.startswith("Not seen with these settings:"), v.text


def test_a_why_lesson_check_given_another_views_runs_answers_in_words():
    item = lesson("scale_invariance")
    runs = {n: train(train_config(item).replace(norm=n, epochs=1)) for n in ("none", "batch")}
    v = item.check(runs)
    assert not v.holds and "Why it works" in v.text
