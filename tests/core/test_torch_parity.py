"""core's normalization layers, optimizers and a whole MLP against PyTorch (the reference).

PyTorch is a declared test dependency (requirements-dev.txt); core never imports it.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.layers import BatchNorm1d, LayerNorm
from core.losses import mse, softmax_cross_entropy
from core.network import MLP
from core.optimizers import SGD, Adam, Momentum, make_optimizer

F64 = dict(rtol=1e-10, atol=1e-12)

TORCH_ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "identity": torch.nn.Identity,
}


def t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(a, requires_grad=grad)


def torch_twin(net: MLP) -> torch.nn.Sequential:
    """nn.Sequential with module i mirroring net.layers[i], loaded from net.state_dict()."""
    dtype = torch.float64 if net.dtype == np.float64 else torch.float32
    modules = []
    for layer in net.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            modules.append(torch.nn.Linear(layer.in_features, layer.out_features, dtype=dtype))
        elif kind == "BatchNorm1d":
            modules.append(
                torch.nn.BatchNorm1d(layer.num_features, momentum=layer.momentum, eps=layer.eps, dtype=dtype)
            )
        elif kind == "LayerNorm":
            modules.append(torch.nn.LayerNorm(layer.num_features, eps=layer.eps, dtype=dtype))
        else:
            modules.append(TORCH_ACTIVATIONS[layer.name]())
    model = torch.nn.Sequential(*modules)
    state = {}
    for key, value in net.state_dict().items():
        index, attr = key.split(".", 1)
        if attr == "W":
            state[f"{index}.weight"] = torch.tensor(value.T.copy())
        else:
            name = {"b": "bias", "gamma": "weight", "beta": "bias"}.get(attr, attr)
            state[f"{index}.{name}"] = torch.tensor(value)
    model.load_state_dict(state)
    return model


# ---------------------------------------------------------------- BatchNorm1d


@pytest.mark.parametrize(("momentum", "eps"), [(0.1, 1e-5), (0.35, 1e-2), (None, 1e-3)])
def test_batchnorm_matches_torch_over_training_steps_then_in_eval_mode(momentum, eps):
    rng = np.random.default_rng(0)
    d = 6
    ours = BatchNorm1d(d, momentum=momentum, eps=eps, dtype=np.float64)
    ref = torch.nn.BatchNorm1d(d, momentum=momentum, eps=eps, dtype=torch.float64)
    gamma, beta = rng.uniform(0.5, 2.0, d), rng.standard_normal(d)
    ours.gamma[...], ours.beta[...] = gamma, beta
    with torch.no_grad():
        ref.weight.copy_(t(gamma))
        ref.bias.copy_(t(beta))
    ref.train()
    for step, n in enumerate([8, 5, 16, 2]):  # different batches and batch sizes
        x = rng.standard_normal((n, d)) * rng.uniform(0.1, 10, d) + rng.uniform(-5, 5, d)
        g = rng.standard_normal((n, d))
        out = ours.forward(x, training=True)
        gx = ours.backward(g)
        xt = t(x, grad=True)
        ref.weight.grad = ref.bias.grad = None
        out_t = ref(xt)
        out_t.backward(t(g))
        np.testing.assert_allclose(out, out_t.detach().numpy(), **F64, err_msg=f"output, step {step}")
        np.testing.assert_allclose(gx, xt.grad.numpy(), **F64, err_msg=f"input grad, step {step}")
        np.testing.assert_allclose(ours.grad_gamma, ref.weight.grad.numpy(), **F64)
        np.testing.assert_allclose(ours.grad_beta, ref.bias.grad.numpy(), **F64)
        np.testing.assert_allclose(ours.running_mean, ref.running_mean.numpy(), **F64)
        np.testing.assert_allclose(ours.running_var, ref.running_var.numpy(), **F64)
        assert ours.num_batches_tracked == int(ref.num_batches_tracked)
        # the statistics the batch was normalized with, kept for telemetry
        np.testing.assert_allclose(ours.batch_mean, x.mean(axis=0), **F64)
        np.testing.assert_allclose(ours.batch_var, x.var(axis=0), **F64)

    ref.eval()
    x = rng.standard_normal((3, d)) * 4 + 1
    g = rng.standard_normal((3, d))
    xt = t(x, grad=True)
    out_t = ref(xt)
    out_t.backward(t(g))
    running = ours.running_mean.copy(), ours.running_var.copy()
    np.testing.assert_allclose(ours.forward(x, training=False), out_t.detach().numpy(), **F64)
    np.testing.assert_allclose(ours.backward(g), xt.grad.numpy(), **F64)
    np.testing.assert_array_equal(ours.running_mean, running[0])  # eval mode updates nothing
    np.testing.assert_array_equal(ours.running_var, running[1])


def test_batchnorm_training_on_a_single_sample_raises_like_torch_but_eval_mode_works():
    ours = BatchNorm1d(3)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        ours.forward(np.ones((1, 3), dtype=np.float32), training=True)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        torch.nn.BatchNorm1d(3)(torch.ones(1, 3))
    out = ours.forward(np.ones((1, 3), dtype=np.float32), training=False)
    assert np.all(np.isfinite(out))


def test_batchnorm_matches_torch_in_float32_with_a_float32_tolerance():
    rng = np.random.default_rng(5)
    ours = BatchNorm1d(32)
    ref = torch.nn.BatchNorm1d(32)
    for _ in range(3):
        x = (rng.standard_normal((64, 32)) * 3 + 2).astype(np.float32)
        g = rng.standard_normal((64, 32)).astype(np.float32)
        out = ours.forward(x)
        gx = ours.backward(g)
        assert out.dtype == gx.dtype == np.float32
        xt = t(x, grad=True)
        ref.weight.grad = ref.bias.grad = None
        out_t = ref(xt)
        out_t.backward(t(g))
        np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(ours.grad_gamma, ref.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(ours.grad_beta, ref.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(ours.running_mean, ref.running_mean.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ours.running_var, ref.running_var.numpy(), rtol=1e-5)


# ---------------------------------------------------------------- LayerNorm


@pytest.mark.parametrize("eps", [1e-5, 1e-2])
def test_layernorm_matches_torch_forward_input_and_parameter_gradients(eps):
    rng = np.random.default_rng(1)
    d = 7
    ours = LayerNorm(d, eps=eps, dtype=np.float64)
    ref = torch.nn.LayerNorm(d, eps=eps, dtype=torch.float64)
    gamma, beta = rng.uniform(0.5, 2.0, d), rng.standard_normal(d)
    ours.gamma[...], ours.beta[...] = gamma, beta
    with torch.no_grad():
        ref.weight.copy_(t(gamma))
        ref.bias.copy_(t(beta))
    for n in (5, 1, 9):  # layer norm has no trouble with a batch of one
        x = rng.standard_normal((n, d)) * 3 + rng.standard_normal((n, 1)) * 4
        g = rng.standard_normal((n, d))
        out = ours.forward(x, training=True)
        gx = ours.backward(g)
        xt = t(x, grad=True)
        ref.weight.grad = ref.bias.grad = None
        out_t = ref(xt)
        out_t.backward(t(g))
        np.testing.assert_allclose(out, out_t.detach().numpy(), **F64)
        np.testing.assert_allclose(gx, xt.grad.numpy(), **F64)
        np.testing.assert_allclose(ours.grad_gamma, ref.weight.grad.numpy(), **F64)
        np.testing.assert_allclose(ours.grad_beta, ref.bias.grad.numpy(), **F64)
        np.testing.assert_allclose(ours.batch_mean, x.mean(axis=1), **F64)
        np.testing.assert_allclose(ours.batch_var, x.var(axis=1), **F64)
        np.testing.assert_allclose(ours.forward(x, training=False), out, **F64)  # no mode difference


# ---------------------------------------------------------------- optimizers


def _param_shapes():
    return [(4, 3), (3,), (3, 2), (2,)]


def _run_ours(opt, steps, *, flat: bool, grads):
    rng = np.random.default_rng(2)
    init = [rng.standard_normal(s) for s in _param_shapes()]
    if flat:  # parameters as views tiling one buffer, as MLP lays them out: the fast path
        sizes = [a.size for a in init]
        bounds = np.cumsum([0] + sizes)
        pbuf, gbuf = np.concatenate([a.ravel() for a in init]), np.zeros(bounds[-1])
        params = [
            pbuf[a:b].reshape(s) for a, b, s in zip(bounds[:-1], bounds[1:], _param_shapes(), strict=True)
        ]
        gs = [gbuf[a:b].reshape(s) for a, b, s in zip(bounds[:-1], bounds[1:], _param_shapes(), strict=True)]
    else:
        params = [a.copy() for a in init]
        gs = [np.zeros(s) for s in _param_shapes()]
    triples = [(f"p{i}", p, g) for i, (p, g) in enumerate(zip(params, gs, strict=True))]
    for step in range(steps):
        for g, value in zip(gs, grads[step], strict=True):
            g[...] = value
        opt.step(triples)
    return init, triples


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        (lambda: SGD(0.05, weight_decay=0.01), lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.01)),
        (lambda: Momentum(0.1), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        (
            lambda: Momentum(0.03, momentum=0.5, weight_decay=0.1),
            lambda p: torch.optim.SGD(p, lr=0.03, momentum=0.5, weight_decay=0.1),
        ),
        (lambda: Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
        (
            lambda: Adam(0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
            lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
        ),
    ],
    ids=["sgd", "sgd-wd", "momentum", "momentum-wd", "adam", "adam-wd"],
)
@pytest.mark.parametrize("flat", [True, False], ids=["flat-buffer", "separate-arrays"])
def test_optimizer_matches_torch_optim_over_several_steps(ours, theirs, flat):
    steps = 6
    rng = np.random.default_rng(3)
    grads = [[rng.standard_normal(s) for s in _param_shapes()] for _ in range(steps)]
    init, triples = _run_ours(ours(), steps, flat=flat, grads=grads)
    params = [p for _, p, _ in triples]
    tparams = [torch.tensor(a, requires_grad=True) for a in init]
    topt = theirs(tparams)
    for step in range(steps):
        for p, g in zip(tparams, grads[step], strict=True):
            p.grad = torch.tensor(g)
        topt.step()
    for p, tp in zip(params, tparams, strict=True):
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert not any(np.allclose(p, a) for p, a in zip(params, init, strict=True))  # they did move


@pytest.mark.parametrize("flat", [True, False], ids=["flat-buffer", "separate-arrays"])
def test_optimizer_record_reports_norms_of_grad_update_and_weight_per_parameter(flat):
    rng = np.random.default_rng(4)
    opt = make_optimizer("momentum", 0.1, weight_decay=0.01)
    _, triples = _run_ours(opt, 1, flat=flat, grads=[[rng.standard_normal(s) for s in _param_shapes()]])
    for _, _, g in triples:
        g[...] = rng.standard_normal(g.shape)
    before = [p.copy() for _, p, _ in triples]
    record = opt.step(triples, record=True)
    assert set(record) == {"p0", "p1", "p2", "p3"}
    for (name, p, g), w in zip(triples, before, strict=True):
        update = w - p
        rec = record[name]
        assert rec.grad_norm == pytest.approx(np.linalg.norm(g))
        assert rec.update_norm == pytest.approx(np.linalg.norm(update))
        assert rec.weight_norm == pytest.approx(np.linalg.norm(w))
        assert rec.ratio == pytest.approx(np.linalg.norm(update) / np.linalg.norm(w))
    assert opt.step(triples) is None  # recording is opt-in


def test_optimizer_record_gives_ratio_zero_for_an_all_zero_weight():
    p, g = np.zeros(3), np.ones(3)
    record = SGD(0.1).step([("beta", p, g)], record=True)
    assert record["beta"].ratio == 0.0
    assert record["beta"].update_norm == pytest.approx(0.1 * np.sqrt(3))


def test_make_optimizer_builds_each_kind_and_rejects_unknown_names():
    assert isinstance(make_optimizer("sgd", 0.1), SGD)
    assert isinstance(make_optimizer("momentum", 0.1, momentum=0.5), Momentum)
    assert isinstance(make_optimizer("adam", 0.1, weight_decay=0.1), Adam)
    with pytest.raises(ValueError, match="'optimizer' parameter must be one of"):
        make_optimizer("rmsprop", 0.1)
    with pytest.raises(ValueError, match="'lr' parameter"):
        make_optimizer("sgd", -1.0)


# ---------------------------------------------------------------- whole network


def _train_both(net: MLP, *, steps: int, batch: int, optimizer: str, lr: float, task: str = "classification"):
    model = torch_twin(net)
    dtype = torch.float64 if net.dtype == np.float64 else torch.float32
    rng = np.random.default_rng(11)
    X = rng.standard_normal((steps * batch, net.in_features)).astype(net.dtype)
    if task == "classification":
        y = rng.integers(0, net.out_features, len(X))
        loss_fn, ref_loss = softmax_cross_entropy, torch.nn.CrossEntropyLoss()
    else:
        y = rng.standard_normal(len(X)).astype(net.dtype)
        loss_fn, ref_loss = mse, torch.nn.MSELoss()
    opt = make_optimizer(optimizer, lr)
    topt = (
        torch.optim.Adam(model.parameters(), lr=lr)
        if optimizer == "adam"
        else torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9 if optimizer == "momentum" else 0.0)
    )
    ours, theirs = [], []
    for step in range(steps):
        xb, yb = X[step * batch : (step + 1) * batch], y[step * batch : (step + 1) * batch]
        loss, g = loss_fn(net.forward(xb), yb)
        net.backward(g)
        opt.step(net.params())
        ours.append(loss)
        topt.zero_grad()
        out = model(torch.from_numpy(xb))
        tl = (
            ref_loss(out, torch.from_numpy(yb))
            if task == "classification"
            else ref_loss(out.squeeze(1), torch.from_numpy(yb))
        )
        tl.backward()
        topt.step()
        theirs.append(tl.item())
    assert out.dtype == dtype
    return np.array(ours), np.array(theirs), model


@pytest.mark.parametrize(
    ("norm", "position", "activation", "optimizer"),
    [
        ("batch", "before", "tanh", "sgd"),
        ("batch", "after", "relu", "momentum"),
        ("layer", "before", "sigmoid", "adam"),
        ("none", "before", "tanh", "adam"),
    ],
)
def test_small_mlp_trained_from_the_same_weights_gives_torchs_losses_in_float64(
    norm, position, activation, optimizer
):
    net = MLP(
        2,
        3,
        depth=3,
        width=16,
        activation=activation,
        norm=norm,
        norm_position=position,
        rng=0,
        dtype=np.float64,
    )
    ours, theirs, model = _train_both(net, steps=10, batch=32, optimizer=optimizer, lr=0.05)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert ours[-1] != ours[0]  # it trained
    # the weights after training, and the eval-mode outputs (running statistics), agree too
    torch_state = model.state_dict()
    for key, value in net.state_dict().items():
        index, attr = key.split(".", 1)
        name = {"W": "weight", "b": "bias", "gamma": "weight", "beta": "bias"}.get(attr, attr)
        expected = torch_state[f"{index}.{name}"].numpy()
        np.testing.assert_allclose(
            value, expected.T if attr == "W" else expected, rtol=1e-6, atol=1e-9, err_msg=key
        )
    x = np.random.default_rng(9).standard_normal((7, 2))
    model.eval()
    np.testing.assert_allclose(
        net.forward(x, training=False), model(torch.from_numpy(x)).detach().numpy(), rtol=1e-6, atol=1e-9
    )


def test_small_mlp_matches_torch_in_float32_with_a_looser_tolerance():
    net = MLP(2, 3, depth=3, width=16, activation="tanh", norm="batch", rng=0, dtype=np.float32)
    ours, theirs, _ = _train_both(net, steps=10, batch=32, optimizer="sgd", lr=0.05)
    np.testing.assert_allclose(ours, theirs, rtol=2e-4)


def test_regression_mlp_with_mse_matches_torch():
    net = MLP(2, 1, depth=2, width=8, activation="relu", norm="batch", rng=4, dtype=np.float64)
    ours, theirs, _ = _train_both(net, steps=8, batch=16, optimizer="adam", lr=0.01, task="regression")
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
