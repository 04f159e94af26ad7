"""Small promises of the command line: NO_COLOR, `-p -`, an inline script."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

AUTOGPT = [sys.executable, "-m", "autogpt"]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "OPENAI_", "ANTHROPIC_", "NO_COLOR"))}
    env |= {"AUTOGPT_PROVIDER": "scripted", "AUTOGPT_DATA_DIR": str(tmp_path / "data"), "TERM": "xterm"}
    return env | extra


def console_on_a_terminal(args: list[str], env: dict[str, str], line: str, timeout: float = 60) -> str:
    """What a console writes to a real terminal when ``line`` is typed at its prompt and
    Ctrl-D follows at the next one."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    seen = ""
    deadline = time.monotonic() + timeout

    def until(text: str, start: int) -> int:
        nonlocal seen
        while (at := seen.find(text, start)) < 0:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{text!r} not seen; got {seen[-400:]!r}"
            if select.select([master], [], [], remaining)[0]:
                seen += os.read(master, 4096).decode(errors="replace")
        return at + len(text)

    try:
        after_prompt = until("> ", 0)
        os.write(master, line.encode() + b"\r")
        until("> ", after_prompt)
        os.write(master, b"\x04")
        until("bye", 0)
        assert proc.wait(timeout=max(1.0, deadline - time.monotonic())) == 0, seen
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return seen


@pytest.mark.parametrize("no_color", [False, True])
def test_no_color_leaves_out_every_escape_code(tmp_path: Path, no_color: bool) -> None:
    env = clean_env(tmp_path, AUTOGPT_SCRIPT=json.dumps(["Hello from the model."]))
    if no_color:
        env["NO_COLOR"] = "1"
    shown = console_on_a_terminal([*AUTOGPT, "--workspace", str(tmp_path / "ws"), "gen"], env, "hi")
    assert "Hello from the model." in shown
    assert ("\x1b[" in shown) is not no_color, shown


def test_dash_p_dash_reads_the_prompt_from_standard_input(tmp_path: Path) -> None:
    env = clean_env(tmp_path, AUTOGPT_SCRIPT='["It reads stdin."]')
    proc = subprocess.run(
        [*AUTOGPT, "-p", "-"], input="what is 2+2?\n", capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert (proc.returncode, proc.stdout) == (0, "It reads stdin.\n"), proc.stderr


def test_dash_p_dash_with_nothing_on_standard_input_is_a_usage_error(tmp_path: Path) -> None:
    env = clean_env(tmp_path, AUTOGPT_SCRIPT='["unused"]')
    proc = subprocess.run([*AUTOGPT, "-p", "-"], input="", capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2
    assert "standard input, which was empty" in proc.stderr
