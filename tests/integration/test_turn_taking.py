"""Turn-taking on the real server with the real models: exact barge-in, no false barge-in, no echo
barge-in, slow digits kept in one turn. The caller is a real-time line (tests/integration/line.py)."""

import asyncio
import difflib
import re

import aiohttp
import pytest

from gateway.client import GatewayClient
from media.audioop_lib import audioop
from tests.integration.line import FRAME, RATE, Line
from tests.integration.test_api import SEED_BODY, new_key
from tests.unit.agents.asr.clips import at_rate, piper

CHATTY = ("You are a chatty assistant. Whatever the user says, answer with at least six long sentences "
          "about the history of the telephone.")


@pytest.fixture(scope="module")
def key(server) -> str:
    return new_key(server, "--name", "turn-taking-tests")


def spoken(text: str) -> bytes:
    return at_rate(piper(text), RATE)


def silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(RATE * seconds)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


async def open_line(http, server, key, body: dict, **line_options):
    client = GatewayClient(server.url, key, http)
    sid = (await client.create(**body))["session_id"]
    ws = await http.ws_connect(client.stream_url(sid, RATE, "pcm16"), headers=client.headers)
    return client, sid, ws, Line(ws, **line_options)


async def talking(line: Line, prompt: str = "Tell me about telephones.", seconds: float = 1.0) -> None:
    """Ask for a long reply and wait until the caller has heard `seconds` of it."""
    line.send_json({"type": "user_text", "text": prompt})
    await line.wait_for(lambda e: e["type"] == "turn_start" and e.get("role") == "assistant", timeout=120)
    start = len(line.played)
    while len(line.played) - start < int(RATE * 2 * seconds):
        await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
def stop_clip() -> bytes:
    # Made before any line opens: synthesis blocks the test's event loop, and so the line's clock.
    return spoken("Stop, I have a different question.")


def leading_silence_s(clip: bytes) -> float:
    for i in range(0, len(clip) - FRAME, FRAME):
        if audioop.rms(clip[i:i + FRAME], 2) > 300:
            return i / (RATE * 2)
    return 0.0


def reaction_ms(line: Line, clip: bytes) -> int:
    """Caller speech onset -> the last reply frame that arrived before the reply stopped."""
    onset = line.speech_started_at + leading_silence_s(clip)
    after = [t for t, _ in line.received if t >= onset]
    last = onset
    for t in after:
        if t - last > 0.3:
            break
        last = t
    return round((last - onset) * 1000)


@pytest.mark.parametrize("listen_s", [1.0, 3.5])
async def test_interruption_keeps_exactly_what_the_caller_heard(server, key, whisper, stop_clip, listen_s):
    async with aiohttp.ClientSession() as http:
        client, sid, ws, line = await open_line(http, server, key, {"voice_id": "joe", "system_prompt": CHATTY})
        async with ws, line:
            await talking(line, seconds=listen_s)
            line.say(stop_clip)
            cut = await line.wait_for(lambda e: e["type"] == "interruption", timeout=30)
            await line.wait_for(lambda e: e["type"] == "turn_end" and e["turn_id"] == "turn_003", timeout=30)
            stop_ms = reaction_ms(line, stop_clip)
            await line.send_json({"type": "end"})
        detail = await client.request("GET", f"/v1/conversations/{sid}")
    print(f"barge-in reaction (speech onset -> last reply frame): {stop_ms} ms; played_ms {cut['played_ms']}")
    assert stop_ms <= 450  # guard 200 ms + a frame + loopback; the benchmark reports the p50/p95
    assert abs(cut["played_ms"] - listen_s * 1000) <= 800
    stored = next(t for t in detail["history"] if t["turn_id"] == cut["turn_id"])
    assert stored["interrupted"] is True and stored["text"] == cut["text"]
    # What the history says was heard is what the caller's speaker played, word for word (give or take
    # Whisper's hearing of it).
    played = bytes(line.played[:line.played_at_interruption])
    start = int(leading_silence_s(played) * RATE) * 2
    heard = whisper(played[start:], RATE)
    # Letters, not words, so "telephone's" heard for "telephones" is no mismatch; within a word or two.
    letters = difflib.SequenceMatcher(None, "".join(words(heard)), "".join(words(cut["text"]))).ratio()
    assert letters >= 0.7 and abs(len(words(heard)) - len(words(cut["text"]))) <= 2, (heard, cut["text"])


async def test_backchannels_do_not_interrupt_the_reply(server, key):
    # Not Piper's "Mm-hmm.": Whisper hears that rendering as "in a month." (real hums come out as "Mm-hmm.").
    clips = [spoken(word) for word in ("Okay.", "Uh-huh.")]
    async with aiohttp.ClientSession() as http:
        client, sid, ws, line = await open_line(http, server, key, {"voice_id": "joe", "system_prompt": CHATTY})
        async with ws, line:
            await talking(line, seconds=1.5)
            for clip in clips:
                line.say(clip)
                await asyncio.sleep(2.5)
            frames_before = len(line.received)
            await asyncio.sleep(1.0)
            still_talking = len(line.received) > frames_before
            await line.send_json({"type": "end"})
            await line.wait_for(lambda e: e["type"] == "session_ended", timeout=30)
    assert not any(e["type"] == "interruption" for e in line.events)
    assert [e.get("role") for e in line.events if e["type"] == "turn_start"] == ["user", "assistant"]
    assert still_talking  # the reply played on after "okay" and "uh-huh"


async def test_the_assistants_echo_does_not_interrupt_but_the_caller_does(server, key, stop_clip):
    async with aiohttp.ClientSession() as http:
        client, sid, ws, line = await open_line(http, server, key, {"voice_id": "joe", "system_prompt": CHATTY},
                                                echo_gain=0.1, echo_delay_s=0.15)  # -20 dB, 150 ms
        async with ws, line:
            await talking(line, seconds=4.0)  # four seconds of its own voice coming back
            assert not any(e["type"] == "interruption" for e in line.events)
            line.say(stop_clip)
            await line.wait_for(lambda e: e["type"] == "interruption", timeout=30)
            await line.send_json({"type": "end"})


async def test_digits_read_slowly_stay_one_turn(server, key):
    clip = spoken("My order number is")
    for digit in ("one", "two", "three", "four"):
        clip += silence(0.8) + spoken(digit)
    async with aiohttp.ClientSession() as http:
        client, sid, ws, line = await open_line(http, server, key, SEED_BODY)
        async with ws, line:
            line.say(clip + silence(0.5))
            await line.wait_for(lambda e: e["type"] == "turn_end" and e.get("role") == "assistant", timeout=120)
            await line.send_json({"type": "end"})
        detail = await client.request("GET", f"/v1/conversations/{sid}")
    history = detail["history"]
    assert [t["role"] for t in history[:2]] == ["user", "assistant"], history
    assert re.sub(r"\D", "", history[0]["text"]).endswith("1234"), history[0]["text"]  # every digit, one turn


async def test_a_tool_call_interrupted_midway_is_kept_and_not_run_twice(server, key, stop_clip):
    from gateway.client import DEFAULT_PROMPT
    from tests.integration.test_webhook_tools import LOOKUP, OrderService

    async with OrderService(delay_s=3.0) as service, aiohttp.ClientSession() as http:
        body = {"voice_id": "joe", "system_prompt": DEFAULT_PROMPT, "tools": [{**LOOKUP, "url": service.url}]}
        client, sid, ws, line = await open_line(http, server, key, body)
        async with ws, line:
            line.send_json({"type": "user_text", "text": "What is the status of order 1234?"})
            await line.wait_for(lambda e: e["type"] == "tool_call", timeout=120)
            await asyncio.sleep(0.5)  # the hold line is playing, the shop's service is still working
            line.say(stop_clip)
            cut = await line.wait_for(lambda e: e["type"] == "turn_end" and e.get("role") == "assistant", timeout=60)
            await line.wait_for(lambda e: e["type"] == "turn_end" and e.get("role") == "assistant"
                                and e["turn_id"] != cut["turn_id"], timeout=120)
            await line.send_json({"type": "end"})
        detail = await client.request("GET", f"/v1/conversations/{sid}")
    assert cut["interrupted"] is True
    interrupted = next(t for t in detail["history"] if t["turn_id"] == cut["turn_id"])
    call = interrupted["tool_calls"][0]
    assert call["name"] == "lookup_order" and call["result"]["status"] == "shipped"  # finished, kept
    result = next(e for e in line.events if e["type"] == "tool_result")
    assert result["turn_id"] == cut["turn_id"] and result["duration_ms"] >= 2900
    assert len(service.requests) == 1  # the order was looked up once, not again after the interruption
