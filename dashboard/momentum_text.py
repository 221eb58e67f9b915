"""The Loss landscape's measured sentences about momentum: every number read from the runs on screen.

``momentum_lines(result)`` returns Markdown bullet lines (our own text and numbers only) comparing
plain descent with the momentum run on each surface: the steps each needs to settle within 1 % of
the optimum, the measured per-step rates, the best rates the surface's condition number allows
(plain (κ-1)/(κ+1), heavy ball (√κ-1)/(√κ+1), computed by ``core.regression.best_rates``) and the
measured stable limits. Empty when no momentum run is on screen.
"""

from __future__ import annotations

import math

from core.regression import best_rates

NAMES = {"momentum": "heavy-ball momentum", "nesterov": "Nesterov's momentum"}
SURFACES = {"raw": "raw features", "standardized": "standardized features"}


def _steps(run) -> str:
    return f"{run.steps_to_1pct:,}" if run.steps_to_1pct is not None else "never"


def compare_steps(plain, fast) -> str:
    """How the momentum run's steps to 1 % compare with plain descent's, in words and a ratio."""
    p, m = plain.steps_to_1pct, fast.steps_to_1pct
    if p is None and m is None:
        return "neither settles within 1 % of the optimum"
    if m is None:
        return f"with momentum it never settles within 1 % of the optimum, plain descent in {p:,} steps"
    if p is None:
        return f"with momentum it settles within 1 % of the optimum in {m:,} steps, plain descent never does"
    if m == p:
        return f"both settle within 1 % of the optimum in {m:,} steps"
    ratio = max(p, 1) / max(m, 1) if m < p else max(m, 1) / max(p, 1)
    word = "fewer" if m < p else "more"
    return f"with momentum it settles within 1 % of the optimum in {m:,} steps against {p:,}: {ratio:,.1f}× {word}"


def _e_folds(rate: float) -> str:
    """Steps for the error to shrink by a factor e at this per-step rate."""
    if not 0 < rate < 1:
        return "—"
    steps = 1.0 / -math.log(rate)
    return f"{steps:,.0f}" if steps >= 10 else f"{steps:.2g}"


def best_rates_line(plain) -> str:
    """The best per-step rates the surface allows, plain and heavy ball, from its condition number."""
    best = best_rates(plain.quadratic)
    return (f"{SURFACES[plain.surface_name]} (κ = {plain.condition_number:,.{0 if plain.surface_name == 'raw' else 2}f}): "
            f"best plain rate (κ−1)/(κ+1) = {best['plain']:.6g} ({_e_folds(best['plain'])} steps per "
            f"e-fold), best heavy-ball rate (√κ−1)/(√κ+1) = {best['momentum']:.6g} "
            f"({_e_folds(best['momentum'])} steps per e-fold, at β = {best['momentum_beta']:.4g})")


def momentum_lines(result) -> list[str]:
    """Bullet lines (Markdown, our text only) about the momentum runs of a landscape result."""
    method = result.config.optimizer
    if method == "plain":
        return []
    lines = []
    for name in SURFACES:
        plain, fast = result.runs[name], result.runs.get(f"{name}-{method}")
        if fast is None:
            continue
        lines.append(f"- On **{SURFACES[name]}**, {NAMES[method]} (β {fast.beta:g}) at the same learning "
                     f"rate: {compare_steps(plain, fast)}. Its measured per-step rate is {fast.rate:.6g} "
                     f"against plain descent's {plain.rate:.6g}.")
    raw, std = result.runs["raw"], result.runs["standardized"]
    fast, fast_std = result.runs.get(f"raw-{method}"), result.runs.get(f"standardized-{method}")
    if fast is not None and fast_std is not None:
        ratios = [f"{r.max_stable_lr / p.max_stable_lr:.3g}" for r, p in ((fast, raw), (fast_std, std))]
        where = "on both surfaces" if ratios[0] == ratios[1] else f"on raw features ({ratios[1]}× standardized)"
        lines.append(f"- Measured stable limit: {NAMES[method]} with β {fast.beta:g} stays stable up to "
                     f"{ratios[0]}× plain descent's largest stable rate {where}.")
        lines.append(f"- Two cures for one ill-conditioning: on raw features momentum needs {_steps(fast)} "
                     f"steps, standardizing alone {_steps(std)}.")
    lines.append("- The best any setting can do, " + "; ".join(best_rates_line(r) for r in (raw, std)) + ".")
    return lines
