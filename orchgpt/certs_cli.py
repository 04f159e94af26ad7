"""``orchgpt certs``: make and inspect the deployment's private PKI (see :mod:`orchgpt.pki`).

``orchgpt.pki`` (and with it ``cryptography``) is imported inside each command so that
``orchgpt --help`` and the other commands do not pay for it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

if TYPE_CHECKING:
    from orchgpt.pki import CertInfo

_P = ParamSpec("_P")
_R = TypeVar("_R")

DEFAULT_SANS = ("localhost", "127.0.0.1")

_dir_option = click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("certs"),
    show_default=True,
    help="The deployment's PKI folder.",
)


def _reporting(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Project errors become ``error:``/``hint:`` lines and exit code 2, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        from autogpt.cli.errors import exit_code_for, report
        from autogpt.errors import AutoGPTError

        try:
            return func(*args, **kwargs)
        except AutoGPTError as exc:
            report(exc)
            raise click.exceptions.Exit(exit_code_for(exc)) from None

    return wrapper


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@click.group()
def certs() -> None:
    """The deployment's private CA and the certificates for mutual TLS.

    The orchestrator and every agent authenticate each other with certificates from
    this CA; an agent's roles are written into its certificate.
    """


@certs.command("init")
@_dir_option
@click.option(
    "--san",
    "sans",
    multiple=True,
    metavar="NAME_OR_IP",
    help="Another DNS name or IP address agents use to reach the orchestrator (repeatable; "
    "localhost and 127.0.0.1 are always included).",
)
@click.option("--days", default=365, show_default=True, type=click.IntRange(min=1), help="CA validity in days.")
@click.option(
    "--server-days", default=90, show_default=True, type=click.IntRange(min=1), help="Server certificate validity."
)
@click.option("--force", is_flag=True, help="Replace an existing CA (every certificate it issued stops working).")
@_reporting
def init_command(folder: Path, sans: tuple[str, ...], days: int, server_days: int, force: bool) -> None:
    """Create the CA (ca.pem, ca.key) and the orchestrator's certificate (server.pem, server.key)."""
    from orchgpt.pki import init_pki, list_certs

    paths = init_pki(folder, sans=(*DEFAULT_SANS, *sans), ca_days=days, server_days=server_days, force=force)
    infos = {info.file: info for info in list_certs(folder)}
    ca, server = infos[paths.ca.name], infos[paths.cert.name]
    click.echo(f"CA:      {paths.ca}  (key {folder / 'ca.key'})  valid until {_when(ca.not_after)}")
    click.echo(f"server:  {paths.cert}  (key {paths.key})  valid until {_when(server.not_after)}")
    click.echo(f"         names: {', '.join(dict.fromkeys((*DEFAULT_SANS, *sans)))}")
    click.echo("keep ca.key secret: whoever has it can issue certificates for any role")
    click.echo(f"next: orchgpt certs issue NAME --role ROLE --dir {folder}")


@certs.command("issue")
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="A role the holder may act as (repeatable; at least one).",
)
@click.option(
    "--capability",
    "capabilities",
    multiple=True,
    help="A capability the holder may announce (repeatable). Without it the certificate grants "
    "what the agents of its roles declare; `user` needs none.",
)
@click.option("--no-capabilities", is_flag=True, help="Grant no capability at all.")
@_dir_option
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=1), help="Validity in days.")
@click.option("--force", is_flag=True, help="Reissue a certificate that already exists under NAME.")
@_reporting
def issue_command(
    name: str,
    roles: tuple[str, ...],
    capabilities: tuple[str, ...],
    no_capabilities: bool,
    folder: Path,
    days: int,
    force: bool,
) -> None:
    """Issue a client certificate for NAME (an agent or a person's console): NAME.pem, NAME.key.

    The roles are written into the certificate and the orchestrator only lets the holder
    register under one of them. Agents get the roles they serve, e.g. `--role researcher`.
    Consoles, through which people talk to the team, register as the role `user`, so a
    person's certificate needs `--role user`.

    The capabilities are written in too: the orchestrator refuses a Register announcing
    a capability the certificate does not grant. By default a certificate grants what the
    agent classes of its roles declare (none for `user`).

    \b
    Examples:
      orchgpt certs issue researcher-1 --role researcher --capability llm.chat
      orchgpt certs issue backend-1 --role backend
      orchgpt certs issue alice --role user
    """
    from autogpt.errors import ConfigError
    from orchgpt.pki import identity_from_pem, issue_client

    if no_capabilities and capabilities:
        raise ConfigError("--no-capabilities and --capability exclude each other")
    granted = () if no_capabilities else (capabilities or None)
    paths = issue_client(folder, name, roles, capabilities=granted, days=days, force=force)
    identity = identity_from_pem(paths.cert.read_bytes())
    click.echo(f"certificate: {paths.cert}")
    click.echo(f"key:         {paths.key}  (give it only to {name})")
    click.echo(f"CA:          {paths.ca}")
    click.echo(f"roles:       {', '.join(sorted(identity.roles))}")
    click.echo(f"capabilities: {', '.join(sorted(identity.capabilities or ())) or 'none'}")
    if granted is None:
        from autogpt.agents.catalog import USER_ROLE, role_capabilities

        unknown = sorted(r for r in set(roles) if r != USER_ROLE and not role_capabilities(r))
        if unknown:
            click.echo(
                f"note: no agent known here declares capabilities for {', '.join(unknown)}; "
                "pass --capability for each one its agent announces, or it will be refused",
                err=True,
            )
    click.echo(f"valid until: {_when(identity.not_after)}")


@certs.command("list")
@_dir_option
@_reporting
def list_command(folder: Path) -> None:
    """Show every certificate in the folder with its kind, roles, capabilities, expiry and fingerprint."""
    from orchgpt.pki import list_certs

    infos = list_certs(folder)
    if not infos:
        click.echo(f"no certificates in {folder}")
        return
    click.echo(_table(infos))
    if any(info.expired for info in infos):
        click.echo("expired certificates no longer connect; reissue them with --force", err=True)


def _capabilities(info: CertInfo) -> str:
    """The capabilities a client certificate grants; ``(roles)`` for an older one that lists
    none, which grants what its roles' agents declare."""
    if info.kind != "client":
        return "-"
    if info.capabilities is None:
        return "(roles)"
    return ",".join(sorted(info.capabilities)) or "-"


def _table(infos: list[CertInfo]) -> str:
    header = ("NAME", "KIND", "ROLES", "CAPABILITIES", "EXPIRES", "FINGERPRINT")
    rows = [
        (
            info.name,
            info.kind,
            ",".join(sorted(info.roles)) or "-",
            _capabilities(info),
            _when(info.not_after) + (" EXPIRED" if info.expired else ""),
            info.short_fingerprint,
        )
        for info in infos
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]
    )
