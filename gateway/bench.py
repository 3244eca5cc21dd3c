"""`parley bench latency`: N spoken turns over the real API; p50/p95 of end of speech -> first audio, and why.

Each turn is a fresh session (same prompt), asking the order question or, with `--questions ordinary`,
one of five everyday questions no tool answers, in turn. Views of one number:
- client: the last frame of the question sent -> the first reply audio received (what a caller feels,
  including the gateway's end-of-turn wait);
- client_answer: the same, to the first audio of the answer itself (a hold line such as "Let me look
  that up." may go first: client + the gateway's answer_latency_ms - latency_ms);
- latency_ms / answer_latency_ms: the gateway's own figures (end of speech by VAD -> first audio sent);
- breakdown from the stored turn: end-of-turn wait, ASR final, LLM first token, TTS first audio.
"""

import argparse
import json
import statistics
import sys

import aiohttp

from gateway.client import GatewayClient, converse, read_wav

BENCH_UTTERANCE = "What is the status of my order? The order number is one two three four."
QUESTIONS = {
    "order": (BENCH_UTTERANCE,),
    # Answered from the prompt alone: no tool, so no hold line goes first (issue 13's "ordinary questions").
    "ordinary": (
        "Can I pay by card?",
        "What are your opening hours?",
        "Do you ship to Canada?",
        "How long does delivery usually take?",
        "Can I change the address on my account?",
    ),
}
MEASURES = ("client_ms", "client_answer_ms", "latency_ms", "answer_latency_ms", "endpoint_ms", "asr_ms",
            "llm_first_token_ms", "tts_first_audio_ms")


async def synthesise(texts: tuple[str, ...], sample_rate: int) -> list[bytes]:
    from agents.providers.tts import make_tts

    tts = make_tts("piper")
    clips = []
    for text in texts:
        audio = bytearray()
        async for chunk in tts.speak(text, "joe", sample_rate):
            audio += chunk.pcm
        clips.append(bytes(audio))
    return clips


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_bench(args: argparse.Namespace, api_key: str) -> int:
    rate = 16000
    clips = [read_wav(args.wav, rate)] if args.wav else await synthesise(QUESTIONS[args.questions], rate)
    rows = []
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(args.url, api_key, http)
        for i in range(args.turns):
            fields = {"asr": {"model": args.asr_model}} if getattr(args, "asr_model", None) else {}
            session_id = (await client.create(**fields))["session_id"]
            try:
                result = await converse(client, session_id, wav=clips[i % len(clips)], sample_rate=rate,
                                        on_event=lambda e: None)
            except TimeoutError:
                print(f"turn {i + 1}: no reply in time", file=sys.stderr)
                continue
            detail = await client.request("GET", f"/v1/conversations/{session_id}")
            reply = next((t for t in detail["history"] if t["role"] == "assistant"), None)
            if reply is None or not result.first_audio_at or result.speech_end_at is None:
                print(f"turn {i + 1}: no spoken reply", file=sys.stderr)
                continue
            client_ms = round((result.first_audio_at[0] - result.speech_end_at) * 1000)
            answer_ms = reply.get("answer_latency_ms")
            row = {"client_ms": client_ms, "latency_ms": reply["latency_ms"], "answer_latency_ms": answer_ms,
                   "client_answer_ms": None if answer_ms is None else client_ms + answer_ms - reply["latency_ms"],
                   **reply.get("latency_breakdown", {}),
                   "user_text": next((t["text"] for t in detail["history"] if t["role"] == "user"), ""),
                   "reply": reply["text"]}
            rows.append(row)
            print(f"turn {i + 1}/{args.turns}: client {row['client_ms']} ms (answer {row['client_answer_ms']}),"
                  f" latency_ms {row['latency_ms']}: {row['user_text']!r} -> {row['reply']!r}", file=sys.stderr)
    if not rows:
        print("no turn produced a spoken reply", file=sys.stderr)
        return 1
    summary = {}
    for name in MEASURES:
        values = [r[name] for r in rows if r.get(name) is not None]
        if values:
            summary[name] = {"p50": statistics.median(values), "p95": percentile(values, 0.95), "n": len(values)}
    if args.json:
        print(json.dumps({"summary": summary, "turns": rows}, indent=2))
    else:
        print(f"{'measure':<22}{'p50 ms':>10}{'p95 ms':>10}{'n':>5}")
        for name, s in summary.items():
            print(f"{name:<22}{s['p50']:>10.0f}{s['p95']:>10.0f}{s['n']:>5}")
        print(f"heard: {rows[0]['user_text']!r} -> replied: {rows[0]['reply']!r}")
    return 0
