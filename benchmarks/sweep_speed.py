"""Sweep speed, ratios measured in one run (no threshold asserted: this prints).

1. The default learning-rate sweep of the Sweeps view (8 rates x 2 norms x 3 seeds at the default
   network size): its wall time, its time per run beside one ``train`` call's of the same config.
2. ``--jobs 2`` against ``--jobs 1`` on a grid of at least 100 small runs.

    python benchmarks/sweep_speed.py [--skip-default] [--runs 120]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.sweep import SweepConfig, SweepGrid, run_sweep  # noqa: E402
from core.training import TrainConfig, train  # noqa: E402


def default_sweep() -> None:
    grid = SweepConfig().grid()
    one = grid.cell(0.1, "batch", 0)
    t0 = time.perf_counter()
    train(one)
    single = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_sweep(grid)
    total = time.perf_counter() - t0
    print(f"default LR sweep: {grid.size} runs in {total:.1f} s, {total / grid.size:.3f} s a run; "
          f"one train() of the same network at lr 0.1: {single:.3f} s")


def jobs(runs: int) -> None:
    base = TrainConfig(n_samples=200, epochs=5, depth=4, width=16, activation="relu", init="he", records=5)
    seeds = max(1, runs // 10)
    grid = SweepGrid(base=base, axis="lr", values=(0.001, 0.003, 0.01, 0.03, 0.1), norms=("none", "batch"),
                     seeds=tuple(range(seeds)))
    times = {}
    for n in (1, 2):
        t0 = time.perf_counter()
        run_sweep(grid, jobs=n) if n > 1 else run_sweep(grid)
        times[n] = time.perf_counter() - t0
    print(f"{grid.size} runs: --jobs 1 {times[1]:.1f} s, --jobs 2 {times[2]:.1f} s: {times[1] / times[2]:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-default", action="store_true")
    parser.add_argument("--runs", type=int, default=120)
    args = parser.parse_args()
    if not args.skip_default:
        default_sweep()
    jobs(args.runs)
