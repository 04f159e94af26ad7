"""The deterministic idea reader: what an idea states outright becomes acceptance examples,
verbatim; what it says only in words becomes nothing here."""

from __future__ import annotations

import time
from typing import Any

import pytest

from autogpt.errors import InvalidInputError
from autogpt.mind.idea import (
    broken_examples,
    collection_examples,
    collection_verbs,
    facts_in_words,
    json_snippets,
    listed_filters,
    listed_lookups,
    listed_rows,
    not_found_examples,
    read_stated,
    stated_rules,
    table_size,
    wants_page,
    worded_reads,
)
from autogpt.tools.acceptance import Acceptance, Example, load_acceptance
from autogpt.tools.contract import routes_for


def only(idea: str) -> Example:
    """The single example ``idea`` states."""
    examples = read_stated(idea)
    assert len(examples) == 1, examples
    return examples[0]


def shape(example: Example) -> dict[str, Any]:
    """What an example asks for, without the words it came from."""
    return example.model_dump(exclude={"said", "source"})


# --- mentions, queries and JSON -------------------------------------------------------------


def test_a_get_with_a_query_and_a_json_answer_is_taken_verbatim() -> None:
    idea = 'a temperature API: GET /convert?celsius=100 returns {"fahrenheit": 212}'
    example = only(idea)
    assert shape(example) == {
        "method": "GET", "path": "/convert", "query": {"celsius": "100"}, "body": None, "status": None,
        "status_class": "2xx", "response": {"fahrenheit": 212}, "match": "subset", "text": None, "headers": {},
            "keys": [], "request_headers": {},
    }  # fmt: skip
    assert example.source == "idea"
    assert example.said == 'GET /convert?celsius=100 returns {"fahrenheit": 212}'
    assert example.label == "GET /convert?celsius=100"
    assert example.expects() == '2xx with {"fahrenheit": 212}'


def test_single_quoted_json_reads_the_same_as_double_quoted() -> None:
    double = only('GET /convert?celsius=100 returns {"fahrenheit": 212, "unit": "F"}')
    single = only("GET /convert?celsius=100 returns {'fahrenheit': 212, 'unit': 'F'}")
    assert single.response == double.response == {"fahrenheit": 212, "unit": "F"}
    assert single.match == double.match == "subset"


def test_several_query_parameters_and_blank_values_are_kept() -> None:
    example = only('GET /add?a=1&b=2&note= returns {"sum": 3}')
    assert example.query == {"a": "1", "b": "2", "note": ""}
    assert example.label == "GET /add?a=1&b=2&note="


@pytest.mark.parametrize(
    ("idea", "response", "match"),
    [
        ('GET /items returns [{"name": "a"}]', [{"name": "a"}], "subset"),  # objects: the keys shown
        ("GET /primes?below=10 returns [2, 3, 5, 7]", [2, 3, 5, 7], "exact"),  # scalars: all of it
        ("GET /empty returns []", [], "exact"),
        ('GET /x returns {"a": [1, {"b": 2}]}', {"a": [1, {"b": 2}]}, "subset"),  # nested, outermost only
        ('GET /ping → {"pong": true}', {"pong": True}, "subset"),
        ('GET /x {"a": 1}', {"a": 1}, "subset"),  # a GET's JSON is what comes back, even with no verb
    ],
)
def test_json_answers_and_how_they_are_matched(idea: str, response: Any, match: str) -> None:
    example = only(idea)
    assert example.response == response
    assert example.match == match


def test_a_post_body_and_its_answer_are_told_apart_by_the_verb_between_them() -> None:
    example = only('POST /words with {"text": "the cat sat"} returns {"count": 3}')
    assert example.body == {"text": "the cat sat"}
    assert example.response == {"count": 3}
    assert example.match == "subset"


def test_a_post_body_with_no_answer_stated_expects_no_json() -> None:
    example = only('POST /notes with {"text": "hi"}')
    assert example.body == {"text": "hi"}
    assert (example.response, example.match, example.status_class) == (None, "none", "2xx")


@pytest.mark.parametrize("word", ["returns the created todo", "is saved", "is stored", "is added", "echoes it back"])
def test_a_post_that_creates_expects_its_own_body_back_as_a_subset(word: str) -> None:
    example = only(f'POST /todos with {{"title": "milk"}} {word}')
    assert example.body == {"title": "milk"}
    assert example.response == {"title": "milk"}
    assert example.match == "subset"  # the server may add an id


def test_several_mentions_keep_their_order_and_their_own_sentences() -> None:
    idea = (
        'A todo API. POST /todos with {"title": "milk"} returns 201 and {"title": "milk"}; '
        'GET /todos returns [{"title": "milk"}]. DELETE /todos/1 gives 204.'
    )
    examples = read_stated(idea)
    assert [(e.method, e.path, e.status) for e in examples] == [
        ("POST", "/todos", 201), ("GET", "/todos", None), ("DELETE", "/todos/1", 204),
    ]  # fmt: skip
    assert examples[0].response == {"title": "milk"}
    assert examples[1].response == [{"title": "milk"}]
    assert examples[2].response is None  # the JSON of the mentions before it does not leak in
    assert [e.said for e in examples] == [
        'POST /todos with {"title": "milk"} returns 201 and {"title": "milk"}',
        'GET /todos returns [{"title": "milk"}]',
        "DELETE /todos/1 gives 204",
    ]


def test_what_was_said_is_cut_to_a_sentence_and_at_most_300_characters() -> None:
    idea = "GET /health returns 200 " + "and keeps saying so " * 40 + ". Other words follow."
    example = only(idea)
    assert example.said.startswith("GET /health returns 200")
    assert len(example.said) <= 300
    assert "Other words" not in example.said


# --- statuses, redirects, text, errors ---------------------------------------------------------


@pytest.mark.parametrize(
    ("idea", "status"),
    [
        ("GET /health returns 200", 200),
        ("GET /convert?celsius=abc returns status 422", 422),
        ("GET /convert?celsius=abc returns status code 400", 400),
        ('POST /todos {"title": "milk"} -> 201', 201),
        ("DELETE /todos/1 gives 204", 204),
        ("GET /todos/99 returns a 404", 404),
        ("GET /todos/99 (404)", 404),
        ("GET /secret answers HTTP 403", 403),
    ],
)
def test_a_stated_status_is_expected_exactly(idea: str, status: int) -> None:
    assert only(idea).status == status


def test_a_number_inside_the_json_is_not_a_status() -> None:
    example = only('GET /convert?celsius=100 returns {"fahrenheit": 212}')
    assert example.status is None
    assert example.status_class == "2xx"


@pytest.mark.parametrize(
    ("idea", "location"),
    [
        ("GET /r/abc redirects to https://example.org/page.", "https://example.org/page"),  # the full stop is prose
        ("GET /r/abc redirects to http://example.org", "http://example.org"),
        ("GET /go?to=docs redirects you to https://docs.example.org/start?x=1", "https://docs.example.org/start?x=1"),
    ],
)
def test_a_redirect_expects_a_3xx_and_the_location_it_names(idea: str, location: str) -> None:
    example = only(idea)
    assert example.status_class == "3xx"
    assert example.status is None
    assert example.headers == {"location": location}


def test_a_redirect_that_names_no_url_expects_only_a_3xx() -> None:
    example = only("GET /r/abc redirects to the long one")
    assert (example.status_class, example.headers) == ("3xx", {})


@pytest.mark.parametrize(
    ("idea", "text"),
    [
        ('GET /hello returns "hello world"', "hello world"),
        ("GET /hello says 'hi there'", "hi there"),
        ("GET /ping -> “pong”", "pong"),
        ('GET / returns the plain text "ok"', "ok"),
    ],
)
def test_a_quoted_answer_is_plain_text(idea: str, text: str) -> None:
    example = only(idea)
    assert example.text == text
    assert (example.response, example.match) == (None, "none")


@pytest.mark.parametrize(
    "idea",
    [
        "GET /convert?celsius=abc is rejected",
        "GET /add?a=1&b= returns an error",
        "GET /convert?celsius= is invalid",
        'POST /todos with {"title": ""} fails',
        "DELETE /admin is not allowed",
        "GET /divide?by=0 gives a bad request",
    ],
)
def test_rejection_wording_expects_a_4xx(idea: str) -> None:
    example = only(idea)
    assert example.status_class == "4xx"
    assert example.status is None
    assert example.match == "none"


def test_a_status_stated_with_the_rejection_wins_over_the_class() -> None:
    example = only("GET /convert?celsius=abc is rejected with 422")
    assert example.status == 422
    assert "422" in example.expects()


@pytest.mark.parametrize(
    "idea",
    [
        'POST /todos with {"title": ""} is rejected and nothing is saved',
        'POST /todos with {"title": ""} is rejected with 400, nothing is stored',
    ],
)
def test_a_rejected_post_does_not_expect_its_body_back(idea: str) -> None:
    example = only(idea)
    assert example.status == 400 or example.status_class == "4xx"
    assert example.match == "none", f"a refusal is expected to answer with {example.response!r}"


@pytest.mark.parametrize(
    ("idea", "number"),
    [("GET /square?n=12 returns 144", 144), ("POST /orders with 250 units is accepted", 250)],
)
def test_a_number_that_is_no_http_status_is_not_read_as_one(idea: str, number: int) -> None:
    assert only(idea).status != number


# --- ideas that state nothing -------------------------------------------------------------------


@pytest.mark.parametrize(
    "idea",
    [
        "",
        "   ",
        "a todo app",
        "an API with endpoints to add books and list them",
        "get /todos returns 200",  # a method is written in capitals
        "FETCH /todos returns 200",
        "GET todos returns 200",  # no path
        'a service that answers {"ok": true} when asked',  # JSON, but no request
    ],
)
def test_an_idea_that_states_no_request_gives_no_examples(idea: str) -> None:
    assert read_stated(idea) == []


# --- json_snippets ------------------------------------------------------------------------------


def test_json_snippets_gives_outermost_values_with_their_spans() -> None:
    text = 'send {"a": {"b": [1, 2]}} then [3, {"c": 4}] and {x} and {} too'
    found = json_snippets(text)
    assert [value for _, _, value in found] == [{"a": {"b": [1, 2]}}, [3, {"c": 4}], {}]
    for start, end, _ in found:
        assert text[start] in "{["
        assert text[end - 1] in "}]"
    assert text[found[0][0] : found[0][1]] == '{"a": {"b": [1, 2]}}'


def test_json_snippets_reads_single_quotes_and_ignores_braces_inside_strings() -> None:
    assert [v for *_, v in json_snippets("{'name': 'Ann'}")] == [{"name": "Ann"}]
    assert [v for *_, v in json_snippets('{"face": ":-}", "o": "{["}')] == [{"face": ":-}", "o": "{["}]
    assert [v for *_, v in json_snippets('{"name": "O\'Brien"}')] == [{"name": "O'Brien"}]


@pytest.mark.parametrize("text", ["{", "}", "]]]", '{"a": 1', "{[}]", '{"a": [1, 2}', "{{{{[[[[", "{not json}"])
def test_json_snippets_on_unbalanced_or_invalid_text_is_empty(text: str) -> None:
    assert json_snippets(text) == []


def test_json_snippets_reads_escaped_quotes() -> None:
    text = 'GET /quote returns {"text": "she said \\"}\\" twice"}'
    assert [v for *_, v in json_snippets(text)] == [{"text": 'she said "}" twice'}]


# --- hostile input --------------------------------------------------------------------------------


def read_or_refuse(idea: str, seconds: float = 2.0) -> list[Example]:
    """``read_stated`` on hostile input: a clean list of examples or a typed refusal, quickly;
    what it returns survives the trip through acceptance.json."""
    started = time.perf_counter()
    try:
        examples = read_stated(idea)
    except InvalidInputError:
        examples = []
    for rule, status in stated_rules(idea):
        assert all(e.status == 404 for e in not_found_examples(rule, status, examples))
    assert time.perf_counter() - started < seconds
    assert all(isinstance(e, Example) and e.path.startswith("/") for e in examples)
    again = load_acceptance(Acceptance(examples=examples[:24]).dump(), source="idea")
    assert again.examples == examples[:24]
    return examples


@pytest.mark.parametrize(
    "idea",
    [
        "lorem ipsum dolor " * 100_000,  # 1.8 MB of prose
        "GET /" + "a" * 200_000 + " returns 200",
        'GET /x returns {"a": [1, 2}',
        "GET /x returns }}}]]]{{{ and [[",
        'POST /x with {"a": 1 returns {"b": 2',
        "GET /x returns " + "{" * 500,
        "GET /../../etc/passwd returns 200",
        "GET /a/./b/../c returns 200",
        "GET /weird$path returns 200",
        "GET /a\x00b returns 200",
        "GET /café returns 200",
        "GET /{ returns 200",
        "GET /} returns 200",
        "GET /%2e%2e/%2e%2e returns 200",
        "GET /x?%zz=%%&&==& returns 200",
        "GET /\u202eevil returns 200",
        "POST /" + "/" * 10_000 + " returns 201",
        'POST /s with {"text": "..."} returns {"n": 1} for the text "bad \\q escape \\u12".',
        'POST /s with {"text": "..."} returns {"n": 1} for "' + "\\" * 10_000 + '"',
        "GET /r/<" + "a" * 100_000 + "> returns 200, and " * 50,
        "GET /x with the header Authorization: Bearer <t>\r\nX-Evil: 1 returns 200",
    ],
)
def test_hostile_ideas_give_a_clean_result_quickly(idea: str) -> None:
    read_or_refuse(idea)


def test_an_idea_full_of_mentions_is_read_in_one_pass() -> None:
    examples = read_or_refuse("GET /ping returns 200. " * 20_000)
    assert len(examples) == 20_000
    assert {(e.method, e.path, e.status) for e in examples} == {("GET", "/ping", 200)}


def test_dot_segments_are_kept_as_written_or_dropped_never_resolved() -> None:
    examples = read_or_refuse("GET /../../etc/passwd returns 200")
    assert [e.path for e in examples] in ([], ["/../../etc/passwd"])


def test_unbalanced_brackets_are_read_in_linear_time() -> None:
    read_or_refuse("GET /x returns " + "{" * 6000, seconds=0.5)  # a linear reader takes milliseconds


@pytest.mark.parametrize(
    "tail",
    [
        "{'" * 8000,  # quotes inside brackets that never close
        "[" * 10000 + "]" * 10000,  # balanced, nested deeper than the JSON parser goes
        "{ '{' " * 5000,  # brackets hidden in quotes
        '{"\\' * 6000,  # escapes that never end a string
        "[{]" * 8000,  # wrong closers
    ],
)
def test_hostile_brackets_are_read_quickly(tail: str) -> None:
    read_or_refuse("GET /x returns " + tail, seconds=0.5)


def test_json_nested_in_prose_with_apostrophes_is_still_found() -> None:
    assert [v for *_, v in json_snippets("{ it's [1, 2] and {'a': 1}")] == [[1, 2], {"a": 1}]


@pytest.mark.parametrize("path", ["/~alice", "/a%20b", "/items:search", "/a+b", "/{"])
def test_whatever_the_reader_accepts_the_contract_can_hold(path: str) -> None:
    examples = read_or_refuse(f"GET {path} returns 200")
    try:
        routes = routes_for(Acceptance(examples=examples))
    except InvalidInputError:
        return  # a typed refusal is fine too
    assert len(routes) == len(examples)


# --- scope and plain collections ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("idea", "page"),
    [
        ("a web page to track habits", True),
        ("a todo app with a form and a button", True),
        ("a dashboard for my API", True),  # a page word wins over API words
        ("a todo API", False),
        ("REST endpoints for books", False),
        ("a json service that adds numbers", False),
        ('GET /convert?celsius=100 returns {"fahrenheit": 212}', False),  # a route mention is an API
        ("a todo app", True),  # neither: a page
        # next to stated requests, "page" is paging or a route's name, unless a page to use is named
        ("Page through the numbers 1 to 10: GET /numbers?page=1&size=3 returns [1, 2, 3]", False),
        ("A page-view counter per page: POST /views/{page} adds a view", False),
        ("The old page moved: GET /old-page redirects permanently (301) to /new-page", False),
        ("A todo API with a page to add todos: POST /todos adds one", True),
        ("GET /todos lists todos, and a form adds them", True),
        ("The backend of a like button: POST /likes adds one like", False),
        ("the backend and the frontend of a like button", True),
        ("something that keeps my recipes", True),
    ],
)
def test_wants_page(idea: str, page: bool) -> None:
    assert wants_page(idea) is page


@pytest.mark.parametrize(
    ("idea", "verbs"),
    [
        ("add todos and list them", {"create", "list"}),
        ("save bookmarks and browse them", {"create", "list"}),
        ("create notes, read one by id and delete them", {"create", "read", "delete"}),
        ("store recipes and look up one by its id", {"create", "read"}),
        ("add todos", set()),  # creating alone is not a collection to check
        ("list all todos", set()),  # nothing is created
        ("remove items and list all", set()),
        ("convert celsius to fahrenheit", set()),
    ],
)
def test_collection_verbs(idea: str, verbs: set[str]) -> None:
    assert collection_verbs(idea) == verbs


def test_collection_examples_create_list_read_delete_and_see_it_gone() -> None:
    body = {"title": "milk"}
    examples = collection_examples("todos", body, {"create", "list", "read", "delete"})
    assert [(e.method, e.path, e.status, e.match) for e in examples] == [
        ("POST", "/todos", None, "subset"),
        ("GET", "/todos", None, "contains"),
        ("GET", "/todos/{id}", None, "subset"),
        ("DELETE", "/todos/{id}", None, "none"),
        ("GET", "/todos/{id}", 404, "none"),
    ]
    assert all(e.source == "derived" for e in examples)
    assert examples[0].body == examples[0].response == body


def test_collection_examples_ask_only_for_the_verbs_given() -> None:
    examples = collection_examples("notes", {"text": "hi"}, {"create", "list"})
    assert [(e.method, e.path) for e in examples] == [("POST", "/notes"), ("GET", "/notes")]


@pytest.mark.parametrize(
    ("idea", "rules"),
    [
        (
            'POST /signup with {"email": "a@b.co"} returns 201. An email without an @ is rejected with status 422.',
            [("An email without an @ is rejected with status 422.", 422)],
        ),
        ("GET /age?years=20 says adult. A negative age is an error.", [("A negative age is an error.", None)]),
        ("GET /status/200 returns OK. Other codes return 404.", [("Other codes return 404.", 404)]),
        # said next to the request itself: the reader takes it from there, it is no rule in words
        ("GET /convert?c=abc is rejected with 400.", []),
        ('GET /health returns 200 and {"ok": true}. It is fast.', []),
    ],
)
def test_refusals_said_only_in_words_are_rules(idea: str, rules: list[tuple[str, int | None]]) -> None:
    assert stated_rules(idea) == rules


# --- clauses, placeholders and headers ---------------------------------------------------------


def test_a_status_in_the_next_clause_is_not_this_requests() -> None:
    idea = 'GET /capital/France returns {"capital": "Paris"}; a country it doesn\'t know returns 404.'
    example = only(idea)
    assert (example.status, example.status_class, example.response) == (None, "2xx", {"capital": "Paris"})
    assert stated_rules(idea) == [("a country it doesn't know returns 404.", 404)]


@pytest.mark.parametrize(
    "idea",
    [
        'GET /add?a=2&b=3 returns {"sum": 5}, and a non-number returns 400.',
        'GET /add?a=2&b=3 returns {"sum": 5}, but a non-number returns 400.',
    ],
)
def test_a_rule_joined_by_a_comma_and_is_a_rule_of_its_own(idea: str) -> None:
    assert (only(idea).status, only(idea).response) == (None, {"sum": 5})
    assert stated_rules(idea) == [("a non-number returns 400.", 400)]


@pytest.mark.parametrize("written", ["/r/<code>", "/r/:code", "/r/<short-code>"])
def test_a_placeholder_in_a_path_is_a_parameter(written: str) -> None:
    example = only(f"GET {written} redirects with 302 to the saved URL.")
    assert example.path in ("/r/{code}", "/r/{short_code}")
    assert (example.status, example.status_class) == (302, "3xx")


def test_placeholder_answers_ask_for_the_keys_and_its_id_for_an_id() -> None:
    examples = read_stated(
        'POST /links with {"url": "https://example.com"} returns 201 and {"code": "<short code>"}. '
        'POST /todos with {"title": "milk"} adds a todo and returns 201 with the todo and its id.'
    )
    assert [(e.keys, e.response, e.match) for e in examples] == [
        (["code"], None, "none"), (["id"], {"title": "milk"}, "subset"),
    ]  # fmt: skip


def test_a_header_stated_with_the_request_is_sent_with_it() -> None:
    example = only('GET /me with the header Authorization: Bearer <token> returns {"username": "admin"}.')
    assert example.request_headers == {"Authorization": "Bearer {token}"}
    assert (example.status, example.response) == (None, {"username": "admin"})


def test_an_adding_word_that_is_arithmetic_does_not_echo_the_body() -> None:
    example = only('POST /sum with {"a": 1, "b": 2} adds a and b.')
    assert example.match == "none"


def test_commas_inside_a_query_value_are_part_of_it() -> None:
    example = only('GET /stats?numbers=3,1,4,1,5 returns {"min": 1, "max": 5}, for a list of numbers.')
    assert (example.query, example.response) == ({"numbers": "3,1,4,1,5"}, {"min": 1, "max": 5})


def test_get_names_a_status_too() -> None:
    assert stated_rules("GET /elements/H returns hydrogen. It knows ten, and unknown symbols get 404.") == [
        ("unknown symbols get 404.", 404)
    ]


def test_plain_text_without_quotes_and_a_redirect_to_a_path() -> None:
    examples = read_stated("GET /ping answers with the plain text pong, and GET /old redirects (301) to /new.")
    assert examples[0].text == "pong"
    assert (examples[1].status, examples[1].headers) == (301, {"location": "/new"})


@pytest.mark.parametrize(
    ("written", "keys", "response"),
    [
        ('{"likes": n}', ["likes"], None),
        ('{"page": "<page>", "views": n}', ["page", "views"], None),
        ('{"page": 2, "posts": [...]}', ["posts"], {"page": 2}),
        ('{"ok": true, "data": {...}}', ["data"], {"ok": True}),
    ],
)
def test_prose_placeholders_in_an_answer_ask_for_the_keys(written: str, keys: list[str], response: Any) -> None:
    example = only(f"GET /x returns {written}.")
    assert (example.keys, example.response) == (keys, response)


def test_a_placeholder_body_takes_the_text_the_idea_names_or_only_the_keys_are_known() -> None:
    named = only('POST /stats with {"text": "..."} returns {"chars": 8, "lines": 2} for the text "ab cd\\nef".')
    assert named.body == {"text": "ab cd\nef"}
    assert (named.response, named.keys) == ({"chars": 8, "lines": 2}, [])
    unnamed = only('POST /stats with {"text": "..."} returns {"chars": 8, "lines": 2}.')
    assert (unnamed.body, unnamed.response, unnamed.keys) == ({"text": "..."}, None, ["chars", "lines"])


@pytest.mark.parametrize(
    ("idea", "paths"),
    [
        ('GET /capital/France returns {"capital": "Paris"}; a country it doesn\'t know returns 404.',
         ["/capital/doesnotexist"]),
        ('GET /codes/404 returns {"phrase": "Not Found"}. Other codes return 404.', ["/codes/999999"]),
        ("GET /go/github redirects (302) to https://github.com; any other name returns 404.", ["/go/doesnotexist"]),
        ('GET /status returns {"ok": true}, and any unknown path answers 404.', ["/doesnotexist/doesnotexist"]),
        # not a "not found" rule, or nothing to look up: the model is asked instead
        ("GET /roman?n=4 returns IV; numbers above 3999 return 400.", []),
        ('GET /health returns {"ok": true}; unknown codes return 404.', []),
        ('POST /login with {"user": "a"} returns {"token": "..."}. A wrong password returns 401.', []),
    ],
)  # fmt: skip
def test_a_not_found_rule_asks_for_something_that_does_not_exist(idea: str, paths: list[str]) -> None:
    stated = read_stated(idea)
    derived = [e for rule, status in stated_rules(idea) for e in not_found_examples(rule, status, stated)]
    assert [e.path for e in derived] == paths
    assert all((e.method, e.status, e.source) == ("GET", 404, "derived") for e in derived)


@pytest.mark.parametrize(
    ("idea", "broken"),
    [
        ('POST /signup with {"email": "a@b.co", "password": "secret123"} returns 201. An email without an @ '
         "or a password shorter than 8 characters is rejected with status 422.",
         [{"email": "ab.co", "password": "secret123"}, {"email": "a@b.co", "password": "xxxxxxx"}]),
        ('POST /login with {"user": "ann", "password": "pw1"} returns {"token": "..."}. A wrong password returns 401.',
         [{"user": "ann", "password": "wrong-pw1"}]),
        ('POST /age with {"age": 20} returns {"adult": true}. A negative age, or an age that is not a number, is '
         "rejected with status 400.", [{"age": -20}, {"age": "abc"}]),
        ('POST /orders with {"item": "pen", "quantity": 2} returns 201; a missing item, or a quantity that is not a '
         "positive whole number, returns 400.",
         [{"quantity": 2}, {"item": "pen", "quantity": 0}, {"item": "pen", "quantity": 1.5},
          {"item": "pen", "quantity": "two"}]),
        # a query: values stay text; a part naming no field breaks the one named last, or the only input
        ('GET /roman?n=1994 returns {"roman": "MCMXCIV"}; numbers below 1 or above 3999 return 400.',
         [{"n": "0"}, {"n": "4000"}]),
        # nothing the words say how to break: the model is asked
        ('GET /convert?from=EUR&to=USD&amount=10 returns {"result": 11}; an unknown currency returns 400.', []),
        ('POST /signup with {"email": "a@b.co"} returns 201. An email the service dislikes is rejected.', []),
    ],
)  # fmt: skip
def test_a_rule_breaks_the_values_it_names_the_way_it_says(idea: str, broken: list[dict[str, Any]]) -> None:
    stated = read_stated(idea)
    [(rule, status)] = stated_rules(idea)
    derived = broken_examples(rule, status, stated)
    assert [e.body if e.body is not None else e.query for e in derived] == broken
    assert all(e.source == "derived" and e.status_class == "4xx" and e.status == status for e in derived)


def test_a_rule_about_the_key_sent_drops_it_or_sends_another() -> None:
    idea = (
        "POST /echo with the header X-API-Key: secret returns the JSON body it was sent; without that header, "
        "or with a different key, it returns 401."
    )
    [(rule, status)] = stated_rules(idea)
    derived = broken_examples(rule, status, read_stated(idea))
    assert [e.request_headers for e in derived] == [{}, {"X-API-Key": "secret-wrong"}]


def test_a_refusal_without_a_valid_token_is_also_checked_with_a_wrong_one() -> None:
    examples = read_stated(
        'POST /login returns {"token": "..."}; GET /me with the header Authorization: Bearer <token> returns '
        '{"user": "ann"}, and GET /me without a valid token returns 401.'
    )
    assert [(e.label, e.status) for e in examples[2:]] == [
        ("GET /me", 401), ("GET /me [Authorization: Bearer {token}-wrong]", 401),
    ]  # fmt: skip
    # no header sent before on that route: nothing to get wrong
    assert len(read_stated("GET /me without a valid token returns 401.")) == 1


@pytest.mark.parametrize(
    ("idea", "paths"),
    [
        ('GET /codes/404 returns {"code": 404, "phrase": "Not Found"}. It knows at least 200, 201, 301, 404 '
         "and 500, with their standard reason phrases.",
         ["/codes/200", "/codes/201", "/codes/301", "/codes/500"]),
        ('A lookup with a built-in table of at least France, Germany and Japan: GET /capital/France returns '
         '{"capital": "Paris"}.', ["/capital/Germany", "/capital/Japan"]),
        # no list, or the stated lookup is not one of its values: nothing to add
        ('GET /elements/H returns {"name": "Hydrogen"}. It should know the first ten elements.', []),
        ('GET /capital/Peru returns {"capital": "Lima"}; it knows France, Germany and Japan.', []),
    ],
)  # fmt: skip
def test_a_listed_table_is_looked_up_value_by_value(idea: str, paths: list[str]) -> None:
    stated = read_stated(idea)
    derived = listed_lookups(idea, stated)
    assert [e.path for e in derived] == paths
    assert all(e.keys == sorted(stated[0].response) and e.source == "derived" for e in derived)


def test_what_was_created_is_in_the_list_and_read_back() -> None:
    examples = read_stated(
        'A notes API: POST /notes with {"text": "..."} creates a note and answers 201 with it, including its id; '
        "GET /notes lists all notes; GET /notes/{id} returns one; DELETE /notes/{id} deletes it; GET /notes lists "
        "them again."
    )
    assert [(e.label, e.match, e.response) for e in examples] == [
        ("POST /notes", "subset", {"text": "sample text"}),  # any text would do: one is chosen
        ("GET /notes", "contains", {"text": "sample text"}),
        ("GET /notes/{id}", "subset", {"text": "sample text"}),
        ("DELETE /notes/{id}", "none", None),
        ("GET /notes", "none", None),  # after a delete, not known
    ]


def test_a_redirect_to_the_saved_url_expects_the_url_that_was_sent() -> None:
    examples = read_stated(
        'POST /links with {"url": "https://example.com"} returns {"code": "<code>"}; GET /r/<code> redirects with '
        "302 to the saved URL."
    )
    assert examples[1].headers == {"location": "https://example.com"}


@pytest.mark.parametrize(
    ("tail", "body"),
    [
        ("PUT /contacts/{id} with a new name and email replaces them.",
         {"name": "new Ann", "email": "new.ann@x.io", "age": 31}),
        ("PUT /contacts/{id} replaces them.", None),  # nothing said of a body: none is made up
        ("POST /contacts/{id}/star with no body stars it.", None),
    ],
)  # fmt: skip
def test_a_body_said_in_words_sends_the_created_fields_with_new_values(tail: str, body: Any) -> None:
    idea = (
        'A contacts API: POST /contacts with {"name": "Ann", "email": "ann@x.io", "age": 30} adds a contact '
        f"and returns it with an id; GET /contacts/{{id}} returns it; {tail}"
    )
    *_, last = read_stated(idea)
    assert last.body == body


def test_a_not_found_rule_keeps_the_answer_it_states() -> None:
    idea = 'GET /status returns {"ok": true}, and any unknown path answers 404 with {"error": "not found"}.'
    stated = read_stated(idea)
    (missing,) = [e for rule, status in stated_rules(idea) for e in not_found_examples(rule, status, stated)]
    assert (missing.status, missing.response, missing.match) == (404, {"error": "not found"}, "subset")


@pytest.mark.parametrize(
    ("idea", "facts"),
    [
        ('Converts at 1 EUR = 1.1 USD: GET /convert?amount=10 returns {"result": 11}.', ["1.1"]),
        ('GET /km?km=2 returns {"miles": 1.242742}; one km is 0.621371 miles.', ["0.621371"]),
        ('GET /posts?page=2 returns {"page": 2, "posts": [...]} holding posts 6 to 10.', ["a list it shows as [...]"]),
        ('Elements by symbol: GET /elements/H returns {"name": "Hydrogen"}. It knows the first ten.',
         ["what it knows beyond /elements/H"]),
        ('GET /elements/H returns {"name": "Hydrogen"} and GET /elements/He returns {"name": "Helium"}; it knows ten.',
         []),  # two lookups shown: enough to tell a table from one answer
        ('A todo API: POST /todos with {"title": "milk"} returns 201 and {"title": "milk"}.', []),
        ('Staff: Ann (admin), Bob (dev) and Cid (dev). GET /people?role=dev returns ["Bob", "Cid"].',
         ["the rows it lists (Ann in no example)"]),
        # a rule named, not shown: one example of it passes a server that gets 1900 wrong
        ('Whether a year is a leap year under the Gregorian rules: GET /leap/2024 answers {"leap": true}.',
         ["the Gregorian rules"]),
        ('Checks card numbers by the Luhn algorithm: GET /valid/79927398713 returns {"valid": true}.',
         ["the Luhn algorithm"]),
        ('Dates following ISO 8601: GET /today returns {"date": "2024-01-31"}.', ["the ISO 8601"]),
        ('GET /leap/2024 answers {"leap": true} and GET /leap/1900 answers {"leap": false}, by the Gregorian rules.',
         []),  # two answers on the route: the rule is shown, not only named
        ('A greeting API. With FastAPI: GET /hello returns {"msg": "hi"}.', []),
    ],
)  # fmt: skip
def test_what_the_words_state_beyond_the_examples(idea: str, facts: list[str]) -> None:
    assert facts_in_words(idea, read_stated(idea)) == facts


@pytest.mark.parametrize(
    ("idea", "size"),
    [
        ('GET /elements/H returns {"name": "Hydrogen"}. It should know the first ten elements.', (10, "elements")),
        ("GET /planets/earth returns its moons; the table holds 8 planets.", (8, "planets")),
        ("GET /codes/404 returns Not Found. It knows at least 200, 201 and 500.", None),  # listed, not counted
        ("GET /words/a. It knows the first 300 words.", None),  # too many to ask for one by one
        ('GET /items?limit=2 returns ["item1", "item2"]', None),
    ],
)
def test_a_table_counted_in_words_has_a_size(idea: str, size: tuple[int, str] | None) -> None:
    assert table_size(idea) == size


def test_each_body_and_answer_said_after_the_first_is_an_example_of_the_same_request() -> None:
    idea = (
        'An age check: POST /age with {"age": 20} returns {"adult": true} and {"age": 15} returns {"adult": false} '
        "(18 and over is adult). A negative age is rejected with status 400."
    )
    examples = read_stated(idea)
    assert [(e.method, e.path, e.body, e.response) for e in examples] == [
        ("POST", "/age", {"age": 20}, {"adult": True}),
        ("POST", "/age", {"age": 15}, {"adult": False}),
    ]
    # a body of other keys, or one with no answer after it, is not another example
    other = read_stated('POST /age with {"age": 20} returns {"adult": true} and {"name": "x"} returns {"adult": false}')
    assert len(other) == 1
    unanswered = read_stated('POST /age with {"age": 20} returns {"adult": true}, like {"age": 15}')
    assert len(unanswered) == 1


@pytest.mark.parametrize(
    ("idea", "labels"),
    [
        ('POST /hit returns {"count": 1}, and GET /count returns {"count": N} without changing it.', ["GET /count"]),
        ('GET /kv/{key} returns {"key": key, "value": value}', ["GET /kv/{key}"]),
        ('POST /login returns {"token": "..."}', []),  # any token will do
        ('POST /links returns {"code": "<short code>"}', []),
        ('GET /flags returns {"on": true}', []),
    ],
)
def test_a_value_named_in_words_is_a_read_only_a_value_can_check(idea: str, labels: list[str]) -> None:
    assert [e.label for e in worded_reads(idea, read_stated(idea))] == labels


def test_a_named_value_is_checked_once_an_example_of_its_route_checks_a_value() -> None:
    idea = 'GET /kv/{key} returns {"key": key, "value": value}'
    known = Example(method="GET", path="/kv/color", response={"key": "color", "value": "blue"}, match="subset")
    assert worded_reads(idea, [*read_stated(idea), known]) == []


STAFF = "A staff directory of five people, Ann (admin), Bob (dev), Cid (dev), Dee (ops) and Eve (admin), where "


@pytest.mark.parametrize(
    ("idea", "answers"),
    [
        (STAFF + 'GET /people?role=dev returns [{"name": "Bob", "role": "dev"}, {"name": "Cid", "role": "dev"}].',
         {"none": [], "admin": [{"name": "Ann", "role": "admin"}, {"name": "Eve", "role": "admin"}],
          "ops": [{"name": "Dee", "role": "ops"}]}),
        (STAFF + 'GET /staff?team=admin returns ["Ann", "Eve"].', {"none": [], "dev": ["Bob", "Cid"], "ops": ["Dee"]}),
        (STAFF + 'GET /people?role=dev returns [{"name": "Bob"}, {"name": "Cid"}].',
         {"none": [], "admin": [{"name": "Ann"}, {"name": "Eve"}], "ops": [{"name": "Dee"}]}),
        # the stated answer is not the listed rows with that value: nothing is guessed
        (STAFF + 'GET /people?role=dev returns ["Bob"].', {}),
        (STAFF + 'GET /people?role=dev returns [{"name": "Bob", "id": 2}, {"name": "Cid", "id": 3}].', {}),
        (STAFF + 'GET /people?role=dev returns ["Cid", "Bob"].', {}),
        ('Two people, Ann (admin) and Bob (dev): GET /people?role=dev returns ["Bob"].', {}),  # too few to be a table
    ],
)  # fmt: skip
def test_a_filter_over_rows_listed_in_words_answers_for_every_value(idea: str, answers: dict[str, Any]) -> None:
    stated = read_stated(idea)
    derived = listed_filters(idea, stated)
    assert {e.query[next(iter(stated[0].query))]: e.response for e in derived} == answers
    assert all(e.source == "derived" and e.path == stated[0].path and e.match == stated[0].match for e in derived)


@pytest.mark.parametrize(
    ("idea", "rows"),
    [
        ("Known: Ann Lee (admin), Bob (backend dev) and Cid (dev).",
         [("Ann Lee", "admin"), ("Bob", "backend dev"), ("Cid", "dev")]),
        ("Known: Ann (admin), Bob (dev, on call) and Cid (dev).", []),  # not one thing said of each
        ("Ann (admin) and Bob (dev) only.", []),  # two are not a table
        ('GET /a (the first), GET /b (the second) and GET /c (the third) return {"ok": true}.', []),
    ],
)  # fmt: skip
def test_rows_in_words_are_read_with_what_their_parentheses_say(idea: str, rows: list[tuple[str, str]]) -> None:
    assert listed_rows(idea) == rows
