"""Recordings and the admin's live view against a real `parley serve` (SPEC §7)."""

import asyncio
import io
import json
import wave

import aiohttp
import pytest

from gateway.client import GatewayClient, converse
from media.audioop_lib import audioop
from tests.integration.test_api import new_key, request
from tests.integration.test_stream import question_16k  # noqa: F401 - a fixture
from tests.servers import start_server, stop_server

RECORDING_PERSONA = {"name": "Recorded line", "voice_id": "joe", "recording": True, "tools": [{"name": "lookup_order"}],
                     "system_prompt": "You are Acme's support agent. Answer in one short sentence."}


@pytest.fixture(scope="module")
def admin(server) -> str:
    return new_key(server, "--admin", "--name", "live-admin")


class LiveFeed:
    """Follows GET /v1/live/events (server-sent events) in the background."""

    def __init__(self, http: aiohttp.ClientSession, url: str, key: str) -> None:
        self.messages: list[dict] = []
        self._task = asyncio.create_task(self._follow(http, url, key))
        self.ready = asyncio.Event()

    async def _follow(self, http, url, key) -> None:
        async with http.get(f"{url}/v1/live/events", headers={"Authorization": f"Bearer {key}"}) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
            async for line in resp.content:
                if line.startswith(b"data: "):
                    self.messages.append(json.loads(line[6:]))
                    self.ready.set()

    async def wait_for(self, check, timeout: float = 30.0) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for message in self.messages:
                if check(message):
                    return message
            await asyncio.sleep(0.05)
        raise AssertionError(f"not seen in the live feed: {self.messages[-10:]}")

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def channels(wav_bytes: bytes) -> tuple[bytes, bytes, int]:
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        assert wav.getnchannels() == 2 and wav.getsampwidth() == 2
        frames, rate = wav.readframes(wav.getnframes()), wav.getframerate()
    return audioop.tomono(frames, 2, 1, 0), audioop.tomono(frames, 2, 0, 1), rate


async def wait_for_status(server, key, session_id: str, field: str) -> dict:
    for _ in range(100):
        body = request(server, "GET", f"/v1/conversations/{session_id}", key)[1]
        if body.get(field):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"{field} never appeared: {body}")


async def test_a_recorded_call_seen_live(server, admin, question_16k):  # noqa: F811
    pid = request(server, "POST", "/v1/personas", admin, RECORDING_PERSONA)[1]["persona_id"]
    async with aiohttp.ClientSession() as http:
        feed = LiveFeed(http, server.url, admin)
        await asyncio.wait_for(feed.ready.wait(), 10)
        assert feed.messages[0]["type"] == "snapshot"
        client = GatewayClient(server.url, admin, http)
        sid = (await client.create(persona_id=pid))["session_id"]
        result = await converse(client, sid, wav=question_16k, on_event=lambda e: None)
        started = await feed.wait_for(lambda m: m["type"] == "call_started" and m["call"]["session_id"] == sid)
        assert started["call"]["channel"] == "api" and started["call"]["persona_id"] == pid
        said = await feed.wait_for(lambda m: m["type"] == "event" and m["session_id"] == sid
                                   and m["event"]["type"] == "transcript" and m["event"]["role"] == "user"
                                   and m["event"]["is_final"])
        assert said["event"]["text"] == result.transcript()[0][1]
        await feed.wait_for(lambda m: m["type"] == "event" and m["session_id"] == sid
                            and m["event"]["type"] == "tool_call")
        await feed.wait_for(lambda m: m["type"] == "call_ended" and m["session_id"] == sid)
        await feed.close()

    session = await wait_for_status(server, admin, sid, "recording_url")
    assert session["recording"] is True and session["recording_duration_ms"] >= len(question_16k) // 32
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + session["recording_url"], headers={"Authorization": f"Bearer {admin}"}) as r:
            assert r.status == 200 and r.headers["Content-Type"] == "audio/wav"
            left, right, rate = channels(await r.read())
    assert rate == 16000
    spoken = len(question_16k)
    # Left, the caller: the question, then quiet. Right, the assistant: quiet while asked, then the answer.
    assert audioop.rms(left[:spoken], 2) > 300 and audioop.rms(right[:spoken // 4 * 2], 2) < 100
    assert audioop.rms(right[spoken:], 2) > 300

    _, listed = request(server, "GET", "/v1/recordings", admin)
    mine = next(r for r in listed["recordings"] if r["session_id"] == sid)
    assert mine["url"] == session["recording_url"] and mine["persona_id"] == pid and mine["bytes"] > 44
    other = new_key(server, "--name", "someone-else")
    assert request(server, "GET", f"/v1/conversations/{sid}/recording", other)[0] == 404


async def test_live_snapshot_and_who_may_see_it(server, admin):
    client_key = new_key(server, "--name", "not-admin")
    for path in ("/v1/live", "/v1/live/events", "/v1/recordings"):
        assert request(server, "GET", path, client_key)[0] == 403, path
        assert request(server, "GET", path, None)[0] == 401, path
    _, session = request(server, "POST", "/v1/conversations/create", admin,
                         {"voice_id": "joe", "system_prompt": "Answer in five words."})
    sid = session["session_id"]
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{server.url}/v1/conversations/{sid}/stream?token={admin}") as ws:
            await ws.send_json({"type": "user_text", "text": "Hello there."})
            while True:
                msg = await ws.receive(timeout=60)
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue  # the reply's audio
                event = json.loads(msg.data)
                if event.get("type") == "turn_end" and event.get("role") == "assistant":
                    break
            _, live = request(server, "GET", "/v1/live", admin)
            call = next(c for c in live["calls"] if c["session_id"] == sid)
            assert call["channel"] == "api" and call["duration_ms"] > 0
            texts = [e["text"] for e in call["events"] if e["type"] == "transcript"]
            assert texts[0] == "Hello there." and len(texts) == 2
            await ws.send_json({"type": "end"})
    for _ in range(50):
        if sid not in [c["session_id"] for c in request(server, "GET", "/v1/live", admin)[1]["calls"]]:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the ended call is still listed as live")
    assert request(server, "GET", f"/v1/conversations/{sid}/recording", admin)[0] == 404  # did not record


async def test_recordings_go_with_the_sessions_retention(tmp_path):
    server = start_server(tmp_path, {"PARLEY_SESSIONS_RETENTION_DAYS": "0"})
    try:
        admin = new_key(server, "--admin")
        pid = request(server, "POST", "/v1/personas", admin, {**RECORDING_PERSONA, "tools": []})[1]["persona_id"]
        async with aiohttp.ClientSession() as http:
            client = GatewayClient(server.url, admin, http)
            sid = (await client.create(persona_id=pid))["session_id"]
            await converse(client, sid, texts=["Hello."], on_event=lambda e: None)
        await wait_for_status(server, admin, sid, "recording_url")
        assert request(server, "DELETE", f"/v1/conversations/{sid}", admin)[0] == 200
        # still kept until the retention purge runs (at start-up, then hourly)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.url}/v1/conversations/{sid}/recording",
                                headers={"Authorization": f"Bearer {admin}"}) as resp:
                assert resp.status == 200
    finally:
        stop_server(server)
    server = start_server(tmp_path, {"PARLEY_SESSIONS_RETENTION_DAYS": "0"})
    try:
        for _ in range(50):
            if not (server.data_dir / "recordings" / sid).exists():
                break
            await asyncio.sleep(0.1)
        assert not (server.data_dir / "recordings" / sid).exists()
        assert request(server, "GET", f"/v1/conversations/{sid}", admin)[0] == 404
        assert request(server, "GET", "/v1/recordings", admin)[1] == {"recordings": []}
    finally:
        stop_server(server)
