"""γ and β: what the normalization layers learn, and train mode against eval mode."""

import streamlit as st

from dashboard import frames, netcharts, netconfig, what_you_see
from dashboard import seeds as sd
from dashboard.charts import RUN_COLORS, RUN_LABELS
from dashboard.curves import curve_controls, smoothing_note
from dashboard.drawing import draw, export_view
from dashboard.frames import mode_frames
from dashboard.selections import CurvesView, NormParamsView
from dashboard.style import chart_columns, intro

st.title("γ and β")
intro(
    "**See what each normalization layer learns.** After standardizing (step 2) a layer multiplies by "
    "γ and adds β (step 3). They start at 1 and 0; where they move away, the network chooses the scale "
    "and offset it wants rather than the one the data happened to have."
)

state, config, view = netconfig.sidebar("gamma-beta")
with st.sidebar:
    state.config(NormParamsView)
    curves = state.config(CurvesView, fields=("smooth",))

runs = netconfig.page_runs(config, view)
if runs is not None:
    n_seeds = sd.count(runs)
    seeded = {n: hs for n, hs in sd.as_seeds(runs).items() if n != "none" and not hs[0].norm_params.empty}
    normed = {n: hs[0] for n, hs in seeded.items()}  # one network's γ and β: the first seed's
    if not normed:
        st.info(
            "**There is nothing to show without normalization**: a network without batch or layer norm has "
            "no γ and β. Choose a normalized run to compare against in the sidebar (*Compare*).",
            icon=":material/info:",
        )
        if st.button("Compare with batch norm"):
            st.session_state["compare"] = "batch"
            st.rerun()
    else:
        depth = config.depth
        state.limit("norm_layer", depth, f"the network has {depth} normalization layers")
        left, right = st.columns([4, 1.4], vertical_alignment="bottom")
        left.slider("Normalization layer", 1, max(depth, 2), key="norm_layer", disabled=depth < 2,
                    help="1 normalizes the first hidden layer.")
        curve_controls(right, curves, config.batch_size, fields=("smooth",))
        smooth = curves.smoothing(config.batch_size)
        layer = st.session_state["norm_layer"]
        for norm, hist in normed.items():
            name = RUN_LABELS[norm]
            seed = f", seed {hist.config.seed} (the first of {n_seeds})" if n_seeds > 1 else ""
            st.subheader(f"{name[0].upper() + name[1:]} — layer {layer}{seed}")
            layer_frames = frames.norm_layer_frames(hist, layer)
            shown = layer_frames["units"]
            learned = ("gamma",) if norm == "rms" else ("gamma", "beta")  # RMS norm scales, never shifts
            cols = chart_columns(2)
            if norm == "rms":
                cols[1].info("RMS norm has no β: it divides by the root mean square and scales by γ, "
                             "without centring or shifting.", icon=":material/info:")
            for col, p in zip(cols, learned, strict=False):
                b, u = frames.smoothed_param(*layer_frames[p], smooth)
                sym = "γ" if p == "gamma" else "β"
                draw(col, netcharts.param_band(b, u, param=sym, color=RUN_COLORS[norm],
                                               title=f"{sym} over training: all units (bands), "
                                                     f"{len(shown)} single units (lines)"))
            smoothed = smoothing_note(curves, config.batch_size, "γ and β are",
                                      "the faint line is the raw median")
            st.caption("Dark band: the middle half of the units (25th–75th percentile); light band: 5th–95th; "
                       "thick line: the median unit; thin grey lines: single units." + (f" {smoothed}" if smoothed else ""))
            if norm == "batch" and "mean" in layer_frames:
                cols = chart_columns(2)
                for col, stat in zip(cols, ("mean", "variance"), strict=True):
                    draw(col, netcharts.running_vs_batch(
                        layer_frames[stat], stat=stat, title=f"Batch {stat} (each batch) against the running {stat}"))
                st.caption("Light: the statistic of each training batch; dark: batch norm's running average "
                           "of it. Solid and dashed lines are two different units.")
                # at step 0 γ = 1 and β = 0: the layer's output is the standardized value itself
                rec, first = frames.histograms_at({norm: hist}, 0, "post_norm")[norm]
                draw(st, netcharts.depth_histograms(
                    first, title=f"Batch norm's standardized values x̂ at step {rec:,} (γ = 1, β = 0), every layer",
                    x_title="x̂ = (x − batch mean) / batch std, on the first batch"))
        st.subheader("Training mode against evaluation mode")
        st.markdown(
            "In training, batch norm standardizes with each batch's own statistics; in evaluation it uses "
            "the running averages instead, so one sample's output no longer depends on the rest of its batch. "
            "Layer norm normalizes each sample on its own, so it behaves the same in both modes."
        )
        summary, per_layer = mode_frames(seeded if n_seeds > 1 else normed)
        if not summary.empty:
            st.dataframe(summary, width="stretch", hide_index=True)
            if n_seeds > 1:
                st.caption(f"Each number is the median over {n_seeds} seeds ({what_you_see.seed_span(runs)}), "
                           "as is each bar below.")
        for norm, df in per_layer.items():
            draw(st, netcharts.mode_bars(df, value="std", y_title="std of the layer's output",
                                         title=f"{RUN_LABELS[norm].capitalize()}: spread of each layer's "
                                               "output on the validation set, train mode against eval mode"))

    st.subheader("What you see")
    seen = what_you_see.norm_params(sd.first(runs)) if n_seeds == 1 else what_you_see.norm_params_seeds(runs)
    st.markdown("\n".join(f"- {line}" for line in seen) if seen else
                "Nothing to measure here: none of the runs on screen has a normalization layer.")
state.write_url()
export_view("gamma-beta", runs)
