"""Behind scripts/serve.sh's nginx, a browser stays on one replica: its page loads, its websocket and
its reconnects all reach the replica that holds its Streamlit session, so the session (and what the
student set) survives a dropped connection."""

from __future__ import annotations

from wire_client import Browser

from benchmarks import ws_load

PAGE = "/standardization"  # charts without training: cheap on a fresh replica


def test_proxy_answers_health_and_spreads_browsers_over_both_replicas(proxy):
    assert ws_load.health(proxy.base) is not None
    seen = set()
    for _ in range(20):  # no cookie: every request is a new browser
        status, headers = ws_load.run_coroutine(ws_load.http_get(proxy.base, PAGE, {}, 30))
        assert status == 200
        assert "st_route=" in headers.get("set-cookie", "")
        seen.add(headers["x-replica"])
    assert seen == set(proxy.replicas)


async def two_browsers_on_different_replicas(base: str) -> list[Browser]:
    """Browsers with fresh cookies until two of them sit on different replicas."""
    first = Browser(base)
    assert (await first.load(PAGE)).done is not None
    for _ in range(12):
        other = Browser(base)
        run = await other.load(PAGE)
        assert run.done is not None
        if other.replica != first.replica:
            return [first, other]
        await other.close()
    raise AssertionError("twelve new browsers all landed on one replica")


async def move_then_reconnect(browser: Browser, gamma: float, times: int) -> list[tuple[str, str]]:
    moved = await browser.move(PAGE, "gamma", gamma)
    assert f"gamma={gamma}" in moved.query and not moved.errors
    seen = []
    for _ in range(times):  # the connection drops; the page reconnects with the same cookies
        run = await browser.load(PAGE)  # the original link: settings can only come from the session
        assert run.charts > 0 and not run.errors
        seen.append((browser.replica, run.query))
    await browser.close()
    return seen


def test_sessions_keep_their_replica_and_their_state_across_reconnects(proxy):
    async def scenario():
        browsers = await two_browsers_on_different_replicas(proxy.base)
        home = [b.replica for b in browsers]
        results = [await move_then_reconnect(b, gamma, 3) for b, gamma in zip(browsers, (2.0, -1.5), strict=True)]
        return browsers, home, results

    browsers, home, results = ws_load.run_coroutine(scenario())
    for b, replica, seen, gamma in zip(browsers, home, results, (2.0, -1.5), strict=True):
        assert {r for r, _ in seen} == {replica}  # every websocket on its first replica
        assert set(b.page_replicas) == {replica}  # and every page load
        assert all(f"gamma={gamma}" in q for _, q in seen)  # the moved slider survived each reconnect
