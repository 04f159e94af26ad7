"""Attacks on the box generated code runs in. Each test plays the attacker: it plants what
hostile generated code (or a hostile model reply) would, then checks that nothing got out,
nothing was lost, and the work went on or failed honestly.

``marker`` is a host path outside every workspace: an attack that reaches the host makes
it exist. ``outside`` is a host folder outside the workspace and outside ``/tmp``, holding
a secret the attacks try to read."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from autogpt.tools.sandbox import backend_available


@pytest.fixture
def outside() -> Iterator[Path]:
    path = Path("/var/tmp") / f"autogpt-box-test-{uuid.uuid4().hex}"
    path.mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def marker(outside: Path) -> Path:
    return outside / "pwned"


@pytest.fixture
def needs_bwrap() -> None:
    """bwrap is installed by ``make setup`` and in CI; a machine without it skips, saying why."""
    if shutil.which("bwrap") is None or not backend_available("bwrap"):
        pytest.skip("bubblewrap is not installed or cannot create namespaces on this machine")
