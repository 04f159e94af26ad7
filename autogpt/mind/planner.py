"""Plans as task graphs: the structured shape an LLM fills in, and the checks it must pass.

A plan is only accepted when every role is known, every id unique, every dependency
exists and the graph has no cycle; otherwise :class:`PlanError` says exactly what is
wrong, so the planner can show the model its mistake and ask again.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field

from autogpt.errors import InvalidInputError


class PlanError(InvalidInputError):
    """The plan is not a valid task graph."""


class PlannedTask(BaseModel):
    id: str = Field(description="short unique id, e.g. t1", min_length=1, max_length=32)
    role: str = Field(description="which agent does it: architect, backend, frontend, designer, git")
    description: str = Field(description="what to produce, in one or two sentences", min_length=1)
    depends_on: list[str] = Field(default_factory=list, description="ids of tasks that must finish first")
    acceptance: list[str] = Field(default_factory=list, description="checks the result must pass")


class TaskGraph(BaseModel):
    goal: str
    tasks: list[PlannedTask] = Field(min_length=1, max_length=12)

    def by_id(self) -> dict[str, PlannedTask]:
        return {t.id: t for t in self.tasks}


def validate_graph(graph: TaskGraph, roles: Iterable[str]) -> TaskGraph:
    """``graph`` with roles normalised, or :class:`PlanError` naming every problem found."""
    known = set(roles)
    problems: list[str] = []
    seen: set[str] = set()
    for task in graph.tasks:
        task.role = task.role.strip().lower()
        if task.id in seen:
            problems.append(f"task id {task.id!r} is used twice")
        seen.add(task.id)
        if task.role not in known:
            problems.append(f"task {task.id} names unknown role {task.role!r} (known: {', '.join(sorted(known))})")
    for task in graph.tasks:
        for dep in task.depends_on:
            if dep not in seen:
                problems.append(f"task {task.id} depends on unknown task {dep!r}")
            if dep == task.id:
                problems.append(f"task {task.id} depends on itself")
    if not problems:
        cycle = find_cycle(graph)
        if cycle:
            problems.append("the tasks form a cycle: " + " -> ".join(cycle))
    if problems:
        raise PlanError("invalid plan: " + "; ".join(problems))
    return graph


def find_cycle(graph: TaskGraph) -> list[str]:
    """One dependency cycle as a list of ids (first id repeated at the end), or ``[]``."""
    deps = {t.id: list(t.depends_on) for t in graph.tasks}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for dep in deps.get(node, ()):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep in deps and state.get(dep) is None:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for node in deps:
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return []


def layers(graph: TaskGraph) -> list[list[str]]:
    """Task ids grouped by depth: each layer depends only on earlier ones (for display)."""
    remaining = {t.id: set(t.depends_on) for t in graph.tasks}
    done: set[str] = set()
    out: list[list[str]] = []
    while remaining:
        ready = sorted(i for i, d in remaining.items() if d <= done)
        if not ready:
            raise PlanError("the tasks form a cycle")
        out.append(ready)
        done.update(ready)
        for i in ready:
            del remaining[i]
    return out
