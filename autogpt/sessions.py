"""Console conversations kept on disk, so a later console can take one up again.

One JSON-lines file per agent role and session (``DATA_DIR/sessions/ROLE/ID.jsonl``),
one turn a line, appended and flushed as the turn happens: a crash loses at most the
turn in flight, and a damaged line is skipped (and counted) rather than losing the rest.
Session ids come from users and from the network, so only a plain word is used as a
file name; anything else is hashed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from autogpt.errors import InvalidInputError, StoreError
from autogpt.llm.base import Message
from autogpt.mind.context import Conversation

_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def new_session_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def file_name(session_id: str) -> str:
    if _PLAIN.match(session_id) and ".." not in session_id:
        return f"{session_id}.jsonl"
    return "h-" + hashlib.sha256(session_id.encode()).hexdigest()[:32] + ".jsonl"


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: str
    modified: float
    turns: int
    title: str


class SessionStore:
    """The sessions of one role under ``root`` (``DATA_DIR/sessions``)."""

    def __init__(self, root: Path, role: str) -> None:
        self.root = Path(root)
        self.role = role
        self.folder = self.root / role

    def path(self, session_id: str) -> Path:
        return self.folder / file_name(session_id)

    def exists(self, session_id: str) -> bool:
        return self.path(session_id).is_file()

    def append(self, session_id: str, message: Message) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            line = json.dumps({"role": message.role, "content": message.content, "at": time.time()})
            with self.path(session_id).open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError as exc:
            raise StoreError(f"cannot save session {session_id} in {self.folder}: {exc.strerror}") from None

    def load(self, session_id: str) -> tuple[list[Message], int]:
        """The session's turns, and how many damaged lines were skipped."""
        try:
            lines = self.path(session_id).read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return [], 0
        except OSError as exc:
            raise StoreError(f"cannot read session {session_id}: {exc.strerror}") from None
        turns: list[Message] = []
        damaged = 0
        for line in lines:
            try:
                item = json.loads(line)
                role, content = item["role"], item["content"]
                if role not in ("user", "assistant") or not isinstance(content, str):
                    raise ValueError(role)
            except (ValueError, KeyError, TypeError):
                damaged += 1
                continue
            turns.append(Message(role, content))
        return turns, damaged

    def list(self) -> list[SessionInfo]:
        """This role's sessions, most recent first."""
        found: list[SessionInfo] = []
        with contextlib.suppress(FileNotFoundError):
            for path in self.folder.glob("*.jsonl"):
                turns, _ = self.load(path.stem)
                title = next((t.content for t in turns if t.role == "user"), "")
                found.append(
                    SessionInfo(
                        path.stem, path.stat().st_mtime, len(turns), title.splitlines()[0][:60] if title else ""
                    )
                )
        return sorted(found, key=lambda s: (-s.modified, s.id))

    def latest(self) -> str | None:
        sessions = self.list()
        return sessions[0].id if sessions else None

    def resolve(self, prefix: str) -> str:
        """A session id from its full id or a unique prefix."""
        if self.exists(prefix):
            return prefix
        matches = [s.id for s in self.list() if s.id.startswith(prefix)]
        if len(matches) == 1:
            return matches[0]
        hint = "list them with /sessions" if not matches else f"it could be {', '.join(matches[:4])}"
        raise InvalidInputError(f"no single {self.role} session matches {prefix!r}", hint=hint)

    def conversation(self, session_id: str, system: str, *, window: int, reserve: int) -> Conversation:
        conv = PersistentConversation(self, session_id, system, window=window, reserve=reserve)
        turns, _ = self.load(session_id)
        conv.restore(turns)
        return conv


class PersistentConversation(Conversation):
    """A :class:`Conversation` whose every turn is also appended to its session file."""

    def __init__(self, store: SessionStore, session_id: str, system: str, *, window: int, reserve: int) -> None:
        super().__init__(system, window=window, reserve=reserve)
        self.store = store
        self.session_id = session_id

    def restore(self, turns: list[Message]) -> None:
        for turn in turns:
            super().add(turn)

    def add(self, message: Message) -> None:
        super().add(message)
        self.store.append(self.session_id, message)
