from __future__ import annotations

import json

import pytest

from autogpt.agents.stacks import extract_code, render_tests
from autogpt.errors import InvalidInputError
from autogpt.tools.contract import (
    ApiContract,
    Route,
    check_response,
    fill_path,
    query_types,
    trim_response_keys,
    validate_contract,
)

ITEM = Route(method="GET", path="/todos/{id}", summary="one", response_keys=["id", "title"])
LIST = Route(method="GET", path="todos", summary="all", response_type="array", response_keys=["id"])
CREATE = Route(method="POST", path="/todos", summary="new", request_example={"title": "x"}, expected_status=201)
DELETE = Route(method="DELETE", path="/todos/{id}", summary="gone", expected_status=204, response_type="none")


def test_paths_are_normalised_and_probe_order_is_create_read_delete() -> None:
    contract = ApiContract(name="t", routes=[DELETE, ITEM, LIST, CREATE])
    assert LIST.path == "/todos"
    assert [r.key for r in contract.ordered()] == ["POST /todos", "GET /todos", "GET /todos/{id}", "DELETE /todos/{id}"]
    assert ITEM.params == ["id"]


def test_contract_validation() -> None:
    with pytest.raises(InvalidInputError, match="appears twice"):
        validate_contract(ApiContract(name="t", routes=[LIST, LIST]))
    with pytest.raises(InvalidInputError, match="needs a request_example"):
        validate_contract(ApiContract(name="t", routes=[CREATE.model_copy(update={"request_example": None})]))
    with pytest.raises(ValueError, match="letters, digits"):
        Route(method="GET", path="/a b", summary="x")


def test_response_keys_no_request_provides_are_dropped() -> None:
    def route(method: str, path: str, keys: list[str], body: dict[str, object] | None = None) -> Route:
        return Route(method=method, path=path, summary="s", request_example=body, response_keys=keys)  # type: ignore[arg-type]

    book = {"title": "Dune", "author": "Herbert"}
    routes = [
        route("POST", "/books", ["id", "title", "author", "published_year"], book),
        route("GET", "/books", ["id", "title", "year"]),
        route("PATCH", "/books/{id}", ["id", "rating"], {"rating": 5}),  # a later body provides rating
        route("GET", "/authors", ["id", "name", "born"]),  # nothing is sent there: left alone
        route("POST", "/counter/increment", ["count"], {"by": 1}),  # not a collection: a server computes
        route("GET", "/counter", ["count"]),
    ]
    kept, dropped = trim_response_keys(routes)
    assert [r.response_keys for r in kept] == [
        ["id", "title", "author"], ["id", "title"], ["id", "rating"], ["id", "name", "born"], ["count"], ["count"],
    ]  # fmt: skip
    assert dropped == ["POST /books: published_year", "GET /books: year"]
    assert trim_response_keys(kept) == (kept, [])


def test_fill_path_uses_known_values() -> None:
    assert fill_path(ITEM, {"id": 7}) == "/todos/7"
    assert fill_path(ITEM, {}) == "/todos/1"


@pytest.mark.parametrize(
    ("route", "status", "body", "problems"),
    [
        (ITEM, 200, {"id": 1, "title": "a"}, []),
        (ITEM, 404, {"detail": "x"}, ["status 404, expected 200"]),
        (ITEM, 200, {"id": 1}, ["response lacks keys ['title']"]),
        (ITEM, 200, [1], ["expected a JSON object, got list"]),
        (LIST, 200, {"items": []}, ["expected a JSON array, got dict"]),
        (LIST, 200, [{"id": 1}, 3], ["expected objects in the array, got int"]),
        (DELETE, 204, None, []),
    ],
)
def test_check_response(route: Route, status: int, body: object, problems: list[str]) -> None:
    assert check_response(route, status, json.dumps(body).encode() if body is not None else b"") == problems


def test_non_json_bodies_are_reported() -> None:
    assert check_response(ITEM, 200, b"<html>") == ["body is not JSON: b'<html>'"]


def test_extract_code() -> None:
    assert extract_code("Sure:\n```python\nimport os\nx = 1\n```\nDone.") == "import os\nx = 1\n"
    assert extract_code("import os\n") == "import os\n"
    with pytest.raises(InvalidInputError, match="no Python code"):
        extract_code("FastAPI is a great framework.")
    with pytest.raises(InvalidInputError, match="does not compile: line 1"):
        extract_code("```python\ndef broken(:\n```")


def test_rendered_tests_are_valid_python() -> None:
    source = render_tests(ApiContract(name="t", routes=[CREATE, LIST, ITEM, DELETE]))
    compile(source, "tests/test_api.py", "exec")
    assert "client.request(\"POST\", f\"/todos\", json={'title': 'x'})" in source
    assert "known.get('id', known.get('id', 1))" in source


@pytest.mark.parametrize("path", ['/todos/"x', "/todos/{item-id}", "/a}b", "/{id", "/ok/{id}/$"])
def test_unsafe_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="letters, digits"):
        Route(method="GET", path=path, summary="x")


@pytest.mark.parametrize(
    ("query", "kinds"),
    [
        ({"a": "2", "b": "-3.5"}, {"a": "number, decimals allowed", "b": "number, decimals allowed"}),
        (
            {"page": "2", "per_page": "10", "user_id": "7"},
            dict.fromkeys(("page", "per_page", "user_id"), "whole number"),
        ),
        ({"q": "apple", "strict": "true", "x": "nan"}, {"q": "text", "strict": "true/false", "x": "text"}),
    ],
)
def test_query_parameters_are_typed_from_their_examples(query: dict[str, str], kinds: dict[str, str]) -> None:
    assert query_types(query) == kinds


def test_the_backend_is_told_a_numeric_example_allows_decimals() -> None:
    from autogpt.agents.backend import describe_routes

    contract = ApiContract.model_validate(
        {
            "name": "adder",
            "routes": [{"method": "GET", "path": "/add", "summary": "sum", "query": {"a": "2", "page": "1"}}],
        }
    )
    assert "query a (number, decimals allowed), page (whole number) like ?a=2&page=1" in describe_routes(contract)
