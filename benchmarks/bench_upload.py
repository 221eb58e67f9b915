"""Time reading and checking an uploaded CSV file just under the 5 MB limit (issue 15: under 1 s).

Three files of the same size: plain numbers (comma separated), semicolons with decimal commas (the
slow path: every cell rewritten), and a file with more rows than the 100,000 kept (subsampled).
Each is parsed with ``core.tabular.read_table`` and the default columns chosen with ``select``;
the median and best of the repeats are printed.

    .venv/bin/python benchmarks/bench_upload.py
    .venv/bin/python benchmarks/bench_upload.py --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import tabular  # noqa: E402

TARGET_S = 1.0


def sized(header: str, make_row, limit: int = tabular.MAX_BYTES - 1024) -> bytes:
    """Rows from ``make_row(i, rng)`` until the file is just under ``limit`` bytes."""
    rng = np.random.default_rng(0)
    lines, size, i = [header], len(header) + 1, 0
    while True:
        line = make_row(i, rng)
        if size + len(line) + 1 > limit:
            break
        lines.append(line)
        size += len(line) + 1
        i += 1
    return ("\n".join(lines) + "\n").encode()


def files() -> dict[str, bytes]:
    return {
        "comma, 6 columns": sized("a,b,c,d,e,y", lambda i, r: ",".join(f"{v:.6g}" for v in r.normal(size=6) * 100)),
        "semicolon, decimal commas": sized(
            "a;b;c;d;e;y", lambda i, r: ";".join(f"{v:.6g}".replace(".", ",") for v in r.normal(size=6) * 100)),
        "comma, 2 columns (subsampled)": sized("x,y", lambda i, r: f"{r.integers(100)},{r.integers(10)}"),
    }


def time_one(data: bytes) -> float:
    start = time.perf_counter()
    table = tabular.read_table(data, "bench.csv")
    target = tabular.default_target(table)
    tabular.select(table, tabular.default_features(table, target), target)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for name, data in files().items():
        table = tabular.read_table(data)
        times = [time_one(data) for _ in range(args.repeats)]
        median = statistics.median(times)
        print(f"{name:32s} {len(data) / 2**20:.2f} MB, {table.n_rows:,} rows kept: median {median:.3f} s, "
              f"best {min(times):.3f} s  ({'under' if median < TARGET_S else 'OVER'} {TARGET_S:g} s)")


if __name__ == "__main__":
    main()
