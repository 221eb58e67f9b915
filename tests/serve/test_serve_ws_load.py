"""The load generator itself (benchmarks/ws_load.py), against one real server with a handful of
sessions: every session gets its charts, the figures it reports are there and sane."""

from __future__ import annotations

import math
import re

import pytest

from benchmarks import ws_load


def test_generator_reports_no_failures_and_its_figures_for_a_few_sessions(server, capsys):
    pid = server.target.pids[0]
    args = ws_load.parse_args(["--base-url", server.base, "--server-pid", str(pid), "--sessions", "4",
                               "--scenario", "same", "--scenario", "rerun", "--timeout", "120"])
    outcomes = ws_load.run(args)
    assert [o.scenario for o in outcomes] == ["same", "rerun"]
    for o in outcomes:
        assert all(not s.all_errors for s in o.sessions), [s.all_errors for s in o.sessions]
        assert all(s.first.charts == 4 and s.first.first <= s.first.last_chart for s in o.sessions)
        assert o.server_cpu > 0 and o.rss_peak > 100 * ws_load.MiB
        assert o.health and not any(math.isinf(h) for h in o.health)
        assert o.generator_cpu < o.server_cpu  # the client is cheap next to what it measures
        ws_load.report(o, verbose=False)
    rerun = outcomes[1]
    assert all(s.rerun is not None and s.rerun.charts == 4 for s in rerun.sessions)
    assert all("train_step=90" in s.rerun.query for s in rerun.sessions)  # the moved step (option 10)
    out = capsys.readouterr().out
    assert len(re.findall(r"^  failures +0$", out, flags=re.M)) == 2
    assert "p50 / p95 / max" in out


def test_generator_counts_a_missing_chart_as_a_failure():
    full, short = ws_load.Session(0, "/x"), ws_load.Session(1, "/x")
    full.first = ws_load.Run(done=1.0, charts=4)
    short.first = ws_load.Run(done=1.0, charts=3)
    twin = ws_load.Session(2, "/x")
    twin.first = ws_load.Run(done=1.0, charts=4)
    ws_load.judge([full, short, twin])
    assert not full.all_errors and short.all_errors == ["page: 3 charts, expected 4"]


@pytest.mark.parametrize("url", ["http://example.com:80", "http://10.0.0.1:8501", "https://127.0.0.1:1"])
def test_generator_refuses_any_host_but_this_machine(url):
    with pytest.raises(SystemExit):
        ws_load.parse_args(["--base-url", url])
