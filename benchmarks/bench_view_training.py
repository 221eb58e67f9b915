"""The training behind a view's first draw, as the view does it against the earlier ways.

    .venv/bin/python benchmarks/bench_view_training.py              # median of 5, interleaved
    .venv/bin/python benchmarks/bench_view_training.py --repeats 9

The runs of two default views, trained from nothing, each way in turn (so all
see the same load):

- the Training view: 2 normalizations x 3 seeds; it draws the first seed's
  decision boundaries (``train_many(..., boundaries=[those two])``) against
  every run's (what ``train_many`` records by default);
- the Why it works view: no normalization, batch norm and noisy batch norm,
  3 seeds each, all probed in one ``core.explain.probe_runs`` call with no
  boundary (batch norm's runs and noisy batch norm's share a stack: two stacks)
  against the earlier way: the 6 runs of no normalization and batch norm probed,
  then the 3 noisy runs trained in another call (three stacks), every run with
  its boundary; and that way without the boundaries; and the same 9 runs in one
  ``train_many`` call without the probe, for the probe's cost (issue 14: at most
  as much again as the training it probes).

Prints each one's wall time (median, min-max) and the ratio now / before.
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
        ("why", "none, one call"): lambda: probe_runs(six + noisy, boundaries=()),
        ("why", "none, unprobed"): lambda: train_many(six + noisy, boundaries=()),
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
        print(f"  {view:9s} boundaries: {boundary:15s} {med[view, boundary]:7.0f}  "
              f"({min(v) * 1000:.0f}-{max(v) * 1000:.0f})")
    training = med["training", "first seed"] / med["training", "every run"]
    why = med["why", "none"] / med["why", "every run"]
    one = med["why", "none, one call"] / med["why", "every run"]
    print(f"Ratio to every run's boundary: training, the first seed's {training:.2f}; why, none {why:.2f}, "
          f"none and the noisy arm probed in batch norm's stack {one:.2f}")
    cost = med["why", "none, one call"] / med["why", "none, unprobed"]
    print(f"The gradient probe's cost (issue 14): the Why view's 9 runs probed / the same runs trained without it: "
          f"{cost:.2f} (target <= 2: the measurements cost at most as much again as the training; "
          f"{'ok' if cost <= 2 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
