"""An example's answer written into the code is caught; answers that are constants by nature are not."""

from __future__ import annotations

from typing import Any

import pytest

from autogpt.tools.acceptance import Example
from autogpt.tools.constants import answered_from_constant


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
