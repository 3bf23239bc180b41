"""A double of the OpenAI Responses API as Codex CLI (0.169) calls it: ``POST /v1/responses``
streamed as server-sent events.

Each request carries the whole conversation: Codex's own context as user messages
(``<environment_context>``), then the user's prompts. A prompt is recorded the first time a
request of its conversation (``prompt_cache_key``) holds it, so one typed while Codex works,
which goes out inside the running turn, counts too. Its side request for a thread title asks
for JSON (``text.format``); it gets a JSON answer and is no prompt."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.agent_clis.model_api.base import ModelApiDouble


def prompts_in(body: dict[str, Any]) -> list[str]:
    """Every prompt of the user's thread in ``body``, oldest first: its user messages but
    Codex's own context. A prompt typed while Codex works goes out inside the running turn,
    after the one before it, so a conversation is read whole, not by its last message."""
    if structured_answer(body) is not None:
        return []
    return [
        text
        for item in body.get("input") or []
        if item.get("type") == "message" and item.get("role") == "user"
        if not (text := text_of(item)).startswith("<environment_context>")
    ]


def text_of(item: dict[str, Any]) -> str:
    return "".join(
        part.get("text", "") for part in item.get("content", []) if part["type"] == "input_text"
    )


def structured_answer(body: dict[str, Any]) -> str | None:
    """For a request asking for JSON: an object with each required property set to a string."""
    schema = body.get("text", {}).get("format", {})
    if schema.get("type") != "json_schema":
        return None
    required = schema.get("schema", {}).get("required", [])
    return json.dumps({name: "Double" for name in required})


def sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


class ResponsesDouble(ModelApiDouble):
    def __init__(self, *, delay_s: float = 0.0) -> None:
        super().__init__(delay_s=delay_s)
        self._seen: dict[str, int] = {}  # prompts recorded per conversation

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_route("*", "/{tail:.*}", self._unknown)

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.note_request(request.path, body)
        prompts = prompts_in(body)
        conversation = str(body.get("prompt_cache_key"))
        for prompt in prompts[self._seen.get(conversation, 0) :]:
            self.record(prompt)
        self._seen[conversation] = max(len(prompts), self._seen.get(conversation, 0))
        await self.wait_delay()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        text = structured_answer(body) or self.answer
        try:
            await response.prepare(request)
            for event in self._events(body, text, number=len(self.requests)):
                await response.write(sse(event))
            await response.write_eof()
        except ConnectionResetError:
            pass  # the user interrupted the turn (Escape) and Codex hung up
        return response

    def _events(self, body: dict[str, Any], text: str, number: int) -> list[dict[str, Any]]:
        item_id = f"msg_double_{number}"
        content = {"type": "output_text", "text": text, "annotations": []}
        item = {"type": "message", "id": item_id, "role": "assistant", "status": "completed"}
        started = {
            "id": f"resp_double_{number}",
            "object": "response",
            "model": body.get("model", "double"),
            "status": "in_progress",
            "output": [],
        }
        usage = {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 2,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 12,
        }
        done_item = item | {"content": [content]}
        completed = started | {"status": "completed", "output": [done_item], "usage": usage}
        at = {"item_id": item_id, "output_index": 0, "content_index": 0}
        return [
            {"type": "response.created", "response": started},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": item | {"status": "in_progress", "content": []},
            },
            {"type": "response.content_part.added", **at, "part": content | {"text": ""}},
            {"type": "response.output_text.delta", **at, "delta": text},
            {"type": "response.output_text.done", **at, "text": text},
            {"type": "response.content_part.done", **at, "part": content},
            {"type": "response.output_item.done", "output_index": 0, "item": done_item},
            {"type": "response.completed", "response": completed},
        ]

    async def _unknown(self, request: web.Request) -> web.Response:
        self.note_request(f"{request.method} {request.path}", await request.text())
        error = {"message": f"the double has no {request.path}", "type": "invalid_request_error"}
        return web.json_response({"error": error}, status=404)
