"""Training: loss and accuracy with and without normalization, and the decision boundary."""

import streamlit as st

from core.views import TrainingView
from dashboard import netcharts, netconfig
from dashboard.charts import RUN_COLORS, RUN_LABELS
from dashboard.playback import player
from dashboard.style import chart_columns
from dashboard.views import boundary_frames, draw, metric_frame, recorded_steps

st.title("Training")
st.markdown(
    "**Compare the curves of the same network with and without normalization** — same data, same "
    "seed, same initial weights. The default is the lesson: a 10-layer sigmoid network barely learns "
    "on its own and learns quickly with batch norm."
)

state, config, view = netconfig.sidebar("training")
with st.sidebar:
    state.config(TrainingView)
runs = netconfig.page_runs(config, view)
if runs is not None:
    recorded = recorded_steps(runs, "metrics")
    upto = player("train_step", recorded, label="Show training up to step")

    is_class = all(h.task == "classification" for h in runs.values())
    span = (0, max(recorded))
    grids = boundary_frames(runs, upto)
    # the loss beside the decision boundaries, one row: a class watches the boundary form as the loss falls
    top = st.columns([3] + [2] * len(grids)) if grids else chart_columns(2)
    upto_param = {"train_step": upto}  # the curves stop at the player's step (drawn by the browser)
    loss = metric_frame(runs, "loss")
    draw(top[0], netcharts.metric_curves(loss, metric="loss", runs=view.norms, log_y=True,
                                         title="Loss (solid: training batches, dashed: validation)",
                                         x_domain=span, cursor="train_step",
                                         diverged={n: h.diverged_at for n, h in runs.items() if h.diverged}),
         params=upto_param)
    for col, (norm, (grid, points)) in zip(top[1:], grids.items(), strict=False):
        draw(col, netcharts.decision_boundary(grid, points, title=RUN_LABELS[norm], color=RUN_COLORS[norm]))
    below = chart_columns(2, [3, 2 * len(grids)]) if grids else top[1:]
    if grids:
        below[1].caption(f"Decision boundaries (above) at step {upto:,}: the network's probability of class 1 "
                         "at each point of the plane (orange = 1, blue = 0); dots: the data. A run that learned "
                         "draws a boundary that follows the data.")
    acc = metric_frame(runs, "accuracy")
    if is_class and not acc.empty:
        draw(below[0], netcharts.metric_curves(acc, metric="accuracy", runs=view.norms, log_y=False,
                                               title="Accuracy (solid: training, dashed: validation)",
                                               x_domain=span, cursor="train_step"), params=upto_param)
    else:
        below[0].info("This is a regression data set: the loss (mean squared error) is the measure.")

    st.subheader("What you see")
    final = {n: h.metrics[h.metrics["split"] == "val"].tail(1) for n, h in runs.items()}
    lines = []
    for n, last in final.items():
        if last.empty:
            continue
        row = last.iloc[0]
        acc_txt = f", validation accuracy {row['accuracy']:.0%}" if is_class and "accuracy" in row else ""
        lines.append(f"- **{RUN_LABELS[n]}**: final validation loss {row['loss']:.3g}{acc_txt}"
                     + (f" — diverged at step {runs[n].diverged_at:,}" if runs[n].diverged else ""))
    st.markdown("\n".join(lines))
    st.markdown(
        "Without normalization, each layer's inputs drift with every update of the layers below; with a "
        "saturating activation (sigmoid, tanh) deep layers slide into its flat tails and the gradient "
        "reaching the first layers all but vanishes (see **Activations**). Batch norm re-centres and "
        "re-scales every layer's inputs on every batch, keeping them where the activation is steep, and "
        "lets γ and β choose the scale (see **γ and β**). Press play to watch the boundary form."
    )
state.write_url()
