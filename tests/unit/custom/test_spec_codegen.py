"""agent.yaml: checked with errors that name file, line and field; turned into a module to extend."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autogpt.agents.catalog import agent_class, find_role
from autogpt.cli.custom import scaffold
from autogpt.custom.codegen import generate
from autogpt.custom.declared import declared_class, load_agent
from autogpt.custom.spec import load_spec, parse_spec
from autogpt.errors import ConfigError, InvalidInputError
from autogpt.iac.envelope import Address, Command
from autogpt.iac.memory import InMemoryHub
from autogpt.llm.doubles import FunctionLLM

GOOD = """\
name: HaikuGPT
role: haiku
persona: You write haiku about software.
capabilities: [llm.chat, fs.write]
actions:
  write:
    help: a haiku about the input
    prompt: "Write a haiku about {input} in {language}."
  keep:
    help: a haiku, saved
    prompt: "Haiku: {input}"
    save: haiku.txt
examples:
  - input: tests
    expect: {contains: [test], max_lines: 3}
"""


def test_a_good_spec_parses_and_the_first_action_is_main() -> None:
    spec = parse_spec(GOOD)
    assert (spec.name, spec.role, spec.main, spec.module_name) == ("HaikuGPT", "haiku", "write", "haiku_agent")
    assert spec.examples[0].expect.problems("a test\nof tests") == []
    assert spec.examples[0].expect.problems("a\nb\nc\nd") == ["does not contain 'test'", "has 4 lines (at most 3)"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("role: haiku", "role: backend"), "agent.yaml:2: role: 'backend' is a built-in role"),
        (("name: HaikuGPT", "name: haiku gpt"), "agent.yaml:1: name: must be a class name"),
        (('    prompt: "Haiku: {input}"', "    prompt: Haiku"), "agent.yaml:11: actions.keep.prompt: the prompt must"),
        (("    help: a haiku, saved\n", ""), "agent.yaml:9: actions.keep.help: Field required"),
        (("llm.chat, fs.write", "llm.chat, fs.wrte"), "agent.yaml:4: capabilities: unknown fs.wrte"),
        (("llm.chat, fs.write", "llm.chat"), "an action saves files, so capabilities must include fs.write"),
        (("  write:", "  help:"), "action 'help' is built into every agent"),
        (("persona: You", "persona: [You"), "agent.yaml:4: not valid YAML"),
        (("examples:", "colour: blue\nexamples:"), "agent.yaml:13: colour: Extra inputs are not permitted"),
    ],
)
def test_problems_name_the_line_and_the_field(change: tuple[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_spec(GOOD.replace(*change), "agent.yaml")
    assert message in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_spec("name: x\nrole: Y\npersona: p\nactions: {}\n", "a.yaml")
    lines = str(caught.value).splitlines()
    assert [line.split(":")[:3] for line in lines] == [
        ["a.yaml", "1", " name"],
        ["a.yaml", "2", " role"],
        ["a.yaml", "4", " actions"],
    ]


def test_new_scaffolds_a_valid_agent_and_refuses_to_overwrite(tmp_path: Path) -> None:
    spec = scaffold(tmp_path / "code-review")
    assert (spec.name, spec.role) == ("CodeReviewGPT", "code-review")
    assert load_spec(tmp_path / "code-review") == spec
    assert "autogpt build" in (tmp_path / "code-review" / "README.md").read_text()
    with pytest.raises(ConfigError, match="already exists"):
        scaffold(tmp_path / "code-review")
    with pytest.raises(ConfigError, match="built-in role"):
        scaffold(tmp_path / "backend")
    with pytest.raises(InvalidInputError):
        scaffold(tmp_path / "9lives")


async def test_the_generated_module_is_clean_typed_code_that_runs(tmp_path: Path) -> None:
    (tmp_path / "agent.yaml").write_text(GOOD)
    built = generate(load_spec(tmp_path), tmp_path)
    assert built.module == tmp_path / "haiku_agent.py"
    assert 'haiku = "haiku_agent:HaikuGPT"' in (tmp_path / "pyproject.toml").read_text()
    _, cls = load_agent(tmp_path)
    assert (cls.__module__, cls.__name__) == ("autogpt_custom_haiku_agent", "HaikuGPT")
    seen: list[str] = []

    def reply(messages: list[object], options: object) -> str:
        seen.append(str(messages[-1]))
        return "code compiles\nsilence of the tests\nall green at last"

    hub = InMemoryHub()
    from autogpt.tools.workspace import Workspace

    agent = cls(FunctionLLM(reply), hub.connect("haiku"), workspace=Workspace(tmp_path / "ws"))  # type: ignore[arg-type]
    serving = asyncio.create_task(agent.serve())
    user = hub.connect("user", agent_id="user")
    plain = await user.call(Address.role("haiku"), Command("run", "tests", "python"))
    saved = await user.call(Address.role("haiku"), Command("keep", "rain"))
    await agent.bus.close()
    await serving
    assert plain.output.startswith("code compiles")
    assert "Write a haiku about tests in python." in seen[0]
    assert [a.path for a in saved.artifacts] == ["haiku.txt"]
    assert (tmp_path / "ws" / "haiku.txt").read_text().startswith("code compiles")


def test_the_generated_module_passes_lint(tmp_path: Path) -> None:
    (tmp_path / "agent.yaml").write_text(GOOD)
    built = generate(load_spec(tmp_path), tmp_path)
    ruff = Path(sys.executable).with_name("ruff")
    rules = ["--isolated", "--select", "E,F,W,I,UP,B", "--line-length", "200"]
    lint = subprocess.run([ruff, "check", *rules, built.module], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout


def test_an_edited_module_is_kept_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "agent.yaml").write_text(GOOD)
    spec = load_spec(tmp_path)
    first = generate(spec, tmp_path)
    assert not generate(spec, tmp_path).written  # unchanged: nothing to do
    (tmp_path / "agent.yaml").write_text(GOOD.replace("You write haiku", "You write tanka"))
    assert generate(load_spec(tmp_path), tmp_path).written  # untouched by hand: regenerated
    first.module.write_text(first.module.read_text() + "\n# mine\n")
    with pytest.raises(ConfigError, match="was edited"):
        generate(load_spec(tmp_path), tmp_path)
    assert "# mine" in first.module.read_text()
    assert generate(load_spec(tmp_path), tmp_path, force=True).written
    assert "# mine" not in first.module.read_text()


def test_declared_class_needs_no_generated_code() -> None:
    cls = declared_class(parse_spec(GOOD))
    assert (cls.name, cls.role, cls.main_action) == ("HaikuGPT", "haiku", "write")


def test_installed_agents_are_found_by_their_role(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "agent.yaml").write_text(GOOD)
    generate(load_spec(tmp_path), tmp_path)
    dist = tmp_path / "autogpt_agent_haiku-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: autogpt-agent-haiku\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent("[autogpt.agents]\nhaiku = haiku_agent:HaikuGPT\n"))
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = find_role("haiku")
    assert (spec.role, spec.impl) == ("haiku", "haiku_agent:HaikuGPT")
    assert agent_class(spec).name == "HaikuGPT"
    with pytest.raises(InvalidInputError, match=r"agents: .*haiku"):
        find_role("limerick")
