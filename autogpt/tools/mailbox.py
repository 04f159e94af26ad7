"""A mailbox: read over IMAP (aioimaplib), send over SMTP (aiosmtplib), group into threads.

Credentials come from settings and stay here: no message, log line or error this module
produces contains the password, and nothing it hands to an agent does either (an agent
sees messages, never how they were fetched). Failures are translated at this boundary
into one clear line each: a refused login is a :class:`ConfigError` (fix the settings),
a server that cannot be reached is an :class:`AgentError`.
"""

from __future__ import annotations

import email.policy
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, make_msgid, parseaddr

import aioimaplib
import aiosmtplib

from autogpt.config import Settings
from autogpt.errors import AgentError, ConfigError, InvalidInputError
from autogpt.logs import get_logger

log = get_logger(__name__)

_FETCHED = re.compile(rb"^\d+ FETCH \(UID (\d+) ")
_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
BODY_LIMIT = 65_536  # bytes of each message fetched; enough for a summary


@dataclass(frozen=True, slots=True)
class Mail:
    uid: int
    sender: str
    to: tuple[str, ...]
    subject: str
    date: str
    message_id: str
    in_reply_to: str
    references: tuple[str, ...]
    text: str


@dataclass
class Thread:
    subject: str
    messages: list[Mail] = field(default_factory=list)

    @property
    def last(self) -> Mail:
        return self.messages[-1]

    @property
    def people(self) -> list[str]:
        return sorted({m.sender for m in self.messages})


@dataclass(frozen=True, slots=True)
class Inbox:
    total: int  # messages in the mailbox
    mails: tuple[Mail, ...]  # the newest ``limit`` of them, oldest first


def _text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    text = str(content)
    if part.get_content_subtype() == "html":
        text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def parse_mail(uid: int, raw: bytes) -> Mail:
    message = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)

    def header(name: str) -> str:
        value = message.get(name)
        return str(value).strip() if value is not None else ""

    references = tuple(re.findall(r"<[^>]+>", header("References")))
    return Mail(
        uid=uid,
        sender=parseaddr(header("From"))[1] or header("From"),
        to=tuple(addr for _, addr in getaddresses([header("To"), header("Cc")]) if addr),
        subject=header("Subject") or "(no subject)",
        date=header("Date"),
        message_id=header("Message-ID"),
        in_reply_to=header("In-Reply-To"),
        references=references,
        text=_text_of(message),
    )


def threads_of(mails: Sequence[Mail]) -> list[Thread]:
    """Group by the References chain (its first id is the thread's root), else by subject;
    newest thread first."""
    by_key: dict[str, Thread] = {}
    key_of_id: dict[str, str] = {}
    for mail in mails:
        parents = [*mail.references, mail.in_reply_to]
        key = next((key_of_id[p] for p in parents if p in key_of_id), None)
        if key is None:
            key = "subject:" + _PREFIX.sub("", mail.subject).strip().lower()
        thread = by_key.setdefault(key, Thread(_PREFIX.sub("", mail.subject).strip() or mail.subject))
        thread.messages.append(mail)
        if mail.message_id:
            key_of_id[mail.message_id] = key
    return sorted(by_key.values(), key=lambda t: t.last.uid, reverse=True)


def reply_to(thread: Thread, body: str, sender: str) -> EmailMessage:
    last = thread.last
    message = EmailMessage()
    message["From"] = sender
    message["To"] = last.sender
    message["Subject"] = last.subject if last.subject.lower().startswith("re:") else f"Re: {last.subject}"
    if last.message_id:
        message["In-Reply-To"] = last.message_id
        message["References"] = " ".join([*last.references, last.message_id])
    message["Message-ID"] = make_msgid()
    message.set_content(body)
    return message


class Mailbox:
    """The configured mailbox. One IMAP connection per read; nothing is kept open."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _imap_target(self) -> tuple[str, int, str, str]:
        s = self.settings
        if not s.imap_host or not s.imap_user or s.imap_password is None:
            raise ConfigError(
                "no mailbox configured",
                hint="set AUTOGPT_IMAP_HOST, AUTOGPT_IMAP_USER and AUTOGPT_IMAP_PASSWORD (see README, Settings)",
            )
        port = s.imap_port or (993 if s.imap_tls else 143)
        return s.imap_host, port, s.imap_user, s.imap_password.get_secret_value()

    async def read(self, limit: int) -> Inbox:
        host, port, user, password = self._imap_target()
        where = f"{host}:{port}"
        timeout = self.settings.mail_timeout
        client: aioimaplib.IMAP4
        if self.settings.imap_tls:
            client = aioimaplib.IMAP4_SSL(host, port, timeout=timeout, ssl_context=ssl.create_default_context())
        else:
            client = aioimaplib.IMAP4(host, port, timeout=timeout)
        try:
            try:
                await client.wait_hello_from_server()
            except (OSError, TimeoutError, aioimaplib.Abort) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
                raise AgentError(f"cannot reach the IMAP server {where}: {reason}") from None
            login = await client.login(user, password)
            if login.result != "OK":
                raise ConfigError(
                    f"the IMAP server {where} refused the login for {user}",
                    hint="check AUTOGPT_IMAP_USER and AUTOGPT_IMAP_PASSWORD",
                )
            box = self.settings.imap_mailbox
            selected = await client.select(box)  # fetched with BODY.PEEK: nothing is marked as read
            if selected.result != "OK":
                raise ConfigError(f"no mailbox {box!r} on {where}", hint="set AUTOGPT_IMAP_MAILBOX")
            total = next((int(m.group(1)) for m in map(_EXISTS.match, selected.lines) if m), 0)
            mails: list[Mail] = []
            if total:
                first = max(1, total - limit + 1)
                fetched = await client.fetch(f"{first}:{total}", f"(UID BODY.PEEK[]<0.{BODY_LIMIT}>)")
                if fetched.result != "OK":
                    raise AgentError(f"the IMAP server {where} would not send the messages")
                mails = _mails_from(fetched.lines)
            log.info("mailbox_read", server=where, total=total, fetched=len(mails))
            return Inbox(total, tuple(mails))
        except aioimaplib.CommandTimeout:
            raise AgentError(f"the IMAP server {where} did not answer within {timeout:g}s") from None
        finally:
            await _close(client)

    async def send(self, message: EmailMessage) -> None:
        s = self.settings
        if not s.smtp_host:
            raise ConfigError("no SMTP server configured", hint="set AUTOGPT_SMTP_HOST (and its user and password)")
        port = s.smtp_port or (465 if s.smtp_tls == "ssl" else 587 if s.smtp_tls == "starttls" else 25)
        where = f"{s.smtp_host}:{port}"
        password = s.smtp_password.get_secret_value() if s.smtp_password is not None else None
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=port,
                username=s.smtp_user or None,
                password=password if s.smtp_user else None,
                use_tls=s.smtp_tls == "ssl",
                start_tls=s.smtp_tls == "starttls",
                timeout=s.mail_timeout,
            )
        except aiosmtplib.SMTPAuthenticationError:
            raise ConfigError(
                f"the SMTP server {where} refused the login", hint="check AUTOGPT_SMTP_USER and AUTOGPT_SMTP_PASSWORD"
            ) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(r.recipient for r in exc.recipients)
            raise InvalidInputError(f"the SMTP server {where} refused the recipient(s) {refused}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise AgentError(f"cannot send through the SMTP server {where}: {reason}") from None
        log.info("mail_sent", server=where, to=str(message["To"]))


_EXISTS = re.compile(rb"^(\d+) EXISTS$")


def _mails_from(lines: Sequence[bytes | bytearray]) -> list[Mail]:
    """aioimaplib hands a FETCH reply as ``b'N FETCH (UID u BODY[]<0> {n}'``, then the literal."""
    mails = []
    uid: int | None = None
    for line in lines:
        if isinstance(line, bytearray) and uid is not None:
            mails.append(parse_mail(uid, bytes(line)))
            uid = None
        elif isinstance(line, bytes) and (match := _FETCHED.match(line)):
            uid = int(match.group(1))
    return mails


async def _close(client: aioimaplib.IMAP4) -> None:
    try:
        if client.protocol is not None and client.protocol.state in ("AUTH", "SELECTED"):
            await client.logout()
    except (OSError, TimeoutError, aioimaplib.Abort, aioimaplib.CommandTimeout):
        pass
    finally:
        transport = getattr(client.protocol, "transport", None)
        if transport is not None:
            transport.close()
