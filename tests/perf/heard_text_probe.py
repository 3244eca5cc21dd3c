"""How far the heard text after a barge-in was off before the voice's own timing: Piper's word timing
(phoneme alignments) against the old estimate (a piece's time shared out by characters).

Synthesises typical replies with the default voice at 8 kHz as the gateway does, cuts each one every
50 ms as a caller talking over it would, and compares the words each method says were heard. The
voice's timing is the reference (it is the model's own durations; the unit tests tie it to the audio).
Also: model load time and synthesis time with the alignment-patched model against the plain one.

    .venv/bin/python tests/perf/heard_text_probe.py [--runs 3]
"""

import argparse
import asyncio
import statistics
import time

from agents.providers.tts.piper import PiperTTS, default_voice_file, _describe
from agents.timeline import SpokenTimeline

REPLIES = [
    "We are open from 9 AM to 5 PM, Monday to Friday.",
    "Yes, we accept Visa, Mastercard and American Express.",
    "Your order 1234 shipped on Monday by UPS and should arrive by Friday.",
    "Standard shipping takes 3 to 5 business days.",
    "You can return any item within 30 days for a full refund.",
    "Our phone number is 555 0100.",
    "Order 5678 is still being packed; it should ship tomorrow.",
    "I can transfer you to our front desk.",
    "The total comes to $49.99, including tax.",
    "Yes, we ship to Canada, and delivery takes about a week.",
    "Your appointment is on March 3rd at 2:30 PM.",
    "Please hold while I check that for you.",
    "Our store is at 1200 Main Street, suite 4.",
    "Thank you for calling, have a lovely day!",
    "You can reset your password from the sign-in page.",
    "The warranty covers parts and labour for 2 years.",
]
STEP_MS = 50


def compare(text: str, duration_ms: int, words) -> tuple[int, int, int]:
    """(cuts, cuts where the estimate named other words, words it was off by in all)."""
    timed, estimated = SpokenTimeline(), SpokenTimeline()
    timed.add(text, duration_ms, words)
    estimated.add(text, duration_ms)
    cuts = wrong = off = 0
    for cut in range(STEP_MS, duration_ms, STEP_MS):
        a, b = timed.heard(cut).split(), estimated.heard(cut).split()
        cuts += 1
        wrong += a != b
        off += abs(len(a) - len(b))
    return cuts, wrong, off


async def measure(tts: PiperTTS) -> dict:
    totals = {"digits": [0, 0, 0], "words": [0, 0, 0]}
    for reply in REPLIES:
        async for chunk in tts.speak(reply, "joe", 8000):
            duration_ms = len(chunk.pcm) * 1000 // (2 * 8000)
            kind = "digits" if any(c.isdigit() for c in chunk.text) else "words"
            for i, n in enumerate(compare(chunk.text, duration_ms, chunk.words)):
                totals[kind][i] += n
    return totals


def timing(runs: int) -> None:
    from piper import PiperVoice, SynthesisConfig

    _, model, config = _describe(default_voice_file())
    for aligned in (False, True):
        started = time.perf_counter()
        PiperVoice.load(model, config, include_alignments=aligned)
        print(f"load {'patched' if aligned else 'plain'}: {time.perf_counter() - started:.2f} s")
    plain = PiperVoice.load(model, config)
    patched = PiperVoice.load(model, config, include_alignments=True)
    syn = SynthesisConfig(volume=0.9)
    ratios = []
    for _ in range(runs):
        for reply in REPLIES:
            t0 = time.perf_counter()
            list(plain.synthesize(reply, syn_config=syn))
            t1 = time.perf_counter()
            list(patched.synthesize(reply, syn_config=syn, include_alignments=True))
            ratios.append((time.perf_counter() - t1) / (t1 - t0))
    print(f"synthesis time, patched / plain, paired: median {statistics.median(ratios):.2f} ({len(ratios)} pairs)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3, help="syntheses of every reply (Piper varies each time)")
    args = parser.parse_args()
    tts = PiperTTS()
    grand = {"digits": [0, 0, 0], "words": [0, 0, 0]}
    for _ in range(args.runs):
        totals = asyncio.run(measure(tts))
        for kind in grand:
            grand[kind] = [a + b for a, b in zip(grand[kind], totals[kind])]
    for kind, (cuts, wrong, off) in grand.items():
        label = "pieces with digits" if kind == "digits" else "pieces without"
        print(f"{label}: {cuts} cuts, the estimate named other words at {wrong} ({100 * wrong / cuts:.0f} %), "
              f"{off / cuts:.2f} words off a cut on average")
    timing(args.runs)


if __name__ == "__main__":
    main()
