"""orchgpt's HTTP side against a real orchestrator over mutual TLS: the Prometheus endpoint
scraped while agents talk, and the live view in headless Chromium updating, without a
reload, as an agent joins and as a request completes."""

from __future__ import annotations

import asyncio
import os
import re
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from autogpt.errors import ConfigError
from autogpt.iac.envelope import Address, Command
from autogpt.tools.browser import Browser, Request, Response
from orchgpt.server import Orchestrator

if TYPE_CHECKING:
    from conftest import Net, StartOrchestrator


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def _until(check: Callable[[], Any], what: str, timeout: float = 10) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_metrics_are_scraped_from_a_live_orchestrator(orchestrator_factory: StartOrchestrator, net: Net) -> None:
    orch = await orchestrator_factory(metrics="127.0.0.1:0")
    url = orch.urls()["metrics"] + "metrics"
    await net.echo(orch, "gen1")
    await net.echo(orch, "gen2")
    await net.echo(orch, "back1")
    alice = await net.session(orch, "alice")
    async with asyncio.timeout(10):
        for i in range(6):
            await alice.bus.call(Address.role("generic"), Command("run", f"job {i}"))
        with pytest.raises(Exception):  # noqa: B017, PT011 - nobody serves 'designer': refused
            await alice.bus.call(Address.role("designer"), Command("run"))

    async with httpx.AsyncClient(timeout=5) as http:
        reply = await http.get(url)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    got = _samples(reply.text)
    assert got[("orchgpt_agents_connected", (("role", "generic"),))] == 2
    assert got[("orchgpt_agents_connected", (("role", "backend"),))] == 1
    assert got[("orchgpt_agents_connected", (("role", "user"),))] == 1
    assert got[("orchgpt_envelopes_total", (("kind", "request"),))] >= 7
    assert got[("orchgpt_envelopes_total", (("kind", "reply"),))] >= 6
    assert got[("orchgpt_requests_total", (("state", "done"),))] == 6
    assert got[("orchgpt_requests_total", (("state", "refused"),))] == 1
    assert got[("orchgpt_request_seconds_count", ())] == 6
    assert got[("orchgpt_overloaded_total", ())] == 0
    assert ("orchgpt_queued_bytes", ()) in got
    assert got[("orchgpt_requests_in_flight", ())] == 0
    assert got[("orchgpt_gc_collections_total", (("generation", "0"),))] > 0  # the test allocated plenty
    assert got[("orchgpt_gc_pause_seconds_total", (("generation", "0"),))] > 0
    assert not any(name.startswith(("python_", "process_")) for name, _ in got)  # its own registry


async def test_the_web_view_needs_loopback_or_a_client_certificate(
    orchestrator_factory: StartOrchestrator, pki: Path
) -> None:
    orch = await orchestrator_factory(web="0.0.0.0:0")
    url = orch.urls()["live view"].replace("0.0.0.0", "localhost")
    assert url.startswith("https://")
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    async with httpx.AsyncClient(verify=context, timeout=5) as http:
        with pytest.raises(httpx.HTTPError):  # no client certificate: the handshake fails
            await http.get(url)
    context.load_cert_chain(str(pki / "alice.pem"), str(pki / "alice.key"))
    async with httpx.AsyncClient(verify=context, timeout=5) as http:
        reply = await http.get(url)
    assert reply.status_code == 200
    assert '<table id="agents">' in reply.text
    assert "script-src 'self'" in reply.headers["content-security-policy"]


async def test_a_bad_web_address_is_refused_before_serving(orchestrator_factory: StartOrchestrator) -> None:
    with pytest.raises(ConfigError, match=re.escape("--web '127.0.0.1:70000'")):
        await orchestrator_factory(web="127.0.0.1:70000")


async def test_live_view_updates_in_chromium(orchestrator_factory: StartOrchestrator, net: Net) -> None:
    orch: Orchestrator = await orchestrator_factory(web="127.0.0.1:0")
    url = orch.urls()["live view"]
    # The page talks to a real loopback server here: the host's network, no interception.

    async def refuse(_: Request) -> Response | None:
        return None

    await net.echo(orch, "gen1")
    async with Browser.launch(network=True) as browser:
        page = await browser.new_page(refuse, width=1100, height=700)
        await page.call("Fetch.disable")
        await page.goto(url)

        def rows(kind: str) -> Any:
            return page.evaluate(f"[...document.querySelectorAll('tr.{kind}-row')].map(r => r.textContent)")

        assert await _until(lambda: page.evaluate("document.getElementById('status').textContent === 'live'"), "live")
        assert await page.evaluate("document.querySelectorAll('#agents th').length") == 5
        first = await _until(lambda: rows("agent"), "the first agent")
        assert any("gen1" in r for r in first)
        await page.evaluate("window.loadedOnce = true")  # gone if the page ever reloads

        await net.echo(orch, "back1")  # an agent joins
        await _until(lambda: _has(rows("agent"), "back1"), "back1 in the agents table")
        alice = await net.session(orch, "alice")
        async with asyncio.timeout(10):
            await alice.bus.call(Address.agent("gen1"), Command("run", "paint the fence"))
        done = await _until(lambda: _has(rows("request"), "paint the fence"), "the request in the table")
        assert any("done" in r and "alice" in r and "gen1" in r for r in done)
        assert await page.evaluate("window.loadedOnce === true")
        assert float(await page.evaluate("document.getElementById('total').textContent")) > 0
        shot = await page.screenshot()
        if where := os.environ.get("LIVE_VIEW_SHOT"):  # to look at it: LIVE_VIEW_SHOT=/tmp/live.png
            await asyncio.to_thread(Path(where).write_bytes, shot)
        assert len(shot) > 10_000  # a blank page is a few hundred bytes of PNG
        assert not page.log.console_errors


async def _has(rows: Any, text: str) -> list[str] | None:
    found: list[str] = await rows
    return found if any(text in r for r in found) else None
