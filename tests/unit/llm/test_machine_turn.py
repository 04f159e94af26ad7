"""Embedded generations on one machine take turns, across threads and processes."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from autogpt.llm.embedded import _machine_turn


def test_a_generation_waits_for_the_one_holding_the_model(tmp_path: Path) -> None:
    lock = str(tmp_path / "model.gguf.lock")
    held = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX)  # another process generating
    entered = threading.Event()

    def generate() -> None:
        with _machine_turn(lock):
            entered.set()

    worker = threading.Thread(target=generate)
    worker.start()
    try:
        assert not entered.wait(0.3)  # still waiting its turn
    finally:
        os.close(held)  # the other generation ends
    assert entered.wait(10)
    worker.join(10)


def test_an_unwritable_place_does_not_block_generation(tmp_path: Path) -> None:
    with _machine_turn(str(tmp_path / "missing-dir" / "model.gguf.lock")):
        pass  # no lock file can be made there: go ahead unlocked
