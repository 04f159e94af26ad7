"""Files between workspaces through a real orchgpt: many chunks, several frames, both ways."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from autogpt.iac.envelope import Address, Result, Task
from autogpt.iac.transfer import offer_of
from autogpt.tools.workspace import Workspace
from orchgpt.server import Orchestrator

if TYPE_CHECKING:
    from conftest import Net


async def test_large_files_cross_orchgpt_in_chunks_both_ways(
    orchestrator: Orchestrator, net: Net, tmp_path: Path
) -> None:
    man, back = await net.session(orchestrator, "alice"), await net.session(orchestrator, "back1")
    man_ws, back_ws = Workspace(tmp_path / "man").ensure(), Workspace(tmp_path / "back").ensure()
    spec = os.urandom(3 << 20)
    man_ws.write_bytes("docs/spec.bin", spec)
    built = {f"dist/part{i}.bin": os.urandom((4 << 20) + i) for i in range(3)}  # 51 chunks: 13 MiB in all
    for path, data in built.items():
        back_ws.write_bytes(path, data)

    async def serve() -> list[str]:
        env = await back.bus.receive()
        assert env is not None
        offer = offer_of(env.payload)
        assert offer is not None
        assert offer.files["docs/spec.bin"].sha256 == hashlib.sha256(spec).hexdigest()
        fetched = await back.bus.fetch(env, ["docs/spec.bin"], back_ws)
        await back.bus.send_files(env, back_ws, sorted(built))  # queued at once: frames must split them
        await back.bus.reply(env, Result(output="built"))
        return fetched

    serving = asyncio.create_task(serve())
    result = await man.bus.call(Address.role("backend"), Task("t1", "backend", "build"), files=man_ws, timeout=60)
    assert result.output == "built"
    assert await serving == ["docs/spec.bin"]
    assert (back_ws.root / "docs/spec.bin").read_bytes() == spec
    for path, data in built.items():
        assert (man_ws.root / path).read_bytes() == data
    assert not man.lost.is_set()
    assert not back.lost.is_set()
