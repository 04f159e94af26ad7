"""``autogpt gen -p TASK`` as a user runs it on a small FastAPI project: real subprocesses,
the scripted model, the project's tests run in the Sandbox."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

AUTOGPT = [sys.executable, "-m", "autogpt"]
TASK = "add a /health route and a test for it"

MAIN = """from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def root() -> dict[str, str]:
    return {"hello": "world"}
"""
TEST_MAIN = """from fastapi.testclient import TestClient

from app.main import app


def test_root() -> None:
    assert TestClient(app).get("/").json() == {"hello": "world"}
"""
TEST_HEALTH = """from fastapi.testclient import TestClient

from app.main import app


def test_health() -> None:
    response = TestClient(app).get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
"""
ROOT_RETURN = 'return {"hello": "world"}\n'
HEALTH_ROUTE = """

@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
"""


def make_project(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1.0"\n\n[tool.pytest.ini_options]\npythonpath = ["."]\n'
    )
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(MAIN)
    (root / "tests" / "test_main.py").write_text(TEST_MAIN)
    return root


def fingerprint(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


def health_script() -> list[str]:
    plan = {
        "summary": "add GET /health returning {'status': 'ok'} and a test for it",
        "steps": ["add the route to app/main.py", "write tests/test_health.py", "run the tests"],
        "commands": ["python -m pytest -q -p no:cacheprovider"],
        "tools": [],
    }
    edit = {
        "thought": "add the route after the root route, then its test",
        "calls": [
            {"tool": "read_file", "args": {"path": "app/main.py"}},
            {
                "tool": "patch_file",
                "args": {
                    "path": "app/main.py",
                    "patches": [{"old": ROOT_RETURN, "new": ROOT_RETURN + HEALTH_ROUTE}],
                },
            },
            {"tool": "write_file", "args": {"path": "tests/test_health.py", "content": TEST_HEALTH}},
        ],
        "done": False,
    }
    check = {
        "thought": "run the tests",
        "calls": [{"tool": "run_command", "args": {"command": "python -m pytest -q -p no:cacheprovider"}}],
        "done": True,
    }
    verdict = {"verdict": "done", "reasons": "the route exists and its test passes", "fixes": []}
    return [json.dumps(x) for x in (plan, edit, check, verdict)]


def run(args: list[str], tmp_path: Path, replies: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "OPENAI_", "ANTHROPIC_"))}
    env |= {
        "AUTOGPT_PROVIDER": "scripted",
        "AUTOGPT_SCRIPT": json.dumps(replies),
        "AUTOGPT_DATA_DIR": str(tmp_path / "data"),
        "AUTOGPT_EMBEDDER": "hash",
    }
    return subprocess.run(
        [*AUTOGPT, "--workspace", str(tmp_path / "proj"), *args],
        input=stdin, capture_output=True, text=True, env=env, timeout=110, check=False,
    )  # fmt: skip


def test_yolo_adds_the_route_runs_the_tests_in_the_sandbox_and_reports_them(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    proc = run(["gen", "--yolo", "-p", TASK], tmp_path, health_script())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '@app.get("/health")' in (root / "app" / "main.py").read_text()
    assert (root / "tests" / "test_health.py").read_text() == TEST_HEALTH
    out = proc.stdout
    assert "tests: PASSED (python -m pytest -q -p no:cacheprovider)" in out
    assert "changed: app/main.py, tests/test_health.py" in out
    assert "result: DONE" in out
    assert "ok  run_command" in out
    assert "Plan: add GET /health" in proc.stderr  # the plan is shown even with --yolo
    assert "Traceback" not in proc.stderr


def test_without_yolo_and_without_a_terminal_it_refuses_and_changes_nothing(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    before = fingerprint(root)
    proc = run(["gen", "-p", TASK], tmp_path, health_script())
    assert proc.returncode == 2
    assert "refusing to act" in proc.stderr
    assert "--yolo" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert fingerprint(root) == before


def test_failing_tests_are_reported_as_failing(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    plan = {"summary": "add a health test", "steps": ["write the test"], "commands": [], "tools": []}
    turn = {"calls": [{"tool": "write_file", "args": {"path": "tests/test_health.py", "content": TEST_HEALTH}}]}
    done = {"verdict": "done", "reasons": "looks right to me"}
    again = {"calls": [], "done": True}
    replies = [json.dumps(x) for x in (plan, {**turn, "done": True}, done, again, done)]
    proc = run(["gen", "--yolo", "-p", TASK], tmp_path, replies)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "tests: FAILED" in proc.stdout
    assert "verdict: give_up - the tests still fail" in proc.stdout
    assert "result: NOT DONE" in proc.stdout
    assert (root / "tests" / "test_health.py").exists()


def test_a_done_that_changed_nothing_is_not_done(tmp_path: Path) -> None:
    """The embedded model once planned, called no tool, and judged the task done because the old
    tests passed. The workspace decides: nothing changed, so nothing was done."""
    root = make_project(tmp_path / "proj")
    before = fingerprint(root)
    plan = {"summary": "add a /health route and a test", "steps": ["add the route"], "commands": [], "tools": []}
    idle = {"thought": "all good", "calls": [], "done": True}
    done = {"verdict": "done", "reasons": "The task is complete and the tests pass."}
    replies = [json.dumps(x) for x in (plan, plan, idle, done, idle, done)]  # asked again for the test's step
    proc = run(["gen", "--yolo", "-p", TASK], tmp_path, replies)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "tests: PASSED" in proc.stdout  # the old tests still pass ...
    assert "missing: no file in the workspace changed" in proc.stdout  # ... and that is not the task
    assert "verdict: give_up - the workspace does not show it: no file in the workspace changed" in proc.stdout
    assert "result: NOT DONE" in proc.stdout
    assert "retrying: no file in the workspace changed" in proc.stderr  # told why, and given a second round
    assert {k: v for k, v in fingerprint(root).items() if "__pycache__" not in k and "/." not in k} == {
        k: v for k, v in before.items() if "__pycache__" not in k
    }


def test_a_route_without_its_test_is_not_done(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    plan = {"summary": "add GET /health", "steps": ["add the route"], "commands": [], "tools": []}
    patch = {
        "tool": "patch_file",
        "args": {"path": "app/main.py", "patches": [{"old": ROOT_RETURN, "new": ROOT_RETURN + HEALTH_ROUTE}]},
    }
    turn = {"calls": [patch], "done": True}
    done = {"verdict": "done", "reasons": "the route is there"}
    idle = {"calls": [], "done": True}
    # the plan is asked again for a test's step, then given one; the model still never writes it
    replies = [json.dumps(x) for x in (plan, plan, turn, idle, done, idle, done)]
    proc = run(["gen", "--yolo", "-p", TASK], tmp_path, replies)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert '@app.get("/health")' in (root / "app" / "main.py").read_text()
    assert "missing: the task asks for a test, and no test file changed" in proc.stdout
    assert "result: NOT DONE" in proc.stdout


def on_terminal(args: list[str], tmp_path: Path, replies: list[str], answer: str) -> tuple[int, str]:
    """Run on a pseudo-terminal, answer the approval prompt, return (exit code, everything shown)."""
    import pty
    import select

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "OPENAI_", "ANTHROPIC_"))}
    env |= {"AUTOGPT_PROVIDER": "scripted", "AUTOGPT_SCRIPT": json.dumps(replies), "AUTOGPT_EMBEDDER": "hash",
            "AUTOGPT_DATA_DIR": str(tmp_path / "data"), "NO_COLOR": "1"}  # fmt: skip
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*AUTOGPT, "--workspace", str(tmp_path / "proj"), *args], stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    shown, answered = "", False
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 100)
            assert ready, f"no output; got {shown[-500:]!r}"
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the program ended and closed the terminal
                break
            if not chunk:
                break
            shown += chunk.decode(errors="replace")
            if not answered and "Go ahead? [y/N]" in shown:
                os.write(master, answer.encode() + b"\n")
                answered = True
        return proc.wait(timeout=60), shown
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_at_a_terminal_the_plan_and_its_commands_are_shown_and_yes_acts(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    code, shown = on_terminal(["gen", "-p", TASK], tmp_path, health_script(), "y")
    assert "Plan: add GET /health" in shown
    assert "$ python -m pytest -q -p no:cacheprovider" in shown
    assert code == 0, shown
    assert "tests: PASSED" in shown
    assert '@app.get("/health")' in (root / "app" / "main.py").read_text()


def test_at_a_terminal_no_changes_nothing(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    before = fingerprint(root)
    code, shown = on_terminal(["gen", "-p", TASK], tmp_path, health_script(), "n")
    assert code == 1
    assert "the plan was not approved; nothing was changed" in shown
    assert fingerprint(root) == before


def test_run_inside_a_project_without_a_workspace_it_acts_on_that_project(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "OPENAI_", "ANTHROPIC_"))}
    env |= {"AUTOGPT_PROVIDER": "scripted", "AUTOGPT_SCRIPT": json.dumps(health_script()),
            "AUTOGPT_DATA_DIR": str(tmp_path / "data"), "AUTOGPT_EMBEDDER": "hash"}  # fmt: skip
    proc = subprocess.run(
        [*AUTOGPT, "gen", "--yolo", "-p", TASK],
        cwd=root, capture_output=True, text=True, env=env, timeout=110, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"acting on the project in {root}" in proc.stderr
    assert '@app.get("/health")' in (root / "app" / "main.py").read_text()
    assert not (root / "workspace").exists()
