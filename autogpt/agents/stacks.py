"""What differs between the languages BackendGPT writes servers in.

Each :class:`Stack` knows how to pull code out of a reply and check its syntax, the files
written without the model (dependencies, contract tests), and how to prepare an
environment for and start the server. The worked examples the model is shown are in
:mod:`autogpt.agents.backend_examples`.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from autogpt.errors import ConfigError, InvalidInputError
from autogpt.tools.acceptance import Acceptance
from autogpt.tools.contract import ApiContract
from autogpt.tools.nodeenv import NODE_DEPENDENCIES, ensure_node_env, node_syntax_error
from autogpt.tools.pyenv import PYTHON_REQUIREMENTS, ensure_python_env

SERVER_FILE = "app/main.py"
_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)
_JS_FENCE = re.compile(r"```(?:javascript|js|node)?\s*\n(.*?)```", re.DOTALL)


def extract_code(text: str) -> str:
    """The Python code in a model's reply, or ``InvalidInputError`` if it holds none."""
    blocks = _FENCE.findall(text)
    code = max(blocks, key=len) if blocks else text
    code = code.strip() + "\n"
    if "import" not in code and "def " not in code:
        raise InvalidInputError("the reply holds no Python code")
    try:
        compile(code, SERVER_FILE, "exec")
    except SyntaxError as exc:
        raise InvalidInputError(f"the code does not compile: line {exc.lineno}: {exc.msg}") from None
    return code


_PY_CHECKS = '''

def _same(expected, actual):
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _same(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(_same, expected, actual))
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return abs(expected - actual) <= 1e-6 * max(1.0, abs(expected))
    return expected == actual


def _fill(path):
    return re.sub(r"\\{(\\w+)\\}", lambda m: str(known.get(m.group(1), known.get("id", 1))), path)


@pytest.mark.parametrize("example", ACCEPTANCE, ids=[f"{e['method']} {e['path']}" for e in ACCEPTANCE])
def test_acceptance(example):
    """The idea's acceptance examples (acceptance.json), in order."""
    response = client.request(
        example["method"], _fill(example["path"]), params=example["query"] or None,
        json=example["body"] if example["body"] is not None else None,
        headers={name: _fill(value) for name, value in example["request_headers"].items()},
    )
    if example["status"] is not None:
        assert response.status_code == example["status"], response.text
    else:
        assert str(response.status_code)[0] == example["status_class"][0], response.text
    for name, value in example["headers"].items():
        assert response.headers.get(name, "").rstrip("/") == value.rstrip("/")
    if example["text"] is not None:
        assert response.text.strip() in (example["text"].strip(), json.dumps(example["text"]))
    if example["keys"]:
        data = response.json()
        assert isinstance(data, dict) and all(k in data for k in example["keys"]), data
    if example["match"] != "none":
        data = response.json()
        if example["match"] == "exact":
            assert data == example["response"]
        elif example["match"] == "subset":
            assert _same(example["response"], data), data
        else:
            items = data if isinstance(data, list) else [data]
            assert any(_same(example["response"], item) for item in items), data
    try:
        data = response.json()
    except ValueError:
        return
    if isinstance(data, dict):
        known.update({k: v for k, v in data.items() if isinstance(v, (int, str)) and not isinstance(v, bool)})
'''


def render_tests(contract: ApiContract, acceptance: Acceptance | None = None) -> str:
    """Pytest tests, run against the app in-process with TestClient: the acceptance examples
    first (what the idea asks), then a check of each contract route."""
    examples = [e.model_dump(exclude={"said", "source"}) for e in (acceptance.examples if acceptance else [])]
    out = [
        '"""Tests generated from acceptance.json and contract.json: `python -m pytest -q tests`."""',
        "",
        "import json",
        "import re",
        "",
        "import pytest",
        "from fastapi.testclient import TestClient",
        "",
        "from app.main import app",
        "",
        "client = TestClient(app, follow_redirects=False)",
        "known: dict = {}",
        f"ACCEPTANCE = json.loads({json.dumps(examples)!r})",
        *_PY_CHECKS.splitlines(),
    ]
    for i, r in enumerate(contract.ordered()):
        path = re.sub(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}", r"{known.get('\1', known.get('id', 1))}", r.path)
        body = f", json={r.request_example!r}" if r.request_example is not None else ""
        query = f", params={r.query!r}" if r.query else ""
        out += [
            "",
            "",
            f"def test_{i}_{r.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', r.path.lower()).strip('_') or 'root'}():",
            f'    response = client.request("{r.method}", f"{path}"{query}{body})',
            f"    assert response.status_code == {r.expected_status}, response.text",
        ]
        if r.response_type == "object" and r.expected_status < 300:
            out += ["    data = response.json()", "    assert isinstance(data, dict)"]
            out += [f"    assert {k!r} in data" for k in r.response_keys]
            out += ["    known.update({k: v for k, v in data.items() if isinstance(v, (int, str))})"]
        elif r.response_type == "array" and r.expected_status < 300:
            out += ["    assert isinstance(response.json(), list)"]
    return "\n".join(out) + "\n"


_JS_CHECKS = """
const same = (e, a) => {
  if (Array.isArray(e)) return Array.isArray(a) && a.length === e.length && e.every((x, i) => same(x, a[i]));
  if (e && typeof e === "object") {
    return !!a && typeof a === "object" && Object.keys(e).every((k) => k in a && same(e[k], a[k]));
  }
  if (typeof e === "number" && typeof a === "number") return Math.abs(e - a) <= 1e-6 * Math.max(1, Math.abs(e));
  return e === a;
};
const fill = (path) => path.replace(/\\{(\\w+)\\}/g, (_, name) => known[name] ?? known.id ?? 1);
for (const ex of ACCEPTANCE) {
  test(`acceptance: ${ex.method} ${ex.path}`, async () => {
    const query = new URLSearchParams(ex.query).toString();
    const headers = Object.fromEntries(Object.entries(ex.request_headers).map(([k, v]) => [k, fill(v)]));
    const init = { method: ex.method, redirect: "manual", headers };
    if (ex.body !== null) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(ex.body);
    }
    const res = await fetch(`${base}${fill(ex.path)}${query ? "?" + query : ""}`, init);
    const text = await res.text();
    if (ex.status !== null) assert.strictEqual(res.status, ex.status, text);
    else assert.strictEqual(String(res.status)[0], ex.status_class[0], text);
    const bare = (v) => (v || "").replace(/\\/$/, "");
    for (const [name, want] of Object.entries(ex.headers)) assert.strictEqual(bare(res.headers.get(name)), bare(want));
    if (ex.text !== null) assert.ok([ex.text.trim(), JSON.stringify(ex.text)].includes(text.trim()), text);
    let data;
    try { data = JSON.parse(text); } catch { data = undefined; }
    for (const key of ex.keys) assert.ok(data && typeof data === "object" && key in data, text);
    if (ex.match === "exact") assert.deepStrictEqual(data, ex.response);
    if (ex.match === "subset") assert.ok(same(ex.response, data), text);
    const items = Array.isArray(data) ? data : [data];
    if (ex.match === "contains") assert.ok(items.some((item) => same(ex.response, item)), text);
    if (data && typeof data === "object" && !Array.isArray(data)) Object.assign(known, data);
  });
}
"""


def render_js_tests(contract: ApiContract, acceptance: Acceptance | None = None) -> str:
    """node:test tests against a running server: `PORT=3000 node --test tests/`."""
    examples = [e.model_dump(exclude={"said", "source"}) for e in (acceptance.examples if acceptance else [])]
    out = [
        'const test = require("node:test");',
        'const assert = require("node:assert");',
        "const base = `http://127.0.0.1:${process.env.PORT || 3000}`;",
        "const known = {};",
        f"const ACCEPTANCE = {json.dumps(examples)};",
        *_JS_CHECKS.splitlines(),
    ]
    for i, r in enumerate(contract.ordered()):
        path = re.sub(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}", r"${known['\1'] ?? known.id ?? 1}", r.path)
        if r.query:
            path += "?" + "&".join(f"{k}={v}" for k, v in r.query.items())
        body = (
            f", headers: {{'content-type': 'application/json'}}, body: JSON.stringify({json.dumps(r.request_example)})"
            if r.request_example is not None
            else ""
        )
        out += [
            "",
            f'test("{i} {r.method} {r.path}", async () => {{',
            f'  const res = await fetch(`${{base}}{path}`, {{ method: "{r.method}", redirect: "manual"{body} }});',
            f"  assert.strictEqual(res.status, {r.expected_status});",
        ]
        if r.response_type == "object" and r.expected_status < 300:
            out += ["  const data = await res.json();", "  Object.assign(known, data);"]
            out += [f'  assert.ok("{k}" in data);' for k in r.response_keys]
        out.append("});")
    return "\n".join(out) + "\n"


# The API and the page on one origin, as FrontendGPT's check runs them: routes first, then
# the files of frontend/ (index.html at /).
SITE_PY = """\"\"\"The API and the web page on one origin: uvicorn app.site:app --port 8000\"\"\"

from pathlib import Path

from fastapi.staticfiles import StaticFiles

from app.main import app

app.mount("/", StaticFiles(directory=Path(__file__).resolve().parent.parent / "frontend", html=True), name="site")
"""
SITE_JS = """// The API and the web page on one origin: PORT=3000 node site.js
const path = require("path");
const express = require("express");

const listen = express.application.listen;
express.application.listen = function (...args) {
  this.use(express.static(path.join(__dirname, "frontend")));  // after the API's routes
  return listen.apply(this, args);
};
require("./server.js");
"""


@dataclass(frozen=True)
class Launch:
    """How to start a prepared server on ``port`` inside the Sandbox."""

    argv: list[str]
    env: dict[str, str]
    readable: tuple[Path, ...] = field(default=())


@dataclass(frozen=True)
class Stack:
    language: str
    framework: str
    server_file: str
    fence: str
    style: str
    run_hint: str
    site_file: str
    site_code: str
    site_hint: str

    def extract(self, text: str) -> str:
        if self.language == "python":
            return extract_code(text)
        blocks = _JS_FENCE.findall(text)
        code = (max(blocks, key=len) if blocks else text).strip() + "\n"
        if "require(" not in code and "import " not in code and "express" not in code:
            raise InvalidInputError("the reply holds no JavaScript code")
        return code

    def check(self) -> None:
        """Refuse early, before any model call, when the toolchain is missing."""
        if self.language == "javascript" and (shutil.which("node") is None or shutil.which("npm") is None):
            raise ConfigError("JavaScript projects need Node.js and npm", hint="install them, or use --lang python")

    async def syntax_error(self, code: str, scratch: Path) -> str:
        return "" if self.language == "python" else await node_syntax_error(code, scratch)

    def files(self, contract: ApiContract, acceptance: Acceptance | None = None) -> dict[str, str]:
        if self.language == "python":
            return {
                "requirements.txt": PYTHON_REQUIREMENTS,
                "requirements-dev.txt": "-r requirements.txt\npytest\nhttpx\n",
                "app/__init__.py": "",
                "tests/test_api.py": render_tests(contract, acceptance),
            }
        package = {
            "name": contract.name,
            "private": True,
            "scripts": {"start": "node server.js", "test": "node --test tests/"},
            "dependencies": NODE_DEPENDENCIES,
        }
        return {
            "package.json": json.dumps(package, indent=2) + "\n",
            "tests/api.test.js": render_js_tests(contract, acceptance),
        }

    async def launch(self, cache_dir: Path, port: int, *, site: bool = False) -> Launch:
        """Start the API (``site``: the API and the page, via :attr:`site_file`)."""
        if self.language == "python":
            bin_dir = await ensure_python_env(PYTHON_REQUIREMENTS, cache_dir)
            argv = [
                str(bin_dir / "python"),
                "-m",
                "uvicorn",
                "app.site:app" if site else "app.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            return Launch(argv, {"PATH": str(bin_dir)}, (bin_dir.parent,))
        modules = await ensure_node_env(NODE_DEPENDENCIES, cache_dir)
        entry = self.site_file if site else self.server_file
        return Launch(["node", entry], {"PORT": str(port), "NODE_PATH": str(modules)}, (modules.parent,))


PYTHON = Stack(
    "python", "FastAPI", SERVER_FILE, "python",
    "Keep data in a module-level dict. Take request bodies as `body: dict`.",
    "pip install -r requirements-dev.txt && uvicorn app.main:app --port 8000; python -m pytest -q tests",
    "app/site.py", SITE_PY, "uvicorn app.site:app --port 8000  # the API and the page at http://localhost:8000/",
)  # fmt: skip
JAVASCRIPT = Stack(
    "javascript", "Express", "server.js", "javascript",
    "Use CommonJS require, express.json(), data in a Map, and listen on process.env.PORT at 127.0.0.1.",
    "npm install && PORT=3000 npm start; PORT=3000 npm test (with the server running)",
    "site.js", SITE_JS, "PORT=3000 node site.js  # the API and the page at http://localhost:3000/",
)  # fmt: skip
STACKS = {s.language: s for s in (PYTHON, JAVASCRIPT)}
