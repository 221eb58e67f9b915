"""Training runs shared by the network views: trained once, kept in a bounded cache.

All three views read the same runs, so switching pages never retrains. The
store is an LRU over configs, bounded by count and by the runs' own memory
footprint; it holds results only (no session's state). Runs are returned by
reference: pages treat them as read-only.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict

import streamlit as st

from core.training import History, TrainConfig, train

MAX_RUNS = 24
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
        self._lock = threading.Lock()
        self._training: dict[TrainConfig, threading.Lock] = {}
        self.slots = threading.BoundedSemaphore(TRAINING_SLOTS)

    def get(self, config: TrainConfig) -> History | None:
        with self._lock:
            hist = self._runs.get(config)
            if hist is not None:
                self._runs.move_to_end(config)
            return hist

    def put(self, config: TrainConfig, hist: History) -> None:
        with self._lock:
            self._runs[config] = hist
            self._runs.move_to_end(config)
            while len(self._runs) > self.max_runs or (
                len(self._runs) > 1 and self.nbytes() > self.max_bytes
            ):
                self._runs.popitem(last=False)

    def training_lock(self, config: TrainConfig) -> threading.Lock:
        """One lock per config being trained: a second session asking for the same run waits
        for the first one's result instead of training it again."""
        with self._lock:
            return self._training.setdefault(config, threading.Lock())

    def done_training(self, config: TrainConfig) -> None:
        with self._lock:
            self._training.pop(config, None)

    def nbytes(self) -> int:
        return sum(h.memory_bytes() for h in self._runs.values())

    def __len__(self) -> int:
        return len(self._runs)


@st.cache_resource(show_spinner=False)
def store() -> RunStore:
    return RunStore()


def variants(config: TrainConfig, norms) -> dict[str, TrainConfig]:
    """The same run with each normalization in ``norms`` (same seed, same data)."""
    return {n: dataclasses.replace(config, norm=n) for n in norms}


def get_runs(config: TrainConfig, norms) -> dict[str, History]:
    """Train (or fetch) ``config`` once per normalization, with a progress bar."""
    s = store()
    configs = variants(config, norms)
    out = {n: s.get(c) for n, c in configs.items()}
    todo = [n for n, h in out.items() if h is None]
    if todo:
        bar = st.progress(0.0, text="Training…")
        for i, n in enumerate(todo):
            label = f"Training {i + 1} of {len(todo)}: {n if n != 'none' else 'no'} normalization…"
            shown = [-1.0]

            def progress(fraction: float, i=i, label=label, shown=shown) -> None:
                # about 20 updates a run: each one is a message to the browser and a redraw there
                total = min(1.0, (i + max(0.0, min(1.0, fraction))) / len(todo))
                if total - shown[0] >= 0.05 or total >= 1.0:
                    shown[0] = total
                    bar.progress(total, text=label)

            lock = s.training_lock(configs[n])
            if not lock.acquire(blocking=False):  # another session is training this very run
                bar.progress(i / len(todo), text=label.replace("Training", "Waiting for run", 1))
                lock.acquire()
            try:
                hist = s.get(configs[n])
                if hist is None:
                    if not s.slots.acquire(blocking=False):  # other sessions' runs are training
                        bar.progress(i / len(todo), text="Queued: another session's run is training first…")
                        s.slots.acquire()
                    try:
                        hist = train(configs[n], progress=progress)
                    finally:
                        s.slots.release()
                    s.put(configs[n], hist)
            finally:
                lock.release()
                s.done_training(configs[n])
            out[n] = hist
        bar.empty()
    return out
