"""An example's answer written into the code is caught; answers that are constants by nature are not."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from autogpt.tools.acceptance import Example, Outcome
from autogpt.tools.constants import answered_from_constant, text_variants, unmoved_by_input, variants


def example(**fields: Any) -> Example:
    return Example.model_validate({"method": "GET", "path": "/x", "match": "exact", **fields})


FRUITS = example(path="/fruits", query={"q": "ap"}, response=["apple", "apricot", "grape"])
ADD = example(path="/add", query={"a": "2", "b": "3"}, response={"sum": 5}, match="subset")
HIT = example(method="POST", path="/hit", response={"count": 1}, match="subset")


@pytest.mark.parametrize(
    ("ex", "code", "language"),
    [
        (FRUITS, "def f(q):\n    return [f for f in ['apple', 'apricot', 'grape'] if q in f]\n", "python"),
        (FRUITS, "def f(q):\n    return ('apple', 'apricot', 'grape')\n", "python"),
        (ADD, "def add(a: int, b: int):\n    return {'sum': 5}\n", "python"),
        (FRUITS, "app.get('/fruits', (q, res) => res.json([ 'apple', 'apricot', 'grape' ]));", "javascript"),
        (ADD, "app.get('/add', (req, res) => res.json({ sum: 5 }));", "javascript"),
        # a request that changes state answers from that state: "the new count" is no constant
        (HIT, "@app.post('/hit')\ndef hit():\n    return {'count': 1}\n", "python"),
        (HIT, "app.post('/hit', (req, res) => res.json({ count: 1 }));", "javascript"),
    ],
)
def test_an_answer_written_into_the_code_is_caught(ex: Example, code: str, language: str) -> None:
    reason = answered_from_constant(ex, code, language)
    assert reason is not None
    assert "as a constant" in reason


@pytest.mark.parametrize(
    ("ex", "code", "language"),
    [
        # worked out from the request
        (
            FRUITS,
            "F = ['apple', 'apricot', 'banana', 'cherry', 'grape']\ndef f(q):\n    return [x for x in F if q in x]\n",
            "python",
        ),
        (ADD, "def add(a: float, b: float):\n    return {'sum': a + b}\n", "python"),
        # a table whose rows look like answers
        (
            example(path="/capital", query={"country": "France"}, response={"capital": "Paris"}),
            "T = {'France': {'capital': 'Paris'}, 'Spain': {'capital': 'Madrid'}}\n"
            "def c(country):\n    return T[country]\n",
            "python",
        ),
        (
            example(path="/capital", query={"country": "France"}, response={"capital": "Paris"}),
            "const T = { France: { capital: 'Paris' }, Spain: { capital: 'Madrid' } };",
            "javascript",
        ),
        # the new count worked out from what the server keeps
        (
            HIT,
            "state = {'count': 0}\ndef hit():\n    state['count'] += 1\n    return {'count': state['count']}\n",
            "python",
        ),
        # a state change whose answer is plain: nothing telling to find
        (example(method="POST", path="/reset", response={"count": 0}), "def r():\n    return {'count': 0}\n", "python"),
        # constants by nature: no input, or a refusal
        (example(path="/health", response={"status": "ok"}), "def h():\n    return {'status': 'ok'}\n", "python"),
        (
            example(path="/div", query={"a": "1", "b": "0"}, status=400, response={"error": "division by zero"}),
            "def d(a, b):\n    return {'error': 'division by zero'}\n",
            "python",
        ),
        # too plain to mean anything
        (example(path="/even", query={"n": "2"}, response={"even": True}), "x = {'even': True}\n", "python"),
        (FRUITS, "this is not python (", "python"),
    ],
)
def test_answers_worked_out_or_constant_by_nature_are_not_flagged(ex: Example, code: str, language: str) -> None:
    assert answered_from_constant(ex, code, language) is None


def test_variants_move_every_stated_number_of_the_path_and_query() -> None:
    ex = example(path="/km/42.195", query={"unit": "mi", "n": "-3"}, response={"miles": 26.2}, match="subset")
    assert variants(ex, "/km/42.195?unit=mi&n=-3") == [
        "/km/43.195?unit=mi&n=-2",
        "/km/41.195?unit=mi&n=-4",
        "/km/0.000?unit=mi&n=0",
        "/km/422.950?unit=mi&n=-29",
    ]
    assert variants(example(path="/s", query={"q": "ap", "zip": "007"}, response={"a": 1}), "/s?q=ap&zip=007") == []
    # a number an earlier answer gave (the path's {id}) is not the example's to move
    assert variants(example(path="/todos/{id}", response={"a": 1}), "/todos/3") == []
    # nor is the id of a thing the examples create: /todos/1 after POST /todos
    assert variants(example(path="/todos/1", response={"a": 1}), "/todos/1", written={"/todos"}) == []
    assert variants(example(path="/codes/404", response={"a": 1}), "/codes/404", written={"/todos"}) == [
        "/codes/405", "/codes/403", "/codes/0", "/codes/4041"
    ]  # fmt: skip


KM = example(path="/km-to-miles", query={"km": "10"}, response={"miles": 6.21371}, match="subset")
KM_SENT = "/km-to-miles?km=10"
LEAP = example(path="/leap/2024", response={"leap": True}, match="subset")


def server(answers: dict[str, tuple[int, bytes]]) -> Any:
    asked: list[str] = []

    async def send(method: str, target: str, body: bytes | None, headers: Any) -> tuple[int, dict[str, str], bytes]:
        asked.append(f"{method} {target}")
        status, raw = answers.get(target, (400, b'{"detail":"Invalid value for km"}'))
        return status, {}, raw

    send.asked = asked  # type: ignore[attr-defined]
    return send


async def test_a_server_that_answers_only_its_examples_inputs_is_caught() -> None:
    send = server({})
    reason = await unmoved_by_input(Outcome(KM, target=KM_SENT, body='{"miles": 6.21371}'), send)
    assert reason is not None
    assert reason.startswith("it answers only the examples' own inputs: /km-to-miles?km=11 got 400")
    assert "/km-to-miles?km=9 got 400" in reason
    assert send.asked == ["GET /km-to-miles?km=11", "GET /km-to-miles?km=9", "GET /km-to-miles?km=0",
                          "GET /km-to-miles?km=101"]  # fmt: skip


async def test_a_server_that_answers_the_same_whatever_the_input_is_caught() -> None:
    same = (200, b'{"leap": true}')
    send = server(dict.fromkeys(("/leap/2025", "/leap/2023", "/leap/0", "/leap/20241"), same))
    reason = await unmoved_by_input(Outcome(LEAP, target="/leap/2024", body='{"leap":true}'), send)
    assert reason is not None
    assert reason.startswith('it gives the same answer {"leap":true} whatever the input: /leap/2025, /leap/2023')


@pytest.mark.parametrize(
    ("ex", "body", "answers"),
    [
        (KM, '{"miles": 6.21371}',
         {"/km-to-miles?km=11": (200, b'{"miles": 6.83508}'), "/km-to-miles?km=9": (200, b'{"miles": 5.59}')}),
        # 11 is past a bound the idea sets: one near answer is enough
        (KM, '{"miles": 6.21371}', {"/km-to-miles?km=9": (200, b'{"miles": 5.59}')}),
        # an adult at 30, 31 and 29: the answer moves only far off (0), and that is enough
        (example(path="/adult", query={"age": "30"}, response={"adult": True}, match="subset"), '{"adult": true}',
         {"/adult?age=31": (200, b'{"adult": true}'), "/adult?age=29": (200, b'{"adult": true}'),
          "/adult?age=0": (200, b'{"adult": false}'), "/adult?age=301": (200, b'{"adult": true}')}),
        (LEAP, '{"leap": true}', {"/leap/2025": (200, b'{"leap": false}'), "/leap/2023": (200, b'{"leap": false}')}),
    ],
    ids=["every-move-answered", "one-near-move-answered", "a-threshold", "leap-years"],
)  # fmt: skip
async def test_a_server_that_works_the_answer_out_passes(
    ex: Example, body: str, answers: dict[str, tuple[int, bytes]]
) -> None:
    assert await unmoved_by_input(Outcome(ex, target=ex.path + ("?" + urlencode(ex.query) if ex.query else ""),
                                          body=body), server(answers)) is None  # fmt: skip


async def test_a_success_without_the_examples_keys_is_no_answer() -> None:
    send = server({"/km-to-miles?km=11": (200, b'{"error": "unknown"}'), "/km-to-miles?km=9": (200, b"[]")})
    assert await unmoved_by_input(Outcome(KM, target=KM_SENT), send) is not None


@pytest.mark.parametrize(
    "ex",
    [
        example(method="POST", path="/km", query={"km": "10"}, response={"miles": 6.2}, match="subset"),
        example(path="/km", query={"km": "abc"}, status=400),
        example(path="/me", query={"n": "1"}, response={"u": "a"}, match="subset", request_headers={"X-Key": "k"}),
    ],
    ids=["changes-state", "a-refusal", "sends-a-captured-header"],
)
async def test_examples_it_cannot_judge_are_left_alone(ex: Example) -> None:
    send = server({})
    assert await unmoved_by_input(Outcome(ex, target=ex.path), send) is None
    assert send.asked == []


PALINDROME = example(path="/palindrome", query={"text": "Racecar"}, response={"palindrome": True}, match="subset")
TEXT_MOVES = ["/palindrome?text=Racecarq", "/palindrome?text=acecar", "/palindrome?text=xyz", "/palindrome?text="]


async def test_a_server_that_answers_the_same_whatever_the_text_is_caught() -> None:
    send = server(dict.fromkeys(TEXT_MOVES, (200, b'{"palindrome": true}')))
    reason = await unmoved_by_input(Outcome(PALINDROME, target=TEXT_MOVES[0][:-1], body='{"palindrome":true}'), send)
    assert reason is not None
    assert reason.startswith('it gives the same answer {"palindrome":true} whatever the input')
    assert send.asked == [f"GET {t}" for t in TEXT_MOVES]


@pytest.mark.parametrize(
    "answers",
    [
        {TEXT_MOVES[0]: (200, b'{"palindrome": false}')},  # the others refused: a text may be
        dict.fromkeys(TEXT_MOVES, (400, b'{"detail": "text must be letters"}')),
        {**dict.fromkeys(TEXT_MOVES, (200, b'{"palindrome": true}')), TEXT_MOVES[2]: (200, b'{"palindrome": false}')},
    ],
    ids=["answers-move", "moves-refused", "one-move-differs"],
)
async def test_a_server_that_reads_the_text_passes(answers: dict[str, tuple[int, bytes]]) -> None:
    assert await unmoved_by_input(Outcome(PALINDROME, target=TEXT_MOVES[0][:-1], body='{"palindrome":true}'),
                                  server(answers)) is None  # fmt: skip


def test_text_moves_leave_numbers_to_their_own_moves_and_paths_alone() -> None:
    ex = example(path="/search", query={"q": "ap", "page": "2"}, response={"a": 1})
    assert text_variants(ex, "/search?q=ap&page=2") == [
        "/search?q=apq&page=2", "/search?q=p&page=2", "/search?q=xyz&page=2", "/search?q=&page=2",
    ]  # fmt: skip
    assert text_variants(example(path="/capital/France", response={"a": 1}), "/capital/France") == []
