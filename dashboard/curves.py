"""The controls of how the curves over training are drawn: smoothing and the loss axis's scale.

One setting for the network views (``selections.CurvesView``): Training smooths its loss and
accuracy, Activations its percentile bands, Why it works its curves over training, and the log
switch sets the loss axes. They only change the drawing of recorded runs (never retrain) and live
in the URL like every setting (``smooth=0.9``, ``log_y=0``); a lesson link can hide them
(``hide=smooth,log_y``).
"""

from __future__ import annotations

from dashboard import state
from dashboard.selections import SMOOTHING, CurvesView

LABELS = {"smooth": "Smoothing", "log_y": "Log scale for the loss"}


def _smooth_label(value: str) -> str:
    return {"auto": "auto", "0": "off"}.get(value, value)


def curve_controls(container, view: CurvesView, batch_size: int, *, fields=("smooth", "log_y")) -> None:
    """A button (in ``container``) opening the view's curve controls (``fields``); its label says
    what is set."""
    if all(state.is_hidden(f) for f in fields):
        for f in fields:
            state.drawn(f, LABELS[f])
        return
    weight = view.smoothing(batch_size)
    summary = f"Smoothed {weight:g}" if weight > 0 else "Raw"
    if "log_y" in fields:
        summary += " · log" if view.log_y else " · linear"
    with container.popover(summary, icon=":material/tune:",
                           help="How the curves are drawn: smoothing"
                                + (", and a log or linear loss axis" if "log_y" in fields else "")):
        if "smooth" in fields:
            state.select_slider(CurvesView, "smooth", LABELS["smooth"], SMOOTHING, format_func=_smooth_label)
        if "log_y" in fields:
            state.toggle(CurvesView, "log_y", LABELS["log_y"])


def smoothing_note(view: CurvesView, batch_size: int, what: str, behind: str) -> str:
    """The caption's sentence on the smoothing (empty when the curves are raw): ``what`` is smoothed,
    ``behind`` says what the faint lines are."""
    weight = view.smoothing(batch_size)
    if weight <= 0:
        return ""
    auto = f", on by default for batches of {batch_size}" if view.smooth == "auto" else ""
    return f"{what} smoothed with weight {weight:g} (TensorBoard's debiased moving average{auto}); {behind}."
