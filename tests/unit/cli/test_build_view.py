"""The live view of ``autogpt build`` follows ManagerGPT's typed task progress."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from autogpt.cli.build import BuildView
from autogpt.iac.envelope import PlanItem, ProgressState, State, Status, TaskProgress
from autogpt.llm.usage import UsageMeter

PLAN = (PlanItem("t1", "architect"), PlanItem("t3", "designer"), PlanItem("t2", "backend", ("t1",)))


def task(task_id: str, role: str, state: ProgressState, step: str, attempt: int = 0) -> Status:
    """A status as ManagerGPT sends it; the message is deliberately not the usual line, to show
    that the view reads the typed part."""
    return Status(message=f"news about {task_id}", task=TaskProgress(task_id, role, state, step, attempt))


def shown(view: BuildView) -> str:
    out = io.StringIO()
    Console(file=out, width=140, color_system=None).print(view.render())
    return out.getvalue()


def test_the_plan_makes_a_pending_row_per_task_in_plan_order() -> None:
    view = BuildView(UsageMeter())
    view.update(Status(message="plan: (whatever)", task=TaskProgress(plan=PLAN)))
    assert [(i, r.role, r.state) for i, r in view.rows.items()] == [
        ("t1", "architect", "pending"), ("t3", "designer", "pending"), ("t2", "backend", "pending"),
    ]  # fmt: skip


def test_task_events_move_their_rows_and_other_news_goes_to_the_footer() -> None:
    view = BuildView(UsageMeter())
    view.update(Status(message="planning"))
    view.update(Status(message="plan", task=TaskProgress(plan=PLAN)))
    view.update(task("t1", "architect", "running", "attempt 1: design", 1))
    view.update(task("t1", "architect", "done", "contract with 3 routes"))
    view.update(task("t2", "backend", "running", "attempt 1: build", 1))
    view.update(task("t2", "backend", "running", "writing app/main.py"))  # relayed from the backend
    view.update(task("t3", "designer", "failed", "no palette"))
    view.update(task("t3", "designer", "waiting", "up to 5s for a designer agent to come back"))
    view.update(Status(State.WORKING, "acceptance: 3 example(s)"))
    rows = {i: (r.role, r.state, r.step) for i, r in view.rows.items()}
    assert rows == {
        "t1": ("architect", "done", "contract with 3 routes"),
        "t3": ("designer", "waiting", "up to 5s for a designer agent to come back"),
        "t2": ("backend", "running", "writing app/main.py"),
    }
    assert view.rows["t1"].ended >= view.rows["t1"].started > 0
    assert view.rows["t2"].started > 0
    assert not view.rows["t2"].ended
    assert not view.rows["t3"].ended  # waiting for a retry: its clock runs again
    assert view.step == "acceptance: 3 example(s)"
    text = shown(view)
    for line in ("t1 ", "architect", "done", "contract with 3 routes", "writing app/main.py", "waiting"):
        assert line in text
    assert "acceptance: 3 example(s)" in text


def test_a_task_the_plan_did_not_name_still_gets_a_row() -> None:
    view = BuildView(UsageMeter())
    view.update(task("t9", "git", "done", "committed"))
    assert [(i, r.role, r.state, r.step) for i, r in view.rows.items()] == [("t9", "git", "done", "committed")]


@pytest.mark.parametrize("line", ["[t2 backend running] attempt 1: build", "plan: t1=architect, t2=backend<-t1"])
def test_status_lines_without_a_task_part_are_not_parsed(line: str) -> None:
    """Progress is typed: text that merely looks like it is shown as it is, as the current step."""
    view = BuildView(UsageMeter())
    view.update(Status(message=line))
    assert view.rows == {}
    assert view.step == line


def test_plain_output_prints_each_message_with_the_time(capsys: pytest.CaptureFixture[str]) -> None:
    view = BuildView(UsageMeter())
    view.plain(task("t2", "backend", "done", "ok"))
    view.plain(Status(delta="def "))  # streamed text has no message: nothing to print
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert re.fullmatch(r"\[ *\d+\.\ds\] news about t2", err[0])
