"""Momentum on the landscape: the closed form against plain iteration, the measured stable limits and
rates against their formulas, and the claims the Loss landscape page makes, over seeds and rates."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core.data import seed_regression
from core.experiment import LandscapeConfig, run_landscape
from core.regression import (
    best_rates,
    descent_at,
    momentum_at,
    momentum_matrix,
    quadratic,
    spectral_radius,
    stable_lr_limit,
    steps_to_settle,
    steps_to_within,
)
from dashboard.momentum_text import compare_steps, momentum_lines

SEEDS = (0, 1, 7, 42)
BETAS = (0.0, 0.5, 0.9, 0.99)


def _q(seed: int, standardize: bool):
    data = seed_regression(100, seed)
    return quadratic(data.X, data.y, standardize=standardize)


def _iterate(q, *, lr, beta, theta0, steps, nesterov=False):
    """The velocity form, step by step, as the equations are written."""
    theta, v = np.asarray(theta0, float).copy(), np.zeros_like(theta0)
    out = [theta.copy()]
    for _ in range(steps):
        look = theta + beta * v if nesterov else theta
        v = beta * v - lr * (q.hessian @ (look - q.theta_star))
        theta = theta + v
        out.append(theta.copy())
    return np.array(out)


@pytest.mark.parametrize("nesterov", [False, True], ids=["heavy-ball", "nesterov"])
@pytest.mark.parametrize("standardize", [False, True], ids=["raw", "standardized"])
@pytest.mark.parametrize("seed", SEEDS)
def test_the_closed_form_equals_step_by_step_iteration(seed, standardize, nesterov):
    q = _q(seed, standardize)
    theta0 = q.theta(*q.from_raw([1.0, -2.0]))
    for scale in (0.1, 0.5, 0.9):
        for beta in BETAS:
            lr = scale * q.max_stable_lr
            want = _iterate(q, lr=lr, beta=beta, theta0=theta0, steps=300, nesterov=nesterov)
            got = momentum_at(q, np.arange(301), lr=lr, beta=beta, theta0=theta0, nesterov=nesterov)
            w, b = q.split(want[: len(got.steps)])  # a diverging run stops where it explodes
            assert got.diverged == (lr > stable_lr_limit(q, beta=beta, nesterov=nesterov))
            np.testing.assert_allclose(got.weights, w, rtol=1e-7, atol=1e-9)
            np.testing.assert_allclose(got.bias, b, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_without_momentum_it_is_plain_descent(seed):
    for standardize in (False, True):
        q = _q(seed, standardize)
        theta0 = q.theta(*q.from_raw([0.0, 0.0]))
        steps = np.array([0, 1, 5, 100, 10_000, 1_000_000])
        for scale in (0.2, 0.99):
            lr = scale * q.max_stable_lr
            plain = descent_at(q, steps, lr=lr, theta0=theta0)
            heavy = momentum_at(q, steps, lr=lr, beta=0.0, theta0=theta0)
            np.testing.assert_allclose(heavy.loss, plain.loss, rtol=1e-9)
            assert steps_to_settle(q, lr=lr, beta=0.0, theta0=theta0) == steps_to_within(q, lr=lr, theta0=theta0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("beta", BETAS)
def test_the_measured_stable_limits_are_the_known_formulas(seed, beta):
    for standardize in (False, True):
        q = _q(seed, standardize)
        top = q.eigvals[-1]
        assert stable_lr_limit(q, beta=beta) == pytest.approx(2 * (1 + beta) / top, rel=1e-6)
        assert stable_lr_limit(q, beta=beta, nesterov=True) == pytest.approx(
            2 * (1 + beta) / ((1 + 2 * beta) * top), rel=1e-6)


@pytest.mark.parametrize("nesterov", [False, True], ids=["heavy-ball", "nesterov"])
@pytest.mark.parametrize("seed", SEEDS)
def test_just_below_the_measured_limit_descent_converges_and_just_above_it_diverges(seed, nesterov):
    q = _q(seed, True)
    theta0 = q.theta(*q.from_raw([0.0, 0.0]))
    for beta in (0.5, 0.9):
        limit = stable_lr_limit(q, beta=beta, nesterov=nesterov)
        below = momentum_at(q, [0, 20_000], lr=0.99 * limit, beta=beta, theta0=theta0, nesterov=nesterov)
        above = momentum_at(q, [0, 20_000], lr=1.01 * limit, beta=beta, theta0=theta0, nesterov=nesterov)
        assert not below.diverged and below.loss[-1] <= q.loss_star * 1.0001
        assert above.diverged


@pytest.mark.parametrize("seed", SEEDS)
def test_the_best_rates_from_kappa_are_the_measured_rates_at_the_best_settings(seed):
    for standardize in (False, True):
        q = _q(seed, standardize)
        best = best_rates(q)
        plain = spectral_radius(momentum_matrix(q, lr=best["plain_lr"], beta=0.0))
        heavy = spectral_radius(momentum_matrix(q, lr=best["momentum_lr"], beta=best["momentum_beta"]))
        assert plain == pytest.approx(best["plain"], rel=1e-9)
        assert heavy == pytest.approx(best["momentum"], rel=1e-6)  # a double root: eig is good to ~sqrt(eps)
        assert heavy < plain


@pytest.mark.parametrize("nesterov", [False, True], ids=["heavy-ball", "nesterov"])
@pytest.mark.parametrize("seed", (0, 42))
def test_steps_to_settle_is_the_first_step_after_which_the_loss_stays_within_one_percent(seed, nesterov):
    q = _q(seed, True)
    theta0 = q.theta(*q.from_raw([3.0, -1.0]))
    for beta in (0.5, 0.9, 0.99):
        lr = 0.5 * q.max_stable_lr
        k = steps_to_settle(q, lr=lr, beta=beta, theta0=theta0, nesterov=nesterov)
        loss = momentum_at(q, np.arange(k + 20_000), lr=lr, beta=beta, theta0=theta0, nesterov=nesterov).loss
        target = q.loss_star * 1.01 + 1e-12
        assert (loss[k:] <= target).all()
        assert k == 0 or loss[k - 1] > target


# ---------------------------------------------------------------- what the page says


@pytest.mark.parametrize("seed", (0, 3, 42))
@pytest.mark.parametrize("lr_scale", (0.3, 0.5, 0.9))
def test_on_raw_features_momentum_needs_fewer_steps_than_plain_descent(seed, lr_scale):
    for beta in (0.5, 0.9, 0.99):
        for method in ("momentum", "nesterov"):
            config = LandscapeConfig(data_seed=seed, lr_scale=lr_scale, optimizer=method, beta=beta)
            if method == "nesterov" and lr_scale >= 0.67:  # above Nesterov's limit of (1+β)/(1+2β) x
                continue
            runs = run_landscape(config).runs
            plain, fast = runs["raw"], runs[f"raw-{method}"]
            assert fast.steps_to_1pct < plain.steps_to_1pct, (method, beta)
            assert "fewer" in compare_steps(plain, fast)


@pytest.mark.parametrize("seed", (0, 42))
def test_past_plain_descents_limit_heavy_ball_still_converges_and_the_page_says_so(seed):
    result = run_landscape(LandscapeConfig(data_seed=seed, lr_scale=1.5, optimizer="momentum", beta=0.9,
                                           steps=10_000))
    for name in ("raw", "standardized"):
        assert result.runs[name].diverged_at is not None
        fast = result.runs[f"{name}-momentum"]
        assert fast.diverged_at is None and fast.steps_to_1pct is not None
    text = "\n".join(momentum_lines(result))
    assert "1.9× plain descent's largest stable rate on both surfaces" in text
    assert "never" in text  # plain descent never settles


def test_the_page_text_is_made_only_of_the_measured_numbers():
    result = run_landscape(LandscapeConfig(optimizer="nesterov", beta=0.5))
    text = "\n".join(momentum_lines(result))
    for run in result.runs.values():
        assert f"{run.steps_to_1pct:,}" in text or run.method == "plain" and run.surface_name == "standardized"
    assert "nan" not in text.lower() and "inf" not in text.lower()
    assert momentum_lines(dataclasses.replace(result, config=LandscapeConfig())) == []


def test_a_momentum_run_shares_its_surface_and_frame_with_the_plain_one():
    result = run_landscape(LandscapeConfig(optimizer="momentum", beta=0.99, w0_a=5.0))
    for name in ("raw", "standardized"):
        plain, fast = result.runs[name], result.runs[f"{name}-momentum"]
        assert plain.extent == fast.extent and plain.surface is fast.surface
        a0, a1, b0, b1 = fast.extent
        for path in (plain.path, fast.path):
            assert path["w_a"].between(a0, a1).all() and path["w_b"].between(b0, b1).all()
