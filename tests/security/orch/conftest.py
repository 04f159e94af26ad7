"""Fixtures for attacks on orchgpt: the integration suite's real orchestrators (port 0,
mutual TLS, a PKI made per test) and its :class:`Net` helper, loaded from
``tests/integration/conftest.py`` under a name of their own (attack tools: ``attack.py``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_SOURCE = Path(__file__).resolve().parents[2] / "integration" / "conftest.py"
_spec = importlib.util.spec_from_file_location("_orch_attack_fixtures", _SOURCE)
assert _spec is not None
assert _spec.loader is not None
shared = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = shared
_spec.loader.exec_module(shared)

pki = shared.pki
orchestrator_factory = shared.orchestrator_factory
orchestrator = shared.orchestrator
net = shared.net
Net = shared.Net
RawStream = shared.RawStream
StartOrchestrator = shared.StartOrchestrator
