"""Chart builders and measured sentences of the "Why it works" view (frames in, charts or text out)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from dashboard import palette
from dashboard.chartcache import memo
from dashboard.charts import RUN_LABELS, _labelled, finite, positive, run_color
from dashboard.marks import hover_layers, raw_line
from dashboard.seeds import as_seeds
from dashboard.vegalite import layer, level_filter, nominal, quant, view

#: a layer's scaling "leaves the output unchanged" below this relative change (float32 and eps
#: leave about 1e-3 with batch norm on a first layer with small inputs)
INVARIANT = 0.01


def _cap(label: str) -> str:
    return label[:1].upper() + label[1:]


@functools.lru_cache(maxsize=256)  # a float per config (hashable, frozen): a pure function's results
def scale_change(config, factor: float) -> float:
    """The largest relative change of ``config``'s step-0 output over its layers when one layer's
    weights are multiplied by ``factor`` (``core.explain.scale_invariance``); inf where it overflowed."""
    from core import explain

    inv = explain.scale_invariance(config, factors=(factor,))
    return float(inv["change"].max()) if len(inv) else float("inf")


@functools.lru_cache(maxsize=256)
def signal_drift(config) -> float:
    """How far ``config``'s pre-activation variance moves down the depth at step 0: max/min over layers
    (``core.explain.signal_propagation`` on its first batch; 1 = flat)."""
    from core import explain

    sp = explain.signal_propagation([config])
    return drift(sp.rename(columns={"norm": "run"}), config.norm)


@memo
def worst_change(inv: pd.DataFrame) -> pd.DataFrame:
    """Per normalization and factor, the largest relative output change over layers: (run, factor, change)."""
    w = inv.groupby(["norm", "factor"], observed=True, sort=False)["change"].max().reset_index()
    return w.rename(columns={"norm": "run"})


@memo
def invariance_bars(worst: pd.DataFrame, *, runs: Sequence[str], title: str, height: int = 200,
                    x_domain: tuple[float, float] | None = None) -> alt.LayerChart:
    """One bar per normalization: the largest relative change of the output (log x), with a rule at
    INVARIANT. worst: (run, change)."""
    df = finite(worst[["run", "change"]])
    df = _labelled(df[df["change"] > 0])
    x = quant("change", title="largest change of the output (log scale)", axis={"tickCount": 5, "format": "~%"},
              scale={"type": "log", **({"domain": list(x_domain)} if x_domain else {})})
    y = nominal("run", title=None, sort=None, axis={"labelLimit": 240})
    # dots, not bars: a bar on a log axis has no zero to start from
    dots = view(df, mark={"type": "circle", "size": 160, "opacity": 1}, x=x, y=y,
                color=nominal("run", title=None, scale=run_color(runs), legend=None),
                tooltip=[nominal("run"), quant("change", format=".2g")])
    labels = view(df, mark={"type": "text", "dy": -14}, x=x, y=y,
                  text=quant("change", format=".2p"))
    rule = view(pd.DataFrame({"change": [INVARIANT]}), mark={"type": "rule", "strokeDash": [4, 3]},
                x=quant("change"))
    return layer(dots, labels, rule, title=title, height=height)


@memo
def invariance_sentences(worst: pd.DataFrame, factor: float) -> str:
    """What the bars of one factor show, measured: which normalizations left the output unchanged."""
    rows = list(worst[worst["factor"] == factor].itertuples())
    kept = [f"{RUN_LABELS[r.run]} {r.change:.2%}" for r in rows if r.change < INVARIANT]
    moved = [f"{RUN_LABELS[r.run]} {r.change:.0%}" for r in rows if r.change >= INVARIANT]
    parts = []
    if kept:
        parts.append("unchanged to within 1 % with " + ", ".join(kept))
    if moved:
        parts.append("changed with " + ", ".join(moved))
    return f"Weights × {factor:g}: the output " + "; ".join(parts) + "."


@memo
def eps_shows(worst: pd.DataFrame) -> bool:
    """Whether some normalization left the output unchanged for the largest factor but not the smallest."""
    lo, hi = worst["factor"].min(), worst["factor"].max()
    by = worst.pivot_table(index="run", columns="factor", values="change", aggfunc="max")
    return bool(((by[hi] < INVARIANT) & (by[lo] >= INVARIANT)).any()) if lo < hi else False


@memo
def effective_of(runs: dict) -> pd.DataFrame:
    """effective_frame of the runs (normalization -> Histories): ``core.explain.effective_lr`` of each."""
    from core import explain

    return effective_frame({n: [explain.effective_lr(h) for h in hs] for n, hs in as_seeds(runs).items()})


@memo
def effective_frame(frames: dict[str, list[pd.DataFrame]]) -> pd.DataFrame:
    """The median over layers and seeds, per run and step, of ||W||, lr/||W||² and the update ratio
    (frames: run -> one effective_lr frame per seed)."""
    cols = ["weight_norm", "effective_lr", "update_ratio"]
    parts = [pd.concat(fs).groupby("step")[cols].median().reset_index().assign(run=run)
             for run, fs in frames.items() if any(not f.empty for f in fs)]
    if not parts:
        return pd.DataFrame(columns=["run", "step", "weight_norm", "effective_lr", "update_ratio"])
    return pd.concat(parts, ignore_index=True)


@memo
def over_training(df: pd.DataFrame, *, value: str, runs: Sequence[str], title: str, y_title: str,
                  height: int = 240, log_y: bool = True, level: str | None = None) -> alt.LayerChart:
    """One line per run of ``value`` against step, on a log y axis unless ``log_y`` is False.

    df: (run, step, <value>); a ``raw`` column (smoothed curves, ``frames.smoothed_runs``) is drawn
    faint behind each line. With ``level``, df holds the curves at every smoothing weight
    (``frames.smoothing_levels``: the weight in the column ``level``) and the chart draws the weight
    its top-level param ``level`` holds (set when drawn), the raw curve behind it when above 0."""
    df = finite(df)
    if log_y:
        df = positive(df, (value, "raw"))
    df = _labelled(df)
    x = quant("step", title="step")
    y_title += " (log)" if log_y else ""
    y = quant(value, title=y_title, scale={"type": "log"} if log_y else {"zero": False})
    color = nominal("run", title=None, scale=run_color(runs), legend=palette.legend(runs))
    layers = [view(df, mark={"type": "line", "strokeWidth": 2.2, "point": True}, x=x, y=y, color=color,
                   transform=level_filter(level),
                   tooltip=[nominal("run"), quant("step"), quant(value, format=".3g")])]
    if "raw" in df.columns:
        layers.insert(0, raw_line(df, x=x, y=quant("raw", title=y_title, scale=y["scale"]),
                                  transform=level_filter(level, smoothed=True),
                                  color=color))  # the lines' legend: a first layer saying none hides it
    layers += hover_layers(df, value, x, y, runs, None, level)
    return layer(*layers, title=title, height=height, variables={level: 0.0} if level else None)


@memo
def effective_sentences(eff: pd.DataFrame) -> list[str]:
    """Per run: how much its weights grew and what that did to lr/||W||², measured."""
    out = []
    for run, f in eff.groupby("run", sort=False):
        f = f.sort_values("step")
        if len(f) < 2:
            continue
        first, last = f.iloc[0], f.iloc[-1]
        grew = last["weight_norm"] / first["weight_norm"]
        out.append(f"{_cap(RUN_LABELS[run])}: the median layer's ||W|| went from {first['weight_norm']:.3g} "
                   f"to {last['weight_norm']:.3g} ({grew:.2f}×), so lr/||W||² went from {first['effective_lr']:.3g} "
                   f"to {last['effective_lr']:.3g}; the measured update ratio ||ΔW||/||W|| went from "
                   f"{first['update_ratio']:.2g} to {last['update_ratio']:.2g}.")
    return out


@memo
def signal_frame(sp: pd.DataFrame) -> pd.DataFrame:
    """signal_propagation's frame as (run, layer, sq_mean, mean_var), the median over seeds."""
    g = sp.groupby(["norm", "layer"], sort=False)[["sq_mean", "mean_var"]].median().reset_index()
    return g.rename(columns={"norm": "run"})


@memo
def signal_sentences(sig: pd.DataFrame) -> tuple[str, ...]:
    """Per normalization: the squared mean and the variance at the first and the deepest layer (a tuple:
    the memo shares it between reruns and sessions, so nobody may append to it)."""
    out = []
    for run, f in sig.groupby("run", sort=False):
        f = f.sort_values("layer")
        a, b = f.iloc[0], f.iloc[-1]
        if len(f) < 2:
            continue
        out.append(f"{_cap(RUN_LABELS[run])}: squared mean {a['sq_mean']:.2g} at layer 1, "
                   f"{b['sq_mean']:.2g} at layer {int(b['layer'])}; variance {a['mean_var']:.2g} → {b['mean_var']:.2g}.")
    return tuple(out)


def drift(sig: pd.DataFrame, run: str) -> float:
    """How far a run's pre-activation variance moved over depth: max/min over layers (1 = flat)."""
    v = sig.loc[sig["run"] == run, "mean_var"].to_numpy(float)
    v = v[np.isfinite(v) & (v > 0)]
    return float(v.max() / v.min()) if len(v) else float("nan")


@memo
def ics_frame(ics: pd.DataFrame) -> pd.DataFrame:
    """Santurkar's shift per run and step: the median over layers and seeds of ||G - G'|| and cos(G, G')."""
    g = ics.groupby(["norm", "step"], sort=False)[["l2", "cos"]].median().reset_index()
    return g.rename(columns={"norm": "run"})


@memo
def ioffe_frame(runs: dict) -> pd.DataFrame:
    """Ioffe's notion, from the runs' own telemetry: how far each layer's input distribution (the values
    entering the norm, or where it would be) moves between recorded steps; per run and step, the median
    over layers (and seeds) of |Δ mean| / std and |Δ log std|."""
    parts = []
    for run, hist in ((n, h) for n, hs in as_seeds(runs).items() for h in hs):
        s = hist.layer_stats
        s = s[s["stage"] == "pre_norm"].sort_values(["layer", "step"])
        if s.empty:
            continue
        mean, std = s["mean"].to_numpy(np.float64), np.maximum(s["std"].to_numpy(np.float64), 1e-12)
        same = s["layer"].to_numpy()[1:] == s["layer"].to_numpy()[:-1]
        df = pd.DataFrame({"step": s["step"].to_numpy()[1:][same], "layer": s["layer"].to_numpy()[1:][same],
                           "mean_shift": (np.abs(np.diff(mean)) / std[:-1])[same],
                           "std_shift": np.abs(np.diff(np.log(std)))[same]})
        parts.append(df.assign(run=run))
    if not parts:
        return pd.DataFrame(columns=["run", "step", "mean_shift", "std_shift"])
    per_layer = finite(pd.concat(parts, ignore_index=True))
    return per_layer.groupby(["run", "step"], sort=False)[["mean_shift", "std_shift"]].median().reset_index()


@memo
def landscape_frame(land: pd.DataFrame) -> pd.DataFrame:
    """Per run and step (median over seeds): the loss's range over the step sizes, the largest gradient
    change, and the effective β-smoothness (the largest gradient change per unit of distance moved)."""
    land = land.assign(beta=land["grad_change"] / land["distance"].where(land["distance"] > 0))
    per = land.groupby(["norm", "seed", "step"], sort=False).agg(
        loss_range=("loss", lambda v: float(v.max() - v.min())), grad_change=("grad_change", "max"),
        beta=("beta", "max")).reset_index()
    g = per.groupby(["norm", "step"], sort=False)[["loss_range", "grad_change", "beta"]].median().reset_index()
    return finite(g.rename(columns={"norm": "run"}))


@memo
def compare_sentence(df: pd.DataFrame, value: str, what: str, smaller: str) -> str | None:
    """'<what>: median <a> without normalization against <b> with <norm>: <which is smaller>', measured
    over every recorded step of the runs in ``df`` (run, step, <value>)."""
    med = df.groupby("run", sort=False)[value].median()
    if "none" not in med or len(med) < 2:
        return None
    parts = []
    for run, v in med.items():
        if run == "none":
            continue
        ratio = v / med["none"] if med["none"] > 0 else float("inf")
        verdict = smaller if ratio < 1 else "not " + smaller
        parts.append(f"{RUN_LABELS[run]} {v:.3g} ({ratio:.2g}× no normalization's {med['none']:.3g}: {verdict})")
    return f"{what}, median over the probed steps: " + "; ".join(parts) + "."


# ---------------------------------------------------------------- the noisy arm (Santurkar et al. 2018, 2.1)

#: the runs of the noisy arm: no normalization, batch norm, and batch norm with noise after it
NOISY_ARM = ("none", "batch", "noisy_batch")
#: noisy batch norm trains "about as well as" batch norm when its median final validation loss is at
#: most this many times batch norm's (and it learned on every seed)
AS_WELL = 1.5


@memo
def val_loss_frame(runs: dict) -> pd.DataFrame:
    """Per run and recorded step, the validation loss, the median over seeds: (run, step, loss)."""
    parts = []
    for run, hs in as_seeds(runs).items():
        m = pd.concat([h.metrics[h.metrics["split"] == "val"][["step", "loss"]] for h in hs])
        parts.append(m.groupby("step")["loss"].median().reset_index().assign(run=run))
    if not parts:
        return pd.DataFrame(columns=["run", "step", "loss"])
    return finite(pd.concat(parts, ignore_index=True))


@memo
def noisy_facts(runs: dict) -> dict | None:
    """What the noisy arm measured over its seeds (runs: NOISY_ARM -> Histories): per run, the seeds
    that learned (``observe.outcome``), the median final validation loss and the median input drift
    (Ioffe's |Δ mean| / std over every layer and snapshot); None without the three runs."""
    from dashboard import observe as ob

    seeded = as_seeds(runs)
    if not set(NOISY_ARM) <= seeded.keys():
        return None
    shift = ioffe_frame({n: seeded[n] for n in NOISY_ARM}).groupby("run")["mean_shift"].median()
    facts = {}
    for n in NOISY_ARM:
        finals = [h.final("val") for h in seeded[n]]
        losses = [f["loss"] for f in finals if f and np.isfinite(f["loss"])]
        facts[n] = {"learned": sum(ob.outcome(h) == "learned" for h in seeded[n]), "seeds": len(seeded[n]),
                    "loss": float(np.median(losses)) if losses else float("nan"),
                    "shift": float(shift.get(n, float("nan")))}
    return facts


def noisy_verdict(facts: dict) -> str:
    """Noisy batch norm's measured standing, in words: it does not train on every seed; it still trains
    about as well as batch norm (median final validation loss within AS_WELL times batch norm's); or
    it still trains, less well."""
    noisy, bn = facts["noisy_batch"], facts["batch"]
    if noisy["learned"] < noisy["seeds"]:
        return "does not train on every seed"
    if noisy["loss"] <= AS_WELL * bn["loss"]:
        return "still trains about as well as batch norm"
    return "still trains, but less well than batch norm"


@memo
def noisy_sentence(runs: dict) -> str | None:
    """The noisy arm's measured verdict over the seeds on screen, in one sentence."""
    facts = noisy_facts(runs)
    if facts is None:
        return None
    noisy, bn, plain = facts["noisy_batch"], facts["batch"], facts["none"]
    n = noisy["seeds"]

    def g(x: float) -> str:  # a measured number, or why there is none
        return f"{x:.3g}" if np.isfinite(x) else "none (diverged)"

    if np.isfinite(noisy["shift"]) and np.isfinite(bn["shift"]) and bn["shift"] > 0:
        drift = f"moved {noisy['shift'] / bn['shift']:.2g}× as far between snapshots as batch norm's"
    else:
        drift = "could not be compared with batch norm's (a run diverged)"
    return (f"Over {n} seed{'s' if n > 1 else ''}, noisy batch norm's layer inputs {drift} (median "
            f"|Δ mean| / std {g(noisy['shift'])} against {g(bn['shift'])}; no normalization {g(plain['shift'])}), "
            f"and it learned on {noisy['learned']} of {n} seeds (batch norm {bn['learned']}, no normalization "
            f"{plain['learned']}) with a median final validation loss of {g(noisy['loss'])} against batch "
            f"norm's {g(bn['loss'])} and no normalization's {g(plain['loss'])}: it {noisy_verdict(facts)}.")
