"""BackendGPT's worked examples: each is a correct server, and the contract picks them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from autogpt.agents import backend_examples as be
from autogpt.tools.contract import ApiContract


def client_for(worked: be.Worked) -> TestClient:
    scope: dict[str, Any] = {}
    exec(compile(worked.python, f"<{worked.shape}>", "exec"), scope)  # our own example code
    return TestClient(scope["app"], follow_redirects=False)


def test_the_collection_example_creates_lists_reads_and_deletes() -> None:
    c = client_for(be.COLLECTION)
    made = c.post("/notes", json={"text": "buy milk"})
    assert (made.status_code, made.json()) == (201, {"id": 1, "text": "buy milk"})
    assert c.get("/notes").json() == [{"id": 1, "text": "buy milk"}]
    assert c.get("/notes/1").json()["text"] == "buy milk"
    assert c.delete("/notes/1").status_code == 204
    assert c.get("/notes/1").status_code == 404


def test_the_computed_example_takes_decimals_and_refuses_text() -> None:
    c = client_for(be.COMPUTED)
    assert c.get("/area", params={"w": "2", "h": "3.5"}).json() == {"area": 7.0}
    assert c.get("/area", params={"w": "abc", "h": "1"}).status_code == 400


def test_the_redirect_example_redirects_and_refuses_a_bad_url() -> None:
    c = client_for(be.REDIRECT)
    made = c.post("/links", json={"url": "https://example.org"}).json()
    follow = c.get(f"/go/{made['code']}")
    assert (follow.status_code, follow.headers["location"]) == (302, "https://example.org")
    assert c.post("/links", json={"url": "nope"}).status_code == 400
    assert c.get("/go/999").status_code == 404


def test_the_text_example_answers_plain_text() -> None:
    answer = client_for(be.TEXT).get("/greet", params={"name": "Ada"})
    assert answer.text == "Hello, Ada!"
    assert answer.headers["content-type"].startswith("text/plain")


def test_the_body_example_answers_from_the_body_alone() -> None:
    c = client_for(be.BODY)
    assert c.post("/initials", json={"name": "Ada Lovelace"}).json() == {"initials": "AL"}
    assert c.post("/initials", json={"name": "grace brewster hopper"}).json() == {"initials": "GBH"}
    assert c.post("/initials", json={"name": "Ada Lovelace"}).json() == {"initials": "AL"}  # no drift
    assert c.post("/initials", json={"name": ""}).status_code == 400


def test_the_state_example_keeps_its_score() -> None:
    c = client_for(be.STATE)
    assert c.post("/score/add", json={"points": 5}).json() == {"score": 5}
    assert c.post("/score/add", json={"points": 2.5}).json() == {"score": 7.5}
    assert c.post("/score/add", json={"points": "x"}).status_code == 400
    assert c.get("/score").json() == {"score": 7.5}


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
@pytest.mark.parametrize("worked", be.ALL, ids=[w.shape for w in be.ALL])
def test_every_express_example_parses(worked: be.Worked, tmp_path: Path) -> None:
    (tmp_path / "server.js").write_text(worked.javascript)
    proc = subprocess.run(["node", "--check", "server.js"], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


def contract(*routes: dict[str, Any]) -> ApiContract:
    return ApiContract.model_validate({"name": "x", "routes": [{"summary": "s", **r} for r in routes]})


@pytest.mark.parametrize(
    ("routes", "shapes"),
    [
        ([{"method": "GET", "path": "/convert", "query": {"c": "100"}}], ["computed"]),
        (
            [
                {"method": "POST", "path": "/links", "expected_status": 201},
                {"method": "GET", "path": "/r/{code}", "expected_status": 302, "location": "https://x.org"},
            ],
            ["redirect", "collection"],
        ),
        ([{"method": "GET", "path": "/hello", "response_type": "text"}], ["text"]),
        ([{"method": "POST", "path": "/count/increment"}, {"method": "GET", "path": "/count"}], ["state"]),
        (
            [
                {"method": "POST", "path": "/todos", "expected_status": 201},
                {"method": "GET", "path": "/todos", "response_type": "array"},
            ],
            ["collection"],
        ),
        ([{"method": "GET", "path": "/health"}], ["computed"]),
        # a POST with nothing to read it back from answers from its body: no kept state to copy
        ([{"method": "POST", "path": "/count", "request_example": {"text": "a b"}}], ["body"]),
        ([{"method": "DELETE", "path": "/all", "expected_status": 204, "response_type": "none"}], ["collection"]),
    ],
)
def test_the_contract_picks_the_examples_of_its_shapes(routes: list[dict[str, Any]], shapes: list[str]) -> None:
    c = contract(*routes)
    assert be.shapes_of(c) == shapes
    shown = be.show(c, "python", "app/main.py", "python")
    assert shown.count("Example. For these routes:") == min(2, len(shapes))


def test_house_rules_fit_the_contract() -> None:
    from autogpt.agents.backend import _style
    from autogpt.agents.stacks import PYTHON

    query_only = _style(PYTHON, contract({"method": "GET", "path": "/add", "query": {"a": "2"}}))
    assert "body: dict" not in query_only
    assert "query parameters as arguments" in query_only
    with_body = _style(PYTHON, contract({"method": "POST", "path": "/todos", "request_example": {"title": "x"}}))
    assert "body: dict" in with_body
    assert "query parameters" not in with_body
    assert "past the end" not in query_only + with_body
    bodiless = _style(PYTHON, contract({"method": "POST", "path": "/likes", "request_example": {}}))
    assert "body: dict" not in bodiless  # "every POST /likes adds one": a required body is a 422 for each
    paged = _style(PYTHON, contract({"method": "GET", "path": "/items", "query": {"limit": "2", "offset": "0"}}))
    assert "A page or offset past the end of a list answers an empty list, not an error." in paged


def numbers_contract() -> ApiContract:
    return ApiContract.model_validate({"name": "pages", "routes": [
        {"method": "GET", "path": "/numbers", "summary": "a page of numbers", "query": {"page": "1", "size": "3"}},
    ]})  # fmt: skip


COPIED = """from fastapi import FastAPI

app = FastAPI()


@app.get("/area")
def area(w: str, h: str):
    return {"area": float(w) * float(h)}


@app.post("/notes")
def post_notes(body: dict):
    return body


@app.delete("/notes/{note_id}")
def delete_note(note_id: int):
    return None


@app.get("/numbers")
def numbers(page: int = 1, size: int = 3):
    return {"items": list(range(1, 11))[(page - 1) * size : page * size], "total": 10}


@app.get("/health")
def health():
    return {"ok": True}
"""


def test_routes_copied_from_the_worked_examples_are_named() -> None:
    """A pagination server came back holding the worked examples' /area, /notes and /links."""
    assert be.copied_routes(COPIED, numbers_contract()) == ["/area", "/notes", "/notes/{note_id}"]
    express = 'app.get("/area", (req, res) => res.json({}));\napp.get("/numbers", (req, res) => res.json({}));'
    assert be.copied_routes(express, numbers_contract()) == ["/area"]
    # a route of the API's own that an example also has is not a copy; nor is an extra of its own
    notes = ApiContract.model_validate({"name": "notes", "routes": [
        {"method": "POST", "path": "/notes", "summary": "add"},
        {"method": "DELETE", "path": "/notes/{id}", "summary": "remove"},
    ]})  # fmt: skip
    assert be.copied_routes(COPIED, notes) == ["/area"]
