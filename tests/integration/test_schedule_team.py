"""Task entries standalone: the team's task runner (ManagerGPT) reports each task it
finishes, and the scheduler runs what follows it. Scripted models, a real build."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fakes.servers import TODOS_SERVER, fenced

from autogpt.agents.architect import ArchitectGPT
from autogpt.agents.backend import BackendGPT
from autogpt.agents.manager import ManagerGPT
from autogpt.cli.runtime import Standalone
from autogpt.config import load_settings
from autogpt.iac.envelope import Command
from autogpt.llm.doubles import ScriptedLLM
from autogpt.schedule.runner import Scheduler
from autogpt.schedule.store import ScheduleStore

PLAN = {
    "goal": "todos",
    "tasks": [
        {"id": "t1", "role": "architect", "description": "design", "depends_on": []},
        {"id": "t2", "role": "backend", "description": "build", "depends_on": ["t1"]},
    ],
}
IDEA = (
    'a todo API: POST /todos with {"title": "milk"} returns 201 and {"title": "milk"}; '
    'GET /todos returns [{"title": "milk"}]; GET /todos/1 returns {"id": 1, "title": "milk"}'
)


async def test_a_finished_build_task_runs_the_entries_that_follow_its_role(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = ScheduleStore(data / "schedule.db")
    ran: list[str] = []

    async def execute(line: str) -> tuple[bool, str]:
        ran.append(line)
        return True, "reviewed"

    scheduler = Scheduler(store, execute, clock=time.time, events=store.events())
    store.add("task", "backend task", "/gen run review the backend", now=time.time())
    store.add("task", "frontend", "/gen run review the page", now=time.time())
    assert await scheduler.tick() == []

    settings = load_settings(workspace=tmp_path / "ws", cache_dir=tmp_path / "cache", data_dir=data)
    team = Standalone(settings, ManagerGPT, ScriptedLLM([json.dumps(PLAN), fenced(TODOS_SERVER)]),
                      helpers=(ArchitectGPT, BackendGPT))  # fmt: skip
    await team.start()
    try:
        result = await team.ask(Command("create", IDEA, "python"))
    finally:
        await team.stop()
    assert result.ok, result.output

    (run,) = await scheduler.tick()  # the backend's task finished; no frontend task ran
    await scheduler.drain()
    assert ran == ["/gen run review the backend"]
    assert store.run(run.id).outcome == "ok"
    assert await scheduler.tick() == []
