"""The standard plan and the ordering rule a plan must keep."""

from __future__ import annotations

import pytest

from autogpt.agents.manager import _subject
from autogpt.agents.plan_aids import order_problems, standard_plan
from autogpt.mind.planner import PlannedTask, TaskGraph, layers, validate_graph

FULL = ("architect", "backend", "designer", "frontend")


def test_the_standard_plan_runs_architect_and_designer_together_and_the_page_last() -> None:
    graph = standard_plan("todos", FULL)
    validate_graph(graph, FULL)
    assert order_problems(graph) == []
    role_of = {t.id: t.role for t in graph.tasks}
    roles = [sorted(role_of[t] for t in layer) for layer in layers(graph)]
    assert roles == [["architect", "designer"], ["backend"], ["frontend"]]


def test_without_a_designer_the_page_waits_for_the_backend_only() -> None:
    graph = standard_plan("todos", ("architect", "backend", "frontend"))
    assert {t.role: t.depends_on for t in graph.tasks}["frontend"] == ["t2"]
    assert order_problems(graph) == []


@pytest.mark.parametrize(
    ("deps", "problems"),
    [
        ({"t2": ["t1"], "t4": ["t2", "t3"]}, []),
        ({"t2": ["t1"], "t4": ["t3"]}, ["t4 (frontend) must depend on the backend task"]),
        ({"t2": [], "t4": ["t2", "t3"]}, ["t2 (backend) must depend on the architect task"]),
        ({"t2": ["t1"], "t3": ["t2"], "t4": ["t3"]}, []),  # through the designer, transitively
    ],
)
def test_order_problems(deps: dict[str, list[str]], problems: list[str]) -> None:
    roles = {"t1": "architect", "t2": "backend", "t3": "designer", "t4": "frontend"}
    tasks = [PlannedTask(id=i, role=r, description=r, depends_on=deps.get(i, [])) for i, r in roles.items()]
    assert order_problems(TaskGraph(goal="g", tasks=tasks)) == problems


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        ("backend: short", "backend: short"),
        ("frontend: page checked in headless Chromium after 0 fix round(s): 3 API call(s), 0 console error(s)",
         "frontend: page checked in headless Chromium after 0 fix round(s): 3 API…"),
        ("one\ntwo", "one"),
    ],
)  # fmt: skip
def test_commit_subjects_are_cut_at_a_word(text: str, subject: str) -> None:
    assert _subject(text) == subject
    assert len(_subject(text)) <= 72
