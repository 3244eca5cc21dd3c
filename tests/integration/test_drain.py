"""Draining on SIGTERM (server.drain_timeout_s): a live call finishes on this node, new ones are refused with
503 and /healthz turns 503 "draining" (load balancers send calls elsewhere), then the process exits cleanly."""

import json
import signal
import time

import aiohttp
import pytest

from gateway.client import GatewayClient
from tests.integration.test_api import new_key, request
from tests.integration.ws import next_event
from tests.servers import http_get, start_server

pytestmark = pytest.mark.slow


async def test_sigterm_drains_live_calls_and_refuses_new_ones(tmp_path):
    server = start_server(tmp_path, {"PARLEY_SERVER_DRAIN_TIMEOUT_S": "120"})
    try:
        key = new_key(server)
        async with aiohttp.ClientSession() as http:
            client = GatewayClient(server.url, key, http)
            sid = (await client.create(voice_id="joe", system_prompt="Answer in one short sentence."))["session_id"]
            async with http.ws_connect(client.stream_url(sid, 16000, "pcm16"), headers=client.headers) as ws:
                assert (await next_event(ws))["type"] == "session_started"
                server.process.send_signal(signal.SIGTERM)
                while True:  # the drain begins as the signal is handled
                    status, body = http_get(server.url + "/healthz")
                    if status == 503:
                        break
                    time.sleep(0.05)
                assert body == {"status": "draining"}
                status, refused = request(server, "POST", "/v1/conversations/create", key, {"voice_id": "joe"})
                assert status == 503 and refused["error"]["code"] == "draining", refused
                await ws.send_str(json.dumps({"type": "user_text", "text": "Are you still there?"}))
                while (event := await next_event(ws))["type"] != "turn_end" or event["role"] != "assistant":
                    pass  # the live call is still answered
                assert server.process.poll() is None  # still up: a call is live
                await ws.send_str(json.dumps({"type": "end"}))
                while (await ws.receive(timeout=30)).type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    pass
        assert server.process.wait(60) == 0  # the last call over: it shuts down at once, cleanly
        assert '"event": "drained"' in server.log()
    finally:
        if server.process.poll() is None:
            server.process.kill()
