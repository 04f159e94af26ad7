"""Acceptance examples: checking an answer, threading ids between requests, loading a user's
file, running a list of examples against a server, and the routes they call."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from autogpt.errors import InvalidInputError
from autogpt.tools.acceptance import (
    MAX_EXAMPLES,
    Acceptance,
    Example,
    Outcome,
    Reply,
    check,
    covers,
    evidence,
    fill,
    kept_back,
    load_acceptance,
    run_examples,
    subset_of,
)
from autogpt.tools.contract import routes_for, template_of
from autogpt.tools.sandbox import SandboxError


def ex(**fields: Any) -> Example:
    return Example.model_validate({"method": "GET", "path": "/x", **fields})


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


# --- check: status ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("example", "status", "problems"),
    [
        (ex(status=201), 201, []),
        (ex(status=201), 200, ["status 200, expected 201"]),
        (ex(), 204, []),  # no status asked: any 2xx
        (ex(), 301, ["status 301, expected a 2xx status"]),
        (ex(status_class="3xx"), 307, []),
        (ex(status_class="3xx"), 200, ["status 200, expected a 3xx status"]),
        (ex(status_class="4xx"), 422, []),
        (ex(status_class="4xx"), 500, ["status 500, expected a 4xx status"]),
        (ex(status=400, status_class="4xx"), 422, ["status 422, expected 400"]),  # an exact status wins
    ],
)
def test_check_status_and_status_class(example: Example, status: int, problems: list[str]) -> None:
    assert check(example, status, {}, b"") == problems


# --- check: headers ----------------------------------------------------------------------------


REDIRECT = ex(status_class="3xx", headers={"Location": "https://example.org/page"})


def test_expected_header_names_are_lower_case() -> None:
    assert REDIRECT.headers == {"location": "https://example.org/page"}


@pytest.mark.parametrize(
    ("headers", "problems"),
    [
        ({"location": "https://example.org/page"}, []),
        ({"location": "https://example.org/page/"}, []),  # a trailing slash is the same place
        ({"location": " https://example.org/page "}, []),
        ({}, ["no location header, expected 'https://example.org/page'"]),
        ({"location": "https://evil.example/page"}, ["location is 'https://evil.example/page', expected 'https://example.org/page'"]),
    ],
)  # fmt: skip
def test_check_location(headers: dict[str, str], problems: list[str]) -> None:
    assert check(REDIRECT, 302, headers, b"") == problems


def test_only_location_forgives_a_trailing_slash() -> None:
    example = ex(headers={"X-Version": "1/"})
    assert check(example, 200, {"x-version": "1"}, b"") == ["x-version is '1', expected '1/'"]


# --- check: JSON --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("match", "expected", "actual", "ok"),
    [
        ("exact", {"fahrenheit": 212}, {"fahrenheit": 212}, True),
        ("exact", {"fahrenheit": 212}, {"fahrenheit": 212.0}, True),  # numbers compare as numbers
        ("exact", {"fahrenheit": 212}, {"fahrenheit": 212, "celsius": 100}, False),  # exact: no extra keys
        ("exact", {"fahrenheit": 212}, {"fahrenheit": 213}, False),
        ("exact", [2, 3, 5], [2, 3, 5], True),
        ("exact", [2, 3, 5], [5, 3, 2], False),  # and order counts
        ("exact", [2, 3, 5], [2, 3, 5, 7], False),
        ("exact", {"ok": True}, {"ok": 1}, False),  # a bool is not a number
        ("subset", {"fahrenheit": 212}, {"fahrenheit": 212, "celsius": 100}, True),
        ("subset", {"title": "milk"}, {"id": 1, "title": "milk"}, True),
        ("subset", {"title": "milk"}, {"id": 1, "title": "bread"}, False),
        ("subset", {"title": "milk"}, [{"id": 1, "title": "milk"}], False),  # an object is not a list
        ("subset", {"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}, True),  # nested objects: again a subset
        ("subset", [{"title": "milk"}], [{"id": 1, "title": "milk"}], True),  # items: again a subset
        ("subset", [{"title": "milk"}], [{"id": 2, "title": "eggs"}, {"id": 1, "title": "milk"}], False),  # whole
        ("subset", {"name": "Ann"}, {"name": " Ann\n"}, True),  # strings compare trimmed
        ("subset", {"ratio": 0.1 + 0.2}, {"ratio": 0.3}, True),
        ("subset", {"c": 37.78}, {"c": 37.77777777777778}, True),  # a rounded amount holds as far as it is shown
        ("subset", {"c": 37.78}, {"c": 37.7749}, False),
        ("subset", {"miles": 26.2188}, {"miles": 26.21874}, False),  # 26.2187, not 26.2188
        ("subset", {"n": 5}, {"n": 5.4}, False),  # a whole number shows no decimals to round to
        ("contains", {"title": "milk"}, [{"id": 1, "title": "milk"}], True),
        ("contains", {"title": "milk"}, [{"id": 1, "title": "eggs"}], False),
        ("contains", {"title": "milk"}, [], False),
        ("contains", {"title": "milk"}, {"items": [{"id": 1, "title": "milk"}]}, True),  # a wrapped list
        ("contains", {"title": "milk"}, {"id": 1, "title": "milk"}, False),  # a bare object holds no list
        ("contains", "world", "hello world", True),
        ("contains", "mars", "hello world", False),
    ],
)
def test_check_json_matches(match: str, expected: Any, actual: Any, ok: bool) -> None:
    example = ex(response=expected, match=match)
    problems = check(example, 200, {}, body(actual))
    assert (problems == []) is ok, problems


def test_a_failed_match_says_what_came_back_and_what_was_wanted() -> None:
    example = ex(response={"fahrenheit": 212}, match="exact")
    assert check(example, 200, {}, b'{"fahrenheit": 100}') == [
        'body is {"fahrenheit": 100}, expected exactly {"fahrenheit": 212}'
    ]
    subset = ex(response={"fahrenheit": 212}, match="subset")
    assert check(subset, 200, {}, b"{}") == ['body is {}, expected it to include {"fahrenheit": 212}']
    contains = ex(response={"t": 1}, match="contains")
    assert check(contains, 200, {}, b"[]") == ['body is [], expected it to contain {"t": 1}']


def test_every_problem_is_reported_at_once() -> None:
    example = ex(response={"fahrenheit": 212}, match="subset")
    problems = check(example, 404, {}, b'{"detail": "Not Found"}')
    assert problems == [
        "status 404, expected a 2xx status",
        'body is {"detail": "Not Found"}, expected it to include {"fahrenheit": 212}',
    ]


@pytest.mark.parametrize("raw", [b"<html>nope</html>", b"", b"{'single': 'quotes'}"])
def test_a_body_that_is_not_json_fails_a_json_match(raw: bytes) -> None:
    problems = check(ex(response={"a": 1}, match="subset"), 200, {}, raw)
    assert len(problems) == 1
    assert problems[0].startswith("body is not JSON:")


def test_no_match_asked_means_the_body_is_not_read() -> None:
    assert check(ex(), 200, {}, b"\xff\xfe not even text") == []


# --- check: text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ok"),
    [(b"pong", True), (b"pong\n", True), (b'"pong"', True), (b"ping", False), (b'"ping"', False), (b"", False)],
)
def test_check_plain_text(raw: bytes, ok: bool) -> None:
    problems = check(ex(text="pong"), 200, {}, raw)
    assert (problems == []) is ok, problems
    if not ok:
        assert problems == [f"body is {raw.decode()!r}, expected the text 'pong'"]


# --- subset_of and covers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        ({}, {"anything": 1}, True),
        ({"a": 1}, {"a": 1, "b": 2}, True),
        ({"a": 1}, {"b": 1}, False),
        ({"a": None}, {"a": None}, True),
        ({"a": None}, {}, False),
        ({"a": [1]}, {"a": [3, 2, 1]}, False),  # a list shown is the whole list
        ({"a": [1, 2]}, {"a": [1, 2]}, True),
        ([1, 2], [2, 1], False),  # in its order
        ([1, 1], [1], False),
        ([], [], True),
        ([], [1], False),  # "nobody has that role": an empty list, not everyone
        ([1], [], False),
        ([{"a": 1}], [{"a": 1, "b": 2}], True),  # an item is an object with at least those keys
        ([{"a": 1}], [{"a": 1}, {"a": 2}], False),
        ("x", "x ", True),
        (1, 1.0000000001, True),
        (1, 1.01, False),
        (0, False, False),
        (True, True, True),
        ("1", 1, False),
        ({"a": 1}, None, False),
    ],
)
def test_subset_of(expected: Any, actual: Any, ok: bool) -> None:
    assert subset_of(expected, actual) is ok


@pytest.mark.parametrize(
    ("template", "path", "ok"),
    [
        ("/todos/{id}", "/todos/3", True),
        ("/todos/{id}", "/todos/{id}", True),
        ("/todos/{id}", "/todos/{todo_id}", True),
        ("/todos/{id}", "/todos", False),
        ("/todos/{id}", "/todos/3/tags", False),
        ("/todos", "/todos/", True),  # the edges' slashes are not segments
        ("/r/{code}", "/r/abc", True),
        ("/a/{x}/b", "/a/1/c", False),
        ("/todos", "/notes", False),
        ("/", "/", True),
    ],
)
def test_covers(template: str, path: str, ok: bool) -> None:
    assert covers(template, path) is ok


# --- fill ----------------------------------------------------------------------------------------


def test_fill_takes_named_values_then_the_id() -> None:
    known = {"code": "abc", "id": 7}
    assert fill("/r/{code}", known) == "/r/abc"
    assert fill("/todos/{id}", known) == "/todos/7"
    assert fill("/todos/{todo_id}/tags/{code}", known) == "/todos/7/tags/abc"  # no todo_id: the id stands in
    assert fill("/todos", {}) == "/todos"


def test_fill_without_an_earlier_value_is_a_typed_error() -> None:
    with pytest.raises(InvalidInputError, match=r"no earlier response gave \{code\}"):
        fill("/r/{code}", {"url": "https://example.org"})


# --- load_acceptance ------------------------------------------------------------------------------


def test_a_bare_list_and_an_object_both_load() -> None:
    item = {"method": "GET", "path": "convert", "query": {"celsius": "100"}, "headers": {"Location": "/x"}}
    listed = load_acceptance(json.dumps([item]))
    wrapped = load_acceptance(json.dumps({"examples": [item], "notes": ["mine"]}))
    assert listed.examples == wrapped.examples
    assert wrapped.notes == ["mine"]
    example = listed.examples[0]
    assert example.path == "/convert"  # a leading slash is added
    assert example.headers == {"location": "/x"}
    assert example.source == "user"


def test_the_source_is_the_callers_unless_the_file_names_one() -> None:
    items = [{"method": "GET", "path": "/a"}, {"method": "GET", "path": "/b", "source": "derived"}]
    loaded = load_acceptance(json.dumps(items), source="idea")
    assert [e.source for e in loaded.examples] == ["idea", "derived"]


def test_an_acceptance_file_round_trips() -> None:
    acceptance = Acceptance(
        examples=[ex(query={"a": "1"}, status=201, response={"b": [1]}, match="subset", said="words")],
        notes=["n"],
    )
    assert load_acceptance(acceptance.dump(), source="idea") == acceptance


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Expecting value"),
        ("{", "Expecting property name"),
        ("not json at all", "Expecting value"),
        ("null", "Input should be a valid dictionary"),
        ("42", "Input should be a valid dictionary"),
        ('{"examples": "GET /x"}', "examples: Input should be a valid list"),
        ('{"examples": [3]}', "examples.0: Input should be a valid dictionary"),
        ('[{"method": "FETCH", "path": "/x"}]', "examples.0.method: Input should be 'GET', 'POST'"),
        ('[{"method": "GET"}]', "examples.0.path: Field required"),
        ('[{"path": "/x"}]', "examples.0.method: Field required"),
        ('[{"method": "GET", "path": "/x y"}]', "examples.0.path: Value error, '/x y': a path uses letters"),
        ('[{"method": "GET", "path": "/x", "status": 700}]', "examples.0.status: Input should be less than or equal"),
        ('[{"method": "GET", "path": "/x", "status": "ok"}]', "examples.0.status: Input should be a valid integer"),
        ('[{"method": "GET", "path": "/x", "status_class": "5xx"}]', "examples.0.status_class: Input should be"),
        ('[{"method": "GET", "path": "/x", "match": "fuzzy"}]', "examples.0.match: Input should be"),
        ('[{"method": "GET", "path": "/x", "query": {"a": 1}}]', "examples.0.query.a: Input should be a valid string"),
        ('[{"method": "GET", "path": "/x", "headers": ["location"]}]', "examples.0.headers: Input should be a valid"),
        ('{"examples": [], "notes": "x"}', "notes: Input should be a valid list"),
    ],
)
def test_malformed_acceptance_is_a_clear_typed_error(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        load_acceptance(text)
    assert str(caught.value).startswith("acceptance examples are malformed: ")
    assert message in str(caught.value)


def test_too_many_examples_are_refused() -> None:
    items = [{"method": "GET", "path": f"/n/{i}"} for i in range(MAX_EXAMPLES + 1)]
    with pytest.raises(InvalidInputError, match=f"examples: List should have at most {MAX_EXAMPLES} items"):
        load_acceptance(json.dumps(items))
    assert len(load_acceptance(json.dumps(items[:MAX_EXAMPLES])).examples) == MAX_EXAMPLES


@pytest.mark.parametrize("text", ['{"examples": null}', '{"examples": 3}', '{"examples": true}'])
def test_examples_that_are_not_a_list_are_a_clear_typed_error(text: str) -> None:
    with pytest.raises(InvalidInputError, match="acceptance examples are malformed: examples"):
        load_acceptance(text)


@pytest.mark.parametrize("path", ["/~alice", "/files/a%20b", "/v1/items:search", "/tags/c++"])
def test_a_path_the_contract_cannot_hold_is_refused_when_loaded(path: str) -> None:
    try:
        acceptance = load_acceptance(json.dumps([{"method": "GET", "path": path}]))
    except InvalidInputError:
        return
    assert [r.method for r in routes_for(acceptance)] == ["GET"]


# --- run_examples against a fake server -----------------------------------------------------------


class FakeServer:
    """Answers from a table of (method, target) -> reply, recording every request."""

    def __init__(self, replies: dict[tuple[str, str], Reply | Exception]) -> None:
        self.replies = replies
        self.sent: list[tuple[str, str, Any, dict[str, str]]] = []

    async def send(self, method: str, target: str, data: bytes | None, headers: Mapping[str, str]) -> Reply:
        self.sent.append((method, target, None if data is None else json.loads(data), dict(headers)))
        reply = self.replies.get((method, target), (404, {}, b'{"detail": "Not Found"}'))
        if isinstance(reply, Exception):
            raise reply
        return reply


LINKS = [
    ex(method="POST", path="/links", body={"url": "https://example.org"}, status=201,
       response={"url": "https://example.org"}, match="subset"),
    ex(path="/r/{code}", status_class="3xx", headers={"location": "https://example.org"}),
    ex(path="/links/{id}", query={"verbose": "1"}, response={"code": "abc"}, match="subset"),
]  # fmt: skip


async def test_run_examples_threads_values_from_earlier_answers() -> None:
    server = FakeServer(
        {
            ("POST", "/links"): (201, {}, body({"id": 7, "code": "abc", "url": "https://example.org"})),
            ("GET", "/r/abc"): (302, {"location": "https://example.org"}, b""),
            ("GET", "/links/7?verbose=1"): (200, {}, body({"id": 7, "code": "abc"})),
        }
    )
    outcomes = await run_examples(LINKS, server.send)
    assert [(o.target, o.status, o.ok) for o in outcomes] == [
        ("/links", 201, True), ("/r/abc", 302, True), ("/links/7?verbose=1", 200, True),
    ]  # fmt: skip
    assert server.sent[0] == ("POST", "/links", {"url": "https://example.org"}, {"content-type": "application/json"})
    assert [s[2] for s in server.sent[1:]] == [None, None]  # no body unless the example has one


async def test_a_later_answer_overrides_an_earlier_value() -> None:
    server = FakeServer(
        {
            ("POST", "/todos"): (201, {}, body({"id": 1, "title": "a"})),
            ("PUT", "/todos/1"): (200, {}, body({"id": 2, "title": "b", "done": True})),
            ("GET", "/todos/2"): (200, {}, body({"id": 2})),
        }
    )
    examples = [
        ex(method="POST", path="/todos", body={"title": "a"}),
        ex(method="PUT", path="/todos/{id}", body={"title": "b"}),
        ex(path="/todos/{id}"),
    ]
    outcomes = await run_examples(examples, server.send)
    assert [o.target for o in outcomes] == ["/todos", "/todos/1", "/todos/2"]
    assert all(o.ok for o in outcomes)


async def test_lists_bools_and_nested_values_are_not_threaded() -> None:
    server = FakeServer(
        {
            ("GET", "/all"): (200, {}, body([{"id": 5}])),
            ("GET", "/flags"): (200, {}, body({"id": True, "code": {"nested": 1}})),
        }
    )
    outcomes = await run_examples([ex(path="/all"), ex(path="/flags"), ex(path="/todos/{id}")], server.send)
    assert outcomes[2].problems == ["no earlier response gave {id}"]
    assert outcomes[2].target == ""
    assert len(server.sent) == 2  # the example that cannot be sent is not sent


async def test_a_server_that_does_not_answer_fails_that_example_only() -> None:
    server = FakeServer(
        {
            ("GET", "/slow"): TimeoutError("timed out"),
            ("GET", "/gone"): SandboxError("connection refused"),
            ("GET", "/ok"): (200, {}, b"{}"),
        }
    )
    outcomes = await run_examples([ex(path="/slow"), ex(path="/gone"), ex(path="/ok")], server.send)
    assert outcomes[0].problems == ["no HTTP answer: timed out"]
    assert outcomes[1].problems == ["no HTTP answer: connection refused"]
    assert (outcomes[0].status, outcomes[1].status) == (0, 0)
    assert outcomes[2].ok


async def test_a_wrong_server_fails_with_evidence() -> None:
    convert = ex(path="/convert", query={"celsius": "100"}, response={"fahrenheit": 212}, match="subset")
    outcomes = await run_examples([convert], FakeServer({}).send)
    [outcome] = outcomes
    assert not outcome.ok
    assert outcome.target == "/convert?celsius=100"
    assert outcome.status == 404
    assert outcome.body == '{"detail": "Not Found"}'
    row = outcome.row()
    assert row == {
        "example": "GET /convert?celsius=100",
        "expected": '2xx with {"fahrenheit": 212}',
        "source": "idea",
        "sent": "/convert?celsius=100",
        "status": 404,
        "ok": False,
        "problems": [
            "status 404, expected a 2xx status",
            'body is {"detail": "Not Found"}, expected it to include {"fahrenheit": 212}',
        ],
        "body": '{"detail": "Not Found"}',
    }
    assert evidence(outcomes) == (
        '- GET /convert?celsius=100 (expected 2xx with {"fahrenheit": 212}): status 404, expected a 2xx status; '
        'body is {"detail": "Not Found"}, expected it to include {"fahrenheit": 212}'
    )


def test_evidence_lists_only_failures() -> None:
    good = Outcome(ex(path="/a"), target="/a", status=200)
    bad = Outcome(ex(path="/b", status=201), target="/b", status=200, problems=["status 200, expected 201"])
    assert evidence([good, bad]) == "- GET /b (expected 201): status 200, expected 201"
    assert evidence([good]) == ""


async def test_long_bodies_are_cut_in_the_evidence() -> None:
    server = FakeServer({("GET", "/big"): (200, {}, b"x" * 10_000)})
    [outcome] = await run_examples([ex(path="/big", text="small")], server.send)
    assert len(outcome.body) == 500
    assert len(outcome.row()["body"]) == 300


# --- the routes the examples call ----------------------------------------------------------------


def test_template_of_turns_ids_and_given_values_into_parameters() -> None:
    assert template_of(ex(path="/todos/3")) == "/todos/{id}"
    assert template_of(ex(path="/users/5/posts/9")) == "/users/{user_id}/posts/{id}"
    assert template_of(ex(path="/r/abc"), {"abc": "code"}) == "/r/{code}"
    assert template_of(ex(path="/todos/{id}")) == "/todos/{id}"
    assert template_of(ex(path="/2024/report")) == "/2024/report"  # the first segment is never a value


def test_routes_for_gives_one_route_per_distinct_template() -> None:
    acceptance = Acceptance(
        examples=[
            ex(method="POST", path="/todos", body={"title": "milk"}, status=201, response={"title": "milk"},
               match="subset"),
            ex(path="/todos", response=[{"title": "milk"}], match="subset"),
            ex(path="/todos/1", response={"title": "milk"}, match="subset"),
            ex(path="/todos/2", status=404, said="a missing one"),
            ex(method="DELETE", path="/todos/1", status=204),
            ex(path="/todos/{id}", status=404, said="then it is gone"),
        ]
    )  # fmt: skip
    routes = routes_for(acceptance)
    assert [(r.method, r.path, r.expected_status, r.response_type) for r in routes] == [
        ("POST", "/todos", 201, "object"),
        ("GET", "/todos", 200, "array"),
        ("GET", "/todos/{id}", 200, "object"),
        ("DELETE", "/todos/{id}", 204, "none"),
    ]
    assert routes[0].request_example == {"title": "milk"}
    assert routes[1].response_keys == ["title"]
    assert [(e.status, e.when) for e in routes[2].errors] == [(404, "a missing one"), (404, "then it is gone")]


def test_routes_for_a_query_rule_with_a_refusal() -> None:
    acceptance = Acceptance(
        examples=[
            ex(path="/convert", query={"celsius": "100"}, response={"fahrenheit": 212}, match="subset"),
            ex(path="/convert", query={"celsius": "abc"}, status_class="4xx", said="not a number"),
        ]
    )
    [route] = routes_for(acceptance)
    assert (route.path, route.query, route.response_example) == ("/convert", {"celsius": "100"}, {"fahrenheit": 212})
    assert [(e.status, e.query, e.when) for e in route.errors] == [(400, {"celsius": "abc"}, "not a number")]


def test_routes_for_a_redirect_names_the_code_an_earlier_answer_gave() -> None:
    acceptance = Acceptance(
        examples=[
            ex(method="POST", path="/links", body={"url": "https://example.org"}, response={"code": "abc"},
               match="subset"),
            ex(path="/r/abc", status_class="3xx", headers={"location": "https://example.org"}),
            ex(path="/hello", text="hi"),
        ]
    )  # fmt: skip
    routes = routes_for(acceptance)
    assert [r.key for r in routes] == ["POST /links", "GET /r/{code}", "GET /hello"]
    assert (routes[1].expected_status, routes[1].response_type, routes[1].location) == (
        302, "none", "https://example.org",
    )  # fmt: skip
    assert (routes[2].response_type, routes[2].response_example) == ("text", "hi")


def test_routes_for_no_examples_is_no_routes() -> None:
    assert routes_for(Acceptance()) == []


def test_named_routes_are_the_ideas_own_once_each() -> None:
    acceptance = Acceptance(
        examples=[ex(path="/a"), ex(path="/a", status=404), ex(path="/b", source="derived"), ex(path="/c")]
    )
    assert acceptance.named_routes == [("GET", "/a"), ("GET", "/c")]


# --- values that stand for anything, and headers sent ------------------------------------------


@pytest.mark.parametrize("placeholder", ["...", "<short code>", "<token>", "…", "???"])
def test_a_placeholder_value_asks_for_the_key_with_any_value(placeholder: str) -> None:
    example = ex(method="POST", path="/links", response={"code": placeholder, "url": "u"}, match="subset")
    assert (example.keys, example.response, example.match) == (["code"], {"url": "u"}, "subset")
    assert check(example, 201, {}, body({"code": "x7", "url": "u"})) == []
    assert check(example, 201, {}, body({"url": "u"})) == ['body is {"url": "u"}, expected the key(s) code']


def test_a_response_of_placeholders_only_asks_for_keys_alone() -> None:
    example = ex(method="POST", path="/login", response={"token": "..."}, match="exact")
    assert (example.keys, example.response, example.match) == (["token"], None, "none")
    assert "with keys token (any value)" in example.expects()
    assert check(example, 200, {}, b"not json") == ["body is not JSON: 'not json'"]
    assert check(example, 200, {}, body({"token": ""})) == []  # there, whatever its value


async def test_request_headers_are_sent_with_earlier_values_filled_in() -> None:
    server = FakeServer(
        {
            ("POST", "/login"): (200, {}, body({"token": "t-1"})),
            ("GET", "/me"): (200, {}, body({"username": "admin"})),
        }
    )
    examples = [
        ex(method="POST", path="/login", body={"username": "admin"}, keys=["token"]),
        ex(path="/me", request_headers={"Authorization": "Bearer {token}"}, response={"username": "admin"},
           match="subset"),
        ex(path="/me", request_headers={"Authorization": "Bearer {token}"}),
    ]  # fmt: skip
    outcomes = await run_examples(examples, server.send)
    assert server.sent[1][3] == {"content-type": "application/json", "Authorization": "Bearer t-1"}
    assert [o.ok for o in outcomes] == [True, True, True]
    assert len(server.sent) == 3
    assert examples[1].label == "GET /me [Authorization: Bearer {token}]"


async def test_a_value_promised_and_never_given_fails_and_one_never_promised_is_made_up() -> None:
    server = FakeServer(
        {
            ("POST", "/links"): (201, {}, body({"url": "https://a.io"})),  # no code, though one was promised
            ("PUT", "/kv/key"): (200, {}, body({})),
            ("GET", "/kv/key"): (200, {}, body({"key": "key", "value": "v"})),
        }
    )
    examples = [
        ex(method="POST", path="/links", body={"url": "https://a.io"}, keys=["code"]),
        ex(path="/r/{code}", status_class="3xx"),
        ex(method="PUT", path="/kv/{key}", body={"value": "v"}),  # the client's own key
        ex(path="/kv/{key}", keys=["key", "value"]),
        ex(path="/kv/{key}", request_headers={"Authorization": "Bearer {code}"}),
    ]
    outcomes = await run_examples(examples, server.send)
    assert outcomes[0].problems == ['body is {"url": "https://a.io"}, expected the key(s) code']
    assert outcomes[1].problems == ["no earlier response gave {code}"]  # never sent half-filled
    assert outcomes[4].problems == ["no earlier response gave {code}"]
    assert [o.target for o in outcomes[2:4]] == ["/kv/key", "/kv/key"]
    assert [s[1] for s in server.sent] == ["/links", "/kv/key", "/kv/key"]


@pytest.mark.parametrize(
    "headers", [{"Authorization": "Bearer x\r\nX-Evil: 1"}, {"Bad Name": "x"}, {"": "x"}, {"X" * 65: "x"}]
)
def test_a_header_that_could_split_a_request_is_refused_when_loaded(headers: dict[str, str]) -> None:
    with pytest.raises(InvalidInputError, match="header"):
        load_acceptance(json.dumps([{"method": "GET", "path": "/me", "request_headers": headers}]))


def test_a_lookup_of_something_missing_makes_the_looked_up_segment_a_parameter() -> None:
    examples = [
        ex(path="/capital/France", response={"capital": "Paris"}, match="subset"),
        ex(path="/capital/doesnotexist", status=404),
        ex(path="/doesnotexist/doesnotexist", status=404),  # any unknown path: no route to design
        ex(path="/api/users"),
        ex(path="/api/posts"),  # two literal routes under one prefix stay two routes
    ]
    routes = routes_for(Acceptance(examples=examples))
    assert [(r.key, [e.status for e in r.errors]) for r in routes] == [
        ("GET /capital/{capital}", [404]), ("GET /api/users", []), ("GET /api/posts", []),
    ]  # fmt: skip
    assert routes[0].response_keys == ["capital"]


@pytest.mark.parametrize(
    ("path", "sent"),
    [("/vowels/{word}", "/vowels/word"), ("/square/{n}", "/square/7"), ("/users/{user_name}", "/users/username")],
)
def test_a_value_the_client_chooses_is_a_word_or_a_number_as_its_name_says(path: str, sent: str) -> None:
    assert fill(path, {}, promised=set()) == sent


# --- examples kept back from the server's writer ------------------------------------------------


def lookup(symbol: str, source: str = "derived", **extra: Any) -> Example:
    return Example.model_validate(
        {"method": "GET", "path": f"/elements/{symbol}", "response": {"name": symbol}, "match": "subset",
         "source": source, **extra}
    )  # fmt: skip


ELEMENT_ROUTE = [("GET", "/elements/{element}")]


def posted(n: int) -> Example:
    return Example.model_validate(
        {"method": "POST", "path": "/elements/x", "body": {"n": n}, "response": {"n": n}, "match": "subset",
         "source": "derived"}
    )  # fmt: skip


def test_every_third_derived_lookup_of_a_route_is_kept_back() -> None:
    examples = [lookup("H", "idea"), *(lookup(s) for s in ("He", "Li", "Be", "B", "C", "N"))]
    assert kept_back(examples, ELEMENT_ROUTE) == {3, 6}  # the third and sixth derived: Be, N


def test_with_two_derived_lookups_the_last_is_kept_back_while_two_stay_shown() -> None:
    assert kept_back([lookup("H", "idea"), lookup("He"), lookup("Li")], ELEMENT_ROUTE) == {2}
    assert kept_back([lookup("He"), lookup("Li")], ELEMENT_ROUTE) == set()  # one would be left to learn from


@pytest.mark.parametrize(
    ("examples", "why"),
    [
        ([lookup("H", "idea"), lookup("He", "idea"), lookup("Li", "idea"), lookup("Be", "idea")], "stated by the idea"),
        ([lookup("H", "idea"), lookup("He"), lookup("He")], "the same input twice"),
        ([lookup("H", "idea"), lookup("He"), lookup("Li", status=404)], "a refusal"),
        ([lookup("H", "idea"), lookup("He"), lookup("Li", match="none")], "no value checked"),
        ([posted(n) for n in range(4)], "not a GET"),
    ],
)
def test_what_is_never_kept_back(examples: list[Example], why: str) -> None:
    routes = [*ELEMENT_ROUTE, ("POST", "/elements/{element}")]
    assert kept_back(examples, routes) == set(), why


def test_kept_back_groups_by_the_route_that_serves_them() -> None:
    examples = [lookup("H", "idea"), lookup("He"), lookup("Li")]
    assert kept_back(examples, [("GET", "/other/{x}")]) == set()


def test_derived_lookups_of_one_collection_are_one_route() -> None:
    """A route per derived example would show the writer every answer, kept back or not."""
    acceptance = Acceptance(examples=[lookup("H", "idea"), lookup("He"), lookup("Li")])
    assert [r.path for r in routes_for(acceptance)] == ["/elements/{element}"]
    stated = Acceptance(examples=[lookup("H", "idea"), lookup("He", "idea"), lookup("Li", "idea")])
    assert [r.path for r in routes_for(stated)] == ["/elements/H", "/elements/He", "/elements/Li"]
    shapes = Acceptance(
        examples=[lookup("H", "idea"), lookup("He"), lookup("Li").model_copy(update={"response": {"other": 1}})]
    )
    assert len(routes_for(shapes)) == 3
