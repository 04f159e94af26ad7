"""The CLI as a user runs it: real subprocesses, scripted or embedded model, no network."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

AUTOGPT = [sys.executable, "-m", "autogpt"]


def run(
    args: list[str], *, env: dict[str, str] | None = None, stdin: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "OPENAI_", "ANTHROPIC_"))}
    full_env.update(env or {})
    return subprocess.run(
        AUTOGPT + args, input=stdin, capture_output=True, text=True, env=full_env, timeout=timeout, check=False
    )


def scripted(tmp_path: Path, replies: list[str]) -> dict[str, str]:
    script = tmp_path / "script.json"
    script.write_text(json.dumps(replies))
    return {"AUTOGPT_PROVIDER": "scripted", "AUTOGPT_SCRIPT": str(script), "AUTOGPT_DATA_DIR": str(tmp_path / "data")}


def test_help_lists_commands_and_options() -> None:
    proc = run(["--help"])
    assert proc.returncode == 0
    for word in ("gen", "front", "design", "--prompt", "--provider", "--model", "--workspace"):
        assert word in proc.stdout


def test_prompt_streams_the_answer(tmp_path: Path) -> None:
    proc = run(["-p", "say hi"], env=scripted(tmp_path, ["Hi there, friend."]))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hi there, friend.\n"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["-p", "   "], {}, "the prompt is empty"),
        (["-p", "hi"], {"AUTOGPT_PROVIDER": "nope"}, "invalid settings: provider"),
        (["--provider", "openai", "-p", "hi"], {}, "no OpenAI API key"),
        (["--provider", "anthropic", "-p", "hi"], {}, "ANTHROPIC_API_KEY"),
        (["--provider", "scripted", "-p", "hi"], {}, "needs a script"),
        (["--provider", "embedded", "--model", "/no/such/model.gguf", "-p", "hi"], {}, "does not exist"),
        (["--provider", "embedded", "--model", "gpt-17", "-p", "hi"], {}, "unknown embedded model"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(args: list[str], env: dict[str, str], message: str) -> None:
    proc = run(args, env=env)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_provider_flag_is_refused_by_the_parser() -> None:
    proc = run(["--provider", "bogus", "-p", "hi"])
    assert proc.returncode == 2
    assert "Invalid value for '--provider'" in proc.stderr


def test_console_reads_lines_and_reports_failures(tmp_path: Path) -> None:
    plan = {"goal": "tea", "steps": [{"title": "Boil", "detail": "water"}]}
    env = scripted(tmp_path, ["Hello!", json.dumps(plan)])
    proc = run(["gen"], env=env, stdin="hello\n/plan make tea\n/bogus x\n/exit\n")
    assert "Hello!" in proc.stdout
    assert "1. Boil: water" in proc.stdout
    assert "has no action 'bogus'" in proc.stderr
    assert proc.returncode == 1  # a failed line makes a scripted session fail
    assert "Traceback" not in proc.stderr


def test_console_create_writes_into_the_workspace(tmp_path: Path) -> None:
    files = {"summary": "greeter", "files": [{"path": "hi.py", "content": "print('hi')\n"}]}
    env = scripted(tmp_path, [json.dumps(files)])
    proc = run(["--workspace", str(tmp_path / "ws"), "gen"], env=env, stdin='/create "a greeter" | python\n')
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "ws/hi.py").read_text() == "print('hi')\n"
    assert "hi.py" in proc.stdout


def test_design_console_writes_the_spec_and_a_rendered_wireframe(tmp_path: Path) -> None:
    from test_frontend import SPEC

    env = scripted(tmp_path, [json.dumps(SPEC)])
    proc = run(["--workspace", str(tmp_path / "ws"), "design"], env=env, stdin='/create "a todo app"\n/exit\n')
    assert proc.returncode == 0, proc.stderr
    assert "design 'Todos' (bright and tidy)" in proc.stdout
    assert (tmp_path / "ws" / "design" / "wireframe.png").read_bytes().startswith(b"\x89PNG")


def test_front_console_explains_what_it_needs(tmp_path: Path) -> None:
    proc = run(["--workspace", str(tmp_path / "ws"), "front"], env=scripted(tmp_path, []), stdin="/create\n/exit\n")
    assert proc.returncode == 1
    assert "FrontendGPT needs an API contract (run the architect first)" in proc.stderr


@pytest.mark.model
def test_prompt_on_the_embedded_model_without_network(tmp_path: Path) -> None:
    """The headline promise: no key, no network, a real answer."""
    args = ["-p", "Write a Python function named add that returns the sum of two numbers."]
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], check=False).returncode == 0:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "OPENAI_", "ANTHROPIC_"))}
        env["AUTOGPT_TEMPERATURE"] = "0"  # greedy decoding: the same answer on every run
        proc = subprocess.run(
            [unshare, "-n", *AUTOGPT, *args], capture_output=True, text=True, env=env, timeout=300, check=False
        )
    else:  # pragma: no cover - machines without user namespaces
        proc = run(args, env={"AUTOGPT_TEMPERATURE": "0"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "def add" in proc.stdout
