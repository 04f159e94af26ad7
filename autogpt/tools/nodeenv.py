"""Per-project Node.js dependencies for generated servers, cached between runs.

Keyed by the dependency list, installed once with npm (which may use the package
registry; the generated code itself never does) into a cache folder whose
``node_modules`` the server then sees through ``NODE_PATH``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from autogpt.errors import AgentError, ConfigError

NODE_DEPENDENCIES = {"express": "^4.19.0"}


_locks: dict[tuple[int, str], asyncio.Lock] = {}  # per event loop: a lock belongs to one loop


async def ensure_node_env(dependencies: dict[str, str], cache_dir: Path, *, timeout: float = 120) -> Path:
    """Ready environment; concurrent callers in this process wait for one build."""
    async with _locks.setdefault((id(asyncio.get_running_loop()), str(cache_dir)), asyncio.Lock()):
        return await _ensure_node_env(dependencies, cache_dir, timeout=timeout)


async def _ensure_node_env(dependencies: dict[str, str], cache_dir: Path, *, timeout: float = 120) -> Path:
    """The ``node_modules`` folder of a ready environment for ``dependencies``."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise ConfigError(
            "JavaScript projects need Node.js and npm", hint="install nodejs and npm, or use --lang python"
        )
    key = hashlib.sha256(json.dumps(dependencies, sort_keys=True).encode()).hexdigest()[:16]
    root = cache_dir / "node" / key
    modules = root / "node_modules"
    if (root / ".ready").exists():
        return modules
    root.mkdir(parents=True, exist_ok=True)
    specs = [f"{name}@{version}" for name, version in sorted(dependencies.items())]
    proc = await asyncio.create_subprocess_exec(
        # short network timeouts: offline, npm would otherwise retry for minutes before failing
        npm, "install", "--silent", "--no-audit", "--no-fund", "--fetch-retries=1", "--fetch-timeout=20000",
        "--prefix", str(root), *specs,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AgentError(f"npm install {' '.join(specs)} timed out after {timeout:g}s") from None
    if proc.returncode != 0:
        raise AgentError(f"npm install {' '.join(specs)} failed: {out.decode(errors='replace')[-1500:]}")
    (root / ".ready").write_text(json.dumps(dependencies))
    return modules


async def node_syntax_error(code: str, scratch: Path) -> str:
    """``node --check`` on ``code``: the error text, or empty when it parses."""
    path = await asyncio.to_thread(_scratch_file, scratch, code)
    proc = await asyncio.create_subprocess_exec(
        "node", "--check", str(path), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    await asyncio.to_thread(path.unlink, True)
    return "" if proc.returncode == 0 else out.decode(errors="replace").replace(str(path), "server.js")[-800:]


def _scratch_file(folder: Path, code: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix="check-", suffix=".js")  # concurrent checks never collide
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(code)
    return Path(name)
