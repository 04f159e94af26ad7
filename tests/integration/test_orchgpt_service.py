"""orchgpt run as a service, each case a real `orchgpt serve` process with certificates made
for the test: SIGTERM ends it within the grace period even while a client watches health,
`orchgpt health` works as a probe, and a bad address or setting is one clear line and
exit status 2, with no C-core log line before it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path

import grpc
import httpx
from click.testing import CliRunner
from grpc_health.v1 import health_pb2, health_pb2_grpc

from autogpt.net.link import TlsFiles
from orchgpt.cli import cli
from orchgpt.pki import make_test_pki

GRACE = 1.0


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "ORCHGPT_"))}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def _serve_args(pki: Path, tmp: Path, listen: str = "127.0.0.1:0", *more: str) -> list[str]:
    ledger = tmp / f"ledger-{len(list(tmp.glob('ledger-*')))}.sqlite3"
    ledger.touch()
    return [sys.executable, "-m", "orchgpt", "serve", "--listen", listen, "--certs", str(pki), "--ledger", str(ledger),
            "--grace", str(GRACE), *more]  # fmt: skip


async def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env or _env()
    )
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_sigterm_ends_serve_within_grace_while_a_client_watches_health(tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "pki", {"alice": ["user"]})
    proc = await asyncio.create_subprocess_exec(
        *_serve_args(pki, tmp_path, "127.0.0.1:0", "--log-format", "json"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_env(),
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        async with asyncio.timeout(30):
            line = (await proc.stdout.readline()).decode()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert match, line
        target = f"localhost:{match.group(1)}"
        probe = [sys.executable, "-m", "orchgpt", "health", "--orchestrator", target, "--certs", str(pki)]
        code, out, err = await _run(*probe, "--cert-name", "alice")
        assert (code, out, err) == (0, f"{target} SERVING\n", "")

        async with grpc.aio.secure_channel(target, TlsFiles.from_dir(pki, "alice").credentials()) as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=30)
            first = await watch.read()
            assert first.status == health_pb2.HealthCheckResponse.SERVING
            sent = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(GRACE + 10):
                second = await watch.read()  # the watcher hears of the drain before the end
                rc = await proc.wait()
            took = time.monotonic() - sent
        assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING
        assert rc == 0
        assert took < GRACE + 5, took
        logs = [json.loads(x) for x in (await proc.stderr.read()).decode().splitlines() if x.strip()]
        assert {"serving", "draining", "stopped"} <= {entry["event"] for entry in logs}
        assert all("timestamp" in entry and "level" in entry for entry in logs)

        code, out, _ = await _run(*probe, "--cert-name", "alice", "--timeout", "2")
        assert code == 1
        assert out.startswith(f"{target} UNAVAILABLE")
        assert out.count("\n") == 1
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_serve_keeps_its_start_up_out_of_garbage_collections_and_reports_their_pauses(tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "pki", {"alice": ["user"]})
    args = _serve_args(pki, tmp_path, "127.0.0.1:0", "--metrics", "127.0.0.1:0")
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE, env=_env())
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(30):
            lines = [(await proc.stdout.readline()).decode() for _ in range(2)]
        match = re.search(r"metrics at (http://\S+)", lines[1])
        assert match, lines
        async with httpx.AsyncClient(timeout=10) as http:
            text = (await http.get(match.group(1) + "metrics")).text
        got = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines() if line[:1] != "#"}
        assert got["orchgpt_gc_frozen_objects"] > 10_000  # modules, classes, the server: frozen once started
        assert {f'orchgpt_gc_collections_total{{generation="{g}"}}' for g in "012"} <= got.keys()
        assert (
            got['orchgpt_gc_pause_seconds_max{generation="2"}'] <= got['orchgpt_gc_pause_seconds_total{generation="2"}']
        )
    finally:
        proc.terminate()
        await proc.wait()


async def test_a_second_serve_on_the_same_port_is_refused(tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "pki", {})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = await _run(*_serve_args(pki, tmp_path, f"127.0.0.1:{port}"))
    assert code == 2
    assert err == f"error: --listen '127.0.0.1:{port}': port {port} is already in use\n"
    assert out == ""


async def test_bad_listen_addresses_are_one_line_and_exit_2(tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "pki", {})
    cases = {
        "127.0.0.1:99999": "the port must be a number from 0 to 65535",
        "no-such-host.invalid:8443": "unknown host 'no-such-host.invalid'",
        "8443": "is not HOST:PORT",
    }
    results = await asyncio.gather(*(_run(*_serve_args(pki, tmp_path, listen)) for listen in cases))
    for (listen, expected), (code, out, err) in zip(cases.items(), results, strict=True):
        assert code == 2, (listen, err)
        assert err.startswith("error: "), err  # no C-core line first
        assert err.count("\n") == 1, err
        assert expected in err
        assert out == ""


def test_log_level_and_format_are_validated(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"ORCHGPT_LOG_LEVEL": "bogus", "ORCHGPT_CERTS": str(tmp_path), "ORCHGPT_LEDGER": str(tmp_path / "l")}
    result = runner.invoke(cli, ["serve", "--listen", "127.0.0.1:0"], env=env)
    assert result.exit_code == 2
    assert "log_level" in result.output or "log level" in result.output.lower()
    result = runner.invoke(cli, ["serve", "--log-format", "xml"])
    assert result.exit_code == 2
    env = {"ORCHGPT_LOG_LEVEL": "WARNING", "ORCHGPT_LOG_FORMAT": "JSON"}
    from orchgpt.config import load_orch_settings

    for key, value in env.items():
        os.environ[key] = value
    try:
        settings = load_orch_settings()
    finally:
        for key in env:
            del os.environ[key]
    assert (settings.log_level, settings.log_format) == ("warning", "json")
