"""The OpenAI Chat Completions API as Aider (through litellm) speaks it when
``OPENAI_API_BASE`` points here and the model is ``openai/<name>``: ``POST
/v1/chat/completions``, streamed as server-sent chunks ending in ``[DONE]`` or answered
whole, and ``GET /v1/models``.

Aider sends its system prompt, example exchanges and the chat so far, and ends with the
user's message; for most edit formats it appends its system reminder to that message
(``\\n\\n`` and the reminder, which also ends the system prompt). The double takes the
reminder off and records what the user typed. Aider's one side request here, a summary of
a chat grown long, has a system prompt of its own and is not recorded."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from tests.agent_clis.model_api.base import ModelApiDouble

SUMMARIZE = "*Briefly* summarize this partial conversation"  # aider/prompts.py: summarize


class ChatCompletionsDouble(ModelApiDouble):
    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_get("/v1/models", self._models)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.note_request(request.path, body)
        prompt = user_prompt(body.get("messages") or [])
        if prompt is not None:
            self.record(prompt)
        await self.wait_delay()
        model = body.get("model", "double")
        if not body.get("stream"):
            return web.json_response(completion(self.answer, model))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        try:
            await response.prepare(request)
            for chunk in completion_chunks(self.answer, model):
                await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except ConnectionResetError:
            pass  # Aider gave up on the answer (ctrl+c) while it was delayed
        return response

    async def _models(self, request: web.Request) -> web.Response:
        self.note_request(request.path, None)
        return web.json_response(
            {"object": "list", "data": [{"id": "double", "object": "model", "owned_by": "double"}]}
        )


def user_prompt(messages: list[dict[str, Any]]) -> str | None:
    """What the user typed: the last message when it is the user's, less the system
    reminder Aider appends to it; None when the request ends otherwise or asks for a
    summary."""
    if not messages or messages[-1].get("role") != "user":
        return None
    text = content_text(messages[-1])
    system = next((content_text(m) for m in messages if m.get("role") == "system"), "")
    if system.startswith(SUMMARIZE):
        return None
    start = text.find("\n\n")
    while start != -1:
        if system.endswith("\n" + text[start + 2 :]):
            return text[:start]
        start = text.find("\n\n", start + 1)
    return text


def content_text(message: dict[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if part.get("type") == "text")


def completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-double",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
    }


def completion_chunks(text: str, model: str) -> list[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-double",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    return [chunk({"role": "assistant", "content": text}, None), chunk({}, "stop")]
