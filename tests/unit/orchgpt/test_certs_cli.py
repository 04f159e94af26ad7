"""``orchgpt certs``: init, issue, list from the command line; errors are one line plus a
hint on stderr and exit code 2."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result
from cryptography import x509

from orchgpt.cli import cli
from orchgpt.pki import identity_from_pem


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["certs", *args])


def test_init_issue_list(tmp_path: Path) -> None:
    folder = tmp_path / "certs"
    init = _run("init", "--dir", str(folder), "--san", "orch.example.com", "--san", "10.0.0.5")
    assert init.exit_code == 0, init.output
    for text in ("ca.pem", "server.pem", "valid until"):
        assert text in init.stdout
    assert "localhost, 127.0.0.1, orch.example.com, 10.0.0.5" in init.stdout
    server = x509.load_pem_x509_certificate((folder / "server.pem").read_bytes())
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "orch.example.com"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address(a) for a in ("127.0.0.1", "10.0.0.5")]

    issue = _run("issue", "writer-1", "--role", "writer", "--role", "reviewer", "--dir", str(folder), "--days", "3")
    assert issue.exit_code == 0, issue.output
    assert str(folder / "writer-1.pem") in issue.stdout
    assert str(folder / "writer-1.key") in issue.stdout
    assert "reviewer, writer" in issue.stdout
    assert identity_from_pem((folder / "writer-1.pem").read_bytes()).roles == {"writer", "reviewer"}
    assert _run("issue", "alice", "--role", "user", "--dir", str(folder)).exit_code == 0

    listing = _run("list", "--dir", str(folder))
    assert listing.exit_code == 0, listing.output
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "ROLES", "CAPABILITIES", "EXPIRES", "FINGERPRINT"]
    assert [line.split()[0] for line in lines[1:]] == ["autogpt", "orchgpt", "alice", "writer-1"]
    assert "reviewer,writer" in lines[4]
    assert [line.split()[-7] for line in lines[1:]] == ["ca", "server", "client", "client"]
    assert "EXPIRED" not in listing.stdout


def test_default_dir_is_certs_in_the_working_directory(tmp_path: Path) -> None:
    # the suite's conftest runs every test in its own tmp_path
    assert _run("init").exit_code == 0
    assert (tmp_path / "certs" / "ca.pem").is_file()
    assert _run("issue", "bob", "--role", "user").exit_code == 0
    assert (tmp_path / "certs" / "bob.key").is_file()


def test_issue_without_ca_is_a_usage_error_with_a_hint(tmp_path: Path) -> None:
    result = _run("issue", "bob", "--role", "user", "--dir", str(tmp_path / "none"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: no CA in")
    assert "hint: run `orchgpt certs init` first" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_name_and_role_and_overwrite_are_usage_errors(tmp_path: Path) -> None:
    folder = str(tmp_path)
    assert _run("init", "--dir", folder).exit_code == 0
    again = _run("init", "--dir", folder)
    assert again.exit_code == 2
    assert "already holds a CA" in again.stderr
    assert "hint: --force" in again.stderr

    bad_name = _run("issue", "Bob", "--role", "user", "--dir", folder)
    assert bad_name.exit_code == 2
    assert "error: invalid certificate name 'Bob'" in bad_name.stderr
    bad_role = _run("issue", "bob", "--role", "Admin!", "--dir", folder)
    assert bad_role.exit_code == 2
    assert "error: invalid role 'Admin!'" in bad_role.stderr

    assert _run("issue", "bob", "--role", "user", "--dir", folder).exit_code == 0
    assert _run("issue", "bob", "--role", "user", "--dir", folder).exit_code == 2
    assert _run("issue", "bob", "--role", "user", "--dir", folder, "--force").exit_code == 0
    assert _run("init", "--dir", folder, "--force").exit_code == 0


def test_a_role_is_required() -> None:
    result = _run("issue", "bob")
    assert result.exit_code == 2
    assert "--role" in result.stderr


def test_issue_help_documents_the_user_role() -> None:
    result = _run("issue", "--help")
    assert result.exit_code == 0
    assert "--role user" in result.stdout


def test_list_of_a_missing_folder(tmp_path: Path) -> None:
    result = _run("list", "--dir", str(tmp_path / "none"))
    assert result.exit_code == 2
    assert "hint: run `orchgpt certs init` first" in result.stderr


def test_orchgpt_help_does_not_load_cryptography() -> None:
    """``orchgpt --help`` stays quick: the PKI code loads only when a certs command runs."""
    code = "import sys, orchgpt.cli; print('cryptography' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_issue_writes_capabilities(tmp_path: Path) -> None:
    folder = str(tmp_path / "certs")
    assert _run("init", "--dir", folder).exit_code == 0
    given = _run(
        "issue", "n1", "--role", "generic", "--capability", "llm.chat", "--capability", "fs.read", "--dir", folder
    )
    assert given.exit_code == 0, given.output
    assert "capabilities: fs.read, llm.chat" in given.stdout
    default = _run("issue", "g1", "--role", "git", "--dir", folder)
    assert "capabilities: git.commit" in default.stdout
    user = _run("issue", "u1", "--role", "user", "--dir", folder)
    assert ("capabilities: none" in user.stdout, user.stderr) == (True, "")
    custom = _run("issue", "h1", "--role", "haiku", "--dir", folder)
    assert "capabilities: none" in custom.stdout
    assert "pass --capability" in custom.stderr
    assert "capabilities: none" in _run("issue", "b1", "--role", "backend", "--no-capabilities", "--dir", folder).stdout
    both = _run("issue", "b2", "--role", "backend", "--no-capabilities", "--capability", "x", "--dir", folder)
    assert both.exit_code == 2
    bad = _run("issue", "b3", "--role", "backend", "--capability", "a b", "--dir", folder)
    assert (bad.exit_code, "invalid capability" in bad.stderr) == (2, True)
    assert identity_from_pem((tmp_path / "certs" / "n1.pem").read_bytes()).capabilities == {"llm.chat", "fs.read"}
    rows = {line.split()[0]: line.split()[3] for line in _run("list", "--dir", folder).stdout.splitlines()[1:]}
    assert (rows["n1"], rows["g1"], rows["u1"], rows["orchgpt"]) == ("fs.read,llm.chat", "git.commit", "-", "-")
