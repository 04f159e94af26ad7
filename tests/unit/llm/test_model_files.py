"""The embedded model's files: missing packages, assembly, the verified stamp, corruption."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from pathlib import Path

import pytest

from autogpt.errors import ConfigError, ModelFilesError
from autogpt.llm import model_files
from autogpt.llm.model_files import SMALL, ModelSpec, ensure_model_file, part_files, resolve_model


def spec_for(sha: str, name: str = "tiny-test") -> ModelSpec:
    return ModelSpec(
        name=name,
        filename=f"{name}.gguf",
        sha256=sha,
        distributions=("autogpt-test-nonexistent-part1", "autogpt-test-nonexistent-part2"),
        extra="tinytest",
        approx_size="1 KB",
    )


@pytest.fixture
def parts(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "parts"
    folder.mkdir()
    chunks = [b"GGUF" + bytes(range(256)) * 3, b"\x00\xff" * 500, b"tail-bytes"]
    out = []
    for i, chunk in enumerate(chunks, start=1):
        path = folder / f"part{i:02d}.bin"
        path.write_bytes(chunk)
        out.append(path)
    return out


@pytest.fixture
def joined(parts: list[Path]) -> bytes:
    return b"".join(p.read_bytes() for p in parts)


@pytest.fixture
def spec(joined: bytes) -> ModelSpec:
    return spec_for(hashlib.sha256(joined).hexdigest())


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def serve_parts(monkeypatch: pytest.MonkeyPatch, parts: list[Path]) -> list[ModelSpec]:
    """part_files returns the test parts; the list records every spec it was asked for."""
    asked: list[ModelSpec] = []

    def fake(spec: ModelSpec) -> list[Path]:
        asked.append(spec)
        return list(parts)

    monkeypatch.setattr(model_files, "part_files", fake)
    return asked


def forbid_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(spec: ModelSpec) -> list[Path]:
        raise AssertionError("the parts must not be read again")

    monkeypatch.setattr(model_files, "part_files", boom)


def stamp_of(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def test_missing_distributions_are_named_with_an_install_hint() -> None:
    spec = spec_for("0" * 64)
    with pytest.raises(ModelFilesError) as info:
        part_files(spec)
    err = info.value
    assert "autogpt-test-nonexistent-part1" in err.message
    assert "autogpt-test-nonexistent-part2" in err.message
    assert spec.name in err.message
    assert err.hint is not None
    assert "pip install" in err.hint
    assert "autogpt-team[tinytest]" in err.hint
    assert "make setup" in err.hint


def test_ensure_fails_cleanly_when_packages_are_missing(cache: Path) -> None:
    with pytest.raises(ModelFilesError, match="autogpt-test-nonexistent-part1"):
        ensure_model_file(spec_for("0" * 64), cache)
    assert not (cache / "models").exists() or list((cache / "models").iterdir()) == []


def test_first_call_assembles_and_stamps(
    serve_parts: list[ModelSpec], spec: ModelSpec, cache: Path, joined: bytes
) -> None:
    said: list[str] = []
    target = ensure_model_file(spec, cache, said.append)

    assert target == cache / "models" / spec.filename
    assert target.read_bytes() == joined
    assert stamp_of(target).exists()
    assert stamp_of(target).read_text().split()[:2] == [spec.sha256, str(len(joined))]
    assert serve_parts == [spec]
    assert any("assembling" in line for line in said)
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name, stamp_of(target).name]


def test_second_call_trusts_the_stamp(
    serve_parts: list[ModelSpec], spec: ModelSpec, cache: Path, monkeypatch: pytest.MonkeyPatch, joined: bytes
) -> None:
    first = ensure_model_file(spec, cache)
    forbid_parts(monkeypatch)

    def no_hashing(path: Path) -> str:
        raise AssertionError("a stamped file must not be hashed again")

    monkeypatch.setattr(model_files, "sha256_of", no_hashing)
    assert ensure_model_file(spec, cache) == first
    assert first.read_bytes() == joined


def test_unstamped_good_file_is_hashed_once_and_stamped(
    serve_parts: list[ModelSpec], spec: ModelSpec, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = ensure_model_file(spec, cache)
    stamp_of(target).unlink()
    forbid_parts(monkeypatch)
    assert ensure_model_file(spec, cache) == target
    assert stamp_of(target).exists()


def test_corrupt_cache_is_detected_and_reassembled(
    serve_parts: list[ModelSpec], spec: ModelSpec, cache: Path, joined: bytes
) -> None:
    target = ensure_model_file(spec, cache)
    st = target.stat()
    data = bytearray(target.read_bytes())
    data[10] ^= 0xFF
    target.write_bytes(bytes(data))
    # Make sure the flip is visible to the stamp even on a coarse-mtime filesystem.
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))

    said: list[str] = []
    again = ensure_model_file(spec, cache, said.append)
    assert again == target
    assert again.read_bytes() == joined
    assert len(serve_parts) == 2
    assert any("corrupt" in line for line in said)
    assert stamp_of(target).read_text().startswith(spec.sha256)


def test_truncated_cache_is_detected_and_reassembled(
    serve_parts: list[ModelSpec], spec: ModelSpec, cache: Path, joined: bytes
) -> None:
    target = ensure_model_file(spec, cache)
    with target.open("r+b") as fh:
        fh.truncate(100)
    assert ensure_model_file(spec, cache).read_bytes() == joined
    assert len(serve_parts) == 2


def test_parts_not_matching_the_pinned_hash_are_refused(serve_parts: list[ModelSpec], cache: Path) -> None:
    wrong = spec_for(hashlib.sha256(b"something else").hexdigest())
    with pytest.raises(ModelFilesError, match="damaged") as info:
        ensure_model_file(wrong, cache)
    assert info.value.hint is not None
    assert "pip install" in info.value.hint
    models = cache / "models"
    assert list(models.iterdir()) == []  # no half-written file, no temp file, no stamp


def test_corrupt_cache_with_damaged_parts_leaves_nothing_usable(
    serve_parts: list[ModelSpec], cache: Path, parts: list[Path], spec: ModelSpec
) -> None:
    target = ensure_model_file(spec, cache)
    target.write_bytes(b"garbage")
    parts[1].write_bytes(b"damaged part")
    with pytest.raises(ModelFilesError):
        ensure_model_file(spec, cache)
    assert not target.exists()
    assert not any(p.name.endswith(".tmp") for p in target.parent.iterdir())


def test_resolve_unknown_name_is_a_config_error(cache: Path) -> None:
    with pytest.raises(ConfigError, match="unknown embedded model") as info:
        resolve_model("gpt-17-ultra", cache)
    assert info.value.hint is not None
    assert SMALL.name in info.value.hint


def test_resolve_existing_gguf_path_is_returned_as_is(tmp_path: Path, cache: Path) -> None:
    model = tmp_path / "my-model.Q4.gguf"
    model.write_bytes(b"GGUF")
    assert resolve_model(str(model), cache) == ("my-model.Q4", model)
    assert not cache.exists()


def test_resolve_missing_gguf_path_is_a_config_error(tmp_path: Path, cache: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_model(str(tmp_path / "absent.gguf"), cache)
    with pytest.raises(ConfigError):
        resolve_model(str(tmp_path), cache)  # a directory is not a model file


def test_resolve_known_name_goes_through_ensure(
    serve_parts: list[ModelSpec], cache: Path, monkeypatch: pytest.MonkeyPatch, spec: ModelSpec, joined: bytes
) -> None:
    monkeypatch.setitem(model_files.MODELS, spec.name, spec)
    name, path = resolve_model("TINY-TEST", cache)
    assert name == spec.name
    assert path.read_bytes() == joined


def test_real_small_model_parts_are_installed_in_order() -> None:
    found = part_files(SMALL)
    assert [p.name for p in found] == [f"part{i:02d}.bin" for i in range(1, 7)]
    assert all(p.is_file() for p in found)

    # The sizes on disk add up to what the packages' RECORD files promise.
    recorded = 0
    for dist_name in SMALL.distributions:
        dist = importlib.metadata.distribution(dist_name)
        recorded += sum(f.size or 0 for f in dist.files or () if f.name.startswith("part"))
    total = sum(p.stat().st_size for p in found)
    assert total == recorded
    assert total > 400 * 1024 * 1024  # about half a gigabyte, as advertised
    with found[0].open("rb") as fh:
        assert fh.read(4) == b"GGUF"  # the first part opens the GGUF file
