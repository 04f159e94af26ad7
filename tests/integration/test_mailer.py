"""MailerGPT against a real Dovecot IMAP server and a real SMTP server (aiosmtpd), both on
free loopback ports, with a throwaway mailbox."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope
from fakes import dovecot
from fakes.dovecot import PASSWORD, USER, Dovecot, message

from autogpt.agents.mailer import MailerGPT
from autogpt.config import Settings, load_settings
from autogpt.errors import AgentError, ConfigError
from autogpt.iac.envelope import Address, Command, Result
from autogpt.iac.memory import InMemoryHub
from autogpt.llm.base import Message, Options
from autogpt.llm.doubles import FunctionLLM

pytestmark = pytest.mark.skipif(not dovecot.available(), reason="dovecot is not installed (make setup installs it)")


@pytest.fixture
def imap() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


@dataclass
class Outbox:
    port: int
    received: list[Envelope] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_DATA(self, server: SMTP, session: object, envelope: Envelope) -> str:
        self.received.append(envelope)
        self.arrived.set()
        return "250 OK"


@pytest.fixture
async def smtp() -> AsyncIterator[Outbox]:
    outbox = Outbox(0)
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(outbox), "127.0.0.1", 0)
    outbox.port = server.sockets[0].getsockname()[1]
    yield outbox
    server.close()
    await server.wait_closed()


def mail_settings(imap: Dovecot, smtp_port: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "imap_host": "127.0.0.1",
        "imap_port": imap.port,
        "imap_tls": False,
        "imap_user": USER,
        "imap_password": PASSWORD,
        "smtp_host": "127.0.0.1" if smtp_port else "",
        "smtp_port": smtp_port,
        "smtp_tls": "none",
        "mail_from": f"{USER}@example.com",
        **extra,
    }


@dataclass
class Mailer:
    prompts: list[str]
    ask: Any


@pytest.fixture
async def mailer(imap: Dovecot, smtp: Outbox, tmp_path: Path) -> AsyncIterator[Mailer]:
    prompts: list[str] = []

    def reply(messages: list[Message], options: Options) -> str:
        prompts.append("\n".join(m.content for m in messages))
        return "1. Bob asks about lunch on Friday." if "Summarise" in messages[-1].content else "Yes, Friday works."

    settings: Settings = load_settings(**mail_settings(imap, smtp.port), workspace=tmp_path / "ws")
    hub = InMemoryHub()
    agent = MailerGPT(FunctionLLM(reply), hub.connect("mailer"), settings=settings, retry_delay=0)
    serving = asyncio.create_task(agent.serve())
    user = hub.connect("user", agent_id="user")

    async def ask(action: str, text: str = "", **args: object) -> Result:
        return await user.call(Address.role("mailer"), Command(action, text, args=args), session_id="s", timeout=60)

    yield Mailer(prompts, ask)
    await agent.bus.close()
    await serving


async def test_an_empty_mailbox_says_so_without_asking_the_model(mailer: Mailer) -> None:
    result = await mailer.ask("run")  # a plain prompt: the inbox
    assert result.output == "the mailbox is empty"
    assert mailer.prompts == []


async def test_one_message_is_summarised_drafted_and_sent_only_on_send(
    mailer: Mailer, imap: Dovecot, smtp: Outbox
) -> None:
    imap.deliver(message(1, "Lunch on Friday?", body="Are you free for lunch on Friday at noon?"))
    listing = await mailer.ask("inbox")
    assert "1 message(s)" in listing.output
    assert "Lunch on Friday? [1 message(s), last from bob@example.com]" in listing.output
    assert "Bob asks about lunch on Friday." in listing.output
    assert "free for lunch on Friday at noon" in mailer.prompts[0]

    draft = await mailer.ask("draft", "1 say yes")
    assert draft.data["sent"] is False
    assert "Yes, Friday works." in draft.output
    assert "Subject: Re: Lunch on Friday?" in draft.output
    assert smtp.received == []  # nothing leaves without /send

    sent = await mailer.ask("send")
    assert sent.output == "sent to bob@example.com: Re: Lunch on Friday?"
    [envelope] = smtp.received
    assert envelope.rcpt_tos == ["bob@example.com"]
    body = envelope.content.decode() if isinstance(envelope.content, bytes) else str(envelope.content)
    assert "In-Reply-To: <m1@example.com>" in body
    assert "Yes, Friday works." in body
    assert all(PASSWORD not in prompt for prompt in mailer.prompts)
    with pytest.raises(Exception, match="there is no draft to send"):
        await mailer.ask("send")


async def test_five_hundred_messages_read_only_the_newest(mailer: Mailer, imap: Dovecot) -> None:
    for n in range(500):
        imap.deliver(message(n, f"Report {n}"))
    imap.deliver(message(500, "Re: Report 499", reply_to="<m499@example.com>"))
    result = await mailer.ask("inbox")
    assert result.output.startswith("501 message(s); the newest 50 form 49 thread(s)")
    subjects = [t["subject"] for t in result.data["threads"]]
    assert subjects[0] == "Report 499"  # the reply joined its thread, the newest
    assert result.data["threads"][0]["messages"] == 2
    assert len(subjects) == 15
    assert "Report 0 " not in mailer.prompts[0]


async def test_bad_credentials_and_a_server_down_are_one_clear_error(imap: Dovecot, tmp_path: Path) -> None:
    from autogpt.tools.mailbox import Mailbox

    wrong = load_settings(**{**mail_settings(imap), "imap_password": "not-the-password"})
    with pytest.raises(ConfigError, match=f"refused the login for {USER}") as refused:
        await Mailbox(wrong).read(10)
    assert "not-the-password" not in str(refused.value)
    imap.stop()
    with pytest.raises(AgentError, match=r"cannot reach the IMAP server 127\.0\.0\.1:\d+"):
        await Mailbox(load_settings(**mail_settings(imap))).read(10)


def _env(imap: Dovecot, smtp_port: int, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "OPENAI_", "ANTHROPIC_"))}
    for key, value in mail_settings(imap, smtp_port).items():
        env[f"AUTOGPT_{key.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    env.update(
        AUTOGPT_PROVIDER="scripted",
        AUTOGPT_SCRIPT=json.dumps(["Sure, see you then."]),
        AUTOGPT_DATA_DIR=str(tmp_path / "data"),
        **extra,
    )
    return env


async def _mail_cli(env: dict[str, str], *args: str, stdin: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "autogpt", "mail", *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_autogpt_mail_yes_sends_each_draft(imap: Dovecot, smtp: Outbox, tmp_path: Path) -> None:
    imap.deliver(message(1, "Dinner?"))
    code, out, err = await _mail_cli(_env(imap, smtp.port, tmp_path), "--yes", stdin="/draft 1 accept\n")
    assert code == 0, err
    assert "sent to bob@example.com: Re: Dinner?" in out
    assert len(smtp.received) == 1
    assert PASSWORD not in out + err


@pytest.mark.parametrize(("case", "expected"), [("password", "refused the login"), ("down", "cannot reach")])
async def test_autogpt_mail_failures_are_one_line(imap: Dovecot, tmp_path: Path, case: str, expected: str) -> None:
    env = _env(imap, 0, tmp_path)
    if case == "password":
        env["AUTOGPT_IMAP_PASSWORD"] = "wrong-pass-123"
    else:
        imap.stop()
    code, out, err = await _mail_cli(env, stdin="what is new?\n")
    assert code == 1
    [line] = [line for line in err.splitlines() if line.startswith("error")]
    assert expected in line
    assert "Traceback" not in err
    assert "wrong-pass-123" not in out + err
    assert PASSWORD not in out + err
