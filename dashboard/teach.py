"""Teaching aids drawn around every view: lessons, the shareable link, presenter mode.

``before_page`` runs in app.py before the view (applies a lesson asked for
by a click or a ``?lesson=`` link, shows its "what to look for" box);
``after_page`` runs after it (the sidebar's lesson menu, link and presenter
switch, added below the view's own controls).
"""

from __future__ import annotations

import streamlit as st

from core.params import Notice, specs
from dashboard import predict, trim, upload
from dashboard.checks import judge
from dashboard.lessons import LESSONS, Lesson, lesson
from dashboard.registry import ALL_VIEWS, FAMILIES, VIEW_ONLY, family_of
from dashboard.state import (
    APP_KEYS,
    LINK,
    UNKNOWN,
    WRITTEN,
    family_defaults,
    family_settings,
    is_hidden,
    link_query,
    pend_notice,
    set_family,
    show_link_notices,
    take_pending,
    write_no_settings,
)
from dashboard.style import LESSONS_PANEL, PRESENTER_CSS, folded, presenter_on

_ACTIVE = "_lesson_active"
_GOTO = "_lesson_goto"
_MEASURED = "_lesson_measured"  # what the view drew this run, for the lesson's verdict
_BOX = "_lesson_box"  # this run's lesson box (a container), filled with the verdict after the view


def apply(item: Lesson) -> None:
    """Open a lesson: its view's family gets the lesson's settings (every other one its default)."""
    ss = st.session_state
    set_family(family_of(item.view), item.settings)
    if ss.get(_ACTIVE) != item.key:  # opened afresh (not "back to the lesson"): its question again
        predict.forget(item.key)
    ss[_ACTIVE] = item.key
    ss[_GOTO] = item.view


def lesson_fields(family: str) -> set[str]:
    """The settings that decide what a family's views compute (not which layer or step they show)."""
    return {f for cls in FAMILIES.get(family, ()) if cls not in VIEW_ONLY for f in specs(cls)} - {"at_step"}


def departures(item: Lesson) -> list[str]:
    """The settings that now differ from the lesson's, as "name: now (lesson: was)"."""
    family = family_of(item.view)
    want = {**family_defaults(family), **item.settings}
    have = family_settings(family)
    return [f"{name} is {have[name]!r} (the lesson's: {want[name]!r})"
            for name in sorted(lesson_fields(family)) if have.get(name) != want.get(name)]


def active_lesson() -> Lesson | None:
    return lesson(st.session_state.get(_ACTIVE, ""))


def lesson_params(url_path: str) -> dict[str, str]:
    """``lesson=<key>`` for the open lesson's view, so its link opens the lesson as it is."""
    item = active_lesson()
    return {"lesson": item.key} if item and item.view == url_path else {}


def measured(what) -> None:
    """A view hands over what it drew (its runs, its landscape): the lesson's verdict is measured on it.
    While the lesson's question waits for an answer the view stops here, before its charts."""
    ss = st.session_state
    ss[_MEASURED] = what
    if ss.get(_BOX) is not None and predict.asking(active_lesson()):
        raise predict.Veiled


def _view_path(url_path: str) -> str:
    return next(str(v.path) for v in ALL_VIEWS if v.url_path == url_path)


def _open_link_lesson() -> None:
    """A link's ``lesson=`` opens that lesson once; the link's other settings then apply on top."""
    ss = st.session_state
    link = ss.get(LINK)
    if link is None or link.get("lesson_done"):
        return
    link["lesson_done"] = True
    asked = link["query"].get("lesson")
    if not asked:
        return
    item = lesson(asked[-1])
    if item is None:
        pend_notice(f"lesson={asked[-1]}", "is no lesson here; showing the view as it is")
        return
    if len(asked) > 1:
        pend_notice("lesson", f"names {len(asked)} lessons; opened the last one, {item.key}")
    apply(item)


def _home_notices(current_url_path: str) -> None:
    """A link to a view without settings (home): say which of its keys were ignored."""
    if family_of(current_url_path):
        return
    link = st.session_state.get(LINK)
    notices = take_pending()
    if link is not None and not link["read"] and "lesson" not in link["query"]:
        link["read"] = True
        notices += [Notice(k, UNKNOWN) for k in link_query() if k not in APP_KEYS]
    show_link_notices(notices)


def before_page(current_url_path: str) -> None:
    ss = st.session_state
    ss.pop(_MEASURED, None)
    ss.pop(_BOX, None)
    _open_link_lesson()
    trim.begin_run()
    goto = ss.pop(_GOTO, None)
    if goto is not None and goto != current_url_path:
        link = ss.get(LINK) or {}
        keep = link.get("query") if not link.get("read") else None  # a lesson link's own settings
        st.switch_page(_view_path(goto), query_params=keep or None)
    _home_notices(current_url_path)
    item = active_lesson()
    if item and item.view == current_url_path:
        ss[_BOX] = st.container()  # filled after the view: its settings (and a link's) are read by then


def _lesson_box() -> None:
    """The open lesson's note over its view: what to look for and the claim measured on the view's
    runs; once the settings leave the lesson's, which ones, and one click back."""
    ss = st.session_state
    holder, what, item = ss.pop(_BOX, None), ss.pop(_MEASURED, None), active_lesson()
    if holder is None or item is None:
        return
    box = holder.container(border=True)
    compact = presenter_on()  # on a projector: the note in one line, what to look for one click away
    c1, c2 = box.columns([12, 1]) if not compact else box.columns([10, 2], vertical_alignment="center")
    off = departures(item)
    if compact and not off:
        c1.markdown(f"**Lesson: {item.title}**")
        with c2.popover("Look for", icon=":material/visibility:"):
            st.markdown(item.look_for)
    elif not off:
        c1.markdown(f"**Lesson: {item.title}**  \n{item.look_for}")
    else:
        c1.markdown(f"**Lesson: {item.title}** — the settings have changed since the lesson "
                    f"opened: {'; '.join(off[:3])}{' …' if len(off) > 3 else ''}.")
        c1.button("Back to the lesson's settings", key="lesson_back", on_click=apply, args=(item,),
                  icon=":material/undo:")
    c2.button(":material/close:", key="lesson_close", help="Close the lesson note", on_click=close_lesson)
    if ss.get(predict.VEILED):
        predict.ask(c1, item)
        return
    check = getattr(item, "check", None)
    predict.reveal(c1, item, what)
    if what is not None and check is not None:
        verdict = judge(check, what)
        icon = ":material/check_circle:" if verdict.holds else ":material/help:"
        if compact:
            c1.markdown(f"{icon} {verdict.text}")
        else:
            (c1.success if verdict.holds else c1.warning)(verdict.text, icon=icon)


def close_lesson() -> None:
    st.session_state.pop(_ACTIVE, None)


def after_page(current_url_path: str) -> None:
    ss = st.session_state
    _lesson_box()
    if not family_of(current_url_path):
        write_no_settings()
    with st.sidebar:
        st.divider()
        item = active_lesson()
        trim.reset_buttons(current_url_path, item if item and item.view == current_url_path else None)
        panel = None if is_hidden("lessons") else folded("Lessons", LESSONS_PANEL, ":material/school:")
        if panel is not None:
            with panel:
                st.caption("One click sets up a view and says what to look for.")
                for x in LESSONS:
                    st.button(x.title, key=f"side-lesson-{x.key}", on_click=apply, args=(x,),
                              width="stretch")
        if not is_hidden("link"):
            with st.expander("Link to this view", icon=":material/link:"):
                st.caption("Opening this address elsewhere shows the same view with the same settings.")
                st.code(share_url(), language=None, wrap_lines=True)
                upload.link_note(current_url_path)  # a link cannot carry an uploaded file: its data instead
            trim.share_panel(share_url().split("?", 1)[0], bool(item and item.view == current_url_path))
        if not is_hidden("presenter"):
            st.toggle("Presenter mode (larger type)", key="presenter",
                      help="Larger text and full-width charts, for a projector.")
    if ss.get("presenter"):
        st.html(PRESENTER_CSS)
        if st.query_params.get("presenter") != "1":
            st.query_params["presenter"] = "1"
    elif "presenter" in st.query_params:
        del st.query_params["presenter"]
    written = ss.get(WRITTEN)
    if written is not None:  # the presenter switch is part of what the app wrote
        ss[WRITTEN] = {**{k: v for k, v in written.items() if k != "presenter"},
                       **({"presenter": ["1"]} if ss.get("presenter") else {})}


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
