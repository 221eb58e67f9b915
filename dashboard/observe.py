"""What the runs on screen show, measured: recorded frames in, numbers and plain sentences out.

Pure functions of ``core.training.History`` objects (and of the landscape
result): no Streamlit, no chart. Lessons (``dashboard.checks``) judge their
claims with them, and the pages' "What you see" paragraphs are built from
them, so every sentence on screen states what these runs measured.

Plain text only (no Markdown): a caller may render it as it likes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dashboard.charts import RUN_LABELS

#: "stayed at chance": the validation loss within this share of a uniform guess's loss (ln K)
CHANCE_BAND = 0.10
#: "learned": validation accuracy at least this, and the loss at most half a uniform guess's
LEARNED_ACCURACY = 0.80
#: a band "drifts" when its median moves by more than this share of its starting width, and
#: "narrows" / "widens" when its width changes by more than this factor
DRIFT_SHARE, WIDTH_FACTOR = 0.5, 1.5
#: saturation is mentioned only from this share of saturated units on
SATURATION_SHOWN = 0.05
#: two modes "agree" when their values differ by less than this share of their spread (rms)
SAME_MODES = 1e-3


def with_label(norm: str) -> str:
    """'without normalization' / 'with batch norm' / 'with layer norm'."""
    return "without normalization" if norm == "none" else f"with {RUN_LABELS.get(norm, norm)}"


def pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def share(x: float) -> str:
    """A share as a percentage, small ones kept visible (0.0093 %)."""
    return f"{100 * x:.0f} %" if x >= 0.01 or x == 0 else f"{100 * x:.2g} %"


def between(lo: float, hi: float) -> str:
    """'of 1.00' when both round alike, else 'between 0.92 and 0.99'."""
    a, b = f"{lo:.2f}", f"{hi:.2f}"
    return f"of {a}" if a == b else f"between {a} and {b}"


def num(x: float) -> str:
    """A measured number to 3 significant digits, in plain text (1.6e+05 -> 1.6e5)."""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    if 1000 <= abs(x) < 1e5:
        return f"{x:,.0f}"
    if 1e-3 <= abs(x) < 1000:
        return f"{x:.3g}"
    text = f"{x:.2g}"
    if "e" not in text:
        return text
    mant, exp = text.split("e")
    return f"{mant}e{int(exp)}"


# ---------------------------------------------------------------- outcomes of a run


def chance_loss(hist) -> float:
    """The loss of a uniform guess: ln K for K classes (regression: 1, predicting the mean)."""
    return math.log(max(hist.n_classes, 2)) if hist.task == "classification" else 1.0


def outcome(hist) -> str:
    """'diverged', 'learned', 'chance' (the loss stayed at a uniform guess's), 'worse' (accuracy at
    chance and the loss above a uniform guess's) or 'partial' (anything between)."""
    if hist.diverged:
        return "diverged"
    final = hist.final("val")
    if not final:
        return "partial"
    base = chance_loss(hist)
    if hist.task == "classification":
        if final["accuracy"] >= LEARNED_ACCURACY and final["loss"] <= 0.5 * base:
            return "learned"
        chance_acc = 1.0 / max(hist.n_classes, 2)
        if final["accuracy"] < chance_acc + 0.15:
            if abs(final["loss"] - base) <= CHANCE_BAND * base:
                return "chance"
            if final["loss"] > base:
                return "worse"
        return "partial"
    if final["accuracy"] >= LEARNED_ACCURACY:  # R²
        return "learned"
    return "chance" if final["accuracy"] <= CHANCE_BAND else "partial"


def result_sentence(norm: str, hist) -> str:
    """How one run ended, in words and numbers."""
    who = with_label(norm)
    if hist.diverged:
        return f"{who} the run diverged at step {hist.diverged_at:,} (its loss or weights became infinite)"
    final = hist.final("val")
    if not final:
        return f"{who} nothing was recorded"
    loss, score = num(final["loss"]), final["accuracy"]
    base = chance_loss(hist)
    score_txt = f"validation accuracy {pct(score)}" if hist.task == "classification" else f"R² {score:.2f}"
    kind = outcome(hist)
    if kind == "chance":
        ref = f"ln {max(hist.n_classes, 2)} = {base:.2f}, a uniform guess's loss" if hist.task == "classification" \
            else "1, predicting the mean"
        return f"{who} the validation loss stayed at {loss} ({ref}), {score_txt}"
    verb = "fell to" if final["loss"] < base else "ended at"
    return f"{who} the validation loss {verb} {loss}, {score_txt}"


# ---------------------------------------------------------------- layers


def _stage_rows(frame: pd.DataFrame, stage: str) -> np.ndarray:
    """Boolean mask of a frame's rows at ``stage`` (compared on the categorical codes: no copy)."""
    col = frame["stage"]
    cats = list(col.cat.categories)
    return col.cat.codes.to_numpy() == cats.index(stage) if stage in cats else np.zeros(len(col), bool)


def layer_stat(hist, step: int, stage: str, column: str = "std") -> pd.Series:
    """One statistic of every layer at the recorded step nearest ``step``: layer -> value."""
    s = hist.layer_stats
    if s.empty:
        return pd.Series(dtype=float)
    steps = s["step"].to_numpy()
    at = steps[np.argmin(np.abs(steps - step))]
    rows = (steps == at) & _stage_rows(s, stage)
    layers = s["layer"].to_numpy()[rows].astype(int)
    values = s[column].to_numpy(np.float64)[rows]
    order = np.argsort(layers, kind="stable")
    return pd.Series(values[order], index=layers[order])


def health_at(hist, step: int) -> pd.DataFrame:
    """layer_health rows (layer order) at the latest recorded step <= ``step`` (the first one if none)."""
    h = hist.layer_health
    steps = h["step"].to_numpy()
    if not len(steps):
        return h
    ok = steps <= step
    at = steps[ok].max() if ok.any() else steps.min()
    rows = steps == at
    out = pd.DataFrame({c: h[c].to_numpy()[rows] for c in h.columns})
    return out.iloc[np.argsort(out["layer"].to_numpy(), kind="stable")].reset_index(drop=True)


def gradient_shrink(hist, step: int) -> float | None:
    """How many times smaller the weight gradient is at layer 1 than at the deepest layer (at
    ``step``): above 1 it shrinks on its way back, below 1 it grows. None when not measurable."""
    h = health_at(hist, step)
    if len(h) < 2:
        return None
    first, last = float(h["grad_norm"].iloc[0]), float(h["grad_norm"].iloc[-1])
    if first <= 0 and last <= 0:
        return None
    if first <= 0:
        return math.inf
    return last / first


def band_change(hist, layer: int, stage: str) -> dict | None:
    """How a layer's band (15th to 85th percentile) moved from the first to the last record.

    Returns start/end width and median, and ``drift`` ("up" | "down" | None),
    ``width`` ("narrows" | "widens" | None) by :data:`DRIFT_SHARE` and :data:`WIDTH_FACTOR`.
    """
    s = hist.layer_stats
    rows = np.flatnonzero((s["layer"].to_numpy() == layer) & _stage_rows(s, stage))
    if len(rows) < 2:
        return None
    steps = s["step"].to_numpy()[rows]
    a, b = rows[np.argmin(steps)], rows[np.argmax(steps)]
    p15, p50, p85 = (s[c].to_numpy(np.float64) for c in ("p15", "p50", "p85"))
    w0, w1 = p85[a] - p15[a], p85[b] - p15[b]
    m0, m1 = p50[a], p50[b]
    scale = max(w0, w1, 1e-12)
    drift = None
    if abs(m1 - m0) > DRIFT_SHARE * scale:
        drift = "up" if m1 > m0 else "down"
    width = None
    if w1 > WIDTH_FACTOR * w0:
        width = "widens"
    elif w1 * WIDTH_FACTOR < w0:
        width = "narrows"
    return {"w0": float(w0), "w1": float(w1), "m0": float(m0), "m1": float(m1), "drift": drift,
            "width": width, "step0": int(steps.min()), "step1": int(steps.max())}


def saturation(hist, step: int) -> float:
    """Mean share of saturated (relu: dead) units over the layers at ``step``."""
    h = health_at(hist, step)
    return float(h["saturated"].mean()) if len(h) else 0.0


# ---------------------------------------------------------------- batch norm's statistics


def normalized_magnitude(hist, eps: float = 1e-5) -> np.ndarray:
    """|x̂| of a sample in a batch of two, per recorded (step, layer, unit): sqrt(var / (var + eps)).

    With two samples the batch mean sits halfway between them, so both are
    standardized to ±sqrt(var / (var + eps)): this is their |x̂| exactly. Empty
    without batch norm's recorded statistics.
    """
    rs = hist.running_stats
    if rs.empty:
        return np.zeros(0)
    var = rs["batch_var"].to_numpy(dtype=np.float64)
    return np.sqrt(var / (var + eps))


def batch_var_factor(hist, eps: float = 1e-5) -> float | None:
    """The typical factor between a batch's variance and the running variance: exp(median |log ratio|)."""
    rs = hist.running_stats
    if rs.empty:
        return None
    ratio = (rs["batch_var"].to_numpy(np.float64) + eps) / (rs["running_var"].to_numpy(np.float64) + eps)
    return float(np.exp(np.median(np.abs(np.log(ratio)))))


def mode_gap(hist, stage: str = "post_norm") -> float | None:
    """Train mode against eval mode: the rms difference of the layers' values over their eval-mode
    spread (median over layers); 0 when both modes agree. None when not measured."""
    ml = hist.mode_layers
    if ml.empty or not (ml["mode"] == "train").any():
        return None
    sel = ml[(ml["stage"] == stage).to_numpy() & (ml["mode"] == "eval").to_numpy()]
    if sel.empty:
        return None
    spread = sel["std"].to_numpy(np.float64)
    rel = sel["rms_diff"].to_numpy(np.float64) / np.maximum(spread, 1e-12)
    return float(np.median(rel))


def mode_losses(hist) -> dict[str, float]:
    """Validation loss of the final network in each mode: {'train': ..., 'eval': ...}."""
    mm = hist.mode_metrics
    return {str(m): float(v) for m, v in zip(mm["mode"], mm["loss"], strict=True)}
