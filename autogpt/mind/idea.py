"""Reading an idea without a model: what it states outright, and what it asks for.

What an idea states explicitly is taken verbatim: each ``METHOD /path?query`` it mentions,
the JSON it shows being sent or coming back, the status codes, redirects and plain-text
answers it names next to that mention. Nothing here guesses: what the idea says only in
words is left to the model (and marked as derived). The idea's scope (an API, or an app
with a page) and the create/list/read verbs of a plain collection are read here too.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from pydantic import ValidationError

from autogpt.tools.acceptance import MISSING, MISSING_NUMBER, Example, covers, stands_for_any

_MENTION = re.compile(
    r"\b(GET|POST|PUT|PATCH|DELETE)\s+(/(?:[^\s,;'\"`<>()\[\]]|,(?=[^\s,;])|<[A-Za-z_][\w-]*>)*)"
)  # a comma inside the target (``?numbers=3,1,4``) is part of it; one before a space is prose
# A placeholder in a path, written ``<code>`` or ``:code``: a value an earlier answer gave.
_PLACEHOLDER = re.compile(r"<([A-Za-z_][\w-]*)>|(?<=/):([A-Za-z_]\w*)")
# Where an example's own clause ends: a sentence's end, a semicolon, or ", and ..." starting
# another statement (``returns {...}; an unknown country returns 404``). What follows is not
# this request's answer; said without a request of its own, it is a rule.
_CLAUSE_END = re.compile(r"[.;](?:\s|$)|,\s+(?:and|but|while|whereas|otherwise)\s", re.IGNORECASE)
# A request header stated with the request: ``with the header Authorization: Bearer <token>``.
_HEADER = re.compile(r"\b(Authorization|X-[A-Za-z0-9-]+)\s*:\s*((?:Bearer|Basic|Token)\s+\S+|\S+)", re.IGNORECASE)
_RESPONDS = re.compile(
    r"(?:\breturns?\b|\bgives?\b|\brespond(?:s|ing)?\b|\banswers?\b|->|→|=>|\byields?\b|\boutputs?\b|"
    r"\bget(?:s)? back\b|\brepl(?:y|ies)\b|\bresult(?:s)? in\b|\bsays?\b)",
    re.IGNORECASE,
)
# A status is a three-digit number that a word before it marks as one (``returns 404``,
# ``status: 201``). The numbers are found first, then the few characters before each are
# read, so prose without numbers costs one fast scan.
_STATUS_NUMBER = re.compile(r"(?<![0-9])[1-5][0-9]{2}\b")
_STATUS_BEFORE = re.compile(
    r"(?:\bstatus(?:\s+code)?|\bHTTP|\bcode|\breturns?|\bgives?|\bgets?|\brespond(?:s|ing)?(?:\s+with)?|\banswers?|"
    r"\bwith|->|→|=>|\ba|\ban|\bthen|\bor|\bis|\()\s*:?\s*$",
    re.IGNORECASE,
)
_FINAL_STATUSES = frozenset(int(s) for s in HTTPStatus if s >= 200)
_URL = re.compile(r"https?://[^\s,;'\"<>)\]]+")
_PLAIN_WORD = re.compile(r"\bplain text\s+([A-Za-z0-9_!?-]+)", re.IGNORECASE)  # ``answers with the plain text pong``
_REDIRECT_PATH = re.compile(r"\bredirect\w*\b[^.;]*?\bto\s+(/[A-Za-z0-9_./-]*)", re.IGNORECASE)
_FOR_QUOTED = re.compile(r"\bfor (?:the |a )?(?:\w+ )?\"((?:[^\"\\]|\\.)*)\"")
_TEXT = re.compile(
    r"(?:returns?|gives?|respond(?:s|ing)?(?:\s+with)?|answers?|says?|->|→|=>)\s+(?:the\s+)?(?:plain\s+)?"
    r"(?:text\s+)?[\"“']([^\"”'{}\[\]]{1,200})[\"”']",
    re.IGNORECASE,
)
_FAILS = re.compile(r"\b(?:reject(?:s|ed)?|error|invalid|fails?|not allowed|bad request|refuse[sd]?)\b", re.I)
_CREATED = re.compile(
    r"\b(?:creates?|created|the new|saves?|saved|adds an?\s+(?!and\b)\w+|added|stores?|stored|echo(?:es)?)\b",
    re.IGNORECASE,
)
_ITS_ID = re.compile(r"\b(?:its|an|the new|with an?)\s+id\b", re.IGNORECASE)
_PAGE = re.compile(
    r"\b(?:web ?page|page|frontend|front-end|ui|user interface|website|web site|browser|html|form|button|"
    r"web app|dashboard)\b",
    re.IGNORECASE,
)
# Next to stated requests, a bare "page" is paging or a route's name (``page through the
# numbers``, ``five per page``, ``/views/{page}``, ``the old page moved``); a page to use is
# named outright.
_PAGE_TO_USE = re.compile(
    r"\b(?:web ?page|frontend|front-end|ui|user interface|website|web site|browser|html|form|button|web app|"
    r"dashboard|(?:a|an|one|the) (?:single |simple |small |html )?page (?:to|that|where|for|with|listing|showing))\b",
    re.IGNORECASE,
)
_BACKEND_ONLY = re.compile(r"\bback[- ]?end\b", re.IGNORECASE)
_FRONT = re.compile(r"\b(?:front[- ]?end|web ?page|ui|user interface|website)\b", re.IGNORECASE)
_API = re.compile(r"\b(?:api|endpoints?|rest|json|service|server|microservice|routes?|http)\b", re.IGNORECASE)


_OPENER = re.compile(r"[{\[]")


def json_snippets(text: str) -> list[tuple[int, int, Any]]:
    """(start, end, value) of each JSON object or array written in ``text``, outermost only.
    Single-quoted JSON (a common way to write it in prose) is read too. Linear in practice:
    where each bracket closes is learned once and reused (see ``_Brackets``)."""
    found: list[tuple[int, int, Any]] = []
    brackets = _Brackets(text)
    i = 0
    while (opened := _OPENER.search(text, i)) is not None:
        i = opened.start()
        end = brackets.end(i)
        if end is None:
            i += 1
            continue
        raw = text[i:end]
        value: Any = None
        try:
            for candidate in (raw, raw.replace("'", '"'), _with_placeholders(raw)):
                try:
                    value = json.loads(candidate)
                    break
                except ValueError:
                    continue
        except RecursionError:  # nested deeper than any example: none of it is read
            i = end
            continue
        if value is None:
            i += 1
            continue
        found.append((i, end, value))
        i = end
    return found


_ELIDED = re.compile(r"\[\s*(?:\.\.\.|…)\s*\]|\{\s*(?:\.\.\.|…)\s*\}")
_BARE_NAME = re.compile(r"(:\s*)(?!(?:true|false|null)\b)([A-Za-z_][A-Za-z0-9_]*)(?=\s*[,}\]])")


def _with_placeholders(raw: str) -> str:
    """JSON as prose writes it, made JSON: ``[...]`` and a bare ``n`` in ``{"views": n}`` stand
    for a value not given (read as ``"..."``, see :class:`autogpt.tools.acceptance.Example`)."""
    return _BARE_NAME.sub(r'\1"<\2>"', _ELIDED.sub('"..."', raw))


class _Brackets:
    """Where the bracket opened at a position closes, if it does. A scan from one bracket
    passes over the brackets nested in it, in the same quoting state a scan started at
    them would see (quotes count only inside brackets), so each one's answer is kept and
    a later start reuses it instead of scanning the rest of the text again."""

    _PAIRS: ClassVar[dict[str, str]] = {"{": "}", "[": "]"}

    def __init__(self, text: str) -> None:
        self.text = text
        self.known: dict[int, int | None] = {}

    def end(self, start: int) -> int | None:
        if start in self.known:
            return self.known[start]
        text, stack, quote = self.text, [(start, self._PAIRS[self.text[start]])], ""
        j = start + 1
        while j < len(text) and stack:
            ch = text[j]
            if quote:
                if ch == "\\":
                    j += 1
                elif ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch in self._PAIRS:
                if (nested := self.known.get(j, -1)) != -1:
                    if nested is None:
                        break
                    j = nested
                    continue
                stack.append((j, self._PAIRS[ch]))
            elif ch == stack[-1][1]:
                self.known[stack.pop()[0]] = j + 1
            elif ch in "}]":
                break
            j += 1
        for opened, _ in stack:  # unclosed, or cut short by a wrong closer: none of these closes
            self.known[opened] = None
        return self.known[start]


def _blank(text: str, spans: list[tuple[int, int, Any]]) -> str:
    chars = list(text)
    for start, end, _ in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")
_DESCRIBED_LIST = re.compile(r"\[\s*(?:\.\.\.|…)\s*\]")
_KNOWS_MORE = re.compile(r"\b(?:knows?|the first \w+|built-in)\b", re.I)
# A rule the idea names rather than shows (``under the Gregorian rules``, ``by the Luhn
# algorithm``, ``following ISO 8601``): one example of it says little of the rest.
_NAMED_RULE = re.compile(
    r"\b(?:under|by|following|according to|per|using|with|obeying|as in)\s+(?:the\s+)?"
    r"((?:[A-Z][\w-]*|\d[\w-]*)(?:\s+(?:[A-Z][\w-]*|\d[\w-]*)){0,3})"
    r"(?:\s+(rules?|calendar|standard|algorithm|formula|convention|checksum|method|definition|scheme))?",
)


def facts_in_words(idea: str, examples: list[Example]) -> list[str]:
    """What the idea states in words that its stated examples leave unchecked, so a server that
    gets it wrong would pass them: a decimal no example uses (``1 GBP = 1.25 USD``, ``one
    kilometre is 0.621371 miles``), a list shown as ``[...]`` and described in words (``the posts
    whose ids are 6 to 10``), what a lookup knows beyond its one example (``GET /elements/H``
    ... ``it should know the first ten elements``), rows it lists (``Ann (admin), Bob (dev)...``)
    that no example names. See also :func:`worded_reads`."""
    words = _blank(idea, [(m.start(), m.end(), None) for m in _MENTION.finditer(idea)] + json_snippets(idea))
    used = json.dumps([[e.path, e.query, e.body, e.response, e.text] for e in examples])
    found = [n for n in dict.fromkeys(_DECIMAL.findall(words)) if n not in used]
    if _DESCRIBED_LIST.search(idea) and any(e.keys for e in examples):
        found.append("a list it shows as [...]")
    if _KNOWS_MORE.search(words) and (lone := lone_lookup(examples)) is not None:
        found.append(f"what it knows beyond {lone.path}")
    rows, valued = listed_rows(idea), any(e.checks_a_value for e in examples)
    if len(rows) >= 3 and valued and (unchecked := [name for name, _ in rows if json.dumps(name) not in used]):
        found.append(f"the rows it lists ({', '.join(unchecked)} in no example)")
    routes = [(e.method, _NUMBERED.sub("/{}", e.path)) for e in examples if e.checks_a_value]
    if routes and len(set(routes)) == len(routes):  # one answer shown per route: a named rule decides the rest
        found += [f"the {' '.join(filter(None, m.groups()))}" for m in _NAMED_RULE.finditer(words) if _named(m)]
    return found


_NUMBERED = re.compile(r"/[^/]*\d[^/]*")  # a path segment with a number in it: a parameter's value


def _named(match: re.Match[str]) -> bool:
    """A proper name with what it names (``the Gregorian rules``), or a standard's own name
    (``ISO 8601``): not the first word of a sentence (``With it, ...``)."""
    name, noun = match.group(1), match.group(2)
    return bool(noun) or bool(re.fullmatch(r"[A-Z]{2,}\s+\d[\w-]*", name))


_WORDED_VALUE = re.compile(r'"([A-Za-z_]\w*)"\s*:\s*(?!(?:true|false|null)\b)[A-Za-z_]\w*(?=\s*[,}\]])')


def worded_reads(idea: str, examples: list[Example]) -> list[Example]:
    """Examples whose answer the idea writes with a name for its value (``GET /count returns
    {"count": N}``, N being what its words say: the hits so far), on a route where no example
    checks a value. A server answering a constant passes them; only a value can tell. A quoted
    stand-in (``{"token": "..."}``, ``"<short code>"``) is any value, and is not counted here."""
    named = set(_WORDED_VALUE.findall(idea))
    valued = [(e.method, e.path) for e in examples if e.checks_a_value]
    return [
        e
        for e in examples
        if named & set(e.keys) and not any(m == e.method and covers(e.path, path) for m, path in valued)
    ]


def lone_lookup(examples: list[Example]) -> Example | None:
    """The first lookup (``GET /elements/H`` answered with values) that is its route's only one."""
    lookups: dict[str, list[Example]] = {}
    for e in examples:
        parent, _, last = e.path.rpartition("/")
        if e.method == "GET" and parent and last and "{" not in last and e.checks_a_value:
            lookups.setdefault(parent, []).append(e)
    return next((v[0] for v in lookups.values() if len(v) == 1), None)


def read_stated(idea: str) -> list[Example]:
    """The examples ``idea`` states outright, in the order it states them."""
    mentions = list(_MENTION.finditer(idea))
    examples: list[Example] = []
    for n, mention in enumerate(mentions):
        method, target = mention.group(1), _placeholders(mention.group(2).rstrip(".:!"))
        segment = idea[mention.end() : mentions[n + 1].start() if n + 1 < len(mentions) else len(idea)]
        example = _example(method, target, segment, said=idea[mention.start() : mention.end() + len(segment)])
        if example is not None:
            examples.append(_listed_after_create(_with_a_body_in_words(example, examples), examples))
            examples += _with_a_wrong_key(example, examples)
            examples += _more_bodies(example, segment)
    return examples


_PAIR_GAP = re.compile(r"\s*(?:returns?|gives?|yields?|answers?|->|→|=>)\s*", re.IGNORECASE)


def _more_bodies(example: Example, segment: str) -> list[Example]:
    """``POST /age with {"age": 20} returns {"adult": true} and {"age": 15} returns {"adult":
    false}``: each further body -> answer pair in the request's own clause, a body of the same
    keys as the first, is another example of the same request."""
    if not isinstance(example.body, dict) or example.match == "none":
        return []
    own = segment[: clause_end(_blank(segment, json_snippets(segment)))]
    more = []
    for (_, sent_end, sent), (answer_start, _, answer) in itertools.pairwise(json_snippets(own)[2:]):  # after its own
        if not isinstance(sent, dict) or set(sent) != set(example.body) or any(map(stands_for_any, sent.values())):
            continue
        if type(answer) is type(example.response) and _PAIR_GAP.fullmatch(own[sent_end:answer_start]):
            more.append(example.model_copy(update={"body": sent, "response": answer}))
    return more


_SAVED_URL = re.compile(r"\b(?:saved|stored|original|given|long|that|its|the)\s+(?:url|link|address)\b", re.I)


def _listed_after_create(example: Example, before: list[Example]) -> Example:
    """``GET /notes lists all notes`` or ``GET /notes/{id} returns one``, said after ``POST
    /notes`` created one (and before anything removed it): the list holds what was created,
    and the one read back is it (the fields it was sent with)."""
    if example.status_class == "3xx" and not example.headers and _SAVED_URL.search(example.said):
        sent = [v for e in before if e.method == "POST" and isinstance(e.body, dict) for v in e.body.values()]
        if urls := [v for v in sent if isinstance(v, str) and _URL.fullmatch(v)]:
            return example.model_copy(update={"headers": {"location": urls[-1]}})  # "redirects to the saved URL"
    if not example.bare or example.method != "GET":
        return example
    for earlier in reversed(before):
        if earlier.method == "DELETE":
            return example
        body = earlier.body
        if earlier.method != "POST" or not isinstance(body, dict) or not body:
            continue
        if not (earlier.status == 201 or "id" in earlier.keys) or any(stands_for_any(v) for v in body.values()):
            continue
        if example.path == earlier.path:
            return example.model_copy(update={"response": body, "match": "contains"})
        if example.path == f"{earlier.path}/{{id}}":
            return example.model_copy(update={"response": body, "match": "subset"})
    return example


_BODY_IN_WORDS = re.compile(r"\bwith\b(?!\s+no\s+body)", re.I)


def _with_a_body_in_words(example: Example, before: list[Example]) -> Example:
    """``PUT /contacts/{id} with a new name and email replaces them``, said after ``POST /contacts``
    was shown with a body: the request sends that body's fields, with new values (a request
    sent with no body at all is one no server that does what was asked could accept)."""
    if example.method not in ("POST", "PUT", "PATCH") or example.body is not None:
        return example
    if not _BODY_IN_WORDS.search(example.said.split(example.path, 1)[-1]):
        return example
    for earlier in reversed(before):
        body = earlier.body
        if earlier.method != "POST" or not isinstance(body, dict) or not body:
            continue
        if example.path in (earlier.path, f"{earlier.path}/{{id}}") and not any(
            stands_for_any(v) for v in body.values()
        ):
            fresh = {k: _renewed(v) for k, v in body.items()} if example.method != "POST" else body
            return example.model_copy(update={"body": fresh})
    return example


def _renewed(value: Any) -> Any:
    """Another value of the same kind: an email stays an email, a number a number."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return f"new.{value}" if "@" in value else f"new {value}"
    return value


_VALID_KEY = re.compile(r"\b(?:(?:in)?valid|wrong|bad|different|incorrect)\s+(?:\w+\s+)?(?:token|key)\b", re.I)


def _with_a_wrong_key(refused: Example, before: list[Example]) -> list[Example]:
    """``GET /me without a valid token returns 401``, said after ``GET /me`` with a header:
    the request with a wrong token is refused too, not only the one with none."""
    if (refused.status_class != "4xx" and (refused.status or 0) < 400) or refused.request_headers:
        return []
    if not _VALID_KEY.search(refused.said):
        return []
    sent = next(
        (
            e.request_headers
            for e in before
            if e.request_headers and (e.method, e.path) == (refused.method, refused.path)
        ),
        None,
    )
    if not sent:
        return []
    return [refused.model_copy(update={"request_headers": {k: f"{v}-wrong" for k, v in sent.items()}})]


def _unescaped(text: str) -> str:
    """A quoted string as the idea wrote it (``ab cd\\nef`` is two lines); as it stands if its
    escapes are not JSON's."""
    try:
        value = json.loads(f'"{text}"', strict=False)
    except ValueError:
        return text
    return value if isinstance(value, str) else text


def _placeholders(text: str) -> str:
    """``/r/<code>`` and ``/r/:code`` as ``/r/{code}``."""
    return _PLACEHOLDER.sub(lambda m: "{" + (m.group(1) or m.group(2)).replace("-", "_") + "}", text)


def clause_end(plain: str) -> int:
    """Where the first clause of ``plain`` (JSON blanked out) ends."""
    found = _CLAUSE_END.search(plain)
    return found.start() if found else len(plain)


def _example(method: str, target: str, segment: str, said: str) -> Example | None:
    path, _, query = target.partition("?")
    head = said[: len(said) - len(segment)]
    segment = segment[: clause_end(_blank(segment, json_snippets(segment)))]  # only this request's own words
    snippets = json_snippets(segment)
    plain = _blank(segment, snippets)
    verb = _RESPONDS.search(plain)
    body: Any = None
    response: Any = None
    for start, _end, value in snippets:
        is_response = (verb is not None and verb.start() < start) or method in ("GET", "DELETE")
        if is_response and response is None:
            response = value
        elif not is_response and body is None:
            body = value
    fields: dict[str, Any] = {
        "method": method,
        "path": path or "/",
        "query": dict(parse_qsl(query, keep_blank_values=True)),
        "body": body,
        "said": (head + segment).strip()[:300],
    }
    status = _status(plain)
    if status is not None:
        fields["status"] = status
    redirect = "redirect" in plain.lower()
    refused = (not redirect and (status or 0) >= 400) or (status is None and response is None and _FAILS.search(plain))
    if method == "POST" and not refused and _ITS_ID.search(plain) and "id" not in (response or {}):
        fields["keys"] = [*fields.get("keys", ()), "id"]
    if headers := {m.group(1): _placeholders(m.group(2)) for m in _HEADER.finditer(plain)}:
        fields["request_headers"] = headers
    if isinstance(body, dict) and (unknown := [k for k, v in body.items() if stands_for_any(v)]):
        if len(unknown) == 1 and (quoted := _FOR_QUOTED.search(plain)):  # ``... for the text "ab cd"``
            body = fields["body"] = {**body, unknown[0]: _unescaped(quoted.group(1))}
        elif response is None and method == "POST" and (status == 201 or _CREATED.search(plain)):
            # ``POST /notes with {"text": "..."} creates a note``: any text will do; one is chosen
            body = fields["body"] = {k: f"sample {k}" if k in unknown else v for k, v in body.items()}
        elif isinstance(response, dict):  # an answer to an input not given: only its keys are known
            fields["keys"] = [*fields.get("keys", ()), *response]
            response = None
    if response is not None:
        fields |= {"response": response, "match": "subset" if _has_objects(response) else "exact"}
    elif isinstance(body, dict) and method == "POST" and not refused and _CREATED.search(plain):
        fields |= {"response": body, "match": "subset"}  # a refused body is not what comes back
    elif text := _TEXT.search(plain) or _PLAIN_WORD.search(plain):
        fields["text"] = text.group(1)
    if redirect:
        fields["status_class"] = "3xx"
        if url := _URL.search(plain):
            fields["headers"] = {"location": url.group(0).rstrip(".")}
        elif to := _REDIRECT_PATH.search(plain):
            fields["headers"] = {"location": to.group(1).rstrip(".")}
    elif refused and status is None:
        fields["status_class"] = "4xx"
    try:
        return Example.model_validate(fields)
    except ValidationError:
        return None


def _status(plain: str) -> int | None:
    """The first final HTTP status the text names. A number that is no such status (``returns
    144``, ``with 250 units``) is an answer or a quantity, not a status."""
    for found in _STATUS_NUMBER.finditer(plain):
        code = int(found.group())
        if code in _FINAL_STATUSES and _STATUS_BEFORE.search(plain, max(0, found.start() - 24), found.start()):
            return code
    return None


def _has_objects(value: Any) -> bool:
    """Objects are matched by the keys shown (a server may add an ``id``); lists of objects too."""
    return isinstance(value, dict) or (isinstance(value, list) and bool(value) and isinstance(value[0], dict))


def wants_page(idea: str) -> bool:
    """Whether the idea asks for something people use in a browser (a page), or only an API.
    An idea that names a page, a form or a UI gets one; one that speaks of an API, endpoints
    or routes (and of no page) does not; anything else (``a todo app``) gets one. Where the
    idea states requests, only a page to use counts (see ``_PAGE_TO_USE``)."""
    if _BACKEND_ONLY.search(idea) and not _FRONT.search(idea):
        return False  # "the backend of a like button"
    if _MENTION.search(idea):
        return bool(_PAGE_TO_USE.search(_MENTION.sub(" ", idea)))
    if _PAGE.search(idea):
        return True
    return not _API.search(idea)


_CREATE = re.compile(r"\b(?:add|adds|create|creates|save|saves|store|stores|submit|record|post|keep)\b", re.I)
_LIST = re.compile(r"\b(?:list|lists|all|browse|show them|see them)\b", re.I)
_READ = re.compile(r"\b(?:by id|by its id|get one|read one|look (?:one )?up|fetch one|a single|view one)\b", re.I)
_DELETE = re.compile(r"\b(?:delete|deletes|remove|removes)\b", re.I)


def collection_verbs(idea: str) -> set[str]:
    """Which of create, list, read and delete a plain collection idea asks for (empty when it
    does not ask to create things and then list or read them)."""
    verbs = {
        name for name, pattern in (("create", _CREATE), ("list", _LIST), ("read", _READ), ("delete", _DELETE))
        if pattern.search(idea)
    }  # fmt: skip
    return verbs if "create" in verbs and verbs & {"list", "read"} else set()


def collection_examples(plural: str, body: dict[str, Any], verbs: set[str]) -> list[Example]:
    """The examples of a plain collection: create one, find it in the list, read it back by
    the id the create returned, delete it and see it gone. Marked derived: the idea said it
    in words, and the model chose the names."""
    base = f"/{plural}"
    made = {"method": "POST", "path": base, "body": body, "response": body, "match": "subset", "source": "derived"}
    examples = [Example.model_validate({**made, "said": f"add one of the {plural}"})]
    if "list" in verbs:
        examples.append(
            Example.model_validate(
                {"method": "GET", "path": base, "response": body, "match": "contains", "source": "derived",
                 "said": f"list the {plural}"}
            )
        )  # fmt: skip
    if "read" in verbs or "delete" in verbs:
        examples.append(
            Example.model_validate(
                {"method": "GET", "path": f"{base}/{{id}}", "response": body, "match": "subset", "source": "derived",
                 "said": "get one by id"}
            )
        )  # fmt: skip
    if "delete" in verbs:
        examples += [
            Example.model_validate(
                {"method": "DELETE", "path": f"{base}/{{id}}", "source": "derived", "said": f"delete a {plural}"}
            ),
            Example.model_validate(
                {"method": "GET", "path": f"{base}/{{id}}", "status": 404, "source": "derived",
                 "said": "a deleted one is gone"}
            ),
        ]  # fmt: skip
    return examples


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


def stated_rules(idea: str) -> list[tuple[str, int | None]]:
    """The refusals an idea states only in words (``a password shorter than 8 characters is
    rejected with status 422``), with the status named, if any: clauses that name a refusal
    and no request (``GET /capital/France returns ...; an unknown country returns 404``). The
    examples for them can only come from the model; until one does, the rule is unchecked, and
    a build cannot say it did what was asked."""
    rules = []
    for clause in _clauses(idea):
        if _MENTION.search(clause):
            continue
        plain = _blank(clause, json_snippets(clause))
        status = _status(plain)
        if (status is not None and status >= 400) or (status is None and _FAILS.search(plain)):
            rules.append((clause[:300], status))
    return rules


def _clauses(idea: str) -> Iterator[str]:
    """Each sentence's clauses, in order (a full stop kept, the joining words dropped)."""
    for sentence in _SENTENCE.split(idea):
        plain, start = _blank(sentence, json_snippets(sentence)), 0
        for end in _CLAUSE_END.finditer(plain):
            yield sentence[start : end.start() + (plain[end.start()] == ".")].strip()
            start = end.end()
        if rest := sentence[start:].strip():
            yield rest


_UNKNOWN = re.compile(
    r"\b(?:unknown|other|never|missing|no such|not known|(?:does not|doesn'?t|it does not|it doesn'?t) "
    r"(?:know|exist|have)|not (?:stored|saved|found|there))\b",
    re.IGNORECASE,
)
_ANY_PATH = re.compile(r"\b(?:path|route|url|address|endpoint)s?\b", re.IGNORECASE)


def not_found_examples(rule: str, status: int | None, stated: list[Example]) -> list[Example]:
    """A "not found" rule read without a model (``unknown codes return 404``, ``a country it
    doesn't know returns 404``): each stated lookup (a GET whose last path segment names the
    thing, answered or redirected) asked for something that does not exist. ``any unknown path answers 404``: a path
    no route has. Empty when the rule is not of this kind, and the model is asked instead."""
    if status != 404 or not _UNKNOWN.search(rule):
        return []
    said = f"derived from the rule: {rule}"[:300]
    bodies = [value for _, _, value in json_snippets(rule) if isinstance(value, dict) and value]
    answer = {"response": bodies[0], "match": "subset"} if bodies else {}  # "404 with {"error": "not found"}"
    if _ANY_PATH.search(rule):
        return [_missing(f"/{MISSING}/{MISSING}", said, answer)]
    found: dict[str, Example] = {}
    for example in stated:
        parts = example.path.rstrip("/").split("/")
        if example.method != "GET" or len(parts) < 3 or example.status_class == "4xx" or (example.status or 200) >= 400:
            continue
        last = parts[-1]
        missing = MISSING_NUMBER if last.isdigit() else MISSING
        path = "/".join([*parts[:-1], missing])
        found.setdefault(path, _missing(path, said, answer))
    return list(found.values())


def _missing(path: str, said: str, answer: dict[str, Any]) -> Example:
    fields = {"method": "GET", "path": path, "status": 404, "source": "derived", "said": said}
    return Example.model_validate(fields | answer)


_DROP = object()
_NUMBER = r"(-?\d+(?:\.\d+)?)"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _as_given(value: Any, number: float) -> Any:
    """``number`` written the way the idea wrote ``value`` (a query's ``"1994"`` stays text)."""
    whole = int(number) if float(number).is_integer() else number
    return str(whole) if isinstance(value, str) else whole


def _numeric(value: Any) -> float | None:
    """``value`` as a number, whether the idea wrote it as one (a body's ``20``) or as text (a query's ``"20"``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


# How a rule's words break a value the idea says is fine: (words, the broken values).
_BREAKERS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"\bwithout an? (?:@|at sign|at-sign)", re.I),
     lambda v, m: [t.replace("@", "")] if (t := _text(v)) and "@" in t else []),
    (re.compile(rf"\b(?:shorter|fewer) than {_NUMBER}", re.I),
     lambda v, m: ["x" * max(0, int(float(m.group(1))) - 1)] if _text(v) is not None else []),
    (re.compile(rf"\blonger than {_NUMBER}", re.I),
     lambda v, m: ["x" * (int(float(m.group(1))) + 1)] if _text(v) is not None else []),
    (re.compile(r"\b(?:wrong|incorrect|invalid|bad)\b", re.I),
     lambda v, m: [f"wrong-{t}"] if (t := _text(v)) and _numeric(t) is None else []),
    (re.compile(r"\bnegative\b", re.I),
     lambda v, m: [_as_given(v, -abs(n) or -1)] if (n := _numeric(v)) is not None else []),
    (re.compile(r"\bnot a positive (?:whole number|integer)", re.I),
     lambda v, m: [_as_given(v, 0), _as_given(v, 1.5), "two"] if _numeric(v) is not None else []),
    (re.compile(r"\bnot (?:a|an) (?:number|whole number|integer)\b", re.I),
     lambda v, m: ["abc"] if _numeric(v) is not None else []),
    (re.compile(rf"\b(?:below|under|less than|smaller than|lower than) {_NUMBER}", re.I),
     lambda v, m: [_as_given(v, float(m.group(1)) - 1)] if _numeric(v) is not None else []),
    (re.compile(rf"\b(?:above|over|more than|greater than|larger than|higher than) {_NUMBER}", re.I),
     lambda v, m: [_as_given(v, float(m.group(1)) + 1)] if _numeric(v) is not None else []),
    (re.compile(r"\bmissing\b|\bwithout (?:a|an|the|its)\s+(?=[A-Za-z])", re.I), lambda v, m: [_DROP]),
    (re.compile(r"\bempty\b", re.I), lambda v, m: [""] if _text(v) is not None else []),
]  # fmt: skip
_ABOUT_HEADERS = re.compile(r"\b(?:header|token|key|api key)s?\b", re.I)
_NO_HEADER = re.compile(r"\b(?:without|missing|no)\b", re.I)
_OTHER_HEADER = re.compile(r"\b(?:different|wrong|invalid|bad|other|incorrect)\b", re.I)
_RULE_PARTS = re.compile(r",?\s+\bor\b\s+|,\s+|;\s*", re.I)


def broken_examples(rule: str, status: int | None, stated: list[Example]) -> list[Example]:
    """A refusal rule read without a model: each succeeding stated request with the value the
    rule names broken the way it says (``an email without an @``: the email without its @;
    ``a password shorter than 8 characters``: 7 characters; ``a missing item``: no item;
    ``numbers above 3999``: 4000). Each part of the rule (split at "or" and commas) breaks the
    fields it names, else the one it last named, else the request's only input. Empty when
    the words give nothing to break, and the model is asked instead."""
    out: dict[str, Example] = {}
    expected: dict[str, Any] = {"status_class": "4xx"} | ({"status": status} if status else {})
    said = f"derived from the rule: {rule}"[:300]

    def add(example: Example, **changes: Any) -> None:
        fields = example.model_dump(include={"method", "path", "query", "body", "request_headers"})
        candidate = Example.model_validate({**fields, **changes, **expected, "source": "derived", "said": said})
        key = candidate.model_dump_json(include={"method", "path", "query", "body", "request_headers"})
        out.setdefault(key, candidate)

    for example in stated:
        if example.status_class != "2xx" or (example.status or 200) >= 300:
            continue
        if example.request_headers and _ABOUT_HEADERS.search(rule):  # the key or token sent is the input
            for part in _RULE_PARTS.split(rule):
                if _NO_HEADER.search(part):
                    add(example, request_headers={})
                if _OTHER_HEADER.search(part):
                    add(example, request_headers={k: f"{v}-wrong" for k, v in example.request_headers.items()})
            continue
        where, inputs = ("body", example.body) if isinstance(example.body, dict) else ("query", example.query)
        if not inputs:
            continue
        last: list[str] = [next(iter(inputs))] if len(inputs) == 1 else []
        for part in _RULE_PARTS.split(rule):
            named = [k for k in inputs if re.search(rf"\b{re.escape(k)}s?\b", part, re.I)] or last
            last = named
            for field in named:
                for words, breaks in _BREAKERS:
                    if not (found := words.search(part)):
                        continue
                    for broken in breaks(inputs[field], found):
                        if broken is not _DROP and broken == inputs[field]:
                            continue
                        changed = {
                            k: broken if k == field else v
                            for k, v in inputs.items()
                            if k != field or broken is not _DROP
                        }
                        add(example, **{where: changed})
    return list(out.values())[:6]


_KNOWS = re.compile(
    r"\b(?:knows?|includes?|holds?|has|have|contains?|table of|list of)\s+(?:at least\s+|the\s+)?"
    r"((?:[A-Za-z0-9][\w-]*,\s+)+[A-Za-z0-9][\w-]*,?\s+and\s+[A-Za-z0-9][\w-]*)",
    re.IGNORECASE,
)


def from_lists(idea: str, examples: list[Example]) -> list[Example]:
    """What the lists an idea writes in words add to its stated examples: the lookups a listed
    table must answer (:func:`listed_lookups`), and a listed table's other filter values
    (:func:`listed_filters`)."""
    looked_up = listed_lookups(idea, examples)
    return looked_up + listed_filters(idea, examples + looked_up)


def listed_lookups(idea: str, examples: list[Example]) -> list[Example]:
    """What a lookup table must hold, when the idea lists it (``it knows at least 200, 201,
    301, 404 and 500``; ``a built-in table of at least France, Germany and Japan``): for each
    stated lookup (a GET whose last path segment is one of the listed values), the others
    looked up too, each answered with the keys the stated answer has. Their values are not
    said, so only that they are there is checked; a server that learnt the one example by
    heart fails."""
    listed: list[str] = []
    said = ""
    for found in _KNOWS.finditer(idea):
        listed += [v for v in re.split(r",\s*(?:and\s+)?|\s+and\s+", found.group(1).strip(", ")) if v]
        said = said or f"derived from the idea's list: {found.group(0)}"[:300]
    out: list[Example] = []
    taken = {(e.method, e.path) for e in examples}
    for example in examples:
        head, _, last = example.path.rpartition("/")
        if example.method != "GET" or not head or last not in listed or not example.checks_a_value:
            continue
        keys = sorted(example.response) if isinstance(example.response, dict) else []
        for value in listed:
            path = f"{head}/{value}"
            if (example.method, path) in taken or not re.fullmatch(r"[A-Za-z0-9_.-]+", value):
                continue
            taken.add((example.method, path))
            out.append(Example.model_validate({"method": "GET", "path": path, "keys": keys, "source": "derived",
                                               "said": said}))  # fmt: skip
    return out[:12]


_COUNT_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
_COUNTS = {word: n for n, word in enumerate(_COUNT_WORDS, start=2)}
_TABLE = re.compile(
    r"\b(?:the\s+first|knows?|holds?|has|have|contains?|of)\s+(\d{1,2}|" + "|".join(_COUNTS) + r")\s+([a-z][a-z-]+s)\b",
    re.IGNORECASE,
)


def table_size(idea: str) -> tuple[int, str] | None:
    """How many entries a built-in table holds when the idea counts them without listing them
    (``it should know the first ten elements`` -> ``(10, "elements")``), for a lookup whose one
    stated example would otherwise leave the rest to the model's choice. Tables of more than
    twelve are not asked for entry by entry."""
    words = _blank(idea, [(m.start(), m.end(), None) for m in _MENTION.finditer(idea)] + json_snippets(idea))
    for found in _TABLE.finditer(words):
        count = found.group(1).lower()
        size = int(count) if count.isdigit() else _COUNTS[count]
        if 3 <= size <= 12:
            return size, found.group(2).lower()
    return None


# A row listed in words: ``Ann (admin)``, ``Bob Smith (dev)``; three or more in one list.
_ROW = r"([A-Z][\w'-]*(?: [A-Z][\w'-]*)?)\s*\(([^()\s,;][^(),;]{0,29})\)"
_ROWS = re.compile(_ROW + r"(?:\s*(?:,\s*(?:and\s+)?|\band\s+)" + _ROW + r"){2,}")
_ONE_ROW = re.compile(_ROW)
_ROWS_SAID = "derived from the rows the idea lists"


def listed_rows(idea: str) -> list[tuple[str, str]]:
    """The rows a built-in table lists in words, each a name and what the parentheses say of
    it (``five people, Ann (admin), Bob (dev) and Cid (dev)`` -> ``[("Ann", "admin"), ...]``)."""
    words = _blank(idea, [(m.start(), m.end(), None) for m in _MENTION.finditer(idea)] + json_snippets(idea))
    rows: list[tuple[str, str]] = []
    for found in _ROWS.finditer(words):
        rows += [(name, said.strip()) for name, said in _ONE_ROW.findall(found.group(0))]
    return rows


def listed_filters(idea: str, examples: list[Example]) -> list[Example]:
    """What a filter over a table listed in words must answer for the values no example asks
    for. The idea lists the rows (``Ann (admin), Bob (dev), Cid (dev), Dee (ops) and Eve
    (admin)``) and states one filter (``GET /people?role=dev returns [{"name": "Bob", "role":
    "dev"}, {"name": "Cid", "role": "dev"}]``); a server that knows only the stated answer
    passes it. When the stated answer is exactly the listed rows with that value, in the listed
    order, the same request for each other value is answered the same way (``role=admin`` ->
    Ann and Eve), and a value no row has by an empty list. Nothing is guessed: an answer
    that does not read as the listed rows derives nothing."""
    rows = listed_rows(idea)
    if len(rows) < 3:
        return []
    out: list[Example] = []
    taken = {(e.method, e.path, tuple(sorted(e.query.items()))) for e in examples}
    for example in examples:
        if example.method != "GET" or len(example.query) != 1 or not isinstance(example.response, list):
            continue
        if example.match not in ("exact", "subset") or not example.response:
            continue
        (param, value), items = next(iter(example.query.items())), example.response
        shape = _row_shape(items, value, [n for n, said in rows if said == value])
        if shape is None:
            continue
        said = f"{_ROWS_SAID}: {', '.join(f'{n} ({s})' for n, s in rows)}"[:300]
        absent = next(v for v in ("none", "nobody", "unknown-value") if v not in {s for _, s in rows})
        for other in [absent, *dict.fromkeys(s for _, s in rows)]:
            query = {param: other}
            if (example.method, example.path, tuple(query.items())) in taken:
                continue
            taken.add((example.method, example.path, tuple(query.items())))
            answer = [shape(name, other) for name, s in rows if s == other]
            out.append(Example.model_validate({"method": "GET", "path": example.path, "query": query,
                                               "response": answer, "match": example.match, "source": "derived",
                                               "said": said}))  # fmt: skip
    return out[:12]


def _row_shape(items: list[Any], value: str, names: list[str]) -> Any:
    """How a stated filter answer writes each row (the name alone, or an object whose keys
    hold the name and the filtered value), when the answer is exactly ``names``; else None."""
    if len(items) != len(names):
        return None
    if all(isinstance(item, str) for item in items):
        return (lambda name, _: name) if items == names else None
    if not all(isinstance(item, dict) for item in items):
        return None
    keys = list(items[0])
    named = [k for k in keys if [item.get(k) for item in items] == names]
    filtered = [k for k in keys if all(item.get(k) == value for item in items)]
    if len(named) != 1 or len(filtered) > 1 or set(keys) != {*named, *filtered}:
        return None
    if any(list(item) != keys for item in items):
        return None
    name_key, value_key = named[0], (filtered or [None])[0]
    return lambda name, said: {k: (name if k == name_key else said) for k in keys if k in (name_key, value_key)}
