"""Headless Chromium, driven over the DevTools protocol on a pipe (no debugging port).

The browser never touches a network: every request a page makes is paused by the Fetch
domain and answered by the caller's :data:`Handler` (serve a workspace file, forward to a
sandboxed server, or refuse). Where the machine allows, Chromium also runs in a network
namespace of its own, so even what Fetch cannot see (WebSockets) reaches nothing.

The pages are generated code, and Chromium's own sandbox cannot run here (as root, or under
the seccomp filter that refuses user namespaces), so with bubblewrap Chromium runs in the same
box as generated programs (:mod:`autogpt.tools.sandbox_bwrap`): uid 65501, no capabilities,
no network, only ``/usr`` and a few ``/etc`` files to read, its profile the only place it may
write, and none of our environment. A page that broke out of the renderer finds nothing.

One :class:`Browser` is one Chromium process with a fresh profile, removed on close.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import functools
import itertools
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from autogpt.errors import AgentError, ConfigError
from autogpt.logs import get_logger

log = get_logger(__name__)

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# As root and offline: no zygote sandbox, no GPU, nothing that phones home.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
ORIGIN = "http://app.test"
CALL_TIMEOUT = 30.0  # seconds for any one DevTools call  # a reserved name: it can never resolve to anything real


class BrowserError(AgentError):
    """The browser could not be started or stopped answering."""


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    path: str  # path and query, e.g. /todos?done=1
    headers: dict[str, str]
    body: bytes
    kind: str = "Other"  # what asked: Document, Script, Fetch, XHR, Image ... (DevTools resource type)

    @property
    def from_script(self) -> bool:
        return self.kind in ("Fetch", "XHR")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


# Answers one paused request; None refuses it (the page sees a network error).
Handler = Callable[[Request], Awaitable[Response | None]]


def find_chromium(configured: str = "") -> str:
    """The Chromium to run: the configured one, else the first on PATH."""
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise ConfigError(f"browser {configured!r} not found", hint="set AUTOGPT_BROWSER to a Chromium binary")
        return found
    for name in CANDIDATES:
        if found := shutil.which(name):
            return found
    raise ConfigError("no Chromium found for the page check", hint="make setup installs it (apt-get install chromium)")


def _boxed(profile: Path, network: bool, chromium: str) -> tuple[list[str], dict[str, int]]:
    """The bubblewrap prefix that confines ``chromium`` (empty without a working bwrap), and the
    descriptors it reads, moved above 9 so they never meet the pipe on fds 3 and 4. A browser
    installed outside ``/usr`` (``AUTOGPT_BROWSER``) is shown read-only, its folder only."""
    from autogpt.tools.sandbox import backend_available
    from autogpt.tools.sandbox_bwrap import bwrap_args, hand_over, open_fds

    bwrap, setpriv = shutil.which("bwrap"), shutil.which("setpriv") or "setpriv"
    home = Path(chromium).resolve().parent
    readable = () if home.is_relative_to("/usr") else (home,)
    if bwrap is None or not backend_available("bwrap"):
        return [], {}
    fds = {}
    for name, fd in open_fds().items():
        fds[name] = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
    profile.chmod(0o711)  # bwrap, root without CAP_DAC_OVERRIDE, must pass through it
    hand_over(profile)
    args = bwrap_args(
        bwrap, setpriv, network=network, workspace=profile, cwd=profile, readable=readable, fds=fds, python=False
    )
    return args, fds


@functools.cache
def _netns_prefix() -> tuple[str, ...]:
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True, check=False).returncode == 0:
        return (unshare, "-n")
    return ()


def _on_fds_3_and_4(read_fd: int, write_fd: int) -> list[str]:
    """A prefix that puts our pipe ends on fds 3 and 4, where Chromium looks for them.

    Done by a shell rather than in a ``preexec_fn``: that would make Python fork instead of
    spawn, and in a process with gRPC threads (a networked agent) the forked child can crash
    in gRPC's fork handlers before it ever runs Chromium."""
    a, b = (300, 301) if 200 in (read_fd, write_fd) or 201 in (read_fd, write_fd) else (200, 201)
    # via spare numbers first, so that a pipe end already on 3 or 4 is not overwritten
    park = f"exec {a}<&{read_fd} {b}>&{write_fd} {read_fd}<&- {write_fd}>&-"
    script = f'{park}; exec 3<&{a} 4>&{b} {a}<&- {b}>&-; exec "$@"'
    return ["/bin/bash", "-c", script, "chromium"]


class Browser:
    """``async with Browser.launch() as browser: page = await browser.new_page(handler)``."""

    def __init__(self, proc: asyncio.subprocess.Process, profile: Path, reader: int, writer: int) -> None:
        self.proc = proc
        self._profile = profile
        self._reader, self._writer = reader, writer
        self._ids = itertools.count(1)
        self._calls: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: dict[str, Callable[[str, dict[str, Any]], None]] = {}
        self._pump = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    @contextlib.asynccontextmanager
    async def launch(cls, binary: str = "", *, timeout: float = 30.0, network: bool = False) -> AsyncIterator[Browser]:
        """``network``: reach the host's network (only for pages we trust, such as orchgpt's
        live view in its tests); otherwise Chromium has a network namespace of its own."""
        chromium = find_chromium(binary)
        profile = Path(tempfile.mkdtemp(prefix="autogpt-chromium-"))
        to_child, from_parent = os.pipe()
        from_child, to_parent = os.pipe()
        box, box_fds = await asyncio.to_thread(_boxed, profile, network, chromium)
        env = {"HOME": str(profile), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"} if box else None
        try:
            proc = await asyncio.create_subprocess_exec(
                *_on_fds_3_and_4(to_child, to_parent), *(box or ([] if network else _netns_prefix())), chromium, *FLAGS,
                *(["--disable-dev-shm-usage"] if box else []), f"--user-data-dir={profile}", "about:blank",
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL, pass_fds=(to_child, to_parent, *box_fds.values()),
                start_new_session=True, env=env,
            )  # fmt: skip
        except OSError as exc:
            for fd in (to_child, from_parent, from_child, to_parent):
                os.close(fd)
            shutil.rmtree(profile, ignore_errors=True)
            raise BrowserError(f"could not start {chromium}: {exc}") from exc
        finally:
            for fd in box_fds.values():
                os.close(fd)
        os.close(to_child)
        os.close(to_parent)
        browser = cls(proc, profile, from_child, from_parent)
        try:
            async with asyncio.timeout(timeout):
                await browser.call("Browser.getVersion")
            yield browser
        except TimeoutError:
            raise BrowserError(f"{chromium} did not answer within {timeout:.0f}s") from None
        finally:
            await browser.close()

    async def _read(self) -> None:
        loop, buffer = asyncio.get_running_loop(), b""
        try:
            while chunk := await loop.run_in_executor(None, os.read, self._reader, 1 << 20):
                buffer += chunk
                *messages, buffer = buffer.split(b"\0")
                for raw in messages:
                    self._dispatch(json.loads(raw))
        except (OSError, ValueError) as exc:
            log.debug("browser.pipe_closed", error=repr(exc))
        finally:
            for future in self._calls.values():
                if not future.done():
                    future.set_exception(BrowserError("the browser went away"))

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message:
            future = self._calls.pop(message["id"], None)
            if future is None or future.done():
                return
            if "error" in message:
                future.set_exception(BrowserError(f"DevTools: {message['error'].get('message', message['error'])}"))
            else:
                future.set_result(message.get("result", {}))
        elif listener := self._listeners.get(message.get("sessionId", "")):
            listener(message["method"], message.get("params", {}))

    async def call(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> dict[str, Any]:
        if self._pump.done():
            raise BrowserError("the browser went away")
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._writer, json.dumps(message).encode() + b"\0")
        except OSError as exc:
            raise BrowserError(f"the browser went away ({exc.strerror})") from None
        # no await since the write: the answer cannot have been dispatched yet
        future = self._calls[ident] = asyncio.get_running_loop().create_future()
        try:
            result: dict[str, Any] = await asyncio.wait_for(future, CALL_TIMEOUT)
        except TimeoutError:
            raise BrowserError(f"the browser did not answer {method} within {CALL_TIMEOUT:.0f}s") from None
        finally:
            self._calls.pop(ident, None)
        return result

    async def new_page(self, handler: Handler, *, width: int = 1024, height: int = 768) -> Page:
        target = (await self.call("Target.createTarget", {"url": "about:blank"}))["targetId"]
        session = (await self.call("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
        page = Page(self, session, handler)
        self._listeners[session] = page._on_event
        for domain in ("Page", "Runtime", "Log"):
            await page.call(f"{domain}.enable")
        await page.call("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]})
        await page.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        return page

    async def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            async with asyncio.timeout(3):
                await self.call("Browser.close")
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 9)
        await self.proc.wait()
        for fd in (self._writer, self._reader):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._pump, 3)
        shutil.rmtree(self._profile, ignore_errors=True)


@dataclass
class PageLog:
    """What happened while a page was open."""

    console_errors: list[str] = field(default_factory=list)
    requests: list[tuple[Request, int]] = field(default_factory=list)  # status 0: refused
    refused: list[str] = field(default_factory=list)


class Page:
    def __init__(self, browser: Browser, session: str, handler: Handler) -> None:
        self.browser, self.session, self.handler = browser, session, handler
        self.log = PageLog()
        self._loaded = asyncio.Event()
        self._in_flight = 0
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.browser.call(method, params, self.session)

    def _on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Fetch.requestPaused":
            self._in_flight += 1
            self._changed.set()
            task = asyncio.get_running_loop().create_task(self._answer(params))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif method == "Page.loadEventFired":
            self._loaded.set()
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.log.console_errors.append(f"console.{params['type']}: {text}"[:500])
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "exception")
            self.log.console_errors.append(f"uncaught {text} (line {details.get('lineNumber', 0) + 1})"[:500])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.log.console_errors.append(f"{entry.get('text', '')} {entry.get('url', '')}".strip()[:500])

    async def _answer(self, params: dict[str, Any]) -> None:
        raw = params["request"]
        parts = urlsplit(raw["url"])
        entries = raw.get("postDataEntries") or []
        body = b"".join(base64.b64decode(e.get("bytes", "")) for e in entries) or raw.get("postData", "").encode()
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        kind = str(params.get("resourceType", "Other"))
        request = Request(raw["method"], raw["url"], path, dict(raw.get("headers", {})), body, kind)
        try:
            response = await self.handler(request) if raw["url"].startswith(ORIGIN + "/") else None
        except Exception as exc:  # a failing handler is the page's network error
            log.debug("browser.handler_failed", url=raw["url"], error=repr(exc))
            response = None
        try:
            if response is None:
                self.log.refused.append(f"{request.method} {raw['url']}")
                self.log.requests.append((request, 0))
                refuse = {"requestId": params["requestId"], "errorReason": "BlockedByClient"}
                await self.call("Fetch.failRequest", refuse)
            else:
                self.log.requests.append((request, response.status))
                headers = [{"name": k, "value": v} for k, v in response.headers.items()]
                await self.call(
                    "Fetch.fulfillRequest",
                    {
                        "requestId": params["requestId"],
                        "responseCode": response.status,
                        "responseHeaders": headers,
                        "body": base64.b64encode(response.body).decode(),
                    },
                )
        except BrowserError as exc:  # the page navigated away or closed meanwhile
            log.debug("browser.answer_lost", url=raw["url"], error=str(exc))
        finally:
            self._in_flight -= 1
            self._changed.set()

    async def goto(self, url: str, *, timeout: float = 15.0) -> None:
        self._loaded.clear()
        result = await self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"could not open {url}: {result['errorText']}")
        try:
            async with asyncio.timeout(timeout):
                await self._loaded.wait()
        except TimeoutError:
            raise BrowserError(f"{url} did not finish loading within {timeout:.0f}s") from None

    async def settle(self, *, quiet: float = 0.4, timeout: float = 10.0) -> bool:
        """Wait until no request has been in flight for ``quiet`` seconds; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            self._changed.clear()
            if self._in_flight == 0:
                try:
                    await asyncio.wait_for(self._changed.wait(), min(quiet, deadline - loop.time()))
                except TimeoutError:
                    return True
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), deadline - loop.time())
        return False

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(f"script failed: {details.get('exception', {}).get('description', details)}")
        return result.get("result", {}).get("value")

    async def screenshot(self) -> bytes:
        shot = await self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})
        return base64.b64decode(shot["data"])
