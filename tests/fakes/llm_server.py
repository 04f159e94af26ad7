"""A real HTTP server on 127.0.0.1 that answers like the OpenAI and Anthropic APIs.

Tests point the official SDKs at it, so request building, retries, ``retry-after``
handling, SSE parsing and error classes all run as they do in production, with no
live service. Replies are scripted in order; every request is recorded so tests can
assert on what the SDK actually sent.
"""

from __future__ import annotations

import base64
import json
import struct
import threading
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from autogpt.llm import guard

# Makes the SDKs retry at once instead of backing off for half a second or more.
RETRY_NOW = {"retry-after-ms": "1"}


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]  # names lower-cased
    body: Any  # decoded JSON, or the raw text when it was not JSON


def json_reply(payload: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(payload).encode(), {"content-type": "application/json", **(headers or {})})


def raw_reply(text: str, status: int = 200, content_type: str = "text/plain") -> Reply:
    return Reply(status, text.encode(), {"content-type": content_type})


def sse_reply(events: Iterable[tuple[str | None, object]]) -> Reply:
    """``(event name or None, data)``; data that is not a string is sent as JSON."""
    frames = []
    for name, data in events:
        line = data if isinstance(data, str) else json.dumps(data)
        frames.append((f"event: {name}\n" if name else "") + f"data: {line}\n\n")
    return Reply(200, "".join(frames).encode(), {"content-type": "text/event-stream"})


@contextmanager
def remote_requests_blocked() -> Iterator[None]:
    """Block remote LLM requests inside the block, then leave the guard as it was found."""
    before = guard._blocked
    guard.block_remote_requests()
    try:
        yield
    finally:
        guard.block_remote_requests(before)


# OpenAI chat completions ---------------------------------------------------------


def openai_completion(
    text: str | None = "Hello!",
    *,
    model: str = "gpt-test",
    finish_reason: str = "stop",
    prompt_tokens: int = 11,
    completion_tokens: int = 3,
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def openai_stream(
    deltas: Iterable[str], *, model: str = "gpt-test", prompt_tokens: int = 7, completion_tokens: int = 4
) -> Reply:
    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": model, "choices": [choice]}

    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    chunks: list[object] = [chunk({"role": "assistant", "content": ""}, None)]
    chunks += [chunk({"content": d}, None) for d in deltas]
    chunks.append(chunk({}, "stop"))
    chunks.append(
        {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": model, "choices": [], "usage": usage}
    )
    chunks.append("[DONE]")
    return sse_reply((None, c) for c in chunks)


def openai_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Reply:
    return json_reply({"error": {"message": message, "type": "error", "code": None}}, status, headers)


# OpenAI images -------------------------------------------------------------------


def tiny_png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A real PNG of one colour, small enough to script."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def openai_image(data: bytes) -> Reply:
    """An images.generate reply carrying ``data`` as base64."""
    return json_reply({"created": 1, "data": [{"b64_json": base64.b64encode(data).decode()}]})


# Anthropic messages --------------------------------------------------------------


def anthropic_message(
    text: str = "Hello!",
    *,
    tool_input: dict[str, Any] | None = None,
    tool_name: str = "reply",
    model: str = "claude-test",
    stop_reason: str = "end_turn",
    input_tokens: int = 12,
    output_tokens: int = 5,
) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    if tool_input is not None:
        content = [{"type": "tool_use", "id": "toolu_1", "name": tool_name, "input": tool_input}]
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def anthropic_stream(
    deltas: Iterable[str],
    *,
    tool_name: str | None = None,
    model: str = "claude-test",
    input_tokens: int = 9,
    output_tokens: int = 6,
) -> Reply:
    """Text deltas, or with ``tool_name`` the pieces of a tool call's JSON input."""
    start = anthropic_message("", model=model, input_tokens=input_tokens, output_tokens=1)
    start.update(content=[], stop_reason=None)
    block: dict[str, Any] = {"type": "text", "text": ""}
    if tool_name is not None:
        block = {"type": "tool_use", "id": "toolu_1", "name": tool_name, "input": {}}

    def delta(piece: str) -> dict[str, Any]:
        if tool_name is not None:
            return {"type": "input_json_delta", "partial_json": piece}
        return {"type": "text_delta", "text": piece}

    events: list[tuple[str, object]] = [
        ("message_start", {"type": "message_start", "message": start}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}),
    ]
    events += [("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta(d)}) for d in deltas]
    stop_reason = "end_turn" if tool_name is None else "tool_use"
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return sse_reply(events)


def anthropic_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Reply:
    kinds = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error"}
    kinds |= {429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}
    error = {"type": kinds.get(status, "api_error"), "message": message}
    return json_reply({"type": "error", "error": error}, status, headers)


# The server ----------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.fake.take(Request(self.command, self.path, headers, body))
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(reply.body)))
        self.send_header("connection", "close")  # no idle keep-alive threads left at shutdown
        self.end_headers()
        self.wfile.write(reply.body)
        self.close_connection = True

    do_GET = do_POST

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests assert on :attr:`FakeLLMServer.requests` instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeLLMServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class FakeLLMServer:
    """Use as a context manager; :attr:`url` is ``http://127.0.0.1:<port>``."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the server is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def script(self, *replies: Reply) -> None:
        """Queue replies, answered in order, one per request."""
        with self._lock:
            self._replies.extend(replies)

    def take(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._replies:
                return self._replies.popleft()
        # A test asked more than it scripted: fail loudly, and tell the SDK not to retry.
        reply = openai_error(418, "fake server: no scripted reply left")
        return Reply(reply.status, reply.body, {**reply.headers, "x-should-retry": "false"})

    def __enter__(self) -> FakeLLMServer:
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
