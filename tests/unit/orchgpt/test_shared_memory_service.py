"""The shared-memory service without sockets: checks at once, a bounded queue, a worker that survives."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from autogpt.iac import wire
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.memory.embedder import HashEmbedder
from autogpt.memory.store import MemoryStore
from orchgpt.shared_memory import SharedMemory

BOTH = frozenset({"memory.read", "memory.write"})


def request(request_id: str, action: str, text: str = "", **args: object) -> tuple[wire.Header, pb.Command]:
    command = pb.Command(action=action, input=text, args_json=json.dumps(args))
    env = pb.Envelope(id=request_id, kind=pb.KIND_REQUEST, recipient=pb.Address(agent_id="router"), command=command)
    return wire.header(env.SerializeToString()), command


def test_a_full_queue_answers_overloaded_and_keeps_what_it_holds(tmp_path: Path) -> None:
    service = SharedMemory(MemoryStore(tmp_path / "m.db", HashEmbedder()), queue_size=2)
    replies: list[pb.Envelope] = []
    for i in range(3):
        service.submit("gen1", BOTH, *request(f"r{i}", "memory.remember", f"fact {i}"), replies.append)
    assert service.queue.qsize() == 2
    (busy,) = replies
    assert (busy.correlation_id, busy.error.code, busy.error.retryable) == ("r2", pb.ERROR_CODE_OVERLOADED, True)


async def test_a_failing_request_is_an_error_reply_and_the_worker_goes_on(tmp_path: Path) -> None:
    store = MemoryStore(tmp_path / "m.db", HashEmbedder())
    service = SharedMemory(store)
    replies: asyncio.Queue[pb.Envelope] = asyncio.Queue()
    worker = asyncio.create_task(service.serve())
    try:
        store.close()  # every store call now fails
        service.submit("gen1", BOTH, *request("r1", "memory.recall", "anything"), replies.put_nowait)
        failed = await replies.get()
        assert (failed.correlation_id, failed.error.code) == ("r1", pb.ERROR_CODE_INTERNAL)
        service.store = MemoryStore(tmp_path / "m.db", HashEmbedder())
        service.submit("gen1", BOTH, *request("r2", "memory.remember", "still here"), replies.put_nowait)
        done = await replies.get()
        assert (done.correlation_id, done.result.ok, json.loads(done.result.data_json)) == ("r2", True, {"id": 1})
        assert not worker.done()
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        service.store.close()
