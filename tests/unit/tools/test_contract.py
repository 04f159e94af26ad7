from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autogpt.agents.stacks import extract_code, render_js_tests, render_tests
from autogpt.errors import InvalidInputError
from autogpt.mind.idea import read_stated
from autogpt.tools.acceptance import Acceptance
from autogpt.tools.contract import (
    ApiContract,
    Route,
    check_response,
    fill_path,
    query_types,
    routes_for,
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


_LOGIN = """
from fastapi import FastAPI, Header, HTTPException

app = FastAPI()


@app.post("/login")
def login(body: dict):
    return {"token": "t-1"} if body.get("password") == "admin123" else {}


@app.get("/me")
def me(authorization: str | None = Header(None)):
    if authorization != "Bearer t-1":
        raise HTTPException(status_code=401)
    return {"username": "admin"}
"""


@pytest.mark.parametrize(
    ("server", "passes"),
    [
        (_LOGIN, True),
        (_LOGIN.replace('"Bearer t-1"', '"Bearer other"'), False),  # the header sent is read, not assumed
        (_LOGIN.replace('{"token": "t-1"} if', '{"tok": "t-1"} if'), False),  # the key asked for must be there
    ],
)
def test_generated_tests_send_the_examples_headers_and_ask_for_their_keys(
    tmp_path: Path, server: str, passes: bool
) -> None:
    acceptance = Acceptance(
        examples=read_stated(
            'POST /login with {"username": "admin", "password": "admin123"} returns {"token": "..."}; '
            'GET /me with the header Authorization: Bearer <token> returns {"username": "admin"}.'
        )
    )
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "main.py").write_text(server)
    (tmp_path / "tests").mkdir()
    contract = ApiContract(name="login", routes=routes_for(acceptance))
    (tmp_path / "tests" / "test_api.py").write_text(render_tests(contract, acceptance))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "acceptance", "tests"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )  # fmt: skip
    assert (run.returncode == 0) is passes, run.stdout[-2000:]
    assert "2 passed" in run.stdout if passes else " failed" in run.stdout


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_generated_javascript_tests_are_valid_javascript(tmp_path: Path) -> None:
    acceptance = Acceptance(
        examples=read_stated('GET /me with the header Authorization: Bearer <token> returns {"user": "..."}.')
    )
    source = render_js_tests(ApiContract(name="me", routes=routes_for(acceptance)), acceptance)
    (tmp_path / "api.test.js").write_text(source)
    run = subprocess.run(["node", "--check", str(tmp_path / "api.test.js")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert '"request_headers": {"Authorization": "Bearer {token}"}' in source
