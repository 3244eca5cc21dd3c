"""TTS benchmark: time to first chunk and real-time factor of each provider, warm.

    .venv/bin/python tests/perf/tts_bench.py [--runs 5] [--rate 8000]

Per provider and reply: the median of `--runs` runs of time from calling
speak() to the first AudioChunk (what a caller waits for after the LLM's first
sentence), time to the last chunk, and RTF = synthesis time / audio duration.
Runs one reply at a time on an otherwise idle pool; the load average printed
first says how idle the machine was. Not collected by pytest (no test_ names).
"""

import argparse
import asyncio
import os
import statistics
import time

from agents.pool import InferencePool
from agents.providers.tts.espeak import EspeakTTS
from agents.providers.tts.piper import PiperTTS

REPLIES = {
    "one sentence": "Your order 1234 has shipped.",
    "three sentences": (
        "Your order 1234 has shipped. It should arrive on Tuesday. Is there anything else I can help with?"
    ),
    "long first sentence": (
        "I have checked your order for you, and it left our warehouse on Monday morning, "
        "so it should reach you on Tuesday between nine and noon."
    ),
}


async def measure(tts, voice_id: str, text: str, rate: int, runs: int) -> dict:
    first_ms, total_ms, rtf, chunks = [], [], [], 0
    for _ in range(runs):
        start = time.perf_counter()
        first = None
        audio_bytes = 0
        chunks = 0
        async for chunk in tts.speak(text, voice_id, rate):
            if first is None:
                first = time.perf_counter() - start
            audio_bytes += len(chunk.pcm)
            chunks += 1
        total = time.perf_counter() - start
        first_ms.append(first * 1000)
        total_ms.append(total * 1000)
        rtf.append(total / (audio_bytes / 2 / rate))
    return {
        "first_ms": statistics.median(first_ms),
        "first_range": (min(first_ms), max(first_ms)),
        "total_ms": statistics.median(total_ms),
        "rtf": statistics.median(rtf),
        "chunks": chunks,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rate", type=int, default=8000, help="output rate in Hz (8000 = the phone)")
    args = parser.parse_args()

    print(f"cpus {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"rate {args.rate} Hz, median of {args.runs} warm runs")
    pool = InferencePool("tts-bench", 2)
    started = time.perf_counter()
    piper = PiperTTS(pool=pool)
    loaded = time.perf_counter()
    piper.warm_up()
    print(f"piper: load {1000 * (loaded - started):.0f} ms, warm-up {1000 * (time.perf_counter() - loaded):.0f} ms")
    espeak = EspeakTTS(pool=pool)
    espeak.warm_up()
    print(f"{'provider':8} {'reply':20} {'first chunk ms':>24} {'last chunk ms':>14} {'RTF':>6} {'chunks':>6}")
    for tts, voice_id in ((piper, "joe"), (espeak, "espeak_en")):
        for label, text in REPLIES.items():
            m = await measure(tts, voice_id, text, args.rate, args.runs)
            low, high = m["first_range"]
            print(f"{tts.name:8} {label:20} {m['first_ms']:8.0f} ({low:5.0f} - {high:5.0f}) "
                  f"{m['total_ms']:14.0f} {m['rtf']:6.3f} {m['chunks']:6d}")
    pool.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
