"""The team builds a small API with scripted models: real files, a real server started in
the Sandbox, real HTTP probes of every contract route."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fakes.servers import TODOS_SERVER, fenced

from autogpt.agents.architect import ArchitectGPT
from autogpt.agents.backend import BackendGPT
from autogpt.agents.base import Agent
from autogpt.agents.generic import GenericGPT
from autogpt.agents.manager import ManagerGPT
from autogpt.cli.runtime import Standalone
from autogpt.config import load_settings
from autogpt.errors import InvalidInputError
from autogpt.iac.envelope import Command, Result, Status
from autogpt.llm.base import LLM, Message, Options
from autogpt.llm.doubles import FunctionLLM, ScriptedLLM

PLAN = {
    "goal": "todos",
    "tasks": [
        {"id": "t1", "role": "architect", "description": "design", "depends_on": []},
        {"id": "t2", "role": "backend", "description": "build", "depends_on": ["t1"]},
    ],
}
ROUTES = [
    {"method": "POST", "path": "/todos", "summary": "create", "request_example": {"title": "milk"},
     "expected_status": 201, "response_type": "object", "response_keys": ["id", "title"]},
    {"method": "GET", "path": "/todos", "summary": "list", "request_example": None,
     "expected_status": 200, "response_type": "array", "response_keys": ["id", "title"]},
    {"method": "GET", "path": "/todos/{id}", "summary": "one", "request_example": None,
     "expected_status": 200, "response_type": "object", "response_keys": ["id", "title"]},
]  # fmt: skip
DESIGN = {"name": "todo-api", "overview": "Todos in memory.", "components": ["FastAPI app"], "routes": ROUTES}
# An idea that states its examples: the build takes them verbatim, with no model call.
IDEA = (
    'a todo API: POST /todos with {"title": "milk"} returns 201 and {"title": "milk"}; '
    'GET /todos returns [{"title": "milk"}]; GET /todos/1 returns {"id": 1, "title": "milk"}'
)
SAID = IDEA.replace('"', "'")  # the same idea, written to fit in a console line's double quotes
GOOD = fenced(TODOS_SERVER)
BROKEN = GOOD.replace("return list(todos.values())", "return {'items': list(todos.values())}").replace(
    '@app.get("/todos/{id}")', '@app.get("/todo/{id}")'
)


async def build(
    tmp_path: Path,
    llm: LLM,
    idea: str = IDEA,
    language: str = "python",
    helpers: tuple[type[Agent], ...] = (ArchitectGPT, BackendGPT),
    **overrides: Any,
) -> tuple[Result, list[str]]:
    settings = load_settings(workspace=tmp_path / "ws", cache_dir=tmp_path / "cache", **overrides)
    team = Standalone(settings, ManagerGPT, llm, helpers=helpers)
    seen: list[str] = []
    await team.start()
    try:

        def on_status(status: Status) -> None:
            seen.append(status.message)

        result = await team.ask(Command("create", idea, language), on_status=on_status)
    finally:
        await team.stop()
    return result, seen


async def design(tmp_path: Path, llm: LLM, idea: str = "a todo API") -> tuple[Result, list[str]]:
    """ArchitectGPT alone, with no acceptance examples: the model designs the API."""
    settings = load_settings(workspace=tmp_path / "ws", cache_dir=tmp_path / "cache")
    team = Standalone(settings, ArchitectGPT, llm)
    seen: list[str] = []
    await team.start()
    try:
        result = await team.ask(Command("create", idea), on_status=lambda s: seen.append(s.message))
    finally:
        await team.stop()
    return result, seen


async def test_the_team_builds_a_server_that_answers_every_route(tmp_path: Path) -> None:
    llm = ScriptedLLM([json.dumps(PLAN), GOOD])
    result, seen = await build(tmp_path, llm)
    ws = tmp_path / "ws"
    assert result.ok, result.output
    assert len(llm.calls) == 2  # the examples were read and the routes follow from them: no model call
    acceptance = json.loads((ws / "acceptance.json").read_text())
    assert [(e["method"], e["path"], e["source"]) for e in acceptance["examples"]] == [
        ("POST", "/todos", "idea"), ("GET", "/todos", "idea"), ("GET", "/todos/1", "idea"),
    ]  # fmt: skip
    verification = json.loads((ws / "verification.json").read_text())
    assert verification["ok"]
    assert [r["sent"] for r in verification["acceptance"]] == ["/todos", "/todos", "/todos/1"]
    assert all(r["ok"] for r in verification["acceptance"])
    contract = json.loads((ws / "contract.json").read_text())
    assert [(r["method"], r["path"]) for r in contract["routes"]] == [
        ("POST", "/todos"), ("GET", "/todos"), ("GET", "/todos/{id}"),
    ]  # fmt: skip
    assert set(json.loads((ws / "openapi.json").read_text())["paths"]) == {"/todos", "/todos/{id}"}
    assert "```mermaid" in (ws / "ARCHITECTURE.md").read_text()
    report = (ws / "REPORT.md").read_text()
    assert report.startswith("**Verdict: PASSED")
    assert "| 3 | `/todos/1` | 2xx with" in report
    assert "Server verified: **yes**" in report
    assert "uvicorn app.main:app --port 8000" in report
    assert any("[t2 backend done]" in line for line in seen)
    assert result.data["tokens"] > 0


async def test_progress_is_typed_and_says_the_same_in_words(tmp_path: Path) -> None:
    """The plan, each task's attempts and the helpers' own news relayed as the task's step."""
    settings = load_settings(workspace=tmp_path / "ws", cache_dir=tmp_path / "cache")
    team = Standalone(settings, ManagerGPT, ScriptedLLM([json.dumps(PLAN), GOOD]), helpers=(ArchitectGPT, BackendGPT))
    statuses: list[Status] = []
    await team.start()
    try:
        result = await team.ask(Command("create", IDEA, "python"), on_status=statuses.append)
    finally:
        await team.stop()
    assert result.ok, result.output
    typed = [(s.message, s.task) for s in statuses if s.task is not None]
    plan = typed[0][1]
    assert plan is not None
    assert [(p.task_id, p.role, p.depends_on) for p in plan.plan] == [
        ("t1", "architect", ()),
        ("t2", "backend", ("t1",)),
    ]
    assert typed[0][0] == "plan: t1=architect, t2=backend<-t1"
    backend = [t for _, t in typed if t is not None and t.task_id == "t2"]
    assert (backend[0].state, backend[0].step, backend[0].attempt) == ("running", "attempt 1: build", 1)
    assert ("running", "writing app/main.py") in [(t.state, t.step) for t in backend]  # the backend's own news
    assert backend[-1].state == "done"
    for message, progress in typed[1:]:
        assert progress is not None
        assert message == f"[{progress.task_id} {progress.role} {progress.state}] {progress.step}"
    assert {"reading the idea's acceptance examples", "planning"} <= {s.message for s in statuses if s.task is None}


async def test_a_response_key_no_request_provides_is_dropped_from_the_contract(tmp_path: Path) -> None:
    """The model asks the list for a 'done' that nobody ever sends: the server could only invent it."""
    asks_more = [{**r, "response_keys": [*r["response_keys"], "done"]} for r in ROUTES]  # type: ignore[list-item]
    result, _ = await design(tmp_path, ScriptedLLM([json.dumps({**DESIGN, "routes": asks_more})]))
    assert result.ok, result.output
    contract = json.loads((tmp_path / "ws/contract.json").read_text())
    assert [r["response_keys"] for r in contract["routes"]] == [["id", "title"]] * 3
    assert "response keys no request provides were dropped (POST /todos: done; GET /todos: done" in result.output


async def test_a_broken_first_draft_is_repaired_by_the_fix_loop(tmp_path: Path) -> None:
    llm = ScriptedLLM([json.dumps(PLAN), BROKEN, GOOD])
    result, _ = await build(tmp_path, llm)
    assert result.ok, result.output
    verification = json.loads((tmp_path / "ws/verification.json").read_text())
    assert verification["fix_rounds"] == 1
    fix_prompt = llm.calls[2].prompt
    assert 'expected it to include [{"title": "milk"}]' in fix_prompt  # the exact evidence went back
    assert "GET /todos/1 (expected 2xx with" in fix_prompt
    assert "status 404" in fix_prompt


async def test_independent_tasks_run_at_the_same_time(tmp_path: Path) -> None:
    plan = {
        "goal": "api and notes",
        "tasks": [
            {"id": "t1", "role": "architect", "description": "design", "depends_on": []},
            {"id": "t2", "role": "generic", "description": "write release notes", "depends_on": []},
            {"id": "t3", "role": "backend", "description": "build", "depends_on": ["t1"]},
        ],
    }
    busy = 0
    peak = 0
    both = asyncio.Event()

    async def overlapping(reply: str) -> str:
        nonlocal busy, peak
        busy += 1
        peak = max(peak, busy)
        if busy == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 10)  # returns only if the other task runs at the same time
        busy -= 1
        return reply

    async def answer(messages: Sequence[Message], options: Options) -> str:
        prompt = messages[-1].content
        if "Team roles" in prompt:
            return json.dumps(plan)
        if "Reply with the whole file" in prompt:
            return await overlapping(GOOD)
        if prompt.startswith("write release notes"):  # GenericGPT adds a note on the language
            return await overlapping("Version 1: a todo API.")
        raise AssertionError(f"unexpected prompt: {prompt[:80]}")

    result, _ = await build(tmp_path, FunctionLLM(answer), helpers=(ArchitectGPT, BackendGPT, GenericGPT))
    assert result.ok, result.output
    assert peak == 2
    assert "| t3 | backend | done | 1 |" in result.output  # overlapped on the first attempt, not on a retry


async def test_a_plan_giving_one_role_two_tasks_is_replanned(tmp_path: Path) -> None:
    twice = {
        **PLAN,
        "tasks": [*PLAN["tasks"], {"id": "t3", "role": "backend", "description": "more", "depends_on": ["t1"]}],
    }
    llm = ScriptedLLM([json.dumps(twice), json.dumps(PLAN), GOOD])
    result, seen = await build(tmp_path, llm)
    assert result.ok, result.output
    assert any("one task per role: backend" in line for line in seen)
    assert result.data["tasks"] == {"t1": "done", "t2": "done"}


async def test_an_unusable_plan_falls_back_and_the_report_says_so(tmp_path: Path) -> None:
    bad_role = {**PLAN, "tasks": [{**PLAN["tasks"][0], "role": "wizard"}]}  # type: ignore[dict-item]
    cycle = {
        "goal": "x",
        "tasks": [
            {"id": "t1", "role": "architect", "description": "a", "depends_on": ["t2"]},
            {"id": "t2", "role": "backend", "description": "b", "depends_on": ["t1"]},
        ],
    }
    llm = ScriptedLLM([json.dumps(bad_role), json.dumps(cycle), GOOD])
    result, seen = await build(tmp_path, llm)
    assert result.ok, result.output
    assert any("re-planning" in line and "wizard" in line for line in seen)
    assert "cycle" in result.data["plan_note"]
    assert "used the standard plan" in (tmp_path / "ws/REPORT.md").read_text()


async def test_the_standard_planner_asks_the_model_for_no_plan(tmp_path: Path) -> None:
    llm = ScriptedLLM([GOOD])  # a plan request would take the code reply and the build would fail
    result, seen = await build(tmp_path, llm, planner="standard")
    assert result.ok, result.output
    assert any("the standard plan for architect, backend (planner=standard)" in line for line in seen)
    assert result.data["tasks"] == {"t1": "done", "t2": "done"}
    assert result.data["plan_note"] == ""


async def test_replies_that_are_not_code_end_in_an_honest_report(tmp_path: Path) -> None:
    prose = "I would write a server with FastAPI, it is a great framework."
    llm = ScriptedLLM([json.dumps(PLAN), prose, prose, prose, prose])
    result, _ = await build(tmp_path, llm)
    assert not result.ok
    report = (tmp_path / "ws/REPORT.md").read_text()
    assert "| t2 | backend | failed | 2 |" in report
    assert "no usable code" in report
    assert "Server verified" not in report
    assert report.startswith("**Verdict: FAILED: the server was not verified")
    assert (tmp_path / "ws/contract.json").exists()  # what was done is kept


@pytest.mark.parametrize(
    ("idea", "language", "message"),
    [("   ", "python", "the idea is empty"), ("a todo API", "cobol", "unknown language 'cobol'")],
)
async def test_bad_input_is_a_typed_error(tmp_path: Path, idea: str, language: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        await build(tmp_path, ScriptedLLM([]), idea, language)


async def test_a_fix_that_changes_nothing_leads_to_a_fresh_draft(tmp_path: Path) -> None:
    llm = ScriptedLLM([json.dumps(PLAN), BROKEN, BROKEN, GOOD])
    result, seen = await build(tmp_path, llm)
    assert result.ok, result.output
    assert any("writing a fresh draft" in line for line in seen)
    assert llm.calls[3].options.temperature == 0.7


async def test_a_design_that_copies_the_example_is_refused(tmp_path: Path) -> None:
    from autogpt.agents.architect_aids import EXAMPLE

    copied = json.dumps(EXAMPLE)
    result, seen = await design(tmp_path, ScriptedLLM([copied, json.dumps(DESIGN)]))
    assert result.ok, result.output
    assert any("copied the example" in line for line in seen)
    assert json.loads((tmp_path / "ws/contract.json").read_text())["name"] == "todo-api"


EXPRESS = """```javascript
const express = require("express");
const app = express();
app.use(express.json());
const todos = new Map();
let nextId = 1;
app.post("/todos", (req, res) => {
  const todo = { id: nextId++, title: req.body.title };
  todos.set(todo.id, todo);
  res.status(201).json(todo);
});
app.get("/todos", (req, res) => res.json([...todos.values()]));
app.get("/todos/:id", (req, res) => {
  const todo = todos.get(Number(req.params.id));
  if (!todo) return res.status(404).json({ detail: "not found" });
  res.json(todo);
});
app.listen(Number(process.env.PORT), "127.0.0.1");
```"""


async def test_javascript_builds_an_express_server_that_answers_every_route(tmp_path: Path) -> None:
    """npm fetches express from the package registry once (allowed for installs); the server runs offline."""
    broken = EXPRESS.replace("res.status(201).json(todo);", "res.status(201).json(todo)\n  }}}")
    llm = ScriptedLLM([json.dumps(PLAN), broken, EXPRESS])
    result, seen = await build(tmp_path, llm, language="javascript")
    assert result.ok, result.output
    ws = tmp_path / "ws"
    assert json.loads((ws / "package.json").read_text())["dependencies"]["express"]
    assert (ws / "server.js").read_text().startswith('const express = require("express");')
    assert any("does not parse" in line for line in seen)  # node --check caught the broken draft
    assert all(r["ok"] for r in json.loads((ws / "verification.json").read_text())["acceptance"])
    assert "PORT=3000 npm start" in (ws / "REPORT.md").read_text()


def git_history(root: Path) -> str:
    import subprocess

    from autogpt.tools.git import Repo

    args = ["git", "log", "--format=%an|%s", "--name-only"]  # git's folder is outside the workspace
    env = Repo(root).git_env()
    return subprocess.run(args, cwd=root, capture_output=True, text=True, check=True, env=env).stdout


async def test_git_history_has_one_commit_per_task_by_its_agent(tmp_path: Path) -> None:
    from autogpt.agents.git import GitGPT

    llm = ScriptedLLM([json.dumps(PLAN), GOOD])
    result, _ = await build(tmp_path, llm, helpers=(ArchitectGPT, BackendGPT, GitGPT))
    assert result.ok, result.output
    log = git_history(tmp_path / "ws")
    commits = [line for line in log.splitlines() if "|" in line]
    assert [c.split("|")[0] for c in commits] == ["BackendGPT", "ArchitectGPT"]
    assert commits[1].startswith("ArchitectGPT|architect: todo-api")
    assert "acceptance.json" in log
    assert "app/main.py" in log
    assert ".venv" not in log
    assert "node_modules" not in log


async def test_a_team_with_a_folder_per_agent_ends_with_the_project_and_its_history(tmp_path: Path) -> None:
    """Each agent in its own folder, as on separate machines: the manager gathers the project,
    the backend gets the contract, GitGPT gets every file it commits."""
    from autogpt.agents.git import GitGPT
    from autogpt.iac.envelope import Address
    from autogpt.iac.memory import InMemoryHub
    from autogpt.tools.workspace import Workspace

    settings = load_settings(cache_dir=tmp_path / "cache")
    hub = InMemoryHub()
    scripts = {"manager": [json.dumps(PLAN)], "architect": [], "backend": [GOOD], "git": []}
    team: list[Agent] = []
    for cls in (ManagerGPT, ArchitectGPT, BackendGPT, GitGPT):
        ws = Workspace(tmp_path / cls.role)
        team.append(cls(ScriptedLLM(scripts[cls.role]), hub.connect(cls.role), workspace=ws, settings=settings))
    manager = team[0]
    assert isinstance(manager, ManagerGPT)
    manager.team_roles = ("architect", "backend", "git")
    user = hub.connect("user")
    async with asyncio.TaskGroup() as tg:
        for agent in team:
            tg.create_task(agent.serve())
        try:
            result = await user.call(Address.role("manager"), Command("create", IDEA, "python"), timeout=None)
        finally:
            for agent in team:
                await agent.bus.close()
    assert result.ok, result.output
    project = {
        "ARCHITECTURE.md",
        "contract.json",
        "acceptance.json",
        "app/main.py",
        "requirements.txt",
        "verification.json",
    }
    for path in project:
        assert (tmp_path / "manager" / path).read_bytes() == (tmp_path / "git" / path).read_bytes(), path
    assert (tmp_path / "backend/contract.json").read_bytes() == (tmp_path / "architect/contract.json").read_bytes()
    log = git_history(tmp_path / "git")
    assert "architect: todo-api" in log
    assert "app/main.py" in log
    assert ".autogpt" not in log
    assert not (tmp_path / "manager/.git").exists()


async def test_a_design_that_stays_a_copy_falls_back_to_the_ideas_main_resource(tmp_path: Path) -> None:
    from autogpt.agents.architect_aids import EXAMPLE

    copied = json.dumps(EXAMPLE)
    fields = [{"name": "id", "example": "1"}, {"name": "title", "example": "buy milk"}]
    resource = json.dumps({"plural": "Todos", "fields": fields})
    llm = ScriptedLLM([copied, copied, resource])
    result, seen = await design(tmp_path, llm)
    assert result.ok, result.output
    assert any("falling back to the standard routes" in line for line in seen)
    contract = json.loads((tmp_path / "ws/contract.json").read_text())
    assert contract["name"] == "todos-api"
    assert [(r["method"], r["path"]) for r in contract["routes"]] == [
        ("POST", "/todos"), ("GET", "/todos"), ("GET", "/todos/{id}"),
    ]  # fmt: skip
    assert contract["routes"][0]["request_example"] == {"title": "buy milk"}
    assert "notes" not in llm.calls[2].prompt  # the small question carries no example to copy
    assert "used the standard routes for todos-api" in result.output


async def test_a_draft_holding_a_worked_examples_routes_is_asked_again(tmp_path: Path) -> None:
    """The worked examples are for other APIs; a draft that copies their routes in beside its
    own (seen: /area, /notes, /links in a pagination server) is refused before it is run."""
    area = '\n\n@app.get("/area")\ndef area(w: str, h: str):\n    return {"area": float(w) * float(h)}\n```'
    copied = GOOD.rstrip().removesuffix("```").rstrip() + "\n" + area
    llm = ScriptedLLM([json.dumps(PLAN), copied, GOOD])
    result, seen = await build(tmp_path, llm)
    assert result.ok, result.output
    assert any("/area come from the examples for other APIs" in line for line in seen), seen
    assert '"/area"' not in (tmp_path / "ws/app/main.py").read_text()
