from __future__ import annotations

from collections.abc import Iterator

import pytest

from autogpt.memory.recall import close_stores


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    yield
    close_stores()
