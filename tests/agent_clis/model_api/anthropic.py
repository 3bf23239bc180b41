"""A double of the Anthropic Messages API as Claude Code (2.1) calls it: ``POST /v1/messages``
streamed as server-sent events (or not, when the request says so) and
``POST /v1/messages/count_tokens``.

A request starts a turn when it offers tools (Claude Code's side requests, such as a title or
a quota check, offer none) and its last message, system messages aside (Claude Code puts its
environment in one after the first prompt), is the user's text (not tool results). Claude
Code sends that text as content blocks: ``<system-reminder>`` blocks of its own, then the
prompt. A paste it showed as ``[Pasted text #1 +4 lines]`` goes out wrapped in
``<pasted_content id="...">`` tags; the double records the prompt without them (the request as
sent stays in ``requests``).

With a :class:`ToolCall`, the first prompt offering the tool is answered with a ``tool_use``
block; the ``tool_result`` block Claude Code sends back is recorded."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from tests.agent_clis.model_api.base import ModelApiDouble

REMINDER = "<system-reminder>"
PASTED = re.compile(
    r'\n*<pasted_content id="(?P<id>[^"]*)">\n(?P<text>.*?)\n</pasted_content id="(?P=id)">\n*',
    re.DOTALL,
)


def prompt_of(body: dict[str, Any]) -> str | None:
    """The user's prompt when ``body`` starts a turn, else None."""
    messages = [message for message in body.get("messages") or [] if message["role"] != "system"]
    if not body.get("tools") or not messages or messages[-1]["role"] != "user":
        return None
    content = messages[-1]["content"]
    if isinstance(content, str):
        texts = [content]
    else:
        texts = [
            block.get("text", "")
            for block in content
            if block.get("type") == "text" and not block.get("text", "").startswith(REMINDER)
        ]
    if not texts:
        return None  # tool results going back to the model
    return PASTED.sub(lambda match: match["text"], "".join(texts))


def tool_results_in(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(tool_use id, text) of every ``tool_result`` block in the conversation."""
    results = []
    for message in body.get("messages") or []:
        content = message.get("content")
        if message["role"] != "user" or isinstance(content, str):
            continue
        for block in content or []:
            if block.get("type") != "tool_result":
                continue
            inner = block.get("content")
            text = (
                inner
                if isinstance(inner, str)
                else "".join(
                    part.get("text", "") for part in inner or [] if part.get("type") == "text"
                )
            )
            results.append((block.get("tool_use_id", ""), text))
    return results


def sse(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


class AnthropicDouble(ModelApiDouble):
    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1/messages/count_tokens", self._count_tokens)
        app.router.add_route("*", "/{tail:.*}", self._unknown)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.note_request(request.path, body)
        prompt = prompt_of(body)
        if prompt is not None:
            self.record(prompt)
        for call_id, text in tool_results_in(body):
            self.record_tool_result(call_id, text)
        offered = [tool.get("name", "") for tool in body.get("tools") or []]
        call = self.call_to_make(offered) if prompt is not None else None
        await self.wait_delay()
        message = {
            "id": f"msg_double_{len(self.requests)}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "double"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 1},
        }
        if not body.get("stream"):
            if call is not None:
                use = {"type": "tool_use", "id": call[0], "name": call[1]}
                use["input"] = self._arguments()
                final = message | {"content": [use], "stop_reason": "tool_use"}
            else:
                final = message | {
                    "content": [{"type": "text", "text": self.answer}],
                    "stop_reason": "end_turn",
                }
            return web.json_response(final)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        events = self._events(message) if call is None else self._tool_events(message, call)
        try:
            await response.prepare(request)
            for name, data in events:
                await response.write(sse(name, data))
            await response.write_eof()
        except ConnectionResetError:
            pass  # the user interrupted the turn (Escape) and Claude Code hung up
        return response

    def _events(self, message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        block = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": self.answer}
        stop = {"stop_reason": "end_turn", "stop_sequence": None}
        return [
            ("message_start", {"type": "message_start", "message": message}),
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": block},
            ),
            ("ping", {"type": "ping"}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {"type": "message_delta", "delta": stop, "usage": {"output_tokens": 2}},
            ),
            ("message_stop", {"type": "message_stop"}),
        ]

    def _arguments(self) -> dict[str, Any]:
        assert self.tool_call is not None
        return dict(self.tool_call.arguments)

    def _tool_events(
        self, message: dict[str, Any], call: tuple[str, str]
    ) -> list[tuple[str, dict[str, Any]]]:
        block = {"type": "tool_use", "id": call[0], "name": call[1], "input": {}}
        delta = {"type": "input_json_delta", "partial_json": json.dumps(self._arguments())}
        stop = {"stop_reason": "tool_use", "stop_sequence": None}
        return [
            ("message_start", {"type": "message_start", "message": message}),
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": block},
            ),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {"type": "message_delta", "delta": stop, "usage": {"output_tokens": 2}},
            ),
            ("message_stop", {"type": "message_stop"}),
        ]

    async def _count_tokens(self, request: web.Request) -> web.Response:
        self.note_request(request.path, await request.json())
        return web.json_response({"input_tokens": 10})

    async def _unknown(self, request: web.Request) -> web.Response:
        self.note_request(f"{request.method} {request.path}", await request.text())
        error = {"type": "not_found_error", "message": f"the double has no {request.path}"}
        return web.json_response({"type": "error", "error": error}, status=404)
