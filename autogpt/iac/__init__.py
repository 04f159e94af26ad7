"""The inter-agent protocol (IAC): envelopes, the Bus, routing, signing.

``PROTO`` is the protocol's source, shipped with the package so that clients in other
languages can generate their code from the exact version installed.
"""

from pathlib import Path

PROTO = Path(__file__).parent / "proto" / "iac" / "v1" / "iac.proto"
