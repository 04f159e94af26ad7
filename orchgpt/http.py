"""A very small HTTP/1.1 server on asyncio for orchgpt's read-only pages: ``GET`` only, one
request per connection, bounded request heads, and answers that are either whole bodies or
a stream (server-sent events). Loopback addresses are served plain; any other address only
over TLS with a client certificate from the deployment's CA."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from autogpt.errors import ConfigError
from autogpt.logs import get_logger
from orchgpt.address import check_bindable

log = get_logger("orchgpt.http")

HEAD_BYTES = 8192
HEAD_TIMEOUT = 10.0


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    stream: AsyncIterator[bytes] | None = None  # sent after the head, until it ends
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[], Awaitable[Reply]]
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 400: "Bad Request"}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context(certs: Path) -> ssl.SSLContext:
    """Server certificate from ``certs``, and a client certificate from its CA required."""
    files = [certs / n for n in ("ca.pem", "server.pem", "server.key")]
    if missing := [str(f) for f in files if not f.is_file()]:
        raise ConfigError(f"TLS files missing: {', '.join(missing)}")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(files[0]))
    context.load_cert_chain(str(files[1]), str(files[2]))
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class HttpServer:
    def __init__(self, listen: str, routes: dict[str, Route], *, certs: Path, what: str) -> None:
        self.listen = listen
        self.routes = routes
        self.certs = certs
        self.what = what
        self.port = 0
        self.tls = False
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        host = self.listen.rpartition(":")[0]
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}/"

    async def start(self) -> None:
        host, port = check_bindable(self.listen, self.what)
        context = None
        if not is_loopback(host):
            context, self.tls = tls_context(self.certs), True
        self._server = await asyncio.start_server(
            self._serve, host, port, ssl=context, reuse_address=True, limit=HEAD_BYTES
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("http_serving", what=self.what, url=self.url, client_certificates=self.tls)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._clients):
            task.cancel()  # event streams never end on their own
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            reply = await self._answer(reader)
            head = (
                f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'OK')}\r\nContent-Type: {reply.content_type}\r\n"
            )
            head += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items())
            if reply.stream is None:
                head += f"Content-Length: {len(reply.body)}\r\n"
            writer.write(head.encode() + b"\r\n" + reply.body)
            await writer.drain()
            if reply.stream is not None:
                async for chunk in reply.stream:
                    writer.write(chunk)
                    await writer.drain()
        except (ConnectionError, TimeoutError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # the server stops
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)

    async def _answer(self, reader: asyncio.StreamReader) -> Reply:
        async with asyncio.timeout(HEAD_TIMEOUT):
            head = await reader.readuntil(b"\r\n\r\n")  # beyond HEAD_BYTES: LimitOverrunError
        method, _, rest = head.decode("latin-1").partition(" ")
        path = rest.partition(" ")[0].partition("?")[0]
        if method != "GET":
            return Reply(405, b"only GET\n")
        route = self.routes.get(path)
        return await route() if route is not None else Reply(404, b"not found\n")
