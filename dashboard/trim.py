"""Lesson links a teacher can trim: ``hide=`` controls and sections, ``predict=0``, the share panel, resets.

A link's ``hide=lr,depth,optimizer`` hides those controls (by their config field names, the widgets'
keys) and sections (``SECTIONS``) on every view of the session, like TensorFlow Playground's
``<control>_hide``; every view's address keeps it, so a link copied anywhere trims the same way. A
hidden control keeps the value its settings hold (the link's, the lesson's or the default): only the
widget is not drawn. ``predict=0`` opens lessons without their question (``dashboard.predict``).
Unknown or malformed names get the link's one notice, shown only as text (``dashboard.safe``).

The sidebar's *Share this lesson* panel lists this view's controls and the sections with tick boxes
and shows the link that hides the ticked ones, as text in a code block. *Reset this view* and *Reset
to the lesson* return to a known state.
"""

from __future__ import annotations

import re

import streamlit as st

from dashboard.registry import family_of
from dashboard.state import (
    DRAWN,
    HIDE,
    LINK,
    PREDICT_OFF,
    is_hidden,
    known_keys,
    pend_notice,
    set_family,
)
from dashboard.style import SHARE_PANEL, folded

TICKS = "_share_ticks"  # the share panel's boxes as last ticked: name -> bool (_ASK: the question box)
_ASK = "\0predict"  # not a control's name

#: sections a link can hide, and what each one is
SECTIONS = {
    "lessons": "the Lessons menu",
    "link": "the link and share panels",
    "export": "the Export menu",
    "presenter": "the presenter switch",
    "reset": "the reset buttons",
}
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_HIDDEN = 40  # names read from one hide=; more are counted in the notice
PREDICT_VALUES = {"0": True, "off": True, "false": True, "1": False, "on": False, "true": False}


def hideable() -> set[str]:
    """Every name hide= accepts: each view's settings (their widgets' keys) and the sections."""
    return (known_keys() - {"lesson", "presenter", "hide", "predict"}) | set(SECTIONS)


def parse_hide(values: list[str]) -> tuple[frozenset[str], list[tuple[str, str]]]:
    """The names of ``hide=`` values (comma-separated, each param counted) and the problems found:
    (subject, problem) pairs, the subject being link text (shown only literally)."""
    names, problems, known = [], [], hideable()
    for value in values:
        for raw in value.split(","):
            name = raw.strip().lower()
            if not name:
                continue
            if not NAME.fullmatch(name) or name not in known:
                problems.append((f"hide={raw.strip()}", "is no control or section here; nothing hidden for it"))
            elif name not in names:
                names.append(name)
    if len(names) > MAX_HIDDEN:
        problems.append(("hide", f"names {len(names)} controls; the first {MAX_HIDDEN} are hidden"))
        names = names[:MAX_HIDDEN]
    return frozenset(names), problems


def parse_predict(values: list[str]) -> tuple[bool, list[tuple[str, str]]]:
    """Whether ``predict=`` switches the lessons' questions off, and any problem."""
    if not values:
        return False, []
    last = values[-1].strip().lower()
    if last in PREDICT_VALUES:
        return PREDICT_VALUES[last], []
    return False, [(f"predict={values[-1]}", "is not 0 or 1; the lessons ask their question")]


def read_link() -> None:
    """A new link's ``hide=`` and ``predict=`` set the session's trimming once (a link without them
    trims nothing); problems go to the link's notice."""
    ss = st.session_state
    link = ss.get(LINK)
    if link is None or link.get("trim_done"):
        return
    link["trim_done"] = True
    query = link["query"]
    hidden, problems = parse_hide(query.get("hide", []))
    off, more = parse_predict(query.get("predict", []))
    ss[HIDE], ss[PREDICT_OFF] = hidden, off
    for key in [k for k in ss if str(k).startswith("share-")]:  # the share panel's ticks start from the link
        del ss[key]
    for subject, problem in problems + more:
        pend_notice(subject, problem)


def begin_run() -> None:
    """Before a view: forget last run's list of drawn controls, read a new link's trimming."""
    st.session_state[DRAWN] = {}
    read_link()


# ---------------------------------------------------------------- the sidebar


def trimmed_query(query: dict[str, str], hide: list[str], predict: bool) -> str:
    """``query`` (the view's address) with ``hide=`` and ``predict=`` as ticked."""
    params = {k: v for k, v in query.items() if k not in ("hide", "predict")}
    if hide:
        params["hide"] = ",".join(sorted(hide))
    if not predict:
        params["predict"] = "0"
    return "&".join(f"{k}={v}" for k, v in params.items())


def share_panel(base_url: str, lesson_open: bool) -> None:
    """Tick boxes for this view's controls and the sections; the link that hides the ticked ones.

    The panel is folded (drawn only while open), so what is ticked lives in ``TICKS``, not only in
    the boxes: closing the panel and opening it again keeps the ticks."""
    ss = st.session_state
    title = "Share this lesson" if lesson_open else "Share this view, trimmed"
    panel = folded(title, SHARE_PANEL, ":material/share:")
    if panel is None:
        return
    ticks = ss.setdefault(TICKS, {})
    with panel:
        st.caption("Tick what the class should not see. The link opens this view as it is now, without "
                   "the ticked controls, on every view it leads to.")
        ticked = []
        controls = dict(ss.get(DRAWN, {}))
        for name, label in list(controls.items()) + [(k, v[0].upper() + v[1:]) for k, v in SECTIONS.items()]:
            ticks[name] = st.checkbox(label, value=ticks.get(name, is_hidden(name)), key=f"share-hide-{name}",
                                      help=f"hide={name}")
            if ticks[name]:
                ticked.append(name)
        ticks[_ASK] = ask = st.checkbox("Ask the lesson's question first", value=ticks.get(_ASK, not ss.get(PREDICT_OFF)),
                                        key="share-predict",
                                        help="Unticked, the link says predict=0: lessons open with their charts, "
                                             "for a lecture.")
        query = {k: v for k, v in st.query_params.to_dict().items()}
        text = trimmed_query(query, ticked, ask)
        st.code(f"{base_url}?{text}" if text else base_url, language=None, wrap_lines=True)


def reset_view(url_path: str) -> None:
    """Every setting of the view's family back to its default, and no lesson open."""
    from dashboard.teach import close_lesson

    set_family(family_of(url_path), {})
    close_lesson()


def reset_buttons(url_path: str, item) -> None:
    """*Reset to the lesson* (when one is open on this view) and *Reset this view*."""
    if is_hidden("reset") or not family_of(url_path):
        return
    from dashboard.teach import apply

    row = st.container(horizontal=True, gap="small")
    if item is not None:
        row.button("Reset to the lesson", key="reset_lesson", on_click=apply, args=(item,), icon=":material/school:",
                   help="Back to the lesson's settings, as its link opens it.")
    row.button("Reset this view", key="reset_view", on_click=reset_view, args=(url_path,),
               icon=":material/restart_alt:", help="Every setting of this view back to its default; closes the lesson.")
