"""TTS providers: base.py is the protocol, one file per implementation."""

from collections.abc import AsyncIterator, Iterable

from agents.errors import InvalidRequest
from agents.providers.tts.base import TTS, AudioChunk, VoiceInfo

PROVIDERS = ("piper", "espeak")


def make_tts(provider: str, **options) -> TTS:
    """Build the provider named `provider` with its constructor's `options` (blocking: models load here).

    Imports lazily, so a gateway that uses only espeak never imports piper/onnxruntime.
    """
    if provider == "piper":
        from agents.providers.tts.piper import PiperTTS

        return PiperTTS(**options)
    if provider == "espeak":
        from agents.providers.tts.espeak import EspeakTTS

        return EspeakTTS(**options)
    raise ValueError(f"unknown TTS provider {provider!r} (known: {', '.join(PROVIDERS)})")


class VoiceCatalog:
    """Every voice of several providers behind one TTS: GET /v1/voices lists it, voice_id checks use it.

    Itself fits the TTS protocol: `speak` goes to the provider that owns the
    voice. Voices are read once, at construction (providers load theirs at
    start-up and never change them); a voice_id offered twice is an error.
    """

    name = "catalog"

    def __init__(self, providers: Iterable[TTS]) -> None:
        self.providers: tuple[TTS, ...] = tuple(providers)
        self._voices: dict[str, tuple[VoiceInfo, TTS]] = {}
        for provider in self.providers:
            for info in provider.voices():
                if info.voice_id in self._voices:
                    other = self._voices[info.voice_id][1].name
                    raise ValueError(f"voice_id {info.voice_id!r} is offered by both {other} and {provider.name}")
                self._voices[info.voice_id] = (info, provider)

    def voices(self) -> list[VoiceInfo]:
        """All voices, provider by provider in the order given, each provider's in its own order."""
        return [info for info, _ in self._voices.values()]

    def find(self, voice_id: str) -> VoiceInfo | None:
        entry = self._voices.get(voice_id) if isinstance(voice_id, str) else None
        return entry[0] if entry else None

    def languages_for(self, voice_id: str) -> tuple[str, ...]:
        """The ISO 639-1 languages `voice_id` speaks; InvalidRequest(param="voice_id") if unknown."""
        return self._get(voice_id)[0].languages

    def speak(self, text: str, voice_id: str, sample_rate: int) -> AsyncIterator[AudioChunk]:
        """The owning provider's speak(); an unknown voice_id raises InvalidRequest at once."""
        return self._get(voice_id)[1].speak(text, voice_id, sample_rate)

    def warm_up(self) -> None:
        """Warm up every provider that can (blocking: call it at load time, off the event loop)."""
        for provider in self.providers:
            warm_up = getattr(provider, "warm_up", None)
            if warm_up is not None:
                warm_up()

    def close(self) -> None:
        """Close every provider that can (each shuts down the pool it created, if any)."""
        for provider in self.providers:
            close = getattr(provider, "close", None)
            if close is not None:
                close()

    def _get(self, voice_id: str) -> tuple[VoiceInfo, TTS]:
        entry = self._voices.get(voice_id) if isinstance(voice_id, str) else None
        if entry is None:
            raise InvalidRequest(f"unknown voice_id {voice_id!r} (GET /v1/voices lists them)", param="voice_id")
        return entry


__all__ = ["PROVIDERS", "TTS", "AudioChunk", "VoiceCatalog", "VoiceInfo", "make_tts"]
