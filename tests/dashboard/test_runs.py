"""The run store shared by the network views: bounded, LRU, one training per config."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from core.training import TrainConfig
from dashboard import runs as runs_module
from dashboard.runs import RunStore, variants


class FakeHistory:
    def __init__(self, nbytes: int, with_boundary: bool = True):
        self.nbytes, self.with_boundary = nbytes, with_boundary

    def memory_bytes(self) -> int:
        return self.nbytes


def _configs(n):
    return [dataclasses.replace(TrainConfig(), seed=i) for i in range(n)]


def test_store_evicts_the_least_recently_used_run_beyond_its_count():
    store = RunStore(max_runs=3, max_bytes=10**9)
    a, b, c, d = _configs(4)
    for cfg in (a, b, c):
        store.put(cfg, FakeHistory(1))
    assert store.get(a) is not None  # a is now the most recent
    store.put(d, FakeHistory(1))
    assert len(store) == 3
    assert store.get(b) is None and store.get(a) is not None and store.get(d) is not None


def test_store_stays_under_its_byte_budget_but_keeps_the_newest_run():
    store = RunStore(max_runs=100, max_bytes=250)
    cfgs = _configs(5)
    for cfg in cfgs:
        store.put(cfg, FakeHistory(100))
    assert store.nbytes() <= 250
    assert store.get(cfgs[-1]) is not None
    huge = dataclasses.replace(TrainConfig(), seed=99)
    store.put(huge, FakeHistory(10_000))
    assert store.get(huge) is not None and len(store) == 1


def test_sessions_asking_for_the_same_run_share_one_training_lock():
    store = RunStore()
    a, b = _configs(2)
    assert store.training_lock(a) is store.training_lock(a)
    assert store.training_lock(a) is not store.training_lock(b)
    held = store.training_lock(a)
    assert held.acquire(blocking=False)
    assert not store.training_lock(a).acquire(blocking=False)  # a second session would wait
    held.release()
    store.done_training(a)


def test_variants_differ_only_in_normalization():
    runs = variants(TrainConfig(), ("none", "batch", "layer"))
    assert [c.norm for c in runs.values()] == ["none", "batch", "layer"]
    assert len({dataclasses.replace(c, norm="none") for c in runs.values()}) == 1


class _Trainer:
    """A stand-in for ``train_many``: records each call's configs, returns fake runs."""

    def __init__(self, delay: float = 0.0):
        self.calls: list[list] = []
        self.boundaries: list[set] = []  # per call, the configs asked to record their boundary
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, configs, progress=None, boundaries=None):
        with self.lock:
            self.calls.append(list(configs))
            self.boundaries.append(set(configs if boundaries is None else boundaries))
        time.sleep(self.delay)
        if progress is not None:
            progress(1.0)
        return [FakeHistory(1, boundaries is None or c in boundaries) for c in configs]


@pytest.fixture
def fake_training(monkeypatch):
    trainer, fresh = _Trainer(delay=0.05), RunStore()
    monkeypatch.setattr(runs_module, "train_many", trainer)
    monkeypatch.setattr(runs_module, "store", lambda: fresh)
    return trainer, fresh


def test_a_page_of_two_normalizations_and_three_seeds_trains_its_six_runs_in_one_call(fake_training):
    trainer, fresh = fake_training
    got = runs_module.get_seeded(TrainConfig(seed=5), ("none", "batch"), (5, 6, 7))
    assert [len(c) for c in trainer.calls] == [6]
    assert {(c.norm, c.seed) for c in trainer.calls[0]} == {(n, s) for n in ("none", "batch") for s in (5, 6, 7)}
    assert all(isinstance(h, FakeHistory) for hs in got.values() for h in hs) and len(got["none"]) == 3
    assert len(fresh) == 6
    again = runs_module.get_seeded(TrainConfig(seed=5), ("none", "batch"), (5, 6, 7))
    assert len(trainer.calls) == 1 and all(a is b for n in got for a, b in zip(got[n], again[n], strict=True))
    more = runs_module.get_seeded(TrainConfig(seed=5), ("none", "batch"), (5, 6, 7, 8))  # one seed more
    assert [len(c) for c in trainer.calls] == [6, 2] and more["batch"][:3] == got["batch"]


def test_a_stored_run_without_its_boundary_serves_every_page_but_one_that_draws_it():
    store = RunStore()
    a, b = _configs(2)
    plain, drawn = FakeHistory(1, with_boundary=False), FakeHistory(1)
    store.put(a, plain)
    assert store.get(a) is plain and store.get(a, boundary=True) is None
    store.put(a, drawn)  # trained again with it: replaces the plain one
    assert store.get(a, boundary=True) is drawn and store.get(a) is drawn
    store.put(a, FakeHistory(1, with_boundary=False))  # never replaced by the same run without it
    assert store.get(a) is drawn
    store.put(b, drawn)
    assert store.get(b, boundary=True) is drawn


def test_a_page_drawing_boundaries_asks_them_of_the_first_seed_only_and_retrains_just_those(fake_training):
    trainer, fresh = fake_training
    cfg = TrainConfig(seed=5)
    plain = runs_module.get_seeded(cfg, ("none", "batch"), (5, 6, 7))  # e.g. the Why view, first
    assert trainer.boundaries == [set()]
    got = runs_module.get_seeded(cfg, ("none", "batch"), (5, 6, 7), boundary=True)  # then Training
    assert [len(c) for c in trainer.calls] == [6, 2], "only the two first-seed runs train again"
    assert {(c.norm, c.seed) for c in trainer.boundaries[1]} == {("none", 5), ("batch", 5)}
    assert all(got[n][0].with_boundary and got[n][1:] == plain[n][1:] for n in got)
    runs_module.get_seeded(cfg, ("none", "batch"), (5, 6, 7), boundary=True)
    runs_module.get_seeded(cfg, ("none", "batch"), (5, 6, 7))
    assert len(trainer.calls) == 2, "both pages now find every run in the store"
    fresh_start = runs_module.get_seeded(dataclasses.replace(cfg, seed=1), ("none",), (1, 2), boundary=True)
    assert trainer.boundaries[2] == {dataclasses.replace(cfg, seed=1, norm="none")}
    assert [h.with_boundary for h in fresh_start["none"]] == [True, False]


def test_sessions_asking_at_once_for_overlapping_runs_train_each_run_once(fake_training):
    trainer, fresh = fake_training
    asks = [(0, 1, 2), (1, 2, 3), (0, 3), (2,)]
    results = [None] * len(asks)

    def ask(i):
        results[i] = runs_module.get_seeded(TrainConfig(), ("none", "batch"), asks[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(asks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a session never got its runs (a deadlock)"
    trained = [(c.norm, c.seed) for call in trainer.calls for c in call]
    assert sorted(trained) == sorted(set(trained)) and len(trained) == 8, "each run trained once"
    for i, seeds in enumerate(asks):
        for n in ("none", "batch"):
            assert results[i][n] == tuple(fresh.get(dataclasses.replace(TrainConfig(), norm=n, seed=s))
                                          for s in seeds)
