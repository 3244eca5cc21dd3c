"""One utterance for a recogniser that reads whole clips (Whisper here, or a server's /audio/transcriptions):
the audio is buffered as it comes, and each reading (a partial, the pause's reading, the final) reads all of
it. What differs per recogniser is how a clip is read: `_read_partial`, `_read_so_far`, `_read_final`."""

import asyncio

from media.format import check_pcm16
from media.resample import Resampler


class ClipStream:
    """See agents.providers.asr.base.ASRStream. Event-loop side; the reading hooks may run work elsewhere."""

    def __init__(self, sample_rate: int, clip_rate: int, min_partial_bytes: int) -> None:
        self._resampler = Resampler(sample_rate, clip_rate) if sample_rate != clip_rate else None
        self._min_partial_bytes = min_partial_bytes
        self._pcm = bytearray()  # pcm16 of the utterance so far, at clip_rate
        self._closed = False  # final() started or cancel() called: no more audio
        self._cancelled = False
        self._partial_bytes = 0  # audio length the last partial read
        self._partial_busy = False
        self._last_partial: str | None = None
        self._so_far: tuple[int, str] | None = None  # (audio bytes read, text) of the last full so_far()
        self._final: asyncio.Future[str] | None = None

    # -- how a clip is read (pcm16 at clip_rate) ---------------------------------------------------

    async def _read_partial(self, pcm: bytes) -> str:
        raise NotImplementedError

    async def _read_so_far(self, pcm: bytes, full: bool) -> str:
        raise NotImplementedError

    async def _read_final(self, pcm: bytes) -> str:
        raise NotImplementedError

    # -- ASRStream ---------------------------------------------------------------------------------

    def push(self, pcm: bytes) -> None:
        """Buffer one frame of pcm16 at the stream's rate (resampled here, ~4 us). No inference."""
        if self._closed:
            return
        if self._resampler is not None:
            pcm = self._resampler.process(pcm)
        else:
            check_pcm16(pcm)
        self._pcm += pcm

    async def partial(self) -> str | None:
        """The transcript so far, or None: too little audio, no audio since the last partial, one already
        running for this stream, or the same text as last time."""
        size = len(self._pcm)
        if self._closed or self._partial_busy or size < self._min_partial_bytes or size == self._partial_bytes:
            return None
        self._partial_busy = True
        self._partial_bytes = size
        try:
            text = await self._read_partial(bytes(self._pcm))
        finally:
            self._partial_busy = False
        if self._closed or not text or text == self._last_partial:
            return None
        self._last_partial = text
        return text

    async def so_far(self, quick: bool = False) -> str:
        """Everything heard so far, read like a final (`quick`: like a partial); "" once the stream is closed."""
        if self._closed:
            return ""
        size = len(self._pcm)
        if self._so_far is not None and self._so_far[0] == size:
            return self._so_far[1]
        text = await self._read_so_far(bytes(self._pcm), not quick)
        if not quick:  # only a full reading may stand in for the final
            self._so_far = (size, text)
        return text

    async def final(self) -> str:
        """The whole utterance's transcript, stripped; "" if cancelled. Ends the stream; safe to await again."""
        if self._cancelled:
            return ""
        if self._final is None:
            self._closed = True
            pcm, self._pcm = bytes(self._pcm), bytearray()
            self._final = asyncio.ensure_future(self._read_final(pcm) if pcm else _nothing())
            # Its error reaches whoever awaits it; mark it retrieved for when nobody does (cancelled).
            self._final.add_done_callback(lambda f: f.cancelled() or f.exception())
        # Shielded: a caller cancelled mid-way does not lose the utterance for the next call.
        text = await asyncio.shield(self._final)
        return "" if self._cancelled else text

    def cancel(self) -> None:
        """Drop the utterance (a no-op once final() has returned); a reading already running finishes and is
        discarded."""
        if self._final is not None and self._final.done():
            return
        self._closed = True
        self._cancelled = True
        self._pcm = bytearray()


async def _nothing() -> str:
    return ""
