"""A prompt with no action goes to the agent's main action, wherever it is typed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from autogpt.agents.base import Agent, Context, action
from autogpt.agents.generic import GenericGPT
from autogpt.agents.git import GitGPT
from autogpt.cli.netconsole import NetLine, parse_net_line, plain_line
from autogpt.iac.bus import Bus
from autogpt.iac.envelope import Address, Command, Result
from autogpt.iac.memory import InMemoryHub
from autogpt.llm.doubles import ScriptedLLM


class Builder(Agent):
    name = "BuilderGPT"
    role = "builder"

    @action("create", help="make it")
    async def create(self, command: Command, ctx: Context) -> Result:
        return Result(output=f"created {command.input}")

    @action("inspect", help="look at it")
    async def inspect(self, command: Command, ctx: Context) -> Result:
        return Result(output=f"inspected {command.input}")


class Poet(Agent):
    name = "PoetGPT"
    role = "poet"
    main_action = "verse"

    @action("verse", help="a verse", aliases=("poem",))
    async def verse(self, command: Command, ctx: Context) -> Result:
        return Result(output=f"verse on {command.input}")

    @action("prose", help="prose")
    async def prose(self, command: Command, ctx: Context) -> Result:
        return Result(output="prose")


@pytest.fixture
async def user() -> AsyncIterator[Bus]:
    hub = InMemoryHub()
    agents = [cls(ScriptedLLM([]), hub.connect(cls.role)) for cls in (Builder, Poet)]
    serving = [asyncio.create_task(a.serve()) for a in agents]
    yield hub.connect("user", agent_id="user")
    for agent in agents:
        await agent.bus.close()
    await asyncio.gather(*serving)


async def test_a_plain_prompt_runs_create_when_there_is_no_run(user: Bus) -> None:
    result = await user.call(Address.role("builder"), Command("run", "a todo api"))
    assert result.output == "created a todo api"


async def test_a_declared_main_action_takes_plain_prompts(user: Bus) -> None:
    assert (await user.call(Address.role("poet"), Command("run", "rain"))).output == "verse on rain"
    assert (await user.call(Address.role("poet"), Command("", "sun"))).output == "verse on sun"


async def test_help_marks_the_main_action_and_lists_aliases(user: Bus) -> None:
    result = await user.call(Address.role("poet"), Command("help"))
    assert "verse" in result.output
    assert "(plain prompts)" in next(line for line in result.output.splitlines() if "verse" in line)
    assert result.data["main"] == "verse"
    assert result.data["aliases"] == {"poem": "verse"}
    built_in = {"help", "status", "terminate", "remember", "recall", "forget"}
    assert set(result.data["actions"]) == built_in | {"verse", "prose"}


def test_built_in_agents_main_actions() -> None:
    hub = InMemoryHub()
    assert GenericGPT(ScriptedLLM([]), hub.connect("generic")).main == "run"
    assert GitGPT(ScriptedLLM([]), hub.connect("git")).main == "commit"


def test_net_lines_carry_the_line_read_as_a_prompt_too() -> None:
    line = parse_net_line("/gen explain closures | python")
    assert isinstance(line, NetLine)
    assert line.command == Command("explain", "closures", "python")
    assert line.prompt == Command("run", "explain closures", "python")  # sent if 'explain' is no action
    quoted = parse_net_line('/architect "fastapi app"')
    assert isinstance(quoted, NetLine)
    assert quoted.to == Address.role("architect")
    assert quoted.prompt == Command("run", "fastapi app")


def test_plain_net_lines_go_to_the_last_agent_and_custom_roles_parse() -> None:
    custom = parse_net_line("/haiku autumn rain")
    assert isinstance(custom, NetLine)
    assert (custom.to, custom.listed) == (Address.role("haiku"), False)
    follow = plain_line("and then snow | english", custom)
    assert (follow.to, follow.command) == (Address.role("haiku"), Command("run", "and then snow", "english"))


def test_an_agent_announces_every_action_it_answers() -> None:
    """What a Register lists (:meth:`Agent.offered_actions`): own actions and their aliases,
    the built-ins, ``run`` for plain prompts and ``fetch`` for offered files; no others."""
    built_in = {"help", "status", "terminate", "remember", "recall", "forget", "run", "fetch"}
    assert set(Poet.offered_actions()) == built_in | {"verse", "poem", "prose"}
    assert set(Builder.offered_actions()) == built_in | {"create", "inspect"}
    assert list(Poet.offered_actions()) == sorted(Poet.offered_actions())
