"""``autogpt schedule`` as a user runs it: real subprocesses, scripted model, a pretend clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

AUTOGPT = [sys.executable, "-m", "autogpt"]


def run(args: list[str], tmp_path: Path, replies: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "OPENAI_", "ANTHROPIC_"))}
    env.update(
        AUTOGPT_PROVIDER="scripted",
        AUTOGPT_SCRIPT=json.dumps(replies or []),
        AUTOGPT_DATA_DIR=str(tmp_path / "data"),
        AUTOGPT_EMBEDDER="hash",
    )
    return subprocess.run(
        AUTOGPT + args, capture_output=True, text=True, env=env, timeout=60, check=False, cwd=tmp_path
    )


def test_bad_cron_line_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = run(["schedule", "add", "61 * * * *", "/gen run hi"], tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("error: bad cron line '61 * * * *'")
    assert lines[1].startswith("hint: five fields")
    assert len(lines) == 2


def test_add_list_run_a_missed_entry_once_then_remove(tmp_path: Path) -> None:
    added = run(["schedule", "add", "0 * * * *", "/gen run say hello"], tmp_path)
    assert added.returncode == 0, added.stderr
    assert "added entry 1: 0 * * * * -> /gen run say hello" in added.stdout
    later = str(time.time() + 3 * 3600)
    first = run(["schedule", "run", "--once", "--now", later], tmp_path, ["hello there"])
    assert first.returncode == 0, first.stderr
    assert "missed since" in first.stderr
    assert "run #1 of entry 1 ok: hello there" in first.stderr
    again = run(["schedule", "run", "--once", "--now", later], tmp_path, ["never sent"])
    assert again.returncode == 0
    assert "run #" not in again.stderr
    listed = run(["schedule", "list"], tmp_path)
    assert "last run #1 ok (missed)" in listed.stdout
    history = run(["schedule", "runs"], tmp_path)
    assert "#1    entry 1   ok       missed  hello there" in history.stdout
    removed = run(["schedule", "remove", "1"], tmp_path)
    assert "removed entry 1" in removed.stdout
    assert "no entries" in run(["schedule", "list"], tmp_path).stdout
    unknown = run(["schedule", "remove", "7"], tmp_path)
    assert unknown.returncode == 2
    assert "error: there is no schedule entry 7" in unknown.stderr
