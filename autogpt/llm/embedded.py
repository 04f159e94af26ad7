"""The default provider: a small GGUF model run in-process by llama.cpp (``xllamacpp``).

The model is loaded once per process and shared by every agent. Generation blocks, so
it runs in a worker thread; streamed tokens cross back to the event loop through a
queue, and a consumer that stops reading stops generation at the next token. JSON
schemas go to llama.cpp, which compiles them to a grammar, so structured replies are
valid by construction.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import os
import secrets
import threading
import time
from collections.abc import AsyncGenerator, Iterator, Sequence
from typing import Any

from autogpt.config import Settings
from autogpt.errors import InvalidInputError, MalformedReplyError, ModelFilesError
from autogpt.llm.base import DEFAULT_OPTIONS, LLM, Completion, FinishReason, Message, Options, StreamItem, Usage
from autogpt.llm.model_files import Progress, resolve_model
from autogpt.logs import get_logger

log = get_logger(__name__)

_lock = threading.Lock()
_servers: dict[tuple[str, int, int], Any] = {}
_END = object()


def _unload_all() -> None:
    """Free models before interpreter shutdown; llama.cpp's thread must not outlive Python."""
    with _lock:
        _servers.clear()


atexit.register(_unload_all)


def _load(path: str, n_ctx: int, threads: int) -> Any:
    key = (path, n_ctx, threads)
    with _lock:
        server = _servers.get(key)
        if server is not None:
            return server
        try:
            import xllamacpp
        except ImportError:
            raise ModelFilesError(
                "the embedded runtime (xllamacpp) is not installed",
                hint="run `make setup` or `pip install 'autogpt-team[embedded]'`",
            ) from None
        params = xllamacpp.CommonParams()
        params.model.path = path
        params.n_ctx = n_ctx
        params.n_parallel = 1
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.warmup = False
        params.verbosity = -1
        # llama.cpp also opens an HTTP endpoint on loopback; lock it with a throwaway key.
        params.api_keys = [secrets.token_hex(16)]
        started = time.perf_counter()
        try:
            server = xllamacpp.Server(params)
        except (RuntimeError, ValueError) as exc:
            raise ModelFilesError(f"llama.cpp could not load {path}: {exc}") from None
        log.info("model_loaded", path=path, seconds=round(time.perf_counter() - started, 3))
        _servers[key] = server
        return server


def _finish(reason: str | None) -> FinishReason:
    if reason in ("stop", "length"):
        return reason  # type: ignore[return-value]
    return "stop" if reason in (None, "eos", "tool_calls") else "other"


def _usage(body: dict[str, Any]) -> Usage:
    usage = body.get("usage") or {}
    return Usage(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)))


def _check(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedReplyError(f"llama.cpp returned {type(body).__name__}, not an object")
    if "error" in body:
        err = body["error"]
        message = err.get("message", str(err)) if isinstance(err, dict) else str(err)
        if "context" in message or "exceed" in message:
            raise InvalidInputError(f"the prompt does not fit the model: {message}")
        raise MalformedReplyError(f"llama.cpp refused the request: {message}")
    return body


@contextlib.contextmanager
def _machine_turn(lock_path: str) -> Iterator[None]:
    """One generation at a time per model file on this machine. Each one already uses every
    core; two processes generating at once (a networked team on one host) spin against each
    other and both slow down several times over. Unlockable places just go ahead."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


class EmbeddedLLM(LLM):
    provider = "embedded"

    def __init__(
        self,
        path: str,
        *,
        model: str,
        context_window: int = 8192,
        threads: int = 0,
        max_tokens: int = 1024,
        temperature: float = 0.2,
    ) -> None:
        self.path = path
        self.model = model
        self.context_window = context_window
        self.threads = threads or os.cpu_count() or 1
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._server: Any = None

    @classmethod
    def from_settings(cls, settings: Settings, progress: Progress | None = None) -> EmbeddedLLM:
        name, path = resolve_model(settings.model, settings.cache_dir, progress)
        return cls(
            str(path),
            model=name,
            context_window=settings.context_size,
            threads=settings.threads,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
        )

    async def load(self) -> None:
        """Load the model now rather than on the first call (for timing or warm-up)."""
        if self._server is None:
            self._server = await asyncio.to_thread(_load, self.path, self.context_window, self.threads)

    def _request(self, messages: Sequence[Message], options: Options, stream: bool) -> dict[str, Any]:
        if not messages:
            raise InvalidInputError("no messages to complete")
        req: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": options.max_tokens or self.max_tokens,
            "temperature": self.temperature if options.temperature is None else options.temperature,
        }
        if options.stop:
            req["stop"] = list(options.stop)
        if options.json_schema is not None:
            req["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": options.schema_name, "schema": options.json_schema},
            }
        if stream:
            req["stream"] = True
            req["stream_options"] = {"include_usage": True}
        return req

    def _call(self, req: dict[str, Any], on_chunk: Any = None) -> Any:
        try:
            with _machine_turn(self.path + ".lock"):
                if on_chunk is None:
                    return self._server.handle_chat_completions(req)
                return self._server.handle_chat_completions(req, on_chunk)
        except ValueError as exc:
            raise InvalidInputError(f"llama.cpp rejected the request: {exc}") from None
        except RuntimeError as exc:
            raise MalformedReplyError(f"llama.cpp failed: {exc}") from None

    async def complete(self, messages: Sequence[Message], options: Options = DEFAULT_OPTIONS) -> Completion:
        req = self._request(messages, options, stream=False)
        await self.load()
        body = _check(await asyncio.to_thread(self._call, req))
        try:
            choice = body["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise MalformedReplyError("llama.cpp reply has no message") from None
        return Completion(text, _finish(choice.get("finish_reason")), self.model, _usage(body))

    async def stream(
        self, messages: Sequence[Message], options: Options = DEFAULT_OPTIONS
    ) -> AsyncGenerator[StreamItem, None]:
        req = self._request(messages, options, stream=True)
        await self.load()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()

        def on_chunk(chunk: Any) -> bool:
            if stop.is_set():
                return True  # tells llama.cpp to stop generating
            loop.call_soon_threadsafe(queue.put_nowait, chunk)
            return False

        def produce() -> None:
            try:
                self._call(req, on_chunk)
            except Exception as exc:  # handed to the consumer, raised there
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _END)

        worker = loop.run_in_executor(None, produce)
        parts: list[str] = []
        usage = Usage()
        finish: FinishReason = "stop"
        try:
            while (item := await queue.get()) is not _END:
                if isinstance(item, Exception):
                    raise item
                body = _check(item)
                if body.get("usage"):
                    usage = _usage(body)
                for choice in body.get("choices") or ():
                    delta = (choice.get("delta") or {}).get("content")
                    if delta:
                        parts.append(delta)
                        yield delta
                    if choice.get("finish_reason"):
                        finish = _finish(choice["finish_reason"])
        finally:
            stop.set()
            await asyncio.shield(worker)
        yield Completion("".join(parts), finish, self.model, usage)
