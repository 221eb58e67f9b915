"""Sweeps: learning rate, batch size or depth over a grid of runs, with and without normalization, over seeds."""

import streamlit as st

from core.data import DATASETS
from core.sweep import BATCH_VALUES, DEPTH_VALUES, LR_VALUES, SweepConfig, summary
from core.sweep_files import SweepFileError, bundle_json, load_bundle, results_csv
from dashboard import sweepcharts, sweeps
from dashboard.drawing import dataset_label, draw, export_menu, three_digits
from dashboard.netconfig import CHOICE_LABELS, SAMPLES, WIDTHS
from dashboard.safe import plain
from dashboard.selections import SweepsView
from dashboard.state import PageState, choice, select_slider, slider, toggle
from dashboard.style import chart_columns, intro
from dashboard.teach import measured

st.title("Sweeps")
intro("**One setting over a grid of runs, with and without normalization, on several seeds** — where each "
      "network still learns, and where it breaks. A diverged run counts as a result: the strip of squares "
      "says, at every value, how many seeds learned (L), did not learn (N) or diverged (D).")

OPTIONS = {"lr_min": LR_VALUES, "lr_max": LR_VALUES, "batch_min": BATCH_VALUES, "batch_max": BATCH_VALUES,
           "depth_min": DEPTH_VALUES, "depth_max": DEPTH_VALUES, "width": WIDTHS, "n_samples": SAMPLES,
           "lr": LR_VALUES, "batch_size": BATCH_VALUES}
RANGE = {"lr": ("lr_min", "lr_max"), "batch_size": ("batch_min", "batch_max"), "depth": ("depth_min", "depth_max")}
LOSS_CAP = 10.0  # a finite loss above this is drawn at it (one run at 1e17 would flatten the others)


def controls(state: PageState) -> tuple[SweepConfig, SweepsView]:
    with st.sidebar:
        config = state.config(SweepConfig, options=OPTIONS)
        look = state.config(SweepsView)
        st.header("Sweep")
        choice(SweepConfig, "sweep", "Sweep over", labels={"lr": "learning rate", "batch_size": "batch size",
                                                          "depth": "depth"})
        choice(SweepConfig, "compare", "No normalization against",
               labels={"batch": "batch norm", "layer": "layer norm", "both": "batch and layer norm",
                       "group": "group norm", "rms": "RMS norm"}, horizontal=False)
        lo, hi = RANGE[config.sweep]
        options = OPTIONS[lo]
        select_slider(SweepConfig, lo, "From", options, format_func=lambda v: f"{v:g}")
        select_slider(SweepConfig, hi, "To", options, format_func=lambda v: f"{v:g}")
        if config.sweep == "batch_size":
            toggle(SweepConfig, "scale_lr", "Scale the rate with the batch (lr × batch / 32)")
        slider(SweepConfig, "seeds", "Seeds per point")
        with st.expander("Network and training"):
            choice(SweepConfig, "dataset", "Data set", horizontal=False,
                   labels={n: dataset_label(n) for n in DATASETS})
            select_slider(SweepConfig, "n_samples", "Samples", SAMPLES, format_func=lambda v: f"{v:g}")
            if config.sweep != "depth":
                slider(SweepConfig, "depth", "Hidden layers (depth)")
            select_slider(SweepConfig, "width", "Units per layer (width)", WIDTHS)
            choice(SweepConfig, "activation", "Activation", horizontal=False)
            choice(SweepConfig, "init", "Initialisation", labels=CHOICE_LABELS["init"])
            choice(SweepConfig, "optimizer", "Optimizer", labels=CHOICE_LABELS["optimizer"])
            if config.sweep != "lr":
                select_slider(SweepConfig, "lr", "Learning rate", LR_VALUES, format_func=lambda v: f"{v:g}")
            if config.sweep != "batch_size":
                select_slider(SweepConfig, "batch_size", "Batch size", BATCH_VALUES)
            slider(SweepConfig, "epochs", "Epochs")
            slider(SweepConfig, "target", "Target validation accuracy (steps to target)", step=0.01)
            st.number_input("First seed", min_value=0, max_value=2**31 - 1, step=1, key="seed")
    return config, look


def uploaded():
    """The grid and results of an uploaded bundle, or None; a bad file gets one clear message."""
    with st.expander("Load a sweep bundle (sweep.json from the export or from python -m core.sweep)",
                     icon=":material/upload_file:"):
        file = st.file_uploader("Sweep bundle", type=["json"], key="sweep_upload", label_visibility="collapsed")
        if file is None:
            return None
        try:
            return load_bundle(file.getvalue())
        except SweepFileError as err:
            st.error(plain(f"This file cannot be shown: {err}"), icon=":material/error:")
            return None


def axis_labels(axis: str, values) -> list[str]:
    return [sweeps.value_text(axis, v) for v in values]


def strip(col, grid, res) -> None:
    draw(col, sweepcharts.phase_strip(sweeps.phase_frame(res), runs=grid.norms, x_title=sweeps.axis_title(grid.axis),
                                      title=f"Seeds that learned (L), did not learn (N) or diverged (D), of "
                                            f"{len(grid.seeds)}", values=[float(v) for v in grid.values],
                                      axis_labels=axis_labels(grid.axis, grid.values)))


def show(grid, res, look: SweepsView) -> None:
    summ = summary(res)
    title = sweeps.axis_title(grid.axis)
    if grid.axis in ("lr", "depth"):  # the charts of the final loss
        toggle(SweepsView, "log_y", "Log scale for the loss")
    log_y = look.log_y  # the toggle's value: the config put it in session state, the toggle reads it there
    cols = chart_columns(2)
    if grid.axis == "lr":
        draw(cols[0], sweepcharts.band(sweeps.band_frame(summ, "loss"), runs=grid.norms, x_title=title,
                                       y_title="final validation loss", log_y=log_y, cap=LOSS_CAP,
                                       x_domain=grid.values,
                                       title="Final validation loss against learning rate (line: median over "
                                             f"seeds; band: lowest to highest; above {LOSS_CAP:g}: drawn at "
                                             f"{LOSS_CAP:g}; diverged runs: in the strip)"))
        lines = sweeps.lr_sentences(res)
    elif grid.axis == "batch_size":
        draw(cols[0], sweepcharts.band(sweeps.band_frame(summ, "error"), runs=grid.norms, x_title=title,
                                       y_title="final validation error", y_format=".1%", x_domain=grid.values,
                                       title="Final validation error against batch size (median over seeds, "
                                             "band: lowest to highest)"))
        lines = sweeps.batch_sentences(summ)
    else:
        draw(cols[0], sweepcharts.band(sweeps.band_frame(summ, "steps"), runs=grid.norms, x_title=title,
                                       y_title="steps to target", log_x=False, y_format=",.0f",
                                       x_domain=grid.values, integer_x=True,
                                       title=f"Steps to {grid.target:.0%} validation accuracy against depth "
                                             "(median of the seeds that reached it)"))
        lines = sweeps.depth_sentences(res, summ, grid.target)
        cols[0].caption(plain(sweeps.not_reached(summ, grid.target)))
    strip(cols[1], grid, res)
    if grid.axis == "depth":
        draw(cols[1], sweepcharts.band(sweeps.band_frame(summ, "loss"), runs=grid.norms, x_title=title,
                                       y_title="final validation loss", log_x=False, log_y=log_y, cap=LOSS_CAP,
                                       x_domain=grid.values, integer_x=True,
                                       title=f"Final validation loss against depth (above {LOSS_CAP:g}: drawn "
                                             f"at {LOSS_CAP:g})"))
    st.subheader("What you see")
    st.markdown("\n".join(f"- {plain(line)}" for line in lines))
    with st.expander("The values, per point (median, lowest and highest over seeds)"):
        table = summ.assign(norm=summ["norm"].map(sweeps.label)).rename(columns={"value": title})
        st.dataframe(table, hide_index=True, column_config=three_digits(table))


state = PageState("sweeps")
config, look = controls(state)
bundle = uploaded()
if bundle is not None:
    grid, res = bundle
    st.info(f"Showing the uploaded bundle: {grid.size} runs over {sweeps.axis_title(grid.axis)}. Remove the "
            "file above to return to the live sweep.", icon=":material/upload_file:")
else:
    grid, res = config.grid(), None
    why = sweeps.too_big(grid)
    if why:
        st.warning(plain(why), icon=":material/hourglass_disabled:")
    else:
        res = sweeps.results(grid)
        measured(res)
if res is not None:
    show(grid, res, look)
state.write_url()
if res is not None:
    export_menu([("Results (CSV)", results_csv(res), f"sweep-{grid.axis}.csv", "text/csv"),
                 ("Bundle: grid and results (JSON)", bundle_json(grid, res), "sweep.json", "application/json")])
