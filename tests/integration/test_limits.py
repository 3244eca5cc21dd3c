"""[limits] on a real `parley serve`: a key past its requests a minute gets 429 with Retry-After; a key holding
its most live sessions cannot open another stream, while the one it holds can reconnect; a stream token
expires."""

import asyncio
import urllib.error
import urllib.request

import aiohttp
import pytest

from gateway.client import GatewayClient
from tests.integration.test_api import new_key
from tests.integration.ws import next_event
from tests.servers import start_server, stop_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("limited"), {"PARLEY_LIMITS_REQUESTS_PER_MINUTE": "30",
                                                               "PARLEY_LIMITS_SESSIONS_PER_KEY": "1",
                                                               "PARLEY_SESSIONS_STREAM_TOKEN_TTL_S": "2"})
    yield server
    stop_server(server)


def get(server, key: str) -> urllib.error.HTTPError | int:
    req = urllib.request.Request(server.url + "/v1/conversations", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err


def test_a_key_past_its_requests_a_minute_gets_429_with_retry_after(limited):
    key, other = new_key(limited), new_key(limited)
    answers = [get(limited, key) for _ in range(31)]
    assert answers[:30] == [200] * 30  # the burst: a minute's allowance
    refused = answers[30]
    assert isinstance(refused, urllib.error.HTTPError) and refused.code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert b'"rate_limited"' in refused.read()
    assert get(limited, other) == 200  # per key


async def test_a_key_holding_its_most_live_sessions_cannot_open_another(limited):
    key = new_key(limited)
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(limited.url, key, http)
        first = (await client.create(voice_id="joe"))["session_id"]
        second = (await client.create(voice_id="joe"))["session_id"]
        async with http.ws_connect(client.stream_url(first, 16000, "pcm16"), headers=client.headers) as ws:
            assert (await next_event(ws))["type"] == "session_started"
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(client.stream_url(second, 16000, "pcm16"), headers=client.headers)
            assert refused.value.status == 429
            # The session it holds may come back (a dropped connection): that replaces, not adds.
            async with http.ws_connect(client.stream_url(first, 16000, "pcm16"), headers=client.headers) as again:
                assert (await next_event(again))["type"] == "session_started"


async def test_a_stream_token_expires_and_the_api_key_still_opens_the_stream(limited):
    key = new_key(limited)
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(limited.url, key, http)
        created = await client.create(voice_id="joe")
        base = f"{limited.url}/v1/conversations/{created['session_id']}/stream?sample_rate=16000&encoding=pcm16"
        async with http.ws_connect(f"{base}&token={created['stream_token']}") as ws:  # fresh: it opens
            assert (await next_event(ws))["type"] == "session_started"
            await ws.send_json({"type": "end"})
        fresh = await client.create(voice_id="joe")
        await asyncio.sleep(2.5)  # the token's time to live (2 s here) is what is tested: real time must pass
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{limited.url}/v1/conversations/{fresh['session_id']}/stream?sample_rate=16000"
                                  f"&encoding=pcm16&token={fresh['stream_token']}")
        assert refused.value.status == 403
        async with http.get(f"{limited.url}/v1/conversations/{fresh['session_id']}/stream?sample_rate=16000"
                            f"&encoding=pcm16&token={fresh['stream_token']}") as resp:
            assert "expired" in (await resp.json())["error"]["message"]
        async with http.ws_connect(client.stream_url(fresh["session_id"], 16000, "pcm16"),
                                   headers=client.headers) as ws:
            assert (await next_event(ws))["type"] == "session_started"
