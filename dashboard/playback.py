"""Play, pause and step through recorded steps, at a speed a class can follow.

Nothing is retrained: playback only moves a step slider over what a run
recorded, and each tick reruns the page to redraw its charts at that step.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import streamlit as st

SPEEDS = {"slow": 1.5, "normal": 0.8, "fast": 0.35}  # seconds per frame


def _playing(key: str) -> str:
    return f"_playing::{key}"


def _next(key: str) -> str:
    return f"_next::{key}"


def _last(key: str) -> str:
    return f"_last_tick::{key}"


def player(key: str, options: Sequence[int], *, label: str, fmt=lambda v: f"{v:,}",
           max_frames: int = 60) -> int:
    """A step slider with ⏮ ◀ ▶/⏸ ▶ ⏭ buttons; returns the chosen step.

    options: the recorded steps (ascending). The slider's value lives in
    ``st.session_state[key]`` (so it is in the URL like every setting).
    Playing shows at most ``max_frames`` frames, evenly spread.
    """
    ss = st.session_state
    options = list(options)
    if ss.get(_next(key)) is not None:  # a playback tick moved the step
        ss[key] = ss.pop(_next(key))
    if ss.get(key) not in options:
        want = ss.get(key, options[-1])
        ss[key] = min(options, key=lambda s: abs(s - want)) if isinstance(want, (int, float)) else options[-1]
    frames = options if len(options) <= max_frames else [
        options[round(i * (len(options) - 1) / (max_frames - 1))] for i in range(max_frames)]

    def move(delta: int | None = None, to: int | None = None) -> None:
        i = options.index(ss[key])
        ss[key] = options[to] if to is not None else options[max(0, min(len(options) - 1, i + delta))]
        ss[_playing(key)] = False

    def toggle() -> None:
        playing = not ss.get(_playing(key), False)
        if playing and ss[key] == options[-1]:
            ss[key] = options[0]  # play again from the start
        ss[_playing(key)] = playing
        ss[_last(key)] = time.monotonic()

    cols = st.columns([6, 1, 1, 1, 1, 1, 2], vertical_alignment="bottom")
    value = cols[0].select_slider(label, options=options, key=key, format_func=fmt)
    cols[1].button(":material/first_page:", key=f"{key}_first", help="First step", on_click=move, kwargs={"to": 0})
    cols[2].button(":material/chevron_left:", key=f"{key}_prev", help="Previous step", on_click=move,
                   kwargs={"delta": -1})
    playing = ss.get(_playing(key), False)
    cols[3].button(":material/pause:" if playing else ":material/play_arrow:", key=f"{key}_play",
                   help="Pause" if playing else "Play through training", on_click=toggle, type="primary")
    cols[4].button(":material/chevron_right:", key=f"{key}_next", help="Next step", on_click=move,
                   kwargs={"delta": 1})
    cols[5].button(":material/last_page:", key=f"{key}_last", help="Last step", on_click=move,
                   kwargs={"to": len(options) - 1})
    speed = cols[6].selectbox("Speed", list(SPEEDS), index=1, key=f"{key}_speed",
                              label_visibility="collapsed", help="Playback speed")

    if playing:
        @st.fragment(run_every=SPEEDS[speed])
        def _tick() -> None:
            # the fragment also runs with the page: advance only when a tick is due
            if not ss.get(_playing(key), False) or (
                time.monotonic() - ss.get(_last(key), 0.0) < 0.8 * SPEEDS[speed]
            ):
                return
            ss[_last(key)] = time.monotonic()
            later = [f for f in frames if f > ss[key]]
            if not later:
                ss[_playing(key)] = False
            else:
                ss[_next(key)] = later[0]
            st.rerun(scope="app")

        _tick()
    return value
