"""Running a task graph: every task whose dependencies succeeded starts at once.

Tasks run concurrently in one ``TaskGroup``; a task whose dependency failed is skipped,
not run on bad input. Each state change is reported through ``on_change`` so a live
view (or a log) can follow along. Failures inside a task are results, not exceptions:
the run always finishes with a complete account of what happened.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from autogpt.errors import AutoGPTError
from autogpt.iac.envelope import Result
from autogpt.mind.planner import PlannedTask, TaskGraph


class TaskState(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class Outcome:
    task: PlannedTask
    state: TaskState = TaskState.PENDING
    result: Result | None = None
    error: str = ""
    attempts: int = 0
    started: float = 0.0
    finished: float = 0.0

    @property
    def seconds(self) -> float:
        end = self.finished or (time.monotonic() if self.started else 0.0)
        return max(end - self.started, 0.0) if self.started else 0.0


Execute = Callable[[PlannedTask, dict[str, Result]], Awaitable[Result]]
OnChange = Callable[[Outcome], None]


@dataclass
class GraphRun:
    graph: TaskGraph
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(o.state is TaskState.DONE for o in self.outcomes.values())


async def run_graph(
    graph: TaskGraph,
    execute: Execute,
    *,
    max_parallel: int = 4,
    on_change: OnChange | None = None,
) -> GraphRun:
    """Run ``graph`` to completion; ``execute(task, results_of_dependencies)`` does one task."""
    run = GraphRun(graph, {t.id: Outcome(t) for t in graph.tasks})
    notify = on_change or (lambda _o: None)
    slots = asyncio.Semaphore(max_parallel)
    changed = asyncio.Event()

    async def one(outcome: Outcome) -> None:
        async with slots:
            outcome.state = TaskState.RUNNING
            outcome.started = time.monotonic()
            outcome.attempts += 1
            notify(outcome)
            deps = {d: run.outcomes[d].result for d in outcome.task.depends_on}
            try:
                result = await execute(outcome.task, {k: v for k, v in deps.items() if v is not None})
            except AutoGPTError as exc:
                outcome.state, outcome.error = TaskState.FAILED, str(exc)
            else:
                outcome.result = result
                outcome.state = TaskState.DONE if result.ok else TaskState.FAILED
                outcome.error = "" if result.ok else (result.output or "the task reported failure")
            outcome.finished = time.monotonic()
            notify(outcome)
            changed.set()

    def schedule(group: asyncio.TaskGroup) -> None:
        """Start what is ready and skip what cannot run, until a pass changes nothing."""
        progress = True
        while progress:
            progress = False
            for outcome in run.outcomes.values():
                if outcome.state is not TaskState.PENDING:
                    continue
                dep_states = [run.outcomes[d].state for d in outcome.task.depends_on]
                if any(s in (TaskState.FAILED, TaskState.SKIPPED) for s in dep_states):
                    outcome.state = TaskState.SKIPPED
                    outcome.error = "a task it depends on did not succeed"
                    notify(outcome)
                    progress = True
                elif all(s is TaskState.DONE for s in dep_states):
                    outcome.state = TaskState.RUNNING  # claimed; `one` reports the real start
                    group.create_task(one(outcome))

    finished = (TaskState.DONE, TaskState.FAILED, TaskState.SKIPPED)
    async with asyncio.TaskGroup() as group:
        while True:
            changed.clear()
            schedule(group)
            if all(o.state in finished for o in run.outcomes.values()):
                break
            await changed.wait()
    return run
