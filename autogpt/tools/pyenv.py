"""Per-project Python environments for generated servers, cached between runs.

An environment is keyed by the hash of its requirements, so two projects that need the
same packages share one. It is a plain venv whose site-packages also sees this
installation's packages (through a ``.pth`` file): FastAPI and uvicorn are already here,
so the usual project installs nothing and works offline. Anything else is installed
with pip, which may use the package registry; the generated code itself never does.
"""

from __future__ import annotations

import asyncio
import hashlib
import site
import sys
from pathlib import Path

from autogpt.errors import AgentError

PYTHON_REQUIREMENTS = "fastapi\nuvicorn\n"


def env_key(requirements: str) -> str:
    lines = sorted({ln.strip().lower() for ln in requirements.splitlines() if ln.strip() and not ln.startswith("#")})
    payload = f"{sys.version_info[:2]}\n" + "\n".join(lines)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


async def _run(*argv: str, timeout: float) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -1, f"timed out after {timeout:g}s"
    return proc.returncode or 0, out.decode(errors="replace")[-4000:]


_locks: dict[tuple[int, str], asyncio.Lock] = {}  # per event loop: a lock belongs to one loop


async def ensure_python_env(requirements: str, cache_dir: Path, *, timeout: float = 600) -> Path:
    """Ready environment; concurrent callers in this process wait for one build."""
    async with _locks.setdefault((id(asyncio.get_running_loop()), str(cache_dir)), asyncio.Lock()):
        return await _ensure_python_env(requirements, cache_dir, timeout=timeout)


async def _ensure_python_env(requirements: str, cache_dir: Path, *, timeout: float = 600) -> Path:
    """The ``bin`` folder of a ready environment for ``requirements``."""
    root = cache_dir / "envs" / env_key(requirements)
    ready = root / ".ready"
    bin_dir = root / "bin"
    if ready.exists():
        return bin_dir
    root.parent.mkdir(parents=True, exist_ok=True)
    code, out = await _run(sys.executable, "-m", "venv", "--without-pip", str(root), timeout=120)
    if code != 0:
        raise AgentError(f"could not create a Python environment in {root}: {out}")
    _share_site_packages(root)
    missing = await _missing(bin_dir / "python", requirements)
    if missing:
        code, out = await _run(
            str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", *missing,
            timeout=timeout,
        )  # fmt: skip
        if code != 0:
            raise AgentError(f"installing {', '.join(missing)} failed: {out[-1500:]}")
    ready.write_text(requirements)
    return bin_dir


def _share_site_packages(root: Path) -> None:
    """Let the new environment import what this installation already has."""
    ours = [p for p in site.getsitepackages() if Path(p).is_dir()]
    for target in (root / "lib").glob("python3*/site-packages"):
        (target / "_autogpt_shared.pth").write_text("\n".join(ours) + "\n")


async def _missing(python: Path, requirements: str) -> list[str]:
    """Requirements this environment cannot import yet (by distribution name)."""
    names = [ln.split("==")[0].split(">=")[0].split("[")[0].strip() for ln in requirements.splitlines()]
    names = [n for n in names if n and not n.startswith("#")]
    if not names:
        return []
    probe = (
        "import importlib.metadata as m, sys\n"
        "for n in sys.argv[1:]:\n"
        "    try: m.distribution(n)\n"
        "    except m.PackageNotFoundError: print(n)\n"
    )
    code, out = await _run(str(python), "-c", probe, *names, timeout=60)
    if code != 0:
        return names
    return [ln.strip() for ln in out.splitlines() if ln.strip()]
