from __future__ import annotations

import asyncio
import time

import pytest

from autogpt.errors import ProviderUnavailableError
from autogpt.iac.envelope import Result
from autogpt.mind.planner import PlanError, PlannedTask, TaskGraph, find_cycle, layers, validate_graph
from autogpt.mind.scheduler import TaskState, run_graph

ROLES = ("architect", "backend", "frontend", "designer", "git")


def graph(*tasks: tuple[str, str, list[str]]) -> TaskGraph:
    return TaskGraph(
        goal="g", tasks=[PlannedTask(id=i, role=r, description=f"do {i}", depends_on=d) for i, r, d in tasks]
    )


def test_valid_graph_passes_and_roles_are_normalised() -> None:
    g = graph(("a", "Architect", []), ("b", "backend ", ["a"]), ("f", "frontend", ["a"]))
    assert validate_graph(g, ROLES) is g
    assert [t.role for t in g.tasks] == ["architect", "backend", "frontend"]
    assert layers(g) == [["a"], ["b", "f"]]


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ((("a", "wizard", []),), "unknown role 'wizard'"),
        ((("a", "backend", []), ("a", "backend", [])), "used twice"),
        ((("a", "backend", ["zz"]),), "unknown task 'zz'"),
        ((("a", "backend", ["a"]),), "depends on itself"),
        ((("a", "backend", ["c"]), ("b", "backend", ["a"]), ("c", "backend", ["b"])), "cycle: a -> c -> b -> a"),
    ],
)
def test_invalid_graphs_are_explained(tasks: tuple[tuple[str, str, list[str]], ...], message: str) -> None:
    with pytest.raises(PlanError, match=message.replace("(", r"\(")):
        validate_graph(graph(*tasks), ROLES)


def test_find_cycle_none() -> None:
    assert find_cycle(graph(("a", "backend", []), ("b", "backend", ["a"]))) == []


async def test_independent_tasks_overlap_in_time() -> None:
    g = graph(("a", "architect", []), ("b", "backend", ["a"]), ("f", "frontend", ["a"]))
    running = 0
    peak = 0
    both_started = asyncio.Event()

    async def execute(task: PlannedTask, deps: dict[str, Result]) -> Result:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if task.id in ("b", "f"):
            assert set(deps) == {"a"}
            if running == 2:
                both_started.set()
            await asyncio.wait_for(both_started.wait(), 5)  # each waits for the other: only concurrency ends this
        running -= 1
        return Result(output=task.id)

    started = time.perf_counter()
    run = await run_graph(g, execute)
    assert run.ok
    assert peak == 2
    assert time.perf_counter() - started < 5


async def test_failures_skip_dependents_transitively_and_never_hang() -> None:
    # declared in reverse order on purpose: skipping must cascade whatever the order
    g = graph(
        ("d", "git", ["c"]),
        ("c", "frontend", ["b"]),
        ("b", "backend", ["a"]),
        ("a", "architect", []),
        ("x", "designer", []),
    )
    seen: list[tuple[str, TaskState]] = []

    async def execute(task: PlannedTask, deps: dict[str, Result]) -> Result:
        if task.id == "a":
            raise ProviderUnavailableError("model down")
        return Result(output="ok")

    run = await asyncio.wait_for(run_graph(g, execute, on_change=lambda o: seen.append((o.task.id, o.state))), 5)
    states = {i: o.state for i, o in run.outcomes.items()}
    assert states == {
        "a": TaskState.FAILED,
        "b": TaskState.SKIPPED,
        "c": TaskState.SKIPPED,
        "d": TaskState.SKIPPED,
        "x": TaskState.DONE,
    }
    assert "model down" in run.outcomes["a"].error
    assert not run.ok
    assert ("a", TaskState.RUNNING) in seen
    assert ("d", TaskState.SKIPPED) in seen


async def test_a_result_with_ok_false_is_a_failure() -> None:
    async def execute(task: PlannedTask, deps: dict[str, Result]) -> Result:
        return Result(ok=False, output="server did not start")

    run = await run_graph(graph(("a", "backend", [])), execute)
    assert run.outcomes["a"].state is TaskState.FAILED
    assert run.outcomes["a"].error == "server did not start"
