"""Memory shared by a team over the net: orchgpt keeps one store, agents read and write it.

A peer sends a Command REQUEST to ``router`` (as for the ``agents`` listing):

* ``memory.remember``: ``input`` is the text; ``args_json`` may say ``namespace`` (default
  ``shared``) and ``kind``. Needs the certificate capability ``memory.write``.
* ``memory.recall``: ``input`` is the question; ``args_json`` may say ``namespaces`` (a
  list, default ``["shared"]``) and ``k``. Needs ``memory.read``.
* ``memory.forget``: ``args_json`` says ``ids`` and ``namespace``. Needs ``memory.write``.

Why here and not in an agent: the router already knows each peer's certificate, so the
capability check is made on what the certificate grants, not on anything a peer says.
Why a queue and a worker: embedding a text takes milliseconds of CPU, and the switchboard
never blocks; a request is checked at once (a typed error for bad input or a missing
capability), then waits in a bounded queue (full: ``OVERLOADED``) for the worker, which
runs the store in a thread and queues the reply. Every size a peer controls is bounded.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autogpt.errors import AutoGPTError, ErrorCode
from autogpt.iac import wire
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.logs import get_logger
from autogpt.memory.embedder import make_embedder
from autogpt.memory.store import Memory, MemoryStore
from orchgpt.config import OrchSettings
from orchgpt.switchboard import router_envelope

log = get_logger("orchgpt")

READ, WRITE = "memory.read", "memory.write"
NEEDS = {"memory.remember": WRITE, "memory.recall": READ, "memory.forget": WRITE}
MAX_TEXT = 4000
"""Characters in one memory or question: a memory is a fact, not a document."""
MAX_K = 50
MAX_NAMESPACES = 8
MAX_IDS = 100
NAMESPACE = re.compile(r"^(shared|shared:[a-z0-9][a-z0-9._-]{0,63}|project:[a-z0-9][a-z0-9._-]{0,63})$")
NAMESPACE_HINT = "shared, shared:NAME or project:NAME (NAME: a-z 0-9 . _ -, at most 64)"
_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")

Reply = Callable[[pb.Envelope], object]


class Refusal(AutoGPTError):
    """A shared-memory request answered with an error at once, before any work."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message, code=code)


@dataclass(frozen=True, slots=True)
class Job:
    action: str
    agent_id: str
    request_id: str
    session_id: str
    text: str
    args: dict[str, Any]
    reply: Reply


def _namespace(value: object) -> str:
    if not isinstance(value, str) or not NAMESPACE.match(value):
        raise Refusal(ErrorCode.INVALID_INPUT, f"bad memory namespace {str(value)[:80]!r}: use {NAMESPACE_HINT}")
    return value


def _args(command: pb.Command) -> dict[str, Any]:
    if len(command.args_json) > MAX_TEXT:
        raise Refusal(ErrorCode.INVALID_INPUT, f"args_json is over {MAX_TEXT} characters")
    try:
        args = json.loads(command.args_json or "{}")
    except ValueError:
        raise Refusal(ErrorCode.INVALID_INPUT, "args_json is not valid JSON") from None
    if not isinstance(args, dict):
        raise Refusal(ErrorCode.INVALID_INPUT, "args_json must be a JSON object")
    return args


def check(action: str, command: pb.Command) -> tuple[str, dict[str, Any]]:
    """The request's text and arguments, normalised; :class:`Refusal` for bad input."""
    args = _args(command)
    text = command.input.strip()
    if len(command.input) > MAX_TEXT:
        raise Refusal(ErrorCode.INVALID_INPUT, f"the text is {len(command.input)} characters; at most {MAX_TEXT}")
    if action == "memory.remember":
        if not text:
            raise Refusal(ErrorCode.INVALID_INPUT, "there is nothing to remember: the text is empty")
        kind = args.get("kind", "note")
        if not isinstance(kind, str) or not _KIND.match(kind):
            raise Refusal(ErrorCode.INVALID_INPUT, "kind must be 1-32 of a-z 0-9 _ - starting with a letter")
        return text, {"namespace": _namespace(args.get("namespace", "shared")), "kind": kind}
    if action == "memory.recall":
        spaces = args.get("namespaces", ["shared"])
        if not isinstance(spaces, list) or not 0 < len(spaces) <= MAX_NAMESPACES:
            raise Refusal(ErrorCode.INVALID_INPUT, f"namespaces must be a list of 1 to {MAX_NAMESPACES} names")
        k = args.get("k", 5)
        if not isinstance(k, int) or isinstance(k, bool) or not 0 < k <= MAX_K:
            raise Refusal(ErrorCode.INVALID_INPUT, f"k must be a whole number from 1 to {MAX_K}")
        if not text:
            raise Refusal(ErrorCode.INVALID_INPUT, "the question is empty")
        return text, {"namespaces": [_namespace(n) for n in spaces], "k": k}
    ids = args.get("ids")
    if (
        not isinstance(ids, list)
        or not 0 < len(ids) <= MAX_IDS
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    ):
        raise Refusal(ErrorCode.INVALID_INPUT, f"ids must be a list of 1 to {MAX_IDS} memory ids")
    return text, {"ids": ids, "namespace": _namespace(args.get("namespace", "shared"))}


def _envelope(job: Job, payload: dict[str, Any]) -> pb.Envelope:
    return router_envelope(job.agent_id, correlation_id=job.request_id, session_id=job.session_id, **payload)


def error_reply(job: Job, code: ErrorCode, message: str, *, retryable: bool = False) -> pb.Envelope:
    error = pb.Error(code=int(code), message=message, retryable=retryable)  # type: ignore[arg-type]
    return _envelope(job, {"error": error})


def _result(job: Job, output: str, data: dict[str, Any]) -> pb.Envelope:
    result = pb.Result(ok=True, output=output, data_json=json.dumps(data, separators=(",", ":"), sort_keys=True))
    return _envelope(job, {"result": result})


def _found(memory: Memory) -> dict[str, Any]:
    return {"id": memory.id, "namespace": memory.namespace, "kind": memory.kind, "text": memory.text,
            "score": round(memory.score, 4), "by": memory.meta.get("by", "")}  # fmt: skip


class SharedMemory:
    """The shared store, its bounded queue of requests and the worker that serves them."""

    def __init__(self, store: MemoryStore, *, queue_size: int = 256) -> None:
        self.store = store
        self.queue: asyncio.Queue[Job] = asyncio.Queue(queue_size)
        self.served = 0

    @staticmethod
    def handles(action: str) -> bool:
        return action in NEEDS

    def submit(
        self, agent_id: str, granted: frozenset[str], env: wire.Header, command: pb.Command, reply: Reply
    ) -> None:
        """Check one REQUEST now and queue it; a refusal is answered at once through ``reply``."""
        job = Job(command.action, agent_id, env.id, env.session_id, "", {}, reply)
        try:
            needed = NEEDS[command.action]
            if needed not in granted:
                raise Refusal(
                    ErrorCode.PERMISSION_DENIED,
                    f"{agent_id}'s certificate does not grant {needed}, which {command.action} needs",
                )
            text, args = check(command.action, command)
            self.queue.put_nowait(Job(command.action, agent_id, env.id, env.session_id, text, args, reply))
        except Refusal as exc:
            log.info("memory_refused", agent=agent_id, action=command.action, error=str(exc))
            reply(error_reply(job, exc.code, str(exc)))
        except asyncio.QueueFull:
            reply(error_reply(job, ErrorCode.OVERLOADED, "shared memory is busy; try again", retryable=True))

    async def serve(self) -> None:
        """Answer queued requests one at a time until cancelled; a failed one is an error reply."""
        while True:
            job = await self.queue.get()
            try:
                answer = await asyncio.to_thread(self._do, job)
            except AutoGPTError as exc:
                answer = error_reply(job, exc.code, str(exc), retryable=exc.retryable)
            except Exception as exc:  # one bad request never stops the worker
                log.warning("memory_failed", agent=job.agent_id, action=job.action, error=repr(exc))
                answer = error_reply(job, ErrorCode.INTERNAL, f"shared memory failed: {type(exc).__name__}")
            self.served += 1
            job.reply(answer)

    def _do(self, job: Job) -> pb.Envelope:
        args = job.args
        if job.action == "memory.remember":
            (item,) = self.store.add([job.text], args["namespace"], args["kind"], {"by": job.agent_id})
            return _result(job, f"remembered #{item} in {args['namespace']}", {"id": item})
        if job.action == "memory.recall":
            found = self.store.search(job.text, args["namespaces"], args["k"])
            output = "\n".join(f"#{m.id} [{m.namespace}] {m.text}" for m in found) or "nothing remembered about that"
            return _result(job, output, {"memories": [_found(m) for m in found]})
        gone = self.store.forget(args["ids"], namespace=args["namespace"])
        return _result(job, f"forgot {gone} of {len(args['ids'])}", {"forgotten": gone})


def open_shared_memory(settings: OrchSettings) -> SharedMemory:
    """The orchestrator's shared store (the embedder loads on the first request, not here)."""
    store = MemoryStore(settings.memory.expanduser(), make_embedder(settings.embedder))
    return SharedMemory(store, queue_size=settings.memory_queue)
