"""orchgpt's settings (env prefix ``ORCHGPT_``); documented in the README's table."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from autogpt.config import config_error


def _default_ledger() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "orchgpt" / "ledger.sqlite3"


def _default_memory() -> Path:
    return _default_ledger().with_name("memory.sqlite3")


class OrchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORCHGPT_", env_file=".env", extra="ignore")

    listen: str = Field("0.0.0.0:8443", description="host:port to listen on (port 0 picks a free one).")
    certs: Path = Field(Path("certs"), description="Folder with ca.pem, server.pem, server.key.")
    heartbeat_timeout: float = Field(30.0, gt=0, description="Seconds of silence before a peer is dropped.")
    handshake_timeout: float = Field(10.0, gt=0, description="Seconds a new stream has to register.")
    max_envelope_bytes: int = Field(1 << 20, ge=1024, description="Largest envelope accepted (bytes).")
    max_frame_bytes: int = Field(8 << 20, ge=4096, description="Largest gRPC message accepted (bytes).")
    queue_size: int = Field(4096, ge=16, description="Outbound envelopes buffered per connection.")
    queue_bytes: int = Field(16 << 20, ge=1 << 16, description="Outbound bytes buffered per connection.")
    stall_timeout: float = Field(
        30.0, gt=0, description="Seconds a connection's outbound queue may stay full before it is dropped."
    )
    frame_envelopes: int = Field(1024, ge=64, description="Most envelopes one received frame may hold.")
    streams_per_cert: int = Field(16, ge=1, description="Most open streams per client certificate.")
    pending_requests: int = Field(1024, ge=1, description="Most requests in flight per connection.")
    agents_page: int = Field(100, ge=1, le=1000, description="Agents per Registered and per 'agents' listing page.")
    tls_handshake_timeout: float = Field(10.0, gt=0, description="Seconds a TCP connection has to finish TLS.")
    idle_timeout: float = Field(300.0, gt=0, description="Seconds a connection with no stream open is kept.")
    grace: float = Field(5.0, ge=0, description="Seconds in-flight streams get to finish on shutdown.")
    ledger: Path = Field(
        default_factory=_default_ledger, description="SQLite file of the task ledger (every routed request)."
    )
    ledger_keep: int = Field(20_000, ge=0, description="Newest ledger rows kept per client certificate (0: keep all).")
    ledger_days: float = Field(30.0, ge=0, description="Days a finished ledger row is kept (0: forever).")
    memory: Path = Field(
        default_factory=_default_memory,
        description="SQLite file of the shared memory peers reach with memory.* requests (see IAC.md).",
    )
    embedder: Literal["minilm", "hash"] = Field(
        "minilm", description="Embedder of the shared memory: minilm (all-MiniLM-L6-v2) or hash (lexical)."
    )
    memory_queue: int = Field(256, ge=1, description="Shared-memory requests waiting at most; more get OVERLOADED.")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="debug, info, warning, error.")
    log_format: Literal["auto", "console", "json"] = Field(
        "auto", description="auto (console on a terminal, else JSON), console, json."
    )
    metrics: str = Field("", description="host:port of the Prometheus /metrics endpoint (empty: off).")
    web: str = Field("", description="host:port of the read-only live view (empty: off).")

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


def load_orch_settings(**overrides: object) -> OrchSettings:
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return OrchSettings(**clean)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise config_error(exc, "orchgpt settings") from None
