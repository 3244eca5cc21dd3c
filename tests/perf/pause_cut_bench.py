"""How soon into the caller's pause can the words be read? Word errors and end-of-turn verdicts by cut point.

    .venv/bin/python tests/perf/pause_cut_bench.py [--cuts 30,60,125] [--sets tuning,held_out] [--quick] [-v]

The engine transcribes a pause once `vad.transcribe_after_ms` of silence followed the caller's last speech
frame (agents/listening.py); that transcript is the turn's final one and decides how long the turn waits
(agents/turns/transcript.py). Reading sooner ends turns sooner, but Whisper then hears less of the word's
quiet tail. Here each caller sentence (asr_phone_bench.py's, the synthetic phone callers of
gateway/evaluation/phone_voices.py, through a G.711 line, upsampled to 16 kHz like a door does) is run
through the gateway's speech detector (webrtc, threshold 0.5) and read by tiny.en the way the engine reads
it, with the audio up to `cut` ms after the last speech frame. Reported per cut: WER (asr_phone_bench's
normalisation), transcripts that changed against the longest cut, and how the end-of-turn verdicts came out
(complete / neutral / incomplete: a complete sentence judged incomplete waits 1.5 s).
Settings may be chosen on the tuning voices only.
"""

import argparse
import asyncio
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agents.pool import InferencePool  # noqa: E402
from agents.providers.asr.whisper import WhisperASR  # noqa: E402
from agents.turns.transcript import completeness  # noqa: E402
from gateway.evaluation.phone_voices import HELD_OUT_VOICES, LINE_RATE_HZ, TUNING_VOICES, synthesise  # noqa: E402
from media.resample import Resampler  # noqa: E402
from media.vad.detector import SpeechDetector, SpeechStart  # noqa: E402
from media.vad.webrtc import WebRtcVAD  # noqa: E402
from tests.perf.asr_phone_bench import QUICK_SENTENCES, SENTENCES, SESSION_VOCABULARY, word_errors  # noqa: E402

RATE = 16000
FRAME = RATE * 2 * 20 // 1000
PREROLL_MS = 420  # the engine keeps min_speech_ms + 300 ms from before speech starts


def at_engine_rate(line_pcm: bytes) -> bytes:
    resampler = Resampler(LINE_RATE_HZ, RATE)
    step = LINE_RATE_HZ * 2 * 20 // 1000
    return b"".join(resampler.process(line_pcm[i:i + step]) for i in range(0, len(line_pcm), step))


def last_speech_end(pcm: bytes) -> tuple[int, int] | None:
    """(byte offset where speech started, minus the pre-roll; byte offset of the end of its last speech frame)."""
    detector = SpeechDetector(WebRtcVAD(RATE, 0.5), 120, 10_000)
    start = None
    for i in range(0, len(pcm) - FRAME + 1, FRAME):
        for event in detector.process(pcm[i:i + FRAME]):
            if isinstance(event, SpeechStart) and start is None:
                start = max(0, event.at_ms - PREROLL_MS) * RATE * 2 // 1000
    if start is None or not detector.speaking:
        return None
    end_ms = detector.now_ms - detector.silence_ms
    return start, end_ms * RATE * 2 // 1000


async def read(asr: WhisperASR, pcm: bytes) -> str:
    stream = asr.open("en", RATE, SESSION_VOCABULARY)
    for i in range(0, len(pcm), FRAME):
        stream.push(pcm[i:i + FRAME])
    text = (await stream.so_far()).strip()
    stream.cancel()
    return text


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuts", default="30,60,125,300", help="ms of silence after the last speech frame")
    parser.add_argument("--sets", default="tuning", help="tuning, held_out or both (comma-separated)")
    parser.add_argument("--quick", action="store_true", help="12 sentences")
    parser.add_argument("-v", "--verbose", action="store_true", help="print transcripts that differ by cut")
    args = parser.parse_args()
    cuts = [int(c) for c in args.cuts.split(",")]
    sentences = QUICK_SENTENCES if args.quick else SENTENCES
    asr = WhisperASR(pool=InferencePool("bench", 1), languages=["en"])
    asr.warm_up()
    voices = {"tuning": TUNING_VOICES, "held_out": HELD_OUT_VOICES}
    for set_name in args.sets.split(","):
        errors, words, changed = Counter(), Counter(), Counter()
        verdicts: dict[int, Counter] = {cut: Counter() for cut in cuts}
        for voice in voices[set_name]:
            for sentence in sentences:
                pcm = at_engine_rate(synthesise(sentence, voice))
                pcm += b"\x00\x00" * (RATE * max(cuts) // 1000)  # the caller's silence
                found = last_speech_end(pcm)
                if found is None:
                    continue
                start, end = found
                heard = {cut: await read(asr, pcm[start:end + cut * RATE * 2 // 1000]) for cut in cuts}
                for cut, text in heard.items():
                    wrong, count = word_errors(sentence, text)
                    errors[cut] += wrong
                    words[cut] += count
                    verdicts[cut][completeness(text).value] += 1
                    if text != heard[max(cuts)]:
                        changed[cut] += 1
                        if args.verbose:
                            print(f"  [{voice.name}] {cut} ms: {text!r} (at {max(cuts)} ms: {heard[max(cuts)]!r})")
        print(f"{set_name}: {len(voices[set_name])} voices x {len(sentences)} sentences")
        print(f"  {'cut ms':>6}  {'WER':>6}  {'changed':>7}  verdicts")
        for cut in cuts:
            shown = ", ".join(f"{k} {v}" for k, v in sorted(verdicts[cut].items()))
            print(f"  {cut:>6}  {errors[cut] / max(words[cut], 1):6.1%}  {changed[cut]:>7}  {shown}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
