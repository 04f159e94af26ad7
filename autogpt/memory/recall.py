"""What one agent remembers: its own namespace, its project's, and the shared one.

Recall goes into prompts as a short block appended to the system message, best match
first, cut to a token budget taken from what the context window has left, so memory
never pushes the conversation itself out (:mod:`autogpt.mind.context`).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path
from typing import Literal

from autogpt.config import Settings
from autogpt.errors import InvalidInputError
from autogpt.llm.base import Message
from autogpt.memory.embedder import make_embedder
from autogpt.memory.store import Memory, MemoryStore
from autogpt.mind.context import estimate_messages, estimate_tokens

Scope = Literal["agent", "project", "shared"]
SCOPES: tuple[Scope, ...] = ("agent", "project", "shared")
HEADER = "\n\nWhat you remember from earlier work (use it if it helps; it may be out of date):"
QUERY_CHARS = 2000
# The task the current work is for (see :meth:`AgentMemory.focused`): lessons are recalled by
# their likeness to it, not to the tail of whatever prompt is being sent.
_focus: ContextVar[str | None] = ContextVar("memory_focus", default=None)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-") or "default"


class AgentMemory:
    """``role``'s view of a :class:`MemoryStore`."""

    def __init__(self, store: MemoryStore, role: str, project: str = "default", k: int = 5) -> None:
        self.store = store
        self.role = role
        self.project = _slug(project)
        self.k = k

    def namespace(self, scope: Scope = "agent") -> str:
        return {"agent": f"agent:{self.role}", "project": f"project:{self.project}", "shared": "shared"}[scope]

    @property
    def namespaces(self) -> list[str]:
        return [self.namespace(s) for s in SCOPES]

    def remember(self, text: str, scope: Scope = "agent", kind: str = "note") -> int:
        return self.store.add([text], self.namespace(scope), kind)[0]

    def lesson(self, text: str, role: str | None = None) -> int:
        """A short lesson for ``role`` (default: this agent's), recalled into that role's prompts."""
        namespace = f"agent:{role}" if role else self.namespace("agent")
        return self.store.add([text[:500]], namespace, "lesson")[0]

    def recall(self, query: str, k: int | None = None) -> list[Memory]:
        return self.store.search(query[-QUERY_CHARS:], self.namespaces, self.k if k is None else k)

    def forget(self, target: str) -> list[Memory]:
        """Forget memory ``#id`` / ``id``, or the memories that best match ``target``."""
        text = target.strip()
        if not text:
            raise InvalidInputError("say what to forget", hint="/forget ID, or /forget words of the memory")
        if text.lstrip("#").isdigit():
            found = self.store.get([int(text.lstrip("#"))])
            found = [m for m in found if m.namespace in self.namespaces]
        else:
            found = [m for m in self.recall(text, 3) if m.score >= max(self.store.embedder.min_score, 0.5)]
        for memory in found:
            self.store.forget([memory.id], namespace=memory.namespace)
        return found

    @staticmethod
    @contextlib.contextmanager
    def focused(task: str) -> Iterator[None]:
        """Within this block (this task's coroutines only), lessons are recalled for ``task``."""
        token = _focus.set(task)
        try:
            yield
        finally:
            _focus.reset(token)

    def relevant(self, query: str) -> list[Memory]:
        """What to recall for ``query``: memories like it, and lessons like the task in focus (or
        like ``query`` when none is) by the embedder's higher bar for lessons. A lesson is about
        one task; recalled into another it is noise a small model copies (routes of other ideas
        turned up in a server that had been shown their lessons)."""
        found = self.recall(query)
        bar = self.store.embedder.lesson_min_score
        focus = _focus.get()
        if focus is None:
            return [m for m in found if m.kind != "lesson" or m.score >= bar]
        lessons = [m for m in self.recall(focus) if m.kind == "lesson" and m.score >= bar]
        merged = [m for m in found if m.kind != "lesson"] + lessons
        return sorted(merged, key=lambda m: -m.score)[: self.k]

    def block(self, query: str, budget_tokens: int) -> str:
        """The recall block for ``query``, within ``budget_tokens``; empty when nothing is relevant."""
        if self.k <= 0 or budget_tokens <= estimate_tokens(HEADER) + 8:
            return ""
        lines: list[str] = []
        used = estimate_tokens(HEADER)
        for memory in self.relevant(query):
            line = f"\n- {'lesson: ' if memory.kind == 'lesson' else ''}{memory.text}"
            cost = estimate_tokens(line)
            if used + cost > budget_tokens:
                break
            lines.append(line)
            used += cost
        return HEADER + "".join(lines) if lines else ""

    def into(self, messages: Sequence[Message], window: int, reserve: int) -> list[Message]:
        """``messages`` with the recall block for the newest user message added to the system prompt."""
        query = next((m.content for m in reversed(messages) if m.role == "user"), "")
        if not query.strip():
            return list(messages)
        room = window - reserve - estimate_messages(messages)
        block = self.block(query, min(window // 8, room))
        if not block:
            return list(messages)
        out = list(messages)
        for i, message in enumerate(out):
            if message.role == "system":
                out[i] = replace(message, content=message.content + block)
                return out
        return [Message.system(block.strip()), *out]


_stores: dict[Path, MemoryStore] = {}
_stores_lock = threading.Lock()


def memory_path(settings: Settings) -> Path:
    return Path(settings.memory) if settings.memory is not None else Path(settings.data_dir) / "memory.db"


def open_store(settings: Settings) -> MemoryStore:
    """The process's one store for the settings' path (opened once; embedder loads on first use)."""
    path = memory_path(settings).expanduser().resolve()
    with _stores_lock:
        store = _stores.get(path)
        if store is None:
            store = MemoryStore(path, make_embedder(settings.embedder))
            _stores[path] = store
        return store


def close_stores() -> None:
    with _stores_lock:
        for store in _stores.values():
            store.close()
        _stores.clear()
