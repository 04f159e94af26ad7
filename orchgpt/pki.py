"""A private PKI for mutual TLS between the orchestrator and its agent processes.

Why: every connection to the orchestrator is mutual TLS, so each side proves who it is
with a certificate from the deployment's own CA; nothing else (no shared token, no
client-supplied header) establishes identity. The agent's *roles* are written into its
certificate as SAN URIs (``urn:autogpt:role:<role>``), so the orchestrator reads them
from the verified peer certificate and never trusts a role a client merely claims.
The *capabilities* the holder may announce at Register are written the same way
(``urn:autogpt:capability:<capability>``), next to the marker ``urn:autogpt:capabilities``
that says the list is complete (possibly empty). A certificate without the marker was
issued before capabilities were written: :attr:`Identity.capabilities` is then None and
the orchestrator grants the capabilities its roles' agent classes declare.
Whoever holds ``ca.key`` decides who may join and as what.

Everything is ECDSA P-256 with SHA-256 signatures: small, fast to generate, and handled
well by gRPC's BoringSSL.

Validity defaults are short on purpose, because nothing here publishes revocation
lists: CA 365 days, server 90 days, clients 30 days. A leaked client key is only
useful until its certificate expires; reissuing is one command. Every certificate is
valid from five minutes in the past so that small clock skew between machines does not
reject a certificate that was just issued. A leaf never outlives its CA.

Files in the folder: ``ca.pem``/``ca.key``, ``server.pem``/``server.key`` and one
``<name>.pem``/``<name>.key`` pair per client. Keys are unencrypted PKCS8 PEM created
with mode 0600 (never loosened and tightened later); certificates are 0644.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from autogpt.errors import ConfigError

CA_NAME = "autogpt deployment CA"
SERVER_NAME = "orchgpt"
ROLE_URI_PREFIX = "urn:autogpt:role:"
AGENT_URI_PREFIX = "urn:autogpt:agent:"
CAPABILITY_URI_PREFIX = "urn:autogpt:capability:"
CAPABILITIES_LISTED_URI = "urn:autogpt:capabilities"
RESERVED_NAMES = frozenset({"ca", "server", "router"})
CLOCK_SKEW = dt.timedelta(minutes=5)

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_ROLE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_CAPABILITY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_DNS_RE = re.compile(
    r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_INIT_HINT = "run `orchgpt certs init` first"

CertKind = Literal["ca", "server", "client"]
_E = TypeVar("_E", bound=x509.ExtensionType)
_Key = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class PkiPaths:
    """Where one certificate, its key and the CA that signed it live."""

    cert: Path
    key: Path
    ca: Path


@dataclass(frozen=True)
class Identity:
    """Who a verified client certificate says the peer is; the only source of roles."""

    name: str
    roles: frozenset[str]
    not_after: dt.datetime
    fingerprint: str  # sha256 of the DER, lowercase hex
    capabilities: frozenset[str] | None = None  # None: an older certificate that lists none


@dataclass(frozen=True)
class CertInfo:
    """One certificate in a PKI folder, for ``orchgpt certs list``."""

    file: str
    name: str
    kind: CertKind
    roles: frozenset[str]
    not_after: dt.datetime
    expired: bool
    fingerprint: str
    capabilities: frozenset[str] | None = None

    @property
    def short_fingerprint(self) -> str:
        return self.fingerprint[:16]


def init_pki(
    folder: Path,
    *,
    sans: Sequence[str] = ("localhost", "127.0.0.1"),
    ca_days: int = 365,
    server_days: int = 90,
    force: bool = False,
) -> PkiPaths:
    """Create a new CA and the orchestrator's server certificate in ``folder``.

    Re-running with ``force=True`` makes a *new* CA: every certificate issued by the old
    one stops verifying, which is the way to revoke everything at once.
    """
    _check_days(ca_days, "CA")
    _check_days(server_days, "server")
    if server_days > ca_days:
        raise ConfigError(f"the server certificate ({server_days} days) would outlive the CA ({ca_days} days)")
    names = _parse_sans(sans)
    paths = PkiPaths(cert=folder / "server.pem", key=folder / "server.key", ca=folder / "ca.pem")
    if not force and (paths.ca.exists() or (folder / "ca.key").exists()):
        raise ConfigError(f"{folder} already holds a CA", hint="--force replaces it; all its certificates stop working")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_exts = [x509.BasicConstraints(ca=True, path_length=0), _key_usage(cert_sign=True)]
    ca_cert = _sign(CA_NAME, ca_key, None, _now() + dt.timedelta(days=ca_days), ca_exts)
    server_exts = [x509.SubjectAlternativeName(names), x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])]
    until = _now() + dt.timedelta(days=server_days)
    server_cert = _sign(SERVER_NAME, server_key, (ca_cert, ca_key), until, server_exts)
    _save(paths.ca, folder / "ca.key", ca_cert, ca_key)
    _save(paths.cert, paths.key, server_cert, server_key)
    return paths


def issue_client(
    folder: Path,
    name: str,
    roles: Sequence[str],
    *,
    capabilities: Sequence[str] | None = None,
    days: int = 30,
    force: bool = False,
) -> PkiPaths:
    """Issue the client certificate of agent (or console) ``name`` carrying ``roles`` and
    granting ``capabilities``: by default what the agent classes of its roles declare
    (:func:`autogpt.agents.catalog.default_capabilities`), none if empty.

    The validity is cut to the CA's own end if the CA expires sooner.
    """
    _check(_NAME_RE, name, "certificate name", "1-63 of a-z 0-9 _ . - starting with a letter or digit")
    if name in RESERVED_NAMES:
        raise ConfigError(f"the name {name!r} is reserved", hint="pick another name")
    if not roles:
        raise ConfigError(f"no role given for {name!r}", hint="pass at least one --role")
    for role in roles:
        _check(_ROLE_RE, role, "role", "1-32 of a-z 0-9 _ - starting with a letter")
    if capabilities is None:
        from autogpt.agents.catalog import default_capabilities

        capabilities = sorted(default_capabilities(roles))
    for capability in capabilities:
        _check(_CAPABILITY_RE, capability, "capability", "1-64 of A-Z a-z 0-9 _ . : - starting with a letter or digit")
    _check_days(days, "client")
    ca_cert, ca_key = _load_ca(folder)
    paths = PkiPaths(cert=folder / f"{name}.pem", key=folder / f"{name}.key", ca=folder / "ca.pem")
    if not force and (paths.cert.exists() or paths.key.exists()):
        raise ConfigError(f"a certificate for {name!r} already exists in {folder}", hint="pass --force to reissue it")
    now = _now()
    if ca_cert.not_valid_after_utc <= now:
        raise ConfigError(f"the CA in {folder} has expired", hint="run `orchgpt certs init --force` for a new one")
    until = min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc)
    uris = [AGENT_URI_PREFIX + name] + [ROLE_URI_PREFIX + role for role in sorted(set(roles))]
    uris += [CAPABILITIES_LISTED_URI] + [CAPABILITY_URI_PREFIX + c for c in sorted(set(capabilities))]
    san = x509.SubjectAlternativeName([x509.UniformResourceIdentifier(u) for u in uris])
    exts = [san, x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])]
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _sign(name, key, (ca_cert, ca_key), until, exts)
    _save(paths.cert, paths.key, cert, key)
    return paths


def identity_from_pem(pem: bytes) -> Identity:
    """Read the identity out of a client certificate that TLS has already verified.

    ``pem`` is what gRPC puts under ``x509_pem_cert`` in the auth context. This does not
    check the signature (the handshake did); it refuses certificates that are not client
    certificates, so a server or CA certificate can never pass as an agent.
    """
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise ConfigError(f"not a PEM certificate: {exc}") from None
    usages = _ext(cert, x509.ExtendedKeyUsage)
    if _kind(cert) != "client" or usages is None or ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        raise ConfigError("not a client certificate (a CA, or no clientAuth usage)")
    uris = _uris(cert)
    agents = [u.removeprefix(AGENT_URI_PREFIX) for u in uris if u.startswith(AGENT_URI_PREFIX)]
    name = _common_name(cert) or (agents[0] if agents else None)
    if not name:
        raise ConfigError("the client certificate names no agent (no CN, no agent URI)")
    if not _NAME_RE.match(name):
        raise ConfigError(f"the client certificate's name {name!r} is not a valid agent name")
    return Identity(name, _roles(uris), cert.not_valid_after_utc, _fingerprint(cert), _capabilities(uris))


def list_certs(folder: Path) -> list[CertInfo]:
    """Every certificate in ``folder``: CA first, then the server, then clients by name.

    Files ending in ``.pem`` that do not hold a certificate are skipped.
    """
    if not folder.is_dir():
        raise ConfigError(f"no PKI folder at {folder}", hint=_INIT_HINT)
    now = _now()
    found: list[CertInfo] = []
    for path in sorted(folder.glob("*.pem")):
        try:
            cert = x509.load_pem_x509_certificate(path.read_bytes())
        except ValueError:
            continue
        end = cert.not_valid_after_utc
        uris = _uris(cert)
        name, kind, roles = _common_name(cert) or path.stem, _kind(cert), _roles(uris)
        caps = _capabilities(uris) if kind == "client" else None
        found.append(CertInfo(path.name, name, kind, roles, end, end <= now, _fingerprint(cert), caps))
    order = {"ca": 0, "server": 1, "client": 2}
    return sorted(found, key=lambda c: (order[c.kind], c.name, c.file))


def make_test_pki(folder: Path, clients: Mapping[str, Sequence[str]]) -> Path:
    """A CA, a localhost server certificate and one certificate per ``{name: roles}``
    granting its roles' default capabilities; for tests and one-machine teams."""
    init_pki(folder)
    for name, roles in clients.items():
        issue_client(folder, name, roles)
    return folder


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _check(pattern: re.Pattern[str], value: str, what: str, rule: str) -> None:
    if not pattern.match(value):
        raise ConfigError(f"invalid {what} {value!r}", hint=f"use {rule}")


def _check_days(days: int, what: str) -> None:
    if days < 1:
        raise ConfigError(f"the {what} validity must be at least one day, not {days}")


def _parse_sans(sans: Sequence[str]) -> list[x509.GeneralName]:
    """IP addresses become IP SANs, anything else must be a DNS name."""
    names: list[x509.GeneralName] = []
    for raw in dict.fromkeys(s.strip() for s in sans):
        with contextlib.suppress(ValueError):
            names.append(x509.IPAddress(ipaddress.ip_address(raw)))
            continue
        if len(raw) > 253 or not _DNS_RE.match(raw):
            raise ConfigError(f"invalid server name {raw!r}", hint="give a DNS name or an IP address")
        names.append(x509.DNSName(raw.lower()))
    if not names:
        raise ConfigError("the server certificate needs at least one name", hint="pass --san HOST_OR_IP")
    return names


def _sign(
    cn: str, key: _Key, ca: tuple[x509.Certificate, _Key] | None, until: dt.datetime, exts: Sequence[x509.ExtensionType]
) -> x509.Certificate:
    """One certificate, self-signed when ``ca`` is None. A leaf gets CA=false, keyUsage
    digitalSignature only, and an authority key id; only those two are critical."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca[0].subject if ca else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - CLOCK_SKEW)
        .not_valid_after(until)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca is not None:
        ca_ski = ca[0].extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
        exts = [x509.BasicConstraints(ca=False, path_length=None), _key_usage(cert_sign=False), aki, *exts]
    for ext in exts:
        builder = builder.add_extension(ext, critical=isinstance(ext, x509.BasicConstraints | x509.KeyUsage))
    return builder.sign(ca[1] if ca else key, hashes.SHA256())


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    """CAs only sign certificates (and CRLs); leaves only sign handshakes. The arguments:
    digital_signature, content_commitment, key/data encipherment, key_agreement,
    key_cert_sign, crl_sign, encipher_only, decipher_only."""
    return x509.KeyUsage(not cert_sign, False, False, False, False, cert_sign, cert_sign, False, False)


def _load_ca(folder: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = folder / "ca.pem", folder / "ca.key"
    if not cert_path.is_file() or not key_path.is_file():
        raise ConfigError(f"no CA in {folder} (ca.pem and ca.key)", hint=_INIT_HINT)
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"the CA in {folder} is unreadable: {exc}", hint=_INIT_HINT) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        raise ConfigError(f"ca.key in {folder} does not belong to ca.pem", hint=_INIT_HINT + " (with --force)")
    return cert, key


def _save(cert_path: Path, key_path: Path, cert: x509.Certificate, key: _Key) -> None:
    pem, pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    _write(key_path, key.private_bytes(pem, pkcs8, serialization.NoEncryption()), 0o600)
    _write(cert_path, cert.public_bytes(pem), 0o644)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Create a fresh file with ``mode`` and rename it into place: a key is never readable
    by others, not even for a moment, and a reissue replaces the old file (and its mode)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _common_name(cert: x509.Certificate) -> str | None:
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = attrs[0].value if attrs else None
    return value if isinstance(value, str) and value else None


def _uris(cert: x509.Certificate) -> list[str]:
    san = _ext(cert, x509.SubjectAlternativeName)
    return san.get_values_for_type(x509.UniformResourceIdentifier) if san is not None else []


def _roles(uris: Sequence[str]) -> frozenset[str]:
    found = (u.removeprefix(ROLE_URI_PREFIX) for u in uris if u.startswith(ROLE_URI_PREFIX))
    return frozenset(r for r in found if _ROLE_RE.match(r))


def _capabilities(uris: Sequence[str]) -> frozenset[str] | None:
    """The capabilities listed, or None when the certificate has no marker (an older one)."""
    if CAPABILITIES_LISTED_URI not in uris:
        return None
    found = (u.removeprefix(CAPABILITY_URI_PREFIX) for u in uris if u.startswith(CAPABILITY_URI_PREFIX))
    return frozenset(c for c in found if _CAPABILITY_RE.match(c))


def _ext(cert: x509.Certificate, cls: type[_E]) -> _E | None:
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def _kind(cert: x509.Certificate) -> CertKind:
    """CA by basicConstraints, server or client by extendedKeyUsage (client if unsure)."""
    constraints, usages = _ext(cert, x509.BasicConstraints), _ext(cert, x509.ExtendedKeyUsage)
    if constraints is not None and constraints.ca:
        return "ca"
    return "server" if usages is not None and ExtendedKeyUsageOID.SERVER_AUTH in usages else "client"
