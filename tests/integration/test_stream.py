"""The voice loop end to end: a real `parley serve` with the real default models, driven over the WebSocket.

A Piper voice asks about order 1234 in real time; the gateway must hear it, call
lookup_order with 1234, answer in speech that says the order shipped, and keep
a history that matches what was said.
"""

import asyncio
import json
import re

import aiohttp
import pytest

from gateway.client import GatewayClient, converse
from media.resample import resample
from tests.integration.test_api import SEED_BODY, new_key
from tests.unit.agents.asr.clips import at_rate, piper

QUESTION = "What is the status of my order? The order number is one two three four."


@pytest.fixture(scope="session")
def question_16k() -> bytes:
    # Piper without its synthesis noise: the same clip, so the same transcript, every run.
    return at_rate(piper(QUESTION), 16000)


@pytest.fixture(scope="module")
def key(server) -> str:
    return new_key(server, "--name", "stream-tests")


def says_1234(text: str) -> bool:
    return "1234" in re.sub(r"[\s,.-]", "", text) or "one two three four" in text.lower()


def kinds(events: list[dict]) -> list[str]:
    return [e["type"] + (":" + e["role"] if "role" in e and e["type"] != "transcript" else "") for e in events]


async def spoken_order_question(server, key, question, whisper, rate, encoding):
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(server.url, key, http)
        created = await client.create(**SEED_BODY)
        sid = created["session_id"]
        wav = resample(question, 16000, rate) if rate != 16000 else question
        result = await converse(client, sid, wav=wav, sample_rate=rate, encoding=encoding, on_event=lambda e: None)
        detail = await client.request("GET", f"/v1/conversations/{sid}")
    events = result.events
    order = kinds(events)
    assert order[0] == "session_started"
    assert order.index("turn_start:user") < order.index("turn_end:user") < order.index("tool_call")
    # the hold line may be heard (turn_start) while the model is still writing the tool call
    assert order.index("tool_call") < order.index("tool_result") < order.index("turn_end:assistant")
    assert order.index("turn_end:user") < order.index("turn_start:assistant") < order.index("turn_end:assistant")
    assert order[-1] == "session_ended"
    user_final = next(e for e in events if e["type"] == "transcript" and e["role"] == "user" and e["is_final"])
    assert says_1234(user_final["text"]), user_final
    call = next(e for e in events if e["type"] == "tool_call")
    # "1234", or "1-234" when Whisper writes the digits so: the tool reads order numbers by their digits
    assert call["name"] == "lookup_order" and re.sub(r"\D", "", call["arguments"]["order_id"]) == "1234"
    result_event = next(e for e in events if e["type"] == "tool_result")
    assert result_event["result"]["status"] == "shipped"
    start = next(e for e in events if e["type"] == "turn_start" and e["role"] == "assistant")
    assert isinstance(start["latency_ms"], int) and 0 < start["latency_ms"] < 30000
    assert len(result.audio) > rate  # more than half a second of speech came back
    heard = whisper(bytes(result.audio), rate).lower()
    # The look-up's facts reach the listener. Whisper tiny.en, the tests' ear, hears Piper's "shipped" as "shift"
    # in about one synthesis in ten (9 of 10 heard right, measured), so two of the three facts must be heard.
    assert sum(fact in heard for fact in ("ship", "ups", "friday")) >= 2, heard
    history = detail["history"]
    assert [t["role"] for t in history] == ["user", "assistant"]
    assert history[0]["text"] == user_final["text"]
    assistant_final = next(e for e in events if e["type"] == "transcript" and e["role"] == "assistant")
    assert history[1]["text"] == assistant_final["text"] and history[1]["latency_ms"] == start["latency_ms"]
    assert history[1]["tool_calls"][0]["arguments"] == call["arguments"]
    assert history[1]["interrupted"] is False and history[1]["guarded"] == 0
    # the answer itself starts with the hold line ("Let me look that up.") or after it, never before
    assert history[1]["answer_latency_ms"] >= history[1]["latency_ms"]
    assert detail["status"] == "ended" and detail["total_turns"] == 2
    return result


async def test_spoken_question_gets_tool_call_and_spoken_answer(server, key, question_16k, whisper):
    await spoken_order_question(server, key, question_16k, whisper, 16000, "pcm16")


async def test_phone_band_mulaw_8k_stream(server, key, question_16k, whisper):
    await spoken_order_question(server, key, question_16k, whisper, 8000, "mulaw")


async def test_opus_48k_stream(server, key, question_16k, whisper):
    await spoken_order_question(server, key, question_16k, whisper, 48000, "opus")


async def test_typed_turns_max_turns_and_history(server, key):
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(server.url, key, http)
        sid = (await client.create(voice_id="joe", system_prompt="Answer in one short sentence.", max_turns=2))["session_id"]
        result = await converse(client, sid, texts=["Hello, who are you?", "Never answered"], on_event=lambda e: None)
        detail = await client.request("GET", f"/v1/conversations/{sid}")
    ended = result.events[-1]
    assert ended == {"type": "session_ended", "reason": "max_turns", "total_turns": 2}
    assert [t["role"] for t in detail["history"]] == ["user", "assistant"]
    assert detail["history"][0]["text"] == "Hello, who are you?" and detail["history"][1]["text"]
    assert detail["status"] == "ended" and detail["end_reason"] == "max_turns"


async def test_resume_replays_missed_turns_once(server, key):
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(server.url, key, http)
        sid = (await client.create(voice_id="joe", system_prompt="Answer in one short sentence."))["session_id"]
        first = await converse(client, sid, texts=["Say hello."], on_event=lambda e: None, hang_up=False)
        assert [e["turn_id"] for e in first.events if e["type"] == "turn_end"] == ["turn_001", "turn_002"]
        url = client.stream_url(sid, 16000, "pcm16", last_turn_id="turn_001")
        async with http.ws_connect(url, headers=client.headers) as ws:
            started = await ws.receive_json(timeout=10)
            assert started == {"type": "session_started", "session_id": sid, "resumed": True,
                               "last_turn_id": "turn_002"}
            replay = [await ws.receive_json(timeout=10) for _ in range(2)]
            assert [e["type"] for e in replay] == ["transcript", "turn_end"]
            assert {e["turn_id"] for e in replay} == {"turn_002"} and replay[0]["role"] == "assistant"
            # nothing else is replayed: the next event is the answer to a new turn
            await ws.send_str(json.dumps({"type": "user_text", "text": "And goodbye."}))
            nxt = await ws.receive_json(timeout=30)
            assert nxt == {"type": "turn_start", "role": "user", "turn_id": "turn_003"}


async def test_bad_frames_and_messages_get_error_events_and_the_call_goes_on(server, key):
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(server.url, key, http)
        sid = (await client.create(voice_id="joe", system_prompt="Answer in one short sentence."))["session_id"]
        async with http.ws_connect(client.stream_url(sid, 16000, "pcm16"), headers=client.headers) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "session_started"
            for bad in ("{nope", json.dumps([1]), json.dumps({"type": "dance"}), json.dumps({"type": "user_text"}),
                        json.dumps({"type": "playback", "played_ms": -3}), "[" * 100_000 + "]" * 100_000):
                await ws.send_str(bad)
                event = await ws.receive_json(timeout=10)
                assert event["type"] == "error" and event["code"] == "bad_message", event
            await ws.send_bytes(b"\x01\x02\x03")  # odd byte count: not pcm16
            event = await ws.receive_json(timeout=10)
            assert event["type"] == "error" and event["code"] == "bad_audio"
            await ws.send_str(json.dumps({"type": "user_text", "text": "Are you still there?"}))
            events = []
            while not events or events[-1]["type"] != "turn_end" or events[-1]["role"] != "assistant":
                msg = await ws.receive(timeout=60)
                if msg.type == aiohttp.WSMsgType.TEXT:
                    events.append(json.loads(msg.data))
            assert any(e["type"] == "transcript" and e["role"] == "assistant" and e["text"] for e in events)


async def test_opus_garbage_is_an_error_event(server, key):
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(server.url, key, http)
        sid = (await client.create(voice_id="joe", system_prompt="Hi."))["session_id"]
        async with http.ws_connect(client.stream_url(sid, 48000, "opus"), headers=client.headers) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "session_started"
            await ws.send_bytes(b"\xff\xff\xff")
            event = await ws.receive_json(timeout=10)
            assert event["type"] == "error" and event["code"] == "bad_audio"


async def test_delete_closes_a_live_stream(server, key):
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(server.url, key, http)
        sid = (await client.create(voice_id="joe", system_prompt="Hi."))["session_id"]
        async with http.ws_connect(client.stream_url(sid, 16000, "pcm16"), headers=client.headers) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "session_started"
            deleted = await client.request("DELETE", f"/v1/conversations/{sid}")
            assert deleted["status"] == "ended"
            event = await ws.receive_json(timeout=10)
            assert event == {"type": "session_ended", "reason": "deleted", "total_turns": 0}
            msg = await ws.receive(timeout=10)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)


async def test_barge_in_cuts_the_reply_and_history_keeps_what_was_heard(server, key, question_16k):
    prompt = ("You are a chatty assistant. Whatever the user says, answer with at least six long sentences "
              "about the history of the telephone.")
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(server.url, key, http)
        sid = (await client.create(voice_id="joe", system_prompt=prompt))["session_id"]
        events: list[dict] = []
        async with http.ws_connect(client.stream_url(sid, 16000, "pcm16"), headers=client.headers) as ws:

            async def receive():
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.TEXT:
                        events.append(json.loads(msg.data))

            receiver = asyncio.create_task(receive())
            await ws.send_str(json.dumps({"type": "user_text", "text": "Tell me about telephones."}))
            for _ in range(600):
                if any(e["type"] == "turn_start" and e.get("role") == "assistant" for e in events):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.5)  # let it talk a while, then talk over it in real time
            frame = 640
            clip = question_16k + b"\x00" * frame * 40
            for i in range(0, len(clip) - frame + 1, frame):
                await ws.send_bytes(clip[i:i + frame])
                await asyncio.sleep(0.02)
            for _ in range(300):  # the caller's own turn is heard out and stored before hanging up
                if any(e["type"] == "turn_end" and e["turn_id"] == "turn_003" for e in events):
                    break
                await asyncio.sleep(0.1)
            await ws.send_str(json.dumps({"type": "end"}))
            await asyncio.wait_for(receiver, 60)
        detail = await client.request("GET", f"/v1/conversations/{sid}")
    cut = next(e for e in events if e["type"] == "interruption")
    assert cut["turn_id"] == "turn_002" and 1000 <= cut["played_ms"] <= 6000
    end = next(e for e in events if e["type"] == "turn_end" and e["turn_id"] == "turn_002")
    assert end["interrupted"] is True
    stored = next(t for t in detail["history"] if t["turn_id"] == "turn_002")
    assert stored["interrupted"] is True and stored["text"] == cut["text"]
    planned = next(e for e in events if e["type"] == "transcript" and e["turn_id"] == "turn_002")
    assert planned["text"] == cut["text"]  # the transcript says only what was heard
    assert any(t["role"] == "user" and t["turn_id"] == "turn_003" for t in detail["history"])
