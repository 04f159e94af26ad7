"""complete_structured: schema sent to the model, replies validated, bounded repair."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from autogpt.errors import StructuredOutputError
from autogpt.llm.base import Completion, Message, Options, Usage
from autogpt.llm.doubles import ScriptedLLM
from autogpt.llm.structured import complete_structured, extract_json


class Plan(BaseModel):
    title: str
    steps: list[str]
    effort: int


VALID = '{"title": "CLI todo app", "steps": ["parse args", "store items"], "effort": 3}'
EXPECTED = Plan(title="CLI todo app", steps=["parse args", "store items"], effort=3)
ASK = [Message.system("You plan software."), Message.user("Plan a todo app.")]


async def test_first_valid_reply_needs_one_attempt() -> None:
    llm = ScriptedLLM([Completion(VALID, usage=Usage(11, 7))])
    result = await complete_structured(llm, ASK, Plan)
    assert result.value == EXPECTED
    assert result.attempts == 1
    assert result.usage == Usage(11, 7)
    assert result.completion.text == VALID
    assert len(llm.calls) == 1
    assert list(llm.calls[0].messages) == ASK


async def test_invalid_then_valid_is_repaired() -> None:
    llm = ScriptedLLM(
        [
            Completion("Sure! I think the plan is to write some code.", usage=Usage(20, 10)),
            Completion(VALID, usage=Usage(45, 12)),
        ]
    )
    result = await complete_structured(llm, ASK, Plan)

    assert result.value == EXPECTED
    assert result.attempts == 2
    assert result.usage == Usage(65, 22)
    assert result.completion.text == VALID
    assert llm.remaining == 0

    second = llm.calls[1].messages
    assert list(second[:2]) == ASK  # the original request is kept
    assert second[2] == Message.assistant("Sure! I think the plan is to write some code.")
    repair = second[3]
    assert repair.role == "user"
    assert "invalid json" in repair.content.lower()
    schema = Plan.model_json_schema()
    assert json.dumps(schema, separators=(",", ":")) in repair.content
    assert '"effort"' in repair.content


async def test_schema_violation_error_names_the_fields() -> None:
    llm = ScriptedLLM(['{"title": "x", "steps": "not a list"}', VALID])
    result = await complete_structured(llm, ASK, Plan)
    assert result.attempts == 2
    repair = llm.calls[1].messages[-1].content
    assert "steps" in repair
    assert "effort" in repair  # missing field
    assert "Field required" in repair
    assert "valid array" in repair


@pytest.mark.parametrize(
    "reply",
    [
        f"```json\n{VALID}\n```",
        f"```\n{VALID}\n```",
        f"Here is the plan:\n```json\n{VALID}\n```\nHope that helps!",
        f"Here is the plan: {VALID} Let me know if you need more.",
        f"  \n{VALID}\n\n",
    ],
)
async def test_fenced_or_wrapped_replies_parse(reply: str) -> None:
    llm = ScriptedLLM([reply])
    result = await complete_structured(llm, ASK, Plan)
    assert result.value == EXPECTED
    assert result.attempts == 1


async def test_object_followed_by_prose_parses() -> None:
    llm = ScriptedLLM([f"{VALID}\nHope that helps!", VALID])
    result = await complete_structured(llm, ASK, Plan)
    assert result.value == EXPECTED
    assert result.attempts == 1


def test_extract_json_shapes() -> None:
    assert extract_json('{"a": 1}') == '{"a": 1}'
    assert extract_json('```json\n{"a": 1}\n```') == '{"a": 1}'
    assert extract_json('prose {"a": {"b": 2}} more prose') == '{"a": {"b": 2}}'
    assert extract_json("no json at all") == "no json at all"
    assert extract_json(" [1, 2] ") == "[1, 2]"


@pytest.mark.parametrize("repairs", [0, 1, 2, 4])
async def test_always_invalid_gives_up_after_bounded_repairs(repairs: int) -> None:
    replies = [f"not json, attempt {i}" for i in range(repairs + 1)]
    llm = ScriptedLLM([*replies, VALID])  # a valid reply that must never be reached
    with pytest.raises(StructuredOutputError) as info:
        await complete_structured(llm, ASK, Plan, repairs=repairs)

    err = info.value
    assert len(llm.calls) == repairs + 1
    assert llm.remaining == 1
    assert err.last_reply == replies[-1]
    assert "Plan" in err.message
    assert f"{repairs + 1} attempts" in err.message
    assert "scripted" in err.message
    assert err.hint is not None
    assert "invalid json" in err.hint.lower()


async def test_repair_history_grows_by_one_exchange_per_attempt() -> None:
    llm = ScriptedLLM(["bad 1", "bad 2", VALID])
    result = await complete_structured(llm, ASK, Plan, repairs=2)
    assert result.attempts == 3
    assert [len(c.messages) for c in llm.calls] == [2, 4, 6]
    assert llm.calls[2].messages[2] == Message.assistant("bad 1")
    assert llm.calls[2].messages[4] == Message.assistant("bad 2")


async def test_schema_and_name_go_to_the_llm_in_options() -> None:
    llm = ScriptedLLM(["nope", VALID])
    base = Options(max_tokens=128, temperature=0.1, stop=("END",))
    await complete_structured(llm, ASK, Plan, options=base)

    for call in llm.calls:
        assert call.options.json_schema == Plan.model_json_schema()
        assert call.options.schema_name == "Plan"
        assert call.options.max_tokens == 128
        assert call.options.temperature == 0.1
        assert call.options.stop == ("END",)
    assert base.json_schema is None  # the caller's options are not mutated
    assert base.schema_name == "reply"
