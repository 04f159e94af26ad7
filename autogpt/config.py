"""Typed settings, read once from flags, the environment and ``.env``.

Every setting is documented, with its default, in the README's settings table; a test
keeps that table and this class in step.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from autogpt.errors import ConfigError

ProviderName = Literal["auto", "embedded", "openai", "anthropic", "gemini", "xai", "scripted"]
PROVIDERS: tuple[str, ...] = ("auto", "embedded", "openai", "anthropic", "gemini", "xai", "scripted")


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autogpt"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "autogpt"


# On the embedded provider, the roles that write code default to the larger tier: on the idea
# benchmark (bench/build_ideas.py) the team on Qwen2.5-Coder-1.5B passed far more ideas than on
# the 0.5B, in about the same build time (README, "Choosing the model"), and GenericGPT acting on
# a project (`autogpt gen -p`) did the task on the 1.5B where the 0.5B only read files.
# The other roles (the architect, the designer, the other consoles) stay on the faster default.
_LARGER = "qwen2.5-coder-1.5b"
EMBEDDED_ROLE_MODELS: dict[str, str] = {
    "manager": _LARGER, "backend": _LARGER, "frontend": _LARGER, "generic": _LARGER,
}  # fmt: skip


class Settings(BaseSettings):
    """All of autogpt's settings. Env prefix ``AUTOGPT_``; API keys use their usual names."""

    model_config = SettingsConfigDict(
        env_prefix="AUTOGPT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    @field_validator("role_models", mode="before")
    @classmethod
    def _role_models(cls, value: object) -> object:
        """``role=model`` pairs, comma-separated (a flag or the environment), or a mapping."""
        if not isinstance(value, str):
            return value
        pairs: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            role, eq, model = item.partition("=")
            if not eq or not role.strip() or not model.strip():
                raise ValueError(f"{item!r} is not role=model (say 'architect=qwen2.5-coder-1.5b')")
            pairs[role.strip().lower()] = model.strip()
        return pairs

    @field_validator("script", mode="before")
    @classmethod
    def _script(cls, value: object) -> object:
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    def for_role(self, role: str) -> Settings:
        """These settings with the model for ``role``: the one chosen for it (``role_models``),
        else, on the embedded provider with no model set, the role's embedded default
        (:data:`EMBEDDED_ROLE_MODELS`)."""
        model = self.role_models.get(role)
        if model is None and self.model is None and self.resolved_provider() == "embedded":
            model = EMBEDDED_ROLE_MODELS.get(role)
        return self if model is None or model == self.model else self.model_copy(update={"model": model})

    @model_validator(mode="after")
    def _provider_model(self) -> Settings:
        """No AUTOGPT_MODEL: the chosen provider's own model setting (OPENAI_MODEL, ...), if set."""
        if self.model is None:
            by_provider = {
                "openai": self.openai_model,
                "anthropic": self.anthropic_model,
                "gemini": self.gemini_model,
                "xai": self.xai_model,
            }
            self.model = by_provider.get(self.resolved_provider())
        return self

    provider: ProviderName = Field(
        "auto",
        validation_alias=AliasChoices("AUTOGPT_PROVIDER", "AI_PROVIDER", "provider"),
        description="LLM provider: auto (a key picks openai, anthropic, gemini or xai, else embedded), embedded, "
        "openai, anthropic, gemini, xai, scripted (replays AUTOGPT_SCRIPT; for tests and demos).",
    )
    script: str | None = Field(
        None, description="Replies for the scripted provider: a JSON file's path, or the JSON list itself."
    )
    model: str | None = Field(
        None,
        description="Model name, for every role. Embedded: qwen2.5-coder-0.5b (the default; the manager, backend "
        "and frontend default to qwen2.5-coder-1.5b), qwen2.5-coder-1.5b, or a .gguf path.",
    )
    role_models: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="A model per role, overriding `model` for that role: 'architect=qwen2.5-coder-1.5b,backend=...'.",
    )
    base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("AUTOGPT_BASE_URL", "OPENAI_BASE_URL"),
        description="OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp server).",
    )
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "AUTOGPT_OPENAI_API_KEY")
    )
    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "AUTOGPT_ANTHROPIC_API_KEY")
    )
    gemini_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("GEMINI_API_KEY", "AUTOGPT_GEMINI_API_KEY")
    )
    xai_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("XAI_API_KEY", "AUTOGPT_XAI_API_KEY"))
    openai_model: str | None = Field(
        None, validation_alias=AliasChoices("OPENAI_MODEL", "AUTOGPT_OPENAI_MODEL", "openai_model")
    )
    anthropic_model: str | None = Field(
        None, validation_alias=AliasChoices("ANTHROPIC_MODEL", "AUTOGPT_ANTHROPIC_MODEL", "anthropic_model")
    )
    gemini_model: str | None = Field(
        None, validation_alias=AliasChoices("GEMINI_MODEL", "AUTOGPT_GEMINI_MODEL", "gemini_model")
    )
    xai_model: str | None = Field(None, validation_alias=AliasChoices("XAI_MODEL", "AUTOGPT_XAI_MODEL", "xai_model"))
    image_model: str | None = Field(
        None,
        description="OpenAI image model (gpt-image-1, dall-e-3) for DesignerGPT's raster mockup; unset: no mockup.",
    )
    temperature: float = Field(0.2, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(1024, gt=0, description="Upper bound on tokens generated per call.")
    request_timeout: float = Field(120.0, gt=0, description="Seconds before a remote LLM call times out.")
    max_retries: int = Field(3, ge=0, le=10, description="Retries on 429, 5xx and timeouts (with backoff).")
    planner: Literal["auto", "model", "standard"] = Field(
        "auto",
        description="How ManagerGPT plans a build: 'model' asks the LLM for the task graph, 'standard' uses the "
        "standard plan for the team, 'auto' asks unless the LLM is the embedded model (for the fixed build team "
        "its plan can only restate the standard one, and costs minutes on a small CPU).",
    )
    structured_repairs: int = Field(
        2, ge=0, le=5, description="Extra attempts when a structured reply fails validation."
    )
    context_size: int = Field(8192, ge=512, description="Embedded model context window, in tokens.")
    threads: int = Field(0, ge=0, description="Embedded model CPU threads (0: all cores).")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="Where the assembled model file is kept.")
    data_dir: Path = Field(default_factory=default_data_dir, description="Histories and local state.")
    memory: Path | None = Field(
        None, description="Long-term memory store (an SQLite file) [default: DATA_DIR/memory.db]."
    )
    memory_recall: int = Field(
        5, ge=0, le=50, description="Memories recalled into a prompt (top k, within the context budget; 0: none)."
    )
    embedder: Literal["minilm", "hash"] = Field(
        "minilm",
        description="Memory embeddings: minilm (all-MiniLM-L6-v2, offline ONNX) or hash (lexical, no model).",
    )
    workspace: Path = Field(Path("workspace"), description="Folder agents may write into.")
    allow_unconfined: bool = Field(
        False,
        description="Run generated code even where no confining sandbox (bubblewrap) works; the report says so.",
    )
    allow_fetch: bool = Field(False, description="Let GenericGPT's fetch_url tool GET web pages when it acts.")
    act_max_steps: int = Field(12, ge=1, le=200, description="Most model turns GenericGPT takes when it acts.")
    act_max_tokens: int = Field(60_000, ge=1000, description="Most tokens one acting run may spend.")
    act_command_seconds: float = Field(
        120.0, gt=0, description="Wall-clock limit of each command (and the test run) when GenericGPT acts."
    )
    browser: str = Field("", description="Chromium binary for page checks (default: the first chromium on PATH).")
    orchestrator: str = Field(
        "localhost:8443",
        validation_alias=AliasChoices("AUTOGPT_ORCHESTRATOR", "ORCHESTRATOR_ADDRESS", "orchestrator"),
        description="host:port of orchgpt, for --net.",
    )
    certs: Path = Field(Path("certs"), description="Folder with ca.pem and this client's NAME.pem / NAME.key.")
    cert_name: str | None = Field(None, description="Certificate name to use (default: the role, or 'user').")
    heartbeat: float = Field(
        10.0, gt=0, description="Seconds between heartbeats to orchgpt (more often when orchgpt asks for it)."
    )
    require_signatures: bool = Field(
        True, description="Networked agents act only on orders whose Ed25519 signature checks out."
    )
    order_window: float = Field(
        300.0, gt=0, description="Seconds a signed order stays valid; older, future-dated or repeated ones are refused."
    )
    command_timeout: float = Field(3600.0, gt=0, description="Seconds the networked console waits for a reply.")
    reconnect_max: float = Field(10.0, gt=0, description="Longest wait between reconnection attempts (s).")
    time_limit: float = Field(
        0.0,
        ge=0,
        description="Seconds a build may take (0: no limit). When it is reached no fix round or retry starts, "
        "tasks not yet started are skipped, and the build fails saying so.",
    )
    rejoin_wait: float = Field(
        20.0,
        ge=0,
        description="Seconds a networked build waits for a role whose agent went away (e.g. while orchgpt up "
        "restarts it) before its retry.",
    )
    imap_host: str = Field("", description="MailerGPT's IMAP server.")
    imap_port: int = Field(0, ge=0, le=65535, description="IMAP port (0: 993 with TLS, else 143).")
    imap_tls: bool = Field(True, description="IMAP over TLS (false only for a local or test server).")
    imap_user: str = Field("", description="IMAP login.")
    imap_password: SecretStr | None = Field(None, description="IMAP password (never logged nor shown to a model).")
    imap_mailbox: str = Field("INBOX", description="The mailbox MailerGPT reads.")
    smtp_host: str = Field("", description="MailerGPT's SMTP server, for /send.")
    smtp_port: int = Field(0, ge=0, le=65535, description="SMTP port (0: 465 for ssl, 587 for starttls, else 25).")
    smtp_tls: Literal["starttls", "ssl", "none"] = Field("starttls", description="SMTP transport security.")
    smtp_user: str = Field("", description="SMTP login (empty: no login).")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (never logged nor shown to a model).")
    mail_from: str = Field("", description="From address of replies (default: the IMAP user).")
    mail_limit: int = Field(50, ge=1, le=1000, description="Newest messages MailerGPT reads and summarises.")
    mail_timeout: float = Field(30.0, gt=0, description="Seconds before an IMAP or SMTP server is given up on.")
    log_level: Literal["debug", "info", "warning", "error"] = Field("warning", description="Log level.")
    log_format: Literal["auto", "console", "json"] = Field(
        "auto", description="auto: readable on a terminal, JSON lines otherwise."
    )

    def resolved_provider(self) -> str:
        """The provider actually used: ``auto`` picks by which key is present."""
        if self.provider != "auto":
            return self.provider
        if self.openai_api_key is not None or self.base_url:
            return "openai"
        if self.anthropic_api_key is not None:
            return "anthropic"
        if self.gemini_api_key is not None:
            return "gemini"
        if self.xai_api_key is not None:
            return "xai"
        return "embedded"


def _field_of(loc: str) -> str:
    """Errors name a setting by the alias it was read from; say the setting's name too."""
    for name, info in Settings.model_fields.items():
        if loc in getattr(info.validation_alias, "choices", ()) and loc != name:
            return f"{name} ({loc})"
    return loc


def config_error(exc: ValidationError, what: str = "settings") -> ConfigError:
    """One readable :class:`ConfigError` for every problem pydantic found."""
    problems = "; ".join(f"{_field_of('.'.join(str(p) for p in e['loc'])) or what}: {e['msg']}" for e in exc.errors())
    return ConfigError(f"invalid {what}: {problems}", hint="see the settings tables in README.md")


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation failures into one clear :class:`ConfigError`."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise config_error(exc) from None
