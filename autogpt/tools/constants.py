"""Answers written into the code: a server that returns an example's expected answer as a
constant passes that example and nothing else.

Small models do this (``[f for f in ['apple', 'apricot', 'grape'] if q in f]`` for "the fruits
whose name contains q", the example's answer standing in for the whole table). An answer
that depends on the request's query or body must be worked out from it, so when the code
holds such an answer verbatim (a list, or an object with a value) the example is not
counted as passed: the evidence goes back to the model like any other failure. Answers that
do not depend on the request (``GET /health`` -> ``{"status": "ok"}``) and refusals are
constants by nature and are never flagged. A request that changes state (any method but GET)
answers from that state: ``POST /hit`` -> ``{"count": 1}`` written as ``return {"count": 1}``
passes once and is wrong ever after, so it is flagged too.

A table of the examples' own answers keyed by their inputs (``{10: 6.21371, 100: 62.1371}``
for "convert km to miles") holds no whole answer, and a bare ``True`` is too common to count as
one, so :func:`unmoved_by_input` asks the running server the same question with the example's
numbers (and query texts) moved: a server that learnt the examples by heart refuses the near ones, and one that
answers the same whatever the input gives the example's answer to all of them.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Collection
from typing import Any
from urllib.parse import urlencode

from autogpt.errors import AutoGPTError
from autogpt.tools.acceptance import Example, Outcome, Send

_CONTAINERS = (ast.List, ast.Tuple, ast.Dict, ast.Set)


def _literals_python(code: str) -> list[Any]:
    """Every outermost constant list, tuple, set or dict in ``code``: a table's rows are
    parts of the table, not answers of their own."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    found: list[Any] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, _CONTAINERS):
            try:
                value = ast.literal_eval(node)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                pass
            else:
                found.append(list(value) if isinstance(value, tuple | set) else value)
                continue
        todo.extend(ast.iter_child_nodes(node))
    return found


_SPACE = re.compile(r"\s+")
_BARE_KEY = re.compile(r"([{,])([A-Za-z_$][\w$]*):")


def _flat_javascript(code: str) -> str:
    """The code with no spaces, double quotes only and every object key quoted."""
    flat = _SPACE.sub("", code).replace("'", '"').replace("`", '"')
    return _BARE_KEY.sub(r'\1"\2":', flat)


def _find_all(text: str, part: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(part), text)]


def _telling(value: Any) -> bool:
    """An answer specific enough that finding it in the code means something."""
    if isinstance(value, list):
        return len(value) >= 2 or (len(value) == 1 and isinstance(value[0], dict | list))
    if isinstance(value, dict):
        return any(not isinstance(v, bool) and v not in (None, "", 0) for v in value.values())
    return False


def answered_from_constant(example: Example, code: str, language: str) -> str | None:
    """Why ``example``'s answer looks written into ``code`` rather than worked out, or None."""
    # A request with input answers from it; a POST, PUT, PATCH or DELETE changes what the server
    # holds, so its answer ("the new count") moves with that state. Either way, not a constant.
    takes_input = bool(example.query) or example.body is not None or example.method != "GET"
    succeeds = example.status_class == "2xx" and (example.status is None or example.status < 300)
    if not (takes_input and succeeds and example.match in ("exact", "subset") and _telling(example.response)):
        return None
    expected = example.response
    if language == "python":
        held = any(literal == expected for literal in _literals_python(code))
    else:
        flat, wanted = _flat_javascript(code), json.dumps(expected, separators=(",", ":"), ensure_ascii=False)
        held = any(at == 0 or flat[at - 1] not in ":[," for at in _find_all(flat, wanted))
    if not held:
        return None
    shown = json.dumps(expected, ensure_ascii=False)[:120]
    return f"the code holds this example's answer {shown} as a constant: work it out from the request's " + (
        f"{'query' if example.query else 'body'}, so that other inputs get their own answers"
        if example.query or example.body is not None
        else "effect on what the server keeps, so that the next request gets its own answer"
    )


_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?")
_NEAR = 2  # the first two variants move each number by one; the others far (to 0, to ten times and one)


def _moves(value: str) -> list[str]:
    number = float(value) if "." in value else int(value)
    shown = (lambda x: f"{x:.{len(value.split('.')[1])}f}") if "." in value else str
    return [shown(number + 1), shown(number - 1), shown(0 * number), shown(10 * number + 1)]


def variants(example: Example, target: str, written: Collection[str] = ()) -> list[str]:
    """``target`` (the example as sent) with every number the example states, in its path or its
    query, moved: by +1, by -1, to 0, to ten times and one. None when it states no number. A
    number that names one of the things a collection holds (``/todos/1`` where examples write to
    ``/todos``, in ``written``) is an id, not an input to work an answer out from: it stays."""
    path, _, _ = target.partition("?")
    stated = example.path.split("/")
    segments = path.split("/")
    numeric_segments = [
        i
        for i, part in enumerate(segments)
        if i < len(stated) and stated[i] == part and _NUMBER.fullmatch(part) and "/".join(segments[:i]) not in written
    ]
    numeric_query = [k for k, v in example.query.items() if _NUMBER.fullmatch(v)]
    if not numeric_segments and not numeric_query:
        return []
    segment_moves = {i: _moves(segments[i]) for i in numeric_segments}
    query_moves = {k: _moves(example.query[k]) for k in numeric_query}
    out = []
    for move in range(4):
        moved = [segment_moves[i][move] if i in segment_moves else p for i, p in enumerate(segments)]
        query = {k: query_moves[k][move] if k in query_moves else v for k, v in example.query.items()}
        out.append("/".join(moved) + (f"?{urlencode(query)}" if query else ""))
    return [t for t in dict.fromkeys(out) if t != target]


def _text_moves(value: str) -> list[str]:
    return [value + "q", value[1:] if len(value) > 1 else "qq", "xyz", ""]


def text_variants(example: Example, target: str) -> list[str]:
    """``target`` with each text the example states in its query moved (a letter added, the first
    one dropped, another word, nothing): the input of ``GET /palindrome?text=Racecar``. Only the
    query: a path segment may be a route's own name, and a catch-all answers any path alike."""
    path, _, _ = target.partition("?")
    texts = [k for k, v in example.query.items() if not _NUMBER.fullmatch(v)]
    out = []
    for move in range(4):
        query = {k: _text_moves(v)[move] if k in texts else v for k, v in example.query.items()}
        out.append(f"{path}?{urlencode(query)}")
    return [t for t in dict.fromkeys(out) if t != target] if texts else []


def _json(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return _UNREAD


_UNREAD = object()


def _answers_alike(example: Example, status: int, raw: bytes) -> bool:
    if not 200 <= status < 300:
        return False
    wanted = set(example.keys) | (set(example.response) if isinstance(example.response, dict) else set())
    data = _json(raw)
    return not wanted or (isinstance(data, dict) and wanted <= set(data))


async def unmoved_by_input(outcome: Outcome, send: Send, written: Collection[str] = ()) -> str | None:
    """Why a passed GET example looks answered without working the answer out, or None.

    The same request with its numbers moved (see :func:`variants`) must get, for one of the two
    near moves at least, a success with the example's keys (else it answers only the examples'
    own inputs: a table of them), and for one move at least something other than the example's
    own answer (else the answer does not depend on the input at all: ``{"leap": true}`` for any
    year). Texts in its query are moved too (:func:`text_variants`), for the second check only:
    a text may rightly be refused, but ``{"palindrome": true}`` for every text is no answer. A GET
    changes nothing, so asking again disturbs no later check. ``written``: the paths
    the examples change (see :func:`variants`)."""
    example = outcome.example
    if not outcome.ok or example.method != "GET" or example.request_headers or example.status_class != "2xx":
        return None
    if not (isinstance(example.response, dict) or example.keys):
        return None
    answers: list[tuple[str, int, bytes]] = []
    numeric = variants(example, outcome.target, written)
    for target in numeric + text_variants(example, outcome.target):
        try:
            status, _, raw = await send("GET", target, None, {"content-type": "application/json"})
        except (OSError, TimeoutError, AutoGPTError) as exc:
            answers.append((target, 0, f"no answer ({exc})".encode()))
            continue
        answers.append((target, status, raw))
    if not answers:
        return None
    shown = [f"{t} got {s} {raw[:80].decode('utf-8', 'replace')}" for t, s, raw in answers]
    if numeric and not any(_answers_alike(example, s, raw) for _, s, raw in answers[:_NEAR]):
        return (
            "it answers only the examples' own inputs: " + "; ".join(shown[:_NEAR])
            + ". Work the answer out from the request for any input, not from a table of the examples"
        )  # fmt: skip
    own = _json(outcome.body)
    if (
        isinstance(example.response, dict)
        and own is not _UNREAD
        and all(200 <= s < 300 and _json(raw) == own for _, s, raw in answers)
    ):
        return (
            f"it gives the same answer {outcome.body[:120]} whatever the input: "
            + ", ".join(t for t, _, _ in answers)
            + " all got it too. Work the answer out from the request's input"
        )
    return None
