"""dashboard/gate.py: at most RENDERS views draw at once, the rest wait their turn and all are served."""

from __future__ import annotations

import threading
import time

from dashboard import gate


def test_at_most_renders_views_draw_at_once_and_every_waiting_one_gets_its_turn():
    inside, most, done = 0, 0, []
    lock = threading.Lock()

    def session(i: int) -> None:
        nonlocal inside, most
        with gate.turn():
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.05)
            with lock:
                inside -= 1
        done.append(i)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(4 * gate.RENDERS + 1)]
    for t in threads:
        t.start()
    time.sleep(0.02)
    assert gate.waiting() > 0, "with more sessions than places, some should be waiting"
    for t in threads:
        t.join(timeout=30)
    assert most == gate.RENDERS
    assert sorted(done) == list(range(len(threads)))
    assert gate.waiting() == 0


def test_a_view_that_fails_gives_its_place_back():
    for _ in range(gate.RENDERS + 1):
        try:
            with gate.turn():
                raise RuntimeError("a failing view")
        except RuntimeError:
            pass
    with gate.turn():  # would block forever had a place leaked
        pass
