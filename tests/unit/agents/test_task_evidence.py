"""An acting task is done when the workspace shows it, whatever the model says."""

from __future__ import annotations

import pytest

from autogpt.agents.task_evidence import missing, named, step_for_a_test, unplanned

FILES = {
    "app/main.py": '@app.get("/health")\ndef health():\n    return {"status": "ok"}\n',
    "tests/test_health.py": "def test_health(): ...\n",
    "README.md": "Run `make serve`.\n",
}


def read(path: str) -> str:
    return FILES[path]


def test_the_things_a_task_names() -> None:
    assert named("add a /health route to app/main.py and document `make serve`") == [
        "make serve",
        "app/main.py",
        "/health",
    ]
    assert named("handle and/or cases, 1/2 of them") == []


@pytest.mark.parametrize(
    ("task", "changed", "problems"),
    [
        ("add a /health route and a test for it", ["app/main.py", "tests/test_health.py"], []),
        ("add a /health route and a test for it", [], ["no file in the workspace changed"]),
        (
            "add a /health route and a test for it",
            ["app/main.py"],
            ["the task asks for a test, and no test file changed"],
        ),
        ("add a /status route", ["app/main.py"], ["no changed file has /status"]),
        ("fix the typo in app/main.py", ["README.md"], ["no changed file has app/main.py"]),
        ("document `make serve` in the readme", ["README.md"], []),
        ("what does /health return?", [], []),  # a question changes nothing, and need not
        ("add 20 and 22 with the calculator tool", [], []),  # work that is not on the project's files
    ],
)
def test_what_the_workspace_must_show(task: str, changed: list[str], problems: list[str]) -> None:
    assert missing(task, changed, read) == problems


@pytest.mark.parametrize(
    ("task", "steps", "gaps"),
    [
        (
            "add a /health route and a test for it",
            ["append the route to app/main.py"],
            ["the task asks for a test, and no step adds one"],
        ),
        ("add a /health route and a test for it", ["append the route", "write tests/test_health.py"], []),
        ("add a /health route and a test for it", ["add the route", "add a test of GET /health"], []),
        ("add a /health route", ["append the route to app/main.py"], []),  # no test asked for
        ("make the failing tests pass", ["fix app/main.py"], []),  # tests named, none asked to be written
    ],
)
def test_what_a_plan_must_have_a_step_for(task: str, steps: list[str], gaps: list[str]) -> None:
    assert unplanned(task, steps) == gaps


def test_the_step_added_for_a_missing_test_follows_the_project() -> None:
    python = ["pyproject.toml", "app/main.py", "tests/test_notes.py"]
    assert step_for_a_test("add a /health route and a test for it", python).startswith(
        "write_file tests/test_health.py: "
    )
    assert step_for_a_test("add a /users/{id} route with a test", python).startswith(
        "write_file tests/test_users_id.py:"
    )
    assert step_for_a_test("add a test for the parser", ["src/parse.py"]).startswith("write_file tests/test_change.py:")
    node = ["package.json", "server.js", "test/notes.test.js"]
    assert step_for_a_test("add a /health route and a test for it", node).startswith("write_file test/health.test.js: ")
