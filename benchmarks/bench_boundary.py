"""The decision boundary's share of a page's training: every run records it, or only those the page draws.

    .venv/bin/python benchmarks/bench_boundary.py              # median of 5, interleaved
    .venv/bin/python benchmarks/bench_boundary.py --repeats 9

The runs of two default views, trained from nothing, each way in turn (so both
see the same load):

- the Training view: 2 normalizations x 3 seeds; it draws the first seed's
  boundaries (``train_many(..., boundaries=[those two])``) against every run's
  (what ``train_many`` records by default);
- the Why it works view: its 6 probed runs (``core.explain.probe_runs``) and the
  3 noisy batch-norm runs; it draws no boundary (``boundaries=()``) against
  every run's.

Prints each one's wall time (median, min-max) and the ratio page / every run.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.explain import probe_runs  # noqa: E402
from core.training import TrainConfig, train_many  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    cfg = TrainConfig()
    six = [dataclasses.replace(cfg, norm=n, seed=s) for n in ("none", "batch") for s in range(3)]
    noisy = [dataclasses.replace(cfg, norm="noisy_batch", seed=s) for s in range(3)]
    cases = {
        ("training", "every run"): lambda: train_many(six),
        ("training", "first seed"): lambda: train_many(six, boundaries=[six[0], six[3]]),
        ("why", "every run"): lambda: (probe_runs(six), train_many(noisy)),
        ("why", "none"): lambda: (probe_runs(six, boundaries=()), train_many(noisy, boundaries=())),
    }
    times: dict[tuple, list[float]] = {k: [] for k in cases}
    for _ in range(args.repeats):
        for key, run in cases.items():
            t0 = time.perf_counter()
            run()
            times[key].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print(f"Training a default view's runs from nothing, wall ms, median of {args.repeats} (min-max), interleaved:")
    for (view, boundary), v in times.items():
        print(f"  {view:9s} boundaries: {boundary:11s} {med[view, boundary]:7.0f}  ({min(v) * 1000:.0f}-{max(v) * 1000:.0f})")
    training = med["training", "first seed"] / med["training", "every run"]
    why = med["why", "none"] / med["why", "every run"]
    print(f"Ratio, the page's boundaries / every run's: training {training:.2f}, why {why:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
