"""Place one scripted call against a running gateway, as a phone or an app would, and record what it did.

Typed: each step is a `user_text` message. Spoken: the stream is 8 kHz mu-law,
and a line task sends a 20 ms frame every 20 ms for the whole call (a phone
line never stops sending): silence, or the caller's speech when a step speaks,
synthesised by a voice Parley does not use for its own replies. Every step
waits for the greeting or the previous reply to finish first. DTMF steps send
`dtmf` messages in both modes.
"""

import asyncio
import contextlib
import json
import time

import aiohttp

from gateway.client import ClientError, GatewayClient
from gateway.evaluation.cases import AGENT, GREETINGS, Case
from gateway.evaluation.judge import CallRecord, ToolUse
from gateway.evaluation.phone_voices import CallerVoice, synthesise
from media.codecs import make_codec

LINE_RATE_HZ = 8000
FRAME_MS = 20
FRAME_BYTES = LINE_RATE_HZ * FRAME_MS // 1000 * 2  # pcm16
GREETING_TIMEOUT_S = 60.0


class _Call:
    """One open stream: events in, the caller's steps out."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, spoken: bool) -> None:
        self.ws = ws
        self.events: list[dict] = []
        self.changed = asyncio.Event()
        self.ended: str | None = None
        self.spoken = spoken
        self.codec = make_codec("mulaw", LINE_RATE_HZ)
        self.speech = bytearray()  # caller audio still to send (pcm16, 8 kHz)
        self.speech_sent = asyncio.Event()

    async def receive(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                event = json.loads(msg.data)
                self.events.append(event)
                if event["type"] == "session_ended":
                    self.ended = event.get("reason")
                self.changed.set()
        self.ended = self.ended or "closed"
        self.changed.set()

    async def line(self) -> None:
        """Send a frame every 20 ms, on a clock that does not drift: speech when there is some, else silence."""
        silence = b"\x00" * FRAME_BYTES
        started = time.monotonic()
        sent = 0
        while self.ended is None:
            frame, self.speech[:FRAME_BYTES] = bytes(self.speech[:FRAME_BYTES]), b""
            if not frame:
                self.speech_sent.set()
            try:
                await self.ws.send_bytes(self.codec.encode(frame.ljust(FRAME_BYTES, b"\x00") if frame else silence))
            except ConnectionResetError:
                return
            sent += 1
            await asyncio.sleep(max(0.0, started + sent * FRAME_MS / 1000 - time.monotonic()))

    async def say(self, pcm: bytes) -> None:
        self.speech_sent.clear()
        self.speech += pcm
        await self.speech_sent.wait()

    def count(self, kind: str, role: str) -> int:
        return sum(1 for e in self.events if e["type"] == kind and e.get("role") == role)

    async def reply_after(self, mark: int, timeout_s: float) -> None:
        """Wait for an assistant turn to end after event `mark`, with the caller not mid-turn; or the end."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.ended is not None or self._answered(mark):
                return
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)

    def _answered(self, mark: int) -> bool:
        open_user_turn = False
        answered = False
        for event in self.events[mark:]:
            if event["type"] == "turn_start" and event["role"] == "user":
                open_user_turn, answered = True, False
            elif event["type"] == "turn_end" and event["role"] == "user":
                open_user_turn = False
            elif event["type"] == "turn_end" and event["role"] == "assistant" and not open_user_turn:
                answered = True
        return answered and (not self.spoken or not self.speech)


async def place_call(client: GatewayClient, case: Case, mode: str, voice: CallerVoice | None, *,
                     voice_ids: dict[str, str], reply_timeout_s: float = 60.0,
                     fields: dict | None = None) -> CallRecord:
    """Run `case` once; never raises for what the gateway did (that is judged), only for a broken client.
    `fields`: session fields added to the agent's (e.g. {"asr": {"model": "base"}})."""
    record = CallRecord(case, mode, voice.name if voice else None)
    body = {**AGENT, "greeting": GREETINGS[case.language], **(fields or {})}
    if case.language != "en":
        body |= {"language": case.language, "voice_id": voice_ids[case.language]}
    spoken = mode == "spoken"
    clips = {}
    if spoken:
        loop = asyncio.get_running_loop()
        for step in case.steps:
            if step.say:
                clips[step.say] = await loop.run_in_executor(None, synthesise, step.say, voice)
    try:
        created = await client.create(defaults=False, **body)
    except ClientError as exc:
        record.failure = f"session refused: {exc}"
        return record
    session_id = created["session_id"]
    encoding = "mulaw" if spoken else "pcm16"
    url = client.stream_url(session_id, LINE_RATE_HZ if spoken else 16000, encoding)
    async with client.http.ws_connect(url, headers=client.headers, max_msg_size=0) as ws:
        call = _Call(ws, spoken)
        tasks = [asyncio.create_task(call.receive())]
        if spoken:
            tasks.append(asyncio.create_task(call.line()))
        try:
            await call.reply_after(0, GREETING_TIMEOUT_S)  # the greeting has played
            for step in case.steps:
                if call.ended is not None:
                    break
                mark = len(call.events)
                if step.keys:
                    await ws.send_str(json.dumps({"type": "dtmf", "digits": step.keys}))
                elif spoken:
                    await call.say(clips[step.say])
                else:
                    await ws.send_str(json.dumps({"type": "user_text", "text": step.say}))
                await call.reply_after(mark, reply_timeout_s)
                record.replies.append(_assistant_text(call.events[mark:]))
        except TimeoutError:
            record.failure = "no reply in time"
        except ConnectionResetError:
            pass  # the gateway closed the stream (an end_call): judged from the events
        finally:
            record.ended = call.ended  # before the caller hangs up: only the gateway's own ending counts
            if call.ended is None:
                with contextlib.suppress(ConnectionResetError):
                    await ws.send_str(json.dumps({"type": "end"}))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(tasks[0]), 10)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    _collect(record, call.events)
    record.guarded = await _guarded(client, session_id)
    return record


async def _guarded(client: GatewayClient, session_id: str) -> int:
    """How many sentences the reply guard kept from the caller in this call (the stored assistant turns)."""
    try:
        stored = await client.request("GET", f"/v1/conversations/{session_id}")
    except ClientError:
        return 0
    return sum(turn.get("guarded") or 0 for turn in stored.get("history") or () if turn.get("role") == "assistant")


def _assistant_text(events: list[dict]) -> str:
    return " ".join(e["text"] for e in events if e["type"] == "transcript" and e["role"] == "assistant"
                    and e.get("is_final") and e.get("text")).strip()


def _collect(record: CallRecord, events: list[dict]) -> None:
    results = {e["call_id"]: e for e in events if e["type"] == "tool_result"}
    for e in events:
        if e["type"] == "tool_call":
            result = results.get(e["call_id"], {})
            record.tools.append(ToolUse(e["name"], e.get("arguments") or {}, result.get("result"), result.get("error")))
        elif e["type"] == "transcript" and e["role"] == "user" and e.get("is_final"):
            record.heard.append(e["text"])
        elif e["type"] == "turn_start" and e["role"] == "assistant" and e.get("latency_ms") is not None:
            record.latency_ms.append(e["latency_ms"])
