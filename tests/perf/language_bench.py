"""Per-language ASR benchmark: word error rate and latency of the installed recognisers. Run by hand:

    .venv/bin/python tests/perf/language_bench.py [--languages en,fr,de] [--phone] [--all]

For each language, four customer-service sentences are spoken by the voice a
session in that language gets (Piper joe for English, espeak-ng otherwise: a
robotic voice, harder for Whisper than a person) and transcribed by the model
the gateway routes that language to (tiny.en for English, multilingual Whisper
base for the rest), exactly as a stream would: 20 ms frames, then final().
`--window-min-s 30` compares with Whisper's fixed 30 s window. `--phone` also sends each clip through an 8 kHz mu-law phone line first.
`--all` tries every language espeak-ng and Whisper base share, not just the
default set. WER is word-level edit distance over reference words, after
lower-casing and dropping punctuation; latency is final()'s time after the
last frame, RTF that over the clip length.
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agents.pool import InferencePool  # noqa: E402
from agents.providers.asr.packaged import resolve_whisper  # noqa: E402
from agents.providers.asr.whisper import MULTILINGUAL_TEMPERATURES, WhisperASR  # noqa: E402
from agents.providers.asr.whisper_window import Window  # noqa: E402
from agents.providers.tts.espeak import CURATED  # noqa: E402
from gateway.config import DEFAULT_LANGUAGES  # noqa: E402
from tests.integration.languages import SENTENCES, word_error_rate  # noqa: E402
from tests.unit.agents.asr.clips import at_rate, espeak, frames, phone_line, piper  # noqa: E402


def clip(language: str, text: str) -> tuple[bytes, int]:
    return piper(text) if language == "en" else espeak(text, CURATED[language][0])


async def transcribe(asr: WhisperASR, language: str, pcm: bytes, rate: int) -> tuple[str, float]:
    stream = asr.open(language, rate)
    for frame in frames(pcm, rate):
        stream.push(frame)
    started = time.perf_counter()
    text = await stream.final()
    return text, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", default=DEFAULT_LANGUAGES)
    parser.add_argument("--phone", action="store_true", help="also through an 8 kHz mu-law phone line")
    parser.add_argument("--all", action="store_true", help="every language espeak-ng and Whisper base share")
    parser.add_argument("--window-min-s", type=float, default=Window().min_s,
                        help="the shortest encoder window (30: Whisper's fixed window)")
    parser.add_argument("--verbose", "-v", action="store_true", help="print each transcript")
    args = parser.parse_args()
    pool = InferencePool("bench", 2)
    window = Window(min_s=args.window_min_s)
    tiny = WhisperASR(resolve_whisper("tiny.en"), pool=pool, window=window)
    base = WhisperASR(resolve_whisper("base"), pool=pool, final_temperatures=MULTILINGUAL_TEMPERATURES, window=window)
    tiny.warm_up()
    base.warm_up()
    languages = [c for c in CURATED if c in base.languages] if args.all else args.languages.split(",")
    print(f"{'lang':5} {'model':8} {'line':6} {'WER':>5} {'latency s':>9} {'RTF':>5}")
    for language in languages:
        models = [("tiny.en", tiny), ("base", base)] if language == "en" else [("base", base)]
        sentences = SENTENCES.get(language)
        if sentences is None:
            print(f"{language:5} no test sentences")
            continue
        for model_name, asr in models:
            lines = [("clean", 16000)] + ([("phone", 8000)] if args.phone else [])
            for line, rate in lines:
                errors = words = 0
                latency = audio_s = 0.0
                for text in sentences:
                    c = clip(language, text)
                    pcm = phone_line(c) if line == "phone" else at_rate(c, 16000)
                    heard, took = await transcribe(asr, language, pcm, rate)
                    e, n = word_error_rate(text, heard)
                    errors, words, latency, audio_s = errors + e, words + n, latency + took, audio_s + len(pcm) / 2 / rate
                    if args.verbose:
                        print(f"    {text!r} -> {heard!r}")
                print(f"{language:5} {model_name:8} {line:6} {errors / words:5.2f} {latency / len(sentences):9.2f} "
                      f"{latency / audio_s:5.2f}", flush=True)
    pool.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
