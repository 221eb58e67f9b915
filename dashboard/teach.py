"""Teaching aids drawn around every view: lessons, the shareable link, presenter mode.

``before_page`` runs in app.py before the view (applies a lesson asked for
by a click or a ``?lesson=`` link, shows its "what to look for" box);
``after_page`` runs after it (the sidebar's lesson menu, link and presenter
switch, added below the view's own controls).
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from core.lessons import LESSONS, Lesson, lesson
from dashboard.registry import ALL_VIEWS, CONFIG_CLASSES
from dashboard.state import _clean
from dashboard.style import PRESENTER_CSS

_ACTIVE = "_lesson_active"
_GOTO = "_lesson_goto"


def apply(item: Lesson) -> None:
    """Put the lesson's settings (and every other setting back to its default) in session state."""
    ss = st.session_state
    for cls in CONFIG_CLASSES:
        defaults = cls()
        for f in dataclasses.fields(cls):
            if "spec" in f.metadata:
                ss[f.name] = getattr(defaults, f.name)
    for name, value in item.settings.items():
        ss[name] = value
    # each page reads its link once per session; a lesson replaces that reading
    for key in [k for k in ss if str(k).startswith("_url_read::")]:
        ss[key] = True
    ss[_ACTIVE] = item.key
    ss[_GOTO] = item.view


def _view_path(url_path: str) -> str:
    return next(str(v.path) for v in ALL_VIEWS if v.url_path == url_path)


def before_page(current_url_path: str) -> None:
    ss = st.session_state
    asked = st.query_params.get("lesson")
    if asked and not ss.get("_lesson_link_done"):
        ss["_lesson_link_done"] = True
        item = lesson(asked)
        if item is None:
            st.warning(f"There is no lesson called '{_clean(asked)}'; showing the view as it is.")
        else:
            apply(item)
    goto = ss.pop(_GOTO, None)
    if goto and goto != current_url_path:
        st.switch_page(_view_path(goto))
    item = lesson(ss.get(_ACTIVE, ""))
    if item and item.view == current_url_path:
        box = st.container(border=True)
        c1, c2 = box.columns([12, 1])
        c1.markdown(f"**Lesson: {item.title}**  \n{item.look_for}")
        if c2.button(":material/close:", key="lesson_close", help="Close the lesson note"):
            ss.pop(_ACTIVE, None)
            st.rerun()


def after_page() -> None:
    ss = st.session_state
    with st.sidebar:
        st.divider()
        with st.expander("Lessons", icon=":material/school:"):
            st.caption("One click sets up a view and says what to look for.")
            for item in LESSONS:
                st.button(item.title, key=f"side-lesson-{item.key}", on_click=apply, args=(item,),
                          width="stretch")
        with st.expander("Link to this view", icon=":material/link:"):
            st.caption("Opening this address elsewhere shows the same view with the same settings.")
            st.code(share_url(), language=None, wrap_lines=True)
        st.toggle("Presenter mode (larger type)", key="presenter",
                  help="Larger text and full-width charts, for a projector.")
    if ss.get("presenter"):
        st.html(PRESENTER_CSS)
        if st.query_params.get("presenter") != "1":
            st.query_params["presenter"] = "1"


def share_url() -> str:
    base = ""
    try:
        url = st.context.url or ""
        base = url.split("?", 1)[0]
    except Exception:  # noqa: BLE001 -- no browser context (tests)
        base = ""
    query = "&".join(f"{k}={v}" for k, v in st.query_params.to_dict().items())
    return f"{base}?{query}" if query else base


def presenter_from_url() -> None:
    """``?presenter=1`` in a link turns presenter mode on for the session."""
    ss = st.session_state
    if "presenter" not in ss:
        ss["presenter"] = st.query_params.get("presenter") in ("1", "true", "on")
