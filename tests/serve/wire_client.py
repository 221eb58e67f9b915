"""A simulated browser for the serving tests, on benchmarks/ws_load.py's protocol pieces: its own
cookie jar (so a proxy's route cookie sticks to it), one websocket at a time, reconnects that ask to
resume its Streamlit session (the frontend sends the last session id as the third subprotocol)."""

from __future__ import annotations

import time

from benchmarks import ws_load

TIMEOUT = 60.0


class Browser:
    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}
        self.ws = None
        self.session_id = ""
        self.replica = ""  # X-Replica of the last websocket handshake
        self.page_replicas: list[str] = []  # X-Replica of each page load
        self.last: ws_load.Run | None = None

    async def load(self, url: str) -> ws_load.Run:
        """GET the page, open the stream (resuming the last session, if any), run the page."""
        await self.close()
        _, headers = await ws_load.http_get(self.base, url, self.cookies, TIMEOUT)
        self.page_replicas.append(headers.get("x-replica", ""))
        holder = ws_load.Session(0, url)
        self.ws = await ws_load.open_stream(self.base, holder, self.cookies, TIMEOUT, self.session_id)
        self.replica = holder.replica
        await self.ws.send(ws_load.rerun_message(url))
        return await self._read()

    async def move(self, url: str, key: str, value: float) -> ws_load.Run:
        """A rerun with one moved widget (by its key), on the open stream."""
        kind, element = self.last.widgets[key]
        await self.ws.send(ws_load.rerun_message(url, [ws_load.widget_state(kind, element, value)]))
        return await self._read()

    async def _read(self) -> ws_load.Run:
        start = time.monotonic()
        run = await ws_load.read_run(self.ws, start, start + TIMEOUT)
        self.session_id = run.session_id or self.session_id
        if run.widgets:
            self.last = run
        return run

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
