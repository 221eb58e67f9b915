"""A server's process tree and what it uses, for the load benchmarks (psutil; vanished processes
count for nothing)."""

from __future__ import annotations

import psutil


def tree(*roots: int | psutil.Process) -> list[psutil.Process]:
    """The processes and all their children (by pid or process)."""
    procs: list[psutil.Process] = []
    for root in roots:
        try:
            root = root if isinstance(root, psutil.Process) else psutil.Process(root)
            procs += [root, *root.children(recursive=True)]
        except psutil.Error:
            pass
    return procs


def rss(procs: list[psutil.Process]) -> int:
    """Resident memory of the live processes, in bytes."""
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def cpu_seconds(procs: list[psutil.Process]) -> float:
    """CPU seconds (user + system) of the live processes."""
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total
