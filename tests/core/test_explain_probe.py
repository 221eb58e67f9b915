"""core.explain's gradient probe: exact restoration, the gradients against PyTorch, and where the
papers' claims hold on this network (over seeds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from core import explain
from core.training import TrainConfig, train_many
from tests.torch_twin import torch_twin

SMALL = dict(depth=3, width=8, epochs=2, n_samples=120, records=4, activation="tanh", init="glorot")


def test_probing_leaves_every_run_exactly_as_without_it():
    configs = [TrainConfig(norm=n, seed=s, **SMALL) for n in ("none", "batch", "noisy_batch") for s in (0, 1)]
    probed, ics, land = explain.probe_runs(configs)
    for a, b in zip(probed, train_many(configs), strict=True):
        for name in a.FRAMES:
            pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert len(ics) and len(land)
    assert set(ics["layer"]) == {2, 3}  # the first layer has no layers below it


def _probe_once(norm: str):
    """A float64 one-run network, a batch, and the probe's rows for it."""
    c = TrainConfig(norm=norm, **SMALL)
    net, data, xb = explain.initial_network(c)
    from core.nn import MLP

    net64 = MLP(net.in_features, net.out_features, depth=c.depth, width=c.width, activation=c.activation,
                norm=norm, rng=[0], runs=1, dtype=np.float64)
    net64.load_state_dict(net.state_dict())
    rows = np.random.default_rng(1).choice(len(data.tr), 16, replace=False)
    x, y = data.X_tr[rows][None].astype(np.float64), data.Y_tr[rows][None]
    probe = explain.GradientProbe(np.array([0]), etas=(0.5, 2.0))
    probe._loss(net64, x, y)
    before = net64.flat_params.copy()
    probe([c], 0, net64, (x, y))
    np.testing.assert_array_equal(net64.flat_params, before)
    return c, net64, x, y, probe


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
def test_santurkar_shift_and_the_landscape_match_torch_autograd(norm):
    c, net, x, y, probe = _probe_once(norm)
    model = torch_twin(net, run=0)
    model.train()
    xt, yt = torch.tensor(x[0]), torch.tensor(y[0])

    def grads():
        model.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        return loss.item(), [p.grad.clone() for p in model.parameters()]

    params = list(model.parameters())

    def at(p):  # a parameter's position (tensors compare elementwise, not by identity)
        return next(j for j, q in enumerate(params) if q is p)

    _, g0 = grads()
    linear = [i for i, m in enumerate(model) if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        state = {k: v.clone() for k, v in model.state_dict().items()}
    for (_, _, layer, l2, cos) in probe.ics:
        i = linear[layer - 1]
        below = [p for m in list(model)[:i] for p in m.parameters()]
        with torch.no_grad():
            for p in below:
                p -= c.lr * g0[at(p)]
        _, g1 = grads()
        G, G2 = g0[at(model[i].weight)], g1[at(model[i].weight)]
        assert l2 == pytest.approx(float((G - G2).norm()), rel=1e-6, abs=1e-12)
        assert cos == pytest.approx(float((G * G2).sum() / (G.norm() * G2.norm())), rel=1e-6)
        model.load_state_dict(state)
    for (_, _, eta, loss, change, dist) in probe.landscape:
        with torch.no_grad():
            for p, g in zip(params, g0, strict=True):
                p -= eta * c.lr * g
        got, g1 = grads()
        assert loss == pytest.approx(got, rel=1e-9)
        assert change == pytest.approx(float(torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(g1, g0, strict=True)))),
                                       rel=1e-6)
        assert dist == pytest.approx(eta * c.lr * float(torch.sqrt(sum((g**2).sum() for g in g0))), rel=1e-6)
        model.load_state_dict(state)


def _landscape(net: dict, seeds=range(3)) -> pd.Series:
    configs = [TrainConfig(norm=n, seed=s, **net) for n in ("none", "batch") for s in seeds]
    _, _, land = explain.probe_runs(configs)
    per = land.groupby(["norm", "seed", "step"])["loss"].agg(lambda v: v.max() - v.min())
    return per.groupby(["norm", "seed"]).median()


def test_where_batch_norm_smooths_the_loss_along_the_gradient():
    # 8 ReLU layers of 64, SGD at 0.1: both networks learn; batch norm's loss varies less along the
    # gradient on every seed (Santurkar et al.'s claim holds here)
    r = _landscape(dict(depth=8, width=64, activation="relu", init="he", batch_size=64, n_samples=1000,
                        epochs=10, optimizer="sgd", lr=0.1))
    assert all(r["batch"][s] < r["none"][s] for s in range(3)), r


def test_where_it_does_not_the_plain_network_sits_on_a_plateau():
    # the default network (10 sigmoid layers): without normalization it barely learns and the loss is
    # flat in every direction, so batch norm's loss varies more along the gradient on every seed
    r = _landscape(dict(epochs=10))
    assert all(r["batch"][s] > r["none"][s] for s in range(3)), r
