"""Sweep speed, ratios against a peer measured in the same run (nothing is asserted: this prints).

    .venv/bin/python benchmarks/sweep_speed.py --threads 1              # the default sweep and --jobs
    .venv/bin/python benchmarks/sweep_speed.py --threads 1 --skip-jobs  # the default sweep only
    .venv/bin/python benchmarks/sweep_speed.py --threads 1 --calibrate  # fit the live budget's constants
    .venv/bin/python benchmarks/sweep_speed.py --quick                  # a smoke run (tiny sizes)

1. The Sweeps view's default learning-rate sweep (8 rates x 2 normalizations x 3 seeds = 48 runs;
   8 ReLU layers of 32, 500 moons samples, batch 32, 20 epochs): ``run_sweep`` (as few stacks as
   ``train_many`` allows, metrics only) against its peer, the earlier sweep (one ``train_many`` a
   rate, every norm and seed of it, full telemetry); best of ``--repeats``, interleaved, wall and
   CPU. Beside it the time per run and one ``train()`` call of the same network (a single-run view's
   training), and the live budget's estimate (``core.sweep.estimate_seconds``) of the grid.
2. ``--jobs 2`` against ``--jobs 1`` on a grid of ``--runs`` runs (default 120: 6 rates x 2 norms x
   10 seeds, the same network): warm (joblib's workers reused), best of ``--repeats`` interleaved
   rounds, and cold (the first call: the worker processes start inside the timing, as for
   ``python -m core.sweep``; each imports numpy, pandas and scikit-learn). Both cores are needed:
   the load average is printed before and after, and another process on the machine lowers the ratio.
3. ``--calibrate``: sweeps the view can train (learning rate, batch size, depth, width, seeds),
   measured against ``estimate_seconds``; the four constants refitted by non-negative least squares
   on the CPU time, printed with each grid's estimate / measured before and after the fit.

BLAS threads: ``--threads N`` pins numpy's BLAS (threadpoolctl) in this process; joblib's workers
always run with one.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_core import PAUSE, blas_threads  # noqa: E402
from core import sweep  # noqa: E402
from core.sweep import SweepConfig, SweepGrid, estimate_seconds, run_sweep, work_terms  # noqa: E402
from core.training import train, train_many  # noqa: E402

TARGET_DEFAULT = 5.0  # seconds, the default sweep (issue 13)
TARGET_JOBS = 1.6  # --jobs 2 / --jobs 1, at least 100 runs


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def timed(f: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of f(); CPU counts every thread of this process (not joblib's workers)."""
    gc.collect()
    w, c = _clock()
    f()
    w2, c2 = _clock()
    return w2 - w, c2 - c


def best_of(calls: dict[str, Callable[[], object]], repeats: int, pause: float) -> dict[str, tuple[float, float]]:
    """Best (wall, CPU) of each call over ``repeats`` interleaved rounds (reversed every other round)."""
    best = {name: (math.inf, math.inf) for name in calls}
    for r in range(repeats):
        for name in (reversed(list(calls)) if r % 2 else list(calls)):
            time.sleep(pause)
            wall, cpu = timed(calls[name])
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def earlier_sweep(grid: SweepGrid) -> None:
    """The peer: the sweep as it was trained before, one train_many a value (every norm and seed of
    it), every History fully recorded."""
    for v in grid.values:
        train_many([grid.cell(*c) for c in grid.cells() if c[0] == v])


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


# ---------------------------------------------------------------- 1. the default sweep


def default_sweep(config: SweepConfig, repeats: int, pause: float, say) -> dict:
    grid = config.grid()
    one = grid.cell(0.1, "batch", grid.seeds[0])
    run_sweep(dataclasses.replace(grid, values=grid.values[:1], seeds=grid.seeds[:1]))  # warm up
    t = best_of({"run_sweep": lambda: run_sweep(grid), "earlier sweep": lambda: earlier_sweep(grid),
                 "one train()": lambda: train(one)}, repeats, pause)
    new, old, single = t["run_sweep"], t["earlier sweep"], t["one train()"]
    est = estimate_seconds(grid)
    c = grid.base
    say(f"default LR sweep: {len(grid.values)} rates x {len(grid.norms)} norms x {len(grid.seeds)} seeds = "
        f"{grid.size} runs ({c.depth} x {c.width} {c.activation}, {c.n_samples} {c.dataset}, batch {c.batch_size}, "
        f"{c.epochs} epochs); best of {repeats}, wall / CPU seconds")
    say(f"  run_sweep (stacked, metrics only): {new[0]:6.2f} / {new[1]:6.2f}   "
        f"({new[0] / grid.size:.3f} s a run; target < {TARGET_DEFAULT:g} s: "
        f"{'meets' if new[0] < TARGET_DEFAULT else 'MISSES'})")
    say(f"  earlier sweep (a train_many a rate): {old[0]:6.2f} / {old[1]:6.2f}   "
        f"earlier / now: {old[0] / new[0]:.2f}x wall, {old[1] / new[1]:.2f}x CPU")
    say(f"  one train() of the same network (lr {one.lr:g}, {one.norm} norm, full telemetry): "
        f"{single[0]:.3f} / {single[1]:.3f}; a sweep's run costs {new[0] / grid.size / single[0]:.2f} of it")
    say(f"  live budget's estimate: {est:.2f} s (estimate / measured wall: {est / new[0]:.2f})")
    return dict(now=new, earlier=old, single=single, estimate=est, runs=grid.size)


# ---------------------------------------------------------------- 2. --jobs 2 against --jobs 1


def jobs_grid(runs: int, base: SweepConfig) -> SweepGrid:
    """At least ``runs`` runs: 6 rates (0.003 to 1) x 2 norms x enough seeds, on ``base``'s network."""
    seeds = max(1, math.ceil(runs / 12))
    return dataclasses.replace(base, lr_min=0.003, lr_max=1.0, seeds=seeds).grid()


def jobs(grid: SweepGrid, repeats: int, pause: float, say) -> dict:
    """Cold once (the first --jobs 2 call starts joblib's workers), then --jobs 1 and --jobs 2 (workers
    reused) best of ``repeats`` interleaved rounds: the machine's load moves between single timings."""
    say(f"--jobs: {grid.size} runs ({len(grid.values)} rates x {len(grid.norms)} norms x {len(grid.seeds)} "
        f"seeds), {len(sweep.parts(grid, 2))} parts for 2 processes; {load()}")
    cold = timed(lambda: run_sweep(grid, jobs=2))
    t = best_of({"--jobs 1": lambda: run_sweep(grid), "--jobs 2": lambda: run_sweep(grid, jobs=2)}, repeats, pause)
    one, warm = t["--jobs 1"], t["--jobs 2"]
    say(f"  --jobs 1: {one[0]:6.2f} s   --jobs 2: {warm[0]:6.2f} s (workers reused; best of {repeats}), "
        f"{cold[0]:6.2f} s cold (the workers start inside the timing)")
    used = cores_used(grid)
    say(f"  cores the 2 workers got: {used:.2f} (their CPU seconds summed / the wall time of the same parts; "
        "2.00 = both cores theirs, lower: other processes ran on them)")
    say(f"  --jobs 2 / --jobs 1: {one[0] / warm[0]:.2f}x warm, {one[0] / cold[0]:.2f}x cold "
        f"(target >= {TARGET_JOBS:g}x: {'meets' if one[0] / warm[0] >= TARGET_JOBS else 'MISSES'} warm, "
        f"{'meets' if one[0] / cold[0] >= TARGET_JOBS else 'MISSES'} cold); after: {load()}")
    return dict(one=one, cold=cold, warm=warm, cores=used)


def _part_cpu(grid: SweepGrid, part: list[tuple]) -> float:
    """A worker's CPU seconds for one part (what run_sweep's workers do, timed inside the worker)."""
    t = time.process_time()
    sweep._train_part(grid, part)
    return time.process_time() - t


def cores_used(grid: SweepGrid) -> float:
    """How many cores two joblib workers (as ``run_sweep(jobs=2)`` starts them) got for the grid's parts."""
    import joblib

    with joblib.parallel_config(backend="loky", inner_max_num_threads=1):
        w = time.perf_counter()
        cpu = joblib.Parallel(n_jobs=2)(joblib.delayed(_part_cpu)(grid, p) for p in sweep.parts(grid, 2))
        wall = time.perf_counter() - w
    return sum(cpu) / wall


# ---------------------------------------------------------------- 3. the live budget's constants


CALIBRATION = {
    "learning rate (default)": SweepConfig(),
    "learning rate, 10 seeds": SweepConfig(seeds=10, lr_max=1.0),
    "batch size 8-256": SweepConfig(sweep="batch_size", batch_min=8, batch_max=256),
    "batch size 2-4, 1 seed, 5 epochs": SweepConfig(sweep="batch_size", batch_min=2, batch_max=4, seeds=1, epochs=5),
    "depth 2-20": SweepConfig(sweep="depth", depth_min=2, depth_max=20),
    "width 128, 1000 samples, 5 epochs": SweepConfig(width=128, n_samples=1000, epochs=5, lr_min=0.01, lr_max=0.1),
}


def calibrate(say, grids: dict[str, SweepConfig] = CALIBRATION) -> dict:
    """Measure each grid, refit the constants (non-negative least squares on CPU seconds), print both."""
    from scipy.optimize import nnls

    rows, measured = [], []
    say(f"calibration: {load()}")
    say(f"  {'grid':36s} {'runs':>4s} {'stacks':>6s} {'wall':>7s} {'CPU':>7s} {'estimate':>8s} {'est/CPU':>7s}")
    for name, config in grids.items():
        grid = config.grid()
        wall, cpu = timed(lambda g=grid: run_sweep(g))
        rows.append(work_terms(grid))
        measured.append(cpu)
        est = estimate_seconds(grid)
        say(f"  {name:36s} {grid.size:4d} {len(sweep.parts(grid)):6d} {wall:7.2f} {cpu:7.2f} {est:8.2f} "
            f"{est / cpu:7.2f}")
    A, b = np.array(rows, float), np.array(measured)
    scale = A.max(axis=0)
    scale[scale == 0] = 1.0
    fit, _ = nnls(A / scale, b)
    fit = fit / scale
    names = ("STEP_LAYER_SECONDS", "MAC_SECONDS", "VALUE_SECONDS", "RUN_SECONDS")
    say("  fitted: " + ", ".join(f"{n} = {v:.3g}" for n, v in zip(names, fit, strict=True)))
    say("  fitted estimate / measured CPU: " + ", ".join(f"{e / m:.2f}" for e, m in zip(A @ fit, b, strict=True)))
    return dict(fit=dict(zip(names, fit, strict=True)), measured=measured, terms=rows)


# ---------------------------------------------------------------- main


QUICK = dict(n_samples=100, epochs=2, width=8, depth=2, seeds=1)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=120, help="runs of the --jobs grid (at least 100 for the target)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved rounds of the default sweep")
    ap.add_argument("--threads", type=int, default=None, help="numpy's BLAS threads (default: numpy's)")
    ap.add_argument("--skip-default", action="store_true")
    ap.add_argument("--skip-jobs", action="store_true")
    ap.add_argument("--calibrate", action="store_true", help="fit the live budget's constants")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one repeat: a smoke run")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    if args.threads:
        threadpool_limits(limits=args.threads, user_api="blas")
    base = SweepConfig(**QUICK) if args.quick else SweepConfig()
    repeats, pause = (1, 0.0) if args.quick else (args.repeats, PAUSE)
    print(f"numpy BLAS threads: {blas_threads()}; {load()}")
    if not args.skip_default:
        default_sweep(base, repeats, pause, print)
    if not args.skip_jobs:
        jobs(jobs_grid(24 if args.quick else args.runs, base), repeats, pause, print)
    if args.calibrate:
        calibrate(print, {"quick": base} if args.quick else CALIBRATION)


if __name__ == "__main__":
    main()
