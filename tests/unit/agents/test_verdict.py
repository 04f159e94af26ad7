"""The build's verdict is about the idea: it passes only when every acceptance example was run
against the server and held; and the contract as OpenAPI, for any tool to read."""

from __future__ import annotations

import re
from typing import Any

import pytest

from autogpt.agents.handoff import ServerVerification
from autogpt.agents.verdict import Verdict
from autogpt.tools.acceptance import Acceptance, Example, Outcome
from autogpt.tools.contract import ApiContract, Route, routes_for
from autogpt.tools.openapi import to_openapi

CONVERT = Example(method="GET", path="/convert", query={"celsius": "100"}, response={"fahrenheit": 212}, match="subset")
REFUSE = Example(method="GET", path="/convert", query={"celsius": "abc"}, status=400)
ACCEPTANCE = Acceptance(examples=[CONVERT, REFUSE], notes=["2 example(s) stated in the idea, taken verbatim"])


def passed(example: Example, status: int = 200) -> dict[str, Any]:
    outcome = Outcome(example, target=example.label.split(" ", 1)[1], status=status, body="{}")
    return outcome.row()


def failed(example: Example, status: int, problem: str) -> dict[str, Any]:
    outcome = Outcome(example, target=example.label.split(" ", 1)[1], status=status, problems=[problem])
    return outcome.row()


GOOD_ROWS = [passed(CONVERT), passed(REFUSE, 400)]


def verification(rows: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"ok": all(r["ok"] for r in rows), "fix_rounds": 0, "acceptance": rows, "routes": [], **extra}


def typed(checked: dict[str, Any] | None) -> ServerVerification | None:
    return ServerVerification.model_validate(checked) if checked is not None else None


def judge(
    acceptance: Acceptance = ACCEPTANCE,
    checked: dict[str, Any] | None = None,
    *,
    page_ok: bool = True,
    page_planned: bool = False,
    tasks_ok: bool = True,
) -> Verdict:
    return Verdict.of(acceptance, typed(checked), page_ok, page_planned, tasks_ok)


def test_it_passes_only_when_every_example_ran_and_held() -> None:
    verdict = judge(checked=verification(GOOD_ROWS))
    assert verdict.ok
    assert verdict.reasons == []
    assert verdict.headline == "PASSED: the running server answered all 2 acceptance example(s) as the idea asks"
    assert verdict.lines().startswith("**Verdict: PASSED: the running server answered all 2 acceptance example(s)")


def test_a_passing_page_and_a_confined_server_still_pass() -> None:
    verdict = judge(checked=verification(GOOD_ROWS, confined=True), page_ok=True, page_planned=True)
    assert verdict.ok


@pytest.mark.parametrize(
    ("acceptance", "checked", "kwargs", "reason"),
    [
        (Acceptance(), verification([]), {}, "no acceptance examples: the idea states none"),
        (Acceptance(), verification(GOOD_ROWS), {}, "no acceptance examples"),  # rows alone are not examples
        (ACCEPTANCE, None, {}, "the server was not verified: the backend task produced no verification"),
        (
            ACCEPTANCE,
            verification([passed(CONVERT), failed(REFUSE, 200, "status 200, expected 400")]),
            {},
            "1 of 2 acceptance examples failed",
        ),
        (ACCEPTANCE, verification([passed(CONVERT)]), {}, "1 of 2 acceptance examples were run"),
        (ACCEPTANCE, verification([]), {}, "0 of 2 acceptance examples were run"),
        (ACCEPTANCE, verification([*GOOD_ROWS, passed(CONVERT)]), {}, "3 of 2 acceptance examples were run"),
        (ACCEPTANCE, verification(GOOD_ROWS, confined=False), {}, "generated code ran without a confining sandbox"),
        (ACCEPTANCE, {**verification(GOOD_ROWS), "ok": False}, {}, "the server failed its own contract checks"),
        (ACCEPTANCE, verification(GOOD_ROWS), {"page_planned": True, "page_ok": False}, "the page failed its check"),
        (ACCEPTANCE, verification(GOOD_ROWS), {"tasks_ok": False}, "a task failed"),
    ],
)
def test_it_fails_and_says_why(
    acceptance: Acceptance, checked: dict[str, Any] | None, kwargs: dict[str, bool], reason: str
) -> None:
    verdict = judge(acceptance, checked, **kwargs)
    assert not verdict.ok
    assert any(r.startswith(reason) for r in verdict.reasons), verdict.reasons
    assert verdict.headline.startswith("FAILED: ")
    assert reason in verdict.headline
    assert verdict.lines().startswith(f"**Verdict: FAILED: {verdict.reasons[0]}")
    assert "PASSED" not in verdict.lines()


def test_every_reason_is_given_not_just_the_first() -> None:
    rows = [failed(CONVERT, 404, "status 404, expected a 2xx status")]
    verdict = judge(checked=verification(rows, confined=False), page_planned=True, page_ok=False, tasks_ok=False)
    assert verdict.reasons == [
        "1 of 2 acceptance examples were run",
        "1 of 1 acceptance examples failed",
        "generated code ran without a confining sandbox (allowed explicitly)",
        "the page failed its check in the browser",
    ]
    assert verdict.headline == "FAILED: " + "; ".join(verdict.reasons)


def test_a_failed_task_alone_is_named_but_does_not_hide_better_reasons() -> None:
    verdict = judge(checked=None, tasks_ok=False)
    assert verdict.reasons == ["the server was not verified: the backend task produced no verification"]


def test_a_page_not_planned_is_not_judged() -> None:
    assert judge(checked=verification(GOOD_ROWS), page_planned=False, page_ok=False).ok


def test_the_report_opening_shows_every_example_and_its_evidence() -> None:
    rows = [
        failed(CONVERT, 404, 'status 404, expected a 2xx status; body is {"detail": "Not Found"}'),
        passed(REFUSE, 400),
    ]
    text = judge(checked=verification(rows)).lines()
    lines = text.splitlines()
    assert lines[0] == "**Verdict: FAILED: 1 of 2 acceptance examples failed.**"
    assert "- 2 example(s) stated in the idea, taken verbatim" in lines
    table = lines[lines.index("## Acceptance examples") :]
    assert table[2] == "| # | Request | Expected | Got | Passed | Evidence |"
    assert table[4] == (
        '| 1 | `/convert?celsius=100` | 2xx with {"fahrenheit": 212} | 404 | **no** | '
        'status 404, expected a 2xx status; body is {"detail": "Not Found"} |'
    )
    assert table[5] == "| 2 | `/convert?celsius=abc` | 400 | 400 | yes |  |"


def test_report_cells_cannot_break_the_table() -> None:
    example = Example(method="GET", path="/x", text="a|b")
    row = failed(example, 200, "body is 'a/b|c', expected the text 'a|b'")
    text = Verdict.of(Acceptance(examples=[example]), typed(verification([row])), True, False, True).lines()
    [line] = [ln for ln in text.splitlines() if ln.startswith("| 1 |")]
    assert line.count("|") == 7


def test_an_example_never_sent_shows_its_request() -> None:
    example = Example(method="GET", path="/r/{code}", status_class="3xx")
    row = Outcome(example, problems=["no earlier response gave {code}"]).row()
    text = Verdict.of(Acceptance(examples=[example]), typed(verification([row])), True, False, True).lines()
    assert "| 1 | `GET /r/{code}` | 3xx | - | **no** | no earlier response gave {code} |" in text


def test_examples_all_derived_are_flagged_for_the_user() -> None:
    derived = Acceptance(examples=[CONVERT.model_copy(update={"source": "derived"})])
    verdict = Verdict.of(derived, typed(verification([passed(CONVERT)])), True, False, True)
    assert verdict.ok
    assert any("every example was derived from the idea's words" in n for n in verdict.notes)
    assert not any("derived" in n for n in judge(checked=verification(GOOD_ROWS)).notes)


def test_a_pass_says_how_many_of_its_examples_the_model_derived() -> None:
    some = Acceptance(examples=[CONVERT, REFUSE.model_copy(update={"source": "derived"})])
    verdict = Verdict.of(some, typed(verification(GOOD_ROWS)), True, False, True)
    assert verdict.headline == (
        "PASSED: the running server answered all 2 acceptance example(s) as the idea asks "
        "(1 of them derived by the model from the idea's words)"
    )
    assert "derived" not in judge(checked=verification(GOOD_ROWS)).headline  # all stated: nothing to say


# --- to_openapi --------------------------------------------------------------------------------

_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def assert_openapi_3(doc: dict[str, Any]) -> None:
    """The parts of OpenAPI 3.0.3 a reader relies on."""
    assert doc["openapi"] == "3.0.3"
    assert doc["info"]["title"]
    assert doc["info"]["version"]
    ids: list[str] = []
    for path, item in doc["paths"].items():
        assert path.startswith("/")
        templated = re.findall(r"\{([^}]+)\}", path)
        for method, op in item.items():
            assert method in _HTTP_METHODS
            ids.append(op["operationId"])
            params = op.get("parameters", [])
            assert len({(p["name"], p["in"]) for p in params}) == len(params)
            assert all(p["in"] in ("path", "query") and "schema" in p for p in params)
            in_path = [p for p in params if p["in"] == "path"]
            assert sorted(p["name"] for p in in_path) == sorted(templated)
            assert all(p["required"] is True for p in in_path)
            assert op["responses"]
            for code, response in op["responses"].items():
                assert re.fullmatch(r"[1-5][0-9][0-9]", code)
                assert isinstance(response["description"], str)
            if "requestBody" in op:
                assert "application/json" in op["requestBody"]["content"]
    assert len(ids) == len(set(ids)), "operationId must be unique"


def contract_from_examples() -> ApiContract:
    acceptance = Acceptance(
        examples=[
            Example(method="POST", path="/todos", body={"title": "milk", "done": False}, status=201,
                    response={"title": "milk"}, match="subset"),
            Example(method="GET", path="/todos", response=[{"title": "milk"}], match="subset"),
            Example(method="GET", path="/todos/1", response={"title": "milk"}, match="subset"),
            Example(method="GET", path="/todos/99", status=404, said="an unknown todo"),
            Example(method="DELETE", path="/todos/1", status=204),
            CONVERT,
            Example(method="GET", path="/convert", query={"celsius": "abc"}, status=400, said="not a number"),
            Example(method="GET", path="/r/abc", status_class="3xx", headers={"location": "https://example.org"}),
            Example(method="GET", path="/hello", text="hello world"),
        ]
    )  # fmt: skip
    return ApiContract(name="everything-api", routes=routes_for(acceptance))


def test_to_openapi_describes_every_route() -> None:
    doc = to_openapi(contract_from_examples())
    assert_openapi_3(doc)
    assert doc["info"] == {"title": "everything-api", "version": "1.0.0"}
    assert {p: sorted(ops) for p, ops in doc["paths"].items()} == {
        "/todos": ["get", "post"],
        "/todos/{id}": ["delete", "get"],
        "/convert": ["get"],
        "/r/abc": ["get"],  # no earlier answer gave "abc": the path stays as written
        "/hello": ["get"],
    }


def test_path_parameters_and_query_parameters() -> None:
    doc = to_openapi(contract_from_examples())
    item = doc["paths"]["/todos/{id}"]["get"]
    assert item["parameters"] == [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
    assert item["operationId"] == "get_todos_id"
    convert = doc["paths"]["/convert"]["get"]
    assert convert["parameters"] == [
        {"name": "celsius", "in": "query", "required": True, "schema": {"type": "integer"}, "example": "100"}
    ]


@pytest.mark.parametrize(
    ("value", "kind"), [("100", "integer"), ("-3", "integer"), ("36.6", "number"), ("abc", "string")]
)
def test_query_parameter_types_follow_the_example_value(value: str, kind: str) -> None:
    route = Route(method="GET", path="/q", summary="q", query={"v": value})
    [param] = to_openapi(ApiContract(name="q", routes=[route]))["paths"]["/q"]["get"]["parameters"]
    assert param["schema"] == {"type": kind}


def test_responses_bodies_errors_redirects_and_text() -> None:
    paths = to_openapi(contract_from_examples())["paths"]
    create = paths["/todos"]["post"]
    assert create["requestBody"]["content"]["application/json"] == {
        "schema": {"type": "object", "properties": {"title": {"type": "string"}, "done": {"type": "boolean"}}},
        "example": {"title": "milk", "done": False},
    }
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["required"] == ["title"]
    listing = paths["/todos"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listing["schema"] == {
        "type": "array",
        "items": {"type": "object", "properties": {"title": {"type": "string"}}},
    }
    assert set(paths["/todos/{id}"]["get"]["responses"]) == {"200", "404"}
    assert paths["/todos/{id}"]["get"]["responses"]["404"] == {"description": "an unknown todo"}
    assert set(paths["/todos/{id}"]["delete"]["responses"]) == {"204"}
    assert "content" not in paths["/todos/{id}"]["delete"]["responses"]["204"]
    convert = paths["/convert"]["get"]["responses"]
    assert convert["200"]["content"]["application/json"]["example"] == {"fahrenheit": 212}
    assert convert["400"] == {"description": "not a number"}
    redirect = paths["/r/abc"]["get"]["responses"]["302"]
    assert redirect["headers"]["Location"] == {"schema": {"type": "string"}, "example": "https://example.org"}
    hello = paths["/hello"]["get"]["responses"]["200"]["content"]
    assert hello == {"text/plain": {"schema": {"type": "string"}, "example": "hello world"}}


def test_a_rule_no_example_checks_fails_the_build_even_when_every_example_passed() -> None:
    acceptance = ACCEPTANCE.model_copy(update={"unchecked": ["Temperatures below absolute zero are rejected."]})
    verdict = judge(acceptance, checked=verification(GOOD_ROWS))
    assert not verdict.ok
    assert verdict.headline == (
        "FAILED: the idea states rules that no example checks: 'Temperatures below absolute zero are rejected.'"
    )
