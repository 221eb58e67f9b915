"""Training runs shared by the network views: trained once, kept in a bounded cache.

All three views read the same runs, so switching pages never retrains. The
store is an LRU over configs, bounded by count and by the runs' own memory
footprint; it holds results only (no session's state). Runs are returned by
reference: pages treat them as read-only.

A page asks for every normalization it compares with every seed it shows
(``get_seeded``); the runs missing from the store are trained together, in
one ``core.training.train_many`` call (stacked where their configs allow).
Only the runs whose decision boundary a page draws (the Training view's first
seed) record one: a stored run without it serves every other page, and is
trained again with it when a page draws it.
Each config has its own training lock, so a session never trains a run
another session is training: it waits for that one's result instead.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict

import streamlit as st

from core.training import History, TrainConfig, train_many

#: a page shows up to 3 normalizations x 10 seeds: the store keeps two such pages (a class going
#: back and forth between two settings never retrains)
MAX_RUNS = 64
MAX_BYTES = 256 * 2**20
#: runs trained at once by one server process; more sessions asking for runs not in the store queue
#: (first come, first served). Every session is a thread of one process and training holds the GIL,
#: so a second concurrent run would only share the same core: each would finish later, none sooner.
#: With the live-demo budget (netconfig.WORK_BUDGET) per page, this bounds the training in flight.
TRAINING_SLOTS = 1

NORMS = ("none", "batch", "layer", "group", "rms")


class RunStore:
    """A thread-safe LRU of ``TrainConfig -> History``."""

    def __init__(self, max_runs: int = MAX_RUNS, max_bytes: int = MAX_BYTES):
        self.max_runs, self.max_bytes = max_runs, max_bytes
        self._runs: OrderedDict[TrainConfig, History] = OrderedDict()
        self._sizes: dict[TrainConfig, int] = {}  # each run's bytes, measured once when put
        self._lock = threading.Lock()
        self._training: dict[TrainConfig, threading.Lock] = {}
        self.slots = threading.BoundedSemaphore(TRAINING_SLOTS)

    def get(self, config: TrainConfig, boundary: bool = False) -> History | None:
        """The stored run of ``config``; with ``boundary``, only one that recorded its decision boundary."""
        with self._lock:
            hist = self._runs.get(config)
            if hist is None or (boundary and not hist.with_boundary):
                return None
            self._runs.move_to_end(config)
            return hist

    def put(self, config: TrainConfig, hist: History) -> None:
        """Store a run (a run with its boundary is not replaced by the same run without)."""
        size = hist.memory_bytes()
        with self._lock:
            old = self._runs.get(config)
            if old is not None and old.with_boundary and not hist.with_boundary:
                return
            self._runs[config] = hist
            self._sizes[config] = size
            self._runs.move_to_end(config)
            while len(self._runs) > self.max_runs or (
                len(self._runs) > 1 and sum(self._sizes.values()) > self.max_bytes
            ):
                old, _ = self._runs.popitem(last=False)
                self._sizes.pop(old, None)

    def training_lock(self, config: TrainConfig) -> threading.Lock:
        """One lock per config being trained: a second session asking for the same run waits
        for the first one's result instead of training it again."""
        with self._lock:
            return self._training.setdefault(config, threading.Lock())

    def done_training(self, config: TrainConfig) -> None:
        with self._lock:
            self._training.pop(config, None)

    def nbytes(self) -> int:
        with self._lock:
            return sum(self._sizes.values())

    def __len__(self) -> int:
        return len(self._runs)


@st.cache_resource(show_spinner=False)
def store() -> RunStore:
    return RunStore()


def variants(config: TrainConfig, norms) -> dict[str, TrainConfig]:
    """The same run with each normalization in ``norms`` (same seed, same data)."""
    return {n: dataclasses.replace(config, norm=n) for n in norms}


def seeded_variants(config: TrainConfig, norms, seeds=(None,)) -> dict[str, tuple[TrainConfig, ...]]:
    """Per normalization, the run with each seed of ``seeds`` (None: the config's own seed)."""
    return {n: tuple(dataclasses.replace(c, seed=c.seed if s is None else int(s)) for s in seeds)
            for n, c in variants(config, norms).items()}


class _Bar:
    """The page's progress bar over one training of many runs: about 20 updates (each one is a message
    to the browser and a redraw there)."""

    def __init__(self):
        self.bar, self.shown, self.text = st.progress(0.0, text="Training…"), -1.0, "Training…"

    def say(self, text: str, fraction: float | None = None) -> None:
        self.text = text
        self.bar.progress(max(0.0, self.shown) if fraction is None else fraction, text=text)

    def done(self) -> None:
        self.bar.empty()

    def __call__(self, fraction: float) -> None:
        total = max(0.0, min(1.0, fraction))
        if total - self.shown >= 0.05 or total >= 1.0:
            self.shown = total
            self.bar.progress(total, text=self.text)


def _train_in_slot(s: RunStore, configs: list[TrainConfig], bar: _Bar,
                   boundaries=frozenset()) -> dict[TrainConfig, History]:
    """Train ``configs`` in one ``train_many`` call once a training slot is free (those in ``boundaries``
    with their decision boundary); store each run."""
    if not s.slots.acquire(blocking=False):  # other sessions' runs are training
        bar.say("Queued: another session's runs are training first…")
        s.slots.acquire()
    try:
        bar.say(f"Training {len(configs)} runs…" if len(configs) > 1 else "Training…", 0.0)
        hists = train_many(configs, progress=bar, boundaries=[c for c in configs if c in boundaries])
    finally:
        s.slots.release()
    for c, h in zip(configs, hists, strict=True):
        s.put(c, h)
    return dict(zip(configs, hists, strict=True))


def _fetch_or_train(s: RunStore, configs: list[TrainConfig], bar: _Bar,
                    boundaries=frozenset()) -> dict[TrainConfig, History]:
    """Every config's run. The configs no other session is training are locked and trained together
    (one call); then the others are waited for, their locks taken one at a time while holding none of
    ours (so no two sessions wait for each other)."""
    locks = {c: s.training_lock(c) for c in configs}
    mine = [c for c in configs if locks[c].acquire(blocking=False)]
    out: dict[TrainConfig, History] = {}
    try:
        out.update({c: h for c in mine if (h := s.get(c, c in boundaries)) is not None})  # stored meanwhile
        todo = [c for c in mine if c not in out]
        if todo:
            out.update(_train_in_slot(s, todo, bar, boundaries))
    finally:
        for c in mine:
            locks[c].release()
            s.done_training(c)
    for c in configs:
        if c in out:
            continue
        if not locks[c].acquire(blocking=False):  # another session is training this very run
            bar.say("Waiting for another session training the same runs…")
            locks[c].acquire()
        try:
            hist = s.get(c, c in boundaries)
            out[c] = hist if hist is not None else _train_in_slot(s, [c], bar, boundaries)[c]
        finally:
            locks[c].release()
            s.done_training(c)
    return out


def get_seeded(config: TrainConfig, norms, seeds=(None,), *, boundary: bool = False) -> dict[str, tuple[History, ...]]:
    """Per normalization in ``norms``, the runs of ``config`` with each seed of ``seeds`` (None: its
    own), fetched from the store; every missing one is trained, all in one ``train_many`` call, with
    a progress bar. ``boundary``: the first seed's runs have their decision boundary."""
    configs = seeded_variants(config, norms, seeds)
    found = get_many([c for cs in configs.values() for c in cs],
                     boundaries=[cs[0] for cs in configs.values()] if boundary else ())
    return {n: tuple(found[c] for c in cs) for n, cs in configs.items()}


def get_many(configs, boundaries=()) -> dict[TrainConfig, History]:
    """Every config's run, fetched from the store (those in ``boundaries`` with their decision
    boundary); the missing ones trained in one ``train_many`` call, with a progress bar."""
    s, boundaries = store(), frozenset(boundaries)
    found = {c: s.get(c, c in boundaries) for c in dict.fromkeys(configs)}
    missing = [c for c, h in found.items() if h is None]
    if missing:
        bar = _Bar()
        found.update(_fetch_or_train(s, missing, bar, boundaries))
        bar.done()
    return found


def get_runs(config: TrainConfig, norms) -> dict[str, History]:
    """Train (or fetch) ``config`` once per normalization, with a progress bar."""
    return {n: hs[0] for n, hs in get_seeded(config, norms).items()}
