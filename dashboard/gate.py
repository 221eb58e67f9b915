"""Draw at most a few views at once: a class opening one link gets its pages in turn, not all at the end.

Every session of a Streamlit server is a thread of one Python process. Fifty sessions drawing at
once share one interpreter lock: each gets a fiftieth of it, so all of them finish together at the
end of the burst, and the server's event loop (which sends the messages and answers the health
check) waits behind them too. Letting ``RENDERS`` views draw at a time and queueing the rest (each
told so, and how many are waiting) leaves the event loop more of the lock. Measured (README, "A whole
class at once"): on 50 warmed sessions the health check's worst latency about halved and p95 did not
change; the first message still mostly arrives with the last, held up by the event loop itself.

One session never waits (AppTest, a teacher alone): the gate is free.
"""

from __future__ import annotations

import contextlib
import os
import threading

import streamlit as st

#: views drawn at once in this process (``NORMSEEN_RENDERS`` overrides it: a bigger machine)
RENDERS = max(1, int(os.environ.get("NORMSEEN_RENDERS", "4")))
_GATE = threading.BoundedSemaphore(RENDERS)
_COUNT = threading.Lock()
_waiting = 0


def waiting() -> int:
    """Sessions waiting for their turn now."""
    return _waiting


@contextlib.contextmanager
def turn():
    """Hold one of the ``RENDERS`` places while the view draws; wait for one (with a notice) if none is free."""
    global _waiting
    if not _GATE.acquire(blocking=False):
        box = st.empty()
        with _COUNT:
            _waiting += 1
        try:
            shown = None
            while not _GATE.acquire(timeout=0.5):
                if _waiting != shown:  # a message only when the count changed
                    shown = _waiting
                    box.info(f"Many people opened the dashboard at once: your view is drawn in turn "
                             f"({shown} waiting). It takes a few seconds.", icon=":material/groups:")
        finally:
            with _COUNT:
                _waiting -= 1
        box.empty()
    try:
        yield
    finally:
        _GATE.release()
