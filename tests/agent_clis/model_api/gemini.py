"""The Gemini API (``generativelanguage.googleapis.com``) as Gemini CLI speaks it when
``GOOGLE_GEMINI_BASE_URL`` points here: streamed and plain ``generateContent``,
``countTokens`` and the models list.

Gemini CLI streams the turns of its chat (``:streamGenerateContent?alt=sse``) and asks its
side questions (which model to route to, whether it loops, who speaks next) with plain
``:generateContent`` and a JSON schema to answer in. Only a streamed request whose last
content is the user's text starts a turn; one that ends with a function response carries
tool results.

With a :class:`ToolCall`, the first turn offering the tool is answered with a
``functionCall`` part; the ``functionResponse`` Gemini CLI sends back is recorded."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.agent_clis.model_api.base import ModelApiDouble

MODEL_PATH = "/{version}/models/{model}"
SESSION_CONTEXT = "<session_context>"


class GeminiDouble(ModelApiDouble):
    def routes(self, app: web.Application) -> None:
        app.router.add_post(MODEL_PATH + ":streamGenerateContent", self._stream)
        app.router.add_post(MODEL_PATH + ":generateContent", self._generate)
        app.router.add_post(MODEL_PATH + ":countTokens", self._count_tokens)
        app.router.add_get("/{version}/models", self._models)
        app.router.add_get(MODEL_PATH, self._model)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        prompt = user_prompt(body)
        if prompt is not None:
            self.record(prompt)
        for call_id, text in self._responses_in(body):
            self.record_tool_result(call_id, text)
        call = self.call_to_make(declared(body)) if prompt is not None else None
        await self.wait_delay()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        model = request.match_info["model"]
        if call is None:
            chunk = json.dumps(candidate_response(self.answer, model))
        else:
            assert self.tool_call is not None
            part = {
                "functionCall": {"id": call[0], "name": call[1], "args": self.tool_call.arguments}
            }
            chunk = json.dumps(candidate_response(self.answer, model, [part]))
        try:
            await response.prepare(request)
            await response.write(f"data: {chunk}\r\n\r\n".encode())
            await response.write_eof()
        except ConnectionResetError:
            pass  # the CLI cancelled the turn (Esc, ctrl+c) while the answer was delayed
        return response

    def _responses_in(self, body: dict[str, Any]) -> list[tuple[str, str]]:
        """(call id, text) of every function response in the conversation; one without an id
        is matched to the call of its name."""
        by_name = {name: call_id for call_id, name in self.calls}
        found = []
        for content in body.get("contents") or []:
            for part in content.get("parts") or []:
                answer = part.get("functionResponse")
                if answer is None:
                    continue
                call_id = answer.get("id") or by_name.get(answer.get("name", ""), "")
                found.append((call_id, json.dumps(answer.get("response"), ensure_ascii=False)))
        return found

    async def _generate(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        config = body.get("generationConfig") or {}
        schema = config.get("responseJsonSchema") or config.get("responseSchema")
        text = json.dumps(satisfying(schema)) if schema else self.answer
        return web.json_response(candidate_response(text, request.match_info["model"]))

    async def _count_tokens(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        return web.json_response({"totalTokens": max(1, len(json.dumps(body)) // 4)})

    async def _models(self, request: web.Request) -> web.Response:
        self.note_request(request.path, None)
        return web.json_response({"models": []})

    async def _model(self, request: web.Request) -> web.Response:
        self.note_request(request.path, None)
        name = request.match_info["model"]
        return web.json_response({"name": f"models/{name}", "inputTokenLimit": 1_048_576})

    async def _body(self, request: web.Request) -> dict[str, Any]:
        body = await request.json()
        self.note_request(request.path, body)
        return body


def user_prompt(body: dict[str, Any]) -> str | None:
    """The user's text in the last content, else None (tool results). The first turn's
    content also carries the CLI's ``<session_context>`` part, which is left out."""
    contents = body.get("contents") or []
    if not contents or contents[-1].get("role") != "user":
        return None
    parts = contents[-1].get("parts") or []
    if not parts or any("text" not in part for part in parts):
        return None
    texts = [part["text"] for part in parts if not part["text"].startswith(SESSION_CONTEXT)]
    return "".join(texts)


def declared(body: dict[str, Any]) -> list[str]:
    """The names of the functions a request offers the model."""
    return [
        function.get("name", "")
        for tool in body.get("tools") or []
        for function in tool.get("functionDeclarations") or []
    ]


def candidate_response(
    text: str, model: str, parts: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": parts or [{"text": text}]},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 2, "totalTokenCount": 12},
        "modelVersion": model,
    }


def satisfying(schema: dict[str, Any]) -> Any:
    """The smallest value a JSON schema (OpenAPI or JSON Schema spelling) accepts."""
    kind = str(schema.get("type", "object")).lower()
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        properties = schema.get("properties") or {}
        required = schema.get("required") or list(properties)
        return {name: satisfying(properties.get(name, {})) for name in required}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    return ""
