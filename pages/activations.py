"""Activations: per-layer distributions over training, with and without normalization."""

import streamlit as st

from core.views import ActivationsView
from dashboard import netcharts, netconfig, views
from dashboard.charts import MAX_ROWS, RUN_LABELS
from dashboard.playback import player
from dashboard.state import choice
from dashboard.style import chart_columns
from dashboard.views import draw

STAGE_LABELS = {
    "pre_norm": "before the norm",
    "post_norm": "after the norm",
    "pre_activation": "activation inputs",
    "post_activation": "activation outputs",
}

st.title("Activations")
st.markdown(
    "**Watch the band of a deep layer's inputs.** Without normalization it drifts and widens as the "
    "layers below it change (Ioffe and Szegedy's *internal covariate shift*) and pushes a sigmoid into "
    "its flat tails; with batch norm it stays put. Then look down the depth of the network at one step."
)

state, config, view = netconfig.sidebar("activations")
with st.sidebar:
    act = state.config(ActivationsView)

runs = netconfig.page_runs(config, view)
if runs is not None:
    depth = config.depth
    if st.session_state["layer"] > depth:
        st.session_state["layer"] = depth
    c1, c2 = st.columns([1, 2])
    c1.slider("Layer", 1, max(depth, 2), key="layer", disabled=depth < 2,
              help="1 is the first hidden layer; the deepest is nearest the output.")
    with c2:
        choice(ActivationsView, "stage", "Values", labels=STAGE_LABELS)
    layer, stage = st.session_state["layer"], st.session_state["stage"]

    bands = views.layer_bands(runs, layer, stage)
    draw(st, netcharts.percentile_bands(
        bands, runs=view.norms, y_title=f"layer {layer}, {STAGE_LABELS[stage]}",
        title=f"Layer {layer}: 15th, 50th and 85th percentiles of the {STAGE_LABELS[stage]} over training"))

    st.subheader("Down the depth, at one step")
    at = player("hist_step", views.recorded_steps(runs, "histograms"), label="Training step shown")
    cols = chart_columns(len(runs))
    picked = views.histograms_at(runs, at, stage)
    top = max([float(sel["fraction"].max()) for _, sel in picked.values() if not sel.empty] or [1.0])
    extent = views.histogram_extent(runs, stage)  # one x axis for every run (and every step)
    for col, (norm, (rec, sel)) in zip(cols, picked.items(), strict=True):
        draw(col, netcharts.depth_histograms(sel, title=f"{RUN_LABELS[norm]} — step {rec:,}",
                                             x_title=STAGE_LABELS[stage], color_max=top, x_domain=extent))

    health = views.health_at(runs, at)
    every = views.health_all(runs)
    if len(every) < MAX_ROWS:  # one chart for every step: the browser picks the step shown
        per_layer, step_param, params = every, {"cursor": "hist_step"}, {"hist_step": at}
    else:  # a deep net recorded often: only the step shown
        per_layer, step_param, params = health, {}, None
    sat_name = "dead (relu: output 0)" if config.activation == "relu" else "saturated (slope < 10 % of max)"
    left, right = chart_columns(2)
    draw(left, netcharts.by_layer(per_layer, value="saturated", runs=view.norms, y_domain=(0, 1),
                                  title=f"Share of units {sat_name}, per layer", y_title="share",
                                  **step_param), params=params)
    draw(right, netcharts.by_layer(per_layer, value="grad_norm", runs=view.norms, log_y=True,
                                   title="Gradient norm of each layer's weights (log scale)",
                                   y_title="‖∂loss/∂W‖", **step_param), params=params)

    st.subheader("Gradient norm over training")
    cols = chart_columns(len(runs))
    shared = views.positive_range(runs, "layer_health", "grad_norm")
    for col, (norm, hist) in zip(cols, runs.items(), strict=True):
        draw(col, netcharts.layer_step_heatmap(hist.layer_health, value="grad_norm", log_color=True,
                                               title=RUN_LABELS[norm], legend_title="grad norm",
                                               domain=shared))
    st.caption("Both heatmaps share one colour scale: the same colour means the same gradient norm.")

    st.subheader("What you see")
    facts = []
    for norm in runs:
        h = health[health["run"] == norm].sort_values("layer")
        if len(h) >= 2 and h["grad_norm"].iloc[0] > 0:
            ratio = h["grad_norm"].iloc[-1] / h["grad_norm"].iloc[0]
            size = f"**{ratio:,.3g}×** smaller" if ratio >= 1 else f"**{1 / ratio:,.3g}×** larger"
            facts.append(f"with **{RUN_LABELS[norm]}** the gradient reaching layer 1 is "
                         f"{size} than at layer {depth}, and "
                         f"{h['saturated'].mean():.0%} of units are {sat_name.split(' (')[0]}")
    if facts:
        st.markdown(f"At step {at:,}: " + "; ".join(facts) + ".")
    st.markdown(
        "- **The band** (top): the middle 70 % of a layer's values over training. A band that wanders or "
        "blows up means every layer above it is chasing a moving target.\n"
        "- **Down the depth**: each row is one layer's histogram. Without normalization the spread "
        "changes from layer to layer; with batch norm every layer starts from the same spread.\n"
        "- **Gradient norms**: where a curve falls by orders of magnitude towards layer 1, the gradient "
        "vanishes on its way back (a sigmoid's slope is at most 0.25, so ten layers can shrink it a "
        "millionfold) and the first layers stop learning; a curve that rises means it explodes."
    )
state.write_url()
