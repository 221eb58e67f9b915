"""Standardization: features before and after, and batch norm's three steps."""

import numpy as np
import pandas as pd
import streamlit as st

from core.params import specs
from core.standardize import (
    STANDARDIZE_DATASETS,
    StandardizeConfig,
    batch_demo,
    histogram_frame,
    scale_report,
    spread_features,
)
from dashboard import cached, charts, upload
from dashboard.drawing import dataset_label, draw, three_digits
from dashboard.safe import literal
from dashboard.state import PageState, choice, drawn, slider, toggle
from dashboard.style import chart_columns

SCATTER_MAX = 2_000  # points in step 1's scatter: this batch and, at most, this many of the others


def scatter_rows(in_batch: np.ndarray) -> np.ndarray:
    """The rows step 1 draws: the whole batch, and an even subsample of the rest (a large file)."""
    others = np.flatnonzero(~in_batch)
    if len(others) > SCATTER_MAX:
        others = others[np.linspace(0, len(others) - 1, SCATTER_MAX).astype(int)]
    return np.sort(np.concatenate([np.flatnonzero(in_batch), others]))


EPS = 1e-5  # batch norm's eps (BatchNorm1d's default): step 2 divides by sqrt(var + eps)

st.title("Standardization")
st.markdown(
    "**Compare the widths of the histograms.** Before standardization each feature lives on its own "
    "scale; after it, every feature has mean 0 and standard deviation 1. Then follow batch norm's three "
    "steps on one real mini-batch."
)

state = PageState("standardization")
with st.sidebar:
    st.header("Data")
    cfg = state.config(StandardizeConfig)
    mine = upload.table() is not None
    choice(StandardizeConfig, "dataset", "Data set", horizontal=False,
           labels={n: dataset_label(n) for n in STANDARDIZE_DATASETS}, disabled=mine,
           help="Set aside while your own file is in use." if mine else None)
    chosen = upload.data_section("standardization")

if chosen is None:
    data = cached.dataset(cfg.dataset, n_samples=100 if cfg.dataset == "seed" else 100_000, noise=0.1,
                          seed=42 if cfg.dataset == "seed" else 0)
    st.caption(f"**{dataset_label(cfg.dataset)}** — {len(data.X):,} samples, "
               f"{data.n_features} features.")
else:
    data = chosen.dataset
    upload.show_notice(chosen)

n_max = min(8, data.n_features)
if data.n_features > 2:
    with st.sidebar:
        st.session_state["n_show"] = min(st.session_state["n_show"], n_max)
        if drawn("n_show", "Features to draw"):
            st.slider("Features to draw", 1, n_max, key="n_show",
                      help="The features whose scales differ most are drawn.")
names = spread_features(data, cfg.n_show if data.n_features > 2 else 2)
cols = [data.feature_names.index(n) for n in names]
X = data.X[:, cols]
table, Z = scale_report(X, names)

# --------------------------------------------------------------------------- before / after
left, right = chart_columns(2)
draw(left, charts.feature_histograms(histogram_frame(X, names, shared=True),
                                            title="Before: raw units, one shared axis",
                                            x_title="value (raw units)"))
draw(right, charts.feature_histograms(histogram_frame(Z, names, shared=True),
                                             title="After StandardScaler: (x − mean) / std",
                                             x_title="value (standard deviations)"))

st.markdown("**Mean, std, min and max per feature, before and after** (scikit-learn's `StandardScaler`)")
st.dataframe(table, width="stretch", column_config=three_digits(table))
ratio = table["std"].max() / max(table["std"].min(), 1e-300)
st.caption(f"The largest standard deviation is **{ratio:,.0f}×** the smallest before; after, all are 1.")

# --------------------------------------------------------------------------- three steps
st.header("Batch norm's three steps, on one mini-batch")
c = st.columns([1, 1, 1, 1])
slider(StandardizeConfig, "batch_size", "Batch size", container=c[0])
n_batches = int(np.ceil(len(X) / st.session_state["batch_size"]))
if st.session_state["batch"] > n_batches - 1:
    st.session_state["batch"] = n_batches - 1
n_batches = min(n_batches, int(specs(StandardizeConfig)["batch"].high) + 1)  # a large file: the first 501
if st.session_state["batch"] > n_batches - 1:
    st.session_state["batch"] = n_batches - 1
if drawn("batch", "Batch"):
    c[1].slider("Batch", 0, max(n_batches - 1, 1), key="batch",
                help="Which mini-batch to look at.", disabled=n_batches < 2)
undo = st.session_state.get("undo", False)
slider(StandardizeConfig, "gamma", "γ (scale)", step=0.1, container=c[2], disabled=undo)
slider(StandardizeConfig, "beta", "β (shift)", step=0.1, container=c[3], disabled=undo)
toggle(StandardizeConfig, "undo", "Undo it: γ = the batch's std, β = its mean")
if st.session_state["feature"] >= len(names):
    st.session_state["feature"] = 0
if drawn("feature", "Feature shown in steps 2 and 3"):
    st.selectbox("Feature shown in steps 2 and 3", options=list(range(len(names))),
                 format_func=lambda i: names[i], key="feature")
cfg = StandardizeConfig(**{f: st.session_state[f] for f in (
    "dataset", "n_show", "batch_size", "batch", "shuffle_seed", "feature", "gamma", "beta", "undo")})

split = dict(batch_size=cfg.batch_size, batch=cfg.batch, seed=cfg.shuffle_seed)
demo = batch_demo(X, names, **split, gamma=cfg.gamma, beta=cfg.beta)
gamma, beta = np.full(len(names), cfg.gamma), np.full(len(names), cfg.beta)
if cfg.undo:  # per feature, exactly what step 2 divided by and subtracted (its eps included)
    xb = X[demo.batch]
    gamma, beta = np.sqrt(xb.var(axis=0) + EPS), xb.mean(axis=0)
    demo = batch_demo(X, names, **split, gamma=gamma, beta=beta, eps=EPS)
fname = names[cfg.feature]
fname_md = fname if chosen is None else literal(fname, 30)  # a file's column name: shown as text only
g, b = float(gamma[cfg.feature]), float(beta[cfg.feature])

s1, s2 = chart_columns(2)
with s1:
    st.markdown(f"**1 · Split at random, without replacement**: {len(demo.batches)} batches of "
                f"{cfg.batch_size}; batch {cfg.batch} holds {len(demo.batch)} samples.")
    xa, xb = (names[0], names[1]) if len(names) > 1 else (names[0], names[0])
    in_batch = np.zeros(len(X), dtype=bool)
    in_batch[demo.batch] = True
    shown = scatter_rows(in_batch)
    scatter = pd.DataFrame({xa: X[shown, names.index(xa)], xb: X[shown, names.index(xb)],
                            "in_batch": np.where(in_batch[shown], "this batch", "other batches"),
                            "index": shown})
    draw(st, charts.batch_scatter(scatter, x=xa, y=xb), width="stretch")
    if drawn("shuffle_seed", "Shuffle seed"):
        st.number_input("Shuffle seed", 0, 9999, key="shuffle_seed",
                        help="A new seed draws a new random split into batches.")
with s2:
    st.markdown("**2 · Standardize with the batch's own mean and std**")
    stats = demo.stats
    st.dataframe(stats, width="stretch", column_config=three_digits(stats))
    gap = (stats["batch mean"] - stats["full-data mean"]).abs() / stats["full-data std"]
    st.caption(f"This batch's means sit up to {gap.max():.2f} standard deviations from the full data's: "
               "each batch is standardized a little differently — batch norm's noise.")

xb_raw = X[demo.batch, cfg.feature]
steps = pd.concat([
    pd.DataFrame({"stage": "x̂ = (x − batch mean) / batch std", "value": demo.x_hat[:, cfg.feature],
                  "index": demo.batch}),
    pd.DataFrame({"stage": f"γ·x̂ + β  (γ = {g:.4g}, β = {b:.4g})",
                  "value": demo.y[:, cfg.feature], "index": demo.batch}),
], ignore_index=True)
rules = pd.DataFrame({"at": [0.0, b], "what": ["0", "β"]})
lo = float(min(-3.0, steps["value"].min())) if len(steps) else -3.0
hi = float(max(3.0, steps["value"].max())) if len(steps) else 3.0
raw_strip = pd.DataFrame({"stage": f"{fname}, raw", "value": xb_raw, "index": demo.batch})
r1, r2 = chart_columns(2, [1, 2])
draw(r1, charts.strip(raw_strip, title=f"The batch's {fname}, raw units", x_title=fname),
                width="stretch")
draw(r2, charts.strip(steps, title="2 · standardized, then 3 · scaled and shifted",
                             x_title="value", domain=(lo, hi), rules=rules), width="stretch")

if cfg.undo:
    back = float(np.abs(demo.y - X[demo.batch]).max()) if len(demo.batch) > 1 else 0.0
    st.caption(f"With γ = {g:.4g} (the batch's std of {fname_md}) and β = {b:.4g} (its mean), step 3 gives "
               f"back the raw batch: the largest difference from the raw values is {back:.1e}.")

before = (
    f"the widest feature spans {ratio:,.0f}× the narrowest: a network's first layer sees\n"
    "  inputs dominated by one feature, and its loss surface is a long valley (see *Loss landscape*)."
) if ratio >= 10 else (
    f"the widest feature spans only {ratio:,.1f}× the narrowest: these features are on similar scales\n"
    "  already, so standardizing them changes little here (their means may still differ)."
)
st.subheader("What you see")
st.markdown(
    f"""
- **Before**, {before}
- **After**, every feature has mean 0 and std 1: same scale, same say.
- **Batch norm** does this inside the network, on every mini-batch, with the batch's own mean and
  std (step 2) — so this batch of {cfg.batch_size} has means up to {gap.max():.2f} standard deviations
  from the full data's.
  Then it multiplies by γ and adds β (step 3): with γ = std and β = mean it can undo the
  standardization completely, if that is what the loss wants.
"""
)
state.write_url()
