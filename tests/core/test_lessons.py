"""Every lesson preset names a real view and valid settings, and shows what it promises."""

from __future__ import annotations

import dataclasses

import pytest

from core.lessons import LESSONS, lesson
from core.params import specs
from core.training import TrainConfig, train
from dashboard.registry import ALL_VIEWS, CONFIG_CLASSES


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


def _config(item) -> TrainConfig:
    fields = set(specs(TrainConfig))
    return dataclasses.replace(TrainConfig(), **{k: v for k, v in item.settings.items() if k in fields})


def test_high_learning_rate_lesson_plain_net_diverges_batch_norm_survives():
    config = _config(lesson("high_lr"))
    plain = train(dataclasses.replace(config, norm="none"))
    normed = train(dataclasses.replace(config, norm="batch"))
    assert plain.diverged and plain.diverged_at is not None
    assert not normed.diverged
    assert normed.final()["accuracy"] > 0.7


def test_bad_init_lesson_only_the_normalized_net_learns():
    config = _config(lesson("bad_init"))
    plain = train(dataclasses.replace(config, norm="none")).final()
    normed = train(dataclasses.replace(config, norm="batch")).final()
    assert plain["accuracy"] < 0.65 < 0.8 < normed["accuracy"]


def test_tiny_batches_lesson_batch_norm_is_worse_in_train_mode_than_in_eval_mode():
    config = _config(lesson("train_eval"))
    hist = train(dataclasses.replace(config, norm="batch"))
    modes = hist.mode_metrics.set_index(hist.mode_metrics["mode"].astype(str))
    # batches of two: the batch statistics are noisy, the running ones are not
    assert modes.loc["train", "loss"] > modes.loc["eval", "loss"] * 1.2
