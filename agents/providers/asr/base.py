"""The ASR protocol: a loaded recogniser opens one stream per user utterance."""

from collections.abc import Sequence
from typing import Protocol


class ASRStream(Protocol):
    """One utterance. `push` is called per 20 ms frame on the audio path: it only buffers (no inference).

    `partial()` transcribes what was pushed so far (the engine calls it every
    so often while the user speaks; it may return None when it has nothing
    new); `final()` finishes the utterance and returns its full transcript.
    Both run inference on the provider's InferencePool, never on the event
    loop. `cancel()` drops the utterance (a finished or cancelled stream takes
    no more audio).
    """

    def push(self, pcm: bytes) -> None: ...

    async def partial(self) -> str | None: ...

    async def so_far(self, quick: bool = False) -> str:
        """The transcript of everything pushed so far, always computed (the engine asks for it in a
        pause, to judge whether the caller is done and to have the final ready if so). `quick`: one
        decode, no slower retries (a glance at words still coming, not a transcript to keep)."""

    async def final(self) -> str: ...

    def cancel(self) -> None: ...


class ASR(Protocol):
    """A loaded speech recogniser, shared by all sessions (load once per process)."""

    name: str
    languages: frozenset[str]  # ISO 639-1 codes it can transcribe

    def open(self, language: str, sample_rate: int = 16000, vocabulary: Sequence[str] = ()) -> ASRStream:
        """A stream for one utterance of pcm16 at `sample_rate` in `language`. `vocabulary`: words the
        caller is likely to say (hints.session_vocabulary); a recogniser may prime itself with them or ignore them."""
