"""The pieces of the page check that need no browser: PNG stats, route matching, the spec."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from autogpt.errors import ConfigError, InvalidInputError
from autogpt.tools.browser import Browser, BrowserError, find_chromium
from autogpt.tools.contract import ApiContract, Route
from autogpt.tools.pagecheck import PageSpec, match_route
from autogpt.tools.png import image_stats


def png(rows: list[bytes], width: int, *, color: int = 2, depth: int = 8, filters: bytes = b"") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(bytes([filters[i] if filters else 0]) + row for i, row in enumerate(rows))
    header = struct.pack(">IIBBBBB", width, len(rows), depth, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


WHITE, INK = b"\xff\xff\xff", b"\x10\x20\x30"


def test_a_uniform_image_is_blank() -> None:
    stats = image_stats(png([WHITE * 40] * 30, 40))
    assert (stats.width, stats.height, stats.colors, stats.blank) == (40, 30, 1, True)


def test_an_image_with_ink_is_not_blank() -> None:
    rows = [WHITE * 40] * 10 + [WHITE * 10 + INK * 20 + WHITE * 10] * 10 + [WHITE * 40] * 10
    stats = image_stats(png(rows, 40))
    assert not stats.blank
    assert stats.colors == 2
    assert 0.1 < stats.ink < 0.3


def test_sub_and_up_filters_are_undone() -> None:
    plain = [bytes([10, 20, 30, 15, 25, 35, 20, 30, 40, 25, 35, 45])] * 2
    # row 0 "sub": each byte minus the same channel of the pixel on its left; row 1 "up": minus row 0
    sub = bytes([10, 20, 30] + [5, 5, 5] * 3)
    filtered = image_stats(png([sub, bytes(12)], 4, filters=bytes([1, 2])), sample_rows=2)
    assert filtered == image_stats(png(plain, 4), sample_rows=2)
    assert filtered.colors == 2  # pixels 0 and 2 of each row are sampled


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a", "not a PNG"),
        (png([WHITE * 4] * 4, 4, depth=16), "unsupported PNG"),
        (png([WHITE * 4] * 4, 4)[:50], "corrupt PNG data"),
    ],
)
def test_bad_images_are_typed_errors(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        image_stats(data)


CONTRACT = ApiContract(
    name="todos",
    routes=[
        Route(method="POST", path="/todos", summary="add", request_example={"title": "milk", "done": False}),
        Route(method="GET", path="/todos", summary="list", response_type="array"),
        Route(method="GET", path="/todos/{id}", summary="one"),
    ],
)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/todos", "GET /todos"),
        ("GET", "/todos/", "GET /todos"),
        ("GET", "/todos?done=1", "GET /todos"),
        ("GET", "/todos/7", "GET /todos/{id}"),
        ("POST", "/todos", "POST /todos"),
        ("DELETE", "/todos/7", None),
        ("GET", "/todos/7/extra", None),
        ("GET", "/todo", None),
    ],
)
def test_match_route(method: str, path: str, expected: str | None) -> None:
    route = match_route(CONTRACT, method, path)
    assert (route.key if route else None) == expected


def test_the_spec_asks_for_the_list_the_form_and_its_text_fields() -> None:
    spec = PageSpec.for_contract(CONTRACT)
    assert spec.sample == {"title": "milk"}  # text fields only: they can be typed
    assert spec.selectors() == ["h1", "#items", "form#create", 'form#create [name="title"]']
    assert "POST the values as JSON to /todos" in spec.describe()


def test_a_read_only_contract_needs_no_form() -> None:
    spec = PageSpec.for_contract(ApiContract(name="r", routes=[CONTRACT.routes[1]]))
    assert spec.selectors() == ["h1", "#items"]
    assert spec.create_route is None


def test_a_missing_browser_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not found"):
        find_chromium("/nonexistent/chromium")


async def test_a_browser_that_dies_at_start_is_a_typed_error(tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(BrowserError, match="went away"):
        async with Browser.launch(str(fake)):
            pass


@pytest.mark.parametrize(("read_fd", "write_fd"), [(3, 4), (4, 3), (7, 9)])
def test_the_devtools_pipe_ends_land_on_3_and_4_whatever_they_were(read_fd: int, write_fd: int) -> None:
    import os
    import subprocess

    from autogpt.tools.browser import _on_fds_3_and_4

    first, second = os.pipe(), os.pipe()
    saved = [os.dup(read_fd) if _open(read_fd) else -1, os.dup(write_fd) if _open(write_fd) else -1]
    try:
        os.dup2(first[0], read_fd)
        os.dup2(second[1], write_fd)
        seen = subprocess.run(
            [*_on_fds_3_and_4(read_fd, write_fd), "/bin/sh", "-c", "readlink /proc/self/fd/3 /proc/self/fd/4"],
            pass_fds=(read_fd, write_fd), capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        assert seen == [os.readlink(f"/proc/self/fd/{first[0]}"), os.readlink(f"/proc/self/fd/{second[1]}")]
    finally:
        for fd, old in zip((read_fd, write_fd), saved, strict=True):
            if old >= 0:
                os.dup2(old, fd)
                os.close(old)
            else:
                os.close(fd)
        for fd in (*first, *second):
            os.close(fd)


def _open(fd: int) -> bool:
    import os

    try:
        os.fstat(fd)
    except OSError:
        return False
    return True
