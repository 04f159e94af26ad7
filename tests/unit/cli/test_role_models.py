"""A model per role: settings, the standalone team, and the build flag."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autogpt.agents.architect import ArchitectGPT
from autogpt.agents.backend import BackendGPT
from autogpt.agents.manager import ManagerGPT
from autogpt.cli.runtime import Standalone
from autogpt.config import load_settings
from autogpt.errors import ConfigError, InvalidInputError


def scripted(tmp_path: Path, **overrides: object) -> dict[str, object]:
    script = tmp_path / "script.json"
    script.write_text(json.dumps(["ok"]), encoding="utf-8")
    return {"provider": "scripted", "script": script, "workspace": tmp_path / "ws", **overrides}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("architect=big", {"architect": "big"}),
        (" Architect = big , backend=/models/x.gguf ,", {"architect": "big", "backend": "/models/x.gguf"}),
        ("", {}),
    ],
)
def test_role_models_are_read_as_role_equals_model(text: str, expected: dict[str, str]) -> None:
    assert load_settings(role_models=text).role_models == expected


@pytest.mark.parametrize("text", ["architect", "=big", "architect=", "a=b,backend"])
def test_a_malformed_role_model_is_a_clear_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match=r"role_models: .* is not role=model"):
        load_settings(role_models=text)


async def test_each_role_gets_its_model_and_each_model_is_loaded_once(tmp_path: Path) -> None:
    settings = load_settings(**scripted(tmp_path, model="small", role_models="architect=big,backend=big"))
    team = Standalone(settings, ManagerGPT, helpers=(ArchitectGPT, BackendGPT))
    await team.start()
    try:
        by_role = {agent.role: getattr(agent.llm, "inner", agent.llm) for agent in team.team}
        assert {role: llm.model for role, llm in by_role.items()} == {
            "manager": "small",
            "architect": "big",
            "backend": "big",
        }
        assert by_role["architect"] is by_role["backend"]
        assert by_role["manager"] is not by_role["architect"]
    finally:
        await team.stop()


async def test_a_model_for_a_role_the_team_lacks_is_refused(tmp_path: Path) -> None:
    settings = load_settings(**scripted(tmp_path, role_models="designer=big"))
    team = Standalone(settings, ManagerGPT, helpers=(ArchitectGPT,))
    with pytest.raises(InvalidInputError, match="a model is set for designer, which this team does not have"):
        await team.start()


def test_the_build_flag_reaches_the_team(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text("[]", encoding="utf-8")
    argv = [sys.executable, "-m", "autogpt", "build", "a todo API", "--provider", "scripted"]
    argv += ["--workspace", str(tmp_path / "ws"), "--role-model", "architect=big", "--role-model", "mailer=x"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AUTOGPT_SCRIPT": str(script)}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "a model is set for mailer, which this team does not have" in proc.stderr


@pytest.mark.parametrize(
    ("overrides", "backend", "architect"),
    [
        # the embedded provider, no model chosen: the roles writing examples and code are on the larger tier
        ({"provider": "embedded"}, "qwen2.5-coder-1.5b", None),
        # a model chosen for the team is the team's, every role
        ({"provider": "embedded", "model": "qwen2.5-coder-0.5b"}, "qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b"),
        # a role's own choice wins
        ({"provider": "embedded", "role_models": "backend=/m/x.gguf"}, "/m/x.gguf", None),
        # other providers have no embedded defaults
        ({"provider": "openai", "openai_api_key": "k"}, None, None),
    ],
)
def test_the_backends_embedded_default_is_the_larger_tier(
    overrides: dict[str, str], backend: str | None, architect: str | None
) -> None:
    settings = load_settings(**overrides)
    assert (settings.for_role("backend").model, settings.for_role("architect").model) == (backend, architect)


def test_generic_gpt_acts_on_the_larger_tier_by_default() -> None:
    """On the 0.5B, `autogpt gen -p` read the same file eight times and changed nothing."""
    assert load_settings(provider="embedded").for_role("generic").model == "qwen2.5-coder-1.5b"
    chosen = load_settings(provider="embedded", model="qwen2.5-coder-0.5b")
    assert chosen.for_role("generic").model == "qwen2.5-coder-0.5b"


async def test_a_model_handed_in_serves_every_role_no_model_was_chosen_for(tmp_path: Path) -> None:
    from autogpt.llm.doubles import FunctionLLM

    llm = FunctionLLM(lambda messages, options: "ok")
    settings = load_settings(provider="embedded", workspace=tmp_path / "ws")  # backend: 1.5B by default
    team = Standalone(settings, ManagerGPT, llm, helpers=(ArchitectGPT, BackendGPT))
    await team.start()
    try:
        assert all(getattr(agent.llm, "inner", agent.llm) is llm for agent in team.team)
    finally:
        await team.stop()
