"""MailerGPT: reads a mailbox, summarises its threads, drafts replies, and sends one only
when told to (``/send``, or ``autogpt mail --yes``).

The model sees the messages' text and nothing about the account: credentials stay in
:mod:`autogpt.tools.mailbox`. Reading fetches with BODY.PEEK, so a summary never marks mail as
seen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage

from autogpt.agents.base import Agent, Context, action
from autogpt.errors import InvalidInputError
from autogpt.iac.envelope import Command, Result
from autogpt.llm.base import Message, Options
from autogpt.tools.mailbox import Mailbox, Thread, reply_to, threads_of

MAX_THREADS = 15  # threads put in one summary prompt
_EXCERPT = 600  # characters of each message's text the model sees


@dataclass
class _Session:
    threads: list[Thread]
    draft: EmailMessage | None = None


def _excerpt(thread: Thread, messages: int = 3) -> str:
    lines = [f"Subject: {thread.subject}"]
    for mail in thread.messages[-messages:]:
        text = mail.text[:_EXCERPT] + ("..." if len(mail.text) > _EXCERPT else "")
        lines.append(f"From {mail.sender} ({mail.date}):\n{text}")
    return "\n".join(lines)


class MailerGPT(Agent):
    name = "MailerGPT"
    role = "mailer"
    persona = (
        "You are MailerGPT. You read the user's email, summarise threads faithfully and briefly, and draft "
        "clear, polite replies in the user's voice. Never invent facts or commitments."
    )
    capabilities = frozenset({"llm.chat", "mail.read", "mail.send"})
    main_action = "inbox"

    @property
    def _sessions(self) -> dict[str, _Session]:
        """Each console session's last listing and pending draft."""
        if not hasattr(self, "_mail_sessions"):
            self._mail_sessions: dict[str, _Session] = {}
        return self._mail_sessions

    @property
    def mailbox(self) -> Mailbox:
        return Mailbox(self.settings)

    async def _threads(self, ctx: Context) -> tuple[int, int, list[Thread]]:
        await ctx.status("reading the mailbox")
        inbox = await self.mailbox.read(self.settings.mail_limit)
        threads = threads_of(inbox.mails)
        self._sessions[ctx.session_id] = _Session(threads)
        return inbox.total, len(inbox.mails), threads

    @action("inbox", help="summarise the newest threads (input: optional words to filter by)", aliases=("read",))
    async def inbox(self, command: Command, ctx: Context) -> Result:
        total, read, threads = await self._threads(ctx)
        if not total:
            return Result(output="the mailbox is empty", data={"total": 0, "threads": []})
        wanted = command.input.strip().lower()
        shown = [
            (number, t)
            for number, t in enumerate(threads, 1)
            if not wanted or wanted in _excerpt(t, len(t.messages)).lower()
        ][:MAX_THREADS]
        head = f"{total} message(s); the newest {read} form {len(threads)} thread(s)"
        if not shown:
            return Result(output=f"{head}; none mentions {wanted!r}", data={"total": total, "threads": []})
        listing = "\n".join(
            f"{n:>3}. {t.subject} [{len(t.messages)} message(s), last from {t.last.sender}]" for n, t in shown
        )
        await ctx.status(f"summarising {len(shown)} thread(s)")
        prompt = (
            "Summarise each email thread below in one sentence: what it is about and what, if anything, "
            "the reader is asked to do. Answer as a numbered list using the thread numbers given.\n\n"
            + "\n\n".join(f"Thread {n}:\n{_excerpt(t)}" for n, t in shown)
        )
        completion = await self.think(
            [Message.system(self.persona), Message.user(prompt)], options=Options(max_tokens=self.reply_tokens)
        )
        data = {
            "total": total,
            "threads": [
                {"number": n, "subject": t.subject, "messages": len(t.messages), "last_from": t.last.sender}
                for n, t in shown
            ],
        }
        return Result(output=f"{head}\n{listing}\n\n{completion.text.strip()}", data=data)

    @action("draft", help="draft a reply to thread N: draft N what to say (sent only by /send)")
    async def draft(self, command: Command, ctx: Context) -> Result:
        match = re.match(r"^\s*#?(\d+)\b\s*(.*)$", command.input, re.DOTALL)
        if match is None:
            raise InvalidInputError("say which thread to answer", hint="draft 2 accept, and suggest Tuesday")
        number, wish = int(match.group(1)), match.group(2).strip()
        session = self._sessions.get(ctx.session_id)
        threads = session.threads if session is not None else (await self._threads(ctx))[2]
        if not 1 <= number <= len(threads):
            raise InvalidInputError(f"there is no thread {number}", hint=f"threads 1 to {len(threads)}; /inbox lists")
        thread = threads[number - 1]
        await ctx.status(f"drafting a reply to {thread.subject!r}")
        prompt = (
            f"Write the body of a reply to the last message of this thread.\n\n{_excerpt(thread)}\n\n"
            f"What the reply should say: {wish or 'a short, helpful answer'}.\n"
            "Write only the body text, no subject line, no placeholders."
        )
        completion = await self.think(  # not streamed: the draft is shown with its headers
            [Message.system(self.persona), Message.user(prompt)], options=Options(max_tokens=self.reply_tokens)
        )
        sender = self.settings.mail_from or self.settings.imap_user
        message = reply_to(thread, completion.text.strip() + "\n", sender)
        self._sessions.setdefault(ctx.session_id, _Session(threads)).draft = message
        if command.args.get("send") is True:
            return await self._send(ctx)
        return Result(
            output=f"To: {message['To']}\nSubject: {message['Subject']}\n\n{completion.text.strip()}\n\n"
            "(not sent: /send sends it)",
            data={"to": str(message["To"]), "subject": str(message["Subject"]), "sent": False},
        )

    @action("send", help="send the last draft")
    async def send(self, command: Command, ctx: Context) -> Result:
        return await self._send(ctx)

    async def _send(self, ctx: Context) -> Result:
        session = self._sessions.get(ctx.session_id)
        if session is None or session.draft is None:
            raise InvalidInputError("there is no draft to send", hint="draft N what to say")
        message = session.draft
        await ctx.status(f"sending to {message['To']}")
        await self.mailbox.send(message)
        session.draft = None
        return Result(
            output=f"sent to {message['To']}: {message['Subject']}",
            data={"to": str(message["To"]), "subject": str(message["Subject"]), "sent": True},
        )
