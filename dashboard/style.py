"""How the pages are laid out on a screen: the app's CSS, presenter mode's, and chart columns.

Every CSS rule of the dashboard lives here. ``BASE_CSS`` applies always (a
shorter header, segmented controls that wrap on a phone); ``PRESENTER_CSS``
on top of it in presenter mode (larger type, the full width for the charts).
The sidebar's collapse in presenter mode is Streamlit's own
(``st.set_page_config(initial_sidebar_state=...)``, see ``sidebar_state``),
so its expand button keeps working.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

ICON = Path(__file__).resolve().parent / "static" / "icon.png"

BASE_CSS = """
<style>
/* Streamlit leaves ~6rem above the first element for its header bar: keep just the bar's height */
[data-testid="stMainBlockContainer"] { padding-top: 3.25rem; }
/* segmented controls (a view's choices) wrap onto a second line instead of overflowing */
[data-testid="stButtonGroup"] > div { flex-wrap: wrap; }
</style>
"""

PRESENTER_CSS = """
<style>
html { font-size: 19px; }
[data-testid="stMainBlockContainer"] { max-width: 100% !important; padding-left: 2rem;
  padding-right: 2rem; padding-top: 4rem; }
/* tighter vertical rhythm: with a lesson's note open the key chart still starts on the first screen */
[data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: 0.6rem; }
[data-testid="stMain"] h1 { font-size: 2rem !important; padding-top: 0; padding-bottom: 0.25rem; }
/* the step player's icon buttons keep their icon whole at the larger type */
[data-testid="stMain"] [data-testid="stBaseButton-secondary"],
[data-testid="stMain"] [data-testid="stBaseButton-primary"] { padding-left: 0.25rem; padding-right: 0.25rem;
  min-width: 2.4rem; }
</style>
"""

_PRESENTER_VALUES = ("1", "true", "on")


def presenter_on() -> bool:
    """Presenter mode: the sidebar switch's value, else (first run of a session) the link's."""
    ss = st.session_state
    if "presenter" in ss:
        return bool(ss["presenter"])
    return st.query_params.get("presenter") in _PRESENTER_VALUES


def sidebar_state() -> str:
    """``initial_sidebar_state`` for ``st.set_page_config``: collapsed in presenter mode; otherwise
    Streamlit's "auto" (open on a wide screen, closed on a phone, where it would cover the page).

    Streamlit applies a changed value on the rerun that sends it, so turning presenter mode on
    collapses the sidebar, and its own expand button still opens it."""
    return "collapsed" if presenter_on() else "auto"


def page_css() -> None:
    """The CSS every page gets (call once per run, after ``st.set_page_config``)."""
    st.html(BASE_CSS)


def chart_columns(n: int, spec: list[float] | None = None, *, keep_row: bool = False) -> list:
    """``n`` containers for ``n`` charts: side by side (``st.columns(spec or n)``), or in
    presenter mode one below the other at the full width.

    ``keep_row`` keeps them side by side in presenter mode too (square maps compared at a glance,
    which one per row would stretch across the screen)."""
    if n <= 1:
        return [st.container()]
    if presenter_on() and not keep_row:
        return [st.container() for _ in range(n)]
    return list(st.columns(spec or n))


#: the keys of the sidebar's folded panels (``folded``): session state holds whether each is open
LESSONS_PANEL, SHARE_PANEL, EXPORT_PANEL = "panel-lessons", "panel-share", "panel-export"


def folded(label: str, key: str, icon: str | None = None, container=st):
    """A collapsed sidebar panel whose content is built only while it is open: the expander of
    ``label``, or None when it is closed (Streamlit's lazy expander, ``on_change="rerun"`` and its
    ``.open``; opening it reruns the page, which then draws the content).

    A closed panel is one message instead of one for each of its controls, on every run of every
    session: the Lessons, Share and Export panels were about 50 of the Training view's ~150
    messages, which a class opening one link all at once waits behind (README, "A whole class at
    once"). What a panel's controls hold must not live only in them: a closed panel draws none."""
    panel = container.expander(label, icon=icon, key=key, on_change="rerun")
    return panel if panel.open else None


def intro(text: str) -> None:
    """A view's one-paragraph introduction; in presenter mode with a lesson open over the view, the
    lesson's note says what to look at instead (the key chart then stays on the first screen)."""
    if presenter_on() and st.session_state.get("_lesson_box") is not None:
        return
    st.markdown(text)
