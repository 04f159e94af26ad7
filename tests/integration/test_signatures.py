"""Agents act only on orders signed by their sender's announced key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from autogpt.agents.generic import GenericGPT
from autogpt.errors import SignatureError
from autogpt.iac.envelope import Address, Command, Register
from autogpt.iac.signing import Signer
from autogpt.llm.doubles import ScriptedLLM
from autogpt.net.link import NetSession, TlsFiles, connect
from autogpt.net.trust import KeyBook
from orchgpt.config import load_orch_settings
from orchgpt.pki import make_test_pki
from orchgpt.server import Orchestrator


@dataclass
class Setup:
    certs: Path
    target: str
    llm: ScriptedLLM

    async def user(self, name: str, signer: Signer | None) -> NetSession:
        return await connect(self.target, TlsFiles.from_dir(self.certs, name), Register("user"), signer=signer)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    certs = make_test_pki(tmp_path, {"gen1": ["generic"], "alice": ["user"], "mallory": ["user"]})
    orch = Orchestrator(load_orch_settings(listen="127.0.0.1:0", certs=certs, ledger=tmp_path / "ledger.sqlite3"))
    port = await orch.start()
    target = f"localhost:{port}"
    session = await connect(target, TlsFiles.from_dir(certs, "gen1"), Register("generic"), signer=Signer.generate())
    llm = ScriptedLLM([])
    agent = GenericGPT(llm, session.bus, verify=KeyBook(session.bus).check)
    serving = asyncio.create_task(agent.serve())
    yield Setup(certs, target, llm)
    await session.close()
    await serving
    await orch.stop(0)


async def test_signed_orders_are_carried_out(setup: Setup) -> None:
    setup.llm.add("done")
    alice = await setup.user("alice", Signer.generate())
    try:
        result = await alice.bus.call(Address.role("generic"), Command("run", "hello"), timeout=10)
    finally:
        await alice.close()
    assert result.output == "done"


async def test_unsigned_orders_are_refused(setup: Setup) -> None:
    alice = await setup.user("alice", signer=None)
    try:
        with pytest.raises(SignatureError, match="announced no signing key"):
            await alice.bus.call(Address.role("generic"), Command("run", "hello"), timeout=10)
    finally:
        await alice.close()
    assert setup.llm.calls == []  # nothing was done


async def test_orders_signed_with_another_key_are_refused(setup: Setup) -> None:
    alice = await setup.user("alice", Signer.generate())
    alice.bus.signer = Signer.generate()  # signs with a key the router never saw for alice
    try:
        with pytest.raises(SignatureError, match="bad signature"):
            await alice.bus.call(Address.role("generic"), Command("run", "hello"), timeout=10)
    finally:
        await alice.close()
    assert setup.llm.calls == []
