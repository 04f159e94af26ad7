"""Worked examples for BackendGPT, one per shape of API, chosen to match the contract.

Small models copy a worked example's shape far more reliably than they follow rules, so
a single create/list/read example turns a converter into a notes API. Each example here
is a complete, correct server for a different small API; the prompt shows the ones whose
shape the contract has (computed answers over query parameters, redirects, plain text,
state kept between calls, a collection), at most two, so none is there to copy whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from autogpt.tools.contract import ApiContract


@dataclass(frozen=True)
class Worked:
    shape: str
    routes: str
    python: str
    javascript: str

    def code(self, language: str) -> str:
        return self.python if language == "python" else self.javascript


COLLECTION = Worked(
    "collection",
    """- POST /notes: body like {"text": "buy milk"} -> status 201, a JSON object with keys id, text.
- GET /notes: -> status 200, a JSON array of objects with keys id, text.
- GET /notes/{id}: -> status 200, a JSON object with keys id, text.
- DELETE /notes/{id}: -> status 204, no body.""",
    """from fastapi import FastAPI, HTTPException, Response

app = FastAPI()
notes: dict[int, dict] = {}


@app.post("/notes", status_code=201)
def create_note(body: dict):
    note_id = len(notes) + 1
    notes[note_id] = {"id": note_id, **body}
    return notes[note_id]


@app.get("/notes")
def list_notes():
    return list(notes.values())


@app.get("/notes/{id}")
def get_note(id: int):
    if id not in notes:
        raise HTTPException(status_code=404, detail="not found")
    return notes[id]


@app.delete("/notes/{id}", status_code=204)
def delete_note(id: int):
    notes.pop(id, None)
    return Response(status_code=204)
""",
    """const express = require("express");

const app = express();
app.use(express.json());
const notes = new Map();
let nextId = 1;

app.post("/notes", (req, res) => {
  const note = { id: nextId++, ...req.body };
  notes.set(note.id, note);
  res.status(201).json(note);
});

app.get("/notes", (req, res) => {
  res.json([...notes.values()]);
});

app.get("/notes/:id", (req, res) => {
  const note = notes.get(Number(req.params.id));
  if (!note) return res.status(404).json({ detail: "not found" });
  res.json(note);
});

app.delete("/notes/:id", (req, res) => {
  notes.delete(Number(req.params.id));
  res.status(204).end();
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
""",
)

COMPUTED = Worked(
    "computed",
    """- GET /area: query w (number, decimals allowed), h (number, decimals allowed) like ?w=2&h=3.5 -> status 200, \
a JSON object like {"area": 7.0}.
  - refuse GET /area?w=abc&h=1 with status 400 (w or h is not a number)""",
    """from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.get("/area")
def area(w: str, h: str):
    try:
        width, height = float(w), float(h)
    except ValueError:
        raise HTTPException(status_code=400, detail="w and h must be numbers")
    return {"area": width * height}
""",
    """const express = require("express");

const app = express();
app.use(express.json());

app.get("/area", (req, res) => {
  const width = Number(req.query.w);
  const height = Number(req.query.h);
  if (req.query.w === undefined || req.query.h === undefined || Number.isNaN(width) || Number.isNaN(height)) {
    return res.status(400).json({ detail: "w and h must be numbers" });
  }
  res.json({ area: width * height });
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
""",
)

REDIRECT = Worked(
    "redirect",
    """- POST /links: body like {"url": "https://example.org"} -> status 201, a JSON object with keys code, url.
  - refuse POST /links {"url": "nope"} with status 400 (not an http(s) URL)
- GET /go/{code}: -> status 302, no body, Location header https://example.org.""",
    """from fastapi import FastAPI, HTTPException
from fastapi.responses import RedirectResponse

app = FastAPI()
links: dict[str, str] = {}


@app.post("/links", status_code=201)
def create_link(body: dict):
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise HTTPException(status_code=400, detail="url must be an http(s) URL")
    code = str(len(links) + 1)
    links[code] = url
    return {"code": code, "url": url}


@app.get("/go/{code}")
def follow(code: str):
    if code not in links:
        raise HTTPException(status_code=404, detail="no such link")
    return RedirectResponse(links[code], status_code=302)
""",
    """const express = require("express");

const app = express();
app.use(express.json());
const links = new Map();

app.post("/links", (req, res) => {
  const url = req.body && req.body.url;
  if (typeof url !== "string" || !/^https?:\\/\\//.test(url)) {
    return res.status(400).json({ detail: "url must be an http(s) URL" });
  }
  const code = String(links.size + 1);
  links.set(code, url);
  res.status(201).json({ code, url });
});

app.get("/go/:code", (req, res) => {
  const url = links.get(req.params.code);
  if (!url) return res.status(404).json({ detail: "no such link" });
  res.redirect(302, url);
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
""",
)

TEXT = Worked(
    "text",
    """- GET /greet: query name (text) like ?name=Ada -> status 200, plain text like "Hello, Ada!".""",
    """from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/greet", response_class=PlainTextResponse)
def greet(name: str = "world"):
    return f"Hello, {name}!"
""",
    """const express = require("express");

const app = express();
app.use(express.json());

app.get("/greet", (req, res) => {
  res.type("text/plain").send(`Hello, ${req.query.name || "world"}!`);
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
""",
)

BODY = Worked(
    "body",
    """- POST /initials: body like {"name": "Ada Lovelace"} -> status 200, a JSON object like {"initials": "AL"}.
  - refuse POST /initials {"name": ""} with status 400 (name is empty or not text)""",
    """from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.post("/initials")
def initials(body: dict):
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise HTTPException(status_code=400, detail="name must be non-empty text")
    return {"initials": "".join(word[0].upper() for word in name.split())}
""",
    """const express = require("express");

const app = express();
app.use(express.json());

app.post("/initials", (req, res) => {
  const name = req.body && req.body.name;
  if (typeof name !== "string" || name.trim() === "") {
    return res.status(400).json({ detail: "name must be non-empty text" });
  }
  res.json({ initials: name.trim().split(/\\s+/).map((word) => word[0].toUpperCase()).join("") });
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
""",
)

STATE = Worked(
    "state",
    """- POST /score/add: body like {"points": 5} -> status 200, a JSON object like {"score": 5}.
  - refuse POST /score/add {"points": "x"} with status 400 (points is not a number)
- GET /score: -> status 200, a JSON object like {"score": 5}.""",
    """from fastapi import FastAPI, HTTPException

app = FastAPI()
state = {"score": 0}


@app.post("/score/add")
def add_points(body: dict):
    points = body.get("points")
    if isinstance(points, bool) or not isinstance(points, (int, float)):
        raise HTTPException(status_code=400, detail="points must be a number")
    state["score"] += points
    return {"score": state["score"]}


@app.get("/score")
def read_score():
    return {"score": state["score"]}
""",
    """const express = require("express");

const app = express();
app.use(express.json());
const state = { score: 0 };

app.post("/score/add", (req, res) => {
  const points = req.body && req.body.points;
  if (typeof points !== "number") return res.status(400).json({ detail: "points must be a number" });
  state.score += points;
  res.json({ score: state.score });
});

app.get("/score", (req, res) => {
  res.json({ score: state.score });
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
""",
)

ALL = (COLLECTION, COMPUTED, REDIRECT, TEXT, BODY, STATE)


def shapes_of(contract: ApiContract) -> list[str]:
    """The shapes a contract has, the most telling first."""
    routes = contract.routes
    found = []
    if any(r.location or 300 <= r.expected_status < 400 for r in routes):
        found.append("redirect")
    if any(r.response_type == "text" for r in routes):
        found.append("text")
    if any(r.method == "GET" and r.query for r in routes):
        found.append("computed")
    creates = [r for r in routes if r.method == "POST" and r.expected_status == 201]
    reads_by_id = any(r.method == "GET" and "{" in r.path for r in routes)
    if creates and (reads_by_id or any(r.method == "GET" and r.response_type == "array" for r in routes)):
        found.append("collection")
    elif any(r.method in ("POST", "PUT", "PATCH") for r in routes):
        # Something to read the change back from makes it state; a POST alone that answers
        # from its body is a computation, and kept state would make its answers drift.
        found.append("state" if any(r.method == "GET" for r in routes) else "body")
    if not found and routes and all(r.method == "GET" for r in routes):
        found.append("computed")  # answers worked out, nothing stored: a status or a lookup
    return found or ["collection"]


def examples_for(contract: ApiContract, limit: int = 2) -> list[Worked]:
    """The worked examples to show for ``contract``: those of its shapes, at most ``limit``."""
    by_shape = {w.shape: w for w in ALL}
    return [by_shape[shape] for shape in shapes_of(contract)][:limit]


def show(contract: ApiContract, language: str, server_file: str, fence: str) -> str:
    """The examples as the prompt shows them: each API's routes, then its correct server."""
    parts = []
    for worked in examples_for(contract):
        parts.append(
            f"Example. For these routes:\n{worked.routes}\nthis is a correct {server_file}:\n"
            f"```{fence}\n{worked.code(language)}```"
        )
    return "\n\n".join(parts)


_DEFINED = re.compile(r"""\bapp\.(?:get|post|put|patch|delete)\(\s*["'`](/[^"'`]*)["'`]""")


def _shape(path: str) -> str:
    """A route path with its parameters blanked (``/notes/{id}`` and ``/notes/:id`` alike)."""
    return re.sub(r"\{[^}]*\}|:[A-Za-z_]\w*", "{}", path.rstrip("/") or "/")


def copied_routes(code: str, contract: ApiContract) -> list[str]:
    """Routes ``code`` defines that the contract does not have and a worked example does: the
    example copied in beside this API's own routes (a pagination server came back with the
    examples' /area, /notes and /links in it)."""
    own = {_shape(r.path) for r in contract.routes}
    return sorted({p for p in _DEFINED.findall(code) if _shape(p) not in own and _shape(p) in _WORKED_ROUTES})


_WORKED_ROUTES = frozenset(_shape(m) for w in ALL for m in _DEFINED.findall(w.python + w.javascript))
