"""Every module imports on its own: a missing dependency floor or a cycle shows here first."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import autogpt
import orchgpt


def modules() -> list[str]:
    names = []
    for package in (autogpt, orchgpt):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):
                names.append(info.name)
    return names


@pytest.mark.parametrize("name", modules())
def test_module_imports(name: str) -> None:
    assert importlib.import_module(name).__name__ == name


def test_one_version_source() -> None:
    from importlib.metadata import version

    assert version("autogpt-team") == autogpt.__version__


def test_the_proto_ships_with_the_package_and_the_cli_prints_its_path() -> None:
    import subprocess
    import sys

    from autogpt.iac import PROTO

    assert PROTO.is_file()
    assert "package iac.v1;" in PROTO.read_text(encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "autogpt", "proto"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(PROTO)
