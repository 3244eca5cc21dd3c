"""Is a reply's first piece cut before a number still heard right? Piper joe, whole sentence against two pieces.

    .venv/bin/python tests/perf/first_piece_probe.py          # the pieces, heard
    .venv/bin/python tests/perf/first_piece_probe.py --llm    # and when the first one is ready, with and without

agents/sentences.py cuts a reply's first piece before a number after three words when it has no clause mark
("My opening hours are" | "9 AM to 5 PM."), so TTS starts on less text while the model writes the rest. For
each sentence: the audio's length whole and in pieces, time to the first audio, the silence at the pieces'
edges (the pause the caller hears between them is the first piece's tail plus the second's head), and what
tiny.en hears of each (a stand-in for intelligibility; nobody listened).

--llm: the packaged Qwen2.5-Coder-0.5B answers ordinary questions as a shop agent (llama.cpp, streamed, warm
prompt cache); each answer's chunks, with their arrival times, go through two splitters, one that may cut
before a number and one that may not, and Piper synthesises each one's first piece: the time from asking to the
first piece's first audio, paired on the same answer, so the machine's load changes nothing between the two.
"""

import asyncio
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agents.pool import InferencePool  # noqa: E402
from agents.providers.asr.whisper import WhisperASR  # noqa: E402
from agents.providers.tts.piper import PiperTTS  # noqa: E402

RATE = 16000
PAIRS = (("My opening hours are", "9 AM to 5 PM."), ("Delivery usually takes", "2-3 days."),
         ("Your order will arrive in", "3 to 5 business days."), ("We are open until", "6 PM on Saturdays."),
         ("The return window is", "30 days from delivery."), ("You can reach us at", "555 0199."))


async def synthesise(tts: PiperTTS, text: str) -> tuple[bytes, float]:
    """(pcm16 at 16 kHz, seconds to the first chunk)."""
    started, first, pcm = time.perf_counter(), None, b""
    async for chunk in tts.speak(text, "joe", RATE):
        if first is None:
            first = time.perf_counter() - started
        pcm += chunk.pcm
    return pcm, first or 0.0


def edges_ms(pcm: bytes, threshold: int = 500) -> tuple[int, int]:
    """ms of near-silence before the first and after the last louder sample."""
    x = np.abs(np.frombuffer(pcm, np.int16).astype(np.int32))
    loud = np.nonzero(x > threshold)[0]
    return round(loud[0] * 1000 / RATE), round((len(x) - loud[-1]) * 1000 / RATE)


async def hear(asr: WhisperASR, pcm: bytes) -> str:
    stream = asr.open("en", RATE)
    for i in range(0, len(pcm), 640):
        stream.push(pcm[i:i + 640])
    return (await stream.final()).strip()


QUESTIONS = ("Can I pay by card?", "What are your opening hours?", "Do you ship to Canada?",
             "How long does delivery usually take?", "Can I change the address on my account?",
             "What are your opening hours on Saturday?", "How many days do I have to return a jacket?",
             "How much is shipping?", "When do you close today?", "How long is the warranty?")


def streamed(llm, question: str) -> list[tuple[float, str]]:
    """(seconds since asking, text) of each chunk of the model's answer."""
    from tests.perf.llm_draft_bench import GREETING, SYSTEM
    request = {"messages": [{"role": "system", "content": SYSTEM}, {"role": "assistant", "content": GREETING},
                            {"role": "user", "content": question}],
               "stream": True, "max_tokens": 60, "temperature": 0.2, "seed": 1}
    started, chunks = time.perf_counter(), []

    def on_chunk(chunk: dict) -> bool:
        for choice in chunk.get("choices", []):
            piece = (choice.get("delta") or {}).get("content") or ""
            if piece:
                chunks.append((time.perf_counter() - started, piece))
        return False

    llm.handle_chat_completions(request, on_chunk)
    return chunks


def first_piece(chunks: list[tuple[float, str]], number_cut: bool) -> tuple[float, str]:
    from agents import sentences
    splitter = sentences.SentenceSplitter()
    if not number_cut:
        splitter._number_cut = lambda: None
    for at, text in chunks:
        pieces = splitter.push(text)
        if pieces:
            return at, pieces[0]
    return chunks[-1][0], splitter.flush() or ""


async def paired(tts: PiperTTS) -> None:
    from tests.perf.llm_draft_bench import server
    llm = server("0.5b", 2)
    results = {True: [], False: []}
    for question in QUESTIONS:
        streamed(llm, question)  # warm, as a live call's prompt prefix is
        chunks = streamed(llm, question)
        line = [question]
        for cut in (False, True):
            at, piece = first_piece(chunks, cut)
            _, tts_s = await synthesise(tts, piece)
            results[cut].append(at + tts_s)
            line.append(f"{'cut' if cut else 'no cut'} {(at + tts_s) * 1000:.0f} ms {piece!r}")
        print("  " + " | ".join(line), flush=True)
    for cut in (False, True):
        values = sorted(results[cut])
        print(f"{'with' if cut else 'without'} the number cut: asking -> first audio of the first piece, median "
              f"{values[len(values) // 2] * 1000:.0f} ms, worst {values[-1] * 1000:.0f} ms")


async def main() -> None:
    tts = PiperTTS()
    if "--llm" in sys.argv:
        await synthesise(tts, "Warm up.")
        await paired(tts)
        return
    asr = WhisperASR(pool=InferencePool("probe", 1), languages=["en"])
    asr.warm_up()
    await synthesise(tts, "Warm up.")
    for first, rest in PAIRS:
        whole, whole_s = await synthesise(tts, f"{first} {rest}")
        head, head_s = await synthesise(tts, first)
        tail, _ = await synthesise(tts, rest)
        gap = edges_ms(head)[1] + edges_ms(tail)[0]
        print(f"{first} | {rest}\n  whole {len(whole) // 32} ms, first audio after {whole_s * 1000:.0f} ms; pieces "
              f"{len(head) // 32} + {len(tail) // 32} ms, first audio after {head_s * 1000:.0f} ms, pause between ~{gap} ms")
        print(f"  heard whole: {await hear(asr, whole)!r}; in pieces: {await hear(asr, head + tail)!r}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
