"""Image models: OpenAIImages against a real local server speaking the images wire format,
and the FunctionImages double."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.llm_server import (
    FakeLLMServer,
    json_reply,
    openai_error,
    openai_image,
    raw_reply,
    remote_requests_blocked,
    tiny_png,
)

from autogpt.config import load_settings
from autogpt.errors import ConfigError, InvalidInputError, MalformedReplyError, ProviderAuthError
from autogpt.llm.images import FunctionImages, make_image_model
from autogpt.llm.openai import OpenAIImages

KEY = "sk-test-images-0123"


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake


def images(server: FakeLLMServer, model: str = "gpt-image-1") -> OpenAIImages:
    return OpenAIImages(api_key=KEY, model=model, base_url=f"{server.url}/v1", timeout=5.0, max_retries=0)


async def test_a_gpt_image_model_is_asked_for_a_png_and_its_bytes_come_back(server: FakeLLMServer) -> None:
    png = tiny_png(6, 2)
    server.script(openai_image(png))
    model = images(server)
    try:
        assert await model.generate("a calm todo page", size="1536x1024") == png
    finally:
        await model.aclose()
    (request,) = server.requests
    assert request.path == "/v1/images/generations"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body == {
        "model": "gpt-image-1", "prompt": "a calm todo page", "size": "1536x1024", "n": 1, "output_format": "png",
    }  # fmt: skip


async def test_a_dall_e_model_is_asked_for_base64_not_a_link(server: FakeLLMServer) -> None:
    server.script(openai_image(tiny_png()))
    model = images(server, "dall-e-3")
    try:
        await model.generate("x")
    finally:
        await model.aclose()
    assert server.requests[0].body["response_format"] == "b64_json"
    assert "output_format" not in server.requests[0].body


@pytest.mark.parametrize(
    ("reply", "error", "words"),
    [
        (json_reply({"created": 1, "data": [{"url": "https://x.invalid/a.png"}]}), MalformedReplyError, "no base64"),
        (json_reply({"created": 1, "data": []}), MalformedReplyError, "no base64"),
        (json_reply({"created": 1, "data": [{"b64_json": "not base64!"}]}), MalformedReplyError, "not valid base64"),
        (openai_image(b"GIF89a not a png"), MalformedReplyError, "not a PNG"),
        (raw_reply("<html>oops</html>", content_type="text/html"), MalformedReplyError, "no base64"),
        (openai_error(400, "Your prompt was rejected by the safety system"), InvalidInputError, "safety system"),
        (openai_error(401, f"bad key {KEY}"), ProviderAuthError, "refused the API key"),
    ],
)
async def test_every_bad_reply_is_a_typed_error(
    server: FakeLLMServer, reply: object, error: type[Exception], words: str
) -> None:
    server.script(reply)  # type: ignore[arg-type]
    model = images(server)
    try:
        with pytest.raises(error, match=words) as caught:
            await model.generate("x")
    finally:
        await model.aclose()
    assert KEY not in str(caught.value)


def test_with_no_image_model_set_there_is_none_and_without_a_key_it_says_what_to_set() -> None:
    assert make_image_model(load_settings(_env_file=None)) is None
    with pytest.raises(ConfigError, match="needs an OpenAI API key") as caught:
        make_image_model(load_settings(image_model="gpt-image-1", _env_file=None))
    assert "AUTOGPT_IMAGE_MODEL" in (caught.value.hint or "")


async def test_the_settings_pick_the_model_and_the_endpoint(server: FakeLLMServer) -> None:
    server.script(openai_image(tiny_png()))
    model = make_image_model(load_settings(image_model="dall-e-3", base_url=f"{server.url}/v1", _env_file=None))
    assert isinstance(model, OpenAIImages)
    try:
        await model.generate("x")
    finally:
        await model.aclose()
    assert server.requests[0].body["model"] == "dall-e-3"


async def test_remote_image_requests_are_blocked_in_tests() -> None:
    model = OpenAIImages(api_key=KEY, model="gpt-image-1", base_url="https://api.example.invalid/v1")
    try:
        with remote_requests_blocked(), pytest.raises(ConfigError, match="blocked"):
            await model.generate("x")
    finally:
        await model.aclose()


async def test_the_double_records_prompts_and_checks_what_it_returns() -> None:
    double = FunctionImages(lambda prompt, size: tiny_png())
    assert (await double.generate("a page")).startswith(b"\x89PNG")
    assert double.prompts == ["a page"]
    with pytest.raises(MalformedReplyError, match="not a PNG"):
        await FunctionImages(lambda prompt, size: b"nope").generate("x")
