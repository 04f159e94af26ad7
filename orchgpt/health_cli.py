"""``orchgpt health``: a probe for containers and Kubernetes (``exec`` probes). It asks the
standard gRPC health service over mutual TLS and prints one line; the exit status is 0
only when the answer is SERVING."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click


@click.command("health")
@click.option(
    "--orchestrator", "target", metavar="HOST:PORT",
    help="Where orchgpt listens [default: ORCHGPT_LISTEN, with localhost for a wildcard host].",
)  # fmt: skip
@click.option("--certs", type=click.Path(file_okay=False, path_type=Path), help="TLS folder [default: certs].")
@click.option("--cert-name", default="probe", show_default=True, help="Client certificate NAME.pem/NAME.key to use.")
@click.option("--service", default="", help="Service to ask about [default: the whole server].")
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds to wait for the answer.")
def health(target: str | None, certs: Path | None, cert_name: str, service: str, timeout: float) -> None:
    """Exit 0 when orchgpt reports SERVING, 1 otherwise (one line either way)."""
    from autogpt.cli.errors import exit_code_for, report
    from autogpt.errors import AutoGPTError
    from autogpt.net.link import TlsFiles
    from orchgpt.address import parse_address
    from orchgpt.config import load_orch_settings

    try:
        settings = load_orch_settings(certs=certs)
        if target is None:
            host, port = parse_address(settings.listen, "ORCHGPT_LISTEN")
            wildcard = host in ("0.0.0.0", "::")  # noqa: S104 - a wildcard listener is reached on localhost
            host = "localhost" if wildcard else host
            target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        files = TlsFiles.from_dir(settings.certs, cert_name)
        status = asyncio.run(_check(target, files, service, timeout))
    except AutoGPTError as exc:
        report(exc)
        sys.exit(exit_code_for(exc))
    click.echo(f"{target} {status}")
    sys.exit(0 if status == "SERVING" else 1)


async def _check(target: str, files: object, service: str, timeout: float) -> str:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from autogpt.net.link import TlsFiles

    assert isinstance(files, TlsFiles)
    async with grpc.aio.secure_channel(target, files.credentials()) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            return f"{exc.code().name}: {(exc.details() or '').splitlines()[0] if exc.details() else ''}".rstrip(": ")
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
