"""Many runs at once: ``train_many`` against sequential ``train``, against PyTorch, and its memory.

    .venv/bin/python benchmarks/bench_stack.py                  # 1, 3, 10, 30 runs, best of 3, memory
    .venv/bin/python benchmarks/bench_stack.py --quick          # 2 epochs, 1 repeat: a smoke run
    .venv/bin/python benchmarks/bench_stack.py --runs 1,3,10,30 --repeats 5
    .venv/bin/python benchmarks/bench_stack.py --threads 1      # numpy's BLAS and torch on one thread
    .venv/bin/python benchmarks/bench_stack.py --skip-memory

Classroom size (issue 12, "Speed"): 8 hidden layers of 64, batch norm before a
sigmoid, batch 64, 2,000 moons samples (1,600 train), 20 epochs (500 steps),
SGD with momentum, telemetry on (the default ``records``); the runs differ in
seed only (so in data, split, initial weights and batches). For each number of
runs, interleaved and repeated (best of ``--repeats``, wall and CPU time):

1. sequential: ``[train(c) for c in configs]``;
2. stacked: ``core.training.train_many(configs)``; ratio sequential / stacked
   (target: at least 3x at 30 runs);
3. torch stack: the same runs trained by PyTorch on the CPU as one stack
   (tests/torch_stack.py: parameters (R, in, out), ``torch.baddbmm``, batch
   norm over each run's batch axis, autograd), the same initial weights,
   batches and steps, ``torch.optim.SGD`` with momentum, no telemetry; only the
   training loop is timed (ours includes loading the data, building the
   network and recording the telemetry). Ratio ours (stacked) / torch (target:
   at most 1/3 at 30 runs);
4. at one run, also the PyTorch twin (tests/torch_twin.py) training one
   network; ratio ``train`` / twin (target: at most 0.5).

Before timing it checks that the torch stack computes what core computes:
every run's losses over the first steps against core's own layers (core.nn,
the same weights and batches), the one-network twin against them too, and
core's loop against the training losses ``train`` records.

Memory (30 runs, or the largest ``--runs``): what the Histories of one
``train_many`` keep (sum of ``History.memory_bytes()``) and the peak memory
traced (``tracemalloc``) during it; then the bytes per run at the epochs given
and at twice as many, and at half the snapshots: telemetry grows with recorded
points x runs, not with steps.

PyTorch runs in this process with ``torch.set_num_threads`` set to the number
of threads numpy's BLAS uses (``--threads N`` sets both); both are printed.
Timing is never asserted anywhere (tests/benchmarks/ only smoke-runs this).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_core import PAUSE, blas_threads, run_inputs, run_torch, torch_twin  # noqa: E402
from core.nn import make_optimizer, softmax_cross_entropy  # noqa: E402
from core.training import TrainConfig, train, train_many  # noqa: E402

#: Issue 12's classroom size; everything else is TrainConfig's default (sigmoid, glorot,
#: momentum 0.9, lr 0.1, records 30).
CLASSROOM = dict(dataset="moons", n_samples=2000, epochs=20, depth=8, width=64, batch_size=64,
                 norm="batch", norm_position="before")
TARGET_SPEEDUP = 3.0  # sequential / stacked, at 30 runs
TARGET_VS_TORCH_STACK = 1 / 3  # ours stacked / torch stacked, at 30 runs
TARGET_SINGLE = 0.5  # train / torch twin, one run
#: The largest loss difference the checks accept, by dtype, and the float32 check's steps.
TOLERANCE = {"float32": 1e-4, "float64": 1e-8}
FLOAT32_STEPS = 3


def classroom(runs: int, **changes) -> list[TrainConfig]:
    """``runs`` classroom configs (``changes`` applied) with seeds 0 .. runs-1."""
    base = TrainConfig(**{**CLASSROOM, **changes})
    return [base.replace(seed=s) for s in range(runs)]


# ---------------------------------------------------------------- PyTorch on the same stack


def torch_stack(configs: list[TrainConfig], dtype=np.float32):
    """The runs of ``configs`` as one PyTorch stack: (stack, opt, X (R, n, 2), y (R, n), steps).

    ``steps`` holds, per optimizer step, the (R, batch) indices of every run's
    batch. The runs must share the optimizer's settings (one ``torch.optim.SGD``
    updates them all). ``dtype=np.float64`` is for the checks.
    """
    import torch

    from tests.torch_stack import TorchStack

    settings = {(c.optimizer, c.lr, c.momentum, c.weight_decay) for c in configs}
    if len(settings) != 1 or configs[0].optimizer != "momentum" or configs[0].weight_decay:
        raise ValueError(f"The torch stack needs one SGD-with-momentum setting, no weight decay; got {settings}.")
    inputs = [run_inputs(c, dtype) for c in configs]
    stack = TorchStack(net for net, _, _, _ in inputs)
    X = torch.from_numpy(np.stack([x for _, x, _, _ in inputs]))
    y = torch.from_numpy(np.stack([y for _, _, y, _ in inputs]))
    per_run = [[idx for batches in epochs for idx in batches] for _, _, _, epochs in inputs]
    steps = [torch.from_numpy(np.stack(batch)) for batch in zip(*per_run, strict=True)]
    opt = torch.optim.SGD(stack.parameters(), lr=configs[0].lr, momentum=configs[0].momentum, foreach=True)
    return stack, opt, X, y, steps


def run_torch_stack(twin, steps: int | None = None, losses: list | None = None) -> tuple[float, float]:
    """Train the stack (its first ``steps`` steps, default all); (wall, CPU) seconds of the loop.
    With ``losses``, each step's (R,) losses are appended to it (for the checks, not when timing)."""
    import torch

    stack, opt, X, y, batches = twin
    rows = torch.arange(stack.runs)[:, None]
    t = _clock()
    for idx in batches[:steps]:
        loss = stack.loss(stack(X[rows, idx]), y[rows, idx])
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        if losses is not None:
            losses.append(loss.detach().numpy().copy())
    return _since(t)


# ---------------------------------------------------------------- do both compute the same thing?


def core_losses(config: TrainConfig, steps: int, dtype=np.float32) -> np.ndarray:
    """(steps,) losses of ``train(config)``'s network trained by core.nn alone (no telemetry)."""
    net, X, y, epochs = run_inputs(config, dtype)
    opt = make_optimizer(config.optimizer, config.lr, weight_decay=config.weight_decay, momentum=config.momentum)
    params = net.flat()
    out = []
    for idx in [idx for batches in epochs for idx in batches][:steps]:
        loss, grad = softmax_cross_entropy(net.forward(X[idx], training=True), y[idx])
        net.backward(grad)
        opt.step(params)
        out.append(loss)
    return np.array(out)


def twin_losses(config: TrainConfig, steps: int, dtype=np.float32) -> np.ndarray:
    """(steps,) losses of the one-network PyTorch twin (tests/torch_twin.py) of ``train(config)``."""
    import torch
    import torch.nn.functional as F

    model, opt, X, y, epochs = torch_twin(config, dtype)
    out = []
    for idx in [idx for batches in epochs for idx in batches][:steps]:
        i = torch.from_numpy(idx)
        loss = F.cross_entropy(model(X[i]), y[i])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        out.append(loss.item())
    return np.array(out)


def compare(configs: list[TrainConfig], steps: int, dtype) -> dict[str, float]:
    """Max |loss difference| over the first ``steps`` steps in ``dtype``: the torch stack against
    core.nn (every run), the one-network twin against core.nn (run 0)."""
    ours = np.stack([core_losses(c, steps, dtype) for c in configs], axis=1)  # (steps, R)
    theirs: list[np.ndarray] = []
    run_torch_stack(torch_stack(configs, dtype), steps, theirs)
    return {"torch stack vs core.nn": float(np.abs(np.stack(theirs) - ours).max()),
            "torch twin vs core.nn": float(np.abs(twin_losses(configs[0], steps, dtype) - ours[:, 0]).max())}


def check_same(configs: list[TrainConfig], say: Callable[[str], None]) -> dict[str, float]:
    """Does PyTorch's stack compute what core computes? Max |loss difference| of the same initial
    weights and batches: float32 (as timed) over the first steps, float64 up to ``train``'s second
    snapshot (float32 rounding grows fast through the first steps of a deep sigmoid network); and
    core.nn's loop against the training losses ``train`` records (run 0: step 0, and the mean of
    the steps up to the second snapshot)."""
    hist = train(configs[0])
    k1 = int(hist.record_steps[1]) if len(hist.record_steps) > 1 else 0
    f32_steps, f64_steps = min(FLOAT32_STEPS, hist.steps), k1 + 1
    diffs = {f"{k}, float32, {f32_steps} steps": v for k, v in compare(configs, f32_steps, np.float32).items()}
    diffs.update({f"{k}, float64, {f64_steps} steps": v for k, v in compare(configs, f64_steps, np.float64).items()})
    ours = core_losses(configs[0], f64_steps)
    recorded = hist.metrics[hist.metrics["split"] == "train"].set_index("step")["loss"]
    expected = [ours[0]] + ([ours[1:].mean()] if k1 else [])
    diffs[f"core.nn vs train()'s records, float32, {f64_steps} steps"] = float(
        np.abs(recorded.loc[[0, k1][: len(expected)]].to_numpy() - expected).max())
    say(f"check, same initial weights and batches ({len(configs)} runs; run 0's loss {ours[0]:.4f} at "
        f"step 0, {ours[-1]:.4f} at step {f64_steps - 1}): max |loss difference|")
    for name, d in diffs.items():
        tol = TOLERANCE[name.split(", ")[1]]
        say(f"  {name}: {d:.1e}  {'ok' if d <= tol else f'MISMATCH (tolerance {tol:g})'}")
    return diffs


# ---------------------------------------------------------------- timing


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    """(wall, CPU) seconds since ``start``; CPU time counts every thread of the process."""
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def _timed(f: Callable[[], object]) -> tuple[float, float]:
    t = _clock()
    f()
    return _since(t)


def phases(configs: list[TrainConfig]) -> dict[str, Callable[[], tuple[float, float]]]:
    """What is timed for these runs: name -> a call returning its (wall, CPU) seconds.
    PyTorch's setup (data, weights, the stack) is built before its clock starts."""
    out = {
        "sequential": lambda: _timed(lambda: [train(c) for c in configs]),
        "stacked": lambda: _timed(lambda: train_many(configs)),
        "torch stack": lambda: run_torch_stack(torch_stack(configs)),
    }
    if len(configs) == 1:
        out["torch twin"] = lambda: run_torch(torch_twin(configs[0]))
    return out


def time_runs(configs: list[TrainConfig], repeats: int, pause: float) -> dict[str, tuple[float, float]]:
    """Best (wall, CPU) of each phase over ``repeats`` interleaved rounds (reversed every other
    round), after a pause before each phase (idle BLAS/OpenMP threads stop spinning)."""
    calls = phases(configs)
    best = {name: (math.inf, math.inf) for name in calls}
    for r in range(repeats):
        for name in (reversed(list(calls)) if r % 2 else list(calls)):
            time.sleep(pause)
            wall, cpu = calls[name]()
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
            gc.collect()
    return best


def _pair(t: tuple[float, float]) -> str:
    return f"{t[0]:7.2f} {t[1]:7.2f}"


def _ratio(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return a[0] / b[0], a[1] / b[1]


def speed(counts: list[int], size: dict, repeats: int, pause: float, say) -> dict[int, dict]:
    """Time every number of runs in ``counts``; print one row each; the times and ratios by count."""
    say(f"times in seconds, best of {repeats} interleaved rounds, wall then CPU (all threads)")
    say(f"{'runs':>4s} | {'sequential':>15s} | {'train_many':>15s} | {'seq / stacked':>15s} | "
        f"{'torch stack':>15s} | {'ours / torch':>15s}")
    out = {}
    for n in counts:
        t = time_runs(classroom(n, **size), repeats, pause)
        res = dict(times=t, speedup=_ratio(t["sequential"], t["stacked"]),
                   vs_torch_stack=_ratio(t["stacked"], t["torch stack"]))
        if "torch twin" in t:
            res["single_vs_twin"] = _ratio(t["sequential"], t["torch twin"])
        say(f"{n:4d} | {_pair(t['sequential'])} | {_pair(t['stacked'])} | {_pair(res['speedup'])} | "
            f"{_pair(t['torch stack'])} | {_pair(res['vs_torch_stack'])}")
        out[n] = res
    return out


def verdicts(results: dict[int, dict], say) -> None:
    """The three speed targets against what was measured (wall and CPU)."""
    top = max(results)
    r = results[top]
    say(f"stacked vs sequential at {top} runs: {r['speedup'][0]:.2f}x wall, {r['speedup'][1]:.2f}x CPU "
        f"(target >= {TARGET_SPEEDUP:g}x at 30: {_meets(r['speedup'][1] >= TARGET_SPEEDUP, top)})")
    say(f"ours / torch stack at {top} runs: {r['vs_torch_stack'][0]:.2f} wall, {r['vs_torch_stack'][1]:.2f} CPU "
        f"(target <= {TARGET_VS_TORCH_STACK:.2f}, i.e. 3x faster, at 30: "
        f"{_meets(r['vs_torch_stack'][1] <= TARGET_VS_TORCH_STACK, top)}); "
        "ours records telemetry, torch does not")
    if 1 in results:
        s = results[1]["single_vs_twin"]
        t = results[1]["times"]
        say(f"one run, train / torch twin: {s[0]:.2f} wall, {s[1]:.2f} CPU (twin {t['torch twin'][0]:.2f}s wall, "
            f"{t['torch twin'][1]:.2f}s CPU; target <= {TARGET_SINGLE}: {_meets(s[1] <= TARGET_SINGLE, 30)})")


def _meets(ok: bool, runs: int) -> str:
    return ("meets" if ok else "MISSES") + ("" if runs >= 30 else f" (measured at {runs} runs)")


# ---------------------------------------------------------------- memory


def traced(configs: list[TrainConfig]):
    """train_many(configs) under tracemalloc: (histories, peak bytes, bytes still held after)."""
    gc.collect()
    tracemalloc.start()
    try:
        hists = train_many(configs)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return hists, peak, held


def memory(runs: int, size: dict, say, small: int = 3) -> dict:
    """What ``runs`` stacked runs keep and the peak traced while they train; then the Histories' bytes
    per run (of ``small`` runs) at the epochs given, twice as many, and half the snapshots."""
    mib, small = 2**20, min(small, runs)
    hists, peak, held = traced(classroom(runs, **size))
    kept = sum(h.memory_bytes() for h in hists)
    points = len(hists[0].record_steps)
    say(f"memory, {runs} stacked runs ({hists[0].steps} steps, {points} snapshots each): Histories keep "
        f"{kept / mib:.1f} MiB ({kept / runs / mib:.2f} MiB a run); peak traced during train_many "
        f"{peak / mib:.1f} MiB, {held / mib:.1f} MiB still traced after it (the Histories included)")
    del hists
    base = TrainConfig(**{**CLASSROOM, **size})
    variants = {"as above": {}, "2x epochs": dict(epochs=2 * base.epochs),
                "half the snapshots": dict(records=max(2, base.records // 2))}
    per_run = {}
    for name, change in variants.items():
        hs = train_many(classroom(small, **{**size, **change}))
        per_run[name] = sum(h.memory_bytes() for h in hs) / small
        say(f"  {small} runs, {name}: {hs[0].steps} steps, {len(hs[0].record_steps)} snapshots: "
            f"{per_run[name] / mib:.3f} MiB a run, "
            f"{per_run[name] / len(hs[0].record_steps) / 1024:.1f} KiB a snapshot and run")
    say(f"  History bytes, 2x epochs / as above: {per_run['2x epochs'] / per_run['as above']:.3f} "
        f"(steps doubled); {runs} runs / {small} runs, a run: {kept / runs / per_run['as above']:.3f}")
    return dict(kept=kept, peak=peak, held=held, per_run=per_run)


# ---------------------------------------------------------------- main


def bench(counts: list[int], size: dict, *, repeats: int, pause: float = PAUSE, memory_runs: int | None = None,
          say: Callable[[str], None] = print) -> dict:
    """Check, time and measure; print as it goes and return every figure.

    ``size`` changes the classroom config (e.g. ``epochs``); ``memory_runs=None``
    skips the memory part. Keys: "check", "speed" (by number of runs), "memory".
    """
    configs = classroom(max(counts), **size)
    c = configs[0]
    say(f"classroom: {c.depth} x {c.width} {c.activation}, norm={c.norm} ({c.norm_position}), batch "
        f"{c.batch_size}, {c.n_samples} {c.dataset} samples, {c.epochs} epochs, {c.optimizer} lr={c.lr} "
        f"momentum={c.momentum}, records={c.records}; runs differ in seed")
    out = {"check": check_same(configs[: min(len(configs), 4)], say)}
    train(c)  # warm up (imports, allocator, BLAS threads)
    run_torch_stack(torch_stack(configs[:1]), 5)
    say("")
    out["speed"] = speed(counts, size, repeats, pause, say)
    say("")
    verdicts(out["speed"], say)
    if memory_runs:
        say("")
        out["memory"] = memory(memory_runs, size, say)
    return out


def _counts(text: str) -> list[int]:
    counts = sorted({int(v) for v in text.split(",") if v.strip()})
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError("--runs takes positive integers, e.g. 1,3,10,30")
    return counts


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=_counts, default=[1, 3, 10, 30], help="numbers of runs (default 1,3,10,30)")
    ap.add_argument("--quick", action="store_true", help="2 epochs and 1 repeat unless given: a smoke run")
    ap.add_argument("--epochs", type=int, default=None, help="epochs (default 20, --quick 2)")
    ap.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 3, --quick 1)")
    ap.add_argument("--threads", type=int, default=None, help="BLAS and torch threads (default: numpy's)")
    ap.add_argument("--skip-memory", action="store_true", help="skip the memory part")
    args = ap.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    if args.threads:
        threadpool_limits(limits=args.threads, user_api="blas")
    threads = blas_threads()
    torch.set_num_threads(threads)
    print(f"numpy BLAS threads: {threads}; torch.set_num_threads({threads}) -> torch threads: "
          f"{torch.get_num_threads()} (torch {torch.__version__}, numpy {np.__version__})")
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    print(f"load average {load:.1f} on {cores} cores" + (
        "; with more runnable processes than cores, PyTorch's multithreaded small kernels slow down "
        "by 10x or more (OpenMP waits for descheduled threads): --threads 1 gives steadier ratios"
        if load > cores and threads > 1 else ""))
    epochs = args.epochs or (2 if args.quick else CLASSROOM["epochs"])
    repeats = args.repeats or (1 if args.quick else 3)
    bench(args.runs, dict(epochs=epochs), repeats=repeats, memory_runs=None if args.skip_memory else max(args.runs))


if __name__ == "__main__":
    main()
