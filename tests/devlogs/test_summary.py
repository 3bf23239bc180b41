"""Summaries through the real ``openai`` client against the OpenAI double on 127.0.0.1:
providers in order, bounded time, one retry, and never an exception."""

from __future__ import annotations

import time

from config.model import Secret
from config.settings import OpenAISettings, SummaryProvider
from devlogs.summary import Summarizer, providers_of
from tests.openai_double import OpenAIDouble


def provider(double: OpenAIDouble, model: str = "local") -> SummaryProvider:
    return SummaryProvider(base_url=double.base_url, model=model, api_key=Secret("k-test"))


async def test_the_summary_comes_from_the_server_with_model_key_and_text() -> None:
    async with OpenAIDouble(answer="Sync is 3x faster. Next: docs.") as double:
        summary = await Summarizer([provider(double, "qwen")], 5).summarize("Sync", "Made it fast.")
    assert summary.text == "Sync is 3x faster. Next: docs."
    [request] = double.requests
    assert request["model"] == "qwen"
    assert "# Sync\n\nMade it fast." in request["messages"][-1]["content"]
    assert double.authorizations == ["Bearer k-test"]


async def test_one_retry_then_the_next_provider() -> None:
    async with (
        OpenAIDouble(status=503) as down,
        OpenAIDouble(fail_first=1, answer="From the second.") as flaky,
    ):
        summary = await Summarizer([provider(down), provider(flaky)], 5).summarize("t", "b")
    assert summary.text == "From the second."
    assert (len(down.requests), len(flaky.requests)) == (2, 2)  # each: a try and one retry


async def test_a_hanging_server_is_given_up_on_in_bounded_time() -> None:
    async with OpenAIDouble(delay_s=30) as hung:
        started = time.monotonic()
        summary = await Summarizer([provider(hung)], 0.3).summarize("t", "b")
        took = time.monotonic() - started
    assert summary.text is None
    assert summary.reason is not None and "attempt 2" in summary.reason
    assert took < 3.0  # two attempts of 0.3 s, not the server's 30 s


async def test_without_providers_there_is_no_summary_and_a_reason() -> None:
    providers = providers_of(OpenAISettings(), [])
    summary = await Summarizer(providers, 1).summarize("t", "b")
    assert providers == [] and summary.text is None
    assert summary.reason and "no summary provider" in summary.reason
