"""Every role the product knows, its agent's name, its short forms, and where it lives.

Agent classes are imported only when asked for, so listing roles stays cheap. Besides the
built-in roles, any installed package can add agents through the ``autogpt.agents``
entry-point group (``haiku = "haiku_agent:HaikuGPT"``): the entry's name is the role.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points

from autogpt.agents.base import Agent
from autogpt.errors import ConfigError, InvalidInputError


@dataclass(frozen=True, slots=True)
class RoleSpec:
    role: str
    name: str
    short: str
    summary: str
    impl: str | None = None  # "module:Class", or None while the agent is not built yet

    def names(self) -> tuple[str, ...]:
        return (self.role, self.short, self.name.lower())


ROLES: tuple[RoleSpec, ...] = (
    RoleSpec("generic", "GenericGPT", "gen", "general assistant", "autogpt.agents.generic:GenericGPT"),
    RoleSpec("manager", "ManagerGPT", "man", "plans the work and runs the team", "autogpt.agents.manager:ManagerGPT"),
    RoleSpec(
        "architect",
        "ArchitectGPT",
        "arch",
        "architecture, diagrams, API contract",
        "autogpt.agents.architect:ArchitectGPT",
    ),
    RoleSpec("backend", "BackendGPT", "back", "server code, started and probed", "autogpt.agents.backend:BackendGPT"),
    RoleSpec(
        "frontend", "FrontendGPT", "front", "web page checked in a browser", "autogpt.agents.frontend:FrontendGPT"
    ),
    RoleSpec("designer", "DesignerGPT", "design", "design spec and wireframes", "autogpt.agents.designer:DesignerGPT"),
    RoleSpec("git", "GitGPT", "git", "repository and commits", "autogpt.agents.git:GitGPT"),
    RoleSpec("mailer", "MailerGPT", "mail", "reads, summarises and answers mail", "autogpt.agents.mailer:MailerGPT"),
    RoleSpec(
        "optimizer",
        "OptimizerGPT",
        "opt",
        "refactors that keep checks passing",
        "autogpt.agents.optimizer:OptimizerGPT",
    ),
)
USER_ROLE = "user"
ENTRY_POINT_GROUP = "autogpt.agents"


def installed_roles() -> tuple[RoleSpec, ...]:
    """Custom agents that installed packages declare under ``autogpt.agents``."""
    builtin = {name for spec in ROLES for name in spec.names()}
    found = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        role = entry.name.strip().lower()
        if role and role not in builtin and role != USER_ROLE:
            found.append(RoleSpec(role, entry.name, role, f"custom agent ({entry.value})", entry.value))
    return tuple(found)


def find_role(text: str) -> RoleSpec:
    """``arch``, ``architect`` and ``ArchitectGPT`` (any case) all name the architect."""
    wanted = text.strip().lower()
    for spec in ROLES:
        if wanted in spec.names():
            return spec
    custom = installed_roles()
    for spec in custom:
        if wanted in spec.names():
            return spec
    known = ", ".join([f"{s.short}/{s.role}" for s in ROLES] + [s.role for s in custom])
    raise InvalidInputError(f"unknown agent {text!r}", hint=f"agents: {known}")


def agent_class(spec: RoleSpec) -> type[Agent]:
    if spec.impl is None:
        raise ConfigError(f"{spec.name} ({spec.role}) is not available in this version", hint="try: generic")
    module, _, attr = spec.impl.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load {spec.name} from {spec.impl}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Agent)):
        raise ConfigError(f"{spec.impl} is not an autogpt Agent class")
    return cls


@functools.cache
def role_capabilities(role: str) -> frozenset[str]:
    """The capabilities the agent class serving ``role`` declares; none for ``user``, for
    a role no class serves and for a class that cannot be loaded (an installed package
    that fails on import must not break the orchestrator, which asks this for old
    certificates)."""
    try:
        return agent_class(find_role(role)).capabilities
    except Exception:  # a broken plugin grants nothing
        return frozenset()


SHARED_MEMORY = frozenset({"memory.read", "memory.write"})
"""Reading and writing the team's shared memory in orchgpt (:mod:`orchgpt.shared_memory`)."""
_SHARED_MEMORY_GRANTS = {
    "git": frozenset(),  # commits what others wrote; it has nothing to learn or teach
    "mailer": frozenset({"memory.read"}),  # mail is untrusted text: it may not write what others recall
}


def memory_grants(role: str) -> frozenset[str]:
    """The shared-memory capabilities a certificate for ``role`` grants by default: both
    for the built-in agents that think (with exceptions above), none for ``user`` and
    custom roles (grant them with ``--capability``). Certificate grants, not agent
    capabilities: an agent never announces them, so older certificates that list their
    capabilities keep registering."""
    if role not in {spec.role for spec in ROLES if spec.impl is not None}:
        return frozenset()
    return _SHARED_MEMORY_GRANTS.get(role, SHARED_MEMORY)


def default_capabilities(roles: Iterable[str]) -> frozenset[str]:
    """What a certificate for ``roles`` grants unless told otherwise: the union of
    :func:`role_capabilities` and :func:`memory_grants`."""
    return frozenset().union(*(role_capabilities(role) | memory_grants(role) for role in roles))
