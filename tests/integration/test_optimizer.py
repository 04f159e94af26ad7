"""OptimizerGPT on a real small FastAPI project: its tests and acceptance examples run in the
Sandbox before and after each change, with the scripted model proposing the change."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fakes.servers import TODOS_SERVER
from test_build import ROUTES

from autogpt.agents.git import GitGPT
from autogpt.agents.optimizer import OptimizerGPT
from autogpt.cli.runtime import Standalone
from autogpt.config import load_settings
from autogpt.errors import InvalidInputError, PathOutsideWorkspaceError
from autogpt.iac.envelope import Command, Result
from autogpt.llm.doubles import ScriptedLLM
from autogpt.tools.git import Repo

TESTS = """from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_create_then_list() -> None:
    created = client.post("/todos", json={"title": "milk"})
    assert created.status_code == 201
    assert created.json()["title"] == "milk"
    assert {"id": 1, "title": "milk"} in client.get("/todos").json()
"""
ACCEPTANCE = {
    "examples": [
        {"method": "POST", "path": "/todos", "body": {"title": "milk"}, "status": 201,
         "response": {"title": "milk"}, "match": "subset"},
        {"method": "GET", "path": "/todos", "status": 200, "response": {"title": "milk"}, "match": "contains"},
    ]
}  # fmt: skip
CONTRACT = {"name": "todo-api", "routes": ROUTES}  # GET /todos/{id} has no example: it is probed
STORE = '''"""The todos, kept in memory for as long as the server runs."""

todos: dict[int, dict[str, object]] = {}


def add(title: str) -> dict[str, object]:
    """Store a new todo under the next id and return it."""
    i = len(todos) + 1
    todos[i] = {"id": i, "title": title}
    return todos[i]
'''
MAIN_SPLIT = '''"""The todo API's routes; the data lives in app.store."""

from fastapi import FastAPI, HTTPException

from app.store import add, todos

app = FastAPI()


@app.post("/todos", status_code=201)
def create(body: dict) -> dict[str, object]:
    return add(body.get("title", ""))


@app.get("/todos")
def list_todos() -> list[dict[str, object]]:
    return list(todos.values())


@app.get("/todos/{id}")
def one(id: int) -> dict[str, object]:
    if id not in todos:
        raise HTTPException(404)
    return todos[id]
'''
GOOD_SPLIT = {
    "summary": "move the store into app/store.py and add type hints and docstrings",
    "files": [{"path": "app/store.py", "content": STORE}, {"path": "app/main.py", "content": MAIN_SPLIT}],
    "remove": [],
}
# Looks like a refactor, but the list comes back wrapped: the tests and one example see it.
BAD_SPLIT = {
    "summary": "move the store into a package and tidy the list route",
    "files": [
        {"path": "app/data/store.py", "content": STORE},
        {"path": "app/main.py", "content": MAIN_SPLIT.replace("app.store", "app.data.store").replace(
            "return list(todos.values())", 'return {"items": list(todos.values())}')},  # type: ignore[dict-item]
    ],
    "remove": ["app/__init__.py"],
}  # fmt: skip


def make_project(root: Path, server: str = TODOS_SERVER) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(server)
    (root / "tests" / "test_api.py").write_text(TESTS)
    (root / "requirements.txt").write_text("fastapi\nuvicorn\n")
    (root / "acceptance.json").write_text(json.dumps(ACCEPTANCE, indent=2))
    (root / "contract.json").write_text(json.dumps(CONTRACT, indent=2))
    return root


def fingerprint(root: Path) -> dict[str, str]:
    """sha256 of every project file (not bytecode caches or the Sandbox's own folders)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts)
    }


def folders(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_dir() and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts)
    }


def history(root: Path, data_dir: Path) -> list[str]:
    """``author|subject`` of each commit, newest first."""
    env = Repo(root, data_dir=data_dir).git_env()
    out = subprocess.run(["git", "log", "--format=%an|%s"], cwd=root, capture_output=True, text=True, env=env)
    return out.stdout.splitlines()


class Team:
    def __init__(self, root: Path, tmp_path: Path, replies: list[str]) -> None:
        self.root = root
        self.settings = load_settings(workspace=root, cache_dir=tmp_path / "cache", data_dir=tmp_path / "data")
        self.llm = ScriptedLLM(replies)
        self.standalone = Standalone(self.settings, OptimizerGPT, self.llm, helpers=(GitGPT,), memory=False)
        self.seen: list[str] = []

    async def ask(self, action: str, text: str = "") -> Result:
        return await self.standalone.ask(Command(action, text), on_status=lambda s: self.seen.append(s.message))


@contextlib.asynccontextmanager
async def started(tmp_path: Path, replies: list[object], server: str = TODOS_SERVER) -> AsyncIterator[Team]:
    """OptimizerGPT and GitGPT on a fresh project, with ``replies`` as the model's."""
    made = Team(make_project(tmp_path / "proj", server), tmp_path, [json.dumps(r) for r in replies])
    await made.standalone.start()
    try:
        yield made
    finally:
        await made.standalone.stop()


async def test_a_refactor_that_keeps_every_check_is_kept_and_committed(tmp_path: Path) -> None:
    async with started(tmp_path, [GOOD_SPLIT]) as team:
        result = await team.ask("run", "split the store out of app/main.py")
    assert result.ok, result.output
    assert result.output.startswith("KEPT: move the store")
    assert (team.root / "app" / "store.py").read_text() == STORE
    assert (team.root / "app" / "main.py").read_text() == MAIN_SPLIT
    names = [row["name"] for row in result.data["after"]]
    assert names == ["compile", "tests", "server starts", "acceptance: POST /todos", "acceptance: GET /todos",
                     "contract: GET /todos/1"]  # fmt: skip
    assert all(row["ok"] for row in result.data["after"])
    assert result.data["commit"]["by"] == "GitGPT"
    assert history(team.root, team.settings.data_dir) == [
        "OptimizerGPT|optimizer: move the store into app/store.py and add type hints and docstrings"
    ]
    prompt = team.llm.calls[0].prompt
    assert "split the store out of app/main.py" in prompt
    assert "--- tests/test_api.py" in prompt.split("never change them")[1]  # shown as fixed, not editable


async def test_a_refactor_that_breaks_behaviour_is_rolled_back_byte_for_byte(tmp_path: Path) -> None:
    async with started(tmp_path, [BAD_SPLIT]) as team:
        before, dirs = fingerprint(team.root), folders(team.root)
        result = await team.ask("run", "tidy the routes")
    assert not result.ok
    assert result.output.startswith("ROLLED BACK: move the store into a package")
    assert fingerprint(team.root) == before  # app/__init__.py is back, app/data/store.py is gone
    assert folders(team.root) == dirs  # and so is the folder the change made
    assert result.data["failed"] == ["tests", "acceptance: GET /todos"]
    assert "FAILED tests/test_api.py::test_create_then_list" in result.data["reasons"]["tests"]
    assert "status 500, expected 200" in result.data["reasons"]["acceptance: GET /todos"]  # the new return type
    assert "FAIL acceptance: GET /todos: status 500" in result.output
    assert history(team.root, team.settings.data_dir) == []  # nothing was committed


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("../escape.py", PathOutsideWorkspaceError, "'..' is not allowed in workspace paths"),
        ("tests/test_api.py", InvalidInputError, "tests, acceptance.json and contract.json judge the change"),
    ],
)
async def test_a_proposal_outside_what_a_change_may_touch_is_refused_and_nothing_changes(
    tmp_path: Path, path: str, error: type[Exception], message: str
) -> None:
    proposal = {**GOOD_SPLIT, "files": [*GOOD_SPLIT["files"], {"path": path, "content": "x = 1\n"}]}  # type: ignore[list-item]
    async with started(tmp_path, [proposal]) as made:
        before = fingerprint(made.root)
        with pytest.raises(error, match=message):
            await made.ask("run", "split it")
    assert fingerprint(made.root) == before  # not even the valid files of the proposal were written
    assert not (tmp_path / "escape.py").exists()


async def test_a_project_that_already_fails_is_refused_before_the_model_is_asked(tmp_path: Path) -> None:
    broken = TODOS_SERVER.replace("return list(todos.values())", "return []")
    async with started(tmp_path, [GOOD_SPLIT], broken) as made:
        before = fingerprint(made.root)
        with pytest.raises(InvalidInputError, match=r"fails 2 of 6 checks before any change") as caught:
            await made.ask("run", "")
    assert "FAIL acceptance: GET /todos" in str(caught.value)
    assert made.llm.calls == []
    assert fingerprint(made.root) == before


async def test_tidy_changes_whitespace_only_and_keeps_it_when_checks_pass(tmp_path: Path) -> None:
    messy = TODOS_SERVER.replace("app = FastAPI()\n", "app = FastAPI()   \n\n\n\n\n") + "\n\n"
    async with started(tmp_path, [], messy) as made:
        result = await made.ask("tidy")
    assert result.ok, result.output
    tidied = TODOS_SERVER.replace("app = FastAPI()\n", "app = FastAPI()\n\n\n")  # at most two blank lines
    assert (made.root / "app" / "main.py").read_text() == tidied
    assert result.data["changed"] == ["app/main.py"]
    assert history(made.root, made.settings.data_dir)[0].startswith("OptimizerGPT|optimizer: tidy whitespace")
    assert made.llm.calls == []


def test_autogpt_opt_keeps_a_refactor_end_to_end(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "OPENAI_", "ANTHROPIC_"))}
    env |= {
        "AUTOGPT_PROVIDER": "scripted",
        "AUTOGPT_SCRIPT": json.dumps([json.dumps(GOOD_SPLIT)]),
        "AUTOGPT_DATA_DIR": str(tmp_path / "data"),
        "AUTOGPT_CACHE_DIR": str(tmp_path / "cache"),
        "AUTOGPT_EMBEDDER": "hash",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "autogpt", "--workspace", str(root), "opt"],
        input="split the store out of app/main.py\n", capture_output=True, text=True, env=env, timeout=170,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "KEPT: move the store into app/store.py" in proc.stdout
    assert "checks before: 6/6 pass; after: 6/6 pass" in proc.stdout
    assert (root / "app" / "store.py").read_text() == STORE
    assert history(root, tmp_path / "data")[0].startswith("OptimizerGPT|optimizer: move the store")


async def test_optimizer_run_over_the_net_reaches_the_agent(tmp_path: Path) -> None:
    """``autogpt --net --agent optimizer`` serves the role; ``/optimizer run`` from a console,
    through a real orchgpt over mutual TLS, keeps the change (no GitGPT connected: committed there)."""
    from test_net_cli import Deployment

    from orchgpt.pki import make_test_pki

    root = make_project(tmp_path / "proj")
    dep = Deployment(make_test_pki(tmp_path / "certs", {"opt1": ["optimizer"], "alice": ["user"]}), tmp_path)
    try:
        await dep.orchestrator()
        await dep.agent("opt1", "optimizer", [json.dumps(GOOD_SPLIT)], workspace=root)
        code, out, err = await dep.console('/optimizer run "split the store out of app/main.py"', "/agents")
        assert code == 0, err + out
        assert "KEPT: move the store into app/store.py" in out
        assert "no GitGPT connected: committed here" in out
        assert (root / "app" / "store.py").read_text() == STORE
        data_dir = Path(os.environ["XDG_DATA_HOME"]) / "autogpt"
        assert history(root, data_dir) == [
            "OptimizerGPT|optimizer: move the store into app/store.py and add type hints and docstrings"
        ]
    finally:
        for proc in reversed(dep.procs):
            if proc.proc.returncode is None:
                proc.proc.kill()
                await proc.proc.wait()
