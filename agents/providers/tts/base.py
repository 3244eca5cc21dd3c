"""The TTS protocol: text in, pcm16 chunks out at the rate the stream asks for."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class VoiceInfo:
    """One installed voice, as GET /v1/voices lists it."""

    voice_id: str
    name: str
    languages: tuple[str, ...]  # ISO 639-1
    gender: str | None
    engine: str
    sample_rate: int  # the voice's native rate; speak() resamples to the caller's

    def to_wire(self) -> dict:
        return {"voice_id": self.voice_id, "name": self.name, "languages": list(self.languages),
                "language": self.languages[0] if self.languages else None,
                "gender": self.gender, "engine": self.engine, "sample_rate": self.sample_rate}


@dataclass(frozen=True, slots=True)
class SpokenWord:
    """One word of a chunk's text and when the voice says it, in ms from the start of the chunk's audio."""

    text: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """pcm16 mono at the requested rate; `text` is the part of the input it speaks, when known; `words`,
    `text`'s words with the synthesiser's own timing, when it has one (Piper's phoneme alignments)."""

    pcm: bytes
    sample_rate: int
    text: str | None = None
    words: tuple[SpokenWord, ...] | None = None


class TTS(Protocol):
    """A speech synthesiser shared by all sessions.

    `speak` synthesises on the provider's InferencePool and yields audio as it
    is produced (the first chunk as early as the engine allows), resampled to
    `sample_rate`. Stopping the iteration (barge-in) stops synthesis.
    """

    name: str

    def voices(self) -> list[VoiceInfo]: ...

    def speak(self, text: str, voice_id: str, sample_rate: int) -> AsyncIterator[AudioChunk]: ...
