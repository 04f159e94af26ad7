"""DesignerGPT: a short design spec (palette, type, layout) and a wireframe.

The model decides; code draws. One structured call gives the palette, the font and the
page's sections; the palette is checked for legible contrast (WCAG AA, 4.5:1 for text),
the wireframe SVG is drawn from the sections, and the same headless Chromium that checks
pages renders it to PNG. FrontendGPT styles its page from the spec. The spec's model, its
worked example and its checks live in :mod:`autogpt.agents.designer_aids`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import ClassVar
from xml.sax.saxutils import escape

from pydantic import ValidationError

from autogpt.agents.asking import Answer, Retry
from autogpt.agents.base import Agent, Context, action
from autogpt.agents.designer_aids import EXAMPLE, DesignSpec, contrast, mend, spec_checks, spec_prompt
from autogpt.config import Settings
from autogpt.errors import AutoGPTError, ConfigError, InvalidInputError
from autogpt.iac.envelope import Artifact, Command, Result, Task
from autogpt.llm.base import Message
from autogpt.llm.images import ImageModel, make_image_model
from autogpt.tools.browser import ORIGIN, Browser, Request, Response
from autogpt.tools.png import image_stats, png_size

MOCKUP = "design/mockup.png"

WIDTH, MARGIN = 800, 24


def wireframe_svg(spec: DesignSpec) -> str:
    p, y = spec.palette, MARGIN
    body = []
    for s in spec.sections:
        body.append(
            f'<rect x="{MARGIN}" y="{y}" width="{WIDTH - 2 * MARGIN}" height="{s.height}" rx="8" '
            f'fill="{p.surface}" stroke="{p.primary}" stroke-width="2"/>'
        )
        body.append(
            f'<text x="{MARGIN + 16}" y="{y + 30}" fill="{p.primary}" font-size="20" font-weight="bold">'
            f"{escape(s.name)}</text>"
        )
        if s.note:
            body.append(f'<text x="{MARGIN + 16}" y="{y + 56}" fill="{p.text}" font-size="15">{escape(s.note)}</text>')
        y += s.height + MARGIN
    swatches = [p.background, p.surface, p.primary, p.text, p.accent]
    for i, color in enumerate(swatches):
        body.append(f'<rect x="{MARGIN + i * 56}" y="{y}" width="44" height="28" fill="{color}" stroke="{p.text}"/>')
    height = y + 28 + MARGIN
    font = escape(spec.font, {'"': "&quot;"})
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="{font}">\n'
        f'<rect width="{WIDTH}" height="{height}" fill="{p.background}"/>\n' + "\n".join(body) + "\n</svg>\n"
    )


def design_doc(spec: DesignSpec, note: str, mockup: bool = False) -> str:
    p = spec.palette
    lines = [f"# Design: {spec.name}", "", f"Mood: {spec.mood}.", ""]
    if note:
        lines += [f"Note: {note}", ""]
    lines += ["## Palette", "", "| Use | Colour |", "|---|---|"]
    lines += [f"| {name} | `{value}` |" for name, value in p.model_dump().items()]
    lines += ["", "## Type", "", f"`font-family: {spec.font}`", "", "## Layout", ""]
    lines += [f"{i}. **{s.name}** ({s.height}px): {s.note}" for i, s in enumerate(spec.sections, 1)]
    lines += ["", "Wireframe: `design/wireframe.svg`, rendered as `design/wireframe.png`."]
    lines += [f"Mockup, drawn by an image model from this spec: `{MOCKUP}`."] if mockup else []
    return "\n".join([*lines, ""])


def mockup_prompt(spec: DesignSpec, idea: str) -> str:
    """What an image model is asked to draw: the spec, said in words."""
    p = spec.palette
    layout = "; ".join(f"{s.name} ({s.note})" if s.note else s.name for s in spec.sections)
    return (
        f"A clean, flat, high-fidelity mockup of one web page titled '{spec.name}', for {idea}. "
        f"Mood: {spec.mood}. Page background {p.background}, cards {p.surface}, heading and buttons {p.primary}, "
        f"text {p.text}, highlights {p.accent}. Font: {spec.font}. From top to bottom: {layout}. "
        "Straight-on view, no device frame, no photographs, short legible labels."
    )


async def render_png(svg: str, browser: str = "") -> bytes:
    """The SVG as a PNG, rendered by headless Chromium at its own size."""
    height = int(re.search(r'height="(\d+)"', svg).group(1))  # type: ignore[union-attr]

    async def serve(request: Request) -> Response:
        return Response(200, svg.encode(), {"content-type": "image/svg+xml"})

    async with Browser.launch(browser) as chromium:
        page = await chromium.new_page(serve, width=WIDTH, height=height)
        await page.goto(ORIGIN + "/wireframe.svg")
        return await page.screenshot()


class DesignerGPT(Agent):
    name = "DesignerGPT"
    role = "designer"
    persona = (
        "You are DesignerGPT, a product designer. You choose a small, legible palette, one font stack "
        "and a simple layout for a web page."
    )
    capabilities = frozenset({"llm.chat", "fs.write", "browser"})
    # the image model for the raster mockup, made per design (None: AUTOGPT_IMAGE_MODEL is unset)
    image_model_for: ClassVar[Callable[[Settings], ImageModel | None]] = staticmethod(make_image_model)

    async def handle_task(self, task: Task, ctx: Context) -> Result:
        return await self.create(Command("create", str(task.input.get("idea") or task.description)), ctx)

    @action("create", help="write DESIGN.md, design.json and a wireframe (SVG and PNG) for an idea")
    async def create(self, command: Command, ctx: Context) -> Result:
        if self.workspace is None:
            raise ConfigError("DesignerGPT needs a workspace")
        idea = command.input.strip()
        if not idea:
            raise InvalidInputError("DesignerGPT needs an idea to design for")
        await ctx.status("choosing palette, type and layout")
        spec, note = await self._spec(idea)
        ws = self.workspace.ensure()
        svg = wireframe_svg(spec)
        ws.write_text("design.json", json.dumps(spec.model_dump(), indent=2) + "\n", agent=self.name)
        ws.write_text("design/wireframe.svg", svg, agent=self.name)
        await ctx.status("rendering the wireframe in the browser")
        png = await render_png(svg, self.settings.browser)
        stats = image_stats(png)
        ws.write_bytes("design/wireframe.png", png, agent=self.name)
        drawn, mockup = await self._mockup(spec, idea, ctx)
        ws.write_text("DESIGN.md", design_doc(spec, note, drawn), agent=self.name)
        files = [w for w in ws.writes if w.agent == self.name]
        summary = (
            f"design '{spec.name}' ({spec.mood}): {len(spec.sections)} sections, "
            f"text contrast {contrast(spec.palette.text, spec.palette.background):.1f}:1, "
            f"wireframe {stats.width}x{stats.height} PNG"
        ) + (f", {mockup}" if mockup else "")
        return Result(
            ok=not stats.blank,
            output=summary + (f"\n{note}" if note else "") + ("" if not stats.blank else "\nthe wireframe is blank"),
            data={"design": spec.model_dump(), "wireframe": "design/wireframe.png", "mockup": mockup},
            artifacts=tuple(
                Artifact(w.path, "image" if w.path.endswith(".png") else "file", w.size, w.sha256) for w in files
            ),
        )

    async def _mockup(self, spec: DesignSpec, idea: str, ctx: Context) -> tuple[bool, str]:
        """A raster mockup when an image model is configured. It is optional: a failure is said
        and the design stands without it. (whether one was drawn, what happened or "")."""
        assert self.workspace is not None
        try:
            images = type(self).image_model_for(self.settings)
            if images is None:
                return False, ""
            await ctx.status(f"drawing a mockup with {images.model}")
            try:
                png = await images.generate(mockup_prompt(spec, idea))
                width, height = png_size(png)
            finally:
                await images.aclose()
        except AutoGPTError as exc:
            await ctx.status(f"no mockup: {exc}")
            return False, f"no mockup: {exc}"
        self.workspace.write_bytes(MOCKUP, png, agent=self.name)
        return True, f"mockup {width}x{height} PNG by {images.model} ({MOCKUP})"

    async def _spec(self, idea: str) -> tuple[DesignSpec, str]:
        async def mended(spec: DesignSpec | None, problem: str) -> Answer[DesignSpec]:
            return mend(spec, problem, idea)

        answer = await self.ask(
            [Message.system(self.persona), Message.user(spec_prompt(idea))], DesignSpec,
            checks=spec_checks(idea), retry=Retry(feedback="Fix this: {problem}"), fallback=mended, what="design",
        )  # fmt: skip
        return answer.value, answer.note


def palette_css(design: object) -> str:
    """The ``:root`` block FrontendGPT puts in its page (the safe palette when ``design`` is not one)."""
    try:
        spec = DesignSpec.model_validate(design)
    except ValidationError:
        spec = EXAMPLE
    font = re.sub(r"[^\w\s,'-]", "", spec.font).strip() or EXAMPLE.font
    colors = " ".join(f"--{name}: {value};" for name, value in spec.palette.model_dump().items())
    return f":root {{ {colors} --font: {font}; }}"
