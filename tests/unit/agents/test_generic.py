from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from autogpt.agents.generic import GenericGPT
from autogpt.errors import (
    InvalidInputError,
    ProviderUnavailableError,
    StructuredOutputError,
    UnknownActionError,
    WorkCancelledError,
)
from autogpt.iac.bus import Bus
from autogpt.iac.envelope import Address, Command, State, Status, Task
from autogpt.iac.memory import InMemoryHub
from autogpt.llm.base import LLM, Message
from autogpt.llm.doubles import FunctionLLM, ScriptedLLM
from autogpt.tools.workspace import Workspace


@dataclass
class Team:
    agent: GenericGPT
    user: Bus
    llm: LLM

    async def ask(self, action: str, text: str = "", language: str = "", **kw: object) -> tuple[object, list[Status]]:
        seen: list[Status] = []
        result = await self.user.call(
            Address.role("generic"), Command(action, text, language), on_status=seen.append, session_id="s1", **kw
        )  # type: ignore[arg-type]
        return result, seen


@pytest.fixture
async def team(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Team]:
    llm: LLM = getattr(request, "param", None) or ScriptedLLM([])
    hub = InMemoryHub()
    agent = GenericGPT(llm, hub.connect("generic"), workspace=Workspace(tmp_path / "ws"), retry_delay=0)
    serving = asyncio.create_task(agent.serve())
    yield Team(agent, hub.connect("user", agent_id="user"), llm)
    await agent.bus.close()
    await serving


async def test_run_streams_the_answer_and_counts_tokens(team: Team) -> None:
    assert isinstance(team.llm, ScriptedLLM)
    team.llm.add("Use s == s[::-1] to test a palindrome.")
    result, seen = await team.ask("run", "how do I test a palindrome?", "python")
    assert result.output == "Use s == s[::-1] to test a palindrome."  # type: ignore[attr-defined]
    deltas = [s.delta for s in seen if s.delta]
    assert len(deltas) > 3
    assert "".join(deltas) == result.output  # type: ignore[attr-defined]
    assert seen[0].state == State.ACCEPTED
    asked = team.llm.calls[0]
    assert asked.messages[0].role == "system"
    assert asked.prompt.endswith("Use python.")
    assert result.completion_tokens > 0  # type: ignore[attr-defined]
    assert team.agent.meter.calls("GenericGPT") == 1


async def test_session_history_is_kept_between_turns(team: Team) -> None:
    assert isinstance(team.llm, ScriptedLLM)
    team.llm.add("Alice.", "You told me: Alice.")
    await team.ask("run", "my name is Alice")
    await team.ask("ask", "what is my name?")
    second = team.llm.calls[1].messages
    assert [m.role for m in second] == ["system", "user", "assistant", "user"]
    assert second[1].content == "my name is Alice"


async def test_plan_is_structured_and_repaired(team: Team) -> None:
    assert isinstance(team.llm, ScriptedLLM)
    plan = {"goal": "tea", "steps": [{"title": "Boil", "detail": "boil water"}, {"title": "Steep", "detail": "3 min"}]}
    team.llm.add("Sure! First boil water...", json.dumps(plan))
    result, _ = await team.ask("plan", "make tea")
    assert result.output == "1. Boil: boil water\n2. Steep: 3 min"  # type: ignore[attr-defined]
    assert result.data["steps"][1]["title"] == "Steep"  # type: ignore[attr-defined]
    assert team.llm.calls[0].options.json_schema is not None


async def test_plan_that_never_validates_is_a_typed_error(team: Team) -> None:
    assert isinstance(team.llm, ScriptedLLM)
    team.llm.add("no", "still no", "never")
    with pytest.raises(StructuredOutputError):
        await team.ask("plan", "make tea")


async def test_create_writes_files_inside_the_workspace_only(team: Team, tmp_path: Path) -> None:
    assert isinstance(team.llm, ScriptedLLM)
    files = {
        "summary": "a greeter",
        "files": [
            {"path": "hello.py", "content": "print('hi')\n"},
            {"path": "pkg/util.py", "content": "X = 1\n"},
        ],
    }
    team.llm.add(json.dumps(files))
    result, seen = await team.ask("create", "a greeter", "python")
    assert (tmp_path / "ws/hello.py").read_text() == "print('hi')\n"
    assert [a.path for a in result.artifacts] == ["hello.py", "pkg/util.py"]  # type: ignore[attr-defined]
    assert any(s.message == "wrote pkg/util.py" for s in seen)
    assert team.agent.workspace is not None
    assert team.agent.workspace.written_by("GenericGPT") == ["hello.py", "pkg/util.py"]

    escape = {"summary": "x", "files": [{"path": "../evil.py", "content": "x"}]}
    team.llm.add(json.dumps(escape))
    with pytest.raises(Exception, match="not allowed") as caught:
        await team.ask("create", "something")
    assert caught.type.__name__ == "PathOutsideWorkspaceError"
    assert not (tmp_path / "evil.py").exists()


async def test_bad_input_gets_typed_errors_and_the_agent_keeps_serving(team: Team) -> None:
    assert isinstance(team.llm, ScriptedLLM)
    with pytest.raises(InvalidInputError, match="empty"):
        await team.ask("run", "   ")
    with pytest.raises(UnknownActionError, match="deploy") as caught:
        await team.ask("deploy", "x")
    assert "run" in str(caught.value)
    team.llm.add("still here")
    result, _ = await team.ask("run", "ping")
    assert result.output == "still here"  # type: ignore[attr-defined]


async def test_help_and_status(team: Team) -> None:
    result, _ = await team.ask("help")
    for name in ("run", "plan", "create", "status", "terminate", "help"):
        assert name in result.data["actions"]  # type: ignore[attr-defined]
    result, _ = await team.ask("status")
    assert result.data["running"] == 0  # type: ignore[attr-defined]
    assert result.data["model"] == "scripted:scripted"  # type: ignore[attr-defined]


@pytest.mark.parametrize("team", [ScriptedLLM([ProviderUnavailableError("503"), "recovered"])], indirect=True)
async def test_transient_llm_failure_is_retried_once(team: Team) -> None:
    result, seen = await team.ask("run", "hello")
    assert result.output == "recovered"  # type: ignore[attr-defined]
    assert any(s.state == State.WAITING and "retrying" in s.message for s in seen)


@pytest.mark.parametrize(
    "team",
    [ScriptedLLM([ProviderUnavailableError("503"), ProviderUnavailableError("503 again")])],
    indirect=True,
)
async def test_retries_are_bounded(team: Team) -> None:
    with pytest.raises(ProviderUnavailableError, match="again"):
        await team.ask("run", "hello")


_started = asyncio.Event()
_release = asyncio.Event()


async def _blocking(messages: object, options: object) -> str:
    _started.set()
    await _release.wait()
    return "late"


@pytest.mark.parametrize("team", [FunctionLLM(_blocking)], indirect=True)
async def test_terminate_stops_running_work(team: Team) -> None:
    _started.clear()
    _release.clear()
    running = asyncio.create_task(team.ask("run", "long job"))
    await _started.wait()
    status, _ = await team.ask("status")
    assert status.data["running"] == 1  # type: ignore[attr-defined]
    result, _ = await team.ask("terminate")
    assert result.data["stopped"] == 1  # type: ignore[attr-defined]
    with pytest.raises(WorkCancelledError):
        await running
    with pytest.raises(WorkCancelledError, match="no running request"):
        await team.ask("terminate", "no-such-id")


async def test_tasks_are_handled_like_run(team: Team) -> None:
    assert isinstance(team.llm, ScriptedLLM)
    team.llm.add("task done")
    result = await team.user.call(Address.role("generic"), Task("t1", "generic", "summarise X"))
    assert result.output == "task done"
    assert team.llm.calls[-1].prompt == "summarise X"


def test_messages_helpers() -> None:
    assert Message.user("x") == Message("user", "x")


async def test_every_prompt_is_fitted_to_the_context_window(tmp_path: Path) -> None:
    llm = ScriptedLLM([], context_window=600)
    hub = InMemoryHub()
    agent = GenericGPT(llm, hub.connect("generic"), reply_tokens=100)
    serving = asyncio.create_task(agent.serve())
    user = hub.connect("user")
    for i in range(12):  # a long session: far more history than 600 tokens
        llm.add(f"answer {i} " + "word " * 80)
        await user.call(Address.role("generic"), Command("run", f"question {i} " + "detail " * 80), session_id="s")
    await agent.bus.close()
    await serving
    from autogpt.mind.context import estimate_messages

    assert all(estimate_messages(call.messages) <= 600 - 100 for call in llm.calls)
    assert llm.calls[-1].messages[0].role == "system"
    assert llm.calls[-1].prompt.startswith("question 11")
