"""Acceptance examples: the idea's definition of done, as concrete requests and what must
come back.

A build derives them from the idea before any design (:mod:`autogpt.mind.idea` reads what
the idea states; the model fills in what it says in words), keeps them in
``acceptance.json``, designs a contract that covers each of them, and is done only when the
running server answers every one as written. A response value may be given whole
(``exact``), as the keys that must be there with those values (``subset``), or as an item a
list (or a string) must contain (``contains``). A path may name a value an earlier response
gave (``/links/{code}`` after a create that returned ``code``): values of every JSON object
response are kept, in order, for the examples after it.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from autogpt.errors import AutoGPTError, InvalidInputError
from autogpt.tools.workspace import Workspace

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
Match = Literal["none", "exact", "subset", "contains"]
Source = Literal["idea", "derived", "user"]
_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")
_PATH = re.compile(r"/[A-Za-z0-9_./{}-]*")
_SERVER_GIVEN = re.compile(r"(?:^|_)id$|[a-z]Id$")  # ``id``, ``todo_id``, ``todoId``: the server's to give
_HEADER_NAME = re.compile(r"[A-Za-z0-9-]{1,64}")
# A value that stands for "whatever it is": ``{"token": "..."}``, ``{"code": "<short code>"}``.
_ANY_VALUE = re.compile(r"\s*(?:<[^<>]*>|\.{3}|…|\?+)\s*")
MAX_EXAMPLES = 24
# The path segment of a lookup for something that does not exist (see ``mind.idea.not_found_examples``).
MISSING = "doesnotexist"
MISSING_NUMBER = "999999"


def stands_for_any(value: Any) -> bool:
    """Whether a value written in an example stands for "whatever it is" (``"..."``, ``"<code>"``)."""
    return isinstance(value, str) and _ANY_VALUE.fullmatch(value) is not None


def usable_path(value: str) -> str:
    """``value`` as a route path both an example and the contract can hold (a leading ``/``
    added), or ValueError: letters, digits, ``/ - _ .`` and well-formed ``{name}`` parameters."""
    value = value.strip()
    if not value.startswith("/"):
        value = "/" + value
    stray = _PARAM.sub("", value)  # braces left over are not well-formed {name} parameters
    if not _PATH.fullmatch(value) or "{" in stray or "}" in stray:
        raise ValueError(
            f"{value[:80]!r}: a path uses letters, digits, '/', '-', '_', '.' and {{name}} parameters only"
        )
    return value


class Example(BaseModel):
    """One request and what must come back."""

    method: Method
    path: str = Field(description="starts with /; {name} is a value an earlier response gave")
    query: dict[str, str] = Field(default_factory=dict)
    body: Any = Field(None, description="JSON request body, or null")
    status: int | None = Field(None, ge=100, le=599, description="expected status; null: any of status_class")
    status_class: Literal["2xx", "3xx", "4xx"] = Field("2xx", description="when no exact status is asked for")
    response: Any = Field(None, description="expected JSON (see match), or null")
    match: Match = "none"
    keys: list[str] = Field(
        default_factory=list, description="keys the JSON object must have, whatever their values (a token, a code)"
    )
    text: str | None = Field(None, description="expected plain-text body, or null")
    headers: dict[str, str] = Field(default_factory=dict, description="expected response headers, lower-case names")
    request_headers: dict[str, str] = Field(
        default_factory=dict, description="headers sent with the request; {name} is a value an earlier response gave"
    )
    source: Source = "idea"
    said: str = Field("", description="the idea's words this example comes from")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return usable_path(value)

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        return {k.lower(): v for k, v in value.items()}

    @field_validator("request_headers")
    @classmethod
    def _request_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.fullmatch(name) or any(ord(c) < 32 or ord(c) == 127 for c in text):
                raise ValueError(f"{name[:40]!r}: a header is a name (letters, digits, '-') and one printable line")
        return value

    @model_validator(mode="after")
    def _any_values(self) -> Example:
        """A response key shown with a placeholder for its value must be there, with any value."""
        if isinstance(self.response, dict) and self.match in ("subset", "exact"):
            placeholders = [k for k, v in self.response.items() if stands_for_any(v)]
            if placeholders:
                self.keys = list(dict.fromkeys([*self.keys, *placeholders]))
                self.response = {k: v for k, v in self.response.items() if k not in placeholders} or None
                self.match = "subset" if self.response else "none"
        return self

    @property
    def checks_a_value(self) -> bool:
        """Whether an answer's content is checked (a JSON value, a text, a header), not only its status and keys."""
        return self.match != "none" or self.text is not None or bool(self.headers)

    @property
    def bare(self) -> bool:
        """A request named with nothing to send and nothing but "some 2xx" to check."""
        return (
            not self.query and self.body is None and not self.request_headers and self.status is None
            and self.status_class == "2xx" and self.match == "none" and not self.keys and self.text is None
            and not self.headers
        )  # fmt: skip

    @property
    def label(self) -> str:
        query = f"?{urlencode(self.query)}" if self.query else ""
        sent = "".join(f" [{name}: {value}]" for name, value in self.request_headers.items())
        return f"{self.method} {self.path}{query}{sent}"

    def expects(self) -> str:
        """What must come back, in a few words: ``200 {"f": 212}``."""
        parts = [str(self.status) if self.status else self.status_class]
        if self.match != "none":
            shown = json.dumps(self.response, ensure_ascii=False)
            parts.append({"exact": shown, "subset": f"with {shown}", "contains": f"containing {shown}"}[self.match])
        if self.keys:
            parts.append(f"with keys {', '.join(self.keys)} (any value)")
        if self.text is not None:
            parts.append(f"text {self.text!r}")
        parts += [f"{name}: {value}" for name, value in self.headers.items()]
        return " ".join(parts)


class Acceptance(BaseModel):
    """Every example of one idea, and how they were found."""

    examples: list[Example] = Field(default_factory=list, max_length=MAX_EXAMPLES)
    notes: list[str] = Field(default_factory=list)
    unchecked: list[str] = Field(
        default_factory=list, description="rules the idea states in words that no example checks"
    )
    tables: dict[str, list[str]] = Field(
        default_factory=dict,
        description="a lookup route (GET /elements/{key}) -> every key of the table the idea counts",
    )

    def dump(self) -> str:
        return json.dumps(self.model_dump(), indent=2, ensure_ascii=False) + "\n"

    @property
    def named_routes(self) -> list[tuple[str, str]]:
        """(method, path) of the examples the idea itself states, in order, once each."""
        return list(dict.fromkeys((e.method, e.path) for e in self.examples if e.source != "derived"))


def kept_back(examples: Sequence[Example], routes: Iterable[tuple[str, str]]) -> frozenset[int]:
    """Which examples the server's writer is not shown, so that a server which learnt only the
    ones it saw (a table of exactly the examples' rows) fails the build instead of passing it.

    Only the model's own examples of one route asked with different inputs are kept back (the
    idea's words read as ``GET /elements/C``, ``GET /elements/O``...): every third of them, or
    the last when there are two, and only while at least two examples of that route stay
    shown. A request the idea states itself is always shown, and so is anything but a GET
    (which may change state that the shown examples' order depends on)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, e in enumerate(examples):
        route = next((r for r in routes if r[0] == e.method and covers(r[1], e.path)), None)
        if route is not None:
            groups.setdefault(route, []).append(i)
    held: set[int] = set()
    for (method, _), members in groups.items():
        if method != "GET":
            continue
        valued = [i for i in members if examples[i].checks_a_value]
        inputs = {(examples[i].path, tuple(sorted(examples[i].query.items()))) for i in valued}
        candidates = [
            i for i in valued
            if examples[i].source == "derived" and "{" not in examples[i].path
            and (examples[i].status or 200) < 300 and examples[i].status_class == "2xx"
        ]  # fmt: skip
        if len(valued) < 3 or len(inputs) < 3 or len(candidates) < 2:
            continue
        chosen = candidates[2::3] or candidates[-1:]
        if len(valued) - len(chosen) >= 2:
            held.update(chosen)
    return frozenset(held)


def load_acceptance(text: str, *, source: Source = "user") -> Acceptance:
    """Acceptance examples from JSON (an object with ``examples``, or a bare list)."""
    try:
        data = json.loads(text)
        if isinstance(data, list):
            data = {"examples": data}
        if isinstance(data, dict) and isinstance(data.get("examples"), list):
            for item in data["examples"]:
                if isinstance(item, dict):
                    item.setdefault("source", source)
        return Acceptance.model_validate(data)
    except (ValueError, ValidationError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(map(str, first["loc"])) + ": " + first["msg"] if first else str(exc)
        raise InvalidInputError(f"acceptance examples are malformed: {where}") from None


def covers(template: str, path: str) -> bool:
    """Whether a route path (``/todos/{id}``) serves an example's path (``/todos/{id}``, ``/todos/3``)."""
    have, want = template.strip("/").split("/"), path.strip("/").split("/")
    return len(have) == len(want) and all(h == w or _PARAM.fullmatch(h) for h, w in zip(have, want, strict=True))


def subset_of(expected: Any, actual: Any) -> bool:
    """``expected`` is in ``actual``: an object's keys with equal (or again subset) values; a
    list is the whole list (``GET /people?role=dev`` shown answering Bob and Cid is not answered
    by all five people), each item matched in order, an object item by its keys as above;
    anything else equal."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and subset_of(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(subset_of(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return _same(expected, actual)


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return abs(expected - actual) <= max(_shown_precision(expected), 1e-6 * max(1.0, abs(expected)))
    if isinstance(expected, str) and isinstance(actual, str):
        return expected.strip() == actual.strip()
    return bool(expected == actual)


def _shown_precision(number: float) -> float:
    """Half a unit of the last decimal a float is written with: ``26.2188`` holds for 26.21875
    (an example shows a rounded amount; the server need not round it)."""
    if isinstance(number, int) or "e" in repr(number):
        return 0.0
    return 0.5 * 10.0 ** -len(repr(number).split(".")[1]) * (1 + 1e-9)


def _exact(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and expected.keys() == actual.keys() and subset_of(expected, actual)
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(_exact(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return _same(expected, actual)


def check(example: Example, status: int, headers: Mapping[str, str], body: bytes) -> list[str]:
    """What is wrong with this response for ``example`` (empty when it holds)."""
    problems: list[str] = []
    if example.status is not None and status != example.status:
        problems.append(f"status {status}, expected {example.status}")
    elif example.status is None and str(status)[0] != example.status_class[0]:
        problems.append(f"status {status}, expected a {example.status_class} status")
    for name, want in example.headers.items():
        got = headers.get(name)
        if got is None:
            problems.append(f"no {name} header, expected {want!r}")
        elif got.strip() != want.strip() and not (name == "location" and got.rstrip("/") == want.rstrip("/")):
            problems.append(f"{name} is {got!r}, expected {want!r}")
    text = body.decode("utf-8", "replace")
    if example.text is not None:
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        if text.strip() != example.text.strip() and decoded != example.text:
            problems.append(f"body is {text[:120]!r}, expected the text {example.text!r}")
    if example.match == "none" and not example.keys:
        return problems
    try:
        data = json.loads(text)
    except ValueError:
        return [*problems, f"body is not JSON: {text[:120]!r}"]
    if missing := [k for k in example.keys if not isinstance(data, dict) or k not in data]:
        problems.append(f"body is {text[:200]}, expected the key(s) {', '.join(missing)}")
    shown = json.dumps(example.response, ensure_ascii=False)
    if example.match == "exact" and not _exact(example.response, data):
        problems.append(f"body is {text[:200]}, expected exactly {shown}")
    elif example.match == "subset" and not subset_of(example.response, data):
        problems.append(f"body is {text[:200]}, expected it to include {shown}")
    elif example.match == "contains" and not _contains(data, example.response):
        problems.append(f"body is {text[:200]}, expected it to contain {shown}")
    return problems


def _contains(data: Any, item: Any) -> bool:
    if isinstance(data, list):
        return any(subset_of(item, d) for d in data)
    if isinstance(data, str) and isinstance(item, str):
        return item in data
    if isinstance(data, dict):  # a list wrapped in an object ({"items": [...]})
        return any(_contains(v, item) for v in data.values() if isinstance(v, list))
    return False


_NUMBER_NAME = re.compile(r"n|num|number|count|year|age|amount|value|x|y|\w*_(?:num|number|count)", re.I)


def fill(path: str, known: Mapping[str, Any], promised: Collection[str] | None = None) -> str:
    """``path`` with each ``{name}`` replaced by what an earlier response gave (``id`` as a
        fallback). A name no earlier example promises to give back (``PUT /kv/{key}``) is the
        client's to choose, and gets a value made up here: a word for a word (``/kv/key``, ``/vowels/word``:
    a digit in it could break a rule on the input), a number for a number (``/square/7``); one that was promised and
        never came, or an id, is an error (``promised=None``: every name must come from a response)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        for key in (name, "id"):
            if key in known:
                return str(known[key])
        if promised is not None and name not in promised and not _SERVER_GIVEN.search(name):
            return "7" if _NUMBER_NAME.fullmatch(name) else re.sub(r"[^a-z]", "", name.lower()) or "sample"
        raise InvalidInputError(f"no earlier response gave {{{name}}}")

    return _PARAM.sub(value, path)


@dataclass
class Outcome:
    """One example, run."""

    example: Example
    target: str = ""
    status: int = 0
    problems: list[str] = field(default_factory=list)
    body: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def row(self) -> dict[str, Any]:
        return {
            "example": self.example.label,
            "expected": self.example.expects(),
            "source": self.example.source,
            "sent": self.target,
            "status": self.status,
            "ok": self.ok,
            "problems": self.problems,
            "body": self.body[:300],
        }


Reply = tuple[int, Mapping[str, str], bytes]
Send = Callable[[str, str, bytes | None, Mapping[str, str]], Awaitable[Reply]]


async def run_examples(examples: Sequence[Example], send: Send) -> list[Outcome]:
    """Each example in order against a server; ``send(method, target, body, headers)`` answers
    or raises (an exception is the example's failure, with its text as the evidence)."""
    known: dict[str, Any] = {}
    promised: set[str] = set()
    outcomes = []
    for example in examples:
        outcome = Outcome(example)
        outcomes.append(outcome)
        try:
            path = fill(example.path, known, promised)
            sent = {name: fill(value, known, promised) for name, value in example.request_headers.items()}
        except InvalidInputError as exc:
            outcome.problems.append(str(exc))
            continue
        finally:  # what this example promises to give back, later examples may name
            promised.update(example.keys, example.response if isinstance(example.response, dict) else ())
        outcome.target = _unseen(path) + (f"?{urlencode(example.query)}" if example.query else "")
        body = None if example.body is None else json.dumps(example.body).encode()
        try:
            status, headers, raw = await send(
                example.method, outcome.target, body, {"content-type": "application/json", **sent}
            )
        except (OSError, TimeoutError, AutoGPTError) as exc:  # no answer at all: this example's evidence
            outcome.problems.append(f"no HTTP answer: {exc}")
            continue
        outcome.status, outcome.body = status, raw[:500].decode("utf-8", "replace")
        outcome.problems = check(example, status, headers, raw)
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict):
            known.update({k: v for k, v in data.items() if isinstance(v, int | str) and not isinstance(v, bool)})
    return outcomes


def _unseen(path: str) -> str:
    """A lookup of something that does not exist, asked with a name the server's author never saw:
    code written to answer ``/doesnotexist`` itself is caught, one that answers whatever it does
    not know is not troubled."""
    nonce = secrets.randbelow(10**6)
    parts = path.split("/")
    fresh = {MISSING: f"{MISSING}{nonce}", MISSING_NUMBER: f"{MISSING_NUMBER}{nonce}"}
    return "/".join(fresh.get(p, p) for p in parts)


def evidence(outcomes: Sequence[Outcome]) -> str:
    """The failed examples, one line each, for a fix prompt or a report."""
    return "\n".join(
        f"- {o.example.label} (expected {o.example.expects()}): {'; '.join(o.problems)}" for o in outcomes if not o.ok
    )


def acceptance_from(data: dict[str, Any], workspace: Workspace) -> Acceptance | None:
    """The acceptance examples passed along with the work, else the workspace's acceptance.json."""
    if "acceptance" in data:
        return load_acceptance(json.dumps(data["acceptance"]), source="idea")
    if workspace.exists("acceptance.json"):
        return load_acceptance(workspace.read_text("acceptance.json"), source="idea")
    return None
