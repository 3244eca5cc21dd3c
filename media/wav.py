"""WAV files in memory: 16-bit PCM mono, as the model server and its clients exchange them."""

import io
import wave

from media.format import SAMPLE_WIDTH


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    """pcm16 mono -> a WAV file's bytes."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return out.getvalue()
