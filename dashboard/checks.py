"""Each lesson's claim as a check: what its view computed in, a :class:`Verdict` out.

A check reads only what was recorded (the runs' History frames, or the
landscape result), so a page can judge the runs already on screen at no
training cost; the network checks are memoized on the runs (a rerun that
changes nothing costs nothing). The verdict's text gives the measured numbers in plain words
(no Markdown); when the claim does not hold for these settings it says so,
with the same numbers.

The thresholds are scales of the phenomenon, chosen from what holds over
many seeds (see the lessons' tests), never fitted to one run.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard import observe as ob
from dashboard.chartcache import memo

#: "a few steps" of gradient descent
FEW_STEPS = 20
#: raw descent needs at least this many times the standardized one's steps
SLOWER_FACTOR = 100
#: train mode and eval mode "differ" when their values differ by this share of their spread (rms);
#: batch norm's differ by 20-80 % at every batch size from 32 down to 4, and by over 100 % at 2
MODE_GAP = 0.1
#: batches of two: |x̂| at least this counts as ±1, on at least this share of the unit-steps
PM1, PM1_SHARE = 0.99, 0.9
#: bad initialisation: the deepest layer's spread is below this share of the first layer's
SHRUNK = 1e-3


@dataclass(frozen=True)
class Verdict:
    """Whether a lesson's claim holds for what was measured, and the numbers, in one sentence."""

    holds: bool
    text: str


def _say(holds: bool, facts: str, why_not: str = "") -> Verdict:
    if holds:
        return Verdict(True, f"Seen in this run: {facts}.")
    reason = f" {why_not}" if why_not else ""
    return Verdict(False, f"Not seen with these settings: {facts}.{reason}")


def _missing(runs: dict, needed: tuple[str, ...]) -> Verdict | None:
    absent = [n for n in needed if n not in runs]
    if not absent:
        return None
    names = " and ".join(ob.with_label(n).replace("with ", "") for n in absent)
    return Verdict(False, f"This lesson needs the run with {names}, which is not on screen: "
                          "compare against it in the sidebar, or reopen the lesson.")


# ---------------------------------------------------------------- the landscape


def valley(result) -> Verdict:
    """Raw features: a badly conditioned valley, many steps; standardized: a round bowl, a few steps."""
    raw, std = result.runs["raw"], result.runs["standardized"]
    scale = result.config.lr_scale
    k = f"the raw features' condition number is {raw.condition_number:,.0f} against {std.condition_number:.2f} standardized"
    if std.steps_to_1pct is None:
        return _say(False, f"{k}, and at {scale:g}× its largest stable rate the standardized descent "
                           "never gets within 1 % of the best loss (the rate is not stable)",
                    "Below 1× the stable rate both descents converge.")
    if raw.steps_to_1pct is None:
        raw_txt = "raw descent does not get within 1 % of the best loss in ten million steps"
        slower = True
    else:
        raw_txt = f"raw descent needs {raw.steps_to_1pct:,} steps to get within 1 % of the best loss"
        slower = raw.steps_to_1pct >= SLOWER_FACTOR * std.steps_to_1pct
    facts = (f"{k}; at {scale:g}× each one's largest stable rate {raw_txt}, "
             f"standardized descent {std.steps_to_1pct:,} steps")
    holds = (raw.condition_number >= SLOWER_FACTOR * std.condition_number and slower
             and std.steps_to_1pct <= FEW_STEPS)
    return _say(holds, facts)


# ---------------------------------------------------------------- network lessons


@memo
def deep_sigmoid(runs: dict) -> Verdict:
    """Without normalization the loss stays at a coin flip's; with batch norm the network learns."""
    if (miss := _missing(runs, ("none", "batch"))) is not None:
        return miss
    plain, bn = runs["none"], runs["batch"]
    holds = ob.outcome(plain) == "chance" and ob.outcome(bn) == "learned"
    facts = f"{ob.result_sentence('none', plain)}; {ob.result_sentence('batch', bn)}"
    return _say(holds, facts)


@memo
def high_lr(runs: dict) -> Verdict:
    """At this rate the plain network diverges; with batch norm it trains."""
    if (miss := _missing(runs, ("none", "batch"))) is not None:
        return miss
    plain, bn = runs["none"], runs["batch"]
    holds = plain.diverged and ob.outcome(bn) == "learned"
    facts = f"{ob.result_sentence('none', plain)}; {ob.result_sentence('batch', bn)}"
    return _say(holds, facts)


@memo
def bad_init(runs: dict) -> Verdict:
    """Tiny initial weights shrink the signal layer by layer; batch norm restores its spread."""
    if (miss := _missing(runs, ("none", "batch"))) is not None:
        return miss
    plain, bn = runs["none"], runs["batch"]
    spread = ob.layer_stat(plain, 0, "pre_activation")
    normed = ob.layer_stat(bn, 0, "pre_activation")  # the activation's inputs: batch norm's outputs
    if len(spread) < 2 or normed.empty:
        return Verdict(False, "This lesson needs at least two hidden layers to follow the signal.")
    deep = int(spread.index[-1])
    ratio = spread.iloc[-1] / max(spread.iloc[0], 1e-300)
    shrank = ratio <= SHRUNK
    restored = bool(((normed > 0.5) & (normed < 2.0)).all())
    holds = shrank and restored and ob.outcome(plain) == "chance" and ob.outcome(bn) == "learned"
    facts = (f"at step 0, without normalization the spread (std) of layer {deep}'s inputs was "
             f"{ob.num(spread.iloc[-1])} against {ob.num(spread.iloc[0])} at layer 1, "
             f"and with batch norm the activations' inputs had a std {ob.between(normed.min(), normed.max())} "
             f"at every layer; {ob.result_sentence('none', plain)}; "
             f"{ob.result_sentence('batch', bn)}")
    return _say(holds, facts)


@memo
def tiny_batches(runs: dict) -> Verdict:
    """Batch norm's output depends on the rest of the batch (its two modes differ; a tiny batch's
    statistics stray far from the running ones); layer norm's does not."""
    if (miss := _missing(runs, ("batch", "layer"))) is not None:
        return miss
    bn, ln = runs["batch"], runs["layer"]
    gap_bn, gap_ln, factor = ob.mode_gap(bn), ob.mode_gap(ln), ob.batch_var_factor(bn)
    if gap_bn is None or gap_ln is None or factor is None:
        return Verdict(False, "Not measured: a run diverged before the two modes could be compared.")
    n = min(bn.config.batch_size, bn.n_train)
    holds = gap_bn >= MODE_GAP and gap_ln <= ob.SAME_MODES
    ln_txt = (f"layer norm's were the same in both modes (they differed by less than {ob.share(ob.SAME_MODES)})"
              if gap_ln <= ob.SAME_MODES else f"layer norm's differed by {ob.share(gap_ln)}")
    facts = (f"with batches of {n}, a batch's variance was typically {factor:.2f}× off batch norm's "
             f"running estimate, and its layers' outputs in training mode differed from those in "
             f"evaluation mode by {ob.share(gap_bn)} of their spread (rms); {ln_txt}")
    return _say(holds, facts)


@memo
def train_eval(runs: dict) -> Verdict:
    """Batches of two: training mode reduces every unit to ±1; evaluation mode does not."""
    if (miss := _missing(runs, ("batch",))) is not None:
        return miss
    bn = runs["batch"]
    n = min(bn.config.batch_size, bn.n_train)
    mags, gap = ob.normalized_magnitude(bn), ob.mode_gap(bn)
    if n != 2:
        return Verdict(False, f"Not seen with these settings: with batches of {n} the normalized values "
                              "are not forced to ±1; that happens with two samples per batch only.")
    if not len(mags) or gap is None:
        return Verdict(False, "Not measured: the run diverged before its statistics were recorded.")
    share = float((mags >= PM1).mean())
    losses = ob.mode_losses(bn)
    holds = share >= PM1_SHARE and gap >= MODE_GAP
    facts = (f"with two samples per batch, {ob.share(share)} of the recorded batch-normalized values were "
             f"±1 (|x̂| ≥ {PM1}) before γ and β, so in training mode each unit only tells which of the two "
             f"samples is larger; with the running statistics of evaluation mode the layers' outputs "
             f"differed from training mode's by {ob.share(gap)} of their spread (rms)")
    if {"train", "eval"} <= losses.keys():
        facts += (f"; validation loss {ob.num(losses['train'])} in training mode and "
                  f"{ob.num(losses['eval'])} in evaluation mode")
    return _say(holds, facts)


# ---------------------------------------------------------------- sweeps (a results table in)

#: the learning-rate sweep: the normalized network learns on every seed at rates at least this many
#: times higher than the plain one (measured on 8 ReLU layers of 32, He init, momentum 0.9, moons:
#: 10x on seeds 0-2, 3x on seeds 3-5; the rates of the sweep are about 3x apart)
LR_RATIO = 3.0


def _sweep_norms(results) -> tuple[str, ...]:
    """The normalizations of a sweep's results table (none for anything that is not one: a check given
    another view's runs answers in words, never raises)."""
    if not isinstance(results, pd.DataFrame) or not {"norm", "axis", "value", "status"} <= set(results.columns):
        return ()
    return tuple(dict.fromkeys(results["norm"])) if len(results) else ()


@memo
def lr_sweep(results) -> Verdict:
    """Normalization learns, on every seed, at rates at least LR_RATIO times the plain network's."""
    from core.sweep import headline

    norms = _sweep_norms(results)
    if "none" not in norms or len(norms) < 2 or results["axis"].iloc[0] != "lr":
        return Verdict(False, "This lesson needs a learning-rate sweep with no normalization and a normalization.")
    best, seeds = headline(results), results["seed"].nunique()
    other = next(n for n in norms if n != "none")
    plain, normed = best["none"], best[other]
    who = ob.RUN_LABELS.get(other, other)
    if normed is None:
        return _say(False, f"{who} did not learn on all {seeds} seeds at any rate of the sweep")
    if plain is None:
        return _say(True, f"no normalization did not learn on all {seeds} seeds at any rate; {who} learned on "
                          f"all of them up to rate {normed:g}")
    ratio = normed / plain
    facts = (f"no normalization learned on all {seeds} seeds up to rate {plain:g}, {who} up to {normed:g}: "
             f"a rate {ob.num(ratio)}× as high")
    return _say(ratio >= LR_RATIO * (1 - 1e-9), facts, f"The lesson expects at least {LR_RATIO:g}×.")


#: the depth sweep: the normalized network learns on every seed at least this many times deeper
#: (measured on sigmoid layers of 32, Glorot init, momentum 0.9, moons, seeds 0-2: no normalization up to 3 layers, batch norm
#: at every depth to 20)
DEPTH_FACTOR = 2.0


@memo
def depth_sweep(results) -> Verdict:
    """Without normalization the deep networks stop learning; with it every depth of the sweep learns."""
    from core.sweep import headline

    norms = _sweep_norms(results)
    if "none" not in norms or len(norms) < 2 or results["axis"].iloc[0] != "depth":
        return Verdict(False, "This lesson needs a depth sweep with no normalization and a normalization.")
    best, seeds, deepest = headline(results), results["seed"].nunique(), int(results["value"].max())
    other = next(n for n in norms if n != "none")
    plain, normed = best["none"], best[other]
    who = ob.RUN_LABELS.get(other, other)
    plain_txt = (f"no normalization learned on all {seeds} seeds up to {int(plain)} hidden layers"
                 if plain is not None else f"no normalization did not learn on all {seeds} seeds at any depth")
    normed_txt = (f"{who} up to {int(normed)}" if normed is not None else f"{who} at no depth")
    holds = normed is not None and int(normed) == deepest and (plain is None or normed >= DEPTH_FACTOR * plain)
    return _say(holds, f"{plain_txt}, {normed_txt} (the sweep goes to {deepest})")


@memo
def batch_sweep(results) -> Verdict:
    """At the smallest batch, batch norm's validation error is above layer norm's (its statistics come from
    a tiny batch); the view says by how much."""
    from core.sweep import summary

    norms = _sweep_norms(results)
    if not {"batch", "layer"} <= set(norms) or results["axis"].iloc[0] != "batch_size":
        return Verdict(False, "This lesson needs a batch-size sweep with batch norm and layer norm.")
    summ = summary(results)
    small = summ[summ["value"] == summ["value"].min()].set_index("norm")
    bn, ln = 1 - small.loc["batch", "acc_median"], 1 - small.loc["layer", "acc_median"]
    n, seeds = int(summ["value"].min()), results["seed"].nunique()
    if not (bn == bn and ln == ln):  # NaN: every seed diverged
        return Verdict(False, f"Not measured: at batch {n} every seed of one normalization diverged.")
    facts = (f"at batch {n} the median validation error over {seeds} seeds was {ob.pct(bn)} with batch norm "
             f"and {ob.pct(ln)} with layer norm, {abs(100 * (bn - ln)):.0f} points apart")
    return _say(bn > ln, facts)


# ---------------------------------------------------------------- over seeds

PREFIXES = ("Seen in this run: ", "Not seen with these settings: ")


def _detail(text: str) -> str:
    for p in PREFIXES:
        if text.startswith(p):
            return text[len(p):]
    return text


def per_seed(measured) -> list[dict] | None:
    """Runs over seeds (normalization -> one History per seed) as one runs dict per seed; None for
    anything else (one run per normalization, a landscape result, a sweep's table)."""
    if not (isinstance(measured, dict) and measured and all(isinstance(v, tuple) for v in measured.values())):
        return None
    n = min(len(v) for v in measured.values())
    return [{k: v[i] for k, v in measured.items()} for i in range(n)]


def judge(check, measured) -> Verdict:
    """A lesson's check on what its view computed: one run per normalization as it is; runs over seeds
    (normalization -> one History per seed) seed by seed, the verdict counting the seeds it holds on.

    It holds when it holds on every seed; the text says on how many it did, on which it did not, and
    the measured numbers of the first seed."""
    runs_per_seed = per_seed(measured)
    if runs_per_seed is None:
        return check(measured)
    seeded, n = measured, len(runs_per_seed)
    verdicts = [check(runs) for runs in runs_per_seed]
    if n == 1 or (len({v.text for v in verdicts}) == 1 and not verdicts[0].text.startswith(PREFIXES)):
        return verdicts[0]  # one seed, or a verdict no run decides (a run the lesson needs is missing)
    seeds = [int(next(iter(seeded.values()))[i].config.seed) for i in range(n)]
    held = [s for s, v in zip(seeds, verdicts, strict=True) if v.holds]
    missed = [str(s) for s in seeds if s not in held]
    span = f"seeds {seeds[0]} to {seeds[-1]}"
    head = f"Seen on {len(held)} of {n} seeds ({span})" if held else f"Not seen on any of the {n} seeds ({span})"
    if held and missed:
        head += f"; not on seed{'s' if len(missed) > 1 else ''} {', '.join(missed)}"
    return Verdict(len(held) == n, f"{head}. On seed {seeds[0]}: {_detail(verdicts[0].text)}")


# ---------------------------------------------------------------- the Why view (WhyRuns in: dashboard.whyrun)

#: noisy batch norm "moves its layers' inputs more" when its median drift is at least this many times
#: batch norm's (measured on 8 ReLU layers: 5-9x on every seed of 0-9, 11, 23, 37, 58, 99)
NOISY_DRIFT = 3.0
#: signal propagation: a variance that stays within this factor down the depth is "flat"; one that
#: moves by this factor or more has "drifted" (10 sigmoid layers without normalization: 1e10-1e12)
FLAT, DRIFTED = 1.1, 1000.0


def _why(runs: dict, needed: tuple[str, ...]) -> Verdict | None:
    """A verdict that the lesson cannot be judged here (a run missing, or not the Why view's), else None."""
    if (miss := _missing(runs, needed)) is not None:
        return miss
    if not all(hasattr(runs[n], "history") for n in needed):
        return Verdict(False, "This lesson is measured on the Why it works view: open it there.")
    return None


def input_drift(run) -> float:
    """Ioffe's shift of one run: the median over layers and snapshots of |Δ mean| / std of the values
    entering each layer's normalization (where it would be, without)."""
    from dashboard.whycharts import ioffe_frame

    f = ioffe_frame({run.config.norm: (run.history,)})
    return float(f["mean_shift"].median()) if len(f) else float("nan")


def covariate_shift(runs: dict) -> Verdict:
    """Ioffe's notion: with batch norm each layer's input distribution moves less between snapshots."""
    if (no := _why(runs, ("none", "batch"))) is not None:
        return no
    plain, bn = input_drift(runs["none"]), input_drift(runs["batch"])
    if not (plain == plain and bn == bn):
        return Verdict(False, "Not measured: a run diverged before two snapshots were recorded.")
    facts = (f"between snapshots, a layer's input mean moved by {ob.num(plain)} of its spread without "
             f"normalization and by {ob.num(bn)} with batch norm (median over layers and snapshots), "
             f"{ob.num(plain / bn) if bn > 0 else 'infinitely many'} times less with batch norm")
    return _say(bn < plain, facts)


def landscape_change(run) -> float:
    """The median over the probed steps of the largest gradient change along the gradient."""
    land = run.landscape
    if land.empty:
        return float("nan")
    return float(land.groupby("step")["grad_change"].max().median())


def smoother_landscape(runs: dict) -> Verdict:
    """Santurkar's claim, gradient predictiveness: along the gradient, batch norm's gradient changes less."""
    if (no := _why(runs, ("none", "batch"))) is not None:
        return no
    plain, bn = landscape_change(runs["none"]), landscape_change(runs["batch"])
    if not (plain == plain and bn == bn):
        return Verdict(False, "Not measured: the gradient probe recorded no finite step for a run.")
    facts = (f"stepping from a quarter to four times the learning rate along the gradient, the gradient "
             f"changed by {ob.num(plain)} without normalization and by {ob.num(bn)} with batch norm "
             "(the largest change at a step, median over the probed steps)")
    return _say(bn < plain, facts, "Here batch norm's gradient is not the more predictive one.")


def noisy_batch(runs: dict) -> Verdict:
    """Santurkar's noisy batch norm: its layers' inputs move several times more than batch norm's, and it
    still learns."""
    if (no := _why(runs, ("batch", "noisy_batch"))) is not None:
        return no
    bn, noisy = input_drift(runs["batch"]), input_drift(runs["noisy_batch"])
    if not (bn == bn and noisy == noisy) or bn <= 0:
        return Verdict(False, "Not measured: a run diverged before two snapshots were recorded.")
    result = ob.outcome(runs["noisy_batch"].history)
    facts = (f"with the noise, a layer's input mean moved by {ob.num(noisy)} of its spread between snapshots "
             f"against {ob.num(bn)} with batch norm ({ob.num(noisy / bn)} times as far); "
             f"{ob.result_sentence('noisy_batch', runs['noisy_batch'].history)}; "
             f"{ob.result_sentence('batch', runs['batch'].history)}")
    return _say(noisy >= NOISY_DRIFT * bn and result == "learned", facts)


def scaled_change(run, factor: float) -> float:
    """The largest relative change of a run's step-0 output when one layer's weights are scaled."""
    from dashboard.whycharts import scale_change

    return scale_change(run.config, factor)


def scale_invariance(runs: dict) -> Verdict:
    """Weights of any one layer × 10: batch norm's output stays the same, the plain network's moves."""
    from dashboard.whycharts import INVARIANT

    if (no := _why(runs, ("none", "batch"))) is not None:
        return no
    plain, bn = scaled_change(runs["none"], 10.0), scaled_change(runs["batch"], 10.0)
    facts = (f"with one layer's weights multiplied by 10 at step 0, the network's output changed by up to "
             f"{ob.share(plain)} without normalization and by up to {ob.share(bn)} with batch norm "
             "(the largest change over the layers)")
    return _say(bn < INVARIANT <= plain, facts)


def signal_propagation(runs: dict) -> Verdict:
    """At initialisation the plain network's pre-activation variance drifts down the depth; batch norm's
    stays flat."""
    from dashboard.whycharts import signal_drift

    if (no := _why(runs, ("none", "batch"))) is not None:
        return no
    plain, bn = signal_drift(runs["none"].config), signal_drift(runs["batch"].config)
    depth = runs["none"].config.depth
    facts = (f"at step 0, down {depth} hidden layers, the units' pre-activation variance moved by a factor of "
             f"{ob.num(plain)} (largest layer over smallest) without normalization and {ob.num(bn)} with "
             "batch norm")
    return _say(plain >= DRIFTED and bn <= FLAT, facts)
