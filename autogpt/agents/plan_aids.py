"""ManagerGPT's small-model aids: how a plan is asked for, checked, and what stands in for a bad one.

A small model asked for a task graph copies names from what it is shown, so it is shown the
standard plan for this very idea and team; its plan must then give each role exactly one task,
in an order where every role comes after the work it needs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from autogpt.agents.asking import Check, raising
from autogpt.mind.planner import PlannedTask, TaskGraph, validate_graph


def standard_plan(idea: str, roles: tuple[str, ...]) -> TaskGraph:
    """Architect and designer at once; the backend after the architect; the page after both."""
    design = ["t3"] if "designer" in roles else []
    tasks = [
        PlannedTask(id="t1", role="architect", description=f"Design the API for: {idea}"),
        PlannedTask(
            id="t2", role="backend", description=f"Implement and verify the server for: {idea}", depends_on=["t1"]
        ),
        PlannedTask(id="t3", role="designer", description=f"Choose the look and draw a wireframe for: {idea}"),
        PlannedTask(
            id="t4",
            role="frontend",
            description=f"Write the web page for: {idea}",
            depends_on=["t2", *design],
        ),
    ]
    return TaskGraph(goal=idea, tasks=[t for t in tasks if t.role in roles])


def order_problems(graph: TaskGraph) -> list[str]:
    """Work that needs another role's output must come after it (``graph`` is acyclic)."""
    by_id = {t.id: t for t in graph.tasks}
    needs = {"backend": {"architect"}, "frontend": {"backend", "designer"}}

    def earlier_roles(task: PlannedTask) -> set[str]:
        found: set[str] = set()
        for dep in task.depends_on:
            found |= {by_id[dep].role, *earlier_roles(by_id[dep])}
        return found

    present = {t.role for t in graph.tasks}
    return [
        f"{task.id} ({task.role}) must depend on the {role} task"
        for task in graph.tasks
        for role in sorted((needs.get(task.role, set()) & present) - earlier_roles(task))
    ]


ORDER_HINT = (
    "The architect designs the API before the backend builds it. The designer can work at the same time as the "
    "architect. The frontend needs the backend and the designer first."
)


def plan_prompt(idea: str, roles: tuple[str, ...]) -> str:
    example = standard_plan(idea, roles).model_dump()  # small models copy names; give them the right ones
    return (
        f"Idea: {idea}\nTeam roles: {', '.join(roles)}. Make a plan with exactly one task per role. "
        "Each task has an id (t1, t2, ...), a role from the team, a description, and depends_on "
        f"listing ids that must finish first. {ORDER_HINT}\n"
        f"Example: {json.dumps(example)}"
    )


def plan_checks(roles: tuple[str, ...]) -> list[Check[TaskGraph]]:
    """A usable plan: a valid graph over the team, one task per role (two would write the same
    files), each role after the work it needs."""

    def one_each(graph: TaskGraph) -> Sequence[str]:
        planned = [t.role for t in graph.tasks]
        repeated = sorted({r for r in planned if planned.count(r) > 1})
        missing = sorted(set(roles) - set(planned))
        return [f"one task per role: {', '.join(repeated)} appear more than once"] * bool(repeated) + [
            f"the plan needs a task for each of: {', '.join(missing)}"
        ] * bool(missing)

    return [raising(lambda graph: validate_graph(graph, roles)), one_each, order_problems]
