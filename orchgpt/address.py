"""Listening addresses, checked in Python before gRPC or an HTTP server sees them: a bad
one is one clear :class:`ConfigError` line, never a C-core log line or a random port."""

from __future__ import annotations

import errno
import socket

from autogpt.errors import ConfigError


def parse_address(value: str, what: str = "--listen") -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too) to a host and a port in 0..65535."""
    host, sep, port_text = value.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host:
        raise ConfigError(f"{what} {value!r} is not HOST:PORT (for example 127.0.0.1:8443)")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"{what} {value!r}: the port must be a number from 0 to 65535")
    return host, int(port_text)


def check_bindable(value: str, what: str = "--listen") -> tuple[str, int]:
    """Parse ``value`` and make sure this machine can listen there now: the host resolves
    to a local address and the port is free (a random port 0 always is)."""
    host, port = parse_address(value, what)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        raise ConfigError(f"{what} {value!r}: unknown host {host!r}") from None
    if not infos:  # pragma: no cover - getaddrinfo raises rather than answer nothing
        raise ConfigError(f"{what} {value!r}: unknown host {host!r}")
    family, kind, proto, _, sockaddr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no conflict
        try:
            probe.bind(sockaddr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"{what} {value!r}: port {port} is already in use") from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise ConfigError(f"{what} {value!r}: {host!r} is not an address of this machine") from None
            raise ConfigError(f"{what} {value!r}: cannot listen there ({exc.strerror})") from None
    return host, port
