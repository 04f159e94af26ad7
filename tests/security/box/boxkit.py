"""Helpers the box attack tests share (a plain module: ``conftest`` names are not unique)."""

from __future__ import annotations

from pathlib import Path


def hostile_script(marker: Path) -> str:
    """What hostile code would ask the host to run: it leaves ``marker`` behind."""
    return f"#!/bin/sh\ntouch {marker}\n"


def escaped(marker: Path) -> bool:
    """Whether an attack left its mark on the host."""
    return marker.exists()
