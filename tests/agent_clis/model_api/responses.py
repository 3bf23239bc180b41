"""A double of the OpenAI Responses API as Codex CLI (0.169) calls it: ``POST /v1/responses``
streamed as server-sent events.

Each request carries the whole conversation: Codex's own context as user messages
(``<environment_context>``), then the user's prompts. A prompt is recorded the first time a
request of its conversation (``prompt_cache_key``) holds it, so one typed while Codex works,
which goes out inside the running turn, counts too. Its side request for a thread title asks
for JSON (``text.format``); it gets a JSON answer and is no prompt.

With a :class:`ToolCall`, the first request holding a new prompt and offering the tool is
answered with a ``function_call`` item; the ``function_call_output`` Codex sends back is
recorded."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.agent_clis.model_api.base import ModelApiDouble, ToolCall


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


def offered_tools(tools: list[dict[str, Any]]) -> dict[str, tuple[str | None, str]]:
    """The function tools a request offers, by full name (``mcp__cellphone__send_message``
    for the ``send_message`` of the ``mcp__cellphone`` namespace), each as (namespace, name)."""
    offered: dict[str, tuple[str | None, str]] = {}
    for tool in tools:
        if tool.get("type") == "namespace":
            space = tool.get("name", "")
            for inner in tool.get("tools") or []:
                offered[f"{space}__{inner.get('name', '')}"] = (space, inner.get("name", ""))
        elif tool.get("type") == "function":
            offered[tool.get("name", "")] = (None, tool.get("name", ""))
    return offered


def output_text(output: Any) -> str:
    """The text of a ``function_call_output``: a string, or content parts."""
    if isinstance(output, str):
        return output
    return "".join(part.get("text", "") for part in output or [] if isinstance(part, dict))


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
    def __init__(self, *, delay_s: float = 0.0, tool_call: ToolCall | None = None) -> None:
        super().__init__(delay_s=delay_s, tool_call=tool_call)
        self._seen: dict[str, int] = {}  # prompts recorded per conversation

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_route("*", "/{tail:.*}", self._unknown)

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.note_request(request.path, body)
        prompts = prompts_in(body)
        conversation = str(body.get("prompt_cache_key"))
        new = prompts[self._seen.get(conversation, 0) :]
        for prompt in new:
            self.record(prompt)
        self._seen[conversation] = max(len(prompts), self._seen.get(conversation, 0))
        for item in body.get("input") or []:
            if item.get("type") == "function_call_output":
                self.record_tool_result(item.get("call_id", ""), output_text(item.get("output")))
        offered = offered_tools(body.get("tools") or [])
        call = self.call_to_make(list(offered)) if new else None
        await self.wait_delay()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        text = structured_answer(body) or self.answer
        number = len(self.requests)
        events = (
            self._events(body, text, number)
            if call is None
            else self._call_events(body, call, offered[call[1]], number)
        )
        try:
            await response.prepare(request)
            for event in events:
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

    def _call_events(
        self,
        body: dict[str, Any],
        call: tuple[str, str],
        named: tuple[str | None, str],
        number: int,
    ) -> list[dict[str, Any]]:
        assert self.tool_call is not None
        arguments = json.dumps(self.tool_call.arguments)
        namespace, name = named
        item = {
            "type": "function_call",
            "id": f"fc_double_{number}",
            "call_id": call[0],
            "name": name,
            "arguments": arguments,
            "status": "completed",
        }
        if namespace is not None:
            item["namespace"] = namespace
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
        completed = started | {"status": "completed", "output": [item], "usage": usage}
        at = {"item_id": item["id"], "output_index": 0}
        return [
            {"type": "response.created", "response": started},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": item | {"arguments": "", "status": "in_progress"},
            },
            {"type": "response.function_call_arguments.delta", **at, "delta": arguments},
            {"type": "response.function_call_arguments.done", **at, "arguments": arguments},
            {"type": "response.output_item.done", "output_index": 0, "item": item},
            {"type": "response.completed", "response": completed},
        ]

    async def _unknown(self, request: web.Request) -> web.Response:
        self.note_request(f"{request.method} {request.path}", await request.text())
        error = {"message": f"the double has no {request.path}", "type": "invalid_request_error"}
        return web.json_response({"error": error}, status=404)
