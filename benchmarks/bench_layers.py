"""Time one training step (forward + backward + optimizer step) of core's MLP against PyTorch.

Same architecture, same initial weights, same batches, in the same process;
repeats are interleaved (core, torch, core, torch, ...) so both see the same
machine state, and the median per-step times are compared. Also prints the
time of the matrix products alone (numpy, preallocated outputs): the floor no
implementation of this network beats. The PyTorch twin is tests/torch_twin.py,
the one the parity tests use.

    .venv/bin/python benchmarks/bench_layers.py            # the two target sizes
    .venv/bin/python benchmarks/bench_layers.py --quick    # fewer repeats
    .venv/bin/python benchmarks/bench_layers.py --norm layer --optimizer adam
    .venv/bin/python benchmarks/bench_layers.py --threads 1  # on a busy machine

A ratio below 1 means core is faster. On a machine shared with other work, the
"best-of" ratio (fastest repeat of each) and ``--threads 1`` with its CPU-time
ratio are the steadier figures: multithreaded BLAS and OpenMP degrade badly
when the cores are oversubscribed, PyTorch's small-tensor path most of all.
Targets (issue 3): 8 x 64, batch 64: at most 0.5; 8 x 256, batch 256: at most 1.0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.nn import MLP, NORMS, make_optimizer, softmax_cross_entropy  # noqa: E402
from tests.torch_twin import TORCH_ACTIVATIONS, torch_twin  # noqa: E402

PAUSE = 0.3  # seconds of idle time before each timed phase


def make_batches(n_samples: int, batch: int, in_features: int, classes: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, in_features)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64) % classes
    perm = rng.permutation(n_samples)
    idx = [perm[i : i + batch] for i in range(0, n_samples - batch + 1, batch)]
    return [(X[i], y[i]) for i in idx]


def run_core(net, opt, batches) -> float:
    params = net.flat()  # as core.training does: the whole network as one vector
    t0, c0 = time.perf_counter(), time.process_time()
    for xb, yb in batches:
        out = net.forward(xb)
        _, grad = softmax_cross_entropy(out, yb)
        net.backward(grad)
        opt.step(params)
    return (time.perf_counter() - t0) / len(batches), (time.process_time() - c0) / len(batches)


def run_torch(model, opt, batches) -> float:
    loss_fn = torch.nn.CrossEntropyLoss()
    t0, c0 = time.perf_counter(), time.process_time()
    for xb, yb in batches:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    return (time.perf_counter() - t0) / len(batches), (time.process_time() - c0) / len(batches)


def run_matmuls(net: MLP, batch: int, steps: int) -> float:
    """The three matrix products per Dense layer and step (forward, input grad, weight grad)."""
    rng = np.random.default_rng(1)
    work = []
    for layer in [b.dense for b in net.blocks] + [net.output]:
        d, k = layer.W.shape
        x = rng.standard_normal((batch, d)).astype(np.float32)
        g = rng.standard_normal((batch, k)).astype(np.float32)
        work.append(
            (
                x,
                layer.W.copy(),
                g,
                np.empty((batch, k), np.float32),
                np.empty_like(x),
                np.empty((d, k), np.float32),
            )
        )
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        for i, (x, W, g, out, dx, dW) in enumerate(work):
            np.matmul(x, W, out=out)
            np.matmul(x.T, g, out=dW)
            if i > 0:  # the network's first layer needs no input gradient
                np.matmul(g, W.T, out=dx)
    return (time.perf_counter() - t0) / steps, (time.process_time() - c0) / steps


def bench(
    depth, width, batch, *, norm, activation, optimizer, lr, n_samples, repeats, in_features=2, classes=2
):
    net = MLP(in_features, classes, depth=depth, width=width, activation=activation, norm=norm, rng=0)
    model = torch_twin(net)
    opt = make_optimizer(optimizer, lr)
    if optimizer == "adam":
        topt = torch.optim.Adam(model.parameters(), lr=lr)
    else:
        topt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9 if optimizer == "momentum" else 0.0)
    batches = make_batches(n_samples, batch, in_features, classes)
    tbatches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]
    run_core(net, opt, batches)  # warm up both (allocator, BLAS threads, optimizer state)
    run_torch(model, topt, tbatches)
    core_t, torch_t, mm_t = [], [], []
    for _ in range(repeats):
        # Pause before each phase so the other library's idle BLAS/OpenMP threads stop
        # spinning (OpenBLAS spins ~0.1 s after a call): on a 2-core machine they would
        # otherwise steal a core from whichever library runs next.
        for times, run in (
            (core_t, lambda: run_core(net, opt, batches)),
            (torch_t, lambda: run_torch(model, topt, tbatches)),
            (mm_t, lambda: run_matmuls(net, batch, len(batches))),
        ):
            time.sleep(PAUSE)
            times.append(run())
    (c, t, m), (cc, tc, _) = (
        [statistics.median(r[i] for r in v) for v in (core_t, torch_t, mm_t)] for i in (0, 1)
    )
    best_c, best_t = min(r[0] for r in core_t), min(r[0] for r in torch_t)
    print(
        f"{depth:2d} x {width:<4d} batch {batch:<4d} {norm:5s} {activation:7s} {optimizer:8s} "
        f"core {c * 1e6:7.0f} us  torch {t * 1e6:7.0f} us  ratio {c / t:5.2f} (best-of {best_c / best_t:4.2f})  "
        f"matmuls {m * 1e6:6.0f} us  core/matmuls {c / m:5.2f}  "
        f"[cpu time: core {cc * 1e6:7.0f} us  torch {tc * 1e6:7.0f} us  ratio {cc / tc:5.2f}]",
        flush=True,
    )
    return c / t


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--norm", default="batch", choices=NORMS)
    ap.add_argument("--activation", default="relu", choices=tuple(TORCH_ACTIVATIONS))
    ap.add_argument("--optimizer", default=None, choices=("sgd", "momentum", "adam"), help="default: all")
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit numpy's BLAS and torch to this many threads (default: each library's own)",
    )
    args = ap.parse_args(argv)
    if args.threads:
        threadpool_limits(args.threads, user_api="blas")
        torch.set_num_threads(args.threads)
    repeats = 3 if args.quick else 9
    blas = max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"), default=1)
    print(
        f"numpy {np.__version__} ({blas} BLAS threads), torch {torch.__version__} ({torch.get_num_threads()} threads); "
        "median per training step (and the ratio of the best repeats); cpu time is process time"
    )
    optimizers = (args.optimizer,) if args.optimizer else ("sgd", "momentum", "adam")
    for depth, width, batch, n_samples in ((8, 64, 64, 2000), (8, 256, 256, 2048)):
        for name in optimizers:
            lr = 1e-3 if name == "adam" else 1e-2
            bench(
                depth,
                width,
                batch,
                norm=args.norm,
                activation=args.activation,
                optimizer=name,
                lr=lr,
                n_samples=n_samples,
                repeats=repeats,
            )


if __name__ == "__main__":
    main()
