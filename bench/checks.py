"""The idea benchmark's checks: load `bench/ideas/*.json` and run an idea's checks, in order, against a
running server. The format is described in `bench/ideas/README.md`; both modes of `bench/build_ideas.py`
(built servers and `--reference`) go through :func:`run_checks`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

IDEAS_DIR = Path(__file__).resolve().parent / "ideas"
KINDS = (
    "crud", "computed", "text", "conversion", "status", "validation",
    "redirect", "counter", "lookup", "search", "pagination", "auth",
)  # fmt: skip
LANGS = ("python", "javascript")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
REQUEST_KEYS = {"method", "path", "query", "body", "headers", "capture", "note"}
EXPECT_KEYS = {"status", "json", "json_exact", "contains", "not_contains", "keys", "text", "header", "approx"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_MISSING = object()


@dataclass(frozen=True)
class Idea:
    number: int
    name: str  # the file's stem, e.g. "07-visits"
    idea: str
    lang: str
    kind: str
    checks: list[dict[str, Any]]


@dataclass
class Outcome:
    """One check's result: the request as sent, the status got, and what did not hold."""

    request: str
    status: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load_ideas(folder: Path = IDEAS_DIR) -> list[Idea]:
    """Every idea in ``folder``, by number; ``ValueError`` naming the file for any malformed one."""
    ideas = []
    for path in sorted(folder.glob("*.json")):
        try:
            ideas.append(_parse(path))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path.name}: {exc}") from None
    numbers = [i.number for i in ideas]
    if len(set(numbers)) != len(numbers):
        raise ValueError("two idea files share a number")
    return ideas


def _parse(path: Path) -> Idea:
    data = json.loads(path.read_text(encoding="utf-8"))
    if set(data) != {"idea", "lang", "kind", "checks"}:
        raise ValueError(f"keys must be idea, lang, kind, checks, not {sorted(data)}")
    if data["lang"] not in LANGS or data["kind"] not in KINDS:
        raise ValueError(f"unknown lang {data['lang']!r} or kind {data['kind']!r}")
    if not isinstance(data["idea"], str) or not data["idea"].strip():
        raise ValueError("idea must be a non-empty string")
    if not isinstance(data["checks"], list) or not data["checks"]:
        raise ValueError("checks must be a non-empty list")
    for n, check in enumerate(data["checks"], 1):
        unknown = set(check) - REQUEST_KEYS - EXPECT_KEYS
        if unknown or not str(check.get("path", "")).startswith("/"):
            raise ValueError(f"check {n}: unknown keys {sorted(unknown)} or a path not starting with /")
        if check.get("method", "GET") not in METHODS:
            raise ValueError(f"check {n}: method {check['method']!r}")
        status = check.get("status", "2xx")
        if not (
            isinstance(status, int)
            or (isinstance(status, str) and re.fullmatch(r"[1-5]xx", status))
            or (isinstance(status, list) and status and all(isinstance(s, int) for s in status))
        ):
            raise ValueError(f"check {n}: status must be a code, a list of codes or a class like 4xx")
    number = int(path.stem.split("-", 1)[0])
    return Idea(number, path.stem, data["idea"], data["lang"], data["kind"], data["checks"])


def same(expected: Any, actual: Any, approx: float = 0.0, *, exact: bool = False) -> bool:
    """``actual`` holds ``expected``: objects by their keys (all of them when ``exact``), lists item by item in
    order and of the same length, numbers within ``approx`` (or a relative 1e-6), everything else equal."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or (exact and set(actual) != set(expected)):
            return False
        return all(k in actual and same(v, actual[k], approx, exact=exact) for k, v in expected.items())
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(e, a, approx, exact=exact) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, (int, float)):
        if not isinstance(actual, (int, float)):
            return False
        return abs(expected - actual) <= max(approx, 1e-6 * max(1.0, abs(expected)))
    return bool(expected == actual)


def _items(data: Any) -> list[Any]:
    """The items a ``contains`` looks through: an array's, or those of every array-valued field of an object."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [item for value in data.values() if isinstance(value, list) for item in value]
    return []


def _status_ok(want: Any, got: int) -> bool:
    if isinstance(want, int):
        return got == want
    if isinstance(want, list):
        return got in want
    return str(got)[0] == want[0]


def _header_ok(want: str, got: str | None) -> bool:
    if got is None:
        return False
    if got.rstrip("/") == want.rstrip("/"):
        return True
    # a path may come back as an absolute URL on the server itself
    return want.startswith("/") and urlsplit(got).path.rstrip("/") == want.rstrip("/") and bool(urlsplit(got).netloc)


def _dig(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return _MISSING
    return data


def _fill(value: Any, known: dict[str, Any], missing: list[str]) -> Any:
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            if m.group(1) in known:
                return str(known[m.group(1)])
            missing.append(m.group(1))
            return m.group(0)

        return _PLACEHOLDER.sub(sub, value)
    if isinstance(value, dict):
        return {k: _fill(v, known, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, known, missing) for v in value]
    return value


def run_check(client: httpx.Client, check: dict[str, Any], known: dict[str, Any]) -> Outcome:
    """Send one check's request and judge the answer; values it captures go into ``known``."""
    missing: list[str] = []
    method = check.get("method", "GET")
    path = _fill(check["path"], known, missing)
    query = _fill(check.get("query"), known, missing)
    headers = _fill(check.get("headers"), known, missing)
    body = _fill(check.get("body"), known, missing)
    outcome = Outcome(f"{method} {path}" + (f" {json.dumps(query)}" if query else ""))
    if missing:
        outcome.problems.append(f"nothing captured for {', '.join(sorted(set(missing)))}")
        return outcome
    try:
        kwargs: dict[str, Any] = {"params": query, "headers": headers}
        if "body" in check:
            kwargs["json"] = body
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        outcome.problems.append(f"request failed: {type(exc).__name__}: {exc}")
        return outcome
    outcome.status = response.status_code
    problems = outcome.problems
    want_status = check.get("status", "2xx")
    if not _status_ok(want_status, response.status_code):
        problems.append(f"status {response.status_code}, wanted {want_status}")
    try:
        data = response.json()
    except ValueError:
        data = _MISSING
    approx = float(check.get("approx", 0.0))
    shown = response.text[:200]
    if "json" in check and (data is _MISSING or not same(check["json"], data, approx)):
        problems.append(f"body {shown!r} does not hold {json.dumps(check['json'])}")
    if "json_exact" in check and (data is _MISSING or not same(check["json_exact"], data, approx, exact=True)):
        problems.append(f"body {shown!r} is not {json.dumps(check['json_exact'])}")
    if "contains" in check and not any(same(check["contains"], item, approx) for item in _items(data)):
        problems.append(f"body {shown!r} has no item like {json.dumps(check['contains'])}")
    if "not_contains" in check and any(same(check["not_contains"], item, approx) for item in _items(data)):
        problems.append(f"body {shown!r} still has an item like {json.dumps(check['not_contains'])}")
    if "keys" in check:
        absent = [k for k in check["keys"] if not isinstance(data, dict) or k not in data]
        if absent:
            problems.append(f"body {shown!r} lacks key(s) {', '.join(absent)}")
    said = data.strip() if isinstance(data, str) else None
    if "text" in check and check["text"].strip() not in (response.text.strip(), said):
        problems.append(f"body {shown!r} is not the text {check['text']!r}")
    for name, want in check.get("header", {}).items():
        if not _header_ok(want, response.headers.get(name)):
            problems.append(f"header {name}: {response.headers.get(name)!r}, wanted {want!r}")
    for name, dotted in check.get("capture", {}).items():
        value = _dig(data, dotted)
        if value is _MISSING or isinstance(value, (dict, list)):
            problems.append(f"could not capture {name} from {dotted!r}")
        else:
            known[name] = value
    return outcome


def run_checks(base_url: str, checks: list[dict[str, Any]], *, timeout: float = 10.0) -> list[Outcome]:
    """Every check, in order, against the server at ``base_url`` (redirects are not followed)."""
    known: dict[str, Any] = {}
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=timeout, trust_env=False) as client:
        return [run_check(client, check, known) for check in checks]
