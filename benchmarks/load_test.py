"""Load test: N concurrent real-browser sessions against one local dashboard server.

What it measures, plainly: that real pages draw (every chart, no exception) when N Chromium pages
open at once, and how long a student behind one of them waits **on this machine, browsers
included**. The browsers share the machine's two cores with the server and cost far more CPU than
it does, so its times measure the browsers as much as the server (issue 17: 185 s median to the
first chart for 20 pages). For what one server holds, and for replicas behind a proxy, use
``benchmarks/ws_load.py``: it speaks Streamlit's websocket protocol without a browser.

Starts its own ``streamlit run dashboard/app.py`` on a free port of 127.0.0.1,
opens N pages at once in one headless Chromium (Playwright's async API; each
page is its own Streamlit session) and measures, per session, from the start
of its navigation (the page's ``performance.timeOrigin``):

* **server done**: the last websocket message of the session's first script
  run arrived (the network stack's clock, so a page whose main thread is
  still busy does not delay it) -- the server's share of the wait;
* **first chart**: the first ``[data-testid="stVegaLiteChart"]`` holding a
  canvas/svg of non-zero size;
* **all charts**: the script has finished (``data-test-script-state`` is
  ``notRunning``, no status widget or spinner) and every chart
  on the page has drawn, held for 0.5 s.

A session fails when it gets no chart, shows an exception box
(``stException``) or the dashboard's own failure message, times out, or ends
on a URL without the settings it asked for. Dropped-and-restored connections
and requests to other hosts (blocked) are reported, not failed.

The sessions rotate over the network views (the pages that call
``netconfig.sidebar``) and the loss landscape; half go to the Training page,
most with the default settings (they and the Activations / γ-β sessions
share one set of runs), and ``--distinct`` of them with their own settings
(``?seed=1`` .. ``?depth=6``, and one ``?data_seed=1`` landscape) so the
server trains several runs at once. Each session reports whether it trained
(the run store's "Training 1 of N" progress label reached it) or found its
runs in the store; after the wave one more session opens a network view
(Training if in the mix) with the default settings and must find its runs in
the store (shared between sessions).

The server's process tree is sampled (psutil, RSS including children) every
0.1 s: baseline after start-up, peak during the run, and at the end. The CPU
time of the server, of the browser (with this harness) and of everything
else on the machine during the wave is reported too: on a shared machine the
figures mean little without it.

Twenty Chromium pages cost far more CPU than the server (each page spends
several seconds of main-thread time booting Streamlit's frontend, re-rendering
on every progress message and drawing Vega charts). By default the browser
is confined to the upper half of the CPUs (``--browser-cpus``; CPU 1 of 2)
so that it cannot crowd the server out, and the pages share one browser
context (HTTP and code caches; ``--isolated`` for one context each).

    .venv/bin/python benchmarks/load_test.py                    # 20 sessions, default mix, 300 s limit
    .venv/bin/python benchmarks/load_test.py --sessions 5 --page training
    .venv/bin/python benchmarks/load_test.py --page landscape --page activations --distinct 2
    .venv/bin/python benchmarks/load_test.py --timeout 600 --browser-cpus all

Exit status: 0 when every session got its charts and the run store was
shared, 1 otherwise, 2 on a setup error or when the watchdog had to stop a
hung run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import psutil
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.proctree import cpu_seconds as cpu  # noqa: E402
from benchmarks.proctree import rss, tree  # noqa: E402
from dashboard.guard import FAILURE_TEXT  # noqa: E402
from dashboard.registry import VIEWS  # noqa: E402

HOST = "127.0.0.1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # nothing but the local server, directly: every other host name fails to resolve
    "--no-proxy-server", f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {HOST}",
    # twenty pages share one browser: keep them all running at full speed
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
VIEWPORT = {"width": 1000, "height": 700}
CHART = '[data-testid="stVegaLiteChart"]'
SETTLE_MS = 500  # "all charts drawn, app idle" must hold this long
#: the page is done: all charts drawn and idle, or it failed
DONE = "() => { const s = window.__lt; return !!s && (s.idle !== null || s.exception || s.failure); }"
SAMPLE_S = 0.1  # memory sampling period
MiB = 2**20
#: the start of the progress label dashboard/runs.py shows while a session trains
TRAINING_LABEL = "Training 1 of "

#: installed in every page before its own scripts: records the milestones with
#: the page's clock (ms since navigation started), independent of how late
#: Python gets to ask
PAGE_PROBE = """
(() => {
  const S = window.__lt = {first: null, idle: null, ran: false, scriptDone: null, frames: 0, bytes: 0,
                           trained: false, exception: false, failure: false, charts: 0, drawn: 0,
                           state: null, conn: null, connected: false, lost: null, since: null, sig: ""};
  const FAIL = %(fail)s, CHART = %(chart)s, SETTLE = %(settle)d;
  const BUSY = '[data-testid="stStatusWidget"], [data-testid="stSpinner"]';
  // count what the server sends, and spot the run store's progress label in it ("Training 1 of N:
  // ..."): a session that trains says so even if its page never gets to draw the progress bar
  const NEEDLE = new TextEncoder().encode(%(needle)s);
  const has = (a) => {
    outer: for (let i = 0; i + NEEDLE.length <= a.length; i++) {
      for (let j = 0; j < NEEDLE.length; j++) if (a[i + j] !== NEEDLE[j]) continue outer;
      return true;
    }
    return false;
  };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (ev) => {
        S.frames++;
        const d = ev.data;
        if (d instanceof ArrayBuffer) {
          S.bytes += d.byteLength;
          if (!S.trained && d.byteLength < 4096 && has(new Uint8Array(d))) S.trained = true;
        } else if (typeof d === "string") S.bytes += d.length;
        else if (d && d.size) S.bytes += d.size;
      });
    }
  };
  function tick() {
    const now = performance.now();
    const app = document.querySelector('[data-testid="stApp"]');
    const charts = document.querySelectorAll(CHART);
    let drawn = 0;
    for (const c of charts) {
      const g = c.querySelector("canvas, svg");
      if (g) { const r = g.getBoundingClientRect(); if (r.width > 0 && r.height > 0) drawn++; }
    }
    S.charts = charts.length; S.drawn = drawn;
    if (drawn > 0 && S.first === null) S.first = now;
    // the run store's progress bar, in case the label arrived in a message larger than scanned
    for (const p of document.querySelectorAll('[data-testid="stProgress"]')) {
      if ((p.textContent || "").includes("Training")) S.trained = true;
    }
    if (document.querySelector('[data-testid="stException"]')) S.exception = true;
    for (const a of document.querySelectorAll('[data-testid="stAlert"]')) {
      if ((a.textContent || "").includes(FAIL)) S.failure = true;
    }
    S.state = app ? app.getAttribute("data-test-script-state") : null;
    S.conn = app ? app.getAttribute("data-test-connection-state") : null;
    if (S.state === "running") S.ran = true;
    else if (S.ran && S.state === "notRunning" && S.scriptDone === null) S.scriptDone = now;
    if (S.conn === "CONNECTED") S.connected = true;
    else if (S.connected && S.conn && S.lost === null) S.lost = S.conn;
    const busy = (S.state !== null && S.state !== "notRunning") || (S.conn !== null && S.conn !== "CONNECTED")
                 || document.querySelector(BUSY) !== null;
    const ready = !busy && charts.length > 0 && drawn === charts.length;
    const sig = charts.length + ":" + drawn;
    if (!ready) { S.since = null; return; }
    if (S.since === null || S.sig !== sig) { S.since = now; S.sig = sig; }
    if (S.idle === null && now - S.since >= SETTLE) S.idle = S.since;
  }
  setInterval(tick, 100);
})();
"""


# ------------------------------------------------------------------ the plan

def network_views() -> list[str]:
    """url_paths of the views that train networks (they draw the shared sidebar config)."""
    return [v.url_path for v in VIEWS if "netconfig.sidebar(" in v.path.read_text(encoding="utf-8")]


def distinct_query(page: str, j: int, k: int) -> dict[str, str]:
    """The j-th (of k) distinct configuration for ``page``."""
    if page == "landscape":
        return {"data_seed": str(j + 1)}
    if j == k - 1 and k > 1:
        return {"depth": "6"}
    return {"seed": str(j + 1)}


@dataclass
class Session:
    index: int
    page: str
    query: dict[str, str]
    network: bool  # a view that trains networks
    # measured, in seconds from the start of the page's navigation
    first: float | None = None  # first chart drawn
    idle: float | None = None  # all charts drawn, app idle
    script_done: float | None = None  # the page saw the server finish its first script run
    # as the page saw it
    charts: int = 0
    trained: bool = False
    frames: int = 0  # websocket messages received
    bytes: int = 0
    final_url: str = ""
    # the network stack's clock (CDP timestamps, s): the page's request and the last websocket
    # message before the session was done; wall-clock times of the request and of asking for it
    net_start: float | None = None
    net_last: float | None = None
    net_wall: float | None = None
    asked: float | None = None
    finished: bool = False  # drive() is done with this session
    errors: list[str] = field(default_factory=list)  # any of these fails the session
    notes: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)  # requests to other hosts (blocked)
    http_errors: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.page + ("?" + urlencode(self.query) if self.query else "")

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def sent(self) -> float | None:
        """Seconds from navigation until the server's last message arrived."""
        if self.net_start is None or self.net_last is None:
            return None
        return self.net_last - self.net_start

    @property
    def nav_delay(self) -> float | None:
        """How long the browser took to start the navigation the harness asked for."""
        return None if self.net_wall is None or self.asked is None else self.net_wall - self.asked


def plan(n: int, pages: list[str], distinct: int) -> list[Session]:
    """Half the sessions on the main page (Training if chosen), the rest rotating over the
    others; the last ``distinct`` main-page sessions and one landscape session get their own
    settings."""
    main = "training" if "training" in pages else pages[0]
    others = [p for p in pages if p != main] or [main]
    n_main = n if others == [main] else math.ceil(n / 2)
    assigned = [main] * n_main + [others[i % len(others)] for i in range(n - n_main)]
    nets = set(network_views())
    sessions = [Session(i, p, {}, p in nets) for i, p in enumerate(assigned)]
    on_main = [s for s in sessions if s.page == main]
    k = min(distinct, max(len(on_main) - 1, 0))  # keep at least one default session
    for j, s in enumerate(on_main[len(on_main) - k:]):
        s.query = distinct_query(main, j, k)
    lands = [s for s in sessions if s.page == "landscape"]
    if main != "landscape" and len(lands) >= 2 and distinct > 0:
        lands[-1].query = distinct_query("landscape", 0, 1)
    # interleave pages in start order so no page gets a head start
    order = sorted(sessions, key=lambda s: ([x for x in sessions if x.page == s.page].index(s), s.index))
    for i, s in enumerate(order):
        s.index = i
    return order


# ---------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(port: int, log_path: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
           "--server.headless", "true", "--server.port", str(port), "--server.address", HOST,
           "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    log = open(log_path, "wb")  # noqa: SIM115 -- handed to the child, closed by stop_server
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proc._lt_log = log  # type: ignore[attr-defined]
    return proc


DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy


def wait_healthy(proc: subprocess.Popen, port: int, log_path: Path, timeout: float = 60.0) -> float:
    start = time.monotonic()
    url = f"http://{HOST}:{port}/_stcore/health"
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            with DIRECT.open(url, timeout=2) as r:
                if r.status == 200 and r.read().strip() == b"ok":
                    return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not healthy after {timeout:.0f} s:\n{tail(log_path)}")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = None
    if pgid is not None:
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
    log = getattr(proc, "_lt_log", None)
    if log is not None:
        log.close()


def tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


class Sampler(threading.Thread):
    """RSS of the server's process tree every SAMPLE_S seconds (and, for context, of this
    process with Playwright's driver and Chromium every 0.5 s)."""

    def __init__(self, server_pid: int):
        super().__init__(daemon=True)
        self.server = psutil.Process(server_pid)
        self.me = psutil.Process()
        self.stop_event = threading.Event()
        self.server_peak = self.client_peak = self.last = self.samples = 0

    def client(self) -> list[psutil.Process]:
        """This process, Playwright's driver and Chromium: everything ours but the server."""
        server = {p.pid for p in tree(self.server)}
        return [p for p in tree(self.me) if p.pid not in server]

    def run(self) -> None:
        server, refreshed = tree(self.server), 0.0
        while not self.stop_event.is_set():
            now = time.monotonic()
            if now - refreshed >= 0.5:  # walking /proc for children costs more than reading RSS
                server, refreshed = tree(self.server), now
                self.client_peak = max(self.client_peak, rss(self.client()))
            self.last = rss(server)
            self.server_peak = max(self.server_peak, self.last)
            self.samples += 1
            self.stop_event.wait(SAMPLE_S)

    def cpu_mark(self) -> dict[str, float]:
        return {"server": cpu(tree(self.server)), "client": cpu(self.client()), "machine": machine_busy(),
                "t": time.monotonic()}


# ---------------------------------------------------------------- the browser

async def open_page(context, s: Session):
    """A page for one session, with its listeners (not navigated yet)."""
    page = await context.new_page()
    # the network stack's own clock: when the server sent the session's last message, however far
    # behind the page's main thread is in handling them
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")

    def on_request(p: dict) -> None:
        if p.get("type") == "Document" and s.net_start is None:
            s.net_start, s.net_wall = p["timestamp"], p.get("wallTime")

    def on_frame(p: dict) -> None:
        if not s.finished:
            s.net_last = p["timestamp"]

    cdp.on("Network.requestWillBeSent", on_request)
    cdp.on("Network.webSocketFrameReceived", on_frame)
    page.on("crash", lambda _p: s.errors.append("page crashed"))
    page.on("pageerror", lambda e: s.console.append(f"pageerror: {e}"))
    page.on("console", lambda m: s.console.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: None if local(r.url) else s.external.append(r.url))
    page.on("response", lambda r: s.http_errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return page


#: what a page that did not finish shows (for the report)
DIAGNOSE = """() => {
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const ids = {};
  for (const e of main.querySelectorAll("[data-testid]")) ids[e.dataset.testid] = (ids[e.dataset.testid] || 0) + 1;
  const keep = ["stVegaLiteChart", "stAlert", "stException", "stProgress", "stSpinner", "stSkeleton",
                "stElementContainer", "stHeading"];
  const shown = keep.filter(k => ids[k]).map(k => k + "×" + ids[k]).join(" ");
  const alerts = Array.from(main.querySelectorAll('[data-testid="stAlert"], [data-testid="stException"]'))
    .map(a => (a.textContent || "").trim().slice(0, 100));
  return (shown || "no elements") + (alerts.length ? " | " + alerts.join(" | ") : "");
}"""


async def diagnose(page, s: Session, shots: Path | None) -> None:
    """Note what a page that did not finish shows, and keep a screenshot of it."""
    try:
        s.notes.append("page shows: " + await asyncio.wait_for(page.evaluate(DIAGNOSE), timeout=15))
        if shots is not None:
            path = shots / f"session-{s.index:02d}.png"
            await page.screenshot(path=str(path), timeout=15_000)
            s.notes.append(f"screenshot {path}")
    except Exception as exc:  # noqa: BLE001 -- diagnostics only
        s.notes.append(f"no diagnostics ({type(exc).__name__})")


async def drive(page, base: str, s: Session, timeout: float, shots: Path | None = None) -> None:
    """Navigate one session's page and wait for its charts (records into ``s``)."""
    url = f"{base}/{s.page}" + ("?" + urlencode(s.query) if s.query else "")
    deadline = time.monotonic() + timeout
    rec: dict = {}
    s.asked = time.time()
    try:
        await page.goto(url, wait_until="commit", timeout=timeout * 1000)
        try:  # polled inside the page: no round trip per poll
            await page.wait_for_function(DONE, polling=250,
                                         timeout=max(1.0, deadline - time.monotonic()) * 1000)
        except PlaywrightTimeout:
            pass
        rec = await asyncio.wait_for(page.evaluate("window.__lt || null"), timeout=30) or {}
        s.finished = True
        absorb(s, rec)
        s.final_url = page.url
        if rec.get("idle") is None or rec.get("exception") or rec.get("failure"):
            await diagnose(page, s, shots)
    except Exception as exc:  # noqa: BLE001 -- a session's failure is a result, not a crash of the test
        s.errors.append(f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:120]}")
    if rec.get("exception"):
        s.errors.append("exception box (stException) on the page")
    if rec.get("failure"):
        s.errors.append(f"the view's failure message: {FAILURE_TEXT!r}")
    if rec.get("lost"):
        s.notes.append(f"connection dropped ({rec['lost']})")
    if s.first is None:
        s.errors.append("no chart drawn")
    elif s.idle is None and not s.errors:
        s.errors.append(f"not idle with all charts drawn after {timeout:.0f} s "
                        f"({rec.get('drawn')}/{rec.get('charts')} drawn, script {rec.get('state')})")
    if s.final_url and s.query:
        got = parse_qs(urlparse(s.final_url).query)
        for k, v in s.query.items():
            if not same_value(got.get(k, [None])[0], v):
                s.errors.append(f"setting {k}={v} not applied (URL has {k}={got.get(k, [None])[0]})")


def absorb(s: Session, rec: dict) -> None:
    """Copy the page's record into the session (as it goes: a cancelled run keeps what it saw)."""
    s.first = rec["first"] / 1000 if rec.get("first") is not None else None
    s.idle = rec["idle"] / 1000 if rec.get("idle") is not None else None
    s.script_done = rec["scriptDone"] / 1000 if rec.get("scriptDone") is not None else None
    s.charts = rec.get("charts", 0)
    s.trained = bool(rec.get("trained"))
    s.frames, s.bytes = rec.get("frames", 0), rec.get("bytes", 0)


def local(url: str) -> bool:
    return url.startswith(("data:", "blob:", "about:")) or urlparse(url).hostname == HOST


def same_value(a: str | None, b: str) -> bool:
    if a is None:
        return False
    try:
        return float(a) == float(b)
    except ValueError:
        return a == b


async def new_context(browser, probe: str):
    context = await browser.new_context(viewport=VIEWPORT)
    await context.add_init_script(probe)
    return context


async def run_browser(base: str, sessions: list[Session], timeout: float, sampler: Sampler, out: dict,
                      shots: Path, isolated: bool) -> None:
    """Run the wave (and the warm check after it); fills ``out`` as it goes."""
    probe = PAGE_PROBE % {"fail": json.dumps(FAILURE_TEXT), "chart": json.dumps(CHART), "settle": SETTLE_MS,
                          "needle": json.dumps(TRAINING_LABEL)}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            shared = None if isolated else await new_context(browser, probe)

            async def context():
                return shared or await new_context(browser, probe)

            pages = [await open_page(await context(), s) for s in sessions]
            out["mark"] = sampler.cpu_mark()
            watcher = asyncio.create_task(progress(pages, sampler))
            try:
                await asyncio.gather(*(drive(p, base, s, timeout, shots)
                                       for p, s in zip(pages, sessions, strict=True)))
            finally:
                watcher.cancel()
            wave_done(out, sampler)
            # one more session, after the wave: the default runs must be in the store
            defaults = sorted({s.page for s in sessions if s.network and not s.query},
                              key=lambda p: p != "training")
            if defaults:
                warm = Session(len(sessions), defaults[0], {}, True)
                await drive(await open_page(await context(), warm), base, warm, timeout=60, shots=shots)
                out["warm"] = warm
            for ctx in browser.contexts:
                await ctx.close()
        finally:
            await browser.close()


async def progress(pages, sampler: Sampler, every: float = 10.0) -> None:
    """A status line every ``every`` seconds while the wave runs (to stderr)."""
    start = time.monotonic()
    while True:
        await asyncio.sleep(every)

        async def state(page) -> str:
            try:
                rec = await asyncio.wait_for(page.evaluate("window.__lt || null"), timeout=5) or {}
            except Exception:  # noqa: BLE001 -- a busy or closed page is just "?"
                return "?"
            if rec.get("idle") is not None:
                return "done"
            if rec.get("first") is not None:
                return "drawing"
            if rec.get("trained"):
                return "training"
            return {"running": "running", "notRunning": "idle, no chart"}.get(rec.get("state"), "connecting")

        states = await asyncio.gather(*(state(p) for p in pages))
        counts = {k: states.count(k) for k in dict.fromkeys(states)}
        print(f"  {time.monotonic() - start:5.0f} s: " + ", ".join(f"{v} {k}" for k, v in counts.items())
              + f"; server RSS {sampler.last / MiB:.0f} MiB, load {psutil.getloadavg()[0]:.1f}",
              file=sys.stderr, flush=True)


def wave_done(out: dict, sampler: Sampler) -> None:
    if "mark" not in out or "wall" in out:
        return
    end = sampler.cpu_mark()
    out["wall"] = end["t"] - out["mark"]["t"]
    out["cpu"] = {k: end[k] - out["mark"][k] for k in ("server", "client", "machine")}
    out["rss_open"] = sampler.last


# ---------------------------------------------------------------- reporting

def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    xs = sorted(values)
    return xs[max(0, math.ceil(q / 100 * len(xs)) - 1)]


def fmt(x: float | None, unit: str = "s") -> str:
    if x is None:
        return "—"
    return "not reached" if math.isinf(x) else f"{x:.1f} {unit}".rstrip()


def scan_log(path: Path) -> list[str]:
    bad = ("Traceback", "ERROR", "Error", "Exception", "WARNING", "view failed")
    return [ln for ln in path.read_text(errors="replace").splitlines() if any(b in ln for b in bad)]


def report(sessions: list[Session], out: dict, baseline: int, sampler: Sampler, log_path: Path,
           startup: float) -> int:
    print("\nPer session, seconds from the start of navigation. 'server done': the server's last message "
          "arrived (network clock);\n'page saw it': the page processed the end of the script run; then "
          "the first chart drawn, and all charts drawn with the app idle:")
    print(f"  {'#':>2}  {'view':<28} {'server done':>11} {'page saw it':>11} {'first chart':>11} "
          f"{'all charts':>10} {'charts':>6}  {'trained':<7} status")
    for s in sessions:
        trained = ("yes" if s.trained else "cached" if s.idle is not None else "?") if s.network else "—"
        status = ("ok" if s.ok else "FAILED: " + "; ".join(s.errors)) + "".join(f" [{n}]" for n in s.notes)
        print(f"  {s.index:>2}  {s.label:<28} {fmt(s.sent):>11} {fmt(s.script_done):>11} {fmt(s.first):>11} "
              f"{fmt(s.idle):>10} {s.charts:>6}  {trained:<7} {status}")

    # a session that never got there counts as infinitely slow: a percentile past it says "not reached"
    inf = math.inf
    firsts = [inf if s.first is None else s.first for s in sessions]
    dones = [inf if s.script_done is None else s.script_done for s in sessions]
    sents = [inf if s.sent is None or s.script_done is None else s.sent for s in sessions]
    idles = [inf if s.idle is None else s.idle for s in sessions]
    delays = [s.nav_delay for s in sessions if s.nav_delay is not None]
    failed = [s for s in sessions if not s.ok]

    print("\nBy view and settings:")
    groups: dict[str, list[Session]] = {}
    for s in sessions:
        groups.setdefault(s.label, []).append(s)
    for label, ss in groups.items():
        f = [inf if s.first is None else s.first for s in ss]
        i = [inf if s.idle is None else s.idle for s in ss]
        trained = f"{sum(s.trained for s in ss)}/{len(ss)} trained" if ss[0].network else ""
        kb = statistics.median(s.bytes for s in ss) / 1024
        msgs = statistics.median(s.frames for s in ss)
        print(f"  {label:<32} n={len(ss):<3} first chart median {fmt(statistics.median(f)):>11}"
              f"   all charts median {fmt(statistics.median(i)):>11}"
              f"   received {msgs:.0f} messages, {kb:,.0f} KiB   {trained}")

    default_net = [s for s in sessions if s.network and not s.query]
    ok_cache = True
    print("\nRun store (shared between sessions):")
    if default_net:
        n_tr = sum(s.trained for s in default_net)
        print(f"  {len(default_net)} concurrent sessions with the default network settings: {n_tr} trained, "
              f"{len(default_net) - n_tr} found the runs in the store")
        if n_tr > 1:
            print("  NOTE: sessions that arrive while a run is still training train it again "
                  "(the store has no in-flight sharing)")
    warm: Session | None = out.get("warm")
    if warm is not None:
        ok_cache = warm.ok and not warm.trained
        verdict = "found its runs in the store" if not warm.trained else "TRAINED AGAIN: the store is not shared"
        print(f"  a new session on the default {warm.page} page after the wave: {verdict}; first chart "
              f"{fmt(warm.first)}, all charts {fmt(warm.idle)}" + ("" if warm.ok else f"; FAILED: {warm.errors}"))
    distinct = {s.label for s in sessions if s.network and s.query}
    if distinct:
        print(f"  distinct network settings in the wave: {len(distinct)} ({', '.join(sorted(distinct))})")

    def tally(title: str, items) -> None:
        counts: dict[str, int] = {}
        for item in items:
            counts[item[:160]] = counts.get(item[:160], 0) + 1
        if counts:
            print(f"\n{title} (count: what):")
            for what, k in sorted(counts.items(), key=lambda kv: -kv[1])[:8]:
                print(f"  {k:>3}: {what}")

    everyone = [*sessions, *([warm] if warm is not None else [])]
    tally("Browser console errors", (c for s in everyone for c in s.console))
    # the frontend first looks for the server under the page's own path, then at the root
    benign = tuple(f"/{v.url_path}/_stcore/" for v in VIEWS)
    errs = [e for s in everyone for e in s.http_errors]
    tally("HTTP errors", (e for e in errs if not any(b in e for b in benign)))
    if any(any(b in e for b in benign) for e in errs):
        print(f"  (and {sum(any(b in e for b in benign) for e in errs)} × 404 for /<page>/_stcore/...: "
              "Streamlit's frontend probing the page path first; harmless)")
    tally(f"Requests to hosts other than {HOST} (blocked by the browser's resolver)",
          (u for s in everyone for u in s.external))

    lines = scan_log(log_path)
    print(f"\nServer log: {log_path} ({len(lines)} warning/error lines)")
    for ln in lines[:15]:
        print(f"  | {ln[:200]}")

    n = len(sessions)
    cpu_ = out.get("cpu", {})
    others = (max(0.0, cpu_["machine"] - cpu_["server"] - cpu_["client"]) if cpu_ else None)
    rows = [
        ("sessions (concurrent)", f"{n}"),
        ("failures", f"{len(failed)}"),
        ("server done (last message sent), median", fmt(statistics.median(sents))),
        ("server done (last message sent), p95", fmt(pct(sents, 95))),
        ("page saw the script run end, median", fmt(statistics.median(dones))),
        ("time to first chart, median", fmt(statistics.median(firsts))),
        ("time to first chart, p95", fmt(pct(firsts, 95))),
        ("time to all charts + idle, median", fmt(statistics.median(idles))),
        ("time to all charts + idle, p95", fmt(pct(idles, 95))),
        ("time to all charts + idle, max", fmt(max(idles))),
        ("wave wall time", fmt(out.get("wall"))),
        ("latest start of a navigation after asking", fmt(max(delays) if delays else None)),
        ("server CPU during the wave", fmt(cpu_.get("server"), "s CPU")),
        ("browser + this harness CPU during the wave", fmt(cpu_.get("client"), "s CPU")),
        ("other processes' CPU during the wave", fmt(others, "s CPU")),
        ("server start-up (to /_stcore/health)", fmt(startup)),
        ("server RSS baseline (after start-up)", f"{baseline / MiB:.0f} MiB"),
        ("server RSS peak", f"{sampler.server_peak / MiB:.0f} MiB"),
        ("server RSS, wave done, sessions open", f"{out.get('rss_open', 0) / MiB:.0f} MiB"),
        ("server RSS at the end (sessions closed)", f"{sampler.last / MiB:.0f} MiB"),
        ("browser (Chromium + driver) RSS sum, peak", f"{sampler.client_peak / MiB:.0f} MiB"),
        ("memory samples", f"{sampler.samples} (every {SAMPLE_S * 1000:.0f} ms)"),
    ]
    w = max(len(r[0]) for r in rows)
    load = ", ".join(f"{x:.1f}" for x in psutil.getloadavg())
    print(f"\nSummary ({os.cpu_count()} CPUs, load average now {load}; p95 = nearest rank). These times "
          "include the browsers' own work on the same cores: they check that real pages draw; for the "
          "server's capacity see benchmarks/ws_load.py:")
    print("  " + "-" * (w + 16))
    for k, v in rows:
        print(f"  {k:<{w}}  {v:>12}")
    print("  " + "-" * (w + 16))
    if failed:
        print(f"FAIL: {len(failed)} of {n} sessions did not get their charts cleanly")
    if not ok_cache:
        print("FAIL: the run store was not shared with a later session")
    return 0 if not failed and ok_cache else 1


# ---------------------------------------------------------------- main

def all_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    valid = [v.url_path for v in VIEWS]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20, help="concurrent browser sessions (default 20)")
    ap.add_argument("--page", action="append", choices=valid, metavar="URL_PATH",
                    help=f"a view to open (repeatable; one of {', '.join(valid)}); "
                         "default: the network views and the landscape")
    ap.add_argument("--distinct", type=int, default=5,
                    help="sessions of the main page with their own settings (default 5)")
    ap.add_argument("--timeout", type=float, default=300, help="overall limit in seconds (default 300)")
    ap.add_argument("--isolated", action="store_true",
                    help="give every session its own browser context (cold HTTP and code caches: "
                         "heavier on this machine); by default the pages share one context, each "
                         "still its own Streamlit session")
    ap.add_argument("--browser-cpus", default=None, metavar="LIST",
                    help="CPUs (e.g. 1 or 2,3 or all) this harness, Playwright and Chromium may run on; "
                         "the server may use every CPU. Default: the upper half of the CPUs (CPU 1 of "
                         "2), so the test equipment cannot crowd the server out (Chromium resets its "
                         "processes' niceness, so nice does not do it)")
    args = ap.parse_args(argv)
    if args.sessions < 1:
        ap.error("--sessions must be at least 1")
    if not args.page:
        args.page = list(dict.fromkeys([*network_views(), "landscape"]))
    cpus = all_cpus()
    if args.browser_cpus in (None, ""):
        args.browser_cpus = set(cpus[len(cpus) // 2:])
    elif args.browser_cpus == "all":
        args.browser_cpus = set(cpus)
    else:
        try:
            args.browser_cpus = {int(c) for c in args.browser_cpus.split(",")}
        except ValueError:
            ap.error("--browser-cpus: a comma-separated list of CPU numbers, or all")
        if not args.browser_cpus <= set(cpus):
            ap.error(f"--browser-cpus: this process may use CPUs {cpus}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sessions = plan(args.sessions, args.page, args.distinct)
    began = time.monotonic()
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="load_test_")) / "server.log"
    print(f"Serving dashboard/app.py on http://{HOST}:{port} (log: {log_path})")
    proc = start_server(port, log_path)
    # after the server started: Playwright's driver and Chromium inherit this process's CPUs
    os.sched_setaffinity(0, args.browser_cpus)

    def watchdog() -> None:  # the last resort if something hangs past the limit
        print(f"\nOverall timeout ({args.timeout + 60:.0f} s): stopping", file=sys.stderr, flush=True)
        stop_server(proc)
        os._exit(2)

    dog = threading.Timer(args.timeout + 60, watchdog)
    dog.daemon = True
    dog.start()
    sampler = None
    try:
        startup = wait_healthy(proc, port, log_path)
        baseline = rss(tree(psutil.Process(proc.pid)))
        sampler = Sampler(proc.pid)
        sampler.start()
        mix = {}
        for s in sessions:
            mix[s.label] = mix.get(s.label, 0) + 1
        print(f"Healthy after {startup:.1f} s, baseline RSS {baseline / MiB:.0f} MiB; browser on CPU "
              f"{','.join(map(str, sorted(args.browser_cpus)))} of {os.cpu_count()}. "
              f"Opening {len(sessions)} sessions at once: "
              + ", ".join(f"{k} ×{v}" for k, v in mix.items()), flush=True)
        remaining = args.timeout - (time.monotonic() - began)
        per_session = max(10.0, remaining - 75)  # leave room for the warm check and shutdown
        out: dict = {}
        try:
            asyncio.run(asyncio.wait_for(
                run_browser(f"http://{HOST}:{port}", sessions, per_session, sampler, out, log_path.parent,
                            args.isolated),
                timeout=remaining))
        except TimeoutError:
            print(f"Overall timeout ({args.timeout:.0f} s) reached", file=sys.stderr)
            wave_done(out, sampler)
            for s in sessions:
                if s.idle is None and s.ok:
                    s.errors.append("overall timeout" + ("" if s.first is not None else ", no chart drawn"))
        sampler.stop_event.set()
        sampler.join(timeout=2)
        sampler.last = rss(tree(sampler.server))
        return report(sessions, out, baseline, sampler, log_path, startup)
    except RuntimeError as exc:
        print(f"setup failed: {exc}", file=sys.stderr)
        return 2
    finally:
        if sampler is not None:
            sampler.stop_event.set()
        stop_server(proc)
        dog.cancel()


if __name__ == "__main__":
    sys.exit(main())
