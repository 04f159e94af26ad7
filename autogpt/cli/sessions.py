"""The console's session words: which session a console starts in, ``/sessions``, ``/resume``."""

from __future__ import annotations

import time

import click

from autogpt.cli.errors import report
from autogpt.cli.runtime import Standalone
from autogpt.errors import AutoGPTError, InvalidInputError
from autogpt.sessions import SessionStore, new_session_id


def pick_session(sessions: SessionStore, session: str | None, resume_last: bool) -> str:
    """``-s ID`` (an existing id, a unique prefix of one, or a new id), ``--continue``, or a new one."""
    if session and resume_last:
        raise InvalidInputError("-s/--session and --continue both pick a session", hint="use one of them")
    if resume_last:
        latest = sessions.latest()
        if latest is None:
            raise InvalidInputError(
                f"there is no {sessions.role} session to continue", hint="start one without --continue"
            )
        return latest
    if session:
        try:
            return sessions.resolve(session)
        except InvalidInputError:
            return session  # a new session under the id the user chose
    return new_session_id()


def describe_session(sessions: SessionStore, session_id: str) -> None:
    turns, damaged = sessions.load(session_id)
    if turns:
        click.echo(f"resumed session {session_id} ({len(turns)} turns)", err=True)
    else:
        click.echo(f"session {session_id}", err=True)
    if damaged:
        click.echo(f"warning: skipped {damaged} damaged line(s) of {sessions.path(session_id)}", err=True)


def session_word(line: str, team: Standalone, sessions: SessionStore) -> bool:
    """Handle ``/sessions`` and ``/resume ID``; False when the line is for the agent."""
    words = line.strip().split()
    if not words or words[0] not in ("/sessions", "/resume"):
        return False
    try:
        if words[0] == "/sessions":
            found = sessions.list()
            for info in found:
                mark = "*" if info.id == team.session_id else " "
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.modified))
                click.echo(f"{mark} {info.id}  {when}  {info.turns:>3} turns  {info.title}")
            if not found:
                click.echo("no sessions yet")
            return True
        if len(words) != 2:
            raise InvalidInputError("say which session to resume", hint="/resume ID (see /sessions)")
        team.session_id = sessions.resolve(words[1])
        describe_session(sessions, team.session_id)
    except AutoGPTError as exc:
        report(exc)
    return True
