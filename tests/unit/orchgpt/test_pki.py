"""The deployment PKI: what the files and certificates contain, and, above all, that a real
mutual-TLS gRPC server built from them admits exactly the clients of its own CA."""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from autogpt.agents.backend import BackendGPT
from autogpt.agents.git import GitGPT
from autogpt.agents.mailer import MailerGPT
from autogpt.errors import ConfigError
from orchgpt.pki import (
    AGENT_URI_PREFIX,
    CAPABILITIES_LISTED_URI,
    CAPABILITY_URI_PREFIX,
    Identity,
    identity_from_pem,
    init_pki,
    issue_client,
    list_certs,
    make_test_pki,
)
from orchgpt.servicer import granted_capabilities

CLIENTS = {"researcher-1": ["researcher"], "alice": ["user"], "multi": ["writer", "reviewer"]}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_pki(tmp_path_factory.mktemp("pki") / "certs", CLIENTS)


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second deployment: same names, same CA subject, different keys."""
    return make_test_pki(tmp_path_factory.mktemp("other") / "certs", {"researcher-1": ["researcher"]})


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _ext(cert: x509.Certificate, cls: type[Any]) -> Any:
    return cert.extensions.get_extension_for_class(cls).value


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _near(moment: dt.datetime, expected: dt.datetime) -> bool:
    return abs(moment - expected) < dt.timedelta(minutes=1)


# -- files and certificate contents -----------------------------------------------------


def test_init_writes_ca_and_server_files_with_private_modes(tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "certs"
    paths = init_pki(folder)

    assert (paths.cert, paths.key, paths.ca) == (folder / "server.pem", folder / "server.key", folder / "ca.pem")
    assert sorted(p.name for p in folder.iterdir()) == ["ca.key", "ca.pem", "server.key", "server.pem"]
    assert _mode(folder) == 0o700
    assert _mode(folder / "ca.key") == 0o600
    assert _mode(folder / "server.key") == 0o600
    for cert in ("ca.pem", "server.pem"):
        assert _mode(folder / cert) & 0o022 == 0  # nobody else may write a certificate
        assert _mode(folder / cert) & 0o400


def test_keys_are_unencrypted_pkcs8_p256(pki: Path) -> None:
    for name in ("ca", "server", "alice"):
        data = (pki / f"{name}.key").read_bytes()
        assert data.startswith(b"-----BEGIN " + b"PRIVATE KEY-----")  # split: no key-shaped text in git
        key = serialization.load_pem_private_key(data, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert isinstance(key.curve, ec.SECP256R1)
        assert key.public_key() == _cert(pki / f"{name}.pem").public_key()


def test_ca_is_a_constrained_self_signed_ca(pki: Path) -> None:
    ca = _cert(pki / "ca.pem")
    ca.verify_directly_issued_by(ca)
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "autogpt deployment CA"
    constraints = _ext(ca, x509.BasicConstraints)
    assert (constraints.ca, constraints.path_length) == (True, 0)
    usage = _ext(ca, x509.KeyUsage)
    assert (usage.key_cert_sign, usage.crl_sign, usage.digital_signature) == (True, True, False)
    assert isinstance(ca.signature_hash_algorithm, hashes.SHA256)
    assert _near(ca.not_valid_before_utc, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    assert _near(ca.not_valid_after_utc, dt.datetime.now(dt.UTC) + dt.timedelta(days=365))


def test_server_cert_is_issued_by_the_ca_for_localhost(pki: Path) -> None:
    ca, server = _cert(pki / "ca.pem"), _cert(pki / "server.pem")
    server.verify_directly_issued_by(ca)
    assert server.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "orchgpt"
    san = _ext(server, x509.SubjectAlternativeName)
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert list(_ext(server, x509.ExtendedKeyUsage)) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert _ext(server, x509.KeyUsage).digital_signature
    assert not _ext(server, x509.BasicConstraints).ca
    assert _near(server.not_valid_after_utc, dt.datetime.now(dt.UTC) + dt.timedelta(days=90))


def test_server_sans_are_ips_or_dns_names(tmp_path: Path) -> None:
    init_pki(tmp_path, sans=["orch.example.com", "10.0.0.5", "::1", "localhost", "localhost"])
    san = _ext(_cert(tmp_path / "server.pem"), x509.SubjectAlternativeName)
    assert san.get_values_for_type(x509.DNSName) == ["orch.example.com", "localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.0.0.5"), ipaddress.ip_address("::1")]


@pytest.mark.parametrize("sans", [["not a host"], [""], [], ["-bad.example"]])
def test_bad_server_names_are_refused(tmp_path: Path, sans: list[str]) -> None:
    with pytest.raises(ConfigError):
        init_pki(tmp_path / "certs", sans=sans)
    assert not (tmp_path / "certs").exists()


def test_client_cert_carries_name_and_roles(pki: Path) -> None:
    ca, client = _cert(pki / "ca.pem"), _cert(pki / "multi.pem")
    client.verify_directly_issued_by(ca)
    assert client.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "multi"
    assert list(_ext(client, x509.ExtendedKeyUsage)) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not _ext(client, x509.BasicConstraints).ca
    uris = _ext(client, x509.SubjectAlternativeName).get_values_for_type(x509.UniformResourceIdentifier)
    assert uris == [
        "urn:autogpt:agent:multi",
        "urn:autogpt:role:reviewer",
        "urn:autogpt:role:writer",
        "urn:autogpt:capabilities",  # roles no agent class serves: no capability granted
    ]
    assert _mode(pki / "multi.key") == 0o600

    identity = identity_from_pem((pki / "multi.pem").read_bytes())
    assert identity == Identity(
        name="multi",
        roles=frozenset({"writer", "reviewer"}),
        not_after=client.not_valid_after_utc,
        fingerprint=client.fingerprint(hashes.SHA256()).hex(),
        capabilities=frozenset(),
    )
    assert len(identity.fingerprint) == 64


def test_issue_returns_the_paths(tmp_path: Path) -> None:
    init_pki(tmp_path)
    paths = issue_client(tmp_path, "bob", ["user"])
    assert (paths.cert, paths.key, paths.ca) == (tmp_path / "bob.pem", tmp_path / "bob.key", tmp_path / "ca.pem")


def test_days_are_honoured(tmp_path: Path) -> None:
    init_pki(tmp_path, ca_days=400, server_days=10)
    issue_client(tmp_path, "bob", ["user"], days=7)
    now = dt.datetime.now(dt.UTC)
    assert _near(_cert(tmp_path / "ca.pem").not_valid_after_utc, now + dt.timedelta(days=400))
    assert _near(_cert(tmp_path / "server.pem").not_valid_after_utc, now + dt.timedelta(days=10))
    bob = _cert(tmp_path / "bob.pem")
    assert _near(bob.not_valid_after_utc, now + dt.timedelta(days=7))
    assert _near(bob.not_valid_before_utc, now - dt.timedelta(minutes=5))


def test_a_client_never_outlives_its_ca(tmp_path: Path) -> None:
    init_pki(tmp_path, ca_days=3, server_days=2)
    issue_client(tmp_path, "bob", ["user"], days=30)
    assert _cert(tmp_path / "bob.pem").not_valid_after_utc == _cert(tmp_path / "ca.pem").not_valid_after_utc


@pytest.mark.parametrize(
    ("ca_days", "server_days"), [(0, 1), (10, 0), (10, 11)], ids=["no-ca-days", "no-server-days", "server-outlives"]
)
def test_bad_validity_is_refused(tmp_path: Path, ca_days: int, server_days: int) -> None:
    with pytest.raises(ConfigError):
        init_pki(tmp_path / "certs", ca_days=ca_days, server_days=server_days)


@pytest.mark.parametrize(
    "name", ["", "Alice", "-dash", ".dot", "has space", "a/b", "../up", "x" * 64, "ca", "server", "ünï"]
)
def test_invalid_or_reserved_names_are_refused(pki: Path, name: str) -> None:
    with pytest.raises(ConfigError):
        issue_client(pki, name, ["user"])


@pytest.mark.parametrize("roles", [[], ["User"], ["1st"], ["_x"], ["a" * 33], ["ok", "not ok"], ["a:b"]])
def test_invalid_roles_are_refused(pki: Path, roles: list[str]) -> None:
    with pytest.raises(ConfigError):
        issue_client(pki, "bob", roles)
    assert not (pki / "bob.pem").exists()


def test_longest_valid_name_and_role_are_accepted(tmp_path: Path) -> None:
    init_pki(tmp_path)
    name, role = "a" + "b" * 62, "r" + "0" * 31
    issue_client(tmp_path, name, [role, "x_y-z"])
    assert identity_from_pem((tmp_path / f"{name}.pem").read_bytes()).roles == {role, "x_y-z"}


def test_missing_ca_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        issue_client(tmp_path, "bob", ["user"])
    assert "orchgpt certs init" in str(raised.value)
    (tmp_path / "ca.pem").write_text("")  # half a CA is no CA
    with pytest.raises(ConfigError, match="certs init"):
        issue_client(tmp_path, "bob", ["user"])


def test_a_ca_key_from_elsewhere_is_refused(tmp_path: Path, other_pki: Path) -> None:
    init_pki(tmp_path)
    (tmp_path / "ca.key").write_bytes((other_pki / "ca.key").read_bytes())
    with pytest.raises(ConfigError, match="does not belong"):
        issue_client(tmp_path, "bob", ["user"])


def test_init_refuses_to_replace_a_ca_without_force(tmp_path: Path) -> None:
    init_pki(tmp_path)
    issue_client(tmp_path, "bob", ["user"])
    before = (tmp_path / "ca.pem").read_bytes()
    with pytest.raises(ConfigError, match="already holds a CA"):
        init_pki(tmp_path)
    assert (tmp_path / "ca.pem").read_bytes() == before

    init_pki(tmp_path, force=True)
    new_ca = _cert(tmp_path / "ca.pem")
    assert new_ca.public_bytes(serialization.Encoding.PEM) != before
    with pytest.raises(InvalidSignature):  # the old CA's clients are cut off
        _cert(tmp_path / "bob.pem").verify_directly_issued_by(new_ca)


def test_issue_refuses_to_replace_a_client_without_force(tmp_path: Path) -> None:
    init_pki(tmp_path)
    issue_client(tmp_path, "bob", ["user"])
    first = (tmp_path / "bob.pem").read_bytes()
    with pytest.raises(ConfigError, match="already exists"):
        issue_client(tmp_path, "bob", ["admin"])
    assert (tmp_path / "bob.pem").read_bytes() == first

    (tmp_path / "bob.key").chmod(0o644)  # somebody loosened it; a reissue must not keep that
    issue_client(tmp_path, "bob", ["admin"], force=True)
    assert identity_from_pem((tmp_path / "bob.pem").read_bytes()).roles == {"admin"}
    assert _mode(tmp_path / "bob.key") == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_list_shows_every_certificate_with_kind_and_roles(pki: Path) -> None:
    (pki / "notes.pem").write_text("not a certificate")  # ignored, not fatal
    try:
        infos = list_certs(pki)
    finally:
        (pki / "notes.pem").unlink()
    summary = [(i.file, i.name, i.kind, i.roles, i.expired) for i in infos]
    assert summary == [
        ("ca.pem", "autogpt deployment CA", "ca", frozenset(), False),
        ("server.pem", "orchgpt", "server", frozenset(), False),
        ("alice.pem", "alice", "client", frozenset({"user"}), False),
        ("multi.pem", "multi", "client", frozenset({"writer", "reviewer"}), False),
        ("researcher-1.pem", "researcher-1", "client", frozenset({"researcher"}), False),
    ]
    alice = infos[2]
    assert alice.fingerprint == _cert(pki / "alice.pem").fingerprint(hashes.SHA256()).hex()
    assert alice.short_fingerprint == alice.fingerprint[:16]


def test_list_marks_expired_certificates(tmp_path: Path) -> None:
    init_pki(tmp_path)
    ca_key = serialization.load_pem_private_key((tmp_path / "ca.key").read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    old = _client_cert(_cert(tmp_path / "ca.pem").subject, ca_key, cn="old", days=-1)
    (tmp_path / "old.pem").write_bytes(old.public_bytes(serialization.Encoding.PEM))
    expired = {i.name: i.expired for i in list_certs(tmp_path)}
    assert expired == {"autogpt deployment CA": False, "orchgpt": False, "old": True}


def test_list_of_a_missing_folder_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no PKI folder"):
        list_certs(tmp_path / "nowhere")


def test_a_cert_from_another_pki_does_not_verify(pki: Path, other_pki: Path) -> None:
    ca = _cert(pki / "ca.pem")
    for name in ("researcher-1.pem", "server.pem", "ca.pem"):
        with pytest.raises(InvalidSignature):
            _cert(other_pki / name).verify_directly_issued_by(ca)


# -- identity_from_pem on certificates issue_client would never make ---------------------


def _client_cert(
    issuer: x509.Name | None,
    key: ec.EllipticCurvePrivateKey | None = None,
    *,
    cn: str | None,
    uris: tuple[str, ...] = (),
    days: int = 1,
    eku: bool = True,
) -> x509.Certificate:
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else [])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=10))
        .not_valid_after(now + dt.timedelta(days=days))
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    if uris:
        names = [x509.UniformResourceIdentifier(u) for u in uris]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def test_identity_falls_back_to_the_agent_uri() -> None:
    cert = _client_cert(None, cn=None, uris=(AGENT_URI_PREFIX + "bob", "urn:autogpt:role:user", "https://x"))
    assert identity_from_pem(_pem(cert)).name == "bob"
    assert identity_from_pem(_pem(cert)).roles == {"user"}


@pytest.mark.parametrize(
    ("cert_args", "message"),
    [
        ({"cn": None, "uris": ("urn:autogpt:role:user",)}, "names no agent"),
        ({"cn": "Not A Name"}, "not a valid agent name"),
        ({"cn": "bob", "eku": False}, "not a client certificate"),
    ],
    ids=["no-name", "bad-name", "no-client-eku"],
)
def test_identity_refuses_odd_certificates(cert_args: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        identity_from_pem(_pem(_client_cert(None, **cert_args)))


@pytest.mark.parametrize("name", ["ca.pem", "server.pem"])
def test_identity_refuses_ca_and_server_certificates(pki: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="not a client certificate"):
        identity_from_pem((pki / name).read_bytes())


def test_identity_refuses_garbage() -> None:
    with pytest.raises(ConfigError, match="not a PEM certificate"):
        identity_from_pem(b"hello")


# -- a real mutual-TLS gRPC server ------------------------------------------------------


_AioHealthServicer: Any = health.aio.HealthServicer  # type: ignore[attr-defined]  # grpc-stubs lack .aio


class _RecordingHealth(_AioHealthServicer):  # type: ignore[misc]
    """The standard health service, remembering who called (the TLS peer certificate)."""

    def __init__(self) -> None:
        super().__init__()
        self.auth: list[dict[str, list[bytes]]] = []

    async def Check(self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        self.auth.append({key: list(values) for key, values in context.auth_context().items()})
        return await super().Check(request, context)


@pytest.fixture
async def tls_server(pki: Path) -> AsyncIterator[tuple[int, _RecordingHealth]]:
    server = grpc.aio.server()
    servicer = _RecordingHealth()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    creds = grpc.ssl_server_credentials(
        [((pki / "server.key").read_bytes(), (pki / "server.pem").read_bytes())],
        root_certificates=(pki / "ca.pem").read_bytes(),
        require_client_auth=True,
    )
    port = server.add_secure_port("127.0.0.1:0", creds)
    await server.start()
    try:
        yield port, servicer
    finally:
        await server.stop(None)


def _client_creds(ca_folder: Path, client_folder: Path | None = None, name: str = "") -> grpc.ChannelCredentials:
    ca = (ca_folder / "ca.pem").read_bytes()
    if client_folder is None:
        return grpc.ssl_channel_credentials(root_certificates=ca)
    key, chain = (client_folder / f"{name}.key").read_bytes(), (client_folder / f"{name}.pem").read_bytes()
    return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=chain)


async def _check(channel: grpc.aio.Channel) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=5, wait_for_ready=False)
    return int(reply.status)


async def _check_secure(port: int, creds: grpc.ChannelCredentials, host: str = "localhost") -> int:
    async with grpc.aio.secure_channel(f"{host}:{port}", creds) as channel:
        return await _check(channel)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
async def test_a_client_of_this_pki_is_served(pki: Path, tls_server: tuple[int, _RecordingHealth], host: str) -> None:
    port, _ = tls_server
    status = await _check_secure(port, _client_creds(pki, pki, "researcher-1"), host)
    assert status == health_pb2.HealthCheckResponse.SERVING


async def test_the_servicer_sees_the_verified_identity(pki: Path, tls_server: tuple[int, _RecordingHealth]) -> None:
    port, servicer = tls_server
    await _check_secure(port, _client_creds(pki, pki, "multi"))
    [auth] = servicer.auth
    assert auth["transport_security_type"] == [b"ssl"]
    [pem] = auth["x509_pem_cert"]
    identity = identity_from_pem(pem)
    assert identity.name == "multi"
    assert identity.roles == {"writer", "reviewer"}
    assert identity.fingerprint == _cert(pki / "multi.pem").fingerprint(hashes.SHA256()).hex()


async def _assert_refused(call: Any) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_client_of_another_pki_is_refused(
    pki: Path, other_pki: Path, tls_server: tuple[int, _RecordingHealth]
) -> None:
    port, servicer = tls_server
    await _assert_refused(_check_secure(port, _client_creds(pki, other_pki, "researcher-1")))
    assert servicer.auth == []


async def test_a_client_without_a_certificate_is_refused(pki: Path, tls_server: tuple[int, _RecordingHealth]) -> None:
    port, servicer = tls_server
    await _assert_refused(_check_secure(port, _client_creds(pki)))
    assert servicer.auth == []


async def test_the_server_certificate_does_not_work_as_a_client_certificate(
    pki: Path, tls_server: tuple[int, _RecordingHealth]
) -> None:
    port, servicer = tls_server
    await _assert_refused(_check_secure(port, _client_creds(pki, pki, "server")))
    assert servicer.auth == []


async def test_a_plaintext_client_is_refused(tls_server: tuple[int, _RecordingHealth]) -> None:
    port, servicer = tls_server
    async with grpc.aio.insecure_channel(f"localhost:{port}") as channel:
        await _assert_refused(_check(channel))
    assert servicer.auth == []


async def test_a_client_trusting_another_ca_refuses_the_server(
    pki: Path, other_pki: Path, tls_server: tuple[int, _RecordingHealth]
) -> None:
    port, servicer = tls_server
    await _assert_refused(_check_secure(port, _client_creds(other_pki, other_pki, "researcher-1")))
    assert servicer.auth == []


# -- capabilities ------------------------------------------------------------------------


def test_capabilities_are_written_like_roles_and_default_to_the_roles_agents(tmp_path: Path) -> None:
    init_pki(tmp_path)
    issue_client(tmp_path, "narrow", ["generic"], capabilities=["llm.chat", "llm.chat", "mcp.call"])
    issue_client(tmp_path, "back", ["backend"])
    issue_client(tmp_path, "both", ["git", "mailer"])
    issue_client(tmp_path, "bob", ["user"])
    issue_client(tmp_path, "bare", ["backend"], capabilities=[])

    def caps(name: str) -> frozenset[str] | None:
        return identity_from_pem((tmp_path / f"{name}.pem").read_bytes()).capabilities

    uris = _ext(_cert(tmp_path / "narrow.pem"), x509.SubjectAlternativeName).get_values_for_type(
        x509.UniformResourceIdentifier
    )
    assert uris[-3:] == [
        CAPABILITIES_LISTED_URI,
        CAPABILITY_URI_PREFIX + "llm.chat",
        CAPABILITY_URI_PREFIX + "mcp.call",
    ]
    assert caps("narrow") == {"llm.chat", "mcp.call"}
    assert caps("back") == BackendGPT.capabilities | {"memory.read", "memory.write"}
    assert caps("both") == GitGPT.capabilities | MailerGPT.capabilities | {"memory.read"}  # mail may not write
    assert caps("bob") == frozenset()
    assert caps("bare") == frozenset()
    assert {c.name: c.capabilities for c in list_certs(tmp_path) if c.kind == "client"}["narrow"] == {
        "llm.chat",
        "mcp.call",
    }


@pytest.mark.parametrize("capability", ["", "a b", "-x", "c" * 65, "x/y", "é"])
def test_invalid_capabilities_are_refused(tmp_path: Path, capability: str) -> None:
    init_pki(tmp_path)
    with pytest.raises(ConfigError, match="invalid capability"):
        issue_client(tmp_path, "bob", ["generic"], capabilities=[capability])
    assert not (tmp_path / "bob.pem").exists()


def test_an_older_certificate_without_capabilities_grants_its_roles_agents() -> None:
    """Certificates issued before capabilities were written keep working: no marker means
    None, which the orchestrator reads as what the roles' agent classes declare, and the
    shared-memory grants of those roles."""
    roles = ("urn:autogpt:role:backend", "urn:autogpt:role:user")
    old = identity_from_pem(_pem(_client_cert(None, cn="old", uris=roles)))
    assert old.capabilities is None
    memory = {"memory.read", "memory.write"}
    assert granted_capabilities(old.roles, old.capabilities) == BackendGPT.capabilities | memory
    assert granted_capabilities(frozenset({"user", "nobody"}), None) == frozenset()
    # a listed (even empty) set is taken as it is, and stray capability URIs without the marker are ignored
    marked = identity_from_pem(_pem(_client_cert(None, cn="new", uris=(*roles, CAPABILITIES_LISTED_URI))))
    assert granted_capabilities(marked.roles, marked.capabilities) == frozenset()
    stray = identity_from_pem(_pem(_client_cert(None, cn="x", uris=(*roles, CAPABILITY_URI_PREFIX + "root"))))
    assert stray.capabilities is None
