"""GenericGPT acting on the scripted model: bad calls are evidence, refusals are enforced,
approval is asked for, and nothing outside the workspace is touched."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from autogpt.agents.acting import ActPlan, excerpts, tidied
from autogpt.agents.generic import GenericGPT
from autogpt.config import load_settings
from autogpt.errors import InvalidInputError, WorkCancelledError
from autogpt.iac.bus import Bus
from autogpt.iac.envelope import Address, Command, Result, Status
from autogpt.iac.memory import InMemoryHub
from autogpt.llm.doubles import ScriptedLLM
from autogpt.tools.workspace import Workspace

PLAN = {"summary": "try things", "steps": ["try"], "commands": ["echo planned"], "tools": []}
DONE = {"verdict": "done", "reasons": "finished"}
TWO_STEPS = {"summary": "two files", "steps": ["write a.txt", "write b.txt"], "commands": [], "tools": []}


@dataclass
class Team:
    agent: GenericGPT
    user: Bus
    llm: ScriptedLLM
    root: Path

    async def do(self, task: str, **args: Any) -> Result:
        result = await self.user.call(Address.role("generic"), Command("do", task, args=args), session_id="s")
        assert isinstance(result, Result)
        return result


@pytest.fixture
async def team(tmp_path: Path) -> AsyncIterator[Team]:
    llm = ScriptedLLM([])
    hub = InMemoryHub()
    settings = load_settings(data_dir=tmp_path / "data", act_command_seconds=1)
    ws = Workspace(tmp_path / "ws").ensure()
    agent = GenericGPT(llm, hub.connect("generic"), workspace=ws, retry_delay=0, settings=settings)
    serving = asyncio.create_task(agent.serve())
    yield Team(agent, hub.connect("user", agent_id="user"), llm, ws.root)
    await agent.bus.close()
    await serving


def turn(*calls: tuple[str, Any], done: bool = False) -> str:
    return json.dumps({"calls": [{"tool": t, "args": a} for t, a in calls], "done": done})


def evidence(llm: ScriptedLLM, call: int) -> str:
    return "\n".join(m.content for m in llm.calls[call].messages)


async def test_bad_calls_come_back_as_one_error_each_and_the_loop_goes_on(team: Team, tmp_path: Path) -> None:
    team.llm.add(
        json.dumps(PLAN),
        turn(
            ("delete_everything", {}),
            ("write_file", {"path": "a.txt"}),
            ("write_file", {"path": "../outside.txt", "content": "x"}),
            ("write_file", {"path": "/tmp/abs.txt", "content": "x"}),
            ("run_command", {"command": "sleep 30"}),
            ("fetch_url", {"url": "http://127.0.0.1:9/"}),
        ),
        "this is not JSON at all",  # one unusable reply: repaired...
        turn(("write_file", {"path": "ok.txt", "content": "fine\n"}), done=True),
        json.dumps(DONE),
    )
    shown: list[str] = []
    result = await team.user.call(
        Address.role("generic"), Command("do", "exercise the tools", args={"yolo": True}), session_id="s",
        on_status=lambda status: shown.append(status.message),
    )  # fmt: skip
    assert isinstance(result, Result)
    results = evidence(team.llm, 2)
    assert "[1] delete_everything: ERROR: there is no tool 'delete_everything'" in results
    assert "[2] write_file: ERROR: bad arguments for 'write_file': content: Field required" in results
    assert "[3] write_file: ERROR: '..' is not allowed" in results
    assert "[4] write_file: ERROR: absolute paths are not allowed" in results
    assert "[5] run_command: ERROR: timed out after 1s" in results
    assert "[6] fetch_url: ERROR: tool 'fetch_url' needs capability 'net.http'" in results
    assert result.ok, result.output
    assert (team.root / "ok.txt").read_text() == "fine\n"
    assert not (tmp_path / "outside.txt").exists()
    assert "tests: not run" in result.output  # no project file: said so, not claimed as passed
    # the person watching sees why each call failed, not only that it did
    assert "error: delete_everything: there is no tool 'delete_everything' (tools: append_file," in "\n".join(shown)
    assert "error: write_file path='../outside.txt' content=...: '..' is not allowed" in "\n".join(shown)
    assert "ok: write_file path='ok.txt' content=..." in shown


async def test_without_a_person_or_yolo_nothing_is_asked_of_the_model(team: Team) -> None:
    with pytest.raises(InvalidInputError, match="refusing to act"):
        await team.do("change things")
    assert team.llm.calls == []


async def test_the_plan_and_unplanned_commands_go_to_the_approver(team: Team) -> None:
    asked: list[str] = []

    async def approver(question: str) -> bool:
        asked.append(question)
        return "Plan:" in question  # the plan yes, anything else no

    team.agent.approver = approver
    team.llm.add(
        json.dumps(PLAN),
        turn(("run_command", {"command": "echo planned"}), ("run_command", {"command": "touch sneaky"}), done=True),
        turn(done=True),  # a call of that turn was refused, so its "done" was not taken: asked again, it stops
        json.dumps({"verdict": "give_up", "reasons": "a command was refused"}),
    )
    result = await team.do("run things")
    assert "$ echo planned" in asked[0]
    assert asked[1].endswith("$ touch sneaky")
    assert len(asked) == 2  # the planned command was not asked about again
    assert "did not approve" in evidence(team.llm, 2)
    assert not (team.root / "sneaky").exists()
    assert not result.ok
    assert "result: NOT DONE" in result.output


async def test_a_refused_plan_changes_nothing(team: Team) -> None:
    async def no(question: str) -> bool:
        return False

    team.agent.approver = no
    team.llm.add(json.dumps(PLAN))
    result = await team.do("run things")
    assert not result.ok
    assert "not approved; nothing was changed" in result.output
    assert team.llm.remaining == 0


async def test_an_agent_lacking_a_capability_is_refused_even_if_the_model_insists(tmp_path: Path) -> None:
    class ReadOnlyGPT(GenericGPT):
        capabilities = frozenset({"llm.chat", "fs.read"})

    write = turn(("write_file", {"path": "x.txt", "content": "x"}), done=True)
    # it insists, is refused, claims done (not taken: the call failed), stops; nothing changed, so
    # it is asked again, and insists and claims done again
    stop = turn(done=True)
    llm = ScriptedLLM([json.dumps(PLAN), write, stop, json.dumps(DONE), write, stop, json.dumps(DONE)])
    hub = InMemoryHub()
    ws = Workspace(tmp_path / "ws")
    agent = ReadOnlyGPT(llm, hub.connect("generic"), workspace=ws, settings=load_settings(data_dir=tmp_path / "d"))
    serving = asyncio.create_task(agent.serve())
    user = hub.connect("user", agent_id="user")
    result = await user.call(Address.role("generic"), Command("do", "write the file x.txt", args={"yolo": True}))
    assert isinstance(result, Result)
    assert not result.ok  # whatever the model says: nothing was written
    assert "needs capability 'fs.write'" in evidence(llm, 2)
    assert "write_file" not in llm.calls[0].prompt.split("Tools:")[1]  # never offered
    assert not (ws.root / "x.txt").exists()
    await agent.bus.close()
    await serving


async def test_cancelling_stops_acting_cleanly(team: Team) -> None:
    team.agent.settings.act_command_seconds = 60
    team.llm.add(json.dumps(PLAN), turn(("run_command", {"command": "sleep 50"})))
    planned = asyncio.Event()

    def seen(status: Status) -> None:
        if status.message.startswith("Plan:"):
            planned.set()

    request = asyncio.create_task(
        team.user.call(Address.role("generic"), Command("do", "hang", args={"yolo": True}), session_id="s",
                       on_status=seen)
    )  # fmt: skip
    await asyncio.wait_for(planned.wait(), 30)
    stopped = await team.user.call(Address.role("generic"), Command("terminate"), session_id="s")
    assert isinstance(stopped, Result)
    assert stopped.data["stopped"] == 1
    with pytest.raises(WorkCancelledError):
        await request


def test_the_turn_guide_admits_only_real_tools_with_their_own_arguments() -> None:

    from autogpt.agents.acting import turn_guide
    from autogpt.tools.builtin_tools import builtin_tools

    tools = [t for t in builtin_tools() if t.name in ("write_file", "patch_file")]
    first = turn_guide(tools, first=True)
    later = turn_guide(tools, first=False)
    patch = {"tool": "patch_file", "args": {"path": "a.py", "patches": [{"old": "x", "new": "y"}]}}
    good = {"thought": "edit", "calls": [{"tool": "write_file", "args": {"path": "a", "content": "b"}}, patch]}
    jsonschema.validate({**good, "done": False}, first)
    for bad in (
        [{"tool": "delete_everything", "args": {}}],  # no such tool
        [{"tool": "write_file", "args": {"path": "a"}}],  # its content is missing
        [{"tool": "patch_file", "args": {"path": "a", "patches": [{"old": "x"}]}}],  # a nested definition applies
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"thought": "", "calls": bad, "done": False}, first)
    with pytest.raises(jsonschema.ValidationError, match=r"should be non-empty|is too short"):
        jsonschema.validate({"thought": "", "calls": [], "done": True}, first)  # the first turn must act
    jsonschema.validate({"thought": "", "calls": [], "done": True}, later)


async def test_the_model_is_guided_to_the_tools_it_has(team: Team) -> None:
    team.llm.add(
        json.dumps(PLAN),
        turn(("write_file", {"path": "ok.txt", "content": "fine\n"})),
        turn(done=True),
        json.dumps(DONE),
    )
    await team.do("write ok.txt", yolo=True)
    plan, first, later = (team.llm.calls[i].options.json_schema for i in range(3))
    assert plan is not None
    assert "calls" not in plan["properties"]
    # the plan is bounded: a few short steps, and tools only by their names
    assert plan["properties"]["steps"]["maxItems"] == 6
    assert plan["properties"]["steps"]["items"]["maxLength"] == 160
    assert "write_file" in plan["properties"]["tools"]["items"]["enum"]
    jsonschema.validate(PLAN, plan)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**PLAN, "tools": ["from fastapi import FastAPI"]}, plan)
    assert first is not None
    assert later is not None
    names = {v["properties"]["tool"]["const"] for v in first["properties"]["calls"]["items"]["anyOf"]}
    unfetching = set() if team.agent.settings.allow_fetch else {"fetch_url"}
    assert names == set(team.agent.tools) - {"mcp"} - unfetching
    assert first["properties"]["calls"]["minItems"] == 1
    assert "minItems" not in later["properties"]["calls"]
    assert first["properties"]["calls"]["maxItems"] == later["properties"]["calls"]["maxItems"] == 3
    # offered in the order a change uses them, not alphabetically (a small model calls them in turn)
    order = [v["properties"]["tool"]["const"] for v in first["properties"]["calls"]["items"]["anyOf"]]
    assert order[:4] == ["read_file", "write_file", "append_file", "patch_file"]
    assert order.index("commit") > order.index("run_command") > order.index("patch_file")


async def test_each_turn_is_asked_for_the_next_step_of_the_plan(team: Team) -> None:
    team.llm.add(
        json.dumps(TWO_STEPS),
        turn(("write_file", {"path": "a.txt", "content": "a\n"})),
        turn(("write_file", {"path": "b.txt", "content": "b\n"})),
        turn(done=True),
        json.dumps(DONE),
    )
    result = await team.do("write a.txt and b.txt", yolo=True)
    assert result.ok, result.output
    asked = [team.llm.calls[i].messages[-1].content for i in range(1, 4)]
    assert asked[0].endswith("Now step 1 of 2: write a.txt\nReply with the tool calls for this step only; "
                             "set done once the whole change is made.")  # fmt: skip
    assert "[1] write_file: " in asked[1]
    assert "Now step 2 of 2: write b.txt" in asked[1]
    assert "Every step of the plan has had its turn" in asked[2]


# --- what the plan is made from ----------------------------------------------------------------

PROJECT = {
    "pyproject.toml": '[project]\nname = "notes"\ndependencies = ["fastapi"]\n',
    "app/__init__.py": "",
    "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    "app/models.py": "class Note: ...\n",
    "tests/test_notes.py": "from app.main import app\n",
    "tests/test_users.py": "from app.main import app\n",
    "docs/notes.md": "# notes\n",
    "static/logo.png": "\x89PNG",
}


def test_the_plan_sees_the_manifest_the_entry_point_and_one_test_to_copy() -> None:
    shown = excerpts(list(PROJECT), PROJECT.__getitem__, "add a /health route and a test for it")
    assert [line[4:] for line in shown.splitlines() if line.startswith("--- ")] == [
        "pyproject.toml", "app/main.py", "tests/test_notes.py",
    ]  # fmt: skip
    assert 'dependencies = ["fastapi"]' in shown
    assert "app = FastAPI()" in shown


def test_a_file_the_task_names_is_shown_before_the_entry_point() -> None:
    shown = excerpts(list(PROJECT), PROJECT.__getitem__, "give app/models.py a created_at field")
    assert [line[4:] for line in shown.splitlines() if line.startswith("--- ")][:3] == [
        "pyproject.toml", "app/models.py", "app/main.py",
    ]  # fmt: skip


def test_excerpts_keep_to_their_budget_and_skip_what_cannot_be_read() -> None:
    big = {"pyproject.toml": "x" * 50_000, "app/main.py": "y" * 50_000}

    def read(path: str) -> str:
        if path == "tests/test_notes.py":
            raise InvalidInputError("not a text file")
        return big.get(path, "")

    shown = excerpts([*big, "tests/test_notes.py"], read, "add a route", budget=3000)
    assert len(shown) < 3300
    assert "more characters: read_file for the rest" in shown
    assert "tests/test_notes.py" not in shown
    assert excerpts([], read, "anything") == ""


async def test_done_after_the_first_of_several_steps_is_asked_for_the_next_step(team: Team) -> None:
    team.llm.add(
        json.dumps(TWO_STEPS),
        turn(("write_file", {"path": "a.txt", "content": "a\n"}), done=True),  # one step in, "done"
        turn(("write_file", {"path": "b.txt", "content": "b\n"}), done=True),
        json.dumps(DONE),
    )
    result = await team.do("write a.txt and b.txt", yolo=True)
    assert result.ok, result.output
    assert (team.root / "b.txt").read_text() == "b\n"
    assert "Now step 2 of 2: write b.txt" in team.llm.calls[2].messages[-1].content


async def test_code_spilt_into_the_plan_is_not_shown_as_steps(team: Team) -> None:
    """A small model put a code block in its plan: each line came back as a "step", and code as
    "tools". The plan shown for approval, and walked step by step, keeps the prose."""
    asked: list[str] = []

    async def approver(question: str) -> bool:
        asked.append(question)
        return True

    team.agent.approver = approver
    plan = {
        "summary": "add a route",
        "steps": ["append the route to app/main.py:", "```python", "from fastapi import FastAPI",
                  "@app.get('/health')", "def health():", "    return {'status': 'ok'}", "```",
                  "write tests/test_health.py with a test of GET /health"],
        "commands": ["append_file app/main.py", "```python", "from fastapi import FastAPI"],
        "tools": ["append_file", "from fastapi import FastAPI", "read_file app/main.py"],
    }  # fmt: skip
    team.llm.add(
        json.dumps(plan),
        turn(("append_file", {"path": "app.py", "content": "x = 1\n"})),
        turn(("write_file", {"path": "test_x.py", "content": "def test_x():\n    pass\n"}), done=True),
        json.dumps(DONE),
    )
    await team.do("add a route", yolo=False)
    assert asked[0] == (
        "Plan: add a route\n  1. append the route to app/main.py:\n"
        "  2. write tests/test_health.py with a test of GET /health\nCommands: none\nOther tools: append_file"
    )
    assert "Now step 2 of 2: write tests/test_health.py" in team.llm.calls[2].messages[-1].content


async def test_done_in_a_turn_whose_call_failed_is_asked_again(team: Team) -> None:
    team.llm.add(
        json.dumps(PLAN),
        turn(("write_file", {"path": "../outside.txt", "content": "x"}), done=True),  # refused, yet "done"
        turn(("write_file", {"path": "ok.txt", "content": "fine\n"}), done=True),
        json.dumps(DONE),
    )
    result = await team.do("write ok.txt", yolo=True)
    assert result.ok, result.output
    assert (team.root / "ok.txt").read_text() == "fine\n"
    assert "ERROR: '..' is not allowed" in team.llm.calls[2].messages[-1].content


async def test_a_plan_that_leaves_out_the_asked_for_test_is_asked_again_then_given_the_step(team: Team) -> None:
    """The embedded model planned "add a /health route and a test for it" as one step, the route."""
    asked: list[str] = []

    async def approver(question: str) -> bool:
        asked.append(question)
        return True

    team.agent.approver = approver
    (team.root / "tests").mkdir()
    (team.root / "tests" / "test_notes.py").write_text("def test_notes():\n    pass\n")
    route_only = {"summary": "add the route", "steps": ["append the route to app.py"], "commands": [], "tools": []}
    team.llm.add(
        json.dumps(route_only),
        json.dumps(route_only),  # asked again with what it leaves out: the same plan
        turn(("write_file", {"path": "app.py", "content": "ROUTE = '/health'\n"})),
        turn(("write_file", {"path": "tests/test_health.py", "content": "def test_health():\n    pass\n"}), done=True),
        json.dumps(DONE),
    )
    result = await team.do("add a /health route and a test for it", yolo=False)
    assert "leaves out part of the task: the task asks for a test, and no step adds one" in evidence(team.llm, 1)
    assert asked[0].splitlines()[1:3] == [
        "  1. append the route to app.py",
        "  2. write_file tests/test_health.py: a new test file for this change, with the imports and setup "
        "the project's other tests use",
    ]
    assert "Now step 2 of 2: write_file tests/test_health.py" in team.llm.calls[3].messages[-1].content
    assert result.ok, result.output


async def test_a_plan_with_a_test_step_is_taken_as_it_is(team: Team) -> None:
    with_test = {"summary": "route and test", "steps": ["add the route", "add its test"], "commands": [], "tools": []}
    team.llm.add(
        json.dumps(with_test),
        turn(("write_file", {"path": "app.py", "content": "x = 1\n"}),
             ("write_file", {"path": "test_app.py", "content": "def test_x():\n    pass\n"}), done=True),
        json.dumps(DONE),
    )  # fmt: skip
    result = await team.do("add a route and a test for it", yolo=True)
    assert "leaves out" not in evidence(team.llm, 1)  # the second call is the first turn, not a re-plan
    assert result.ok, result.output


async def test_a_failed_call_sent_again_unchanged_is_not_run_until_something_changes(team: Team) -> None:
    """The embedded model sent one patch whose old text the file lacks three times in a row."""
    (team.root / "a.py").write_text("x = 1\n")
    bad = ("patch_file", {"path": "a.py", "patches": [{"old": "x = 2", "new": "x = 3"}]})
    team.llm.add(
        json.dumps(TWO_STEPS),
        turn(bad),
        turn(bad),  # nothing changed since: not run again, said so
        turn(("write_file", {"path": "a.py", "content": "x = 2\n"}), bad, done=True),  # now it may succeed
        json.dumps(DONE),
    )
    await team.do("fix a.py", yolo=True)
    assert "[1] patch_file: ERROR: patch 1 of a.py: 'old' occurs 0 times" in evidence(team.llm, 2)
    assert (
        "[1] patch_file: ERROR: this exact call failed already, and nothing has changed since (patch 1 of a.py: "
        "'old' occurs 0 times" in evidence(team.llm, 3)
    )
    assert "[2] patch_file: patched a.py" in evidence(team.llm, 4)
    assert (team.root / "a.py").read_text() == "x = 3\n"


async def test_a_read_sent_again_unchanged_is_not_run_and_a_run_of_them_stops_the_task(team: Team) -> None:
    """The 0.5B read tests/test_notes.py eight times in a row and changed nothing."""
    (team.root / "a.py").write_text("x = 1\n")
    read = ("read_file", {"path": "a.py"})
    team.llm.add(json.dumps(TWO_STEPS), turn(read), turn(read), turn(read), turn(read), turn(read), turn(read))
    result = await team.do("change a.py so x is 2", yolo=True)
    assert "[1] read_file: x = 1" in evidence(team.llm, 2)
    assert "[1] read_file: ERROR: read already, and nothing has changed since" in evidence(team.llm, 3)
    assert not result.ok
    assert result.data["stopped"] == "stuck: 4 calls in a row repeated what changed nothing (read_file path='a.py')"
    assert len(team.llm.calls) == 6  # the plan and five turns: the sixth turn was never asked for
    assert "result: NOT DONE" in result.output


async def test_a_read_is_run_again_once_something_changed(team: Team) -> None:
    (team.root / "a.py").write_text("x = 1\n")
    read = ("read_file", {"path": "a.py"})
    team.llm.add(
        json.dumps(TWO_STEPS),
        turn(read),
        turn(("write_file", {"path": "a.py", "content": "x = 2\n"}), read, done=True),
        json.dumps(DONE),
    )
    await team.do("change a.py so x is 2", yolo=True)
    assert "[2] read_file: x = 2" in evidence(team.llm, 3)


def test_file_names_listed_as_commands_are_not_shown_as_commands() -> None:
    plan = ActPlan(
        summary="s", steps=["add a route"], tools=[],
        commands=["app/main.py", "pyproject.toml", "./run.sh", "python -m pytest -q", "make test"],
    )  # fmt: skip
    assert tidied(plan, ["read_file"]).commands == ["./run.sh", "python -m pytest -q", "make test"]
