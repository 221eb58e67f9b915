"""Loss landscape: the article's valley (raw features) against its bowl (standardized)."""

import dataclasses
import functools

import numpy as np
import pandas as pd
import streamlit as st

from core.experiment import LandscapeConfig, run_landscape
from dashboard import cached, charts, exports, teach, upload
from dashboard.drawing import draw, export_view
from dashboard.momentum_text import momentum_lines
from dashboard.playback import player
from dashboard.safe import literal
from dashboard.selections import LandscapeView
from dashboard.state import PageState, choice, number, select_slider, slider, toggle
from dashboard.style import chart_columns, intro, presenter_on

SURFACE_SIZE = {False: 270, True: 320}  # px, square: presenter mode has the whole width for two
LR_SCALES = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99, 1.0, 1.01, 1.05, 1.2, 1.5, 2.0)
STEP_CHOICES = (10, 30, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000)
LEGEND_ROW = 30  # px a chart grows by per run: its legend lists one run a line, above the plot
BETAS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999)
METHOD_LABELS = {"plain": "Plain", "momentum": "Momentum", "nesterov": "Nesterov"}
METHOD_NAMES = {"momentum": "heavy-ball momentum", "nesterov": "Nesterov's momentum"}

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
    cfg = state.config(LandscapeConfig, options={"lr_scale": LR_SCALES, "steps": STEP_CHOICES,
                                                 "beta": BETAS})
    look = state.config(LandscapeView)
    choice(LandscapeConfig, "optimizer", "Method", labels=METHOD_LABELS,
           help="Plain gradient descent alone, or beside it descent with momentum at the same learning "
                "rate: heavy ball adds β × the last step to each step; Nesterov takes the gradient where "
                "that momentum would carry it.")
    if cfg.optimizer != "plain":
        select_slider(LandscapeConfig, "beta", "Momentum β", BETAS, format_func=lambda v: f"{v:g}")
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
        number(LandscapeConfig, "data_seed", "Data seed", help="default_rng seed; 42 is the article's.",
               disabled=article)

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
moving = {name: result.runs.get(f"{name}-{cfg.optimizer}") for name in ("raw", "standardized")}

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
        if abs(run.lr - run.max_stable_lr) <= 1e-9 * run.max_stable_lr:
            return "never (at the limit it oscillates)"
        return "never (unstable rate)" if run.lr > run.max_stable_lr else "not within 10,000,000 steps"
    return f"{run.steps_to_1pct:,}"


def _rate_text(run) -> str:
    """ρ, the largest |eigenvalue| of the step's matrix: the error shrinks by about ρ each step."""
    if run.rate >= 1:
        return f"{run.rate:.3g} (grows)" if run.rate > 1 + 1e-9 else "1 (no shrinking)"
    return f"{run.rate:.6f}" if run.rate > 0.999 else f"{run.rate:.3g}"


def _short(run) -> str:
    """The table's row label: the surface, and the momentum (if any)."""
    return run.surface_name if run.method == "plain" else f"{run.surface_name} + {run.method}"


def _label(run) -> str:
    surface = "raw features" if run.surface_name == "raw" else "standardized features"
    return surface if run.method == "plain" else f"{surface} with {METHOD_NAMES[run.method]}"


for run in result.runs.values():
    if run.diverged_at is not None:
        st.error(
            f"**Descent on {_label(run)} diverged at step {run.diverged_at:,}.** "
            f"The learning rate {run.lr:.3g} is above its largest stable rate "
            f"{run.max_stable_lr:.3g}: each step overshoots the valley floor by more than the "
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
                           cursor="at_step", size=SURFACE_SIZE[presenter_on()],
                           second=moving[run.name].path if moving[run.name] is not None else None)
    draw(col, chart, params={"at_step": at_step}, width="content", height="content")  # its own square size
    if run.leaves_view_at is not None:
        col.caption(f"From step {run.leaves_view_at:,} the diverging path leaves the plotted area: the plot is "
                    "framed on its first steps.")
    current = run.path[run.path["step"] <= at_step].tail(1)
    if not current.empty:
        row = current.iloc[0]
        col.caption(f"Step {int(row.step):,}: loss {row.loss:.4g} · learning rate {run.lr:.3g} "
                    f"({cfg.lr_scale:g} × {run.max_stable_lr:.3g})")
    if moving[run.name] is not None:
        col.caption(f"White line: plain gradient descent. Black dashes on white, square at the current step: "
                    f"{METHOD_NAMES[cfg.optimizer]}, β {cfg.beta:g}, same start and learning rate. "
                    "White cross: the least-squares optimum.")

# the measurements under the pictures, as one small table (short headers: it fits a phone's width)
st.markdown(
    "| | stable up to | ρ | steps to 1 % |\n|---|---:|---:|---:|\n"
    + "\n".join(f"| **{_short(r)}** | {r.max_stable_lr:.3g} | {_rate_text(r)} | {_steps_text(r)} |"
                for r in result.runs.values())
)
st.caption(f"The Hessian's condition number κ is {raw.condition_number:,.0f} for raw features and "
           f"{std_run.condition_number:.2f} standardized. Stable up to: the largest stable learning rate, "
           "measured. ρ: the share of its error the slowest direction keeps each step. Steps to 1 %: until "
           "the loss stays within 1 % of the least-squares optimum.")
for run in result.runs.values():
    if run.steps_to_1pct is not None and run.steps_to_1pct > cfg.steps:
        st.caption(f"The run on {_label(run)} needs more than its {cfg.steps:,} steps: its path stops short "
                   "of the optimum.")

dashed = tuple(n for n, r in result.runs.items() if r.method != "plain")
limits = pd.DataFrame({"run": list(result.runs),
                       "lr_scale": [r.max_stable_lr / r.quadratic.max_stable_lr for r in result.runs.values()]})
rates = cached.landscape_rates(cfg)
draw(st, charts.rate_curves(rates, limits, current=cfg.lr_scale, runs=list(result.runs), dashed=dashed,
                            height=260 + LEGEND_ROW * len(result.runs),
                            title="How much of the error each step keeps, against the learning rate: above 1 "
                                  "the descent diverges"),
     width="stretch")
raw_rates = rates[(rates["run"] == "raw") & (rates["lr_scale"] < 1)]["rate"]
st.caption(f"Each marker on the line at 1 is a run's measured stable limit; the dashed red rule is the learning "
           f"rate on screen, {cfg.lr_scale:g}×. At every stable rate plain descent on raw features keeps at least "
           f"{raw_rates.min():.5f} of its error each step (its line hugs 1).")
axes = "both axes logarithmic" if look.loss_log else "step logarithmic, loss linear"
toggle(LandscapeView, "loss_log", "Log scale for the loss")
draw(st,
    charts.loss_curves(result.losses(), title=f"Loss against step ({axes}); dotted: the "
                                              "least-squares optimum" if cfg.fit_intercept else
                       f"Loss against step ({axes})",
                       runs=list(result.runs), cursor="at_step", dashed=dashed,
                       height=240 + LEGEND_ROW * len(result.runs), log_y=look.loss_log,
                       optimum=raw.quadratic.loss_star if cfg.fit_intercept else None),
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
if cfg.optimizer != "plain":
    st.markdown("\n".join(momentum_lines(result)))
state.write_url()
export_view("landscape", files=[
    ("Descent paths and surfaces (CSV, zipped)",
     functools.partial(exports.frames_zip, {
         **{f"path-{n}": r.path for n, r in result.runs.items()},
         **{f"surface-{n}": r.surface for n, r in result.runs.items()},
     }, cfg), "landscape.zip", "application/zip"),
], configs={"landscape": cfg})
