"""No traceback reaches a page: an unexpected error becomes a short message."""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

log = logging.getLogger("dashboard")

#: the text tests look for: a page that shows it has failed
FAILURE_TEXT = "This view hit an unexpected problem"


def run_guarded(body: Callable[[], None]) -> None:
    try:
        body()
    except Exception as exc:  # noqa: BLE001 -- the last line of defence; logged in full
        log.exception("view failed")
        st.error(
            f"{FAILURE_TEXT} ({type(exc).__name__}). Try other settings, or reload the page. "
            "The details are in the server log."
        )
