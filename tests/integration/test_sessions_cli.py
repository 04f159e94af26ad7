"""Sessions and memory at the console, as a user runs it: real subprocesses, scripted model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

AUTOGPT = [sys.executable, "-m", "autogpt"]


def run(args: list[str], tmp_path: Path, replies: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "OPENAI_", "ANTHROPIC_"))}
    env.update(
        AUTOGPT_PROVIDER="scripted",
        AUTOGPT_SCRIPT=json.dumps(replies),
        AUTOGPT_DATA_DIR=str(tmp_path / "data"),
        AUTOGPT_EMBEDDER="hash",
    )
    return subprocess.run(
        AUTOGPT + args, input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False, cwd=tmp_path
    )


def test_continue_resumes_the_last_session_and_memory_commands_work(tmp_path: Path) -> None:
    first = run(
        ["gen"], tmp_path, ["Hello Ada."], "I am Ada and I write compilers\n/remember shared the build runs on CI\n"
    )
    assert first.returncode == 0, first.stderr
    assert "Hello Ada." in first.stdout
    assert "remembered #" in first.stdout
    sid = first.stderr.split("session ", 1)[1].split()[0]

    second = run(["gen", "--continue"], tmp_path, [], "/sessions\n/recall build on CI\n/forget build runs on CI\n")
    assert second.returncode == 0, second.stderr
    assert f"resumed session {sid} (2 turns)" in second.stderr
    assert f"* {sid}" in second.stdout
    assert "I am Ada" in second.stdout
    assert "[shared] the build runs on CI" in second.stdout
    assert "forgot #" in second.stdout

    third = run(["gen", "-s", sid[:10]], tmp_path, [], "/recall build on CI\n/resume nosuch\n")
    assert f"resumed session {sid}" in third.stderr
    assert "nothing remembered about that" in third.stdout
    assert "error: no single generic session matches 'nosuch'" in third.stderr


def test_continue_without_a_session_is_a_usage_error(tmp_path: Path) -> None:
    proc = run(["gen", "--continue"], tmp_path, [], "")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[0] == "error: there is no generic session to continue"
