"""Predict, then reveal, on the page: the lesson's question first, its charts once it is answered.

While a lesson's question is open, the view stops right after it has computed what it shows
(``teach.measured`` raises :class:`Veiled`): its controls are drawn, its charts and measured text
are not. The lesson's box asks the question (``ask``); the answer is kept for this opening of the
lesson, and the view then draws in full with the verdict, which says whether the prediction was
right (``reveal``): the right answer is the question's ``pick`` measured on the runs on screen.
A link's ``predict=0`` (``dashboard.trim``) opens every lesson without its question.
"""

from __future__ import annotations

import streamlit as st

from dashboard.checks import per_seed
from dashboard.questions import question
from dashboard.state import PAGE_STATE as PAGE
from dashboard.state import PREDICT_OFF

ANSWERS = "_predict_answers"  # lesson key -> the index of the answer given, for this opening of it
VEILED = "_predict_veiled"  # set when this run's view stopped before its charts


class Veiled(Exception):  # noqa: N818 -- not an error: the view stops before its charts, on purpose
    """Raised by ``teach.measured`` while the open lesson's question waits for an answer."""


def asking(item) -> bool:
    """Whether lesson ``item``'s question is waiting for an answer (prompts on, not answered yet)."""
    ss = st.session_state
    return (item is not None and question(item.key) is not None and not ss.get(PREDICT_OFF)
            and item.key not in ss.get(ANSWERS, {}))


def forget(key: str) -> None:
    """A lesson opened afresh asks its question again."""
    st.session_state.setdefault(ANSWERS, {}).pop(key, None)


def _answered(key: str) -> None:
    ss = st.session_state
    choice = ss.get(f"predict-{key}")
    if choice is not None:
        ss.setdefault(ANSWERS, {})[key] = int(choice)


def run_view(page) -> None:
    """Run the view's script; a veiled view still writes its settings to the address."""
    ss = st.session_state
    ss[VEILED] = False
    ss.pop(PAGE, None)
    try:
        page.run()
    except Veiled:
        ss[VEILED] = True
        state = ss.get(PAGE)
        if state is not None:
            state.write_url()


def ask(box, item) -> None:
    """The question, its answers as a choice; choosing one reveals the view."""
    q = question(item.key)
    box.markdown(f"**Predict first:** {q.prompt}")
    box.radio("Your prediction", options=list(range(len(q.answers))), format_func=lambda i: q.answers[i],
              index=None, key=f"predict-{item.key}", on_change=_answered, args=(item.key,))
    box.caption("The charts appear once you have answered; the measured verdict then says whether you were right.")


def reveal(box, item, measured) -> None:
    """What the student predicted, and what the runs on screen measured."""
    q = question(item.key)
    given = st.session_state.get(ANSWERS, {}).get(item.key)
    if q is None or given is None or measured is None:
        return
    seeds = per_seed(measured)  # over seeds: the answer every seed measured, or none when they differ
    picks = {q.pick(runs) for runs in seeds} if seeds else {q.pick(measured)}
    right = picks.pop() if len(picks) == 1 else None
    if right is None:
        box.info(f"You predicted: {q.answers[given]}. These runs cannot settle it (see the verdict).",
                 icon=":material/help:")
    elif right == given:
        box.success(f"You predicted: {q.answers[given]}. Right: that is what these runs measured.",
                    icon=":material/thumb_up:")
    else:
        box.warning(f"You predicted: {q.answers[given]}. These runs measured: {q.answers[right]}.",
                    icon=":material/lightbulb:")
