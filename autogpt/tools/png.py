"""Just enough PNG reading to tell a blank screenshot from a page: 8-bit RGB or RGBA,
not interlaced, which is what Chromium writes."""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass

from autogpt.errors import InvalidInputError

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {2: 3, 6: 4}  # colour type -> bytes per pixel at bit depth 8


@dataclass(frozen=True)
class ImageStats:
    width: int
    height: int
    colors: int  # distinct colours seen (sampled)
    ink: float  # share of sampled pixels that differ from the most common colour

    @property
    def blank(self) -> bool:
        return self.colors < 2 or self.ink < 0.001


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of any PNG, read from its header alone."""
    if not data.startswith(_SIGNATURE) or data[12:16] != b"IHDR" or len(data) < 24:
        raise InvalidInputError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    if not (width and height):
        raise InvalidInputError("PNG with no pixels")
    return width, height


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _rows(raw: bytes, width: int, height: int, bpp: int) -> list[bytes]:
    stride, rows, previous = width * bpp, [], bytes(width * bpp)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((x + p) & 0xFF for x, p in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left, up_left = (line[i - bpp], previous[i - bpp]) if i >= bpp else (0, 0)
                line[i] = (line[i] + _paeth(left, previous[i], up_left)) & 0xFF
        elif kind != 0:
            raise InvalidInputError(f"PNG row {y} has unknown filter {kind}")
        rows.append(bytes(line))
        previous = bytes(line)
    return rows


def image_stats(data: bytes, *, sample_rows: int = 384) -> ImageStats:
    if not data.startswith(_SIGNATURE):
        raise InvalidInputError("not a PNG file")
    pos, header, idat = len(_SIGNATURE), b"", bytearray()
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
        pos += 12 + length
    if len(header) != 13:
        raise InvalidInputError("PNG without a header")
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or color not in _CHANNELS or interlace:
        raise InvalidInputError(f"unsupported PNG (depth {depth}, colour type {color}, interlace {interlace})")
    bpp = _CHANNELS[color]
    try:
        raw = zlib.decompress(bytes(idat))
    except zlib.error as exc:
        raise InvalidInputError(f"corrupt PNG data: {exc}") from None
    if len(raw) < height * (width * bpp + 1):
        raise InvalidInputError("truncated PNG data")
    rows = _rows(raw, width, height, bpp)
    step = max(1, height // sample_rows)
    counts = Counter(row[i : i + bpp] for row in rows[::step] for i in range(0, len(row), bpp * 2))
    total = sum(counts.values())
    common = counts.most_common(1)[0][1] if counts else 0
    return ImageStats(width, height, len(counts), (total - common) / total if total else 0.0)
