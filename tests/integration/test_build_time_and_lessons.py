"""A build with a time limit stops starting work when it is spent and fails saying so; a fix
round that repairs the server leaves a lesson that the next build's backend prompt recalls.
Scripted models, a real server in the Sandbox, and the real CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest
from fakes.servers import fenced

from autogpt.agents.architect import ArchitectGPT
from autogpt.agents.backend import BackendGPT
from autogpt.agents.manager import ManagerGPT
from autogpt.cli.runtime import Standalone
from autogpt.config import load_settings
from autogpt.iac.envelope import Address, Command, Result, Task
from autogpt.llm.base import Message, Options
from autogpt.llm.doubles import FunctionLLM
from autogpt.memory.recall import close_stores
from autogpt.mind import repair

IDEA = 'An API that adds two numbers: GET /add?a=2&b=3 returns {"sum": 5}.'
PLAN = {
    "goal": "an API",
    "tasks": [
        {"id": "t1", "role": "architect", "description": "design", "depends_on": []},
        {"id": "t2", "role": "backend", "description": "build", "depends_on": ["t1"]},
    ],
}
RIGHT = fenced("""from fastapi import FastAPI

app = FastAPI()


@app.get("/add")
def add(a: int, b: int):
    return {"sum": a + b}
""")
WRONG = RIGHT.replace('return {"sum": a + b}', 'return {"total": a + b}')


class Coder:
    """The plan when asked to plan; ``drafts`` for the server's first draft, ``fixes`` for a fix."""

    def __init__(self, draft: str, fix: str, on_draft: object = None) -> None:
        self.draft, self.fix = draft, fix
        self.on_draft = on_draft
        self.code_calls: list[Sequence[Message]] = []
        self.llm = FunctionLLM(self.answer)

    def answer(self, messages: Sequence[Message], options: Options) -> str:
        prompt = messages[-1].content
        if "Team roles" in prompt:
            return json.dumps(PLAN)
        if "Return the complete corrected file" in prompt:
            self.code_calls.append(messages)
            return self.fix
        if "Reply with the whole file" in prompt:
            self.code_calls.append(messages)
            if callable(self.on_draft):
                self.on_draft()
            return self.draft
        raise AssertionError(f"unexpected prompt: {prompt[:120]}")


async def ask(tmp_path: Path, coder: Coder, manager: type[ManagerGPT] = ManagerGPT, **settings: object) -> Result:
    settings = {"workspace": tmp_path / "ws", "cache_dir": tmp_path / "cache", **settings}
    team = Standalone(load_settings(**settings), manager, coder.llm, helpers=(ArchitectGPT, BackendGPT))
    await team.start()
    try:
        return await team.ask(Command("create", IDEA, "python", {"scope": "api"}))
    finally:
        await team.stop()


@pytest.mark.parametrize(
    ("time_left", "draft_takes"),
    [(0, 0.0), (50, 100.0)],  # none left; or 50 s left, and the first draft alone takes 100 s
    ids=["none-left", "spent-while-drafting"],
)
async def test_a_backend_with_no_time_left_checks_its_draft_and_starts_no_fix_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, time_left: int, draft_takes: float
) -> None:
    now = [1000.0]
    monkeypatch.setattr(repair, "clock", lambda: now[0])

    def drafting() -> None:
        now[0] += draft_takes

    coder = Coder(WRONG, RIGHT, on_draft=drafting)
    settings = load_settings(workspace=tmp_path / "ws", cache_dir=tmp_path / "cache")
    team = Standalone(settings, BackendGPT, coder.llm, memory=False)
    await team.start()
    try:
        assert team.user is not None
        route = {"method": "GET", "path": "/add", "summary": "adds a and b", "query": {"a": "2", "b": "3"}}
        contract = {"name": "adder", "routes": [route | {"response_keys": ["sum"]}]}
        examples = {
            "examples": [
                {"method": "GET", "path": "/add", "query": {"a": "2", "b": "3"}, "status": 200, "response": {"sum": 5}}
            ]
        }
        task = Task(
            "t2",
            "backend",
            "build",
            input={"contract": contract, "acceptance": examples, "time_left": time_left, "idea": IDEA},
        )
        result = await team.user.call(Address.role("backend"), task, timeout=None)
    finally:
        await team.stop()
    assert not result.ok
    assert "after 0 fix round(s); no further round: the build's time limit was reached" in result.output
    verification = json.loads((tmp_path / "ws/verification.json").read_text())
    assert verification["out_of_time"] is True
    assert verification["fix_rounds"] == 0
    assert len(coder.code_calls) == 1  # the draft, and no fix was asked for


class HandTurnedManager(ManagerGPT):
    """A manager whose clock moves only when the scripted model writes a draft."""

    now: ClassVar[float] = 0.0

    @staticmethod
    def clock() -> float:
        return HandTurnedManager.now


class NoFixBackend(BackendGPT):
    fix_rounds = 0


async def test_a_failed_task_is_not_retried_once_the_time_limit_is_spent(tmp_path: Path) -> None:
    def an_hour_passes() -> None:
        HandTurnedManager.now += 3600

    coder = Coder(WRONG, RIGHT, on_draft=an_hour_passes)
    settings = load_settings(workspace=tmp_path / "ws", cache_dir=tmp_path / "cache", time_limit=600)
    team = Standalone(settings, HandTurnedManager, coder.llm, helpers=(ArchitectGPT, NoFixBackend), memory=False)
    await team.start()
    try:
        result = await team.ask(Command("create", IDEA, "python", {"scope": "api"}))
    finally:
        await team.stop()
    assert not result.ok
    assert len(coder.code_calls) == 1  # the first attempt's draft; the retry never started
    assert result.data["tasks"] == {"t1": "done", "t2": "failed"}
    report = (tmp_path / "ws/REPORT.md").read_text()
    assert report.startswith("**Verdict: FAILED: the build's time limit of 600s was reached (backend)"), report[:300]
    assert "not retried: the build's time limit was reached" in report


def test_cli_time_limit_fails_the_build_with_exit_1_and_says_why(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([json.dumps(PLAN), *[RIGHT] * 8]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "OPENAI_", "ANTHROPIC_"))}
    env |= {"AUTOGPT_SCRIPT": str(script), "AUTOGPT_DATA_DIR": str(tmp_path / "data")}
    env |= {"AUTOGPT_CACHE_DIR": str(tmp_path / "cache")}
    argv = [sys.executable, "-m", "autogpt", "build", IDEA, "--api-only", "--provider", "scripted"]
    argv += ["--workspace", str(tmp_path / "ws"), "--time-limit", "0.001"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=110, check=False)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.startswith("**Verdict: FAILED: the build's time limit of 0.001s was reached (architect)")
    assert "not started: the build's time limit was reached" in proc.stdout
    assert "Traceback" not in proc.stderr


async def test_a_fix_that_held_becomes_a_lesson_the_next_builds_backend_is_shown(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Coder(WRONG, RIGHT)
    result = await ask(tmp_path / "one", first, data_dir=data, embedder="hash")
    assert result.ok, result.output[:600]
    close_stores()
    second = Coder(RIGHT, RIGHT)
    result = await ask(tmp_path / "two", second, data_dir=data, embedder="hash")
    assert result.ok, result.output[:600]
    close_stores()
    system = second.code_calls[0][0].content
    assert f"lesson: When asked to {IDEA[:60]}" in system, system[-1500:]
    assert "the first draft failed with 'GET /add?a=2&b=3" in system
    assert 'the fix that held added `return {"sum": a + b}`' in system
    # the first build's own prompts had nothing to recall
    assert "lesson:" not in first.code_calls[0][0].content
