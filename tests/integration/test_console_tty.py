"""The console on a real terminal: Ctrl-C stops the answer, not the program."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.model


class Terminal:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            args,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            # make the pty the child's controlling terminal, so ^C raises SIGINT there
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self.buffer = ""

    def expect(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{text!r} not seen; got {self.buffer[-500:]!r}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    break
                self.buffer += chunk.decode(errors="replace")
        seen, _, self.buffer = self.buffer.partition(text)
        return seen

    def read_more(self, count: int, timeout: float = 60) -> None:
        """Wait until at least ``count`` more characters have arrived."""
        target = len(self.buffer) + count
        deadline = time.monotonic() + timeout
        while len(self.buffer) < target:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"output stalled; got {self.buffer[-500:]!r}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                self.buffer += os.read(self.master, 4096).decode(errors="replace")

    def send(self, data: str) -> None:
        os.write(self.master, data.encode())

    def close(self, *, kill: bool = False) -> int:
        try:
            if kill:
                self.proc.kill()
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            os.close(self.master)


def test_ctrl_c_stops_the_answer_and_the_console_goes_on(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "OPENAI_", "ANTHROPIC_"))}
    env |= {"AUTOGPT_DATA_DIR": str(tmp_path / "data"), "AUTOGPT_MAX_TOKENS": "600", "TERM": "dumb"}
    term = Terminal([sys.executable, "-m", "autogpt", "gen"], env)
    try:
        term.expect("generic> ")
        question = "Write a long essay on computing history."  # short: no line wrap
        term.send(question + "\r")
        term.expect(question + "\r\n")  # the terminal's echo
        term.read_more(40)  # the answer is streaming (it runs to hundreds of tokens)
        term.send("\x03")  # Ctrl-C
        term.expect("[stopped]", timeout=30)
        term.expect("generic> ")
        term.send("/status\r")
        status = term.expect("generic> ")
        assert "0 request(s) running" in status  # generation really stopped
        term.send("\x04")  # Ctrl-D leaves
        term.expect("bye")
    except BaseException:
        term.close(kill=True)
        raise
    assert term.close() == 0
    assert (tmp_path / "data/history/generic.txt").exists()
