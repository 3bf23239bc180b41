"""The double rate-limits on demand as Discord does: a 429 with ``retry_after`` for a
route's bucket or for the whole bot (global), interaction routes exempt from the global
limit. Driven with aiohttp."""

from __future__ import annotations

from tests.discord_double.conftest import Raw


async def test_a_route_limit_is_a_429_with_retry_after_then_the_route_works(raw: Raw) -> None:
    path = f"/channels/{raw.double.guild.channel_id}/messages"
    raw.double.rate_limit(lambda c: c.method == "POST" and c.path == path, retry_after=0.5)
    url = raw.double.api_base + path
    async with raw.http.post(url, json={"content": "one"}) as limited:
        assert limited.status == 429
        assert await limited.json() == {
            "message": "You are being rate limited.",
            "retry_after": 0.5,
            "global": False,
            "code": 0,
        }
        assert limited.headers["Via"] and limited.headers["X-RateLimit-Remaining"] == "0"
        assert limited.headers["X-RateLimit-Scope"] == "user"
        assert limited.headers["X-RateLimit-Bucket"]
        assert "X-RateLimit-Global" not in limited.headers
    assert (await raw.call("POST", path, {"content": "again"})).status == 200
    assert [(c.path, is_global) for c, is_global in raw.double.rate_limited] == [(path, False)]


async def test_a_global_limit_spares_interaction_routes(raw: Raw) -> None:
    raw.double.global_rate_limit(retry_after=1.5)
    sent = await raw.double.slash("ping", raw.user)
    assert (await raw.callback(sent, 4, content="pong")).status == 200  # not bound to it
    url = f"{raw.double.api_base}/channels/{raw.double.guild.channel_id}"
    async with raw.http.get(url) as limited:
        assert limited.status == 429
        body = await limited.json()
        assert (body["global"], body["retry_after"]) == (True, 1.5)
        assert limited.headers["X-RateLimit-Global"] == "true"
        assert limited.headers["X-RateLimit-Scope"] == "global"
        assert limited.headers["Retry-After"] == "2"
    async with raw.http.get(url) as passed:
        assert passed.status == 200
