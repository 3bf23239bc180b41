"""AI summaries of devlogs through the ``openai`` client, against any OpenAI-compatible
server: providers tried in order, each request bounded in time and retried once. A
summary that cannot be had is ``None`` with the reason; it never raises."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import openai

from config.settings import OpenAISettings, SummaryProvider

log = logging.getLogger(__name__)

ATTEMPTS = 2  # one retry
MAX_INPUT = 12_000  # characters of the devlog sent
INSTRUCTION = (
    "Summarize this developer log in 2 to 4 plain sentences for the operator of a team of "
    "coding agents: what was done, what is blocked, what comes next. No preamble."
)


@dataclass(frozen=True)
class Summary:
    text: str | None
    reason: str | None = None  # why there is none
    provider: str | None = None


def providers_of(
    openai_settings: OpenAISettings, more: list[SummaryProvider]
) -> list[SummaryProvider]:
    """The ``[openai]`` provider (when configured) first, then ``devlogs.summary_providers``."""
    first = []
    if openai_settings.base_url or openai_settings.api_key:
        first.append(
            SummaryProvider(
                base_url=openai_settings.base_url,
                model=openai_settings.model,
                api_key=openai_settings.api_key,
            )
        )
    return first + list(more)


class Summarizer:
    def __init__(self, providers: list[SummaryProvider], timeout_s: float) -> None:
        self.providers = providers
        self.timeout_s = timeout_s

    async def summarize(self, title: str, body: str) -> Summary:
        if not self.providers:
            return Summary(None, "no summary provider is configured ([openai] base_url/api_key)")
        reasons = []
        for provider in self.providers:
            name = f"{provider.model} at {provider.base_url or 'api.openai.com'}"
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    text = await asyncio.wait_for(
                        self._ask(provider, title, body), self.timeout_s * 1.5
                    )
                except (openai.OpenAIError, TimeoutError, ValueError) as exc:
                    reason = f"{name}, attempt {attempt}: {type(exc).__name__}: {exc}"
                    log.warning("devlog summary failed: %s", reason)
                    reasons.append(reason)
                    continue
                return Summary(text, provider=name)
        return Summary(None, "; ".join(reasons))

    async def _ask(self, provider: SummaryProvider, title: str, body: str) -> str:
        key = provider.api_key.get_secret_value() if provider.api_key else "none"
        client = openai.AsyncOpenAI(
            api_key=key, base_url=provider.base_url, timeout=self.timeout_s, max_retries=0
        )
        try:
            response = await client.chat.completions.create(
                model=provider.model,
                messages=[
                    {"role": "system", "content": INSTRUCTION},
                    {"role": "user", "content": f"# {title}\n\n{body[:MAX_INPUT]}"},
                ],
                max_tokens=300,
            )
        finally:
            await client.close()
        text = (response.choices[0].message.content or "").strip() if response.choices else ""
        if not text:
            raise ValueError("the answer was empty")
        return text
