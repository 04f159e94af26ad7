"""What the build's agents hand each other, typed.

A backend's verification and a page's check travel in a :class:`~autogpt.iac.envelope.Result`'s
``data`` as JSON, over a network when the team is spread out, so they are validated where they
arrive: a peer that sends something else (a missing key, a wrong type, a string where a list
belongs) gets an honest "not verified" with the reason, never a crash while the report is
written and never a pass. The JSON keeps the shape ``verification.json`` and
``page-check.json`` have always had.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

M = TypeVar("M", bound=BaseModel)


class _Received(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ExampleRow(_Received):
    """One acceptance example, run against the server."""

    example: str = Field(max_length=2000)
    expected: str = Field("", max_length=2000)
    source: str = Field("", max_length=40)
    sent: str = Field("", max_length=2000)
    status: int | None = None
    ok: bool
    problems: list[str] = Field(default_factory=list, max_length=50)
    body: str = Field("", max_length=2000)
    kept_back: bool = False  # not shown to the server's writer: a server that learnt the rest fails it


class RouteRow(_Received):
    """A contract route no example calls, probed."""

    route: str = Field(max_length=2000)
    status: int = 0
    ok: bool
    problems: list[str] = Field(default_factory=list, max_length=50)


class ServerVerification(_Received):
    """BackendGPT's verification of the running server (``verification.json``)."""

    ok: bool
    fix_rounds: int = Field(0, ge=0)
    acceptance: list[ExampleRow] = Field(default_factory=list, max_length=200)
    routes: list[RouteRow] = Field(default_factory=list, max_length=200)
    error: str = Field("", max_length=4000)
    confined: bool | None = None
    sandbox: str = Field("", max_length=40)
    out_of_time: bool = False  # fix rounds stopped by the build's time limit


class PageReport(_Received):
    """FrontendGPT's check of the page in headless Chromium (``page-check.json``)."""

    ok: bool
    fix_rounds: int = Field(0, ge=0)
    screenshot: str = Field("", max_length=500)
    api_calls: list[str] = Field(default_factory=list, max_length=500)
    console_errors: list[str] = Field(default_factory=list, max_length=500)
    problems: list[str] = Field(default_factory=list, max_length=200)
    out_of_time: bool = False


def received(model: type[M], data: object, what: str) -> tuple[M | None, str]:
    """``data`` as ``model``; ``(None, why)`` when it is absent or does not hold."""
    if data is None:
        return None, ""
    try:
        return model.model_validate(data), ""
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        return None, f"the {what} that arrived is malformed ({where}: {first['msg']}), so it counts as not done"
