"""Servers for the serving tests: one bare Streamlit server, and scripts/serve.sh (replicas behind
nginx), each on free local ports, started once per module and stopped after it."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks import ws_load

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    target: ws_load.Target
    replicas: dict[str, int]  # "127.0.0.1:PORT" -> pid (empty for a bare server)

    @property
    def base(self) -> str:
        return self.target.base


def need_nginx() -> None:
    """nginx from Debian's package: installed the way scripts/setup.sh --dev does, when missing."""
    if shutil.which("nginx") or Path("/usr/sbin/nginx").exists():
        return
    subprocess.run(["bash", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
                    "apt-get install -y -qq nginx >/dev/null"], check=True, timeout=300)


def replicas_of(log: Path) -> dict[str, int]:
    """serve.sh prints 'replica i: http://127.0.0.1:PORT (pid N, ...)' per replica."""
    found = re.findall(r"replica \d+: http://(127\.0\.0\.1:\d+) \(pid (\d+)", log.read_text())
    return {addr: int(pid) for addr, pid in found}


def serve(tmp: Path, replicas: int):
    if replicas:
        need_nginx()
    target = ws_load.start_target(replicas, tmp)
    try:
        yield Served(target, replicas_of(target.log) if replicas else {})
    finally:
        ws_load.stop_target(target)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve(tmp_path_factory.mktemp("server"), 0)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    yield from serve(tmp_path_factory.mktemp("proxy"), 2)


@pytest.fixture()
def fresh_proxy(tmp_path):
    """Two replicas of its own, for a test that kills one."""
    yield from serve(tmp_path, 2)
