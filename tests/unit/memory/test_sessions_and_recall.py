"""A console's conversation outlives its process, and what was told is recalled later."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from autogpt.agents.generic import GenericGPT
from autogpt.config import Settings, load_settings
from autogpt.errors import ConfigError
from autogpt.iac.envelope import Command
from autogpt.llm.base import Message, Options
from autogpt.llm.doubles import FunctionLLM
from autogpt.sessions import SessionStore


def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", workspace=tmp_path / "ws", embedder="hash")


def echo_llm() -> FunctionLLM:
    def reply(messages: Sequence[Message], options: Options) -> str:
        return f"ok ({len(messages)} messages)"

    return FunctionLLM(reply)


async def talk(cfg: Settings, session_id: str | None, *lines: str) -> tuple[FunctionLLM, str]:
    from autogpt.cli.runtime import Standalone

    llm = echo_llm()
    team = Standalone(cfg, GenericGPT, llm, session_id=session_id)
    await team.start()
    try:
        for line in lines:
            await team.ask(Command("run", line))
    finally:
        await team.stop()
    return llm, team.session_id


async def test_resumed_session_sends_the_earlier_turns(tmp_path: Path) -> None:
    cfg = settings(tmp_path)
    _, sid = await talk(cfg, "s1", "write a haiku about rain", "make it about snow")
    llm, _ = await talk(cfg, sid, "now translate it")
    sent = llm.calls[0].messages
    assert [m.role for m in sent] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert [m.content for m in sent if m.role == "user"] == [
        "write a haiku about rain",
        "make it about snow",
        "now translate it",
    ]
    stored, damaged = SessionStore(cfg.data_dir / "sessions", "generic").load(sid)
    assert len(stored) == 6
    assert damaged == 0


async def test_a_new_session_starts_clean_but_recalls_facts_from_memory(tmp_path: Path) -> None:
    cfg = settings(tmp_path)
    await talk(cfg, "first", "My favourite colour is teal, remember it.")
    llm, _ = await talk(cfg, "second", "What is my favourite colour?")
    sent = llm.calls[0].messages
    assert [m.role for m in sent] == ["system", "user"]
    assert "My favourite colour is teal" in sent[0].content


def test_damaged_session_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    store = SessionStore(tmp_path, "generic")
    store.append("x", Message.user("hello"))
    with store.path("x").open("a") as fh:
        fh.write("{not json\n")
    store.append("x", Message.assistant("hi"))
    turns, damaged = store.load("x")
    assert [t.content for t in turns] == ["hello", "hi"]
    assert damaged == 1


def test_odd_session_ids_never_leave_the_folder(tmp_path: Path) -> None:
    store = SessionStore(tmp_path, "generic")
    store.append("../../etc/passwd", Message.user("x"))
    assert store.path("../../etc/passwd").parent == tmp_path / "generic"
    assert store.resolve(store.list()[0].id)


async def test_memory_that_cannot_recall_is_turned_off_once_and_the_answers_still_come(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autogpt.memory.recall import AgentMemory

    tries: list[int] = []

    def broken(self: AgentMemory, messages: Sequence[Message], window: int, reserve: int) -> list[Message]:
        tries.append(window)
        raise ConfigError("memory embeddings need onnxruntime and tokenizers", hint="run `make setup`")

    monkeypatch.setattr(AgentMemory, "into", broken)
    llm, _ = await talk(settings(tmp_path), "s", "one", "two", "three")
    assert len(llm.calls) == 3  # every line answered
    assert len(tries) == 1  # recall was tried once, then left off for the session
