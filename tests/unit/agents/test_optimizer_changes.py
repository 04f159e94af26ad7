"""OptimizerGPT's deterministic parts: what a change may touch, applying and undoing it,
the whitespace tidy, and how two runs of the checks compare."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from autogpt.agents.changeset import FileChange, Proposal, apply, changes_of, is_check_file, rollback, tidy_python
from autogpt.agents.checks import Check, CheckRun
from autogpt.agents.optimizer import BaselineFailedError, _require_sound
from autogpt.errors import InvalidInputError, PathOutsideWorkspaceError
from autogpt.tools.workspace import Workspace


def digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "proj").ensure()
    ws.write_text("app/main.py", "x = 1\n")
    ws.write_text("app/util.py", "def f():\n    return 2\n")
    ws.write_text("tests/test_main.py", "def test(): pass\n")
    return ws


def proposal(*files: tuple[str, str], remove: tuple[str, ...] = ()) -> Proposal:
    return Proposal(summary="s", files=[FileChange(path=p, content=c) for p, c in files], remove=list(remove))


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("../out.py", PathOutsideWorkspaceError, "'..' is not allowed"),
        ("/etc/cron.d/x.py", PathOutsideWorkspaceError, "absolute paths are not allowed"),
        (".git/hooks/pre-commit.py", PathOutsideWorkspaceError, "inside .git"),
        ("tests/test_main.py", InvalidInputError, "may not touch 'tests/test_main.py'"),
        ("app/test_more.py", InvalidInputError, "may not touch"),
        ("acceptance.json", InvalidInputError, "may not touch 'acceptance.json'"),
        ("app/run.sh", InvalidInputError, "touches source files only"),
    ],
)
def test_a_path_a_change_may_not_touch_refuses_the_whole_proposal(
    ws: Workspace, path: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        changes_of(ws, proposal(("app/main.py", "x = 2\n"), (path, "y = 1\n")))


def test_a_symlink_out_of_the_workspace_is_refused(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", ws.root / "app" / "linked")
    with pytest.raises(PathOutsideWorkspaceError, match="leads outside"):
        changes_of(ws, proposal(("app/linked/evil.py", "x = 1\n")))


def test_unchanged_files_are_no_change_and_removals_must_exist(ws: Workspace) -> None:
    assert changes_of(ws, proposal(("app/main.py", "x = 1\n"))) == {}
    assert changes_of(ws, proposal(remove=("app/util.py",))) == {"app/util.py": None}
    with pytest.raises(InvalidInputError, match="does not exist"):
        changes_of(ws, proposal(remove=("app/gone.py",)))
    with pytest.raises(InvalidInputError, match="twice"):
        changes_of(ws, proposal(("app/a.py", "1\n"), ("./app/a.py", "2\n")))


def test_rollback_restores_every_byte_and_removes_what_the_change_made(ws: Workspace) -> None:
    before, dirs = digest(ws.root), sorted(p for p in ws.root.rglob("*") if p.is_dir())
    changes = changes_of(
        ws,
        proposal(("app/main.py", "x = 2\n"), ("app/pkg/deep/new.py", "y = 1\n"), remove=("app/util.py",)),
    )
    applied = apply(ws, changes, "OptimizerGPT")
    assert (ws.root / "app/pkg/deep/new.py").read_text() == "y = 1\n"
    assert not (ws.root / "app/util.py").exists()
    (ws.root / "app/pkg/deep/__pycache__").mkdir()  # what a test run leaves behind
    (ws.root / "app/pkg/deep/__pycache__/new.cpython-311.pyc").write_bytes(b"\0")
    assert applied.made_dirs == ["app/pkg", "app/pkg/deep"]
    assert rollback(ws, applied) == []
    assert digest(ws.root) == before
    assert sorted(p for p in ws.root.rglob("*") if p.is_dir()) == dirs


def test_workspace_remove_never_follows_a_link(ws: Workspace, tmp_path: Path) -> None:
    os.symlink("main.py", ws.root / "app" / "link.py")
    assert ws.remove("app/link.py")
    assert (ws.root / "app" / "main.py").read_text() == "x = 1\n"  # the link went, not what it named
    assert not ws.remove("app/link.py")
    assert not ws.remove("nowhere/file.py")
    victim = tmp_path / "victim.py"
    victim.write_text("keep me")
    os.symlink(victim, ws.root / "app" / "out.py")
    with pytest.raises(PathOutsideWorkspaceError):
        ws.remove("app/out.py")
    assert victim.read_text() == "keep me"


def test_tidy_changes_whitespace_but_never_a_string() -> None:
    assert tidy_python("x = 1   \n\n\n\n\ny = 2\n\n") == "x = 1\n\n\ny = 2\n"
    inside = 'TEXT = """a   \nb"""\n'
    assert tidy_python(inside + "z = 1  \n") == inside + "z = 1  \n"  # the string would change: untouched
    assert tidy_python("") == ""
    assert tidy_python("def broken(:\n  \n") == "def broken(:\n  \n"


@pytest.mark.parametrize(
    ("path", "judged"),
    [("tests/x/helpers.py", True), ("conftest.py", True), ("web/app.test.js", True), ("app/testing.py", False)],
)
def test_check_files(path: str, judged: bool) -> None:
    assert is_check_file(path) is judged


def test_a_regression_is_what_passed_before_and_fails_or_vanishes_after() -> None:
    before = CheckRun((Check("compile", True), Check("tests", True), Check("acceptance: GET /a", True)))
    after = CheckRun((Check("compile", True), Check("tests", False, "FAILED t")))
    assert before.regressions(after) == [
        Check("tests", False, "FAILED t"),
        Check("acceptance: GET /a", False, "no longer run"),
    ]
    assert after.regressions(before) == []


def test_a_failing_or_unprovable_baseline_is_refused() -> None:
    with pytest.raises(BaselineFailedError, match=r"(?s)fails 1 of 2 checks before any change.*FAIL tests: boom"):
        _require_sound(CheckRun((Check("compile", True), Check("tests", False, "boom"))))
    with pytest.raises(BaselineFailedError, match="no tests and no acceptance examples"):
        _require_sound(CheckRun((Check("compile", True),)))
    _require_sound(CheckRun((Check("compile", True), Check("tests", True))))
