"""Play, pause and step through recorded steps, at a speed a class can follow.

Nothing is retrained: playback only moves a step slider over what a run
recorded, and each tick reruns the page to redraw its charts at that step.

When the recorded run changes (another batch size, more epochs, a diverged
run), the step follows a simple rule (:func:`follow`): a scrubber that was
at the end follows the new end; one placed mid-run keeps its place when the
new run recorded that step; otherwise it moves, and the view says where.

Keyboard (Streamlit's button shortcuts): Space plays and pauses, the left and
right arrows step back and forward, Home and End go to the first and last step.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import streamlit as st

SPEEDS = {"slow": 1.6, "normal": 0.8, "fast": 0.4}  # seconds per frame
SPEED_LABELS = {"slow": "½×", "normal": "1×", "fast": "2×"}

#: (button key suffix, accessible label, icon, keyboard shortcut)
BUTTONS = (
    ("first", "First step", ":material/first_page:", "Home"),
    ("prev", "Previous step", ":material/chevron_left:", "Left"),
    ("play", "Play", ":material/play_arrow:", "Space"),
    ("next", "Next step", ":material/chevron_right:", "Right"),
    ("last", "Last step", ":material/last_page:", "End"),
)

# The buttons show their icon; their text label stays in the page for screen readers and tests
# (visually hidden), and the shortcut hints are left out on narrow screens, where the five buttons
# and the speed then fit on one row under the slider.
_CSS = """<style>
.st-key-{bar} button:not([data-testid="stPopoverButton"]) [data-testid="stMarkdownContainer"] {{
  position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }}
.st-key-{bar} button {{ min-width: 2.4rem; padding-left: 0.5rem; padding-right: 0.5rem; }}
@media (max-width: 640px) {{ .st-key-{bar} button kbd, .st-key-{bar} button [aria-label^="Shortcut"] {{
  display: none; }} }}
</style>"""


def _playing(key: str) -> str:
    return f"_playing::{key}"


def _next(key: str) -> str:
    return f"_next::{key}"


def _last(key: str) -> str:
    return f"_last_tick::{key}"


def _end(key: str) -> str:
    return f"_drawn_end::{key}"


def follow(value, options: Sequence[int], drawn_end: int | None) -> tuple[int, str | None]:
    """The step to show on a run recorded at ``options``, and a notice when it was moved.

    value: the step the scrubber holds; drawn_end: the last step of the run it
    was last drawn with (None on its first draw, e.g. a value from a link).
    """
    end = options[-1]
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return end, None
    if drawn_end is not None and value >= drawn_end and (value != drawn_end or drawn_end != end):
        return end, None  # it was at (or past: a reset to "the end") the old end: it follows the new end
    if value in options:
        return int(value), None
    if value > end:
        note = None if drawn_end is None else f"The step was moved to {end:,}: the new run ends there."
        return end, note
    nearest = min(options, key=lambda s: abs(s - value))
    note = None if drawn_end is None else (
        f"The step was moved to {nearest:,}: the new run recorded no step {int(value):,}, "
        "and this is the nearest one it did.")
    return nearest, note


def _frames(options: list[int], max_frames: int) -> list[int]:
    if len(options) <= max_frames:
        return options
    return [options[round(i * (len(options) - 1) / (max_frames - 1))] for i in range(max_frames)]


def player(key: str, options: Sequence[int], *, label: str, fmt=lambda v: f"{v:,}",
           max_frames: int = 60, extra=None) -> int:
    """A step slider with first / previous / play-pause / next / last buttons; returns the step.

    options: the recorded steps (ascending). The slider's value lives in
    ``st.session_state[key]`` (so it is in the URL like every setting).
    Playing shows at most ``max_frames`` frames, evenly spread. ``extra(row)`` draws more controls
    at the end of the buttons' row (the Training view's curve settings).
    """
    ss = st.session_state
    options = [int(o) for o in options]
    if ss.get(_next(key)) is not None:  # a playback tick moved the step
        ss[key] = ss.pop(_next(key))
    ss[key], notice = follow(ss.get(key, options[-1]), options, ss.get(_end(key)))
    ss[_end(key)] = options[-1]
    frames = _frames(options, max_frames)

    value = st.select_slider(label, options=options, key=key, format_func=fmt)
    _buttons(key, options, extra)
    if notice:
        st.caption(notice)
    if ss.get(_playing(key), False):
        _ticker(key, frames)
    return value


def _buttons(key: str, options: list[int], extra=None) -> None:
    """The row of buttons under the slider, and the playback speed."""
    ss = st.session_state

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

    playing = ss.get(_playing(key), False)
    actions = {"first": {"to": 0}, "prev": {"delta": -1}, "next": {"delta": 1}, "last": {"to": len(options) - 1}}
    bar = f"{key}_bar"
    st.html(_CSS.format(bar=bar))
    row = st.container(horizontal=True, key=bar, gap="xsmall", vertical_alignment="center")
    for name, text, icon, shortcut in BUTTONS:
        if name == "play":
            text, icon = ("Pause", ":material/pause:") if playing else (text, icon)
            row.button(text, key=f"{key}_{name}", icon=icon, on_click=toggle, type="primary",
                       shortcut=shortcut, help=f"{text} (Space)")
        else:
            row.button(text, key=f"{key}_{name}", icon=icon, on_click=move, kwargs=actions[name],
                       shortcut=shortcut, help=f"{text} ({shortcut})")
    row.selectbox("Playback speed", list(SPEEDS), index=1, key=f"{key}_speed", label_visibility="collapsed",
                  format_func=SPEED_LABELS.get, width=96,
                  help="Playback speed: 1× shows a frame every 0.8 s, ½× every 1.6 s, 2× every 0.4 s.")
    if extra is not None:  # a popover's button keeps its text (the CSS above hides the player's)
        extra(row)


def _ticker(key: str, frames: list[int]) -> None:
    ss = st.session_state
    speed = SPEEDS[ss.get(f"{key}_speed") or "normal"]

    @st.fragment(run_every=speed)
    def _tick() -> None:
        # the fragment also runs with the page: advance only when a tick is due
        if not ss.get(_playing(key), False) or time.monotonic() - ss.get(_last(key), 0.0) < 0.8 * speed:
            return
        ss[_last(key)] = time.monotonic()
        later = [f for f in frames if f > ss[key]]
        if not later:
            ss[_playing(key)] = False
        else:
            ss[_next(key)] = later[0]
        st.rerun(scope="app")

    _tick()
