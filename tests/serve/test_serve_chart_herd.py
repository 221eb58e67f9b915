"""A class arriving at once after one training asks for the same charts at the same moment: each
memoized chart (dashboard.chartcache.memo) is built once, the other sessions wait for it."""

from __future__ import annotations

import threading
import time

import pandas as pd

from dashboard import chartcache


def test_concurrent_sessions_asking_for_the_same_chart_build_it_once():
    calls = []
    start = threading.Barrier(8)

    @chartcache.memo
    def build(frame: pd.DataFrame, scale: float) -> pd.DataFrame:
        calls.append(threading.get_ident())
        time.sleep(0.2)  # long enough for every session to ask while it is being built
        return frame * scale

    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    results = []

    def session():
        start.wait()
        results.append(build(frame, 2.0))

    threads = [threading.Thread(target=session) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(calls) == 1
    assert len(results) == 8 and all(r is results[0] for r in results)
    assert build(frame, 3.0) is not results[0] and len(calls) == 2  # another key builds anew
    assert not chartcache._BUILDING  # no lock left behind


def test_a_builder_that_fails_lets_the_next_caller_build():
    attempts = []

    @chartcache.memo
    def flaky(n: int) -> int:
        attempts.append(n)
        if len(attempts) == 1:
            raise ValueError("first try fails")
        return n + 1

    try:
        flaky(41)
    except ValueError:
        pass
    assert flaky(41) == 42 and len(attempts) == 2
    assert not chartcache._BUILDING
