"""Helpers the TTS tests share: collect a stream, measure what a listener would notice."""

import numpy as np


async def collect(stream) -> list:
    return [chunk async for chunk in stream]


def pcm_of(chunks) -> bytes:
    return b"".join(chunk.pcm for chunk in chunks)


def seconds(pcm: bytes, rate: int) -> float:
    return len(pcm) / 2 / rate


def rms_dbfs(pcm: bytes) -> float:
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    return 20 * np.log10(max(np.sqrt(np.mean(x * x)), 1e-9) / 32768)


def onset_ms(pcm: bytes, rate: int, level: int = 328) -> float:
    """Milliseconds before the first sample louder than -40 dBFS (how long a listener waits for sound)."""
    loud = np.flatnonzero(np.abs(np.frombuffer(pcm, dtype=np.int16).astype(np.int32)) >= level)
    return float(loud[0]) * 1000 / rate if len(loud) else float("inf")


def transcribe(model, pcm16_16k: bytes) -> str:
    audio = np.frombuffer(pcm16_16k, dtype=np.int16).astype(np.float32) / 32768
    segments, _ = model.transcribe(audio, language="en", beam_size=5)
    return " ".join(segment.text for segment in segments).strip()
