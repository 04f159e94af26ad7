"""What a small model needs to turn an idea said in words into acceptance examples.

Two questions, each small: for a plain collection ("add todos and list them"), only what it
keeps (a plural noun and a few fields with example values), from which the examples follow;
for anything else, a handful of examples, shown how by worked examples of several shapes so
that no single one is there to copy. Anything copied from them is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, Field, create_model

from autogpt.agents.asking import Check
from autogpt.tools.acceptance import Example, covers


class ResourceField(BaseModel):
    name: str = Field(description="the field's name, lowercase")
    example: str = Field(description="a realistic value of this field")


class Resource(BaseModel):
    """The idea's main kind of thing. Each field carries its own example: asked as two lists,
    a small model lets them slip out of step."""

    plural: str = Field(description="what the app keeps, one lowercase plural noun")
    fields: list[ResourceField] = Field(min_length=1, max_length=5, description="text fields of one of them, not id")


def slug(text: str, fallback: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words[:3]) or fallback


_SERVER_MADE = re.compile(r"_at$|^(?:created|updated|modified|timestamp)$")
"""Fields the server fills in (``created_at``): a client sending them sees them overwritten."""


def resource_body(resource: Resource) -> tuple[str, dict[str, Any]]:
    """(plural path segment, example body) for a resource the model named."""
    plural = slug(resource.plural, "items")
    body: dict[str, Any] = {}
    for field in resource.fields:
        name = slug(field.name, "").replace("-", "_")
        if name and name != "id" and name not in body and not _SERVER_MADE.search(name):
            body[name] = field.example.strip() or f"sample {name}"
    return plural, body or {"name": "sample name"}


def resource_prompt(idea: str) -> str:
    return (
        f"An app: {idea}\nWhat kind of thing does it keep a list of? Answer with one lowercase "
        "plural noun and the text fields one of them has (at most 5, not id), each with a "
        "realistic example value."
    )


class DraftExample(BaseModel):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str = Field(description="starts with /, no query string")
    query: dict[str, str] = Field(default_factory=dict, description="query parameters, or {}")
    body: dict[str, Any] | None = Field(None, description="JSON body for POST/PUT/PATCH, else null")
    status: int = Field(200, ge=100, le=599)
    response: dict[str, Any] | None = Field(None, description="keys and values the JSON answer must have")


class DraftExamples(BaseModel):
    examples: list[DraftExample] = Field(min_length=1, max_length=6)


def table_drafts(size: int) -> type[DraftExamples]:
    """Drafts of a lookup table the idea counts (``the first ten elements``), at least one per
    entry: the schema says how many, so a grammar-bound model cannot stop at its favourite five."""
    return create_model(
        "DraftExamples", __base__=DraftExamples,
        examples=(list[DraftExample], Field(min_length=size, max_length=size + 2)),
    )  # fmt: skip


@dataclass(frozen=True)
class Table:
    """A built-in table the idea counts but does not list, and the route that looks it up."""

    size: int
    noun: str
    head: str  # the lookup's path without its last segment: "/elements"
    example: str  # the stated lookup's key: "H"
    keys: tuple[str, ...] = ()  # every entry's key, once the model has named them

    def lookups(self, drafts: DraftExamples) -> set[str]:
        """The different entries ``drafts`` look up (answered, not refused)."""
        return {
            d.path.split("?")[0] for d in drafts.examples
            if d.method == "GET" and d.status < 300 and d.path.split("?")[0].rpartition("/")[0] == self.head
        }  # fmt: skip

    def missing(self, drafts: DraftExamples) -> list[str]:
        """The named keys ``drafts`` do not look up."""
        found = self.lookups(drafts)
        return [key for key in self.keys if f"{self.head}/{key}" not in found]


_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


class TableKeys(BaseModel):
    keys: list[str]


def table_keys(size: int) -> type[TableKeys]:
    """The keys of a counted table, exactly ``size`` of them."""
    return create_model(
        "TableKeys", __base__=TableKeys,
        keys=(list[Annotated[str, Field(pattern=_KEY.pattern)]], Field(min_length=size, max_length=size)),
    )  # fmt: skip


def keys_prompt(idea: str, table: Table) -> str:
    return (
        f"Idea: {idea}\nIts table holds {table.size} {table.noun}, looked up as GET {table.head}/<key> "
        f"(for example GET {table.head}/{table.example}). List the key of each of the {table.size} "
        f"{table.noun} the idea means, in order, written as the route takes them."
    )


def key_checks(table: Table) -> list[Check[TableKeys]]:
    def distinct(value: TableKeys) -> Sequence[str]:
        keys = list(value.keys)
        twice = sorted({k for k in keys if keys.count(k) > 1})
        return [f"{', '.join(twice)} listed more than once: list {table.size} different keys"] if twice else []

    def stated(value: TableKeys) -> Sequence[str]:
        return [] if table.example in value.keys else [f"{table.example} is one of them (the idea looks it up)"]

    return [distinct, stated]


WORKED: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "an API that adds a tip to a bill",
        [
            {"method": "GET", "path": "/tip", "query": {"amount": "200", "percent": "10"}, "body": None,
             "status": 200, "response": {"tip": 20, "total": 220}},
        ],
    ),
    (
        "a service that counts the words of a text",
        [
            {"method": "POST", "path": "/words", "query": {}, "body": {"text": "the cat sat"}, "status": 200,
             "response": {"count": 3}},
        ],
    ),
    (
        "a visit counter: each POST /visits counts one visit, GET /visits says how many so far",
        [
            {"method": "GET", "path": "/visits", "query": {}, "body": None, "status": 200, "response": {"visits": 0}},
            {"method": "POST", "path": "/visits", "query": {}, "body": None, "status": 200, "response": None},
            {"method": "POST", "path": "/visits", "query": {}, "body": None, "status": 200, "response": None},
            {"method": "GET", "path": "/visits", "query": {}, "body": None, "status": 200, "response": {"visits": 2}},
        ],
    ),
    (
        "an endpoint that tells whether the service is up",
        [{"method": "GET", "path": "/health", "query": {}, "body": None, "status": 200, "response": {"ok": True}}],
    ),
]  # fmt: skip


def examples_prompt(idea: str, table: Table | None = None, first: Sequence[Example] = ()) -> str:
    """``first``: the idea's own examples, which run before the ones written here, on the same server."""
    shown = "\n".join(f"Idea: {text}\n{json.dumps({'examples': examples})}" for text, examples in WORKED)
    every = ""
    if first:
        said = "\n".join(f"- {e.label} -> {e.expects()}" for e in first)
        every += (
            "\nThe idea's own examples run first, in this order, on a fresh server that keeps its state "
            f"between requests:\n{said}\nWrite the examples that come after them: start from the state they "
            "leave, and give each answer's values exactly."
        )
    if table is not None:
        which = f": {', '.join(table.keys)}" if table.keys else f" {table.noun} in order"
        every += (
            f"\nThe idea's table holds {table.size} {table.noun}: write {table.size} examples, one "
            f"GET {table.head}/<key> for each of those {table.size}{which}, each with its exact values."
        )
    return (
        "Write the acceptance examples of an HTTP JSON API: concrete requests and what must come back. "
        "Use the paths, parameter names and values the idea itself uses; compute expected values exactly. "
        "Write only requests the API answers (status 2xx or 3xx).\n"
        f"Examples for other ideas:\n{shown}\n\nIdea: {idea}{every}"
    )


def copied_paths(drafts: DraftExamples, idea: str) -> list[str]:
    """Paths taken from the worked examples that the idea itself never mentions."""
    theirs = {str(e["path"]) for _, examples in WORKED for e in examples}
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", idea)}
    return [
        d.path for d in drafts.examples if d.path in theirs and d.path.strip("/").split("/")[0].lower() not in words
    ]


def contradicted(drafts: DraftExamples) -> list[tuple[int, str]]:
    """Reads that contradict the answer just before them: a ``GET`` of the same path, straight
    after a request whose answer gave one of its keys another value (``POST /likes`` answers
    ``{"likes": 2}``, then ``GET /likes`` is drafted as ``{"likes": 3}``). Nothing came between
    to change it, so no server can answer both; each is (index, why)."""
    out = []
    for i in range(1, len(drafts.examples)):
        before, read = drafts.examples[i - 1], drafts.examples[i]
        if read.method != "GET" or read.path != before.path or not before.response or not read.response:
            continue
        if read.query != before.query and before.method == "GET":
            continue
        clash = sorted(k for k in read.response.keys() & before.response.keys()
                       if _numbers(read.response[k]) != _numbers(before.response[k]))  # fmt: skip
        if clash:
            key = clash[0]
            out.append((i, f"GET {read.path} straight after {before.method} {before.path} answered "
                           f"{json.dumps({key: before.response[key]})} must answer {key} the same, not "
                           f"{json.dumps(read.response[key])}"))  # fmt: skip
    return out


def mended(drafts: DraftExamples) -> DraftExamples:
    """``drafts`` with each :func:`contradicted` read made to agree with the answer just before
    it (``GET /likes`` after ``POST /likes`` answered ``{"likes": 2}`` answers 2, not 3): the
    read then checks what the idea says of it, where leaving it out would check nothing."""
    examples = list(drafts.examples)
    for i, _ in contradicted(drafts):
        before, read = examples[i - 1], examples[i]
        assert before.response is not None
        assert read.response is not None
        agreed = {k: before.response.get(k, v) for k, v in read.response.items()}
        examples[i] = read.model_copy(update={"response": agreed})
    return drafts.model_copy(update={"examples": examples})


def answered(drafts: DraftExamples) -> tuple[DraftExamples, int]:
    """``drafts`` without the refusals (status 400 and up), and how many there were. What the idea
    refuses comes from the rules it states (:func:`autogpt.mind.idea.stated_rules`); a refusal
    the model adds on its own ("km=-5 gives 400") is a rule the user never made, and a server
    built to pass it refuses requests the user meant."""
    kept = [d for d in drafts.examples if d.status < 400]
    return drafts.model_copy(update={"examples": kept}), len(drafts.examples) - len(kept)


def as_examples(drafts: DraftExamples) -> list[Example]:
    """The model's drafts as derived examples (objects are matched by the keys they show)."""
    out = []
    for draft in drafts.examples:
        fields: dict[str, Any] = {
            "method": draft.method, "path": draft.path.split("?")[0], "query": draft.query, "body": draft.body,
            "status": draft.status, "source": "derived", "said": "derived by the model from the idea's words",
        }  # fmt: skip
        if draft.response:
            fields |= {"response": _numbers(draft.response), "match": "subset"}
        out.append(Example.model_validate(fields))
    return out


_NUMERAL = re.compile(r"-?(?:0|[1-9]\d{0,14})(?:\.\d+)?")


def _numbers(value: Any) -> Any:
    """A drafted answer with its numerals as numbers: a small model writes ``{"miles": "6.21371"}``
    for an amount, and an example that asks for the string passes a server that sends one (the
    idea's own stated examples are taken as written; only the model's drafts are read so)."""
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, str) and _NUMERAL.fullmatch(value):
        return float(value) if "." in value else int(value)
    return value


def repeated_reads(drafts: DraftExamples, first: Sequence[Example]) -> set[int]:
    """The drafts that read again what the idea's own examples or an earlier draft read: a GET
    of the same path and query checks nothing new (the embedded model, asked for examples of
    "the Gregorian rules" beside GET /leap/2024, wrote GET /leap/2024 six times). Only for an
    API of reads: after a POST, the same GET may rightly answer something else."""
    if any(e.method != "GET" for e in first) or any(d.method != "GET" for d in drafts.examples):
        return set()
    seen = {(e.path, json.dumps(e.query, sort_keys=True)) for e in first}
    out = set()
    for i, d in enumerate(drafts.examples):
        key = (d.path.split("?")[0], json.dumps(d.query, sort_keys=True))
        if key in seen:
            out.add(i)
        seen.add(key)
    return out


class ReadAnswers(BaseModel):
    answers: list[dict[str, Any]] = Field(description="the JSON object each request answers, in the order asked")


def second_readable(drafts: DraftExamples, first: Sequence[Example]) -> bool:
    """An API of reads (every request a GET, so no answer depends on what came before), whose
    drafts say what comes back: each can be asked again on its own."""
    return (
        all(e.method == "GET" for e in first)
        and len(drafts.examples) > 1
        and all(d.method == "GET" and d.response for d in drafts.examples)
    )


def second_reading_prompt(idea: str, drafts: DraftExamples, first: Sequence[Example]) -> str:
    """The drafts' requests without their answers, to be answered afresh: a slip in one drafted
    answer shows when the model, asked again without it, answers otherwise. (A belief it holds
    both times is not caught: asked for leap years, the embedded 1.5B drafted 2026 as one, and
    said so again.)"""
    shown = "".join(f"\n- {e.label} -> {e.expects()}" for e in first)
    asked = "\n".join(
        f"{i}. GET {d.path}" + (f"?{urlencode(d.query)}" if d.query else "") for i, d in enumerate(drafts.examples, 1)
    )
    return (
        f"An HTTP JSON API: {idea}\n"
        + (f"As the idea says, it answers:{shown}\n" if shown else "")
        + f"What does it answer to each of these requests? Work each one out on its own from the idea's words, "
        f"exactly.\n{asked}\nAnswer with {len(drafts.examples)} JSON objects, one per request, in this order."
    )


def answer_checks(count: int) -> list[Check[ReadAnswers]]:
    def each(answers: ReadAnswers) -> Sequence[str]:
        if len(answers.answers) != count:
            return [f"you gave {len(answers.answers)} answers for {count} requests: answer each, in order"]
        return []

    return [each]


def disagreements(drafts: DraftExamples, second: ReadAnswers) -> dict[int, str]:
    """The drafts that a second reading answers otherwise: a key both give, with another value
    (a key it leaves out decides nothing). Leaving an example out loses a check; keeping a wrong
    one fails a right server, or leads the code to it and passes (a leap-year server built with
    ``2026: True`` in a table, to pass a draft): so any disagreement leaves the draft out, even
    where the second reading is the one that is wrong."""
    answers = [_numbers(a) for a in second.answers]
    drafted = [_numbers(d.response) for d in drafts.examples]
    if len(answers) != len(drafted):
        return {}
    out = {}
    for i, (draft, answer) in enumerate(zip(drafted, answers, strict=True)):
        clash = sorted(k for k in draft.keys() & answer.keys() if draft[k] != answer[k])
        if clash:
            key, path = clash[0], drafts.examples[i].path
            out[i] = f"GET {path}: {json.dumps({key: draft[key]})}, read again {json.dumps({key: answer[key]})}"
    return out


def derived_checks(idea: str, table: Table | None = None, first: Sequence[Example] = ()) -> list[Check[DraftExamples]]:
    """Drafts that are the idea's own (not the worked examples' paths) and that make valid
    examples, that look up every entry of a table the idea counts, and that read something
    the idea's own examples (``first``) do not."""

    def own(drafts: DraftExamples) -> Sequence[str]:
        copied = copied_paths(drafts, idea)
        return [f"{', '.join(copied)} come from the examples for other ideas; use this idea's own"] if copied else []

    def valid(drafts: DraftExamples) -> Sequence[str]:
        try:
            as_examples(drafts)
        except ValueError as exc:
            return [str(exc)[:300]]
        return []

    words = {w.lower() for w in re.findall(r"[A-Za-z0-9]+", idea)}

    def said(drafts: DraftExamples) -> Sequence[str]:
        # An input the idea never names (a "user_id" for "every POST /likes adds one") is the
        # model's invention: a server built to it refuses the requests the user meant.
        invented = sorted({
            name for d in drafts.examples for name in [*(d.body or {}), *d.query]
            if not all(part.lower() in words for part in re.findall(r"[A-Za-z0-9]+", name))
        })  # fmt: skip
        return [f"the idea never names {', '.join(invented)}; send only inputs the idea speaks of"] if invented else []

    def whole(drafts: DraftExamples) -> Sequence[str]:
        # "It should know the first ten elements" with one stated lookup: a server that knows
        # the handful of entries the model happened to pick would pass a shorter list.
        if table is None:
            return []
        if missing := table.missing(drafts):
            return [f"no example looks up {', '.join(missing)}: write one GET {table.head}/<key> for each of them"]
        if len(found := table.lookups(drafts)) >= table.size:
            return []
        return [
            f"the idea's table holds {table.size} {table.noun} and you looked up {len(found)}: write one "
            f"GET {table.head}/<key> for each of the {table.size}"
        ]

    def consistent(drafts: DraftExamples) -> Sequence[str]:
        return [why for _, why in contradicted(drafts)]

    def answering(drafts: DraftExamples) -> Sequence[str]:
        # Refusals are left out (see :func:`answered`); a draft of nothing else checks nothing,
        # and asked again the model writes what the API answers.
        if drafts.examples and not answered(drafts)[0].examples:
            return ["every request you wrote is refused (status 400 or more), and the idea states no such rule: "
                    "write requests the API answers (status 2xx or 3xx), with what it answers"]  # fmt: skip
        return []

    def fresh(drafts: DraftExamples) -> Sequence[str]:
        if first and drafts.examples and len(repeated_reads(drafts, first)) == len(drafts.examples):
            shown = ", ".join(dict.fromkeys(e.label for e in first))
            return [f"every request you wrote repeats one already checked ({shown}): write other requests, "
                    "with other values, whose answers the idea's words decide"]  # fmt: skip
        return []

    return [own, valid, said, consistent, answering, whole, fresh]


def rule_prompt(rule: str, status: int | None, stated: Sequence[Example]) -> str:
    shown = "\n".join(
        f"- {e.method} {e.path}" + (f"?{urlencode(e.query)}" if e.query else "")
        + (f" with body {json.dumps(e.body)}" if e.body is not None else "") + f" -> {e.expects()}"
        for e in stated
    )  # fmt: skip
    must = f"status {status}" if status else "a 4xx status"
    return (
        f"An HTTP JSON API answers these requests:\n{shown}\n\nIt also has this rule: {rule}\n"
        f"Write 1 to 3 requests that break the rule and so must be refused with {must}: the same method and "
        "path as a request above, with the query or body changed just enough to break the rule, one request "
        "for each way the rule can be broken. Set response to null."
    )


def rule_checks(stated: Sequence[Example]) -> list[Check[DraftExamples]]:
    """Requests on the idea's own routes that differ from every request the idea says succeeds.
    (What they must get back is the rule's to say, not the model's: see :func:`as_refusals`.)"""
    routes = {(e.method, e.path) for e in stated}
    with_body = {(e.method, e.path) for e in stated if e.body is not None and not e.query}
    succeeding = [
        (e.method, e.path, e.query, e.body) for e in stated if e.status_class == "2xx" and (e.status or 200) < 400
    ]

    def refusals(drafts: DraftExamples) -> Sequence[str]:
        problems = []
        for d in drafts.examples:
            where = f"{d.method} {d.path}"
            if not any(m == d.method and covers(p, d.path.split("?")[0]) for m, p in routes):
                problems.append(f"{where} is not one of the API's requests; use one of those above")
            elif (d.method, d.path.split("?")[0], d.query, d.body) in succeeding:
                problems.append(f"{where} is a request that succeeds; change it so that it breaks the rule")
            elif (d.method, d.path.split("?")[0]) in with_body and (d.body is None or d.query):
                problems.append(f"{where} sends its input as a JSON body, not a query; change the body")
        return problems

    return [refusals]


def as_refusals(drafts: DraftExamples, rule: str, status: int | None) -> list[Example]:
    """The model's rule-breaking requests as derived examples: refused with the status the rule
    names, or with any 4xx when it names none."""
    expected: dict[str, Any] = {"status_class": "4xx"} | ({"status": status} if status else {})
    return [
        Example.model_validate({
            "method": d.method, "path": d.path.split("?")[0], "query": d.query, "body": d.body, **expected,
            "source": "derived", "said": f"derived by the model from the rule: {rule}"[:300],
        })
        for d in drafts.examples
    ]  # fmt: skip
