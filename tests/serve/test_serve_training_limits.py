"""What limits training when a class arrives at once, through the wire on one real server:

* sessions asking for the same run share one training (the run store's per-config lock): one
  session trains, the others wait for it;
* sessions asking for different runs queue for the server's training slot
  (``dashboard.runs.TRAINING_SLOTS``, one a process): never two runs train at once;
* a page over the live-demo budget (``netconfig.WORK_BUDGET``) is refused with a message and trains
  nothing, however many ask.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks import ws_load
from dashboard.runs import TRAINING_SLOTS


def at_once(base: str, urls: list[str]) -> list[ws_load.Session]:
    sessions = [ws_load.Session(i, u) for i, u in enumerate(urls)]

    async def burst():
        deadline = time.monotonic() + 120
        await asyncio.gather(*(ws_load.run_session(base, s, deadline) for s in sessions))

    ws_load.run_coroutine(burst())
    return sessions


def trainings(sessions: list[ws_load.Session]) -> list[tuple[float, float]]:
    """Every run a session trained, as (first, last) progress message on one clock."""
    return [(r.start + a, r.start + b) for r in (s.first for s in sessions)
            for label, (a, b) in r.spans.items() if label.startswith("Training ")]


def test_sessions_asking_for_the_same_new_run_train_it_once(server):
    sessions = at_once(server.base, ["/training?seed=101"] * 4)
    assert all(s.first.charts == 4 and not s.all_errors for s in sessions)
    trained = [s for s in sessions if "Training" in s.first.progress]
    assert len(trained) == 1
    assert all("Waiting" in s.first.progress for s in sessions if s not in trained)


def test_sessions_asking_for_different_runs_queue_for_one_training_slot(server):
    assert TRAINING_SLOTS == 1
    # seeds 10 apart: each page's 3 seeds are its own (no run shared between the sessions)
    sessions = at_once(server.base, [f"/training?seed={201 + 10 * k}" for k in range(3)])
    assert all(s.first.charts == 4 and not s.all_errors for s in sessions)
    assert all("Training" in s.first.progress for s in sessions)  # each trained its own runs
    assert sum("Queued:" in s.first.progress for s in sessions) >= 1
    spans = sorted(trainings(sessions))
    assert len(spans) == 3  # one training a session: its 2 networks x 3 seeds in one train_many call
    # one at a time: a run's progress starts after the previous run's last (message delivery jitter aside)
    overlaps = [prev[1] - nxt[0] for prev, nxt in zip(spans, spans[1:], strict=False)]
    assert max(overlaps) < 0.25, overlaps


def test_a_page_over_the_budget_trains_nothing_however_many_ask(server):
    heavy = "/training?n_samples=50000&epochs=500&depth=50&width=512&seed=301"
    sessions = at_once(server.base, [heavy] * 5)
    for s in sessions:
        assert s.first.done is not None and not s.all_errors
        assert s.first.charts == 0 and not s.first.progress  # a message, no training, no charts
