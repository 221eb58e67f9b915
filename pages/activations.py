"""Activations: per-layer distributions over training, with and without normalization."""

import streamlit as st

from dashboard import frames, netcharts, netconfig, palette, pins, what_you_see
from dashboard import seeds as sd
from dashboard.charts import MAX_ROWS, RUN_LABELS
from dashboard.curves import curve_controls, smoothing_note
from dashboard.drawing import draw, export_view
from dashboard.playback import player
from dashboard.selections import ActivationsView, CurvesView
from dashboard.state import choice
from dashboard.style import chart_columns, intro

STAGE_LABELS = {
    "pre_norm": "before the norm",
    "post_norm": "after the norm",
    "pre_activation": "activation inputs",
    "post_activation": "activation outputs",
}

st.title("Activations")
intro(
    "**Watch the band of a deep layer's inputs** over training, with and without normalization: a band "
    "that moves as the layers below it change is what Ioffe and Szegedy called *internal covariate "
    "shift*. Then look down the depth of the network at one step, and at how much gradient reaches each layer."
)

state, config, view = netconfig.sidebar("activations")
pins.read_link(state)
with st.sidebar:
    act = state.config(ActivationsView)
    curves = state.config(CurvesView, fields=("smooth",))

runs = netconfig.page_runs(config, view)
kept = {}
if runs is not None:
    kept = pins.runs(config, tuple(sd.seed_values(runs)))  # pinned runs: beside the runs on screen
    with_pins, names = {**runs, **kept}, (*view.norms, *kept)
    n_seeds = sd.count(runs)
    of_seeds = f", median of {n_seeds} seeds" if n_seeds > 1 else ""
    depth = config.depth
    state.limit("layer", depth, f"the network has {depth} hidden layers")
    c1, c2, c3 = st.columns([1.8, 3, 2.4], vertical_alignment="bottom")
    c1.slider("Layer", 1, max(depth, 2), key="layer", disabled=depth < 2,
              help="1 is the first hidden layer; the deepest is nearest the output.")
    with c2:
        choice(ActivationsView, "stage", "Values", labels=STAGE_LABELS)
    with c3:  # the band's two buttons side by side, wrapping on a narrow screen
        buttons = st.container(horizontal=True, gap="xsmall", horizontal_alignment="right")
    curve_controls(buttons, curves, config.batch_size, fields=("smooth",))
    pins.controls(buttons, config, view.norms)
    layer, stage = st.session_state["layer"], st.session_state["stage"]

    smooth = curves.smoothing(config.batch_size)
    bands = frames.layer_bands(with_pins, layer, stage, smooth)
    draw(st, netcharts.percentile_bands(
        bands, runs=names, y_title=f"layer {layer}, {STAGE_LABELS[stage]}",
        title=f"Layer {layer}: 15th, 50th and 85th percentiles of the {STAGE_LABELS[stage]} over training"
              + of_seeds))

    st.subheader("Down the depth, at one step")
    at = player("hist_step", frames.recorded_steps(runs, "histograms"), label="Training step shown")
    cols = chart_columns(len(runs))
    picked = frames.histograms_at(runs, at, stage)
    top = max([float(sel["fraction"].max()) for _, sel in picked.values() if not sel.empty] or [1.0])
    extent = frames.histogram_extent(runs, stage)  # one x axis for every run (and every step)
    first = sd.first(runs)  # the histograms: one network's values, the first seed's
    for col, (norm, (rec, sel)) in zip(cols, picked.items(), strict=True):
        seed = f", seed {first[norm].config.seed}" if n_seeds > 1 else ""
        draw(col, netcharts.depth_histograms(sel, title=f"{RUN_LABELS[norm]} — step {rec:,}{seed}",
                                             x_title=STAGE_LABELS[stage], color_max=top, x_domain=extent))

    health = frames.health_at(with_pins, at)
    every = frames.health_all(with_pins)
    if len(every) < MAX_ROWS:  # one chart for every step: the browser picks the step shown
        per_layer, step_param, params = every, {"cursor": "hist_step"}, {"hist_step": at}
    else:  # a deep net recorded often: only the step shown
        per_layer, step_param, params = health, {}, None
    sat_name = "dead (relu: output 0)" if config.activation == "relu" else "saturated (slope < 10 % of max)"
    left, right = chart_columns(2)
    draw(left, netcharts.by_layer(per_layer, value="saturated", runs=names, y_domain=(0, 1),
                                  title=f"Share of units {sat_name}, per layer{of_seeds}", y_title="share",
                                  **step_param), params=params)
    draw(right, netcharts.by_layer(per_layer, value="grad_norm", runs=names, log_y=True,
                                   title=f"Gradient norm of each layer's weights (log scale{of_seeds})",
                                   y_title="‖∂loss/∂W‖", **step_param), params=params)

    st.subheader("Gradient norm over training")
    cols = chart_columns(len(runs))
    shared = frames.positive_range(runs, "layer_health", "grad_norm")
    for col, (norm, hists) in zip(cols, sd.as_seeds(runs).items(), strict=True):
        draw(col, netcharts.layer_step_heatmap(frames.health_median(hists), value="grad_norm", log_color=True,
                                               title=RUN_LABELS[norm] + of_seeds, legend_title="grad norm",
                                               domain=shared))
    st.caption("The heatmaps share one colour scale: the same colour means the same gradient norm."
               + (f" Each cell is the median over {n_seeds} seeds ({what_you_see.seed_span(runs)})."
                  if n_seeds > 1 else ""))

    st.subheader("What you see")
    seen = what_you_see.activations(first, layer=layer, stage=stage, step=at) if n_seeds == 1 else \
        what_you_see.activations_seeds(runs, layer=layer, stage=stage, step=at)
    st.markdown("\n".join(f"- {line}" for line in seen))
    smoothed = smoothing_note(curves, config.batch_size, "The band's percentiles are",
                              "the faint line behind each band is its raw median")
    st.caption("The band (top) is the middle 70 % of a layer's values over training (hover it for each run's "
               "median at a step); each row down the depth "
               "is one layer's histogram; the gradient norms show how much of the gradient reaches each layer."
               + (f" Curves and per-layer charts are medians over {n_seeds} seeds; the histograms show the first "
                  "seed's network." if n_seeds > 1 else "")
               + (f" {smoothed}" if smoothed else "")
               + (f" Pinned runs, drawn in the band and per-layer charts in their own colours and dashed: "
                  f"{', '.join(palette.label(k) for k in kept)}." if kept else ""))
state.write_url(pins.query())
export_view("activations", runs, configs=pins.export_configs(kept))
