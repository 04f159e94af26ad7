"""Reaching a server inside the Sandbox's own network namespace, from the host."""

from __future__ import annotations

import asyncio
import ctypes
import http.client
import os
import socket
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

_CLONE_NEWNET, _MAX_BODY = 0x40000000, 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    truncated: bool = False  # the body is cut at 8 MiB


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read it, close)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def connect_in(ns_pid: int | None, port: int, timeout: float) -> socket.socket:
    """Connect to 127.0.0.1:port as ``ns_pid``'s network namespace sees it (setns needs root)."""
    if ns_pid is None:
        return socket.create_connection(("127.0.0.1", port), timeout)
    setns = ctypes.CDLL(None, use_errno=True).setns
    fds = [os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)]
    try:
        fds.append(os.open(f"/proc/{ns_pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC))
        if setns(fds[1], _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns into the sandbox network namespace")
        try:
            return socket.create_connection(("127.0.0.1", port), timeout)
        finally:
            if setns(fds[0], _CLONE_NEWNET) != 0:  # the thread is thrown away right after anyway
                raise OSError(ctypes.get_errno(), "setns back to the host network namespace")
    finally:
        for fd in fds:
            os.close(fd)


async def http_in(
    ns_pid: int | None, method: str, port: int, path: str, body: bytes | None,
    headers: Mapping[str, str] | None, timeout: float,
) -> HttpResponse:  # fmt: skip
    """One HTTP/1.1 request to 127.0.0.1:port of ``ns_pid``'s network namespace."""

    def call() -> HttpResponse:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.sock = connect_in(ns_pid, port, timeout)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            resp = conn.getresponse()
            data = resp.read(_MAX_BODY + 1)
            names = {name.lower(): value for name, value in resp.getheaders()}
            return HttpResponse(resp.status, names, data[:_MAX_BODY], len(data) > _MAX_BODY)
        finally:
            conn.close()

    pool = ThreadPoolExecutor(1, thread_name_prefix="sandbox-netns")  # fresh: setns never leaks into a pool
    try:
        return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(pool, call), timeout)
    finally:
        pool.shutdown(wait=False)
