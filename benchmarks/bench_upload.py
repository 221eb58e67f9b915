"""Time reading and checking an uploaded CSV file just under the 5 MB limit (issue 15: under 1 s).

Three files of the same size: plain numbers (comma separated), semicolons with decimal commas (the
slow path: every cell rewritten), and a file with more rows than the 100,000 kept (subsampled).
Each is parsed with ``core.tabular.read_table`` and the default columns chosen with ``select``;
the median and best of the repeats are printed.

``--pages`` also times the network views with an uploaded file, as ``bench_pages.py`` times them
with built-in data: the moons (the default run's data, 500 samples) uploaded as CSV on a fresh
session with Streamlit's caches cleared (the run parses, registers and trains the view's runs:
2 normalizations x 3 seeds, and draws), then reruns after moving a widget that needs no retraining
(the step player, a layer ...), to values shown before and never shown; the server's script time
is judged (first draw < 2 s on the network views, < 1 s for the default Training view; reruns
< 100 ms).

    .venv/bin/python benchmarks/bench_upload.py
    .venv/bin/python benchmarks/bench_upload.py --repeats 3
    .venv/bin/python benchmarks/bench_upload.py --pages --views training,activations
"""

from __future__ import annotations

import argparse
import os
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


def time_one(data: bytes) -> tuple[float, float]:
    """(wall s, CPU s) of reading and checking ``data``: on a shared machine the wall clock counts the
    time other processes held the core, the CPU time is the parser's own."""
    start, cpu = time.perf_counter(), time.process_time()
    table = tabular.read_table(data, "bench.csv")
    target = tabular.default_target(table)
    tabular.select(table, tabular.default_features(table, target), target)
    return time.perf_counter() - start, time.process_time() - cpu


def moons_csv() -> bytes:
    from core.data import load_dataset

    moons = load_dataset("moons", n_samples=500, noise=0.2, seed=0)
    return tabular.to_csv(moons.X, moons.y, moons.feature_names, "label")


def page_times(view: str, repeat: int) -> dict:
    """Script times (ms) of one network view with the moons uploaded: the upload's run from cleared
    caches (``repeat`` fresh sessions), then each no-retraining widget moved (``bench_pages``)."""
    import os

    from streamlit.testing.v1 import AppTest

    from benchmarks import bench_pages as bp
    from dashboard.registry import VIEWS

    path = next(v.path for v in VIEWS if v.url_path == view)
    data, firsts = moons_csv(), []
    for _ in range(repeat):
        at = AppTest.from_file(str(bp.APP), default_timeout=bp.TIMEOUT)
        at.run()
        at.switch_page(os.path.relpath(path, bp.APP.parent))
        at.run()
        bp.clear_caches()
        at.file_uploader[0].set_value(("moons.csv", data, "text/csv"))
        firsts.append(bp.timed_run(at)[2])
        bp.check(at, f"{view} upload")
        if "Your file" not in " ".join(str(e.value) for e in at.main.info):
            raise RuntimeError(f"{view}: the upload was not used")
    widgets = bp.config_widgets(at)
    seen: set = set()
    moves = [bp.measure_moves(at, path, k, repeat, seen) for k in bp.MOVES if k in widgets]
    peer_first = []  # the peer, measured alike in the same run: the built-in moons
    for _ in range(repeat):
        peer, times = bp.open_page(path)
        peer_first.append(times[2])
    seen = set()
    peer_moves = [bp.measure_moves(peer, path, k, repeat, seen) for k in bp.MOVES if k in widgets]
    return {"first": firsts, "moves": moves, "rows": max([bp.chart_rows(at), *(m["rows"] for m in moves)]),
            "peer_first": peer_first, "peer_moves": peer_moves}


def interleaved(view: str, rounds: int) -> dict:
    """The upload's own cost on a rerun, robust to a machine whose speed drifts: one session with the
    moons uploaded and one on the built-in moons (their runs trained), the view's first
    no-retraining widget moved back and forth in each in turn, ``rounds`` times; process CPU and
    script ms of each."""
    import os

    from streamlit.testing.v1 import AppTest

    from benchmarks import bench_pages as bp
    from dashboard.registry import VIEWS

    path = next(v.path for v in VIEWS if v.url_path == view)
    sessions = {}
    for label in ("file", "built-in"):
        at = AppTest.from_file(str(bp.APP), default_timeout=bp.TIMEOUT)
        at.run()
        at.switch_page(os.path.relpath(path, bp.APP.parent))
        at.run()
        if label == "file":
            at.file_uploader[0].set_value(("moons.csv", moons_csv(), "text/csv"))
            at.run()
        sessions[label] = at
    key = next(k for k in bp.MOVES if k in bp.config_widgets(sessions["file"]))
    values = {label: (bp.config_widgets(at)[key].value, bp.other_value(bp.config_widgets(at)[key]))
              for label, at in sessions.items()}
    times: dict = {label: [] for label in sessions}
    for i in range(2 + rounds):
        for label, at in sessions.items():
            bp.config_widgets(at)[key].set_value(values[label][i % 2])
            _, cpu, script = bp.timed_run(at)
            bp.check(at, f"{view} {label}")
            if i >= 2:  # both values shown once before: charts cached, as a user going back and forth
                times[label].append((cpu, script))
    return {"key": key, **times}


def pages(views: list[str], repeat: int, only_interleaved: bool = False) -> None:
    from benchmarks import bench_pages as bp

    bp.clear_caches()
    print("\nA rerun with the file against one without, interleaved (median ms over 20 reruns each):")
    for view in views:
        r = interleaved(view, 20)
        med = {label: [statistics.median(x[i] for x in r[label]) for i in (0, 1)] for label in ("file", "built-in")}
        print(f"  {view:<12} {r['key']} moved: with the file {med['file'][1]:6.1f} script, {med['file'][0]:6.1f} CPU; "
              f"built-in {med['built-in'][1]:6.1f} script, {med['built-in'][0]:6.1f} CPU: "
              f"{med['file'][1] / med['built-in'][1]:.2f}x script, {med['file'][0] / med['built-in'][0]:.2f}x CPU")
    if only_interleaved:
        return
    print(f"\nNetwork views with the moons uploaded as CSV (server script time, median of {repeat}, ms):")
    for view in views:
        r = page_times(view, repeat)
        target = bp.TRAINING_FIRST_TARGET_MS if view == "training" else bp.NETWORK_FIRST_TARGET_MS
        first = statistics.median(r["first"])
        peer = statistics.median(r["peer_first"])
        print(f"  {view:<12} first draw with the file {first:7.1f} ({min(r['first']):.0f}-{max(r['first']):.0f}; "
              f"target < {target}: {'ok' if first < target else 'MISSED'}); built-in moons {peer:7.1f}: "
              f"{first / peer:.2f}x; chart rows {r['rows']:,}")
        for m, p in zip(r["moves"], r["peer_moves"], strict=True):
            for what, label in (("warm", "to a value shown before"), ("new", "to a value never shown")):
                if m[f"{what}_script"] and p[f"{what}_script"]:
                    t, t0 = statistics.median(m[f"{what}_script"]), statistics.median(p[f"{what}_script"])
                    print(f"  {'':<12} {m['key']} moved {label}: {t:6.1f} (n = {len(m[f'{what}_script'])}; "
                          f"target < {bp.RERUN_TARGET_MS}: {'ok' if t < bp.RERUN_TARGET_MS else 'MISSED'}); "
                          f"built-in {t0:6.1f}: {t / t0:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pages", action="store_true", help="also time the network views with an uploaded file")
    parser.add_argument("--views", default="training,activations,gamma-beta,why",
                        help="comma-separated network views for --pages")
    parser.add_argument("--interleaved-only", action="store_true",
                        help="with --pages: only the interleaved reruns (with the file / built-in)")
    args = parser.parse_args()
    for name, data in files().items():
        table = tabular.read_table(data)
        runs = [time_one(data) for _ in range(args.repeats)]
        times, cpus = [w for w, _ in runs], [c for _, c in runs]
        median = statistics.median(times)
        print(f"{name:32s} {len(data) / 2**20:.2f} MB, {table.n_rows:,} rows kept: median {median:.3f} s, "
              f"best {min(times):.3f} s  ({'under' if median < TARGET_S else 'OVER'} {TARGET_S:g} s); CPU median "
              f"{statistics.median(cpus):.3f} s")
    print(f"(load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores)")
    if args.pages:
        import logging
        import warnings

        logging.getLogger("streamlit").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore")
        pages(args.views.split(","), args.repeats, args.interleaved_only)


if __name__ == "__main__":
    main()
