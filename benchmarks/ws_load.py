"""Load generator: a class of simulated students, over Streamlit's own websocket protocol.

No browser: each simulated session does what the page's JavaScript does on the wire, with the
protobuf classes Streamlit ships (``streamlit.proto``) on the ``websockets`` client:

1. ``GET`` the page's URL (the HTML; the server sets its XSRF cookie, a proxy its route cookie),
   then ``GET /_stcore/health`` and ``/_stcore/host-config`` as the frontend does before it connects;
2. opens ``/_stcore/stream`` with ``Sec-WebSocket-Protocol: streamlit, <XSRF cookie or
   PLACEHOLDER_AUTH_TOKEN>`` (the frontend's ``getSessionTokens``) and the cookies;
3. sends a ``BackMsg`` ``rerun_script`` with the URL's query string and page name (the first path
   segment; "" for home) and an empty page hash, as on a first load;
4. reads ``ForwardMsg``s until ``script_finished`` says FINISHED_SUCCESSFULLY (a run that ends early
   for a rerun, e.g. a lesson link switching page, is followed by the real one), counting chart
   deltas (``vega_lite_chart`` elements) and looking for exception elements and the dashboard's
   failure message;
5. with ``--scenario rerun``, moves a control: a second ``rerun_script`` carrying the moved widget's
   state (only that widget's; keyed widgets keep their values in the session), read the same way.

A session fails when it gets fewer charts than the most common count among the sessions that opened
the same URL (and at least one), shows an exception, the failure text, times out, or loses its
connection. Per scenario it reports time to the last chart message (p50/p95/max, from the session's
start), time to its first message, failures, server CPU seconds per session (psutil, the server's
process tree: every replica, and nginx when proxied), peak server memory (RSS of that tree), the
generator's own CPU, and ``/_stcore/health`` latency sampled every 0.25 s during the burst.

Scenarios (``--scenario``, repeatable; each against a fresh server unless ``--base-url``):

* ``same``: every session opens ``--url`` at once (the run store trains once, the rest wait for it);
* ``distinct``: the same, but a tenth of the sessions (at least one) add their own ``seed=`` (several
  trainings at once);
* ``rerun``: ``same``, then each session moves ``--move KEY=VALUE`` (default the Training page's step
  slider, a rerun that trains nothing);
* ``sequential``: sessions one after another (``--sessions`` of them), RSS after the first 50 and at
  the end (issue 17's "500 sessions leave the server within 10 % of its memory after 50").

    .venv/bin/python benchmarks/ws_load.py --sessions 25                     # one fresh server
    .venv/bin/python benchmarks/ws_load.py --sessions 50 --scenario same --scenario distinct --scenario rerun
    .venv/bin/python benchmarks/ws_load.py --sessions 50 --replicas 2        # scripts/serve.sh: 2 + nginx
    .venv/bin/python benchmarks/ws_load.py --sessions 50 --replicas 2 --warm # after serve.sh's warm-up
    .venv/bin/python benchmarks/ws_load.py --base-url http://127.0.0.1:8501 --server-pid 1234
    .venv/bin/python benchmarks/ws_load.py --sessions 500 --scenario sequential

Only 127.0.0.1; at most 1,000 sessions; every scenario is bounded by ``--timeout``.
Exit status 0 when no session failed, 1 otherwise, 2 on a setup error.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import math
import os
import re
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
from urllib.parse import urlsplit

import psutil
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.proctree import cpu_seconds, rss, tree  # noqa: E402

HOST = "127.0.0.1"
MAX_SESSIONS = 1000
MiB = 2**20
CHARTS = ("vega_lite_chart", "arrow_vega_lite_chart")
FINISHED = ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
FAILURE_TEXT = "This view hit an unexpected problem"  # dashboard/guard.py
DEFAULT_URL = "/training?lesson=deep_sigmoid&predict=0"  # the lesson's charts at once (no question first)
DEFAULT_MOVE = "train_step=10"
SCENARIOS = ("same", "distinct", "rerun", "sequential")
HEALTH_EVERY = 0.25


# ---------------------------------------------------------------- one session


def run_coroutine(coro):
    """``asyncio.run``, in a thread of its own when this thread already runs an event loop (inside
    pytest after Playwright's sync API, which keeps one running in the main thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()

@dataclass
class Run:
    """What one script run sent, in seconds from the session's start."""

    first: float | None = None  # first message of any kind
    last_chart: float | None = None
    done: float | None = None  # script_finished, FINISHED_SUCCESSFULLY
    charts: int = 0
    messages: int = 0
    nbytes: int = 0
    errors: list[str] = field(default_factory=list)
    widgets: dict[str, tuple[str, object]] = field(default_factory=dict)  # user key -> (type, element)
    cached: dict[str, bool] = field(default_factory=dict)  # hashes the browser would cache -> a chart?
    session_id: str = ""
    query: str = ""  # the last query string the page wrote (page_info_changed): its settings
    progress: dict[str, float] = field(default_factory=dict)  # progress text's first word -> first seen
    spans: dict[str, list[float]] = field(default_factory=dict)  # "Training 1 of 2" -> [first, last] seen
    start: float = 0.0  # the session's start (time.monotonic()): the origin of the times above


@dataclass
class Session:
    index: int
    url: str  # path and query, e.g. /training?lesson=deep_sigmoid
    move: tuple[str, float] | None = None
    replica: str = ""  # nginx's X-Replica header on the websocket handshake, if proxied
    first: Run = field(default_factory=Run)
    rerun: Run | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def all_errors(self) -> list[str]:
        return [*self.errors, *self.first.errors, *(self.rerun.errors if self.rerun else [])]


def page_and_query(url: str) -> tuple[str, str]:
    """``/training?a=1`` -> ("training", "a=1"): the page name the frontend sends, and the query."""
    parts = urlsplit(url)
    return parts.path.strip("/").split("/")[0], parts.query


def rerun_message(url: str, widgets: list[WidgetState] = (), cached: list[str] = ()) -> bytes:
    """A ``rerun_script`` BackMsg as the frontend sends it (with the hashes of the large messages it
    holds, so that unchanged ones come back as references)."""
    page, query = page_and_query(url)
    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = page
    msg.rerun_script.page_script_hash = ""
    msg.rerun_script.widget_states.widgets.extend(widgets)
    msg.rerun_script.cached_message_hashes.extend(cached)
    msg.rerun_script.context_info.timezone = "UTC"
    msg.rerun_script.context_info.locale = "en-GB"
    return msg.SerializeToString()


def user_key(widget_id: str) -> str:
    """Streamlit's widget id is ``$$ID-<hash>-<user key>`` for a widget with a key."""
    return widget_id.split("-", 2)[2] if widget_id.startswith("$$ID-") and widget_id.count("-") >= 2 else ""


def widget_state(kind: str, element, value: float) -> WidgetState:
    """The state the frontend sends for a moved widget; for a select slider ``value`` is the option's
    index, sent as the option's text as the frontend does."""
    state = WidgetState(id=element.id)
    if kind == "slider" and element.options:
        state.string_array_value.data.append(element.options[int(value)])
    elif kind == "slider":
        state.double_array_value.data.append(value)
    elif kind == "number_input":
        if element.data_type == element.INT:
            state.int_value = int(value)
        else:
            state.double_value = value
    elif kind in ("checkbox", "toggle"):
        state.bool_value = bool(value)
    else:
        raise ValueError(f"cannot move a {kind} widget")
    return state


def note_delta(fwd: ForwardMsg, run: Run, now: float) -> None:
    delta = fwd.delta
    if delta.WhichOneof("type") != "new_element":
        return
    element = delta.new_element
    kind = element.WhichOneof("type")
    if fwd.metadata.cacheable and fwd.hash:
        run.cached[fwd.hash] = kind in CHARTS
    if kind in CHARTS:
        run.charts += 1
        run.last_chart = now
    elif kind == "progress":  # the run store's "Training 1 of 2: ...", "Waiting for run ...", ...
        text = element.progress.text
        run.progress.setdefault(text.split(" ", 1)[0], now)
        span = run.spans.setdefault(text.split(":", 1)[0], [now, now])
        span[1] = now
    elif kind == "exception":
        run.errors.append(f"exception: {element.exception.type}: {element.exception.message[:80]}")
    elif kind in ("alert", "markdown"):
        body = getattr(element, kind).body
        if FAILURE_TEXT in body:
            run.errors.append("failure message: " + body[:80])
    widget = getattr(element, kind, None)
    key = user_key(getattr(widget, "id", "") or "")
    if key:
        run.widgets[key] = (kind, widget)


async def read_run(ws, start: float, deadline: float, known: dict[str, bool] | None = None) -> Run:
    """ForwardMsgs until a script run finishes successfully (or the deadline passes); ``known``: the
    cached messages a reference (``ref_hash``) may point to."""
    run = Run(start=start)
    known = known or {}
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            run.errors.append("timeout")
            return run
        try:
            data = await asyncio.wait_for(ws.recv(), left)
        except TimeoutError:
            run.errors.append("timeout")
            return run
        now = time.monotonic() - start
        run.messages += 1
        run.nbytes += len(data)
        run.first = now if run.first is None else run.first
        fwd = ForwardMsg()
        fwd.ParseFromString(data)
        kind = fwd.WhichOneof("type")
        if kind == "delta":
            note_delta(fwd, run, now)
        elif kind == "ref_hash":
            run.cached[fwd.ref_hash] = is_chart = known.get(fwd.ref_hash, False)
            if is_chart:
                run.charts += 1
                run.last_chart = now
        elif kind == "new_session":
            run.session_id = fwd.new_session.initialize.session_id or run.session_id
        elif kind == "page_info_changed":
            run.query = fwd.page_info_changed.query_string
        elif kind == "script_finished" and fwd.script_finished == FINISHED:
            run.done = now
            return run


async def http_get(base: str, path: str, cookies: dict[str, str], timeout: float) -> tuple[int, dict]:
    """A bare HTTP/1.1 GET on asyncio streams; keeps the cookies it is given (Set-Cookie)."""
    parts = urlsplit(base)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, parts.port), timeout)
    try:
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        writer.write((f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
                      + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "set-cookie":
            k, _, v = value.strip().split(";")[0].partition("=")
            cookies[k] = v
        headers[name.lower()] = value.strip()
    return int(lines[0].split()[1]), headers


async def open_stream(base: str, s: Session, cookies: dict, timeout: float, last_session: str = ""):
    ws_url = base.replace("http://", "ws://", 1).rstrip("/") + "/_stcore/stream"
    token = cookies.get("_streamlit_xsrf") or "PLACEHOLDER_AUTH_TOKEN"
    protocols = ["streamlit", token, *([last_session] if last_session else [])]
    headers = {"Origin": base.rstrip("/")}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    ws = await connect(ws_url, subprotocols=protocols, additional_headers=headers, max_size=None,
                       open_timeout=timeout, ping_interval=None, proxy=None)
    s.replica = ws.response.headers.get("X-Replica", s.replica)
    return ws


async def run_session(base: str, s: Session, deadline: float, gate: Gate | None = None) -> Session:
    """One simulated student: load the page, run it, optionally move a control; with a ``gate``, the
    websocket stays open until every session of the burst is done (as open tabs do)."""
    start = time.monotonic()
    cookies: dict[str, str] = {}
    arrived = False
    try:
        timeout = max(1.0, deadline - start)
        for path in (s.url, "/_stcore/health", "/_stcore/host-config"):
            status, _ = await http_get(base, path, cookies, timeout)
            if status != 200:
                s.errors.append(f"GET {path}: HTTP {status}")
        async with await open_stream(base, s, cookies, timeout) as ws:
            await ws.send(rerun_message(s.url))
            s.first = await read_run(ws, start, deadline)
            if s.move is not None and s.first.done is not None:
                await move_control(ws, s, start, deadline)
            if gate is not None:
                gate.arrive()
                arrived = True
                await gate.wait()
    except (OSError, WebSocketException, TimeoutError, asyncio.IncompleteReadError) as exc:
        s.errors.append(f"{type(exc).__name__}: {str(exc)[:100]}")
    finally:
        if gate is not None and not arrived:
            gate.arrive()
    return s


async def move_control(ws, s: Session, start: float, deadline: float) -> None:
    key, value = s.move
    found = s.first.widgets.get(key)
    if found is None:
        s.errors.append(f"no widget with key {key!r} on {s.url}")
        return
    sent = time.monotonic() - start
    await ws.send(rerun_message(s.url, [widget_state(*found, value)], list(s.first.cached)))
    s.rerun = await read_run(ws, start, deadline, s.first.cached)
    for name in ("first", "last_chart", "done"):  # times of the rerun count from its BackMsg
        if getattr(s.rerun, name) is not None:
            setattr(s.rerun, name, getattr(s.rerun, name) - sent)


def judge(sessions: list[Session]) -> None:
    """A session without as many charts as most sessions of its URL got has failed."""
    by_url: dict[str, list[Session]] = {}
    for s in sessions:
        by_url.setdefault(s.url, []).append(s)
    for group in by_url.values():
        counts = [s.first.charts for s in group if s.first.done is not None]
        expected = max(1, statistics.mode(counts)) if counts else 1
        for s in group:
            for run, what in ((s.first, "page"), (s.rerun, "rerun")):
                if run is not None and run.done is not None and run.charts < expected:
                    run.errors.append(f"{what}: {run.charts} charts, expected {expected}")


class Gate:
    """Opens when every session of a burst has finished its runs: until then they stay connected."""

    def __init__(self, n: int):
        self.n, self.count, self.event = n, 0, asyncio.Event()

    def arrive(self) -> None:
        self.count += 1
        if self.count >= self.n:
            self.event.set()

    async def wait(self) -> None:
        await self.event.wait()


# ---------------------------------------------------------------- the server under test

@dataclass
class Target:
    base: str  # http://127.0.0.1:PORT: the server, or the proxy in front of the replicas
    pids: list[int]  # roots of the process trees measured (CPU, memory)
    proc: subprocess.Popen | None = None  # what this script started, stopped at the end
    log: Path | None = None


def free_port(count: int = 1) -> int:
    """A port with ``count - 1`` free ones after it (for serve.sh's consecutive replicas)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port + count < 65535 and all(port_free(p) for p in range(port, port + count)):
            return port
    raise RuntimeError("no free ports")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def start_target(replicas: int, log_dir: Path, warm: bool = False) -> Target:
    """One bare ``streamlit run`` (replicas 0), or scripts/serve.sh: N replicas behind nginx; ``warm``:
    each server has done its imports and trained the default view's runs (serve.sh's warm-up)."""
    log = log_dir / "server.log"
    if replicas == 0:
        port = free_port()
        cmd = [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", HOST, "--server.fileWatcherType", "none",
               "--browser.gatherUsageStats", "false"]
    else:
        port = free_port(replicas + 1)
        cmd = ["bash", "scripts/serve.sh", "--replicas", str(replicas), "--port", str(port),
               *([] if warm else ["--no-warm"])]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    target = Target(f"http://{HOST}:{port}", [proc.pid], proc, log)
    wait_healthy(target, timeout=90 + (60 if warm else 15) * replicas)
    if warm and replicas == 0:  # what serve.sh does for each replica
        s = run_coroutine(run_session(target.base, Session(0, "/training"), time.monotonic() + 180))
        if s.all_errors:
            raise RuntimeError(f"warm-up failed: {s.all_errors}")
    return target


def health(base: str, timeout: float = 30.0) -> float | None:
    """Seconds /_stcore/health took to answer "ok", None if it did not."""
    start = time.monotonic()
    try:
        with DIRECT.open(base + "/_stcore/health", timeout=timeout) as r:
            ok = r.status == 200 and r.read().strip() == b"ok"
    except OSError:
        return None
    return time.monotonic() - start if ok else None


DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy


def wait_healthy(target: Target, timeout: float) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if target.proc is not None and target.proc.poll() is not None:
            raise RuntimeError(f"server exited with {target.proc.returncode}:\n{tail(target.log)}")
        if health(target.base, timeout=2) is not None:
            return
        time.sleep(0.3)
    raise RuntimeError(f"not healthy after {timeout:.0f} s:\n{tail(target.log)}")


def stop_target(target: Target) -> None:
    proc = target.proc
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)  # the group this script started, and only it
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def tail(path: Path | None, n: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path else ""
    except OSError:
        return ""


class Sampler(threading.Thread):
    """RSS of the server's process tree every 0.1 s (its peak), and, in a second thread, the health
    check's latency every HEALTH_EVERY s (one request at a time)."""

    def __init__(self, target: Target):
        super().__init__(daemon=True)
        self.target, self.stop = target, threading.Event()
        self.peak = self.last = 0
        self.health: list[float] = []  # seconds; math.inf for a check that failed
        self.procs = tree(*target.pids)
        self.prober = threading.Thread(target=self.probe, daemon=True)

    def start(self) -> None:
        super().start()
        self.prober.start()

    def run(self) -> None:
        refreshed = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            if now - refreshed > 1.0:  # walking /proc for children costs more than reading RSS
                self.procs, refreshed = tree(*self.target.pids) or self.procs, now
            self.last = rss(self.procs)
            self.peak = max(self.peak, self.last)
            self.stop.wait(0.1)

    def probe(self) -> None:
        while not self.stop.is_set():
            took = health(self.target.base)
            self.health.append(math.inf if took is None else took)
            self.stop.wait(HEALTH_EVERY)

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=2)
        self.prober.join(timeout=35)

    def cpu(self) -> float:
        return cpu_seconds(tree(*self.target.pids))


# ---------------------------------------------------------------- scenarios

def plan(scenario: str, n: int, url: str, move: tuple[str, float]) -> list[Session]:
    """The sessions of a scenario: ``distinct`` gives every tenth one (at least one) its own seed."""
    sessions = [Session(i, url) for i in range(n)]
    if scenario == "distinct":
        sep = "&" if "?" in url else "?"
        own = max(1, n // 10)
        for k, s in enumerate(sessions[::max(1, n // own)][:own]):
            s.url = f"{url}{sep}seed={k + 1}"
    if scenario == "rerun":
        for s in sessions:
            s.move = move
    return sessions


@dataclass
class Outcome:
    scenario: str
    sessions: list[Session]
    wall: float
    server_cpu: float
    generator_cpu: float
    rss_before: int
    rss_peak: int
    rss_after: int
    health: list[float]
    rss_marks: dict[int, int] = field(default_factory=dict)  # sequential: sessions done -> RSS


async def burst(base: str, sessions: list[Session], timeout: float) -> None:
    gate = Gate(len(sessions))
    deadline = time.monotonic() + timeout
    await asyncio.gather(*(run_session(base, s, deadline, gate) for s in sessions))


async def sequence(base: str, sessions: list[Session], timeout: float, sampler: Sampler,
                   marks: dict[int, int]) -> None:
    deadline = time.monotonic() + timeout
    for k, s in enumerate(sessions, 1):
        await run_session(base, s, deadline)
        if k == min(50, len(sessions)) or k == len(sessions) or k % 100 == 0:
            marks[k] = sampler.last
        if time.monotonic() > deadline:
            s.errors.append("timeout before the sequence ended")
            break


def measure(target: Target, scenario: str, args: argparse.Namespace) -> Outcome:
    sessions = plan(scenario, args.sessions, args.url, args.move)
    sampler = Sampler(target)
    sampler.start()
    me = psutil.Process()
    time.sleep(1.0)  # a baseline, and a few health checks before the burst
    rss_before, cpu0, me0, t0 = sampler.last, sampler.cpu(), cpu_seconds([me]), time.monotonic()
    marks: dict[int, int] = {}
    if scenario == "sequential":
        run_coroutine(sequence(target.base, sessions, args.timeout, sampler, marks))
    else:
        run_coroutine(burst(target.base, sessions, args.timeout))
    wall = time.monotonic() - t0
    server_cpu, generator_cpu = sampler.cpu() - cpu0, cpu_seconds([me]) - me0
    sampler.finish()
    judge(sessions)
    return Outcome(scenario, sessions, wall, server_cpu, generator_cpu, rss_before, sampler.peak,
                   sampler.last, sampler.health, marks)


# ---------------------------------------------------------------- reporting

def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile; a session that never got there counts as infinitely slow."""
    xs = sorted(values)
    return xs[max(0, math.ceil(q / 100 * len(xs)) - 1)] if xs else math.nan


def secs(x: float, digits: int = 1) -> str:
    return "never" if math.isinf(x) else "—" if math.isnan(x) else f"{x:.{digits}f} s"


def times(runs: list[Run | None], name: str) -> list[float]:
    return [math.inf if r is None or getattr(r, name) is None or r.errors else getattr(r, name)
            for r in runs]


def summary(o: Outcome) -> list[tuple[str, str]]:
    n = len(o.sessions)
    failed = [s for s in o.sessions if s.all_errors]
    rows = [("sessions", f"{n}"), ("failures", f"{len(failed)}")]
    for what, runs in (("page", [s.first for s in o.sessions]),
                       ("rerun", [s.rerun for s in o.sessions] if o.scenario == "rerun" else [])):
        if not runs:
            continue
        last, first = times(runs, "last_chart"), times(runs, "first")
        rows += [(f"{what}: time to last chart p50 / p95 / max",
                  f"{secs(pct(last, 50))} / {secs(pct(last, 95))} / {secs(max(last))}"),
                 (f"{what}: time to first message p50 / max", f"{secs(pct(first, 50))} / {secs(max(first))}"),
                 (f"{what}: charts per session (min-max)",
                  f"{min(r.charts if r else 0 for r in runs)}-{max(r.charts if r else 0 for r in runs)}"),
                 (f"{what}: messages per session (min-max)",
                  f"{min(r.messages if r else 0 for r in runs)}-{max(r.messages if r else 0 for r in runs)}"),
                 (f"{what}: bytes per session (min-max)",
                  f"{min(r.nbytes if r else 0 for r in runs) / 1e3:.0f}-{max(r.nbytes if r else 0 for r in runs) / 1e3:.0f} kB")]
    good = [h for h in o.health if not math.isinf(h)]
    rows += [
        ("wall time of the scenario", secs(o.wall)),
        ("server CPU, total / per session", f"{o.server_cpu:.1f} s / {o.server_cpu / max(1, n):.2f} s"),
        ("server CPU per wall second", f"{o.server_cpu / max(o.wall, 1e-9):.2f}"),
        ("generator CPU (this process)", f"{o.generator_cpu:.1f} s ({100 * o.generator_cpu / max(o.server_cpu, 1e-9):.0f} % of the server's)"),
        ("server RSS before / peak / after", f"{o.rss_before / MiB:.0f} / {o.rss_peak / MiB:.0f} / {o.rss_after / MiB:.0f} MiB"),
        ("health check p50 / max (failed)",
         f"{secs(pct(good, 50), 2)} / {secs(max(good, default=math.nan), 2)} ({len(o.health) - len(good)} of {len(o.health)})"),
    ]
    if o.rss_marks:
        rows.append(("RSS after k sessions", ", ".join(f"{k}: {v / MiB:.0f} MiB" for k, v in o.rss_marks.items())))
    return rows


def report(o: Outcome, verbose: bool) -> None:
    url = statistics.mode(s.url for s in o.sessions)
    extra = ""
    if o.scenario == "distinct":
        extra = f", {sum(s.url != url for s in o.sessions)} of them with their own seed"
    elif o.scenario == "rerun":
        extra = f", then each moves {o.sessions[0].move[0]}"
    print(f"\nScenario {o.scenario}: {len(o.sessions)} sessions, URL {url}{extra}")
    if verbose:
        for s in o.sessions:
            r = s.first
            print(f"  #{s.index:<3} {s.url:<44} {s.replica:<16} first {secs(r.first or math.inf):>7} "
                  f"last chart {secs(r.last_chart or math.inf):>7} charts {r.charts:>2} "
                  f"{'; '.join(s.all_errors) or 'ok'}")
    errors: dict[str, int] = {}
    for s in o.sessions:
        for e in s.all_errors:
            errors[e] = errors.get(e, 0) + 1
    for e, k in sorted(errors.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  FAILED ×{k}: {e}")
    replicas = {s.replica for s in o.sessions if s.replica}
    if replicas:
        print("  sessions per replica: " + ", ".join(
            f"{r} ×{sum(s.replica == r for s in o.sessions)}" for r in sorted(replicas)))
    rows = summary(o)
    w = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"  {k:<{w}}  {v}")


# ---------------------------------------------------------------- main

def local_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "http" or parts.hostname != HOST or parts.port is None:
        raise argparse.ArgumentTypeError(f"only http://{HOST}:PORT is allowed, got {value!r}")
    return f"http://{HOST}:{parts.port}"


def key_value(value: str) -> tuple[str, float]:
    m = re.fullmatch(r"([A-Za-z_][\w-]*)=(-?[\d.]+)", value)
    if not m:
        raise argparse.ArgumentTypeError(f"KEY=NUMBER expected, got {value!r}")
    return m[1], float(m[2])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=10, help="simulated sessions (default 10)")
    ap.add_argument("--scenario", action="append", choices=SCENARIOS,
                    help="repeatable; default: same (each against a fresh server)")
    ap.add_argument("--url", default=DEFAULT_URL, help=f"path and query every session opens ({DEFAULT_URL})")
    ap.add_argument("--move", type=key_value, default=key_value(DEFAULT_MOVE),
                    help=f"rerun scenario: widget key=value to send (default {DEFAULT_MOVE}: a select "
                         "slider's option index)")
    ap.add_argument("--replicas", type=int, default=0,
                    help="0 (default): one bare server; N: scripts/serve.sh --replicas N (nginx in front)")
    ap.add_argument("--warm", action="store_true",
                    help="warm each server up first (imports, the default view's runs trained), as "
                         "serve.sh does when it is not told --no-warm; default: fresh servers")
    ap.add_argument("--base-url", type=local_url, help="an already running server or proxy (not started here)")
    ap.add_argument("--server-pid", type=int, action="append", default=[],
                    help="with --base-url: process(es) whose trees are measured (CPU, RSS)")
    ap.add_argument("--timeout", type=float, default=240, help="limit per scenario in seconds (default 240)")
    ap.add_argument("--verbose", "-v", action="store_true", help="one line per session")
    args = ap.parse_args(argv)
    if not 1 <= args.sessions <= MAX_SESSIONS:
        ap.error(f"--sessions must be in [1, {MAX_SESSIONS}]")
    if not 0 <= args.replicas <= 8 or (args.base_url and args.replicas):
        ap.error("--replicas in [0, 8], and not with --base-url")
    if not args.url.startswith("/"):
        ap.error("--url is a path, e.g. /training?seed=1")
    args.scenario = args.scenario or ["same"]
    return args


def run(args: argparse.Namespace) -> list[Outcome]:
    """Every scenario asked for, each on a fresh server (or all on --base-url)."""
    outcomes = []
    log_dir = Path(tempfile.mkdtemp(prefix="ws_load_"))
    for scenario in args.scenario:
        if args.base_url:
            target = Target(args.base_url, args.server_pid)
        else:
            target = start_target(args.replicas, log_dir, args.warm)
        try:
            what = (f"{args.replicas} replica(s) behind nginx" if args.replicas else "one server") + (
                ", warmed up" if args.warm else ", fresh" if not args.base_url else "")
            print(f"{scenario}: {what} at {target.base} (log {target.log}); load average "
                  + ", ".join(f"{x:.1f}" for x in psutil.getloadavg()), flush=True)
            outcomes.append(measure(target, scenario, args))
        finally:
            stop_target(target)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        outcomes = run(args)
    except RuntimeError as exc:
        print(f"setup failed: {exc}", file=sys.stderr)
        return 2
    for o in outcomes:
        report(o, args.verbose)
    print(f"\n{os.cpu_count()} CPUs; load average now " + ", ".join(f"{x:.1f}" for x in psutil.getloadavg()))
    return 0 if all(not s.all_errors for o in outcomes for s in o.sessions) else 1


if __name__ == "__main__":
    sys.exit(main())
