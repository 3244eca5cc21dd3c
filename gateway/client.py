"""A client of the Conversational API, as an app would use it: `parley call` and `parley bench` are built on it.

It creates a session, opens the stream, sends a WAV in real time (20 ms
frames, then silence so the gateway hears the turn end) or typed turns, and
collects events and the assistant's audio.
"""

import asyncio
import json
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from media.codecs import make_codec
from media.format import SAMPLE_WIDTH, frame_bytes
from media.resample import Resampler

DEFAULT_PROMPT = ("You are a concise phone support agent for Acme. Answer in one or two short sentences. "
                  "Use the lookup_order tool to check an order when the caller gives an order number.")
# The agent `parley call` and `parley bench` talk to unless told otherwise (create(defaults=False) for a persona).
DEMO_AGENT = {"voice_id": "joe", "system_prompt": DEFAULT_PROMPT, "tools": [{"name": "lookup_order"}]}


class ClientError(Exception):
    """The gateway refused a request; the message is its JSON error."""


def read_wav(path: Path, sample_rate: int) -> bytes:
    """A mono 16-bit WAV as pcm16 at `sample_rate`."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != SAMPLE_WIDTH or wav.getnchannels() != 1:
            raise ClientError(f"{path}: need a mono 16-bit PCM WAV")
        pcm, rate = wav.readframes(wav.getnframes()), wav.getframerate()
    return Resampler(rate, sample_rate).process(pcm) if rate != sample_rate else pcm


def write_wav(path: Path, pcm: bytes, sample_rate: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)


@dataclass
class CallResult:
    session_id: str
    events: list[dict] = field(default_factory=list)
    audio: bytearray = field(default_factory=bytearray)  # assistant speech, pcm16 at the stream rate
    first_audio_at: list[float] = field(default_factory=list)  # client clock, one per assistant turn
    speech_end_at: float | None = None  # client clock: the last frame of the WAV's audio was sent

    def transcript(self) -> list[tuple[str, str]]:
        return [(e["role"], e["text"]) for e in self.events if e.get("type") == "transcript" and e.get("is_final")]


class GatewayClient:
    def __init__(self, base_url: str, api_key: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.http = session

    async def request(self, method: str, path: str, body: dict | None = None) -> dict:
        try:
            async with self.http.request(method, self.base_url + path, json=body, headers=self.headers) as resp:
                data = await resp.json(content_type=None)
        except aiohttp.ClientConnectionError as exc:
            raise ClientError(f"cannot reach {self.base_url}: {exc}") from None
        if resp.status >= 400:
            raise ClientError(f"{method} {path}: HTTP {resp.status} {json.dumps(data)}")
        return data

    async def create(self, *, defaults: bool = True, **fields) -> dict:
        """A new session from `fields`; `defaults` fills in the demo agent's voice, prompt and order tool
        (off for a persona, whose own settings apply)."""
        body = {**DEMO_AGENT, **fields} if defaults else fields
        return await self.request("POST", "/v1/conversations/create", body)

    def stream_url(self, session_id: str, sample_rate: int, encoding: str, **extra) -> str:
        url = f"{self.base_url}/v1/conversations/{session_id}/stream?sample_rate={sample_rate}&encoding={encoding}"
        return url + "".join(f"&{k}={v}" for k, v in extra.items())


async def converse(client: GatewayClient, session_id: str, *, wav: bytes | None = None, texts: list[str] = (),
                   sample_rate: int = 16000, encoding: str = "pcm16", on_event: Callable[[dict], None] = print,
                   reply_timeout_s: float = 60.0, hang_up: bool = True) -> CallResult:
    """Speak `wav` (pcm16 at `sample_rate`) and/or type `texts`, one turn each, waiting for every reply."""
    result = CallResult(session_id)
    codec = make_codec(encoding, sample_rate)
    frame = frame_bytes(sample_rate, 20)
    replies = asyncio.Queue()
    try:
        ws = await client.http.ws_connect(client.stream_url(session_id, sample_rate, encoding), headers=client.headers)
    except aiohttp.WSServerHandshakeError as exc:
        # The refusal's JSON body is not kept by aiohttp: fetch the same URL plainly to show it.
        async with client.http.get(client.stream_url(session_id, sample_rate, encoding), headers=client.headers) as r:
            raise ClientError(f"stream refused: HTTP {exc.status} {await r.text()}") from None
    async with ws:

        async def receive():
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.BINARY:
                    if len(result.first_audio_at) < len([e for e in result.events if e.get("type") == "turn_start"
                                                         and e.get("role") == "assistant"]):
                        result.first_audio_at.append(time.monotonic())
                    result.audio += codec.decode(msg.data)
                elif msg.type == aiohttp.WSMsgType.TEXT:
                    event = json.loads(msg.data)
                    result.events.append(event)
                    on_event(event)
                    if event["type"] == "turn_end" and event["role"] == "assistant" or event["type"] == "session_ended":
                        replies.put_nowait(event)

        receiver = asyncio.create_task(receive())

        async def next_reply():
            event = await asyncio.wait_for(replies.get(), reply_timeout_s)
            return event["type"] != "session_ended"

        try:
            going = True
            if wav:
                silence = b"\x00" * frame
                clip = wav + silence * 50  # a second of silence after speech lets the gateway hear the end
                started = time.monotonic()
                for i, offset in enumerate(range(0, len(clip) - frame + 1, frame)):
                    await ws.send_bytes(codec.encode(clip[offset:offset + frame]))
                    await asyncio.sleep(max(0.0, started + (i + 1) * 0.02 - time.monotonic()))  # real time
                    if offset + frame >= len(wav) and result.speech_end_at is None:
                        result.speech_end_at = time.monotonic()
                going = await next_reply()
            for text in texts:
                await asyncio.sleep(0.05)  # a session_ended right behind the last turn_end arrives first
                if not going or any(e.get("type") == "session_ended" for e in result.events):
                    break
                try:
                    await ws.send_str(json.dumps({"type": "user_text", "text": text}))
                except ConnectionResetError:  # the session ended (max_turns) as we spoke
                    break
                going = await next_reply()
            if hang_up and going and not any(e.get("type") == "session_ended" for e in result.events):
                try:
                    await ws.send_str(json.dumps({"type": "end"}))
                except ConnectionResetError:
                    pass
            await asyncio.wait_for(receiver, 10) if hang_up else None
        finally:
            receiver.cancel()
            await asyncio.gather(receiver, return_exceptions=True)
    return result
