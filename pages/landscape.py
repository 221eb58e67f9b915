"""Loss landscape: the article's valley (raw features) against its bowl (standardized)."""

import dataclasses
import functools

import numpy as np
import streamlit as st

from core.experiment import LandscapeConfig, run_landscape
from dashboard import cached, charts, exports, teach, upload
from dashboard.playback import player
from dashboard.safe import literal
from dashboard.state import PageState, select_slider, slider, toggle
from dashboard.style import chart_columns, intro, presenter_on
from dashboard.views import draw, export_view

SURFACE_SIZE = {False: 270, True: 320}  # px, square: presenter mode has the whole width for two
LR_SCALES = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99, 1.0, 1.01, 1.05, 1.2, 1.5, 2.0)
STEP_CHOICES = (10, 30, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000)

def short(name: str, limit: int = 24) -> str:
    """A column name for a chart's axis title (Vega-Lite draws it as text)."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


st.title("Loss landscape")
intro(
    "**Look at the shape of the two surfaces.** With raw features the loss is a long, narrow valley "
    "and gradient descent zig-zags and crawls; after standardization it is a round bowl and descent "
    "walks straight to the bottom."
)

state = PageState("landscape")
with st.sidebar:
    st.header("Descent")
    cfg = state.config(LandscapeConfig, options={"lr_scale": LR_SCALES, "steps": STEP_CHOICES})
    select_slider(LandscapeConfig, "lr_scale", "Learning rate (× largest stable rate)", LR_SCALES,
                  format_func=lambda v: f"{v:g}×")
    select_slider(LandscapeConfig, "steps", "Steps", STEP_CHOICES, format_func=lambda v: f"{v:,}")
    slider(LandscapeConfig, "w0_a", "Start: weight of A", step=0.5)
    slider(LandscapeConfig, "w0_b", "Start: weight of B", step=0.5)
    toggle(LandscapeConfig, "fit_intercept", "Fit a bias (intercept)")
    with st.expander("Data: the article's, or your own CSV", expanded=upload.table() is not None):
        chosen = upload.data_section("landscape", two_features=True)
        if chosen is not None:
            st.caption("The article's data settings below apply to its data only.")
        article = chosen is not None
        slider(LandscapeConfig, "n_samples", "Samples", step=10, disabled=article)
        slider(LandscapeConfig, "noise", "Noise (std)", step=0.1, disabled=article)
        st.number_input("Data seed", min_value=0, max_value=2**31 - 1, step=1, key="data_seed",
                        help="default_rng seed; 42 is the article's.", disabled=article)

if chosen is None:
    result = cached.landscape(cfg)
    teach.measured(result)  # a lesson's verdict is measured on the article's data only
    feature_a, feature_b = "A", "B"
else:
    run_cfg = dataclasses.replace(cfg, at_step=LandscapeConfig.at_step)  # the scrubber reruns nothing
    result = upload.memo("landscape", (run_cfg, chosen.key), lambda: run_landscape(run_cfg, chosen.dataset))
    feature_a, feature_b = (short(n) for n in chosen.dataset.feature_names)
    upload.show_notice(chosen)
raw, std_run = result.runs["raw"], result.runs["standardized"]

# scrub along the path (or play it): the choices are the recorded steps, the same for both runs
steps_recorded = sorted(set(raw.path["step"]).union(std_run.path["step"]))
at_step = player("at_step", steps_recorded, label="Scrub along the path: show the descent up to step")


def uploaded_spread(names, spread, k_raw: float, k_std: float) -> str:
    """The first "What you see" line for an uploaded file: its spreads and condition numbers, measured."""
    big, small = (1, 0) if spread[1] >= spread[0] else (0, 1)
    shape = ("so your data makes a valley too: the loss changes "
             f"{np.sqrt(k_raw / k_std):,.0f}× faster in one direction than in the other"
             if k_raw > 10 * k_std else
             "yet the raw surface is within 10× of the standardized one's condition number: these columns "
             "make no long valley")
    return (f"{literal(names[big], 24)}'s spread (std) is {spread[big] / spread[small]:,.1f} times "
            f"{literal(names[small], 24)}'s; the Hessian's **condition number is {k_raw:,.0f}** for raw features "
            f"and **{k_std:,.2f}** after standardization, {shape}.")


def _steps_text(run) -> str:
    if run.diverged_at is not None:
        return f"diverged at step {run.diverged_at:,}"
    if run.steps_to_1pct is None:
        if run.lr < run.max_stable_lr:  # stable, but slower than steps_to_within looks (a steep valley)
            return "more than 10,000,000"
        return "never (at the limit it oscillates)" if run.lr == run.max_stable_lr else "never (unstable rate)"
    return f"{run.steps_to_1pct:,}"


for run, label in ((raw, "raw features"), (std_run, "standardized features")):
    if run.diverged_at is not None:
        st.error(
            f"**Gradient descent on {label} diverged at step {run.diverged_at:,}.** "
            f"The learning rate {run.lr:.3g} is above the largest stable rate "
            f"2/λ_max = {run.max_stable_lr:.3g}: each step overshoots the valley floor by more than the "
            "last, so the loss grows without bound. The path is drawn up to the last finite step.",
            icon=":material/warning:",
        )

band_lo = min(raw.surface["band"].min(), std_run.surface["band"].min())
band_hi = max(raw.surface["band"].max(), std_run.surface["band"].max())
left, right = chart_columns(2, keep_row=True)  # the valley beside the bowl, in presenter mode too
for col, run, title, names in (
    (left, raw, "Raw features: a long valley" if chosen is None else "Raw features",
     (f"weight of {feature_a}", f"weight of {feature_b}")),
    (right, std_run, "Standardized features: a round bowl" if chosen is None else "Standardized features",
     (f"weight of {feature_a} (standardized)", f"weight of {feature_b} (standardized)")),
):
    # one chart per run for every scrubber position: the browser draws the path up to at_step
    chart = charts.surface(run.surface, run.path, title=title, x_title=names[0], y_title=names[1],
                           extent=run.extent, optimum=run.optimum, band_domain=(band_lo, band_hi),
                           cursor="at_step", size=SURFACE_SIZE[presenter_on()])
    draw(col, chart, params={"at_step": at_step}, width="content", height="content")  # its own square size
    if run.leaves_view_at is not None:
        col.caption(f"From step {run.leaves_view_at:,} the diverging path leaves the plotted area: the plot is "
                    "framed on its first steps.")
    current = run.path[run.path["step"] <= at_step].tail(1)
    if not current.empty:
        row = current.iloc[0]
        col.caption(f"Step {int(row.step):,}: loss {row.loss:.4g} · learning rate {run.lr:.3g} "
                    f"({cfg.lr_scale:g} × {run.max_stable_lr:.3g})")

# the measurements under the pictures, as one small table (its labels wrap instead of being cut short)
st.markdown(
    "| | condition number | largest stable rate | steps to within 1 % of the optimum |\n"
    "|---|---:|---:|---:|\n"
    f"| **raw features** | {raw.condition_number:,.0f} | {raw.max_stable_lr:.2e} | {_steps_text(raw)} |\n"
    f"| **standardized** | {std_run.condition_number:,.2f} | {std_run.max_stable_lr:.3g} | {_steps_text(std_run)} |"
)
for run, name in ((raw, "raw"), (std_run, "standardized")):
    if run.steps_to_1pct is not None and run.steps_to_1pct > cfg.steps:
        st.caption(f"The {name} run needs more than its {cfg.steps:,} steps: its path stops short of the optimum.")

draw(st,
    charts.loss_curves(result.losses(), title="Loss against step (both axes logarithmic)",
                       runs=["raw", "standardized"], cursor="at_step"),
    params={"at_step": at_step}, width="stretch",
)

st.subheader("What you see")
k_raw, k_std = raw.condition_number, std_run.condition_number
spread = std_run.quadratic.scale  # each feature's std: what standardizing divides by
first = (
    f"Feature B's spread (std) is {spread[1] / spread[0]:.0f} times feature A's, so the loss changes "
    f"{np.sqrt(k_raw):,.0f}× faster in\n  one direction than in the other: the Hessian's **condition number is "
    f"{k_raw:,.0f}** for raw\n  features and **{k_std:.2f}** after standardization."
) if chosen is None else uploaded_spread(chosen.dataset.feature_names, spread, k_raw, k_std)
st.markdown(
    f"""
- {first}
- Gradient descent is only stable below 2/λ_max. That limit is set by the *steepest* direction, so on
  the valley the step must be tiny ({raw.max_stable_lr:.1e}), and along the *flat* direction the
  descent then needs on the order of the condition number of steps — here {_steps_text(raw)} steps.
- Standardized, every direction has the same curvature: the same fraction of the stable rate gets
  within 1 % of the optimum in {_steps_text(std_run)} steps.
- Batch norm does this standardization for the inputs of *every* layer, on every mini-batch.
"""
)
state.write_url()
export_view("landscape", files=[
    ("Descent paths and surfaces (CSV, zipped)",
     functools.partial(exports.frames_zip, {
         **{f"path-{n}": r.path for n, r in result.runs.items()},
         **{f"surface-{n}": r.surface for n, r in result.runs.items()},
     }, cfg), "landscape.zip", "application/zip"),
], configs={"landscape": cfg})
