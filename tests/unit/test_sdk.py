from __future__ import annotations

import subprocess
import sys

import pytest

import autogpt


def test_the_sdk_names_resolve_to_their_modules() -> None:
    from autogpt.agents.base import Agent
    from autogpt.llm.doubles import ScriptedLLM

    assert autogpt.Agent is Agent
    assert autogpt.ScriptedLLM is ScriptedLLM
    for name in autogpt.__all__:
        assert getattr(autogpt, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = autogpt.Nope  # type: ignore[attr-defined]


def test_importing_the_package_stays_cheap() -> None:
    code = "import sys, autogpt; print('pydantic' in sys.modules, 'grpc' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_all_lists_exactly_the_exports() -> None:
    assert sorted(autogpt.__all__) == sorted(autogpt._EXPORTS)
