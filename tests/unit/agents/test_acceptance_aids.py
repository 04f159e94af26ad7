"""What the model's rule-breaking requests must be before they become examples."""

from __future__ import annotations

from typing import Any

import pytest

from autogpt.agents.acceptance_aids import (
    DraftExample,
    DraftExamples,
    ReadAnswers,
    Resource,
    Table,
    TableKeys,
    answered,
    as_examples,
    contradicted,
    derived_checks,
    disagreements,
    examples_prompt,
    key_checks,
    keys_prompt,
    mended,
    resource_body,
    rule_checks,
    second_readable,
    table_drafts,
    table_keys,
)
from autogpt.mind.idea import read_stated

STATED = read_stated(
    'POST /signup with {"email": "a@b.co", "password": "secret123"} returns 201. GET /convert?c=100 returns 212.'
)


def problems(*drafts: dict[str, Any]) -> list[str]:
    value = DraftExamples.model_validate({"examples": list(drafts)})
    return [p for check in rule_checks(STATED) for p in check(value)]


@pytest.mark.parametrize(
    ("draft", "problem"),
    [
        ({"method": "POST", "path": "/signup", "body": {"email": "nobody", "password": "secret123"}}, None),
        ({"method": "GET", "path": "/convert", "query": {"c": "abc"}}, None),
        ({"method": "POST", "path": "/login", "body": {}}, "POST /login is not one of the API's requests"),
        (
            {"method": "POST", "path": "/signup", "body": {"email": "a@b.co", "password": "secret123"}},
            "POST /signup is a request that succeeds",
        ),
        # the stated request sends a body: a refusal that moves the input into the query breaks nothing
        (
            {"method": "POST", "path": "/signup", "query": {"email": "nobody"}},
            "POST /signup sends its input as a JSON body, not a query",
        ),
    ],
)
def test_rule_breaking_requests_are_the_ideas_own_and_really_differ(draft: dict[str, Any], problem: str | None) -> None:
    found = problems(draft)
    assert found == [] if problem is None else found[0].startswith(problem), found


def test_a_derived_input_the_idea_never_names_is_refused() -> None:
    from autogpt.agents.acceptance_aids import derived_checks

    idea = "Every POST /likes adds one like; GET /likes tells how many, with the km in a query parameter named km"
    drafts = DraftExamples.model_validate({"examples": [
        {"method": "POST", "path": "/likes", "body": {"user_id": "123"}},
        {"method": "GET", "path": "/likes", "query": {"km": "10"}},
    ]})  # fmt: skip
    found = [p for check in derived_checks(idea) for p in check(drafts)]
    assert found == ["the idea never names user_id; send only inputs the idea speaks of"]


def test_a_drafted_amount_written_as_a_string_is_expected_as_a_number() -> None:
    drafts = DraftExamples.model_validate(
        {"examples": [{"method": "GET", "path": "/km-to-miles", "query": {"km": "10"},
                       "response": {"miles": "6.21371", "rows": ["1", "-2"], "zip": "007", "name": "ten"}}]}
    )  # fmt: skip
    (example,) = as_examples(drafts)
    assert example.response == {"miles": 6.21371, "rows": [1, -2], "zip": "007", "name": "ten"}
    assert example.query == {"km": "10"}  # what is sent stays as written


def test_fields_the_server_fills_in_are_not_sent() -> None:
    resource = Resource.model_validate(
        {"plural": "tasks", "fields": [{"name": "title", "example": "Buy milk"},
                                       {"name": "created_at", "example": "2023-04-10T12:34:56Z"},
                                       {"name": "updated", "example": "2023-04-10"},
                                       {"name": "due_date", "example": "2023-05-01"},
                                       {"name": "note", "example": "2%"}]}
    )  # fmt: skip
    assert resource_body(resource) == ("tasks", {"title": "Buy milk", "due_date": "2023-05-01", "note": "2%"})


def test_a_table_the_idea_counts_is_looked_up_entry_by_entry() -> None:
    idea = 'GET /elements/H returns {"name": "Hydrogen", "number": 1}. It should know the first ten elements.'
    table = Table(10, "elements", "/elements", "H")
    assert "one GET /elements/<key> for each of those 10 elements" in examples_prompt(idea, table)
    assert "each of those" not in examples_prompt(idea)

    def drafts(*symbols: str) -> DraftExamples:
        rows = [{"method": "GET", "path": f"/elements/{s}", "response": {"name": s}} for s in symbols]
        return DraftExamples.model_construct(
            examples=[
                DraftExample.model_validate(row) for row in [*rows, {"method": "GET", "path": "/x", "status": 404}]
            ]
        )

    def found(value: DraftExamples) -> list[str]:
        return [p for check in derived_checks(idea, table) for p in check(value)]

    ten = ("H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne")
    assert found(drafts(*ten)) == []
    # the model's pick of a few (two outside the first ten) is not the table; a refusal is no entry
    assert found(drafts("H", "O", "C", "N", "P", "S")) == [
        "the idea's table holds 10 elements and you looked up 6: write one GET /elements/<key> for each of the 10"
    ]
    assert found(drafts("H", "H", "He"))
    assert table.lookups(drafts("H", "H", "He")) == {"/elements/H", "/elements/He"}
    assert [p for check in derived_checks(idea) for p in check(drafts("H", "O"))] == []


def test_the_schema_of_a_counted_table_asks_for_an_entry_each() -> None:
    row = {"method": "GET", "path": "/elements/H", "response": {"name": "Hydrogen"}}
    schema = table_drafts(10).model_json_schema()
    assert (schema["properties"]["examples"]["minItems"], schema["properties"]["examples"]["maxItems"]) == (10, 12)
    with pytest.raises(ValueError, match="at least 10"):
        table_drafts(10).model_validate({"examples": [row] * 6})
    assert len(table_drafts(10).model_validate({"examples": [row] * 11}).examples) == 11


def test_the_keys_of_a_counted_table_are_named_first_and_then_each_looked_up() -> None:
    idea = 'GET /elements/H returns {"name": "Hydrogen", "number": 1}. It should know the first ten elements.'
    table = Table(10, "elements", "/elements", "H")
    assert "List the key of each of the 10 elements" in keys_prompt(idea, table)
    assert "GET /elements/H)" in keys_prompt(idea, table)
    with pytest.raises(ValueError, match="at least 10"):
        table_keys(10).model_validate({"keys": ["H", "He"]})
    with pytest.raises(ValueError, match="pattern"):
        table_keys(2).model_validate({"keys": ["H", "../x"]})

    def key_problems(*keys: str) -> list[str]:
        return [
            p for check in key_checks(Table(3, "elements", "/elements", "H")) for p in check(TableKeys(keys=list(keys)))
        ]

    assert key_problems("H", "He", "Li") == []
    assert key_problems("H", "He", "He") == ["He listed more than once: list 3 different keys"]
    assert key_problems("He", "Li", "Be") == ["H is one of them (the idea looks it up)"]

    named = Table(3, "elements", "/elements", "H", ("H", "He", "Li"))
    assert "for each of those 3: H, He, Li" in examples_prompt(idea, named)
    drafts = DraftExamples.model_construct(examples=[
        DraftExample.model_validate({"method": "GET", "path": f"/elements/{s}", "response": {"name": s}})
        for s in ("H", "O", "C")
    ])  # fmt: skip
    assert [p for check in derived_checks(idea, named) for p in check(drafts)] == [
        "no example looks up He, Li: write one GET /elements/<key> for each of them"
    ]


@pytest.mark.parametrize(
    ("drafts", "clashes"),
    [
        # POST answers the new count; the GET straight after must read the same
        ([("POST", "/likes", {}, {"likes": 2}), ("GET", "/likes", {}, {"likes": 3})], [1]),
        ([("POST", "/likes", {}, {"likes": 2}), ("GET", "/likes", {}, {"likes": 2})], []),
        ([("POST", "/likes", {}, {"likes": "2"}), ("GET", "/likes", {}, {"likes": 2})], []),  # read as numbers
        # another path, other keys, other inputs of a GET: nothing to compare
        ([("POST", "/hit", {}, {"count": 1}), ("GET", "/count", {}, {"count": 0})], []),
        ([("POST", "/likes", {}, {"ok": True}), ("GET", "/likes", {}, {"likes": 3})], []),
        ([("GET", "/add", {"a": "1"}, {"sum": 1}), ("GET", "/add", {"a": "2"}, {"sum": 2})], []),
        ([("GET", "/likes", {}, {"likes": 0}), ("GET", "/likes", {}, {"likes": 1})], [1]),
        # a DELETE between changes what the read sees
        (
            [("POST", "/likes", {}, {"likes": 2}), ("DELETE", "/likes", {}, None), ("GET", "/likes", {}, {"likes": 0})],
            [],
        ),
    ],
)
def test_a_read_that_contradicts_the_answer_just_before_it_is_found(
    drafts: list[tuple[str, str, dict[str, str], dict[str, Any] | None]], clashes: list[int]
) -> None:
    value = DraftExamples.model_validate({"examples": [
        {"method": m, "path": p, "query": q, "response": r} for m, p, q, r in drafts
    ]})  # fmt: skip
    assert [i for i, _ in contradicted(value)] == clashes


def test_a_contradicted_read_is_mended_to_the_answer_before_it_and_nothing_else_moves() -> None:
    value = DraftExamples.model_validate({"examples": [
        {"method": "POST", "path": "/likes", "response": {"likes": 1}},
        {"method": "POST", "path": "/likes", "response": {"likes": 2}},
        {"method": "GET", "path": "/likes", "response": {"likes": 3, "page": "home"}},
    ]})  # fmt: skip
    fixed = mended(value)
    assert [d.response for d in fixed.examples] == [{"likes": 1}, {"likes": 2}, {"likes": 2, "page": "home"}]
    assert contradicted(fixed) == []
    assert value.examples[2].response == {"likes": 3, "page": "home"}  # the draft itself is left as it was


def test_refusals_the_model_adds_are_taken_out_and_counted() -> None:
    value = DraftExamples.model_validate({"examples": [
        {"method": "GET", "path": "/vowels/sky", "response": {"vowels": 0}},
        {"method": "GET", "path": "/vowels/123", "status": 400},
        {"method": "GET", "path": "/go/x", "status": 302},
    ]})  # fmt: skip
    kept, refusals = answered(value)
    assert [d.path for d in kept.examples] == ["/vowels/sky", "/go/x"]
    assert refusals == 1
    assert "400" not in examples_prompt("count the vowels of a word")


def test_a_draft_of_refusals_only_is_asked_again() -> None:
    """Derived for "what it knows beyond /capital/France", the model wrote one refusal; left out,
    nothing checked the table, and the build failed unchecked. Such a draft is re-asked."""
    idea = 'A capital lookup of at least France, Germany and Japan: GET /capital/France returns {"capital": "Paris"}.'
    refusals = DraftExamples.model_validate({"examples": [{"method": "GET", "path": "/capital/Mars", "status": 404}]})
    problems = [p for check in derived_checks(idea) for p in check(refusals)]
    assert problems == [
        "every request you wrote is refused (status 400 or more), and the idea states no such rule: write requests "
        "the API answers (status 2xx or 3xx), with what it answers"
    ]
    mixed = DraftExamples.model_validate({"examples": [
        {"method": "GET", "path": "/capital/Mars", "status": 404},
        {"method": "GET", "path": "/capital/Germany", "response": {"capital": "Berlin"}},
    ]})  # fmt: skip
    assert [p for check in derived_checks(idea) for p in check(mixed)] == []  # the refusal is just left out


def reads(*answers: dict[str, Any]) -> DraftExamples:
    return DraftExamples(
        examples=[DraftExample(method="GET", path=f"/x/{i}", response=a) for i, a in enumerate(answers)]
    )


@pytest.mark.parametrize(
    ("drafted", "again", "left_out"),
    [
        pytest.param(
            [{"miles": 6.21}, {"miles": 1}], [{"miles": "6.21"}, {"miles": 2}], {1}, id="numerals read as numbers"
        ),
        pytest.param(
            [{"a": 1, "b": 2}, {"a": 3}], [{"a": 1}, {"b": 9}], set(), id="a key it leaves out decides nothing"
        ),
        pytest.param(
            [{"leap": False}, {"leap": True}], [{"leap": False}] * 2, {1}, id="one answer for all still counts"
        ),
        pytest.param([{"leap": False}, {"leap": True}], [{"leap": True}], set(), id="answers for other requests"),
        pytest.param([{"n": 1}, {"n": 1}], [{"n": 2}, {"n": 2}], {0, 1}, id="the drafts the same too: both wrong"),
    ],
)
def test_a_second_reading_leaves_out_only_the_drafts_it_contradicts(
    drafted: list[dict[str, Any]], again: list[dict[str, Any]], left_out: set[int]
) -> None:
    assert set(disagreements(reads(*drafted), ReadAnswers(answers=again))) == left_out


def test_only_a_whole_api_of_reads_with_answers_is_read_again() -> None:
    assert second_readable(reads({"a": 1}, {"a": 2}), [])
    assert not second_readable(reads({"a": 1}), [])  # one draft: nothing to compare it with
    posting = DraftExamples(
        examples=[DraftExample(method="POST", path="/x", response={"a": 1}), *reads({"a": 2}).examples]
    )
    assert not second_readable(posting, [])  # a POST before a read: the answer depends on the order
    assert not second_readable(reads({"a": 1}, {}), [])  # a draft that says nothing comes back
