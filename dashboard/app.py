"""Entry point: ``streamlit run dashboard/app.py``.

Sets the page config and navigates over the views in dashboard/registry.py.
A view that fails shows a short message, never a traceback.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run` puts dashboard/ first, not the root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402  (a scikit-learn dependency)


@st.cache_resource(show_spinner=False)
def one_blas_thread() -> None:
    """Every session is a thread of this one process: one BLAS thread each keeps concurrent sessions
    from stalling each other on a small server (classroom-sized matrices gain nothing from more).
    Set once per process, never changed per call (that would race between sessions); cached because
    threadpoolctl scans every loaded library each time it is called (3 % of a rerun's time)."""
    threadpool_limits(limits=1, user_api="blas")


one_blas_thread()
# The server holds many long-lived objects (runs, frames, Altair's schema classes) and a rerun that
# builds a chart allocates thousands of small ones: at Python's default thresholds the cyclic
# garbage collector ran several times per rerun, a third of a chart rebuild. Collect less often.
gc.set_threshold(50_000, 50, 100)

from dashboard.drawing import reset_chart_keys  # noqa: E402
from dashboard.gate import turn  # noqa: E402
from dashboard.guard import run_guarded  # noqa: E402
from dashboard.predict import run_view  # noqa: E402
from dashboard.registry import ALL_VIEWS  # noqa: E402
from dashboard.state import capture_link, keep_settings  # noqa: E402
from dashboard.style import ICON, page_css, sidebar_state  # noqa: E402
from dashboard.teach import after_page, before_page, presenter_from_url  # noqa: E402

st.set_page_config(
    page_title="Normalization, seen",
    page_icon=str(ICON),  # shipped with the app: a font host's icon fails offline
    layout="wide",
    initial_sidebar_state=sidebar_state(),  # collapsed in presenter mode; closed on a phone
)
page_css()

pages = [
    st.Page(str(v.path), title=v.title, icon=v.icon, url_path=v.url_path, default=(i == 0))
    for i, v in enumerate(ALL_VIEWS)
]
current = st.navigation(pages)
capture_link()  # the link the session was opened with, read once by the view it opens
keep_settings()  # app-wide switches survive page switches (a widget's state is dropped when not drawn)
presenter_from_url()
reset_chart_keys()
with turn():  # a few views drawn at once; a class's burst is served in order
    run_guarded(lambda: before_page(current.url_path))
    run_guarded(lambda: run_view(current))  # a lesson's open question stops the view before its charts
    run_guarded(lambda: after_page(current.url_path))
