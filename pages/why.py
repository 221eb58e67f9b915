"""Why it works: two of the explanations offered for normalization, measured on this network."""

import streamlit as st

from core import explain
from dashboard import cached, netcharts, netconfig, whycharts
from dashboard.charts import RUN_LABELS
from dashboard.style import chart_columns, intro
from dashboard.views import draw, export_view

st.title("Why it works")
intro(
    "**Normalization helps; the papers disagree about why.** Two of the explanations, measured on the "
    "network in the sidebar: each section says what its paper claimed, then what this network shows."
)

state, config, view = netconfig.sidebar("why")
runs = netconfig.page_runs(config, view)
if runs is not None:
    st.subheader("Scale invariance")
    st.markdown(
        "*The claim* (Ioffe and Szegedy 2015, §3.3): with batch norm after a layer, the output does not "
        "depend on the scale of that layer's weights, BN(*a*·*W* *u*) = BN(*W* *u*), so larger weights get "
        "smaller gradients and the effective learning rate lr/‖W‖² falls on its own as ‖W‖ grows."
    )
    st.caption("Each hidden layer's weights multiplied by a factor, one layer at a time, in this network at "
               "step 0 (its own seed and first batch; the biases start at 0, so the layer's whole output "
               "scales); each bar is the largest change of the network's output, ‖out′ − out‖ / ‖out‖, over "
               f"the layers. Dashed: 1 %. Every normalization {config.norm_position} the {config.activation}.")
    worst = whycharts.worst_change(cached.scale_invariance(config))
    norms = list(dict.fromkeys(worst["run"]))
    positive = worst.loc[worst["change"] > 0, "change"]
    extent = (float(positive.min()) / 2, max(float(positive.max()) * 2, 0.02)) if len(positive) else None
    cols = chart_columns(len(explain.SCALE_FACTORS))
    for col, factor in zip(cols, explain.SCALE_FACTORS, strict=True):
        draw(col, whycharts.invariance_bars(worst[worst["factor"] == factor], runs=norms, x_domain=extent,
                                            title=f"Every layer's weights × {factor:g}, one at a time"))
    lines = [whycharts.invariance_sentences(worst, f) for f in explain.SCALE_FACTORS]
    if whycharts.eps_shows(worst):
        lines.append("Invariant when the weights grow, not when they shrink: a normalization divides by "
                     "sqrt(variance + ε), and with weights 10× smaller the variance is 100× smaller, so "
                     "ε (10⁻⁵) is no longer negligible beside it.")
    st.markdown("\n".join(f"- {line}" for line in lines))

    eff = whycharts.effective_frame({n: explain.effective_lr(h) for n, h in runs.items()})
    if not eff.empty:
        cols = chart_columns(2)
        draw(cols[0], whycharts.over_training(eff, value="effective_lr", runs=view.norms,
                                             title="lr / ‖W‖² over training (median layer)",
                                             y_title="lr / ‖W‖² (log scale)"))
        draw(cols[1], whycharts.over_training(eff, value="update_ratio", runs=view.norms,
                                             title="Measured update ‖ΔW‖ / ‖W‖ (median layer)",
                                             y_title="‖ΔW‖ / ‖W‖ (log scale)"))
        st.markdown("\n".join(f"- {line}" for line in whycharts.effective_sentences(eff)))

    st.subheader("Signal propagation at initialisation")
    st.markdown(
        "*The claim* (Brock, De and Smith 2021): what a normalization buys is how the signal travels "
        "through depth at initialisation: without it, the units' means drift away from 0 and the "
        "variance grows or shrinks layer after layer; with it, both stay put."
    )
    sig = whycharts.signal_frame(cached.signal_propagation(config))
    shown = list(dict.fromkeys(sig["run"]))
    cols = chart_columns(2)
    draw(cols[0], netcharts.by_layer(sig, value="sq_mean", runs=shown, log_y=True,
                                     title="Squared mean of the units' pre-activations",
                                     y_title="mean over units of (unit mean)² (log)", height=320))
    draw(cols[1], netcharts.by_layer(sig, value="mean_var", runs=shown, log_y=True,
                                     title="Variance of the units' pre-activations",
                                     y_title="mean over units of the unit variance (log)", height=320))
    st.caption("At step 0, on the run's first training batch, in training mode (batch norm uses the batch's "
               "statistics). Lines that stay flat: the signal keeps its scale down the depth.")
    lines = whycharts.signal_sentences(sig)
    flat = {n: whycharts.drift(sig, n) for n in shown}
    if "none" in flat and len(flat) > 1:
        best = min((n for n in flat if n != "none"), key=flat.get)
        lines.append(f"Down the depth the variance moved by {flat['none']:.3g}× without normalization and by "
                     f"{flat[best]:.3g}× with {RUN_LABELS[best]} (the flattest).")
    st.markdown("\n".join(f"- {line}" for line in lines))
state.write_url()
export_view("why", runs)
