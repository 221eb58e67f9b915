"""The article's experiment in core.regression: data, gradient, descent, conditioning, divergence."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from core.data import seed_regression
from core.regression import (
    Trajectory,
    condition_number,
    gradient_descent,
    max_stable_lr,
    mse,
    mse_gradient,
    quadratic,
    steps_to_within,
)


@pytest.fixture(scope="module")
def data():
    return seed_regression()


def _article_data():
    """The article's code, verbatim: A, then B, then the noise from one generator."""
    rng = np.random.default_rng(42)
    A = rng.uniform(1, 10, 100)
    B = rng.uniform(1, 200, 100)
    y = 2 * A + 3 * B + rng.normal(size=100) * 0.1
    return A, B, y


def _explicit_descent(X, y, *, lr, steps, fit_intercept):
    """Plain gradient descent with mse_gradient, one step at a time, from zero."""
    w = np.zeros(X.shape[1])
    b = 0.0
    ws, bs, losses = [w.copy()], [b], [mse(X, y, w, b)]
    for _ in range(steps):
        gw, gb = mse_gradient(X, y, w, b)
        w = w - lr * gw
        if fit_intercept:
            b = b - lr * gb
        ws.append(w.copy())
        bs.append(b)
        losses.append(mse(X, y, w, b))
    return np.array(ws), np.array(bs), np.array(losses)


# ------------------------------------------------------------------ the seed data

def test_seed_regression_reproduces_the_articles_data_bit_for_bit(data):
    A, B, y = _article_data()
    assert data.X.shape == (100, 2)
    assert data.X.dtype == np.float64
    assert np.array_equal(data.X[:, 0], A)
    assert np.array_equal(data.X[:, 1], B)
    assert np.array_equal(data.y, y)
    assert data.feature_names == ("A", "B")
    assert data.task == "regression"


def test_seed_regression_is_deterministic_and_depends_on_the_seed():
    assert np.array_equal(seed_regression().X, seed_regression().X)
    assert not np.array_equal(seed_regression(seed=43).X, seed_regression().X)


def test_seed_features_sit_on_the_articles_ranges(data):
    A, B = data.X[:, 0], data.X[:, 1]
    assert 1 <= A.min() and A.max() <= 10
    assert 1 <= B.min() and B.max() <= 200


# ------------------------------------------------------------------ gradient

@pytest.mark.parametrize("standardize", [False, True], ids=["raw", "standardized"])
def test_mse_gradient_matches_central_finite_differences(data, standardize):
    X = StandardScaler().fit_transform(data.X) if standardize else data.X
    rng = np.random.default_rng(0)
    for _ in range(5):
        w = rng.normal(size=2) * 3
        b = float(rng.normal() * 5)
        gw, gb = mse_gradient(X, data.y, w, b)
        assert gw.shape == (2,)
        num = np.zeros(2)
        for j in range(2):
            h = 1e-6 * max(1.0, abs(w[j]))
            e = np.zeros(2)
            e[j] = h
            num[j] = (mse(X, data.y, w + e, b) - mse(X, data.y, w - e, b)) / (2 * h)
        hb = 1e-6 * max(1.0, abs(b))
        num_b = (mse(X, data.y, w, b + hb) - mse(X, data.y, w, b - hb)) / (2 * hb)
        np.testing.assert_allclose(gw, num, rtol=1e-6, atol=1e-6 * np.abs(gw).max())
        assert gb == pytest.approx(num_b, rel=1e-6, abs=1e-6)


def test_mse_gradient_is_zero_at_the_least_squares_optimum(data):
    q = quadratic(data.X, data.y, standardize=False)
    w, b = q.split(q.theta_star)
    gw, gb = mse_gradient(data.X, data.y, w, float(b))
    assert np.abs(gw).max() < 1e-6 and abs(gb) < 1e-8


# ------------------------------------------------------------------ closed form == iteration

@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("standardize", [False, True], ids=["raw", "standardized"])
def test_closed_form_descent_equals_explicit_iteration(data, standardize, fit_intercept):
    steps = 300
    X = StandardScaler().fit_transform(data.X) if standardize else data.X
    lr = 0.9 * max_stable_lr(X, fit_intercept=fit_intercept)
    traj = gradient_descent(data.X, data.y, lr=lr, steps=steps, standardize=standardize,
                            fit_intercept=fit_intercept)
    ws, bs, losses = _explicit_descent(X, data.y, lr=lr, steps=steps, fit_intercept=fit_intercept)
    assert traj.diverged_at is None
    np.testing.assert_allclose(traj.weights, ws, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(traj.bias, bs, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(traj.loss, losses, rtol=1e-7, atol=1e-9)


def test_trajectory_loss_is_the_mse_of_each_iterate(data):
    traj = gradient_descent(data.X, data.y, lr=5e-5, steps=50, standardize=False)
    direct = [mse(data.X, data.y, w, b) for w, b in zip(traj.weights, traj.bias, strict=True)]
    np.testing.assert_allclose(traj.loss, direct, rtol=1e-8)


def test_descent_starts_from_w0_when_given(data):
    traj = gradient_descent(data.X, data.y, lr=1e-5, steps=3, standardize=False, w0=[1.5, -2.0])
    # the closed form rotates into the Hessian's eigenbasis and back: equal up to round-off
    np.testing.assert_allclose(traj.weights[0], [1.5, -2.0], rtol=0, atol=1e-12)
    assert traj.bias[0] == pytest.approx(0.0, abs=1e-12)


# ------------------------------------------------------------------ the article's claim

@pytest.fixture(scope="module")
def runs(data):
    """Both runs at 0.9x their own largest stable rate."""
    out = {}
    for name, standardize in (("raw", False), ("standardized", True)):
        q = quadratic(data.X, data.y, standardize=standardize)
        lr = 0.9 * q.max_stable_lr
        out[name] = (q, lr, gradient_descent(data.X, data.y, lr=lr, steps=1000, standardize=standardize))
    return out


def test_standardized_descent_gets_within_1pct_in_a_few_dozen_steps(runs):
    q, lr, traj = runs["standardized"]
    target = 1.01 * q.loss_star
    first = int(np.argmax(traj.loss <= target))
    assert traj.loss[first] <= target
    assert first <= 60, first
    assert steps_to_within(q, lr=lr, theta0=np.zeros(3)) == first


def test_raw_descent_is_not_within_1pct_after_1000_steps(runs):
    q, lr, traj = runs["raw"]
    assert traj.diverged_at is None
    assert len(traj.loss) == 1001
    assert (traj.loss > 1.01 * q.loss_star).all()
    needed = steps_to_within(q, lr=lr, theta0=np.zeros(3))
    assert needed is None or needed > 1000
    # ... and, exactly, it needs on the order of the condition number of steps
    assert needed is not None and needed > 10_000


def test_steps_to_within_is_the_first_step_below_the_target(runs):
    q, lr, _ = runs["raw"]
    n = steps_to_within(q, lr=lr, theta0=np.zeros(3))
    traj = gradient_descent(q.X, q.y, lr=lr, steps=n, standardize=False)
    assert traj.loss[n] <= 1.01 * q.loss_star + 1e-12
    assert traj.loss[n - 1] > 1.01 * q.loss_star + 1e-12


# ------------------------------------------------------------------ conditioning

def _numpy_condition(X, fit_intercept=True):
    A = np.column_stack([X, np.ones(len(X))]) if fit_intercept else X
    ev = np.abs(np.linalg.eigvals(2.0 / len(A) * A.T @ A))
    return ev.max() / ev.min()


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("standardize", [False, True], ids=["raw", "standardized"])
def test_condition_number_matches_numpys_eigenvalue_ratio(data, standardize, fit_intercept):
    X = StandardScaler().fit_transform(data.X) if standardize else data.X
    expected = _numpy_condition(X, fit_intercept)
    assert condition_number(X, fit_intercept=fit_intercept) == pytest.approx(expected, rel=1e-6)
    q = quadratic(data.X, data.y, standardize=standardize, fit_intercept=fit_intercept)
    assert q.condition_number == pytest.approx(expected, rel=1e-6)


def test_condition_number_is_huge_raw_and_below_2_standardized(data):
    assert condition_number(data.X) > 1e4
    assert condition_number(StandardScaler().fit_transform(data.X)) < 2


def test_max_stable_lr_is_2_over_the_largest_hessian_eigenvalue(data):
    A = np.column_stack([data.X, np.ones(100)])
    lam = np.linalg.eigvals(2.0 / 100 * A.T @ A).real.max()
    assert max_stable_lr(data.X) == pytest.approx(2 / lam, rel=1e-9)
    assert quadratic(data.X, data.y, standardize=False).max_stable_lr == pytest.approx(2 / lam, rel=1e-9)


# ------------------------------------------------------------------ divergence

@pytest.mark.parametrize("standardize", [False, True], ids=["raw", "standardized"])
def test_just_below_the_stable_rate_converges(data, standardize):
    q = quadratic(data.X, data.y, standardize=standardize)
    traj = gradient_descent(data.X, data.y, lr=0.99 * q.max_stable_lr, steps=3000, standardize=standardize)
    assert traj.diverged_at is None and not traj.diverged
    assert len(traj.loss) == 3001
    assert np.isfinite(traj.loss).all()
    assert np.all(np.diff(traj.loss) <= 1e-9 * traj.loss[:-1])  # every mode shrinks: loss never rises
    assert traj.loss[-1] < 1e-3 * traj.loss[0]


@pytest.mark.parametrize("standardize", [False, True], ids=["raw", "standardized"])
def test_just_above_the_stable_rate_diverges_and_stops_with_finite_values(data, standardize):
    q = quadratic(data.X, data.y, standardize=standardize)
    steps = 5000
    traj = gradient_descent(data.X, data.y, lr=1.01 * q.max_stable_lr, steps=steps, standardize=standardize)
    assert traj.diverged
    assert traj.diverged_at is not None and 0 < traj.diverged_at <= steps
    n = traj.diverged_at  # the arrays stop just before the step that exploded
    assert traj.weights.shape == (n, 2) and traj.bias.shape == (n,) and traj.loss.shape == (n,)
    np.testing.assert_array_equal(traj.steps, np.arange(n))
    for arr in (traj.weights, traj.bias, traj.loss):
        assert np.isfinite(arr).all()
    assert traj.loss[-1] > traj.loss[0]  # it was growing


def test_a_wildly_unstable_rate_never_raises_and_stays_finite(data):
    traj = gradient_descent(data.X, data.y, lr=10.0, steps=100_000, standardize=False)
    assert traj.diverged_at is not None and traj.diverged_at < 100
    assert np.isfinite(traj.loss).all() and np.isfinite(traj.weights).all()


@pytest.mark.parametrize("lr", [0.0, -1.0, float("nan"), float("inf")])
def test_gradient_descent_rejects_a_non_positive_or_non_finite_lr(data, lr):
    with pytest.raises(ValueError, match="'lr' parameter"):
        gradient_descent(data.X, data.y, lr=lr, steps=10, standardize=False)


# ------------------------------------------------------------------ shapes

@pytest.mark.parametrize("steps", [0, 1, 7, 250])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
def test_trajectory_has_steps_plus_one_rows(data, steps, fit_intercept):
    traj = gradient_descent(data.X, data.y, lr=1e-5, steps=steps, standardize=False,
                            fit_intercept=fit_intercept)
    assert isinstance(traj, Trajectory)
    assert traj.weights.shape == (steps + 1, 2)
    assert traj.bias.shape == (steps + 1,)
    assert traj.loss.shape == (steps + 1,)
    np.testing.assert_array_equal(traj.steps, np.arange(steps + 1))
    np.testing.assert_allclose(traj.weights[0], [0.0, 0.0], rtol=0, atol=1e-12)
    if not fit_intercept:
        assert (traj.bias == 0).all()
