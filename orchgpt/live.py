"""The HTTP side of orchgpt: the Prometheus endpoint (``--metrics``) and the read-only live
view of the team (``--web``), whose page gets a whole snapshot as a server-sent event each
time something changes (agents join or leave, requests start or end, traffic moves)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from importlib.resources import files

from orchgpt.activity import Activity
from orchgpt.http import Reply, Route
from orchgpt.metrics import CONTENT_TYPE, Metrics

TICK = 0.5
"""Seconds between looks at the team for each open event stream."""
KEEPALIVE = 15.0

_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:"
_STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}


def metrics_routes(metrics: Metrics) -> dict[str, Route]:
    async def scrape() -> Reply:
        return Reply(body=metrics.render(), content_type=CONTENT_TYPE)

    return {"/metrics": scrape}


def web_routes(activity: Activity) -> dict[str, Route]:
    routes: dict[str, Route] = {}
    for path, (name, kind) in _STATIC.items():
        body = files("orchgpt.web").joinpath(name).read_bytes()

        async def static(body: bytes = body, kind: str = kind) -> Reply:
            return Reply(body=body, content_type=kind, headers={"Content-Security-Policy": _CSP})

        routes[path] = static

    async def events() -> Reply:
        return Reply(content_type="text/event-stream", stream=_events(activity), headers={"X-Accel-Buffering": "no"})

    async def state() -> Reply:
        return Reply(body=json.dumps(activity.snapshot()).encode(), content_type="application/json")

    routes["/events"] = events
    routes["/state.json"] = state
    return routes


async def _events(activity: Activity) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    last, quiet_since = "", loop.time()
    yield b"retry: 1000\n\n"
    while True:
        data = json.dumps(activity.snapshot(), separators=(",", ":"))
        if data != last:
            last, quiet_since = data, loop.time()
            yield f"data: {data}\n\n".encode()
        elif loop.time() - quiet_since > KEEPALIVE:
            quiet_since = loop.time()
            yield b": keepalive\n\n"
        await asyncio.sleep(TICK)
