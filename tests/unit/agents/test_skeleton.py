"""The backend's skeleton: every route of the contract under its own names, valid code, and no answers.

Run over the benchmark's ideas (their stated examples make the contracts), so the shapes are the
ones real ideas have: query numbers, keyword names, path parameters, bodies, redirects, text.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from autogpt.agents.skeleton import TODO, function_name, skeleton, unwritten
from autogpt.mind.idea import not_found_examples, read_stated, stated_rules
from autogpt.tools.acceptance import Acceptance, Example, run_examples
from autogpt.tools.contract import ApiContract, Route, routes_for

IDEAS = sorted((Path(__file__).resolve().parents[3] / "bench" / "ideas").glob("*.json"))


def contracts() -> list[tuple[str, Acceptance, ApiContract]]:
    found = []
    for path in IDEAS:
        examples = read_stated(json.loads(path.read_text())["idea"])
        if examples:
            acceptance = Acceptance(examples=examples)
            found.append((path.stem, acceptance, ApiContract(name=path.stem, routes=routes_for(acceptance))))
    return found


CONTRACTS = contracts()


def test_the_benchmark_gives_skeletons_of_many_shapes() -> None:
    routes = [r for _, _, c in CONTRACTS for r in c.routes]
    assert len(CONTRACTS) >= 30
    assert any(r.query for r in routes)
    assert any(r.params for r in routes)
    assert any(r.request_example is not None for r in routes)
    assert any(r.location for r in routes)


@pytest.mark.parametrize(("name", "acceptance", "contract"), CONTRACTS, ids=[c[0] for c in CONTRACTS])
async def test_a_python_skeleton_serves_every_route_and_answers_nothing(
    name: str, acceptance: Acceptance, contract: ApiContract
) -> None:
    code = skeleton(contract, "python", acceptance)
    namespace: dict[str, object] = {}
    exec(compile(code, f"{name}.py", "exec"), namespace)  # our own template, not model output
    app = namespace["app"]
    served = {(r.path, m) for r in app.routes for m in getattr(r, "methods", ())}  # type: ignore[attr-defined]
    assert {(r.path, r.method) for r in contract.routes} <= served
    for route in contract.routes:
        assert f"def {function_name(route)}(" in code

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:  # type: ignore[arg-type]

        async def send(
            method: str, target: str, body: bytes | None, headers: object
        ) -> tuple[int, dict[str, str], bytes]:
            response = await client.request(method, target, content=body, headers={"content-type": "application/json"})
            # headers as the checks read them: a redirect's Location is case-insensitive there
            return response.status_code, dict(response.headers), response.content

        outcomes = await run_examples(acceptance.examples, send)
    # an example that asks for an answer never gets one from the skeleton alone, and a reply that
    # leaves any route unwritten is refused before it runs (see BackendGPT._ask_code)
    for outcome in outcomes:
        e = outcome.example
        if e.status_class == "2xx" and (e.response is not None or e.text is not None):
            assert not outcome.ok, outcome.row()
    assert sorted(unwritten(code)) == sorted(function_name(r) for r in contract.routes)


@pytest.mark.parametrize(("name", "acceptance", "contract"), CONTRACTS, ids=[c[0] for c in CONTRACTS])
def test_a_javascript_skeleton_is_valid_javascript(
    name: str, acceptance: Acceptance, contract: ApiContract, tmp_path: Path
) -> None:
    node = shutil.which("node")
    assert node is not None, "make setup installs Node.js"
    code = skeleton(contract, "javascript", acceptance)
    source = tmp_path / "server.js"
    source.write_text(code)
    check = subprocess.run([node, "--check", str(source)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    for route in contract.routes:
        assert f'app.{route.method.lower()}("' in code
    assert code.count(TODO) == len(contract.routes)


def test_a_route_with_code_is_written_and_one_with_only_a_docstring_is_not() -> None:
    code = (
        "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/a')\ndef a():\n    return {'a': 1}\n\n"
        '@app.get(\'/b\')\ndef b():\n    """Later."""\n    pass\n\ndef helper():\n    ...\n'
    )
    assert unwritten(code) == ["b"]


def test_names_that_are_not_python_identifiers_are_read_through_an_alias() -> None:
    route = Route(method="GET", path="/convert", summary="convert", query={"from": "EUR", "to-currency": "USD"})
    code = skeleton(ApiContract(name="fx", routes=[route]), "python")
    assert 'from_: Annotated[str, Query(alias="from")]' in code
    assert 'to_currency: Annotated[str, Query(alias="to-currency")]' in code
    compile(code, "fx.py", "exec")


async def test_a_header_the_examples_send_reaches_the_route_function() -> None:
    acceptance = Acceptance(examples=read_stated('GET /me with the header X-Api-Key: <key> returns {"user": "ada"}.'))
    contract = ApiContract(name="me", routes=routes_for(acceptance))
    code = skeleton(contract, "python", acceptance)
    assert "x_api_key: str | None = Header(None)" in code
    code = code.replace(f"...  # {TODO}", "return {'got': x_api_key}")
    namespace: dict[str, object] = {}
    exec(compile(code, "me.py", "exec"), namespace)
    transport = httpx.ASGITransport(app=namespace["app"])  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/me", headers={"X-Api-Key": "k1"})).json() == {"got": "k1"}
        assert (await client.get("/me")).json() == {"got": None}
    assert 'const xApiKey = req.get("X-Api-Key");' in skeleton(contract, "javascript", acceptance)


def test_a_required_body_comes_before_optional_query_parameters() -> None:
    acceptance = Acceptance(
        examples=[
            Example(method="POST", path="/signup", body={"email": "a@b.co"}, query={"ref": "x"}),
            Example(method="POST", path="/signup", body={"email": "c@d.co"}),  # no ref: it is optional
        ]
    )
    code = skeleton(ApiContract(name="signup", routes=routes_for(acceptance)), "python", acceptance)
    assert "def post_signup(body: dict, ref: str | None = None):" in code
    compile(code, "signup.py", "exec")


def test_a_request_that_sends_nothing_takes_no_body() -> None:
    acceptance = Acceptance(examples=read_stated('POST /hit adds one and returns {"count": 1}.'))
    code = skeleton(ApiContract(name="hits", routes=routes_for(acceptance)), "python", acceptance)
    assert "def post_hit():" in code  # not a body to copy a required `body: dict` from


def test_an_id_in_the_path_is_read_as_the_number_the_server_counted_out() -> None:
    contract = ApiContract.model_validate(
        {"name": "todos", "description": "todos", "routes": [
            {"method": "GET", "path": "/todos/{id}", "summary": "one todo"},
            {"method": "GET", "path": "/kv/{key}", "summary": "one value"},
        ]}
    )  # fmt: skip
    code = skeleton(contract, "python")
    assert "def get_todos_id(id: int):" in code
    assert "def get_kv_key(key: str):" in code


UNKNOWN_PATHS = (
    'GET /status returns {"ok": true, "service": "orders"}, and any unknown path answers 404 with '
    '{"error": "not found"}.'
)


def unknown_paths_acceptance() -> Acceptance:
    examples = read_stated(UNKNOWN_PATHS)
    for rule, status in stated_rules(UNKNOWN_PATHS):
        examples += not_found_examples(rule, status, examples)
    return Acceptance(examples=examples)


async def test_what_any_unknown_path_answers_is_in_the_python_skeleton_after_every_route() -> None:
    acceptance = unknown_paths_acceptance()
    code = skeleton(ApiContract(name="status", routes=routes_for(acceptance)), "python", acceptance)
    namespace: dict[str, object] = {}
    exec(compile(code, "status.py", "exec"), namespace)  # our own template, not model output
    app = namespace["app"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:  # type: ignore[arg-type]
        for path in ("/nope", "/a/b/c"):
            response = await client.get(path)
            assert (response.status_code, response.json()) == (404, {"error": "not found"})
        assert (await client.get("/status")).status_code == 200  # the route itself, still to be written
    assert unwritten(code) == ["get_status"]


def test_what_any_unknown_path_answers_is_in_the_javascript_skeleton_before_it_listens(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node is not None, "make setup installs Node.js"
    acceptance = unknown_paths_acceptance()
    code = skeleton(ApiContract(name="status", routes=routes_for(acceptance)), "javascript", acceptance)
    answer = 'app.use((req, res) => res.status(404).json({"error": "not found"}));'
    assert code.index('app.get("/status"') < code.index(answer) < code.index("app.listen(")
    (tmp_path / "server.js").write_text(code)
    check = subprocess.run([node, "--check", str(tmp_path / "server.js")], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    assert "app.use((req, res)" not in skeleton(ApiContract(name="s", routes=routes_for(acceptance)), "javascript")
