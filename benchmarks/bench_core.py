"""Core against PyTorch on the CPU: the same network, data, batches and number of steps.

    .venv/bin/python benchmarks/bench_core.py               # both sizes, 5 interleaved repeats
    .venv/bin/python benchmarks/bench_core.py --threads 1   # numpy's BLAS and torch on one thread
    .venv/bin/python benchmarks/bench_core.py --repeats 3 --skip-memory
    .venv/bin/python benchmarks/bench_core.py --skip-speed  # the telemetry memory of a 50 x 512 run

For each size it trains, alternately, (1) ``core.training.train`` with its
telemetry on (the default cadence: ``records`` snapshots with layer statistics,
histograms, γ/β, validation metrics and the decision boundary), (2) the same
with the fewest snapshots (2: the start and the end), and (3) the PyTorch twin
``nn.Sequential(Linear, BatchNorm1d, Sigmoid, ..., Linear)`` with the same
initial weights, optimizer, batches and steps, and no telemetry. It also times
(4) the matrix products alone -- every product the forward and backward passes
need, in numpy float32 -- the floor no implementation can beat.

It prints median wall times, the ratios core / torch (targets: <= 0.5 at
classroom size, <= 1.0 at 8 x 256) and core / matmul floor, and the memory a
50-layer, 512-wide, 50,000-sample run's telemetry keeps.

Where the time goes, for each size: the share of core's run spent in the
eval-mode passes of its telemetry (the validation probe at every snapshot and
the decision-boundary grid), and the activation on one (batch, width) array --
core's numpy layer against its torch.nn twin (``nn.Sigmoid``) at torch's
thread count and at one thread: numpy's elementwise work runs on one
thread, PyTorch's on all of them.

PyTorch runs in this process with ``torch.set_num_threads`` set to the number
of threads numpy's BLAS uses (``--threads N`` sets both); both numbers are printed.
Each timed phase starts after a pause (``PAUSE``), so that the idle worker threads
of the phase before (OpenBLAS spins about 0.1 s after a call, OpenMP a while too)
have stopped spinning and do not take a core from the phase being timed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

import core.training.loop  # noqa: E402
from core.data import load_dataset, minibatches, train_val_split  # noqa: E402
from core.nn import MLP, make_activation  # noqa: E402
from core.training import TrainConfig, train  # noqa: E402

SIZES = {
    "classroom (8 x 64, batch 64)": dict(depth=8, width=64, batch_size=64),
    "wide (8 x 256, batch 256)": dict(depth=8, width=256, batch_size=256),
}
TARGETS = {"classroom (8 x 64, batch 64)": 0.5, "wide (8 x 256, batch 256)": 1.0}
COMMON = dict(dataset="moons", n_samples=2000, epochs=20, norm="batch", norm_position="before")
PAUSE = 0.3  # seconds of idle time before each timed phase


def blas_threads() -> int:
    return max((i.get("num_threads", 1) for i in threadpool_info() if i.get("user_api") == "blas"), default=1)


# ---------------------------------------------------------------- the PyTorch twin


def run_inputs(config: TrainConfig, dtype=np.float32):
    """What ``train(config)`` feeds its network, rebuilt from core's public pieces:
    (net, X, y, epoch batches).

    ``net`` is the one-run core MLP with ``train``'s initial weights (same seeds;
    ``train`` computes in float32, ``dtype=np.float64`` is for checks),
    ``X`` (n_train, 2) the standardized training split in ``dtype``, ``y`` (n_train,)
    int64 its labels, and ``epochs`` a list of each epoch's batches (index arrays
    into X), drawn as ``train`` draws them. Classification data sets only.
    """
    ds = load_dataset(config.dataset, n_samples=config.n_samples, noise=config.noise, seed=config.seed)
    rng_split, rng_init, rng_batches = (
        np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(3)
    )
    tr, _ = train_val_split(len(ds.X), config.val_fraction, rng_split)
    X = ds.X[tr]
    X = ((X - X.mean(0)) / X.std(0)).astype(dtype)
    y = ds.y[tr].astype(np.int64)
    net = MLP(X.shape[1], max(ds.n_classes, 2), depth=config.depth, width=config.width,
              activation=config.activation, norm=config.norm, norm_position=config.norm_position,
              init=config.init, init_scale=config.init_scale, rng=rng_init, momentum=config.bn_momentum,
              groups=config.groups, dtype=dtype)
    bs = min(config.batch_size, len(tr))
    epochs = [minibatches(len(tr), bs, rng_batches) for _ in range(config.epochs)]
    return net, X, y, epochs


def torch_twin(config: TrainConfig, dtype=np.float32):
    """The twin of ``train(config)``'s network, data and batches: (model, opt, X, y, epoch batches).

    The network is tests/torch_twin.py's twin of the MLP ``train`` builds (same
    seeds, so the same initial weights); the optimizer is SGD with momentum.
    """
    import torch

    from tests.torch_twin import torch_twin as twin_of

    net, X, y, epochs = run_inputs(config, dtype)
    model = twin_of(net)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    return model, opt, torch.from_numpy(X), torch.from_numpy(y), epochs


def run_torch(twin) -> float:
    import torch
    import torch.nn.functional as F

    model, opt, X, y, epochs = twin
    model.train()
    t = _clock()
    for batches in epochs:
        for idx in batches:
            i = torch.from_numpy(idx)
            xb, yb = X[i], y[i]
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return _since(t)


# ---------------------------------------------------------------- the matmul floor


def matmul_floor(config: TrainConfig, n_train: int) -> float:
    """Time of the forward and backward matrix products alone, for every step of the run."""
    bs = min(config.batch_size, n_train)
    sizes = [b.size for b in minibatches(n_train, bs, np.random.default_rng(0))]
    dims = [2] + [config.width] * config.depth + [2]
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((a, b)).astype(np.float32) for a, b in zip(dims[:-1], dims[1:], strict=True)]
    shapes = {}
    for n in sorted(set(sizes)):
        xs = [rng.standard_normal((n, d)).astype(np.float32) for d in dims[:-1]]
        gs = [rng.standard_normal((n, d)).astype(np.float32) for d in dims[1:]]
        shapes[n] = (xs, gs)
    t = _clock()
    for _ in range(config.epochs):
        for n in sizes:
            xs, gs = shapes[n]
            for i, W in enumerate(Ws):
                np.matmul(xs[i], W)  # forward
                np.matmul(xs[i].T, gs[i])  # weight gradient
                if i > 0:
                    np.matmul(gs[i], W.T)  # input gradient
    return _since(t)


# ---------------------------------------------------------------- where the time goes


def eval_pass_time(config: TrainConfig) -> tuple[float, float]:
    """(seconds in eval-mode passes, seconds of the whole run) for one ``train(config)``.

    ``core.training.loop._eval_pass`` is the eval-mode pass the telemetry makes: the
    validation probe at every snapshot and, at the boundary snapshots, the
    decision-boundary grid.
    """
    spent = [0.0]
    original = core.training.loop._eval_pass

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t

    core.training.loop._eval_pass = timed
    try:
        t = time.perf_counter()
        train(config)
        total = time.perf_counter() - t
    finally:
        core.training.loop._eval_pass = original
    return spent[0], total


def activation_ns(config: TrainConfig, repeats: int = 200) -> dict[str, float]:
    """Nanoseconds per element of the activation's forward on one (batch, width) float32 array:
    core's layer, and torch at its thread count and at one thread (best of 3 rounds)."""
    import torch

    n, d = config.batch_size, config.width
    x = np.random.default_rng(0).standard_normal((n, d)).astype(np.float32)
    from tests.torch_twin import TORCH_ACTIVATIONS

    layer, twin = make_activation(config.activation), TORCH_ACTIVATIONS[config.activation]()
    tx = torch.from_numpy(x)
    threads = torch.get_num_threads()

    def best(f, torch_threads=None) -> float:
        if torch_threads is not None:
            torch.set_num_threads(torch_threads)
        try:
            f()
            rounds = []
            for _ in range(3):
                t = time.perf_counter()
                for _ in range(repeats):
                    f()
                rounds.append((time.perf_counter() - t) / repeats)
            return min(rounds) / x.size * 1e9
        finally:
            torch.set_num_threads(threads)

    def label(k: int) -> str:
        return f"torch ({k} thread{'s' if k > 1 else ''})"

    times = {"core": best(lambda: layer.forward(x)), label(threads): best(lambda: twin(tx))}
    if threads > 1:
        times[label(1)] = best(lambda: twin(tx), 1)
    return times


# ---------------------------------------------------------------- main


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    """(wall, CPU) seconds since ``start``. CPU time counts every thread of the process."""
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def timed_train(config: TrainConfig) -> tuple[float, float]:
    t = _clock()
    train(config)
    return _since(t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip-memory", action="store_true", help="skip the 50-layer memory run (1-4 min)")
    ap.add_argument("--skip-speed", action="store_true", help="only the 50-layer memory run")
    ap.add_argument("--threads", type=int, default=None, help="BLAS and torch threads (default: numpy's)")
    args = ap.parse_args()

    import torch

    if args.threads:
        threadpool_limits(limits=args.threads, user_api="blas")  # this script only: one thread trains
    threads = blas_threads()
    torch.set_num_threads(threads)
    print(f"numpy BLAS threads: {threads}; torch threads: {torch.get_num_threads()} "
          f"(torch {torch.__version__}, numpy {np.__version__})")
    print(f"common settings: {COMMON}; repeats: {args.repeats}, interleaved; median wall times\n")

    for name, size in ({} if args.skip_speed else SIZES).items():
        config = TrainConfig(**COMMON, **size)
        quiet = config.replace(records=2)
        hist = train(config)  # warm up, and the run's shape
        twin = torch_twin(config)
        run_torch(twin)
        times = {"core": [], "core_min_telemetry": [], "torch": [], "matmul": []}
        for r in range(args.repeats):
            order = ["core", "torch", "core_min_telemetry", "matmul"]
            if r % 2:
                order.reverse()
            for what in order:
                time.sleep(PAUSE)
                if what == "core":
                    times[what].append(timed_train(config))
                elif what == "core_min_telemetry":
                    times[what].append(timed_train(quiet))
                elif what == "torch":
                    times[what].append(run_torch(torch_twin(config)))
                else:
                    times[what].append(matmul_floor(config, hist.n_train))
        med = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
        cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
        print(f"{name}: {hist.steps} steps of batch {min(config.batch_size, hist.n_train)}, "
              f"{len(hist.record_steps)} snapshots, {len(hist.boundary_steps)} boundary frames")
        print(f"  {'':36s} {'wall':>8s} {'CPU':>8s}")
        for key, label in (("core", f"core, telemetry on ({config.records} snapshots)"),
                           ("core_min_telemetry", "core, 2 snapshots"),
                           ("torch", "torch (no telemetry)"),
                           ("matmul", "matmul floor (numpy float32)")):
            print(f"  {label + ':':36s} {med[key]:7.3f}s {cpu[key]:7.3f}s")
        ratio = med["core"] / med["torch"]
        verdict = "meets" if ratio <= TARGETS[name] else "MISSES"
        print(f"  core / torch = {ratio:.2f} wall, {cpu['core'] / cpu['torch']:.2f} CPU "
              f"(target <= {TARGETS[name]}: {verdict}); with 2 snapshots: "
              f"{med['core_min_telemetry'] / med['torch']:.2f} wall")
        print(f"  core / matmul floor = {med['core'] / med['matmul']:.1f} wall; "
              f"torch / matmul floor = {med['torch'] / med['matmul']:.1f} wall")
        time.sleep(PAUSE)
        spent, total = eval_pass_time(config)
        print(f"  where core's time goes: eval-mode passes of the telemetry (validation probe x "
              f"{len(hist.record_steps)}, boundary grid x {len(hist.boundary_steps)}) {spent:.3f}s "
              f"of {total:.3f}s ({spent / total:.0%})")
        time.sleep(PAUSE)
        ns = activation_ns(config)
        print(f"  {config.activation} forward on one {config.batch_size} x {config.width} array, ns per element: "
              + ", ".join(f"{k} {v:.2f}" for k, v in ns.items()) + "\n")

    if not args.skip_memory:
        big = TrainConfig(depth=50, width=512, n_samples=50_000, epochs=1, batch_size=500, activation="relu",
                          init="he")
        t = time.perf_counter()
        hist = train(big)
        wall = time.perf_counter() - t
        frames = {k: len(v) for k, v in hist.frames().items()}
        print(f"telemetry memory, 50 layers x 512, 50,000 samples (1 epoch, batch 500, "
              f"{hist.steps} steps, {len(hist.record_steps)} snapshots, trained in {wall:.0f} s): "
              f"{hist.memory_bytes() / 1e6:.2f} MB")
        print(f"  rows per frame: {frames}")


if __name__ == "__main__":
    main()
