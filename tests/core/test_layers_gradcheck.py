"""Every layer, both losses and the whole MLP against central finite differences, in float64,
on one batch (n, d) and on a stack of runs (R, n, d)."""

from __future__ import annotations

import numpy as np
import pytest

from core.nn import (
    MLP,
    BatchNorm1d,
    Dense,
    GroupNorm,
    LayerNorm,
    NoisyBatchNorm1d,
    RMSNorm,
    make_activation,
    mse,
    softmax_cross_entropy,
)

H = 1e-6
RTOL = 1e-6
ATOL = 1e-8


def numerical_grad(f, array: np.ndarray, h: float = H) -> np.ndarray:
    """Central differences of the scalar f() with respect to every entry of ``array`` (perturbed in place)."""
    grad = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        old = array[idx]
        array[idx] = old + h
        up = f()
        array[idx] = old - h
        down = f()
        array[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


def check_layer(layer, x: np.ndarray, rng: np.random.Generator, training: bool = True) -> None:
    """Input and parameter gradients of L = sum(forward(x) * R) for a fixed random R."""
    out = layer.forward(x, training)
    R = rng.standard_normal(out.shape)

    def loss() -> float:
        return float(np.sum(layer.forward(x, training) * R))

    layer.forward(x, training)
    grad_in = layer.backward(R.copy())
    analytic = {name: g.copy() for name, _, g in layer.params()}
    np.testing.assert_allclose(grad_in, numerical_grad(loss, x), rtol=RTOL, atol=ATOL)
    for name, p, _ in layer.params():
        np.testing.assert_allclose(
            analytic[name], numerical_grad(loss, p), rtol=RTOL, atol=ATOL, err_msg=name
        )


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("init", ["he", "glorot", "normal"])
def test_dense_input_weight_and_bias_gradients_match_finite_differences(rng, init):
    layer = Dense(4, 3, rng=rng, init=init, dtype=np.float64)
    layer.b[...] = rng.standard_normal(3)
    check_layer(layer, rng.standard_normal((5, 4)), rng)


def test_dense_without_bias_has_only_a_weight_gradient_and_it_matches(rng):
    layer = Dense(4, 3, rng=rng, bias=False, dtype=np.float64)
    assert [name for name, _, _ in layer.params()] == ["W"]
    check_layer(layer, rng.standard_normal((5, 4)), rng)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "identity"])
def test_smooth_activation_gradients_match_finite_differences(rng, name):
    layer = make_activation(name)
    assert layer.params() == []
    layer_x = rng.standard_normal((6, 5)) * 2
    out = layer.forward(layer_x)
    R = rng.standard_normal(out.shape)
    grad = layer.backward(R)
    num = numerical_grad(lambda: float(np.sum(layer.forward(layer_x) * R)), layer_x)
    np.testing.assert_allclose(grad, num, rtol=RTOL, atol=ATOL)


def test_relu_gradient_matches_finite_differences_away_from_the_kink(rng):
    layer = make_activation("relu")
    x = rng.standard_normal((6, 5))
    x[np.abs(x) < 0.1] = 0.5  # finite differences are meaningless at the kink
    out = layer.forward(x)
    R = rng.standard_normal(out.shape)
    grad = layer.backward(R)
    assert np.all(grad[x < 0] == 0)
    num = numerical_grad(lambda: float(np.sum(layer.forward(x) * R)), x)
    np.testing.assert_allclose(grad, num, rtol=RTOL, atol=ATOL)


def test_batchnorm_train_mode_input_gamma_and_beta_gradients_match_finite_differences(rng):
    layer = BatchNorm1d(4, dtype=np.float64)
    layer.gamma[...] = rng.uniform(0.5, 2.0, 4)
    layer.beta[...] = rng.standard_normal(4)
    x = rng.standard_normal((7, 4)) * 3 + 5
    check_layer(layer, x, rng, training=True)


def test_batchnorm_eval_mode_gradients_match_finite_differences(rng):
    layer = BatchNorm1d(4, dtype=np.float64)
    layer.running_mean[...] = rng.standard_normal(4)
    layer.running_var[...] = rng.uniform(0.5, 2.0, 4)
    layer.gamma[...] = rng.uniform(0.5, 2.0, 4)
    check_layer(layer, rng.standard_normal((3, 4)), rng, training=False)


def test_layernorm_input_gamma_and_beta_gradients_match_finite_differences(rng):
    layer = LayerNorm(5, dtype=np.float64)
    layer.gamma[...] = rng.uniform(0.5, 2.0, 5)
    layer.beta[...] = rng.standard_normal(5)
    check_layer(layer, rng.standard_normal((4, 5)) * 2 + 1, rng)


# ---------------------------------------------------------------- every layer, one batch and a stack of runs

RUNS = 3


def _layer(kind: str, rng, runs):
    """A float64 layer of ``kind`` with its parameters (and running statistics) away from their start."""
    if kind == "dense":
        layer = Dense(4, 3, rng=rng if runs is None else [rng] * runs, runs=runs, dtype=np.float64)
    elif kind == "batch":
        layer = BatchNorm1d(4, dtype=np.float64, runs=runs)
        layer.running_mean[...] = rng.standard_normal(layer.running_mean.shape)
        layer.running_var[...] = rng.uniform(0.5, 2.0, layer.running_var.shape)
    elif kind == "noisy_batch":  # the step's noise drawn once: within a step it is a fixed affine map
        layer = NoisyBatchNorm1d(4, dtype=np.float64, runs=runs, rng=rng if runs is None else [rng] * runs)
        layer.resample()
        assert not np.allclose(layer.noise_scale, 1) and not np.allclose(layer.noise_shift, 0)
    elif kind == "group":
        layer = GroupNorm(4, 2, dtype=np.float64, runs=runs)
    else:
        layer = {"layer": LayerNorm, "rms": RMSNorm}[kind](4, dtype=np.float64, runs=runs)
    for _, p, _ in layer.params():
        p[...] += rng.uniform(-0.5, 0.5, p.shape)
    return layer


@pytest.mark.parametrize("kind", ["dense", "batch", "noisy_batch", "layer", "group", "rms"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("stacked", [False, True], ids=["n-by-d", "runs-n-d"])
def test_every_layer_gradient_matches_finite_differences_on_one_batch_and_on_a_stack(rng, kind, training, stacked):
    runs = RUNS if stacked else None
    layer = _layer(kind, rng, runs)
    shape = (RUNS, 6, 4) if stacked else (6, 4)
    x = rng.standard_normal(shape) * 2 + rng.uniform(-2, 2, shape[-1])
    before = [p.copy() for _, p, _ in layer.params()]
    check_layer(layer, x, rng, training=training)
    for (name, p, g), p0 in zip(layer.params(), before, strict=True):
        np.testing.assert_array_equal(p, p0, err_msg=name)  # the check moved nothing for good
        assert g.shape == p.shape


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "identity", "relu"])
def test_activation_gradients_match_finite_differences_on_a_stack_of_runs(rng, name):
    layer = make_activation(name)
    x = rng.standard_normal((RUNS, 5, 4)) * 2
    x[np.abs(x) < 0.1] = 0.5  # away from relu's kink
    out = layer.forward(x)
    R = rng.standard_normal(out.shape)
    grad = layer.backward(R)
    num = numerical_grad(lambda: float(np.sum(layer.forward(x) * R)), x)
    np.testing.assert_allclose(grad, num, rtol=RTOL, atol=ATOL)


def test_a_one_run_layer_on_a_stack_sums_its_parameter_gradient_over_the_runs(rng):
    """Shared parameters (runs=None) on an (R, n, d) input: the gradient of the summed loss."""
    layer = _layer("layer", rng, None)
    check_layer(layer, rng.standard_normal((RUNS, 5, 4)), rng)


def test_softmax_cross_entropy_gradient_matches_finite_differences(rng):
    logits = rng.standard_normal((6, 4)) * 3
    labels = rng.integers(0, 4, 6)
    _, grad = softmax_cross_entropy(logits, labels)
    num = numerical_grad(lambda: softmax_cross_entropy(logits, labels)[0], logits)
    np.testing.assert_allclose(grad, num, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("shape", [(6,), (6, 1)])
def test_mse_gradient_matches_finite_differences_for_flat_and_column_predictions(rng, shape):
    pred = rng.standard_normal(shape)
    target = rng.standard_normal(6)
    loss, grad = mse(pred, target)
    assert grad.shape == shape
    assert loss == pytest.approx(np.mean((pred.ravel() - target) ** 2))
    num = numerical_grad(lambda: mse(pred, target)[0], pred)
    np.testing.assert_allclose(grad, num, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("norm", ["none", "batch", "noisy_batch", "layer", "group", "rms"])
@pytest.mark.parametrize("position", ["before", "after"])
def test_whole_mlp_parameter_and_input_gradients_match_finite_differences(rng, norm, position):
    net = MLP(
        3, 2, depth=2, width=4, activation="tanh", norm=norm, norm_position=position, groups=2, rng=7,
        dtype=np.float64, noise_rng=11 if norm == "noisy_batch" else None,
    )
    net.resample_noise()  # noisy batch norm: one step's noise, fixed while the gradients are checked
    for name, p, _ in net.params():  # move gammas and biases off their initial values
        if not name.endswith(".W"):
            p[...] += rng.uniform(-0.5, 0.5, p.shape)
    x = rng.standard_normal((5, 3))
    labels = rng.integers(0, 2, 5)

    def loss() -> float:
        return softmax_cross_entropy(net.forward(x), labels)[0]

    _, g = softmax_cross_entropy(net.forward(x), labels)
    grad_in = net.backward(g, input_grad=True)
    analytic = {name: grad.copy() for name, _, grad in net.params()}
    np.testing.assert_allclose(grad_in, numerical_grad(loss, x), rtol=RTOL, atol=ATOL)
    for name, p, _ in net.params():
        np.testing.assert_allclose(
            analytic[name], numerical_grad(loss, p), rtol=RTOL, atol=ATOL, err_msg=name
        )


def test_mlp_with_relu_and_mse_gradients_match_finite_differences(rng):
    net = MLP(2, 1, depth=3, width=5, activation="relu", norm="batch", rng=3, dtype=np.float64)
    x = rng.standard_normal((8, 2))
    y = rng.standard_normal(8)

    def loss() -> float:
        return mse(net.forward(x), y)[0]

    _, g = mse(net.forward(x), y)
    net.backward(g)
    analytic = {name: grad.copy() for name, _, grad in net.params()}
    for name, p, _ in net.params():
        np.testing.assert_allclose(
            analytic[name], numerical_grad(loss, p), rtol=1e-5, atol=1e-7, err_msg=name
        )


@pytest.mark.parametrize("norm", ["batch", "group", "rms"])
def test_stacked_mlp_gradients_of_the_summed_run_losses_match_finite_differences(rng, norm):
    net = MLP(3, 2, depth=2, width=4, activation="tanh", norm=norm, groups=2, rng=[1, 2], runs=2,
              dtype=np.float64)
    x = rng.standard_normal((2, 5, 3))
    labels = rng.integers(0, 2, (2, 5))

    def loss() -> float:
        return float(softmax_cross_entropy(net.forward(x), labels)[0].sum())

    _, g = softmax_cross_entropy(net.forward(x), labels)
    grad_in = net.backward(g, input_grad=True)
    analytic = {name: grad.copy() for name, _, grad in net.params()}
    np.testing.assert_allclose(grad_in, numerical_grad(loss, x), rtol=RTOL, atol=ATOL)
    for name, p, _ in net.params():
        np.testing.assert_allclose(analytic[name], numerical_grad(loss, p), rtol=RTOL, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("shape", [(2, 6, 1)])
def test_stacked_mse_gradient_matches_finite_differences_per_run(rng, shape):
    pred, target = rng.standard_normal(shape), rng.standard_normal(shape[:2])
    loss, grad = mse(pred, target)
    assert loss.shape == (2,)
    np.testing.assert_allclose(loss, np.mean((pred[..., 0] - target) ** 2, axis=1))
    num = numerical_grad(lambda: float(mse(pred, target)[0].sum()), pred)
    np.testing.assert_allclose(grad, num, rtol=RTOL, atol=ATOL)
