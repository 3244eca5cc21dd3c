"""Barge-in over the real API: how fast the reply stops, and how often "okay" wrongly stops it (on demand).

    .venv/bin/python tests/perf/barge_in_bench.py --rounds 10          # starts its own `parley serve`
    .venv/bin/python tests/perf/barge_in_bench.py --url http://127.0.0.1:8080 --key pk_...
    .venv/bin/python tests/perf/barge_in_bench.py --env PARLEY_SESSIONS_RESUME_AFTER_BACKCHANNEL=false

Each round: a fresh session, a typed request for a long answer, and once the caller has heard
`--listen` seconds of it, a real-time caller (tests/integration/line.py: a frame every 20 ms)
says something over it. Figures, as SPEC §9 defines them:
  stop_ms     caller speech onset -> the last reply frame the gateway sent before stopping
              (the false-barge-in guard is inside it)
  confirm_ms  caller speech onset -> the `interruption` event (after the words say it is one)
  false       rounds where "Okay." over the reply stopped it for good (should be 0)
  resume_ms   the end of "Okay." -> the first reply frame after the pause it caused (the gap the
              caller hears after a listener's word)
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from gateway.client import GatewayClient  # noqa: E402
from media.audioop_lib import audioop  # noqa: E402
from tests.integration.line import RATE, Line  # noqa: E402
from tests.integration.test_turn_taking import CHATTY, leading_silence_s, reaction_ms, spoken  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def one_round(http, url: str, key: str, clip: bytes, listen_s: float, wait_s: float) -> dict:
    client = GatewayClient(url, key, http)
    sid = (await client.create(voice_id="joe", system_prompt=CHATTY))["session_id"]
    async with http.ws_connect(client.stream_url(sid, RATE, "pcm16"), headers=client.headers) as ws:
        async with Line(ws) as line:
            line.send_json({"type": "user_text", "text": "Tell me about telephones."})
            await line.wait_for(lambda e: e["type"] == "turn_start" and e.get("role") == "assistant", timeout=180)
            start = len(line.played)
            while len(line.played) - start < int(RATE * 2 * listen_s):
                await asyncio.sleep(0.02)
            line.say(clip)
            await asyncio.sleep(wait_s)
            await line.send_json({"type": "end"})
            onset = line.speech_started_at + leading_silence_s(clip)
            cut = next(((e, t) for e, t in zip(line.events, line.event_times) if e["type"] == "interruption"), None)
            return {"stop_ms": reaction_ms(line, clip),
                    "confirm_ms": round((cut[1] - onset) * 1000) if cut else None,
                    "resume_ms": resume_ms(line, clip)}


def resume_ms(line: Line, clip: bytes) -> int | None:
    """The end of the caller's speech -> the first reply frame after the gap it caused (None: no gap, or no resume)."""
    onset = line.speech_started_at + leading_silence_s(clip)
    ended = line.speech_started_at + len(clip) / (RATE * 2) - trailing_silence_s(clip)
    times = [t for t, _ in line.received if t >= onset]
    for before, after in zip(times, times[1:]):
        if after - before > 0.1:
            return round((after - ended) * 1000)
    return None


def trailing_silence_s(clip: bytes) -> float:
    frame = RATE // 50 * 2
    for end in range(len(clip), frame, -frame):
        if audioop.rms(clip[end - frame:end], 2) > 300:
            return (len(clip) - end) / (RATE * 2)
    return 0.0


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url")
    parser.add_argument("--key")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--listen", type=float, default=1.5, help="seconds of the reply heard before talking")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for the server it starts, e.g. PARLEY_SESSIONS_RESUME_AFTER_BACKCHANNEL=false")
    args = parser.parse_args()
    server = None
    if args.url is None:
        from tests.servers import start_server

        server = start_server(Path(tempfile.mkdtemp(prefix="parley-bench-")),
                              extra_env=dict(item.split("=", 1) for item in args.env))
        args.url = server.url
        args.key = server.cli("keys", "create").stdout.strip().splitlines()[-1]
    stop_clip, okay_clip = spoken("Stop, I have a different question."), spoken("Okay.")
    stops, confirms, resumes, false = [], [], [], 0
    try:
        async with aiohttp.ClientSession() as http:
            for i in range(args.rounds):
                real = await one_round(http, args.url, args.key, stop_clip, args.listen, 5.0)
                okay = await one_round(http, args.url, args.key, okay_clip, args.listen, 3.0)
                stops += [real["stop_ms"], okay["stop_ms"]]
                if real["confirm_ms"] is not None:
                    confirms.append(real["confirm_ms"])
                false += okay["confirm_ms"] is not None
                if okay["resume_ms"] is not None and okay["confirm_ms"] is None:
                    resumes.append(okay["resume_ms"])
                print(f"round {i + 1}: stop {real['stop_ms']} / {okay['stop_ms']} ms, confirm {real['confirm_ms']} ms, "
                      f"okay interrupted: {okay['confirm_ms'] is not None}", file=sys.stderr)
    finally:
        if server is not None:
            from tests.servers import stop_server

            stop_server(server)
    print(f"{'measure':<12}{'p50 ms':>8}{'p95 ms':>8}{'n':>4}")
    for name, values in (("stop_ms", stops), ("confirm_ms", confirms), ("resume_ms", resumes)):
        if values:
            print(f"{name:<12}{statistics.median(values):>8.0f}{percentile(values, 0.95):>8.0f}{len(values):>4}")
    print(f"'Okay.' over the reply cut it off in {false} of {args.rounds} rounds")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
