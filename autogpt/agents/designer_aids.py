"""DesignerGPT's small-model aids: the spec it asks for, the worked example, the checks and the mends.

The spec is checked for what a small model gets wrong: a palette whose text is hard to read
(WCAG AA contrast) and the worked example (a notes page) handed back for another idea. Asked
twice without luck, the last spec is mended rather than thrown away: a safe palette for an
illegible one, the standard layout for a copied one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, Field, field_validator

from autogpt.agents.asking import Answer, Check, unless

_HEX = re.compile(r"#[0-9a-fA-F]{6}")


class Palette(BaseModel):
    background: str = Field(description="page background, #rrggbb")
    surface: str = Field(description="cards and inputs, #rrggbb")
    primary: str = Field(description="buttons and headings, #rrggbb")
    text: str = Field(description="body text, #rrggbb")
    accent: str = Field(description="highlights, #rrggbb")

    @field_validator("*")
    @classmethod
    def _hex(cls, value: str) -> str:
        value = value.strip()
        if not _HEX.fullmatch(value):
            raise ValueError(f"{value!r} is not a #rrggbb colour")
        return value.lower()


class Section(BaseModel):
    name: str = Field(description="e.g. header, form, list, footer")
    height: int = Field(ge=40, le=400, description="pixels in the wireframe")
    note: str = Field("", description="what goes there, a few words")


class DesignSpec(BaseModel):
    name: str
    mood: str = Field(description="the look in a few words")
    palette: Palette
    font: str = Field(description="a CSS font-family list")
    sections: list[Section] = Field(min_length=1, max_length=6)


EXAMPLE = DesignSpec(
    name="Notes",
    mood="calm, airy, focused",
    palette=Palette(background="#f7f7fb", surface="#ffffff", primary="#3b5bdb", text="#1f2330", accent="#f59f00"),
    font="system-ui, -apple-system, 'Segoe UI', sans-serif",
    sections=[
        Section(name="header", height=80, note="app name"),
        Section(name="form", height=90, note="text input and Add button"),
        Section(name="list", height=260, note="notes, newest first"),
    ],
)
SAFE = EXAMPLE.palette  # the fallback when the model's palette stays illegible


STANDARD_LAYOUT = [
    Section(name="header", height=80, note="the app's name"),
    Section(name="form", height=90, note="the fields and an Add button"),
    Section(name="list", height=260, note="the items, newest first"),
]


def title_of(idea: str) -> str:
    """'a todo list app where I can ...' -> 'Todo List App'."""
    head = re.split(r"\b(?:where|that|which|with|to|for|so|so that)\b|[,.;:]", idea, maxsplit=1)[0]
    words = [w for w in head.split() if w.lower() not in ("a", "an", "the")]
    return " ".join(w[:1].upper() + w[1:] for w in words)[:40] or "App"


def copied_example(spec: DesignSpec, idea: str) -> bool:
    """Small models hand the worked example back: its very sections, for an idea about something else."""
    same_sections = [s.note for s in spec.sections] == [s.note for s in EXAMPLE.sections]
    return "note" not in idea.lower() and (same_sections or spec.name.strip().lower() == EXAMPLE.name.lower())


def _luminance(color: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two #rrggbb colours (1 to 21)."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def palette_problems(p: Palette) -> list[str]:
    checks = [("text", p.text, "background", p.background, 4.5), ("text", p.text, "surface", p.surface, 4.5)]
    checks.append(("white button text", "#ffffff", "primary", p.primary, 3.0))
    return [
        f"{a} {ca} on {b} {cb} has contrast {contrast(ca, cb):.1f}:1, needs {need}:1"
        for a, ca, b, cb, need in checks
        if contrast(ca, cb) < need
    ]


def spec_prompt(idea: str) -> str:
    return (
        f"Design the web page for: {idea}\nGive a name, the mood in a few words, a palette of five "
        "#rrggbb colours (background, surface, primary, text, accent) where text is easy to read on "
        "background and surface, a CSS font-family list, and up to 6 page sections from top to bottom "
        f"with a height in pixels.\nExample for a notes app: {EXAMPLE.model_dump_json()}"
    )


def spec_checks(idea: str) -> list[Check[DesignSpec]]:
    def legible(spec: DesignSpec) -> Sequence[str]:
        return palette_problems(spec.palette)

    copied: Check[DesignSpec] = unless(
        f"that is the notes example; design the sections for: {idea}", lambda s: copied_example(s, idea)
    )
    return [legible, copied]


def mend(spec: DesignSpec | None, problem: str, idea: str) -> Answer[DesignSpec]:
    """The last spec made usable, and a note that says how."""
    if spec is None:
        return Answer(
            EXAMPLE.model_copy(update={"name": idea[:40]}), f"the model gave no usable design ({problem[:200]})"
        )
    if palette_problems(spec.palette):
        spec = spec.model_copy(update={"palette": SAFE})
        note = f"the model's palette was hard to read ({problem}); used a safe one"
        if copied_example(spec, idea):
            spec = spec.model_copy(update={"name": title_of(idea), "sections": STANDARD_LAYOUT})
            note += "; it repeated the example too: used the standard page layout"
        return Answer(spec, note)
    layout = {"name": title_of(idea), "sections": STANDARD_LAYOUT}
    return Answer(spec.model_copy(update=layout), "the model repeated the example; used the standard page layout")
