"""Training: loss and accuracy with and without normalization, and the decision boundary."""

import numpy as np
import streamlit as st

from core.training import TrainConfig
from dashboard import netcharts, netconfig, palette, pins, what_you_see
from dashboard import seeds as sd
from dashboard.charts import RUN_COLORS, RUN_LABELS
from dashboard.curves import curve_controls, smoothing_note
from dashboard.drawing import boundary_note, boundary_title, draw, export_view
from dashboard.frames import boundary_frames, boundary_step, metric_frame, recorded_steps
from dashboard.playback import player
from dashboard.selections import CurvesView, TrainingView
from dashboard.style import chart_columns, intro

st.title("Training")
DEFAULT = TrainConfig()
intro(
    "**Compare the curves of the same network with and without normalization** — same data, same "
    f"seed, same initial weights. The default settings are the first lesson: a {DEFAULT.depth}-layer "
    f"{DEFAULT.activation} network, with and without batch norm."
)

state, config, view = netconfig.sidebar("training")
pins.read_link(state)
with st.sidebar:
    state.config(TrainingView)
    curves = state.config(CurvesView)
runs = netconfig.page_runs(config, view, boundary=True)  # the first seed's runs draw their boundary
kept = {}
if runs is not None:
    kept = pins.runs(config, tuple(sd.seed_values(runs)))  # pinned runs: beside the runs on screen
    with_pins, names = {**runs, **kept}, (*view.norms, *kept)
    recorded = recorded_steps(with_pins, "metrics")

    def controls(row):
        curve_controls(row, curves, config.batch_size)
        pins.controls(row, config, view.norms)

    upto = player("train_step", recorded, label="Show training up to step", extra=controls)
    smooth = curves.smoothing(config.batch_size)

    first = sd.first(runs)  # the decision boundaries: one run's picture, the first seed's
    n_seeds = sd.count(runs)
    is_class = all(h.task == "classification" for h in first.values())
    span = (0, max(recorded))
    grids = boundary_frames(first, upto)
    # the loss beside the decision boundaries, one row: a class watches the boundary form as the loss falls
    top = st.columns([3] + [2] * len(grids)) if grids else chart_columns(2)
    upto_param = {"train_step": upto}  # the curves stop at the player's step (drawn by the browser)
    diverged = what_you_see.curve_ends(with_pins)
    loss = metric_frame(with_pins, "loss", smooth)
    one = next(iter(first.values()))
    chance = float(np.log(one.n_classes)) if is_class and one.n_classes > 1 else None
    draw(top[0], netcharts.metric_curves(loss, metric="loss", runs=names, log_y=curves.log_y,
                                         title="Loss (solid: training batches, dashed: validation)",
                                         x_domain=span, cursor="train_step", diverged=diverged,
                                         seeds=n_seeds, chance=chance),
         params=upto_param, legends=2)  # the runs' above the curves, training and validation below
    shown = {norm: boundary_step(first[norm], upto) for norm in grids}
    for col, (norm, (grid, points)) in zip(top[1:], grids.items(), strict=False):
        # the run's name; a run whose boundary is not at the player's step (it diverged) says which
        title = RUN_LABELS[norm] if shown[norm] == upto else boundary_title(first[norm], shown[norm])
        # which seed, where the title has room (three abreast, the caption below says it)
        title = f"{title}, seed {first[norm].config.seed}" if n_seeds > 1 and len(grids) < 3 else title
        draw(col, netcharts.decision_boundary(grid, points, title=title, color=RUN_COLORS[norm]))
    below = chart_columns(2, [3, 2 * len(grids)]) if grids else top[1:]
    if grids:
        below[1].caption(f"Decision boundaries (above) at step {upto:,}: the network's probability of class 1 "
                         "at each point of the plane (orange = 1, blue = 0); dots: the data. A run that learned "
                         "draws a boundary that follows the data. "
                         + (f"Each boundary is one network's: the first of the {n_seeds} seeds (seed "
                            f"{next(iter(first.values())).config.seed}). " if n_seeds > 1 else "")
                         + " ".join(boundary_note(first[n], shown[n]) for n in grids if shown[n] != upto))
    acc = metric_frame(with_pins, "accuracy", smooth)
    if is_class and not acc.empty:
        draw(below[0], netcharts.metric_curves(acc, metric="accuracy", runs=names, log_y=False,
                                               title="Accuracy (solid: training, dashed: validation)",
                                               x_domain=span, cursor="train_step", diverged=diverged,
                                               seeds=n_seeds),
             params=upto_param, legends=2)
    else:
        below[0].info("This is a regression data set: the loss (mean squared error) is the measure.")
    notes = []
    if n_seeds > 1:
        notes.append(f"Each curve is the median over {n_seeds} seeds ({what_you_see.seed_span(runs)}); the shaded "
                     "band around it runs from the lowest seed to the highest at each step (fainter for the "
                     "training batches).")
    if smooth > 0:
        notes.append(smoothing_note(curves, config.batch_size, "Curves", "the raw curves are the faint lines behind"))
    if kept:
        notes.append(f"Pinned runs (kept with the pin button above, in their own colours and markers, their "
                     "training curves dotted and validation dash-dotted): "
                     f"{', '.join(palette.label(k) for k in kept)}; each is named by what differs from the "
                     "settings now.")
    notes.append("Hover the loss or accuracy chart for every curve's value at a step."
                 + (" Dotted line: the loss of guessing." if chance is not None else ""))
    # beside the accuracy curves (under the boundaries' caption), else under the curves
    (below[1] if grids else st).caption(" ".join(notes))

    st.subheader("What you see")
    lines = what_you_see.training(first) if n_seeds == 1 else what_you_see.training_seeds(runs)
    st.markdown("\n".join(f"- {line}" for line in lines))
state.write_url(pins.query())
export_view("training", runs, configs=pins.export_configs(kept))
