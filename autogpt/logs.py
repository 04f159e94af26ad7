"""structlog set up once: readable lines on a terminal, JSON lines otherwise (CI, daemons)."""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure_logging(
    level: str = "warning", fmt: Literal["auto", "console", "json"] = "auto", *, stream: TextIO | None = None
) -> None:
    """Route structlog to stderr at ``level``; ``auto`` picks console output on a TTY."""
    out = stream if stream is not None else sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not getattr(out, "isatty", lambda: False)())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.WARNING)),
        # Look the stream up at each use: sys.stderr may be swapped (tests, daemons).
        logger_factory=(lambda *_: structlog.PrintLogger(stream)) if stream is not None else _stderr_logger,
        cache_logger_on_first_use=False,
    )


def _stderr_logger(*_: object) -> structlog.PrintLogger:
    return structlog.PrintLogger(sys.stderr)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]


if not structlog.is_configured():
    # A library must not print to stdout: until the program configures logging, warnings
    # and worse go to stderr.
    configure_logging()
