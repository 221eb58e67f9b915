"""core's normalization layers, optimizers and a whole MLP against PyTorch (the reference).

PyTorch is a declared test dependency (requirements-dev.txt); core never imports it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from core.nn import (
    MLP,
    SGD,
    Adam,
    BatchNorm1d,
    Dense,
    GroupNorm,
    LayerNorm,
    Momentum,
    RMSNorm,
    Sigmoid,
    make_optimizer,
    mse,
    softmax_cross_entropy,
)
from tests.torch_twin import torch_module, torch_state, torch_twin

F64 = dict(rtol=1e-10, atol=1e-12)


@pytest.fixture(autouse=True, scope="module")
def _torch_single_thread():
    """Tiny tensors: one thread is faster and immune to OpenMP spinning on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(a, requires_grad=grad)


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


# ---------------------------------------------------------------- GroupNorm, RMSNorm


def _set_affine(ours, ref, rng) -> None:
    """Random γ (and β) into both layers (ours may be stacked: then ref is run 0's)."""
    d = ours.num_features
    gamma = rng.uniform(0.5, 2.0, d)
    ours.gamma[...] = gamma
    with torch.no_grad():
        ref.weight.copy_(t(gamma))
    if hasattr(ours, "beta"):
        beta = rng.standard_normal(d)
        ours.beta[...] = beta
        with torch.no_grad():
            ref.bias.copy_(t(beta))


def _check_against_torch(ours, ref, x: np.ndarray, g: np.ndarray, training: bool = True) -> None:
    """Forward, input gradient and parameter gradients of ours and ref on one (n, d) batch, float64."""
    out = ours.forward(x, training=training)
    gx = ours.backward(g)
    xt = t(x, grad=True)
    for p in ref.parameters():
        p.grad = None
    out_t = ref(xt)
    out_t.backward(t(g))
    np.testing.assert_allclose(out, out_t.detach().numpy(), **F64, err_msg="output")
    np.testing.assert_allclose(gx, xt.grad.numpy(), **F64, err_msg="input gradient")
    np.testing.assert_allclose(ours.grad_gamma, ref.weight.grad.numpy(), **F64, err_msg="gamma gradient")
    if hasattr(ours, "beta"):
        np.testing.assert_allclose(ours.grad_beta, ref.bias.grad.numpy(), **F64, err_msg="beta gradient")


@pytest.mark.parametrize(("d", "groups"), [(8, 4), (8, 1), (8, 8), (6, 2), (12, 3)])
@pytest.mark.parametrize("eps", [1e-5, 1e-2])
def test_groupnorm_matches_torch_groupnorm_on_n_by_d_inputs_with_c_equal_d(d, groups, eps):
    rng = np.random.default_rng(d * 10 + groups)
    ours = GroupNorm(d, groups, eps=eps, dtype=np.float64)
    ref = torch.nn.GroupNorm(groups, d, eps=eps, dtype=torch.float64)
    _set_affine(ours, ref, rng)
    for n in (5, 2, 9):  # (torch.nn.GroupNorm refuses a batch of one (n, C) sample; we need not)
        x = rng.standard_normal((n, d)) * rng.uniform(0.5, 4, d) + rng.standard_normal((n, 1)) * 3
        g = rng.standard_normal((n, d))
        _check_against_torch(ours, ref, x, g)
        assert ours.batch_mean.shape == (n, groups)
        np.testing.assert_allclose(ours.forward(x, training=False), ours.forward(x), **F64)


def test_groupnorm_with_one_group_is_layernorm():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 8)) * 3 + 1
    np.testing.assert_allclose(GroupNorm(8, 1, dtype=np.float64).forward(x),
                               LayerNorm(8, dtype=np.float64).forward(x), **F64)


@pytest.mark.parametrize("eps", [1e-6, 1e-2])
def test_rmsnorm_matches_torch_rmsnorm_forward_input_and_gamma_gradients(eps):
    rng = np.random.default_rng(4)
    d = 7
    ours = RMSNorm(d, eps=eps, dtype=np.float64)
    ref = torch.nn.RMSNorm(d, eps=eps, dtype=torch.float64)
    assert [name for name, _, _ in ours.params()] == ["gamma"] and not hasattr(ours, "beta")
    _set_affine(ours, ref, rng)
    for n in (5, 1, 9):
        x = rng.standard_normal((n, d)) * 3 + rng.standard_normal((n, 1)) * 2
        _check_against_torch(ours, ref, x, rng.standard_normal((n, d)))
        np.testing.assert_allclose(ours.batch_rms, np.sqrt(np.mean(x**2, axis=1) + eps), **F64)


def test_norm_layers_default_to_torchs_eps_and_reject_bad_arguments():
    assert BatchNorm1d(3).eps == LayerNorm(3).eps == GroupNorm(4, 2).eps == 1e-5
    assert RMSNorm(3).eps == 1e-6
    with pytest.raises(ValueError, match="'num_groups' parameter must divide num_features \\(6\\)"):
        GroupNorm(6, 4)
    with pytest.raises(ValueError, match="'eps' parameter must be a float > 0"):
        RMSNorm(3, eps=0.0)


# ---------------------------------------------------------------- the stacked path: (R, n, d)


def _stacked_norm(kind: str, d: int, runs: int):
    if kind == "batch":
        return BatchNorm1d(d, momentum=0.2, dtype=np.float64, runs=runs)
    if kind == "group":
        return GroupNorm(d, 3, dtype=np.float64, runs=runs)
    return {"layer": LayerNorm, "rms": RMSNorm}[kind](d, dtype=np.float64, runs=runs)


@pytest.mark.parametrize("kind", ["batch", "layer", "group", "rms"])
def test_each_run_of_a_stacked_norm_layer_equals_torch_on_that_run(kind):
    rng = np.random.default_rng(5)
    runs, n, d = 3, 6, 6
    ours = _stacked_norm(kind, d, runs)
    refs = [torch_module(ours, np.float64) for _ in range(runs)]
    for r, ref in enumerate(refs):  # each run its own γ and β
        gamma = rng.uniform(0.5, 2.0, d)
        ours.gamma[r] = gamma
        with torch.no_grad():
            ref.weight.copy_(t(gamma))
        if hasattr(ours, "beta"):
            beta = rng.standard_normal(d)
            ours.beta[r] = beta
            with torch.no_grad():
                ref.bias.copy_(t(beta))
    for step, training in enumerate([True, True, False]):
        x = rng.standard_normal((runs, n, d)) * rng.uniform(0.5, 4, (runs, 1, d)) + rng.uniform(-3, 3, (runs, 1, d))
        g = rng.standard_normal((runs, n, d))
        out, gx = ours.forward(x, training=training), None
        gx = ours.backward(g)
        assert out.shape == gx.shape == (runs, n, d) and ours.grad_gamma.shape == (runs, 1, d)
        for r, ref in enumerate(refs):
            ref.train(training)
            xt = t(x[r], grad=True)
            for p in ref.parameters():
                p.grad = None
            out_t = ref(xt)
            out_t.backward(t(g[r]))
            msg = f"run {r}, step {step}"
            np.testing.assert_allclose(out[r], out_t.detach().numpy(), **F64, err_msg=msg)
            np.testing.assert_allclose(gx[r], xt.grad.numpy(), **F64, err_msg=msg)
            np.testing.assert_allclose(ours.grad_gamma[r, 0], ref.weight.grad.numpy(), **F64, err_msg=msg)
            if hasattr(ours, "beta"):
                np.testing.assert_allclose(ours.grad_beta[r, 0], ref.bias.grad.numpy(), **F64, err_msg=msg)
            if kind == "batch":
                np.testing.assert_allclose(ours.running_mean[r, 0], ref.running_mean.numpy(), **F64)
                np.testing.assert_allclose(ours.running_var[r, 0], ref.running_var.numpy(), **F64)


def test_a_one_run_batchnorm_refuses_a_stack_of_runs_in_training_mode():
    with pytest.raises(ValueError, match="runs=3"):
        BatchNorm1d(4).forward(np.ones((3, 5, 4), np.float32))


@pytest.mark.parametrize(("norm", "position"), [("batch", "before"), ("layer", "after"), ("group", "before"),
                                                ("rms", "after"), ("none", "before")])
def test_each_run_of_a_stacked_mlp_equals_its_torch_twin_forward_and_gradients(norm, position):
    runs = 3
    net = MLP(3, 2, depth=2, width=6, activation="tanh", norm=norm, norm_position=position, groups=3,
              rng=[10, 11, 12], runs=runs, dtype=np.float64)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((runs, 8, 3))
    labels = rng.integers(0, 2, (runs, 8))
    losses, g = softmax_cross_entropy(net.forward(x), labels)
    net.backward(g)
    assert losses.shape == (runs,)
    for r in range(runs):
        model = torch_twin(net, run=r)
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x[r])), torch.from_numpy(labels[r]))
        loss.backward()
        assert losses[r] == pytest.approx(loss.item(), rel=1e-12)
        grads = {f"{key}": p.grad.numpy() for key, p in model.named_parameters()}
        for name, _, grad in net.params():
            index, attr = name.split(".")
            expected = grads[f"{index}.{ {'W': 'weight', 'b': 'bias', 'gamma': 'weight', 'beta': 'bias'}[attr]}"]
            ours = grad[r].T if attr == "W" else grad[r].reshape(-1)
            np.testing.assert_allclose(ours, expected, **F64, err_msg=f"run {r}, {name}")


def test_a_stacked_mlp_draws_each_run_from_its_own_seed_like_a_one_run_network():
    stacked = MLP(2, 2, depth=3, width=5, norm="batch", rng=[4, 7], runs=2)
    for r, seed in enumerate([4, 7]):
        single = MLP(2, 2, depth=3, width=5, norm="batch", rng=seed)
        for (name, p, _), (_, q, _) in zip(stacked.params(), single.params(), strict=True):
            np.testing.assert_array_equal(p[r].reshape(q.shape), q, err_msg=name)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_an_optimizer_on_stacked_parameters_updates_each_run_as_if_it_were_alone(name):
    rng = np.random.default_rng(8)
    runs, steps = 3, 4
    init = rng.standard_normal((runs, 4, 3))
    grads = rng.standard_normal((steps, runs, 4, 3))
    stacked = init.copy()
    opt = make_optimizer(name, 0.05, weight_decay=0.01)
    for k in range(steps):
        opt.step([("W", stacked, grads[k])])
    for r in range(runs):
        alone = init[r].copy()
        opt = make_optimizer(name, 0.05, weight_decay=0.01)
        for k in range(steps):
            opt.step([("W", alone, grads[k, r])])
        np.testing.assert_allclose(stacked[r], alone, rtol=1e-14, atol=1e-15)


# ---------------------------------------------------------------- optimizers


def _param_shapes():
    return [(4, 3), (3,), (3, 2), (2,)]


def _run_ours(opt, steps, *, flat: bool, grads):
    rng = np.random.default_rng(2)
    init = [rng.standard_normal(s) for s in _param_shapes()]
    if flat:  # parameters as views tiling one buffer: updated in place like any other array
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
        ("group", "before", "tanh", "momentum"),
        ("group", "after", "relu", "sgd"),
        ("rms", "before", "sigmoid", "momentum"),
        ("rms", "after", "tanh", "adam"),
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
        groups=4,
        rng=0,
        dtype=np.float64,
    )
    ours, theirs, model = _train_both(net, steps=10, batch=32, optimizer=optimizer, lr=0.05)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert ours[-1] != ours[0]  # it trained
    # the weights after training, and the eval-mode outputs (running statistics), agree too
    ours_state, theirs_state = torch_state(net), model.state_dict()
    assert set(ours_state) == set(theirs_state)
    for key, value in ours_state.items():
        np.testing.assert_allclose(value.numpy(), theirs_state[key].numpy(), rtol=1e-6, atol=1e-9, err_msg=key)
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


# ---------------------------------------------------------------- contracts other modules rely on


def test_batch_statistics_kept_for_telemetry_survive_later_forward_passes():
    rng = np.random.default_rng(6)
    layer = BatchNorm1d(4, dtype=np.float64)
    x1, x2 = rng.standard_normal((8, 4)), rng.standard_normal((8, 4)) + 3
    out1 = layer.forward(x1)
    mean1, var1, kept = layer.batch_mean, layer.batch_var, out1.copy()
    layer.forward(x2)
    layer.forward(x2, training=False)  # eval mode leaves the batch statistics alone
    np.testing.assert_allclose(mean1, x1.mean(axis=0), **F64)
    np.testing.assert_allclose(var1, x1.var(axis=0), **F64)
    np.testing.assert_array_equal(out1, kept)  # outputs are fresh arrays, never reused buffers
    np.testing.assert_allclose(layer.batch_mean, x2.mean(axis=0), **F64)


def test_batchnorm_running_estimates_still_track_torch_after_being_rebound_to_new_arrays():
    rng = np.random.default_rng(7)
    ours = BatchNorm1d(3, momentum=0.2, dtype=np.float64)
    ref = torch.nn.BatchNorm1d(3, momentum=0.2, dtype=torch.float64)
    ours.running_mean = np.full(3, 0.5)
    ours.running_var = np.full(3, 2.0)
    with torch.no_grad():
        ref.running_mean.fill_(0.5)
        ref.running_var.fill_(2.0)
    for _ in range(3):
        x = rng.standard_normal((6, 3)) * 2
        ours.forward(x)
        ref(t(x))
    np.testing.assert_allclose(ours.running_mean, ref.running_mean.numpy(), **F64)
    np.testing.assert_allclose(ours.running_var, ref.running_var.numpy(), **F64)


def test_mlp_layers_mirror_torch_sequential_modules_in_order():
    net = MLP(2, 3, depth=2, width=4, activation="sigmoid", norm="layer", norm_position="after", rng=0)
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Dense", "Sigmoid", "LayerNorm", "Dense", "Sigmoid", "LayerNorm", "Dense"]
    assert [type(m).__name__ for m in torch_twin(net)] == [
        "Linear", "Sigmoid", "LayerNorm", "Linear", "Sigmoid", "LayerNorm", "Linear",
    ]  # fmt: skip
    assert net.n_params == sum(p.numel() for p in torch_twin(net).parameters())


@pytest.mark.parametrize("position", ["before", "after"])
def test_mlp_blocks_expose_the_values_before_and_after_norm_and_activation(position):
    rng = np.random.default_rng(8)
    net = MLP(3, 2, depth=2, width=6, activation="relu", norm="batch", norm_position=position, rng=1)
    x = rng.standard_normal((32, 3)).astype(np.float32)
    out = net.forward(x)
    assert out.shape == (32, 2)
    for block in net.blocks:
        # the norm layer standardizes each unit over the batch (gamma = 1, beta = 0 at the start)
        np.testing.assert_allclose(block.post_norm.mean(axis=0), 0, atol=1e-5)
        np.testing.assert_allclose(block.post_norm.std(axis=0), 1, atol=1e-2)
        np.testing.assert_array_equal(block.post_activation, np.maximum(block.pre_activation, 0))
        np.testing.assert_allclose(block.pre_norm.mean(axis=0), block.norm.batch_mean, rtol=1e-5, atol=1e-5)
        if position == "before":
            assert block.post_norm is block.pre_activation and block.out is block.post_activation
            np.testing.assert_allclose(
                block.pre_norm, block.dense.x @ block.dense.W + block.dense.b, rtol=1e-5
            )
        else:
            assert block.pre_norm is block.post_activation and block.out is block.post_norm
    assert net.blocks[1].dense.x is net.blocks[0].out


def test_mlp_without_norm_reports_the_same_array_before_and_after_the_missing_norm():
    net = MLP(2, 2, depth=1, width=3, activation="tanh", rng=0)
    net.forward(np.ones((4, 2), dtype=np.float32))
    block = net.blocks[0]
    assert block.norm is None and block.pre_norm is block.post_norm


def test_mlp_state_dict_round_trip_reproduces_outputs_and_rejects_wrong_keys():
    rng = np.random.default_rng(9)
    a = MLP(2, 2, depth=2, width=5, norm="batch", rng=1, dtype=np.float64)
    b = MLP(2, 2, depth=2, width=5, norm="batch", rng=2, dtype=np.float64)
    x = rng.standard_normal((10, 2))
    a.forward(x)  # moves the running statistics away from their start
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.forward(x, training=False), b.forward(x, training=False))
    assert b.layers[1].num_batches_tracked == 1
    state = a.state_dict()
    state["99.W"] = state.pop("0.W")
    with pytest.raises(KeyError, match="missing keys"):
        b.load_state_dict(state)


def test_mlp_rejects_invalid_arguments_naming_the_parameter():
    with pytest.raises(ValueError, match="'norm' parameter must be one of"):
        MLP(2, 2, norm="weight", rng=0)
    with pytest.raises(ValueError, match="'num_groups' parameter must divide num_features"):
        MLP(2, 2, width=6, norm="group", groups=4, rng=0)
    with pytest.raises(ValueError, match="'activation' parameter must be one of"):
        MLP(2, 2, activation="gelu", rng=0)
    with pytest.raises(ValueError, match="'depth' parameter must be an int >= 0"):
        MLP(2, 2, depth=-1, rng=0)
    with pytest.raises(ValueError, match="'init' parameter must be one of"):
        MLP(2, 2, init="orthogonal", rng=0)
    with pytest.raises(ValueError, match=r"expected input of shape \(n, 2\)"):
        MLP(2, 2, rng=0).forward(np.ones((3, 5)))


@pytest.mark.parametrize(
    ("init", "scale", "expected_std"),
    [
        ("he", 1.0, np.sqrt(2 / 200)),
        ("glorot", 1.0, np.sqrt(2 / 300)),
        ("normal", 0.5, 0.5),
        ("he", 3.0, 3 * 0.1),
    ],
)
def test_dense_initialisations_draw_weights_with_the_documented_std(init, scale, expected_std):
    layer = Dense(200, 100, rng=np.random.default_rng(0), init=init, init_scale=scale)
    assert layer.W.shape == (200, 100) and layer.W.dtype == np.float32
    assert layer.W.std() == pytest.approx(expected_std, rel=0.02)
    assert np.all(layer.b == 0)


def test_softmax_cross_entropy_stays_finite_and_matches_torch_on_huge_logits():
    logits = np.array([[1e4, -1e4, 0.0], [3.0, 3.0, -1e5]])
    labels = np.array([1, 0])
    loss, grad = softmax_cross_entropy(logits, labels)
    expected = torch.nn.functional.cross_entropy(t(logits), torch.tensor(labels)).item()
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert loss == pytest.approx(expected)


def test_sigmoid_saturates_to_exact_limits_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Sigmoid().forward(np.array([[-1e4, 0.0, 1e4]], dtype=np.float32))
    np.testing.assert_array_equal(out, [[0.0, 0.5, 1.0]])
