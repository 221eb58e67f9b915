"""Server time of every view in dashboard/registry.py, next to a trivial one-line page.

For each view (read from the registry, so new pages are measured as they
are added) and for a trivial page written to a temp dir (``st.write``, one
line, behind the same kind of ``st.navigation`` entry script), in the same
process and under the same conditions:

* first run: a fresh ``AppTest`` of ``dashboard/app.py`` switched to the view,
  Streamlit's caches cleared just before the view's run (``st.cache_data``
  and ``st.cache_resource``: nothing computed before); the time is the
  whole script run the server does: navigation, then the page;
* rerun: a widget keyed by a config field is moved between two values whose
  work is already cached (both visited once first), so the time is what a
  user waits for when the result is reused;

each repeated (median of ``--repeat``, at least 5) and shown with its ratio to
the trivial page. The largest row count of any chart's data on the page (over
every run measured) is reported too; ``--max-settings`` also moves each
numeric widget to its largest value and each choice (data set, ...) to
every option, one at a time (slow on the network views: it trains).

    .venv/bin/python benchmarks/bench_pages.py
    .venv/bin/python benchmarks/bench_pages.py --repeat 9 --views landscape,training

Targets (issue 2): rerun under 100 ms, first run under 1 s, chart data under
5,000 rows. Times are AppTest's script runs: the server's work, not the
browser's drawing.
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
from streamlit.testing.v1 import AppTest  # noqa: E402
from streamlit.testing.v1.element_tree import Widget  # noqa: E402

from core.params import specs  # noqa: E402
from dashboard.registry import ALL_VIEWS, CONFIG_CLASSES  # noqa: E402

APP = ROOT / "dashboard" / "app.py"

RERUN_TARGET_MS = 100
FIRST_TARGET_MS = 1000
MAX_ROWS = 5000
TIMEOUT = 600
#: the widget a rerun moves, when the page has it (else the first config-keyed widget)
PREFERRED = ("lr_scale", "gamma", "compare", "layer", "stage", "norm_layer", "steps", "batch_size", "lr")
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


def timed_run(at: AppTest) -> tuple[float, float]:
    """(wall-clock ms, process CPU ms) of one script run. The script runs in a thread of this
    process, so the CPU time is its own work: a steadier figure on a shared, busy machine."""
    t0, c0 = time.perf_counter(), time.process_time()
    at.run()
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


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


def open_page(path: Path | None, app: Path = APP) -> tuple[AppTest, tuple[float, float]]:
    """An AppTest on the page at ``path`` as the server runs it: ``app``'s navigation, then the page
    (caches cleared just before the page's run); returns it and that run's time. ``None`` = the
    app's default page, run again with its caches cleared (the session is started alike)."""
    at = AppTest.from_file(str(app), default_timeout=TIMEOUT)
    at.run()
    if path is not None:
        at.switch_page(os.path.relpath(path, app.parent))
    clear_caches()
    return at, timed_run(at)


def measure(path: Path | None, repeat: int, *, max_settings: bool = False, app: Path = APP) -> dict:
    """First-run and rerun times (ms) of a page of ``app``, and its largest chart data."""
    firsts = []
    for _ in range(repeat):
        at, times = open_page(path, app)
        firsts.append(times)
        check(at, f"{path} first run")
    rows = chart_rows(at)

    widgets = config_widgets(at)
    key = next((k for k in PREFERRED if k in widgets), next(iter(widgets), None))
    reruns = []
    if key is None:  # a page without settings: a plain rerun
        for _ in range(2 * repeat):
            reruns.append(timed_run(at))
    else:
        a = widgets[key].value
        b = other_value(widgets[key])
        for value in (b, a):  # warm both: their work is now cached
            config_widgets(at)[key].set_value(value)
            at.run()
            check(at, f"{path} {key}={value!r}")
            rows = max(rows, chart_rows(at))
        for _ in range(repeat):
            for value in (b, a):
                config_widgets(at)[key].set_value(value)
                reruns.append(timed_run(at))
                check(at, f"{path} {key}={value!r}")
    result = {"first": [w for w, _ in firsts], "rerun": [w for w, _ in reruns],
              "first_cpu": [c for _, c in firsts], "rerun_cpu": [c for _, c in reruns],
              "key": key, "rows": rows, "max_rows": None}

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median; at least 5)")
    parser.add_argument("--views", default="", help="comma-separated url paths (default: every view)")
    parser.add_argument("--max-settings", action="store_true",
                        help="also move each numeric widget to its largest value and each choice to every "
                             "option (one at a time) and report chart rows; slow on the network views")
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

    t_first = statistics.median(trivial["first"])
    t_rerun = statistics.median(trivial["rerun"])
    print()
    print(f"Server time per page, median of {repeat} (AppTest; ms, wall clock; '(cpu)': this process's CPU "
          "time, steadier on a busy machine). Trivial page: one st.write line.")
    print(f"Targets: first run < {FIRST_TARGET_MS} ms, rerun after a widget change < {RERUN_TARGET_MS} ms, "
          f"chart data < {MAX_ROWS:,} rows.")
    print()
    head = (f"{'view':<16} {'first run':>9} {'(cpu)':>7} {'x trivial':>9} {'':>5}  {'rerun':>8} {'(cpu)':>7} "
            f"{'x trivial':>9} {'':>5}  {'moved widget':<14} {'chart rows':>10} {'':>5}")
    print(head)
    print("-" * len(head))
    print(f"{'(trivial page)':<16} {fmt_ms(trivial['first']):>9} {fmt_ms(trivial['first_cpu']):>7} {1.0:>9.1f} "
          f"{'':>5}  {fmt_ms(trivial['rerun']):>8} {fmt_ms(trivial['rerun_cpu']):>7} {1.0:>9.1f} {'':>5}  "
          f"{'-':<14} {'-':>10}")
    misses = []
    for v, r in results:
        first, rerun = statistics.median(r["first"]), statistics.median(r["rerun"])
        rows = r["rows"] if r["max_rows"] is None else max(r["rows"], r["max_rows"])
        ok_first = "ok" if first < FIRST_TARGET_MS else "SLOW"
        ok_rerun = "ok" if rerun < RERUN_TARGET_MS else "SLOW"
        ok_rows = "ok" if rows < MAX_ROWS else "BIG"
        for flag, what in ((ok_first, "first run"), (ok_rerun, "rerun"), (ok_rows, "chart rows")):
            if flag != "ok":
                misses.append(f"{name(v)}: {what}")
        print(f"{name(v):<16} {first:>9.1f} {fmt_ms(r['first_cpu']):>7} {first / t_first:>9.1f} {ok_first:>5}  "
              f"{rerun:>8.1f} {fmt_ms(r['rerun_cpu']):>7} {rerun / t_rerun:>9.1f} {ok_rerun:>5}  "
              f"{str(r['key'] or '(none)'):<14} {rows:>10,} {ok_rows:>5}")
    print()
    spread = {name(v): (min(r["first"]), max(r["first"]), min(r["rerun"]), max(r["rerun"])) for v, r in results}
    print("Spread (min-max ms): " + "; ".join(
        f"{k} first {a:.0f}-{b:.0f}, rerun {c:.0f}-{d:.0f}" for k, (a, b, c, d) in spread.items()))
    print("Chart rows: the largest data set of any chart over the runs above"
          + (" and each numeric widget at its largest value, each choice at every option." if args.max_settings else
             " (add --max-settings to push every numeric widget to its maximum)."))
    print("Missed targets: " + (", ".join(misses) if misses else "none"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
