"""A switch that keeps remote LLM calls out of test runs.

Test suites call :func:`block_remote_requests`; from then on a provider pointed at any
host but loopback refuses to send, so no test can spend money or depend on a live
service by accident. Local fake servers on 127.0.0.1 keep working.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from autogpt.errors import ConfigError

_blocked = False


def block_remote_requests(blocked: bool = True) -> None:
    global _blocked
    _blocked = blocked


def check_endpoint(url: str) -> None:
    """Raise :class:`ConfigError` if remote calls are blocked and ``url`` is not loopback."""
    if not _blocked:
        return
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ConfigError(f"remote LLM requests are blocked in this process (endpoint {url})")
