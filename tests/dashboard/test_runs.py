"""The run store shared by the network views: bounded, LRU, one training per config."""

from __future__ import annotations

import dataclasses

from core.training import TrainConfig
from dashboard.runs import RunStore, variants


class FakeHistory:
    def __init__(self, nbytes: int):
        self.nbytes = nbytes

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
