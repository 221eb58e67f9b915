"""core.params: validation messages, reading a URL that may be hostile, and the URL round trip."""

from __future__ import annotations

import dataclasses
import importlib
import math
import re

import numpy as np
import pytest

from core.experiment import LandscapeConfig
from core.params import Spec, from_query, specs, to_query, validate
from core.standardize import StandardizeConfig
from dashboard.registry import CONFIG_CLASSES


def _all_config_classes() -> list[type]:
    classes = list(CONFIG_CLASSES)
    try:
        training = importlib.import_module("core.training")
    except ModuleNotFoundError:
        training = None
    train_config = getattr(training, "TrainConfig", None)
    if train_config is not None and train_config not in classes:
        classes.append(train_config)
    return classes


CLASSES = _all_config_classes()
CLASS_IDS = [c.__name__ for c in CLASSES]
FIELDS = [(cls, name) for cls in CLASSES for name in specs(cls)]
FIELD_IDS = [f"{cls.__name__}.{name}" for cls, name in FIELDS]


def _check(config) -> None:
    """The config's own validation (cross-field rules included), else the table's."""
    check = getattr(config, "validate", None)
    check() if callable(check) else validate(config)


def _is_valid(config) -> bool:
    try:
        _check(config)
    except ValueError:
        return False
    return True


def _bad_values(spec: Spec) -> list:
    if spec.kind == "choice":
        return ["not-a-choice", None]
    if spec.kind == "bool":
        return ["yes", 1]
    out = [float("nan"), float("inf")]
    if spec.low is not None:
        out.append(spec.low - 1 if not spec.low_open else spec.low)
    if spec.high is not None:
        out.append(spec.high + 1 if not spec.high_open else spec.high)
    if spec.kind == "int":
        lo = spec.low if spec.low is not None else 0
        out.append(lo + 0.5)
    return out


def _random_value(spec: Spec, rng: np.random.Generator):
    if spec.kind == "choice":
        return spec.choices[rng.integers(len(spec.choices))]
    if spec.kind == "bool":
        return bool(rng.integers(2))
    lo = spec.low if spec.low is not None else -1e6
    hi = spec.high if spec.high is not None else 1e6
    if spec.kind == "int":
        lo_i = int(math.ceil(lo)) + (1 if spec.low_open and float(lo).is_integer() else 0)
        hi_i = int(math.floor(hi)) - (1 if spec.high_open and float(hi).is_integer() else 0)
        return int(rng.integers(lo_i, hi_i + 1))
    pick = rng.random()
    if pick < 0.1 and not spec.low_open:
        return float(lo)
    if pick < 0.2 and not spec.high_open:
        return float(hi)
    value = float(lo + (hi - lo) * rng.random())
    if pick < 0.5:  # an awkward float: many digits
        return value
    return float(np.round(value, 2)) if spec.admits(float(np.round(value, 2))) else value


# ------------------------------------------------------------------ the table itself

@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_every_config_is_a_frozen_hashable_dataclass_with_valid_defaults(cls):
    config = cls()
    assert dataclasses.is_dataclass(config)
    assert cls.__dataclass_params__.frozen
    hash(config)
    _check(config)


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_every_config_field_is_declared_in_the_table_so_it_can_live_in_a_url(cls):
    undeclared = [f.name for f in dataclasses.fields(cls) if f.name not in specs(cls)]
    assert not undeclared, f"{cls.__name__} fields without a param() spec: {undeclared}"


# ------------------------------------------------------------------ validate

def test_validate_message_has_scikit_learns_form():
    with pytest.raises(ValueError) as info:
        validate(LandscapeConfig(lr_scale=-1))
    assert str(info.value) == "The 'lr_scale' parameter must be a float in the range (0, 2]. Got -1 instead."
    with pytest.raises(ValueError) as info:
        validate(LandscapeConfig(steps=0))
    assert str(info.value) == "The 'steps' parameter must be an int in the range [1, 1000000]. Got 0 instead."
    with pytest.raises(ValueError) as info:
        validate(StandardizeConfig(dataset="iris"))
    assert str(info.value) == (
        "The 'dataset' parameter must be one of 'seed', 'wine', 'diabetes', 'breast_cancer'. "
        "Got 'iris' instead."
    )


@pytest.mark.parametrize(("cls", "name"), FIELDS, ids=FIELD_IDS)
def test_validate_names_the_field_and_its_allowed_range(cls, name):
    spec = specs(cls)[name]
    for bad in _bad_values(spec):
        config = dataclasses.replace(cls(), **{name: bad})
        with pytest.raises(ValueError) as info:
            validate(config)
        message = str(info.value)
        assert message == f"The '{name}' parameter must be {spec.describe()}. Got {bad!r} instead."
        if spec.kind in ("int", "float"):
            noun = "an int" if spec.kind == "int" else "a float"
            assert re.search(rf"must be {noun} in the range [\[(]-?[\d.e+-]+|inf, -?[\d.e+-]+|inf[\])]", message)
        # the config's own validate (if any) rejects it too
        with pytest.raises(ValueError, match=re.escape(f"'{name}'")):
            _check(config)


def test_bool_is_not_accepted_as_a_number():
    with pytest.raises(ValueError, match="'steps'"):
        validate(LandscapeConfig(steps=True))


# ------------------------------------------------------------------ from_query: friendly input

def test_missing_keys_keep_the_defaults_without_notices():
    for cls in CLASSES:
        config, notices = from_query(cls, {})
        assert config == cls()
        assert notices == []


def test_missing_keys_keep_the_base_values():
    base = LandscapeConfig(steps=30, lr_scale=0.5)
    config, notices = from_query(LandscapeConfig, {"steps": "100"}, base=base)
    assert config == dataclasses.replace(base, steps=100)
    assert notices == []


def test_choice_fields_forgive_case_and_whitespace():
    for text in ("WINE", "Wine", " wine ", "wInE"):
        config, notices = from_query(StandardizeConfig, {"dataset": text})
        assert config.dataset == "wine", text
        assert notices == []


def test_bool_fields_read_the_usual_spellings():
    for text, value in (("1", True), ("0", False), ("true", True), ("FALSE", False), ("on", True),
                        ("no", False)):
        config, notices = from_query(LandscapeConfig, {"fit_intercept": text})
        assert config.fit_intercept is value
        assert notices == []


def test_ints_are_rounded_with_one_notice():
    config, notices = from_query(LandscapeConfig, {"steps": "2.6"})
    assert config.steps == 3 and isinstance(config.steps, int)
    assert len(notices) == 1 and "steps" in notices[0]
    config, notices = from_query(LandscapeConfig, {"steps": "300.0"})
    assert config.steps == 300 and isinstance(config.steps, int)
    assert notices == []


def test_a_repeated_key_uses_its_last_value():
    config, notices = from_query(LandscapeConfig, {"steps": ["5", "7"]})
    assert config.steps == 7
    assert notices == []


# ------------------------------------------------------------------ from_query: hostile input

def test_unknown_keys_give_one_notice_each_and_change_nothing():
    config, notices = from_query(LandscapeConfig, {"unknown": "1", "<script>": "x", "steps": "100"})
    assert config == LandscapeConfig(steps=100)
    assert len(notices) == 2
    assert any("unknown" in n for n in notices)


def test_unknown_keys_another_table_owns_can_be_ignored_silently():
    config, notices = from_query(LandscapeConfig, {"dataset": "wine"}, ignore_unknown=("dataset",))
    assert config == LandscapeConfig()
    assert notices == []


@pytest.mark.parametrize(("field", "text", "expected"), [
    ("steps", "-5", 1),
    ("steps", "0", 1),
    ("steps", "5000000", 1_000_000),
    ("steps", "1e300", 1_000_000),
    ("steps", "-5.5", 1),
    ("lr_scale", "7", 2.0),
    ("w0_a", "-1e6", -10.0),
    ("w0_b", "11", 10.0),
    ("n_samples", "3", 10),
])
def test_out_of_range_numbers_are_clamped_to_the_nearest_valid_value(field, text, expected):
    config, notices = from_query(LandscapeConfig, {field: text})
    assert getattr(config, field) == expected
    assert type(getattr(config, field)) is type(expected)
    assert len(notices) == 1 and field in notices[0]
    _check(config)


@pytest.mark.parametrize("text", ["0", "-1", "-1e300"])
def test_below_an_open_bound_gives_a_valid_value_just_inside_it(text):
    config, notices = from_query(LandscapeConfig, {"lr_scale": text})
    assert 0 < config.lr_scale <= 0.01
    assert len(notices) == 1
    _check(config)


MALFORMED = ["abc", "nan", "NaN", "inf", "-inf", "1e999", "", " ", "0x10", "1,5", "--1", "1e", "∞",
             "x" * 10_000, "1" * 500, "<script>alert(1)</script>", "**bold**", "[a](javascript:x)",
             "\x00\x1b[31m", "None", "null", "0.5; DROP TABLE"]


@pytest.mark.parametrize(("cls", "name"), FIELDS, ids=FIELD_IDS)
def test_malformed_text_gives_a_valid_config_and_one_notice(cls, name):
    spec = specs(cls)[name]
    default = getattr(cls(), name)
    for text in MALFORMED:
        if spec.kind == "choice" and text.strip().lower() in {str(c).lower() for c in spec.choices}:
            continue  # e.g. "None" is a fine spelling of norm="none"
        config, notices = from_query(cls, {name: text})
        _check(config)
        assert type(getattr(config, name)) is type(default), (text, getattr(config, name))
        value = getattr(config, name)
        if spec.kind in ("int", "float"):
            assert math.isfinite(value)
        # "1e999" overflows to inf: keeping the default or clamping to the top are both "nearest valid"
        if text != "1e999":
            assert value == default, (name, text, value)
        else:
            assert value in (default, spec.high), (name, text, value)
        assert len(notices) == 1, (name, text, notices)
        notice = notices[0]
        assert name in notice
        assert len(notice) <= 200, notice
        assert notice.isprintable(), notice


def test_several_problems_give_one_notice_each():
    query = {"lr_scale": "abc", "steps": "-5", "unknown": "1", "fit_intercept": "maybe", "w0_a": "2"}
    config, notices = from_query(LandscapeConfig, query)
    assert config == LandscapeConfig(steps=1, w0_a=2.0)
    assert len(notices) == 4


def test_malformed_input_never_raises_whatever_the_mapping_holds():
    rng = np.random.default_rng(1)
    for cls in CLASSES:
        names = list(specs(cls))
        for _ in range(200):
            query = {}
            for _ in range(int(rng.integers(1, 5))):
                key = names[rng.integers(len(names))] if rng.random() < 0.8 else "zz"
                query[key] = MALFORMED[rng.integers(len(MALFORMED))] if rng.random() < 0.7 else str(
                    rng.normal() * 10.0 ** rng.integers(-3, 8))
            config, notices = from_query(cls, query)
            _check(config)
            assert isinstance(notices, list)


# ------------------------------------------------------------------ round trip

@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_to_query_writes_every_field_as_a_short_string(cls):
    query = to_query(cls())
    assert set(query) == set(specs(cls))
    assert all(isinstance(v, str) and 0 < len(v) <= 64 for v in query.values())


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_url_round_trip_is_the_identity(cls):
    rng = np.random.default_rng(0)
    table = specs(cls)
    configs = [cls()]
    tries = 0
    while len(configs) < 200 and tries < 5000:
        tries += 1
        config = dataclasses.replace(cls(), **{n: _random_value(s, rng) for n, s in table.items()})
        if _is_valid(config):  # skip the few that break a cross-field rule
            configs.append(config)
    assert len(configs) >= 50, f"could not draw valid {cls.__name__} configs"
    for config in configs:
        back, notices = from_query(cls, to_query(config))
        assert notices == [], (config, notices)
        assert back == config
        for name in table:  # same type too: an int stays an int, a bool a bool
            assert type(getattr(back, name)) is type(getattr(config, name)), name


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_url_round_trip_holds_at_the_ends_of_every_range(cls):
    for name, spec in specs(cls).items():
        ends = []
        if spec.kind in ("int", "float"):
            ends = [v for v in (spec.low, spec.high) if v is not None and spec.admits(
                int(v) if spec.kind == "int" else float(v))]
            ends = [int(v) if spec.kind == "int" else float(v) for v in ends]
        elif spec.kind == "choice":
            ends = list(spec.choices)
        else:
            ends = [True, False]
        for value in ends:
            config = dataclasses.replace(cls(), **{name: value})
            if not _is_valid(config):
                continue
            back, notices = from_query(cls, to_query(config))
            assert back == config and notices == [], (name, value, notices)
