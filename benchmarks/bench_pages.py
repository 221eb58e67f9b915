"""Server time of every view in dashboard/registry.py, next to a trivial one-line page.

For each view (read from the registry, so new pages are measured as they
are added) and for a trivial page written to a temp dir (``st.write``, one
line, behind the same kind of ``st.navigation`` entry script), in the same
process and under the same conditions:

* first run: a fresh ``AppTest`` of ``dashboard/app.py`` switched to the view,
  Streamlit's caches cleared just before the view's run (``st.cache_data``
  and ``st.cache_resource``: nothing computed before); the time is the
  whole script run the server does: navigation, then the page;
* rerun, seen: a widget that needs no new training or data (a chosen layer,
  a step of the player, a display setting; ``MOVES``) is moved between two
  values already shown once in this process, so their work and their charts
  are cached: what a user waits for going back and forth;
* rerun, new: the same widget moved to values not shown before in this
  process (for a slider, each notch in turn): the charts that depend on it
  are built and converted afresh, the cached runs are reused. This is the
  figure for the issue's "a change that needs no retraining".

each repeated (median of ``--repeat``, at least 5) and shown with its ratio to
the trivial page. The largest row count of any chart's data on the page (over
every run measured) is reported too; ``--max-settings`` also moves each
numeric widget to its largest value and each choice (data set, ...) to
every option, one at a time (slow on the network views: it trains).

    .venv/bin/python benchmarks/bench_pages.py
    .venv/bin/python benchmarks/bench_pages.py --repeat 9 --views landscape,training
    BENCH_MEMO=streamlit .venv/bin/python benchmarks/bench_pages.py   # @memo as st.cache_resource

Targets: rerun under 100 ms (issues 2 and 4), first run under 1 s (issue 2;
the network views train their runs first: 2 s, issue 4), chart data under
5,000 rows. The default Training view (2 normalizations x 3 seeds, trained from
nothing: issue 12) gets a line of its own: its first draw's server time
(target under 1 s) and a change that needs no retraining (the step player,
target under 100 ms), with the number of runs the first draw trained. Two times per run: AppTest's wall clock for ``at.run()``, which
also counts AppTest turning the run's messages into its element tree (a
client's work: ~20 ms on a page of many elements), and "script", the time the
script runner spent running the page script (navigation and page): the
server's work, which the targets are judged on. Neither counts the browser's
drawing.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit import dataframe_util  # noqa: E402
from streamlit.runtime.scriptrunner import script_runner  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402
from streamlit.testing.v1.element_tree import Widget  # noqa: E402

from core.params import specs  # noqa: E402
from core.training import TrainConfig  # noqa: E402
from dashboard import chartcache  # noqa: E402

if os.environ.get("BENCH_MEMO") == "streamlit":
    # The public route, measured against ours: every @memo a st.cache_resource (the same object back,
    # as memo gives; st.cache_data would unpickle a copy on every hit), runs hashed by their config.
    # Set before any page module is imported: they bind memo when they are.
    from core.training import History  # noqa: E402

    def _public_memo(fn):
        return st.cache_resource(show_spinner=False, max_entries=chartcache.MAX_ENTRIES,
                                 hash_funcs={History: lambda h: h.config})(fn)

    chartcache.memo = _public_memo
from dashboard import runs as run_store  # noqa: E402
from dashboard.registry import ALL_VIEWS, CONFIG_CLASSES  # noqa: E402
from dashboard.selections import CompareView  # noqa: E402

APP = ROOT / "dashboard" / "app.py"

RERUN_TARGET_MS = 100
FIRST_TARGET_MS = 1000
NETWORK_FIRST_TARGET_MS = 2000
TRAINING_FIRST_TARGET_MS = 1000  # issue 12: the default Training view, 2 normalizations x 3 seeds
NETWORK_VIEWS = ("training", "activations", "gamma-beta", "why")
MAX_ROWS = 5000
TIMEOUT = 600
#: widgets a rerun moves, every one the page has: changes that need no new training (else the first
#: config-keyed widget)
MOVES = ("lr_scale", "at_step", "gamma", "train_step", "layer", "stage", "hist_step", "norm_layer", "smooth")
FIELDS = {name for cls in CONFIG_CLASSES for name in specs(cls)}
TRIVIAL = 'import streamlit as st\nst.write("Hello")\n'
#: the trivial page is served the way the views are: a start page, then a switch to it
TRIVIAL_APP = (
    "import streamlit as st\n"
    "st.navigation([st.Page('start.py', default=True), st.Page('trivial.py')]).run()\n"
)


def name(view) -> str:
    """The view's url path; the default page (served at /) is "home"."""
    return view.url_path or "home"


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()
    chartcache.CACHE.clear()


_SCRIPT_MS: list[float] = []
_exec = script_runner.exec_func_with_error_handling


def _timed_exec(func, ctx):
    """The script runner's call of the page script, timed: the server's own work for a run."""
    t0 = time.perf_counter()
    try:
        return _exec(func, ctx)
    finally:
        _SCRIPT_MS.append((time.perf_counter() - t0) * 1000)


script_runner.exec_func_with_error_handling = _timed_exec


def timed_run(at: AppTest) -> tuple[float, float, float]:
    """(wall-clock ms, process CPU ms, script ms) of one run. Wall and CPU include AppTest's own
    work of turning the run's messages into its element tree (a client's job, ~20 ms on a page
    of many elements); script is the time the server spent running the page script."""
    _SCRIPT_MS.clear()
    t0, c0 = time.perf_counter(), time.process_time()
    at.run()
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000, sum(_SCRIPT_MS)


def check(at: AppTest, what: str) -> None:
    if at.exception:
        raise RuntimeError(f"{what}: {[e.value for e in at.exception]}")


def config_widgets(at: AppTest) -> dict[str, Widget]:
    return {n.key: n for n in at._tree if isinstance(n, Widget) and n.key in FIELDS
            and not getattr(n.proto, "disabled", False)}


def _numbers(w: Widget) -> list:
    """The real values behind a select widget's formatted options (None where unknown)."""
    fmt = w.format_func
    pool = [c for cls in CONFIG_CLASSES for n, s in specs(cls).items() if n == w.key for c in s.choices]
    out = []
    for i, text in enumerate(w.options):
        hit = next((c for c in pool if str(fmt(c)) == text), None)
        if hit is None and str(fmt(i)) == text:
            hit = i
        if hit is None:
            m = re.sub(r"[^0-9eE.+\-]", "", text.replace(",", ""))
            for cast in (int, float):
                try:
                    v = cast(m)
                except ValueError:
                    continue
                if str(fmt(v)) == text:
                    hit = v
                    break
        out.append(hit)
    return out


def _is_numeric(w: Widget) -> bool:
    return isinstance(w.value, (int, float)) and not isinstance(w.value, bool)


def other_value(w: Widget, largest: bool = False):
    """Another valid value for w: the next notch (or the largest one)."""
    v = w.value
    if w.type in ("toggle", "checkbox"):
        return None if largest else (not v)
    if w.type in ("slider", "number_input"):
        if largest:
            return w.max if w.max is not None and w.max != v else None
        step = w.step or 1
        new = v + step if (w.max is None or v + step <= w.max) else v - step
        return new if isinstance(v, int) else round(float(new), 10)
    if w.type in ("select_slider", "selectbox", "radio", "button_group"):
        values = _numbers(w)
        if largest:
            nums = [x for x in values if isinstance(x, (int, float)) and not isinstance(x, bool)]
            return max(nums) if nums and max(nums) != v else None
        if v not in values:
            return None
        i = values.index(v)
        j = i + 1 if i + 1 < len(values) else i - 1
        return values[j]
    return None


def chart_rows(at: AppTest) -> int:
    """The largest row count of any chart's data on the page."""
    largest = 0
    for el in [*at.get("vega_lite_chart"), *at.get("arrow_vega_lite_chart")]:
        rows = sum(len(dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data)) for d in el.proto.datasets)
        if el.proto.HasField("data") and el.proto.data.data:
            rows += len(dataframe_util.convert_arrow_bytes_to_pandas_df(el.proto.data.data))
        largest = max(largest, rows)
    return largest


def open_page(path: Path | None, app: Path = APP) -> tuple[AppTest, tuple[float, float, float]]:
    """An AppTest on the page at ``path`` as the server runs it: ``app``'s navigation, then the page
    (caches cleared just before the page's run); returns it and that run's time. ``None`` = the
    app's default page, run again with its caches cleared (the session is started alike)."""
    at = AppTest.from_file(str(app), default_timeout=TIMEOUT)
    at.run()
    if path is not None:
        at.switch_page(os.path.relpath(path, app.parent))
    clear_caches()
    return at, timed_run(at)


def _all_values(w: Widget) -> list:
    """Every value the widget offers, nearest to its current value first."""
    if w.type in ("toggle", "checkbox"):
        values = [not w.value]
    elif w.type in ("slider", "number_input") and _is_numeric(w) and w.max is not None and w.min is not None:
        step = w.step or 1
        n = int(round((w.max - w.min) / step))
        values = [w.min + i * step for i in range(n + 1)]
        values = [v if isinstance(w.value, int) else round(float(v), 10) for v in values]
    else:
        values = [v for v in _numbers(w) if v is not None]
    numeric = all(isinstance(v, (int, float)) for v in [w.value, *values])
    return sorted((v for v in values if v != w.value),
                  key=lambda v: abs(v - w.value) if numeric else 0)


def measure_moves(at: AppTest, path, key: str, repeat: int, seen: set) -> dict:
    """Reruns after moving ``key``: between two values shown before, then to values never shown."""
    start = config_widgets(at)[key].value
    other = other_value(config_widgets(at)[key])
    rows = 0
    warm, new = [], []
    for value in (other, start):  # show both once: their work and charts are now cached
        config_widgets(at)[key].set_value(value)
        at.run()
        check(at, f"{path} {key}={value!r}")
        seen.add((key, value))
        rows = max(rows, chart_rows(at))
    for _ in range(repeat):
        for value in (other, start):
            config_widgets(at)[key].set_value(value)
            warm.append(timed_run(at))
            check(at, f"{path} {key}={value!r}")
    fresh = [v for v in _all_values(config_widgets(at)[key]) if (key, v) not in seen][:2 * repeat]
    for value in fresh:
        config_widgets(at)[key].set_value(value)
        new.append(timed_run(at))
        check(at, f"{path} {key}={value!r}")
        seen.add((key, value))
        rows = max(rows, chart_rows(at))
    config_widgets(at)[key].set_value(start)
    at.run()
    return {"key": key, "warm": [w for w, _, _ in warm], "warm_script": [x for _, _, x in warm],
            "new": [w for w, _, _ in new], "new_script": [x for _, _, x in new], "rows": rows}


def measure(path: Path | None, repeat: int, *, max_settings: bool = False, app: Path = APP) -> dict:
    """First-run and rerun times (ms) of a page of ``app``, and its largest chart data."""
    firsts, trained = [], []
    for _ in range(repeat):
        at, times = open_page(path, app)
        firsts.append(times)
        check(at, f"{path} first run")
        trained.append(len(run_store.store()))  # the store was empty before this run: what it trained
    rows = chart_rows(at)

    widgets = config_widgets(at)
    keys = [k for k in MOVES if k in widgets] or list(widgets)[:1]
    moves = []
    seen: set = set()
    if not keys:  # a page without settings: a plain rerun
        plain = [timed_run(at) for _ in range(2 * repeat)]
        moves.append({"key": None, "warm": [w for w, _, _ in plain], "warm_script": [x for _, _, x in plain],
                      "new": [], "new_script": [], "rows": 0})
    for key in keys:
        moves.append(measure_moves(at, path, key, repeat, seen))
        rows = max(rows, moves[-1]["rows"])
    result = {"first": [w for w, _, _ in firsts], "first_script": [x for _, _, x in firsts], "trained": trained,
              "moves": moves, "rows": rows, "max_rows": None}

    if max_settings and widgets:
        largest = rows
        trials = []
        for k, w in widgets.items():
            if w.type in ("selectbox", "radio", "button_group") and not _is_numeric(w):
                trials += [(k, v) for v in _numbers(w) if v is not None and v != w.value]  # every choice
            else:
                trials.append((k, other_value(w, largest=True)))  # the largest number
        for k, new in trials:
            if new is None:
                continue
            fresh, _ = open_page(path)
            w = config_widgets(fresh).get(k)
            if w is None:
                continue
            w.set_value(new)
            fresh.run()
            check(fresh, f"{path} {k}={new!r}")
            largest = max(largest, chart_rows(fresh))
        result["max_rows"] = largest
    return result


def fmt_ms(xs: list[float]) -> str:
    return f"{statistics.median(xs):.1f}" if xs else "-"


def training_line(results: list) -> list[str]:
    """The default Training view's figures (issue 12): first draw from nothing, a change without retraining."""
    found = [r for v, r in results if name(v) == "training"]
    if not found:
        return []
    r = found[0]
    view = CompareView()
    runs = len(view.norms) * view.seeds
    first = statistics.median(r["first_script"])
    moved = next((m for m in r["moves"] if m["key"] == "train_step"), r["moves"][0])
    lines = [f"Default Training view ({len(view.norms)} normalizations x {view.seeds} seeds = {runs} runs of "
             f"{TrainConfig().depth} layers, trained from nothing; the store held {min(r['trained'])}-"
             f"{max(r['trained'])} runs after the first draw):",
             f"  first draw: {first:.0f} ms of server time (median of {len(r['first_script'])}; "
             f"{min(r['first_script']):.0f}-{max(r['first_script']):.0f}), target < {TRAINING_FIRST_TARGET_MS} ms: "
             + ("ok" if first < TRAINING_FIRST_TARGET_MS else "MISSED")]
    for what, label in (("warm", "to a step shown before"), ("new", "to a step never shown")):
        if moved[f"{what}_script"]:
            t = statistics.median(moved[f"{what}_script"])
            lines.append(f"  {moved['key']} moved {label} (no retraining): {t:.1f} ms of server time, "
                         f"target < {RERUN_TARGET_MS} ms: " + ("ok" if t < RERUN_TARGET_MS else "MISSED"))
    return lines


def why_line(results: list) -> list[str]:
    """The default Why view's figures (issue 14): its first draw from nothing (the view's runs with the
    gradient probe, and the noisy arm) and a change that needs no retraining (the compare choice moved
    back to one shown before: every run and probe cached)."""
    found = [r for v, r in results if name(v) == "why"]
    if not found:
        return []
    r = found[0]
    first = statistics.median(r["first_script"])
    lines = [f"Default Why it works view (its runs probed, the noisy arm, {CompareView().seeds} seeds; the store held "
             f"{min(r['trained'])}-{max(r['trained'])} runs after the first draw):",
             f"  first draw: {first:.0f} ms of server time (median of {len(r['first_script'])}; "
             f"{min(r['first_script']):.0f}-{max(r['first_script']):.0f}), target < {NETWORK_FIRST_TARGET_MS} ms: "
             + ("ok" if first < NETWORK_FIRST_TARGET_MS else "MISSED")]
    for m in r["moves"]:
        if m["warm_script"]:
            t = statistics.median(m["warm_script"])
            lines.append(f"  {m['key']} moved to a value shown before (no retraining): {t:.1f} ms of server time, "
                         f"target < {RERUN_TARGET_MS} ms: " + ("ok" if t < RERUN_TARGET_MS else "MISSED"))
    return lines


def lesson_lines(keys: list[str], repeat: int) -> list[str]:
    """Each lesson link's first draw from nothing (``?lesson=<key>&predict=0``: its charts at once), and a
    rerun with nothing changed, in server time."""
    from dashboard.lessons import lesson
    from dashboard.registry import ALL_VIEWS as VIEWS_ALL

    lines = []
    for key in keys:
        item = lesson(key)
        path = next(v.path for v in VIEWS_ALL if v.url_path == item.view)
        firsts, reruns = [], []
        for _ in range(repeat):
            at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
            at.query_params.update({"lesson": key, "predict": "0"})
            at.run()
            at.switch_page(os.path.relpath(path, APP.parent))
            clear_caches()
            firsts.append(timed_run(at)[2])
            check(at, f"lesson {key}")
            reruns.append(timed_run(at)[2])
        f, q = statistics.median(firsts), statistics.median(reruns)
        lines.append(f"  lesson {key}: first draw {f:.0f} ms ({min(firsts):.0f}-{max(firsts):.0f}), "
                     f"rerun {q:.1f} ms of server time")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median; at least 5)")
    parser.add_argument("--views", default="", help="comma-separated url paths (default: every view)")
    parser.add_argument("--max-settings", action="store_true",
                        help="also move each numeric widget to its largest value and each choice to every "
                             "option (one at a time) and report chart rows; slow on the network views")
    parser.add_argument("--lessons", default="",
                        help="comma-separated lesson keys (or 'why': the Why view's): each link's first draw")
    args = parser.parse_args()
    repeat = max(5, args.repeat)
    from streamlit import config as st_config
    from streamlit.logger import set_log_level

    st_config.set_option("logger.level", "error")  # loggers created later read this
    set_log_level("error")
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")

    views = [v for v in ALL_VIEWS if not args.views or name(v) in args.views.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        trivial_path = Path(tmp) / "trivial.py"
        trivial_path.write_text(TRIVIAL)
        (Path(tmp) / "start.py").write_text('import streamlit as st\nst.write("Start")\n')
        trivial_app = Path(tmp) / "app.py"
        trivial_app.write_text(TRIVIAL_APP)
        # warm the process (imports, AppTest machinery) so the first page measured does not pay for it
        open_page(trivial_path, trivial_app)
        trivial = measure(trivial_path, repeat, app=trivial_app)
        results = []
        for v in views:
            print(f"measuring {name(v)} ...", file=sys.stderr, flush=True)
            default = ALL_VIEWS.index(v) == 0  # the app's default page has no path of its own to switch to
            results.append((v, measure(None if default else v.path, repeat, max_settings=args.max_settings)))

    t_rerun = statistics.median(trivial["moves"][0]["warm"])
    print()
    print(f"Time per page, median of {repeat} (ms): AppTest's wall clock (which includes AppTest building its "
          "element tree from the messages, a client's work), and '(script)': the server running the page "
          "script; the flags judge the script time. Trivial page: one st.write line.")
    print(f"Targets: first run < {FIRST_TARGET_MS} ms ({', '.join(NETWORK_VIEWS)}: < {NETWORK_FIRST_TARGET_MS} ms, "
          f"they train their runs first), rerun after a widget change < {RERUN_TARGET_MS} ms, "
          f"chart data < {MAX_ROWS:,} rows.")
    print("rerun seen: the widget moved between two values shown before (charts reused); "
          "rerun new: moved to values never shown (their charts built afresh; n = how many).")
    print()
    head = (f"{'view':<16} {'first run':>9} {'(script)':>8} {'':>4}  {'moved widget':<12} {'rerun seen':>10} "
            f"{'(script)':>8} {'':>4}  {'rerun new':>9} {'(script)':>8} {'n':>3} {'':>4}  {'chart rows':>10} {'':>3}")
    print(head)
    print("-" * len(head))
    print(f"{'(trivial page)':<16} {fmt_ms(trivial['first']):>9} {fmt_ms(trivial['first_script']):>8} {'':>4}  "
          f"{'-':<12} {t_rerun:>10.1f} {fmt_ms(trivial['moves'][0]['warm_script']):>8}")
    misses = []
    for v, r in results:
        first = statistics.median(r["first"])
        first_script = statistics.median(r["first_script"])
        target = NETWORK_FIRST_TARGET_MS if name(v) in NETWORK_VIEWS else FIRST_TARGET_MS
        rows = r["rows"] if r["max_rows"] is None else max(r["rows"], r["max_rows"])
        ok_first = "ok" if first_script < target else "SLOW"
        ok_rows = "ok" if rows < MAX_ROWS else "BIG"
        if ok_first != "ok":
            misses.append(f"{name(v)}: first run")
        if ok_rows != "ok":
            misses.append(f"{name(v)}: chart rows")
        for i, m in enumerate(r["moves"]):
            flags = []
            for what in ("warm", "new"):
                ok = not m[what] or statistics.median(m[f"{what}_script"]) < RERUN_TARGET_MS
                flags.append("ok" if ok else "SLOW")
                if not ok:
                    misses.append(f"{name(v)}: rerun {'seen' if what == 'warm' else 'new'} ({m['key']})")
            lead = (f"{name(v):<16} {first:>9.1f} {fmt_ms(r['first_script']):>8} {ok_first:>4}" if i == 0
                    else f"{'':<16} {'':>9} {'':>8} {'':>4}")
            tail = f"  {rows:>10,} {ok_rows:>3}" if i == 0 else ""
            print(f"{lead}  {str(m['key'] or '(none)'):<12} {fmt_ms(m['warm']):>10} {fmt_ms(m['warm_script']):>8} "
                  f"{flags[0]:>4}  {fmt_ms(m['new']):>9} {fmt_ms(m['new_script']):>8} {len(m['new']):>3} "
                  f"{flags[1] if m['new'] else '':>4}{tail}")
    print()
    print("Spread (min-max ms): " + "; ".join(
        f"{name(v)} first {min(r['first']):.0f}-{max(r['first']):.0f}, rerun "
        f"{min(x for m in r['moves'] for x in m['warm'] + m['new']):.0f}-"
        f"{max(x for m in r['moves'] for x in m['warm'] + m['new']):.0f}" for v, r in results))
    print("Chart rows: the largest data set of any chart over the runs above"
          + (" and each numeric widget at its largest value, each choice at every option." if args.max_settings else
             " (add --max-settings to push every numeric widget to its maximum)."))
    print("Missed targets: " + (", ".join(misses) if misses else "none"))
    print()
    for line in training_line(results) + why_line(results):
        print(line)
    if args.lessons:
        from dashboard.lessons import LESSONS

        keys = [x.key for x in LESSONS if x.view == "why"] if args.lessons == "why" else args.lessons.split(",")
        print("Lesson links (server time, median of 3):")
        for line in lesson_lines(keys, 3):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
