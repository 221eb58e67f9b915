"""The pages' "What you see" paragraphs, measured on the runs on screen.

Each function takes what a page shows (its runs dict and the step or layer
chosen) and returns plain-text sentences; a sentence appears only when the
runs show what it says (a band is said to narrow only when its measured
width fell; saturation only when measured; running statistics only when a
batch-norm run is shown; the boundary only on a 2-D classification set).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from dashboard import observe as ob
from dashboard import seeds as sd
from dashboard.chartcache import memo
from dashboard.charts import RUN_LABELS

#: a gradient that shrinks this many times from the deepest layer to layer 1 "vanishes"
VANISHING = 100.0
PAST = {"narrows": "narrowed", "widens": "widened"}
STAGE_WORDS = {
    "pre_norm": "values before the norm",
    "post_norm": "values after the norm",
    "pre_activation": "activation inputs",
    "post_activation": "activation outputs",
}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _median_shrink(hist) -> float | None:
    """The gradient's shrink from the deepest layer to layer 1, median over the recorded steps."""
    h = hist.layer_health
    if h.empty or h["layer"].max() < 2:
        return None
    steps, layers = h["step"].to_numpy(), h["layer"].to_numpy()
    # every recorded step holds every layer: rows sorted by (step, layer) are a (steps, depth) table
    grad = h["grad_norm"].to_numpy()[np.lexsort((layers, steps))].reshape(-1, int(layers.max()))
    first, last = grad[:, 0], grad[:, -1]
    ok = first > 0
    return float(np.median(last[ok] / first[ok])) if ok.any() else None


def _why_not(norm: str, hist, depth: int) -> str:
    """What the records show about a run that did not learn (vanishing gradient, saturation)."""
    reasons = []
    shrink = _median_shrink(hist)
    if shrink is not None and shrink >= VANISHING:
        reasons.append(f"the gradient reaching layer 1 was typically {ob.num(shrink)}× smaller than at "
                       f"layer {depth} (see Activations)")
    sat = float(hist.layer_health["saturated"].mean()) if len(hist.layer_health) else 0.0
    if sat >= ob.SATURATION_SHOWN and hist.config.activation != "relu":  # relu: half are 0 by design
        reasons.append(f"{ob.pct(sat)} of its units were saturated on average")
    return ": " + " and ".join(reasons) if reasons else ""


@memo
def training(runs: dict) -> list[str]:
    """Training page: how each run ended, why a run did not learn, and the boundary when there is one."""
    lines = [_cap(ob.result_sentence(n, h)) + "." for n, h in runs.items()]
    outcomes = {n: ob.outcome(h) for n, h in runs.items()}
    plain_failed = outcomes.get("none") == "chance"
    for norm, hist in runs.items():
        why = _why_not(norm, hist, hist.config.depth)
        if outcomes[norm] == "chance" and (norm != "none" or why):
            either = " either" if plain_failed and norm != "none" else ""
            lines.append(f"{_cap(ob.with_label(norm))} the network did not learn{either}{why}.")
        elif outcomes[norm] == "worse":
            lines.append(f"{_cap(ob.with_label(norm))} the network did not learn: its validation loss ended "
                         f"above a uniform guess's{why.replace(': ', ', and ', 1)}.")
        elif outcomes[norm] == "partial":
            lines.append(f"{_cap(ob.with_label(norm))} the network learned only partly{why}.")
    two_d = all(h.task == "classification" and h.boundary is not None and len(h.boundary_steps) for h in runs.values())
    if two_d:
        lines.append("Press play to watch each run's decision boundary change over training.")
    return lines


def _band_sentence(norm: str, hist, layer: int, stage: str) -> str | None:
    b = ob.band_change(hist, layer, stage)
    if b is None:
        return None
    moves = []
    if b["drift"]:
        moves.append(f"drifted {b['drift']} (median {b['m0']:.2f} to {b['m1']:.2f})")
    if b["width"]:
        moves.append(f"{PAST[b['width']]} (width {ob.num(b['w0'])} to {ob.num(b['w1'])})")
    what = f"layer {layer}'s band ({STAGE_WORDS.get(stage, stage)}, 15th to 85th percentile)"
    if not moves:
        return (f"{_cap(ob.with_label(norm))} {what} stayed put: median {b['m0']:.2f} to {b['m1']:.2f}, "
                f"width {ob.num(b['w0'])} to {ob.num(b['w1'])}.")
    return f"{_cap(ob.with_label(norm))} {what} " + " and ".join(moves) + "."


@memo
def activations(runs: dict, *, layer: int, stage: str, step: int) -> list[str]:
    """Activations page: the chosen layer's band, the spread down the depth, saturation and gradients."""
    lines = [s for s in (_band_sentence(n, h, layer, stage) for n, h in runs.items()) if s]
    for norm, hist in runs.items():
        spread = ob.layer_stat(hist, step, stage)
        if len(spread) < 2:
            continue
        what = f"Down the depth at step {step:,}, {ob.with_label(norm)} the spread (std) of the " \
               f"{STAGE_WORDS.get(stage, stage)}"
        lo, hi = float(spread.min()), float(spread.max())
        if lo > 0 and hi / lo < 1.05:
            lines.append(f"{what} was {ob.between(lo, hi).removeprefix('of ')} at every layer.")
        else:
            lines.append(f"{what} ranged from {ob.num(lo)} (layer {int(spread.idxmin())}) to "
                         f"{ob.num(hi)} (layer {int(spread.idxmax())}).")
    vanishing = False
    for norm, hist in runs.items():
        shrink = ob.gradient_shrink(hist, step)
        if shrink is None or not np.isfinite(shrink):
            continue
        depth = hist.config.depth
        if shrink >= 1:
            size = f"{ob.num(shrink)}× smaller"
            vanishing |= shrink >= VANISHING
        else:
            size = f"{ob.num(1 / shrink)}× larger"
        lines.append(f"At step {step:,}, {ob.with_label(norm)} the gradient reaching layer 1 was {size} than at "
                     f"layer {depth}.")
    activation = next(iter(runs.values())).config.activation if runs else ""
    if vanishing and activation == "sigmoid":
        lines.append("A sigmoid's slope is at most 1/4, so every layer the gradient passes back through can "
                     "shrink it fourfold or more.")
    for norm, hist in runs.items():
        sat = ob.saturation(hist, step)
        if sat >= ob.SATURATION_SHOWN:
            kind = "ReLU outputs were 0 (no gradient passes there)" if activation == "relu" \
                else "units were saturated (slope below 10 % of its maximum)"
            lines.append(f"At step {step:,}, {ob.with_label(norm)} {ob.pct(sat)} of the {kind}.")
    return lines


@memo
def norm_params(runs: dict) -> list[str]:
    """γ/β page: where γ and β went, batch norm's statistics (batch-norm runs only), the two modes."""
    lines = []
    for norm, hist in runs.items():
        p = hist.norm_params
        if norm == "none" or p.empty:
            continue
        last = p[p["step"].to_numpy() == p["step"].max()]
        g, b = last["gamma"].to_numpy(np.float64), last["beta"].to_numpy(np.float64)
        lines.append(f"{_cap(ob.with_label(norm))}, at the last step γ ranged from {g.min():.2f} to {g.max():.2f} "
                     f"and β from {b.min():.2f} to {b.max():.2f} over the tracked units (they start at 1 and 0).")
        if norm == "batch":
            lines.extend(_batch_statistics(hist))
        gap = ob.mode_gap(hist)
        if gap is not None and gap <= ob.SAME_MODES:
            lines.append(f"{_cap(ob.with_label(norm))} the layers' outputs were the same in training and "
                         f"evaluation mode (they differed by less than {ob.share(ob.SAME_MODES)} of their spread).")
        elif gap is not None:
            lines.append(f"{_cap(ob.with_label(norm))} the layers' outputs in training mode differed from those "
                         f"in evaluation mode by {ob.share(gap)} of their spread (rms).")
    return lines


def _batch_statistics(hist) -> list[str]:
    factor = ob.batch_var_factor(hist)
    if factor is None:
        return []
    n = min(hist.config.batch_size, hist.n_train)
    lines = [f"Batch norm's running statistics average the batch statistics with momentum "
             f"{hist.config.bn_momentum:g}; with batches of {n}, a batch's variance was typically "
             f"{factor:.2f}× off the running variance, which is what evaluation mode uses."]
    if n == 2:
        share = float((ob.normalized_magnitude(hist) >= 0.99).mean())
        lines.append(f"With two samples per batch, {ob.share(share)} of the recorded batch-normalized values were "
                     "±1 before γ and β: each unit only tells which of the two samples is larger.")
    return lines


# ---------------------------------------------------------------- over several seeds
# The same paragraphs for runs over seeds (normalization -> one History per seed): each sentence
# counts the seeds it holds on, and gives the median over seeds with the lowest and highest value.

OUTCOME_WORDS = {
    "learned": "learned",
    "partial": "learned only partly",
    "chance": "stayed at a uniform guess's loss",
    "worse": "ended above a uniform guess's loss",
    "diverged": "diverged",
}


def of(k: int, n: int) -> str:
    """'3 of 3 seeds'."""
    return f"{k} of {n} seed{'s' if n != 1 else ''}"


def spread(values, fmt=ob.num) -> str:
    """'a median of 0.52 (0.31 to 0.70)': the median over seeds, then the lowest and highest."""
    v = np.asarray(values, dtype=np.float64)
    lo, mid, hi = fmt(float(v.min())), fmt(float(np.median(v))), fmt(float(v.max()))
    return f"a median of {mid}" + ("" if lo == hi else f" ({lo} to {hi})")


def seed_span(runs: dict) -> str:
    """'seeds 0 to 2': the seeds on screen."""
    seeds = sd.seed_values(runs)
    return f"seeds {seeds[0]} to {seeds[-1]}" if len(seeds) > 1 else f"seed {seeds[0]}"


def curve_ends(runs: dict) -> dict[str, int]:
    """The runs a curve chart marks as diverged: run -> step. One seed: each diverged run at its step;
    over seeds: a run every seed of which diverged, at the last one's step (where its median ends)."""
    out = {}
    for norm, hists in sd.as_seeds(runs).items():
        if all(h.diverged for h in hists):
            out[norm] = max(int(h.diverged_at) for h in hists)
    return out


def _outcomes_sentence(norm: str, hists) -> str:
    n = len(hists)
    counts = Counter(ob.outcome(h) for h in hists)
    parts = [f"{OUTCOME_WORDS[k]} on {of(c, n) if i == 0 else c}"
             for i, (k, c) in enumerate(counts.most_common())]
    finals = [h.final("val") for h in hists if not h.diverged and h.final("val")]
    numbers = ""
    if finals:
        score = "validation accuracy" if hists[0].task == "classification" else "R²"
        fmt = ob.pct if hists[0].task == "classification" else (lambda x: f"{x:.2f}")
        numbers = (f"; its final validation loss was {spread([f['loss'] for f in finals])} and its {score} "
                   f"{spread([f['accuracy'] for f in finals], fmt)}"
                   + (f" over the {len(finals)} seeds that did not diverge" if len(finals) < n else ""))
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{_cap(ob.with_label(norm))}, the network {listed}{numbers}."


def beats(normed, plain) -> bool:
    """A normalized run beat the plain one of the same seed: it did not diverge, and the plain one did or
    ended with a higher validation loss."""
    if normed.diverged or not normed.final("val"):
        return False
    if plain.diverged or not plain.final("val"):
        return True
    return normed.final("val")["loss"] < plain.final("val")["loss"]


def _beat_sentence(norm: str, hists, plain) -> str:
    k, n = sum(beats(a, b) for a, b in zip(hists, plain, strict=True)), len(hists)
    gone = " (or it trained where that one diverged)" if any(p.diverged for p in plain) else ""
    return (f"{_cap(RUN_LABELS.get(norm, norm))} beat no normalization on {of(k, n)}: a lower final validation "
            f"loss than the plain network trained with the same seed, on the same data from the same initial "
            f"weights{gone}.")


def _why_not_seeds(norm: str, hists) -> str | None:
    """What the records show about a run that failed on some seed: vanishing gradient, saturation."""
    n, depth = len(hists), hists[0].config.depth
    if all(ob.outcome(h) in ("learned", "diverged") for h in hists):
        return None
    shrinks = [s for s in (_median_shrink(h) for h in hists) if s is not None]
    reasons = []
    vanished = [s for s in shrinks if s >= VANISHING]
    if vanished:
        reasons.append(f"on {of(len(vanished), n)} the gradient reaching layer 1 was typically at least "
                       f"{ob.num(VANISHING)}× smaller than at layer {depth}, by {spread(shrinks)} times over the "
                       "seeds (see Activations)")
    sats = [float(h.layer_health["saturated"].mean()) for h in hists if len(h.layer_health)]
    if sats and np.median(sats) >= ob.SATURATION_SHOWN and hists[0].config.activation != "relu":
        reasons.append(f"on average {spread(sats, ob.pct)} of its units were saturated")
    return f"{_cap(ob.with_label(norm))}: " + " and ".join(reasons) + "." if reasons else None


@memo
def training_seeds(runs: dict) -> list[str]:
    """Training page over seeds: how each run ended on how many seeds, how often each normalization beat
    the plain network, why a run did not learn, and which seed the boundaries show."""
    seeded = sd.as_seeds(runs)
    lines = [_outcomes_sentence(n, hs) for n, hs in seeded.items()]
    if "none" in seeded:
        lines += [_beat_sentence(n, hs, seeded["none"]) for n, hs in seeded.items() if n != "none"]
    lines += [s for s in (_why_not_seeds(n, hs) for n, hs in seeded.items()) if s]
    first = sd.first(runs).values()
    if all(h.task == "classification" and h.boundary is not None and len(h.boundary_steps) for h in first):
        seed = next(iter(first)).config.seed
        lines.append(f"The decision boundaries show one network per run, trained with seed {seed} (the first): "
                     "press play to watch them change over training.")
    return lines


def _band_seeds(norm: str, hists, layer: int, stage: str) -> str | None:
    bands = [b for b in (ob.band_change(h, layer, stage) for h in hists) if b is not None]
    if not bands:
        return None
    n = len(bands)

    def med(key: str, fmt=ob.num) -> str:
        return fmt(float(np.median([b[key] for b in bands])))

    what = (f"{_cap(ob.with_label(norm))} layer {layer}'s band ({STAGE_WORDS.get(stage, stage)}, 15th to 85th "
            f"percentile) moved its median from {med('m0', lambda x: f'{x:.2f}')} to {med('m1', lambda x: f'{x:.2f}')} "
            f"and its width from {med('w0')} to {med('w1')} (medians over {n} seeds)")
    moves = Counter(m for b in bands for m in (f"drifted {b['drift']}" if b["drift"] else None,
                                                 PAST[b["width"]] if b["width"] else None) if m)
    if not moves:
        return f"{what}; it stayed put on {of(n, n)}."
    return f"{what}; it " + " and ".join(f"{m} on {of(c, n)}" for m, c in moves.most_common()) + "."


def _depth_seeds(norm: str, hists, step: int, stage: str) -> str | None:
    spreads = [s for s in (ob.layer_stat(h, step, stage) for h in hists) if len(s) >= 2]
    if not spreads:
        return None
    lo, hi = min(float(s.min()) for s in spreads), max(float(s.max()) for s in spreads)
    what = (f"Down the depth at step {step:,}, {ob.with_label(norm)} the spread (std) of the "
            f"{STAGE_WORDS.get(stage, stage)}")
    if lo > 0 and hi / lo < 1.05:
        return f"{what} was {ob.between(lo, hi).removeprefix('of ')} at every layer of all {len(spreads)} seeds."
    return f"{what} ranged from {ob.num(lo)} to {ob.num(hi)} over the layers of all {len(spreads)} seeds."


def _gradient_seeds(norm: str, hists, step: int) -> tuple[str | None, bool]:
    """The gradient's shrink from the deepest layer to layer 1, counted over seeds; and whether it vanished."""
    shrinks = [s for s in (ob.gradient_shrink(h, step) for h in hists) if s is not None and np.isfinite(s)]
    if not shrinks:
        return None, False
    n, smaller, mid = len(shrinks), sum(s >= 1 for s in shrinks), float(np.median(shrinks))
    size = f"{ob.num(mid)}× smaller" if mid >= 1 else f"{ob.num(1 / mid)}× larger"
    how = f"smaller than at layer {hists[0].config.depth} on {of(smaller, n)}" if 2 * smaller >= n \
        else f"larger than at layer {hists[0].config.depth} on {of(n - smaller, n)}"
    return (f"At step {step:,}, {ob.with_label(norm)} the gradient reaching layer 1 was {how} "
            f"(the median seed: {size})."), mid >= VANISHING


@memo
def activations_seeds(runs: dict, *, layer: int, stage: str, step: int) -> list[str]:
    """Activations page over seeds: the chosen layer's band, the spread down the depth, the gradient and
    saturation, each counted over the seeds."""
    seeded = sd.as_seeds(runs)
    lines = [s for s in (_band_seeds(n, hs, layer, stage) for n, hs in seeded.items()) if s]
    lines += [s for s in (_depth_seeds(n, hs, step, stage) for n, hs in seeded.items()) if s]
    vanishing = False
    for norm, hists in seeded.items():
        line, vanished = _gradient_seeds(norm, hists, step)
        lines += [line] if line else []
        vanishing |= vanished
    activation = next(iter(seeded.values()))[0].config.activation if seeded else ""
    if vanishing and activation == "sigmoid":
        lines.append("A sigmoid's slope is at most 1/4, so every layer the gradient passes back through can "
                     "shrink it fourfold or more.")
    for norm, hists in seeded.items():
        sats = [ob.saturation(h, step) for h in hists]
        if np.median(sats) >= ob.SATURATION_SHOWN:
            kind = "ReLU outputs were 0 (no gradient passes there)" if activation == "relu" \
                else "units were saturated (slope below 10 % of its maximum)"
            lines.append(f"At step {step:,}, {ob.with_label(norm)} {spread(sats, ob.pct)} of the {kind}, over "
                         f"{len(sats)} seeds.")
    return lines


def _params_seeds(norm: str, hists) -> str:
    last = [p[p["step"].to_numpy() == p["step"].max()] for p in (h.norm_params for h in hists) if not p.empty]
    g = np.concatenate([f["gamma"].to_numpy(np.float64) for f in last])
    b = np.concatenate([f["beta"].to_numpy(np.float64) for f in last])
    return (f"{_cap(ob.with_label(norm))}, at the last step γ ranged from {g.min():.2f} to {g.max():.2f} and β "
            f"from {b.min():.2f} to {b.max():.2f} over the tracked units of {len(last)} seeds (they start at 1 "
            "and 0).")


def _batch_statistics_seeds(hists) -> list[str]:
    factors = [f for f in (ob.batch_var_factor(h) for h in hists) if f is not None]
    if not factors:
        return []
    n = min(hists[0].config.batch_size, hists[0].n_train)
    lines = [f"Batch norm's running statistics average the batch statistics with momentum "
             f"{hists[0].config.bn_momentum:g}; with batches of {n}, a batch's variance was typically "
             f"{np.median(factors):.2f}× off the running variance, which is what evaluation mode uses (the median "
             f"over {len(factors)} seeds; from {min(factors):.2f}× to {max(factors):.2f}×)."]
    if n == 2:
        shares = [float((ob.normalized_magnitude(h) >= 0.99).mean()) for h in hists if len(ob.normalized_magnitude(h))]
        if shares:
            lines.append(f"With two samples per batch, {spread(shares, ob.share)} of the recorded batch-normalized "
                         f"values were ±1 before γ and β, over {of(len(shares), len(hists))}: each unit only tells "
                         "which of the two samples is larger.")
    return lines


def _modes_seeds(norm: str, hists) -> str | None:
    gaps = [g for g in (ob.mode_gap(h) for h in hists) if g is not None]
    if not gaps:
        return None
    same = sum(g <= ob.SAME_MODES for g in gaps)
    if same == len(gaps):
        return (f"{_cap(ob.with_label(norm))} the layers' outputs were the same in training and evaluation mode "
                f"on {of(same, len(gaps))} (they differed by less than {ob.share(ob.SAME_MODES)} of their spread).")
    return (f"{_cap(ob.with_label(norm))} the layers' outputs in training mode differed from those in evaluation "
            f"mode by at least {ob.share(ob.SAME_MODES)} of their spread on {of(len(gaps) - same, len(gaps))}, by "
            f"{spread(gaps, ob.share)} (rms).")


@memo
def norm_params_seeds(runs: dict) -> list[str]:
    """γ/β page over seeds: where γ and β went, batch norm's statistics and the two modes, over the seeds."""
    lines = []
    for norm, hists in sd.as_seeds(runs).items():
        if norm == "none" or all(h.norm_params.empty for h in hists):
            continue
        lines.append(_params_seeds(norm, hists))
        if norm == "batch":
            lines.extend(_batch_statistics_seeds(hists))
        lines += [s for s in (_modes_seeds(norm, hists),) if s]
    return lines
