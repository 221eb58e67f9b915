"""Why it works: four of the explanations offered for normalization (and Santurkar's noisy batch norm arm), measured on this network."""

import streamlit as st

from core import explain
from dashboard import cached, frames, netcharts, netconfig, teach, whycharts
from dashboard.charts import RUN_LABELS
from dashboard.curves import curve_controls, smoothing_note
from dashboard.drawing import draw, export_view
from dashboard.runs import get_seeded, seeded_variants
from dashboard.selections import CurvesView
from dashboard.style import chart_columns, intro
from dashboard.whyrun import bundle

st.title("Why it works")
intro(
    "**Normalization helps; the papers disagree about why.** Four of the explanations, measured on the "
    "network in the sidebar: each section says what its paper claimed, then what this network shows."
)

state, config, view = netconfig.sidebar("why")
with st.sidebar:
    curves = state.config(CurvesView)
LOSSES = ("loss", "loss_range")  # the curves the log switch sets; the others span decades: always log


def curve(col, df, value: str, **kw) -> None:
    """One of the page's curves over training, smoothed and scaled as the Curves button says."""
    log = curves.log_y or value not in LOSSES
    # every smoothing weight in the chart's data, the one shown picked by a param: moving the
    # smoothing sends the same chart with another value (8 charts: building them took 50-100 ms)
    draw(col, whycharts.over_training(frames.smoothing_levels(df, value, log), value=value, log_y=log,
                                      level=frames.LEVEL, **kw),
         params={frames.LEVEL: curves.smoothing(config.batch_size)})


seeds = netconfig.seeds_of(config, view)
# every run of the page: the view's, and the noisy arm's (no normalization, batch norm, noisy batch norm)
seeded = seeded_variants(config, tuple(dict.fromkeys((*view.norms, *whycharts.NOISY_ARM))), seeds)
runs = None
if "group" in view.norms and config.width % config.groups:
    netconfig.page_runs(config, view)  # says why group norm cannot run
elif netconfig.check_budget(config, sum(map(len, seeded.values()))):
    # One training for the whole page: the probed runs are the runs (the probe restores everything) and
    # go to the run store, where page_runs and get_seeded find them. The noisy arm is probed too: its
    # runs share the batch-norm runs' stack (one stack fewer to train); only the view's rows are kept.
    with st.spinner("Training and measuring the gradients along training…"):
        ics, land = cached.gradient_probe(tuple(c for cs in seeded.values() for c in cs), tuple(view.norms))
    runs = netconfig.page_runs(config, view)
if runs is not None:
    noisy = get_seeded(config, whycharts.NOISY_ARM, seeds)  # the probe trained them (the store has them)
    teach.measured(bundle({**runs, **noisy}, ics, land))  # the Why lessons judge the runs and their probes
    left, right = st.columns([3.5, 1.8], vertical_alignment="center")
    curve_controls(right, curves, config.batch_size)
    axis = "every chart on a log axis" if curves.log_y else \
        "the two loss charts on a linear axis, the others on a log axis"
    if smoothed := smoothing_note(curves, config.batch_size, "Curves over training",
                                  "faint behind: the raw curves"):
        # on a log axis an average of the values would hold a curve falling by decades up at its first ones
        left.caption(f"{smoothed} On a log axis the average is of the logarithms. Every verdict is measured "
                     f"on the raw values; {axis}. Hover a curve for every run's value at a step.")
    else:
        left.caption(f"Curves over training below: raw (the button smooths them); {axis}. Hover one for every "
                     "run's value at a step.")
    st.subheader("Internal covariate shift")
    st.markdown(
        "*The claims*: Ioffe and Szegedy (2015) named *internal covariate shift* — a layer's input "
        "distribution moving as the layers below it learn — and proposed batch norm to reduce it. Santurkar "
        "et al. (2018) measured it as the change of a layer's gradient when the layers below take their "
        "update, ‖G − G′‖ and cos(G, G′), and found that batch norm does not reduce it."
    )
    cols = chart_columns(2)
    ioffe = whycharts.ioffe_frame(runs)
    curve(cols[0], ioffe, "mean_shift", runs=view.norms,
          title="Ioffe: how far a layer's input mean moves between snapshots",
          y_title="|Δ mean| / std")
    shift = whycharts.ics_frame(ics)
    curve(cols[1], shift, "l2", runs=view.norms,
          title="Santurkar: ‖G − G′‖ when the layers below update",
          y_title="‖G − G′‖")
    lines = [whycharts.compare_sentence(ioffe, "mean_shift", "Input mean moved (Ioffe's notion)", "smaller"),
             whycharts.compare_sentence(shift, "l2", "Gradient changed, ‖G − G′‖ (Santurkar's notion)",
                                        "smaller"),
             whycharts.compare_sentence(shift, "cos", "cos(G, G′), 1 = the same direction", "less aligned")]
    st.markdown("\n".join(f"- {line}" for line in lines if line))
    st.caption(f"G′: layer i's gradient on the same batch after every layer below it took a step of the "
               f"learning rate along its own gradient; at {explain.PROBE_POINTS} snapshots of each run. Ioffe's "
               "notion from the values entering each layer's normalization (where it would be, without).")

    st.subheader("The landscape along the gradient")
    st.markdown(
        "*The claim* (Santurkar et al. 2018): batch norm makes the loss landscape smoother. Along the "
        "gradient, the loss changes less and the gradient stays more predictive, so larger steps are safe."
    )
    along = whycharts.landscape_frame(land)
    cols = chart_columns(2)
    curve(cols[0], along, "loss_range", runs=view.norms,
          title="Range of the loss at w − η·g, η from ¼ to 4 × the rate",
          y_title="loss range")
    curve(cols[1], along, "grad_change", runs=view.norms,
          title="Gradient predictiveness: largest ‖∇L(w − η·g) − ∇L(w)‖",
          y_title="gradient change")
    lines = [whycharts.compare_sentence(along, "loss_range", "Loss range along the gradient", "smoother"),
             whycharts.compare_sentence(along, "grad_change", "Gradient change along the gradient",
                                        "more predictive"),
             whycharts.compare_sentence(along, "beta", "Effective β-smoothness (largest gradient change per "
                                                       "unit moved)", "smoother")]
    st.markdown("\n".join(f"- {line}" for line in lines if line))
    st.caption("On each snapshot's training batch, in training mode; the network is restored after every "
               "probe, so the runs train exactly as on the other views. A small network need not agree with "
               "the paper's VGG: the verdicts above are this network's.")

    st.markdown(
        "*Noisy batch norm* (Santurkar et al. 2018, §2.1): if batch norm worked by keeping each layer's input "
        "distribution steady, unsteadying it on purpose should undo the benefit. After every batch norm, each "
        "unit's values are scaled by s ~ U(0.5, 1.5) and shifted by m ~ U(−1, 1), drawn afresh at every "
        "training step (none in evaluation mode). The paper found it trains about as well as batch norm."
    )
    cols = chart_columns(2)
    curve(cols[0], whycharts.val_loss_frame(noisy), "loss", runs=whycharts.NOISY_ARM,
          title="Validation loss: does the noisy network still train?",
          y_title="validation loss")
    curve(cols[1], whycharts.ioffe_frame(noisy), "mean_shift",
          runs=whycharts.NOISY_ARM,
          title="How far a layer's input mean moves between snapshots",
          y_title="|Δ mean| / std")
    if (line := whycharts.noisy_sentence(noisy)) is not None:
        st.markdown(f"- {line}")
    st.caption("Median over the seeds on screen. The input drift is Ioffe's notion of the first section, on the "
               "values entering each layer's normalization (the noise of the layer below has acted on them).")

    st.subheader("Scale invariance")
    st.markdown(
        "*The claim* (Ioffe and Szegedy 2015, §3.3): with batch norm after a layer, the output does not "
        "depend on the scale of that layer's weights, BN(*a*·*W* *u*) = BN(*W* *u*), so larger weights get "
        "smaller gradients and the effective learning rate lr/‖W‖² falls on its own as ‖W‖ grows."
    )
    st.caption("Each hidden layer's weights multiplied by a factor, one layer at a time, in this network at "
               "step 0 (the first seed's network and first batch; the biases start at 0, so the layer's whole output "
               "scales); each dot is the largest change of the network's output, ‖out′ − out‖ / ‖out‖, over "
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

    eff = whycharts.effective_of(runs)
    if not eff.empty:
        cols = chart_columns(2)
        curve(cols[0], eff, "effective_lr", runs=view.norms,
              title="lr / ‖W‖² over training (median layer)",
              y_title="lr / ‖W‖²")
        curve(cols[1], eff, "update_ratio", runs=view.norms,
              title="Measured update ‖ΔW‖ / ‖W‖ (median layer)",
              y_title="‖ΔW‖ / ‖W‖")
        st.markdown("\n".join(f"- {line}" for line in whycharts.effective_sentences(eff)))

    st.subheader("Signal propagation at initialisation")
    st.markdown(
        "*The claim* (Brock, De and Smith 2021): what a normalization buys is how the signal travels "
        "through depth at initialisation: without it, the units' means drift away from 0 and the "
        "variance grows or shrinks layer after layer; with it, both stay put."
    )
    sig = whycharts.signal_frame(cached.signal_propagation(config, netconfig.seeds_of(config, view)))
    shown = list(dict.fromkeys(sig["run"]))
    cols = chart_columns(2)
    draw(cols[0], netcharts.by_layer(sig, value="sq_mean", runs=shown, log_y=True,
                                     title="Squared mean of the units' pre-activations",
                                     y_title="(unit mean)², mean over units", height=320))
    draw(cols[1], netcharts.by_layer(sig, value="mean_var", runs=shown, log_y=True,
                                     title="Variance of the units' pre-activations",
                                     y_title="unit variance, mean", height=320))
    st.caption("At step 0, on the run's first training batch, in training mode (batch norm uses the batch's "
               "statistics). Lines that stay flat: the signal keeps its scale down the depth.")
    lines = list(whycharts.signal_sentences(sig))
    flat = {n: whycharts.drift(sig, n) for n in shown}
    if "none" in flat and len(flat) > 1:
        best = min((n for n in flat if n != "none"), key=flat.get)
        lines.append(f"Down the depth the variance moved by {flat['none']:.3g}× without normalization and by "
                     f"{flat[best]:.3g}× with {RUN_LABELS[best]} (the flattest).")
    st.markdown("\n".join(f"- {line}" for line in lines))
state.write_url()
export_view("why", runs)
