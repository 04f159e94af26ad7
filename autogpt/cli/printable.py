"""Text from peers made safe to print on a terminal.

Whatever another party wrote (a request's subject, an agent id, an error message) may
hold escape sequences that move the cursor, retitle the window or hide text. Control
and format characters are shown as ``\\xNN``/``\\uNNNN`` instead; tabs become spaces.
"""

from __future__ import annotations

import unicodedata

_KEEP = {"\n"}


def printable(text: str, *, newlines: bool = True) -> str:
    """``text`` with every control or format character escaped (newlines kept if asked)."""
    out: list[str] = []
    for char in text:
        if char == "\t":
            out.append(" ")
        elif (newlines and char in _KEEP) or unicodedata.category(char)[0] not in "CZ" or char == " ":
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)
