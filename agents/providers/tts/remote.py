"""RemoteTTS: speech from a server's OpenAI-compatible `POST /v1/audio/speech` (`parley models serve`,
OpenAI, Kokoro-FastAPI, LocalAI, speaches).

Each piece of a reply (a sentence or clause, as the local voices split it) is one request for raw pcm16
(`response_format: "pcm"`); the next piece is asked for while the current one plays, never more than one
ahead, so a barge-in wastes at most one piece. `parley models serve` answers at the rate asked for
(`sample_rate`, with `X-Sample-Rate` saying so); other servers send 24 kHz, resampled here.

Voices: `GET /v1/audio/voices` (Parley's and Kokoro-FastAPI's shape: {"voices": [...]}, objects or names),
or the names in tts.remote_voices for servers that list none (OpenAI's alloy, echo, ...).
"""

import asyncio
import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterable

from agents.errors import InvalidRequest, ProviderError
from agents.providers.endpoint import Endpoint
from agents.providers.tts.base import AudioChunk, VoiceInfo
from agents.providers.tts.sentences import split_text
from agents.providers.tts.stream import check_sample_rate
from media.resample import Resampler

OPENAI_PCM_HZ = 24000  # what OpenAI's `pcm` format is, and what a server that does not say is taken to send


class RemoteTTS:
    """Speech synthesis by a server; one instance (one connection pool) shared by every session.

    `voices`: names to offer without asking the server (each speaking `language`); empty: `load()` asks it.
    """

    def __init__(self, base_url: str, model: str = "tts-1", api_key: str | None = None,
                 voices: Iterable[str] = (), language: str = "en", timeout_s: float = 10.0) -> None:
        self.name = f"remote:{model}"
        self.model = model
        self.endpoint = Endpoint(base_url, api_key, timeout_s=timeout_s, what="TTS server")
        self._language = language
        self._voices = {name: self._named(name) for name in voices}
        self._listed = bool(self._voices)

    @property
    def health(self):
        return self.endpoint.health

    def load(self, wait_s: float = 60.0) -> None:
        """Read the server's voices (blocking: at start-up, off the event loop), retrying while it starts up
        (a model server started beside the gateway loads its models first)."""
        if self._listed:
            return
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self._voices = self._fetch_voices()
                self._listed = True
                return
            except (OSError, urllib.error.URLError) as exc:
                if time.monotonic() > deadline:
                    raise ProviderError(f"TTS server {self.endpoint.base_url} did not list its voices: {exc}") from exc
                time.sleep(1.0)

    def voices(self) -> list[VoiceInfo]:
        return list(self._voices.values())

    def speak(self, text: str, voice_id: str, sample_rate: int) -> AsyncIterator[AudioChunk]:
        if voice_id not in self._voices:
            raise InvalidRequest(f"unknown voice_id {voice_id!r} (the TTS server offers "
                                 f"{', '.join(sorted(self._voices)) or 'none'})", param="voice_id")
        if not isinstance(text, str):
            raise InvalidRequest(f"text must be a string, got {type(text).__name__}", param="text")
        check_sample_rate(sample_rate)
        return self._stream(split_text(text), voice_id, sample_rate)

    async def close(self) -> None:
        await self.endpoint.close()

    async def _stream(self, pieces: list[str], voice_id: str, sample_rate: int) -> AsyncIterator[AudioChunk]:
        if not pieces:
            return
        resampler: list[Resampler | None] = [None]  # made once the server's rate is known; kept across pieces
        pending = asyncio.ensure_future(self._piece(pieces[0], voice_id, sample_rate, resampler))
        try:
            for index, piece in enumerate(pieces):
                pcm = await pending
                pending = (asyncio.ensure_future(self._piece(pieces[index + 1], voice_id, sample_rate, resampler))
                           if index + 1 < len(pieces) else None)
                if pcm:
                    yield AudioChunk(pcm=pcm, sample_rate=sample_rate, text=piece)
        finally:
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending

    async def _piece(self, piece: str, voice_id: str, sample_rate: int, resampler: list) -> bytes:
        body = {"model": self.model, "input": piece, "voice": voice_id, "response_format": "pcm",
                "sample_rate": sample_rate}
        async with await self.endpoint.post("/audio/speech", json=body) as response:
            try:
                rate = int(response.headers.get("X-Sample-Rate", OPENAI_PCM_HZ))
                check_sample_rate(rate)
            except (ValueError, InvalidRequest) as exc:
                raise self.endpoint.fail(f"TTS server {self.endpoint.base_url} sent audio at a rate Parley cannot "
                                         f"use: {response.headers.get('X-Sample-Rate')!r}") from exc
            try:
                pcm = await response.read()
            except TimeoutError as exc:
                raise self.endpoint.fail(f"TTS server {self.endpoint.base_url} stopped sending audio") from exc
        self.endpoint.health.ok()
        pcm = pcm[: len(pcm) - len(pcm) % 2]
        if rate == sample_rate or not pcm:
            return pcm
        if resampler[0] is None or resampler[0].src_hz != rate:
            resampler[0] = Resampler(rate, sample_rate)
        return resampler[0].process(pcm)

    def _fetch_voices(self) -> dict[str, VoiceInfo]:
        request = urllib.request.Request(self.endpoint.base_url + "/audio/voices", headers=self.endpoint.headers)
        with urllib.request.urlopen(request, timeout=5) as response:
            listed = json.loads(response.read()).get("voices")
        if not isinstance(listed, list) or not listed:
            raise ProviderError(f"TTS server {self.endpoint.base_url} lists no voices (GET /audio/voices)")
        voices: dict[str, VoiceInfo] = {}
        for entry in listed:
            info = self._described(entry) if isinstance(entry, dict) else self._named(str(entry))
            voices[info.voice_id] = info
        return voices

    def _named(self, name: str) -> VoiceInfo:
        return VoiceInfo(voice_id=name, name=name, languages=(self._language,), gender=None, engine="remote",
                         sample_rate=OPENAI_PCM_HZ)

    def _described(self, entry: dict) -> VoiceInfo:
        """One voice as `parley models serve` lists it (GET /v1/voices' shape)."""
        voice_id = str(entry.get("voice_id") or entry.get("id") or entry.get("name"))
        languages = entry.get("languages") or [entry.get("language") or self._language]
        return VoiceInfo(voice_id=voice_id, name=str(entry.get("name") or voice_id),
                         languages=tuple(str(lang) for lang in languages if lang), gender=entry.get("gender"),
                         engine=f"remote:{entry.get('engine') or 'tts'}",
                         sample_rate=int(entry.get("sample_rate") or OPENAI_PCM_HZ))
