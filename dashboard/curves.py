"""The controls of how the training curves are drawn: smoothing and the loss axis's scale.

They only change the drawing of recorded runs (never retrain) and live in the URL like every
setting (``smooth=0.9``, ``log_y=0``); a lesson link can hide them (``hide=smooth,log_y``).
"""

from __future__ import annotations

from dashboard import state
from dashboard.selections import SMOOTHING, TrainingView


def _smooth_label(value: str) -> str:
    return {"auto": "auto", "0": "off"}.get(value, value)


def curve_controls(container, view: TrainingView, batch_size: int) -> None:
    """A "Curves" button (in ``container``: the player's row) opening the two controls; its label
    says what is set."""
    if state.is_hidden("smooth") and state.is_hidden("log_y"):
        state.drawn("smooth", "Smoothing")
        state.drawn("log_y", "Log scale for the loss")
        return
    weight = view.smoothing(batch_size)
    summary = (f"Smoothed {weight:g}" if weight > 0 else "Raw") + (" · log" if view.log_y else " · linear")
    with container.popover(summary, icon=":material/tune:",
                           help="How the curves are drawn: smoothing, and a log or linear loss axis"):
        state.select_slider(TrainingView, "smooth", "Smoothing", SMOOTHING, format_func=_smooth_label)
        state.toggle(TrainingView, "log_y", "Log scale for the loss")
