"""RemoteASR: speech recognition on a server's OpenAI-compatible `POST /v1/audio/transcriptions`
(`parley models serve`, OpenAI, faster-whisper-server / speaches, vLLM, LocalAI).

That endpoint reads a whole clip, as Whisper does: a stream collects the utterance, and each partial,
pause reading and final sends everything heard so far as a 16 kHz WAV file (on loopback or a LAN, a few
seconds of audio is ~100 kB). The session's vocabulary goes as the `prompt`, its language as `language`.
"""

from collections.abc import Iterable, Sequence

import aiohttp

from agents.errors import InvalidRequest
from agents.providers.asr.clip_stream import ClipStream
from agents.providers.asr.hints import vocabulary_prompt
from agents.providers.endpoint import Endpoint
from media.format import SAMPLE_WIDTH, check_rate
from media.wav import wav_bytes

RATE_HZ = 16000
MIN_PARTIAL_MS = 300  # a partial of less says nothing useful


class RemoteASR:
    """Transcription by a server; one instance (one connection pool) shared by every session.

    `languages`: what sessions may use (the server is trusted to hear them: the configured asr.languages).
    `model`: the name the server knows (`whisper-1` for OpenAI; `parley models serve` routes by language
    whatever the name, or takes one of its own model names).
    """

    def __init__(self, base_url: str, languages: Iterable[str], model: str = "whisper-1",
                 api_key: str | None = None, prompt: str | None = None, timeout_s: float = 10.0) -> None:
        self.name = f"remote:{model}"
        self.model = model
        self.languages = frozenset(languages)
        self.prompt = prompt
        self.endpoint = Endpoint(base_url, api_key, timeout_s=timeout_s, what="ASR server")

    @property
    def health(self):
        return self.endpoint.health

    def open(self, language: str, sample_rate: int = RATE_HZ, vocabulary: Sequence[str] = ()) -> "RemoteStream":
        if language not in self.languages:
            raise InvalidRequest(f"language {language!r} is not among asr.languages "
                                 f"({', '.join(sorted(self.languages))})", param="language")
        check_rate(sample_rate)
        return RemoteStream(self, language, sample_rate, vocabulary_prompt(vocabulary, self.prompt))

    async def transcribe(self, pcm: bytes, language: str, prompt: str | None) -> str:
        """One clip of 16 kHz pcm16 -> its text (ProviderError if the server fails or says nothing usable)."""
        form = aiohttp.FormData()
        form.add_field("file", wav_bytes(pcm, RATE_HZ), filename="audio.wav", content_type="audio/wav")
        form.add_field("model", self.model)
        form.add_field("language", language)
        form.add_field("response_format", "json")
        if prompt:
            form.add_field("prompt", prompt)
        async with await self.endpoint.post("/audio/transcriptions", data=form) as response:
            try:
                body = await response.json(content_type=None)
            except ValueError as exc:
                raise self.endpoint.fail(f"ASR server {self.endpoint.base_url} sent a transcription that is not "
                                         "JSON") from exc
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str):
            raise self.endpoint.fail(f"ASR server {self.endpoint.base_url} sent no `text`: {str(body)[:200]}")
        self.endpoint.health.ok()
        return text.strip()

    async def close(self) -> None:
        await self.endpoint.close()


class RemoteStream(ClipStream):
    """One utterance (see clip_stream.py): each reading sends all of it to the server (`quick` or not: the
    server reads as it does)."""

    def __init__(self, asr: RemoteASR, language: str, sample_rate: int, prompt: str | None) -> None:
        super().__init__(sample_rate, RATE_HZ, RATE_HZ * SAMPLE_WIDTH * MIN_PARTIAL_MS // 1000)
        self._asr = asr
        self._language = language
        self._prompt = prompt

    async def _read_partial(self, pcm: bytes) -> str:
        return await self._asr.transcribe(pcm, self._language, self._prompt)

    async def _read_so_far(self, pcm: bytes, full: bool) -> str:
        return await self._asr.transcribe(pcm, self._language, self._prompt) if pcm else ""

    async def _read_final(self, pcm: bytes) -> str:
        return await self._asr.transcribe(pcm, self._language, self._prompt)
