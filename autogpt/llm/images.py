"""Image models: one async method, a prompt in and PNG bytes out.

DesignerGPT uses one, when configured, to draw a raster mockup next to its wireframe.
The one provider is OpenAI's images endpoint (``gpt-image-1``, ``dall-e-3``) and any server
that speaks it, :class:`~autogpt.llm.openai.OpenAIImages`; its errors go through the chat
provider's boundary, so callers see only the project's error tree. With no
``AUTOGPT_IMAGE_MODEL`` there is no image model, and nothing is drawn.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import ClassVar

from autogpt.config import Settings
from autogpt.errors import MalformedReplyError

_PNG = b"\x89PNG\r\n\x1a\n"


class ImageModel(ABC):
    provider: ClassVar[str] = "image"
    model: str = ""

    @abstractmethod
    async def generate(self, prompt: str, *, size: str = "1024x1024") -> bytes:
        """A PNG for ``prompt``, ``size`` as the provider spells it (``1024x1024`` suits all)."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        pass


def png_from(data: bytes, where: str) -> bytes:
    """``data`` if it is a PNG, else :class:`MalformedReplyError`."""
    if not data.startswith(_PNG) or data[12:16] != b"IHDR":
        raise MalformedReplyError(f"{where} sent an image that is not a PNG")
    return data


class FunctionImages(ImageModel):
    """The double: PNG bytes from a function of (prompt, size); it records every prompt."""

    provider = "function"

    def __init__(self, fn: Callable[[str, str], bytes | Awaitable[bytes]], model: str = "function-images") -> None:
        self.fn, self.model = fn, model
        self.prompts: list[str] = []

    async def generate(self, prompt: str, *, size: str = "1024x1024") -> bytes:
        self.prompts.append(prompt)
        made = self.fn(prompt, size)
        return png_from(made if isinstance(made, bytes) else await made, self.model)


def make_image_model(settings: Settings) -> ImageModel | None:
    """The configured image model, or ``None`` when ``AUTOGPT_IMAGE_MODEL`` is unset."""
    if not settings.image_model:
        return None
    from autogpt.llm.openai import OpenAIImages

    return OpenAIImages.from_settings(settings)
