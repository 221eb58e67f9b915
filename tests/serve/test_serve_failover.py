"""Killing one replica behind scripts/serve.sh's nginx fails only the sessions it held: the other
replica's sessions go on, and new browsers (and a browser whose replica died, on reload) are sent
to the live one."""

from __future__ import annotations

import asyncio
import os
import signal

from wire_client import Browser

from benchmarks import ws_load

PAGE = "/standardization"


async def browsers_on_both(base: str, replicas: set[str]) -> list[Browser]:
    browsers: list[Browser] = []
    for _ in range(16):
        b = Browser(base)
        run = await b.load(PAGE)
        assert run.charts > 0 and not run.errors
        browsers.append(b)
        if {x.replica for x in browsers} == replicas and len(browsers) >= 4:
            return browsers
    raise AssertionError("sixteen browsers did not cover both replicas")


async def rerun_ok(b: Browser) -> bool:
    """Does moving a slider on the open stream still draw the page?"""
    try:
        run = await asyncio.wait_for(b.move(PAGE, "gamma", 0.5), 20)
    except Exception:  # noqa: BLE001 -- a closed or dead connection is the outcome measured
        return False
    return run.done is not None and run.charts > 0 and not run.errors


def test_killing_a_replica_fails_only_its_sessions_and_new_ones_reach_the_live_one(fresh_proxy):
    async def scenario():
        browsers = await browsers_on_both(fresh_proxy.base, set(fresh_proxy.replicas))
        victim = browsers[0].replica
        held = [b.replica for b in browsers]
        os.kill(fresh_proxy.replicas[victim], signal.SIGKILL)
        await asyncio.sleep(0.5)
        survived = {id(b): await rerun_ok(b) for b in browsers}
        newcomers = [Browser(fresh_proxy.base) for _ in range(6)]
        fresh = [await b.load(PAGE) for b in newcomers]
        reloaded = await browsers[0].load(PAGE)  # the victim's browser reloads: a new session elsewhere
        for b in browsers + newcomers:
            await b.close()
        return browsers, held, victim, survived, newcomers, fresh, reloaded

    browsers, held, victim, survived, newcomers, fresh, reloaded = ws_load.run_coroutine(scenario())
    for b, replica in zip(browsers, held, strict=True):
        assert survived[id(b)] == (replica != victim), replica
    live = set(fresh_proxy.replicas) - {victim}
    assert {b.replica for b in newcomers} == live
    assert all(r.charts > 0 and not r.errors for r in fresh)
    assert browsers[0].replica in live and reloaded.charts > 0 and not reloaded.errors
    assert ws_load.health(fresh_proxy.base) is not None
