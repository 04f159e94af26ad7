"""A custom agent's whole life on the command line, as real processes on the scripted model:
``new`` -> edit agent.yaml -> ``build`` -> ``test`` -> ``run``, then served for a real
orchgpt (``run --net``, and ``--net --agent ROLE`` through an installed entry point) and
reached from the networked console as ``/haiku``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_net_cli import Deployment, Proc, _env

from orchgpt.pki import issue_client, make_test_pki


def autogpt(cwd: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autogpt", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True, timeout=60, check=False,
        env=_env({"AUTOGPT_DATA_DIR": str(cwd / ".data"), **env}),
    )  # fmt: skip


def test_new_edit_build_test_run(tmp_path: Path) -> None:
    made = autogpt(tmp_path, "new", "haiku")
    assert made.returncode == 0, made.stderr
    folder = tmp_path / "haiku"
    spec = folder / "agent.yaml"
    spec.write_text(
        spec.read_text()
        .replace("  answer:\n    help: answer a question", "  answer:\n    help: a haiku about the input")
        .replace("      {input}\n  summarise", "      Write a haiku about: {input}\n  summarise")
    )
    broken = folder / "broken"
    broken.mkdir()
    (broken / "agent.yaml").write_text(spec.read_text().replace("role: haiku", "role: Haiku!"))
    bad = autogpt(tmp_path, "build", "--agent", str(broken))
    assert bad.returncode == 2
    assert f"{broken}/agent.yaml:6: role: must be" in bad.stderr

    built = autogpt(folder, "build")
    assert built.returncode == 0, built.stderr
    assert "generated haiku_agent.py" in built.stdout

    script = json.dumps(["tests pass at dawn", "- one\n- two\n- three"])
    tested = autogpt(folder, "test", "--provider", "scripted", AUTOGPT_SCRIPT=script)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "2 of 2 passed" in tested.stdout
    failing = autogpt(folder, "test", "--provider", "scripted", AUTOGPT_SCRIPT=json.dumps(["nothing", "nope"]))
    assert failing.returncode == 1
    assert "FAIL" in failing.stdout
    assert "does not contain 'test'" in failing.stdout

    ran = autogpt(
        folder, "run", "--provider", "scripted", stdin="autumn rain on tests\n/help\n",
        AUTOGPT_SCRIPT=json.dumps(["leaves fall on red tests"]),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "leaves fall on red tests" in ran.stdout
    assert "answer     a haiku about the input  (plain prompts)" in ran.stdout


@pytest.mark.parametrize("how", ["run --net", "installed"])
async def test_a_custom_agent_is_served_and_reached_over_the_net(tmp_path: Path, how: str) -> None:
    assert autogpt(tmp_path, "new", "haiku").returncode == 0
    folder = tmp_path / "haiku"
    assert autogpt(folder, "build").returncode == 0
    certs = make_test_pki(tmp_path / "certs", {"alice": ["user"]})
    # orchgpt does not know a custom role's agent, so its certificate names what it announces
    issue_client(certs, "haiku1", ["haiku"], capabilities=["llm.chat"])
    dep = Deployment(certs, tmp_path)
    try:
        await dep.orchestrator()
        env = {"AUTOGPT_PROVIDER": "scripted", "AUTOGPT_SCRIPT": json.dumps(["a haiku over TLS"] * 2)}
        common = ["--orchestrator", dep.target, "--certs", str(certs), "--cert-name", "haiku1"]
        if how == "run --net":
            args = [sys.executable, "-m", "autogpt", "run", str(folder), "--net"]
            proc = await Proc.start([*args[:3], *common, *args[3:]], _env(env))
        else:  # an installed package: its entry point names the role
            dist = folder / "autogpt_agent_haiku-0.1.0.dist-info"
            dist.mkdir()
            (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: autogpt-agent-haiku\nVersion: 0.1.0\n")
            (dist / "entry_points.txt").write_text("[autogpt.agents]\nhaiku = haiku_agent:HaikuGPT\n")
            args = [sys.executable, "-m", "autogpt", "--net", "--agent", "haiku", *common]
            path = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH", "")]))
            proc = await Proc.start(args, _env({**env, "PYTHONPATH": path}))
        dep.procs.append(proc)
        await proc.expect("HaikuGPT serving as")
        code, out, err = await dep.console("/haiku autumn rain", "more rain", "/haiku help")
        assert code == 0, err
        assert out.count("a haiku over TLS") == 2
        assert "(plain prompts)" in out
    finally:
        for p in dep.procs:
            if p.proc.returncode is None:
                p.proc.kill()
                await p.proc.wait()
