"""`parley bench capacity URL`: dial N simulated callers at a rate, hold them, measure, hang up, report.

Phases: the ramp (calls dialled at `--rate` a second: set-up latency, and the server's CPU for it), a short
settle, the window (`--hold` seconds with every call up: the server's CPU and memory per held call), then
hang-up. The callers' figures (turn latency, unanswered turns, stalls, drops) cover the whole run. The
server's own figures need an admin key (its /metrics); without one only the callers' side is reported.
"""

import argparse
import asyncio
import base64
import json
import resource
import statistics
import sys
from xml.etree.ElementTree import ParseError

import aiohttp

from gateway.bench import QUESTIONS as BENCH_QUESTIONS
from gateway.bench import percentile, synthesise
from gateway.capacity.doors import ApiLine, TwilioLine
from gateway.capacity.lines import REPLY_TIMEOUT_S, CallFigures, DialError, Line, Script
from gateway.capacity.server import ServerSample, histogram_quantile, lag_between, read_server, stage_means_ms
from gateway.client import DEMO_AGENT
from media.codecs import make_codec

QUESTIONS = BENCH_QUESTIONS["ordinary"]  # five everyday questions no tool answers, as `parley bench latency` asks
SETTLE_S = 2.0
IDLE_S = 3.0  # the server's CPU with no call of ours first: its own background work is not a call's


async def make_script(door: str, talk: bool, think_s: float, turns: int) -> Script:
    rate, frame_bytes = (8000, 320) if door == "twilio" else (16000, 640)
    silence = base64.b64encode(b"\xff" * 160).decode("ascii") if door == "twilio" else b"\x00" * frame_bytes
    if not talk:
        return Script([], silence, think_s, talk=False)
    questions, mulaw = [], make_codec("mulaw", 8000)
    for pcm in await synthesise(QUESTIONS, rate):
        pcm = _trimmed(pcm)
        pcm += b"\x00" * (-len(pcm) % frame_bytes)
        frames = [pcm[i:i + frame_bytes] for i in range(0, len(pcm), frame_bytes)]
        if door == "twilio":
            frames = [base64.b64encode(mulaw.encode(f)).decode("ascii") for f in frames]
        questions.append(frames)
    return Script(questions, silence, think_s, turns=turns)


def _trimmed(pcm: bytes) -> bytes:
    """Without the voice's leading and trailing silence: the question's end is the end of its last word."""
    samples = memoryview(pcm).cast("h")
    loud = [i for i in range(len(samples)) if abs(samples[i]) > 500]
    return pcm[loud[0] * 2:(loud[-1] + 1) * 2] if loud else pcm


class Clock:
    """One 20 ms clock for every caller (not a timer each): each tick every line sends and plays 20 ms."""

    def __init__(self, lines: list[Line]) -> None:
        self.lines = lines
        self.lags: list[float] = []  # how late each tick began (s): the bench's own health

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            now = loop.time()
            self.lags.append(max(0.0, now - due))
            for line in self.lines:
                await line.tick(now)
            due += 0.02
            if loop.time() > due + 0.1:  # far behind: start again from now rather than burst
                due = loop.time()
            await asyncio.sleep(max(0.0, due - loop.time()))


def _line(args: argparse.Namespace, api_key: str, script: Script, index: int) -> Line:
    figures = CallFigures()
    if args.door == "twilio":
        return TwilioLine(script, figures, index, args.url, args.public_url or args.url, args.twilio_auth_token,
                          args.to)
    fields = {"persona_id": args.persona} if args.persona else dict(DEMO_AGENT)
    return ApiLine(script, figures, index, args.url, api_key, 16000, "pcm16", fields)


async def _sample(http: aiohttp.ClientSession, args: argparse.Namespace) -> ServerSample | None:
    if not args.admin_key:
        return None
    try:
        return await read_server(http, args.url, args.admin_key)
    except (aiohttp.ClientError, RuntimeError) as exc:
        print(f"server figures unavailable: {exc}", file=sys.stderr)
        return None


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_capacity(args: argparse.Namespace, api_key: str) -> int:
    if args.door == "twilio" and not args.twilio_auth_token:
        print("parley: --twilio-auth-token (or $PARLEY_TWILIO_AUTH_TOKEN) is needed to sign Twilio's webhooks",
              file=sys.stderr)
        return 2
    script = await make_script(args.door, not args.silent, args.think, args.turns)
    lines: list[Line] = []
    failures: list[str] = []
    loop = asyncio.get_running_loop()
    progress = Progress(args.quiet)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as http:
        idle_from = await _sample(http, args)
        idle_t0 = loop.time()
        if idle_from is not None:
            await asyncio.sleep(IDLE_S)
        before = await _sample(http, args)
        idle_rate = (before.cpu_s - idle_from.cpu_s) / (loop.time() - idle_t0) if idle_from and before else 0.0
        clock = Clock(lines)
        ticking = asyncio.create_task(clock.run(), name="capacity-clock")

        async def dial(line: Line) -> None:
            try:
                await line.dial(http)
            except (DialError, aiohttp.ClientError, asyncio.TimeoutError, ParseError) as exc:  # ParseError: not TwiML
                failures.append(str(exc) or type(exc).__name__)
                return
            line.start(loop.time())
            lines.append(line)

        ramp_started = loop.time()
        dials = []
        for i in range(args.calls):
            await asyncio.sleep(max(0.0, ramp_started + i / args.rate - loop.time()))
            dials.append(asyncio.create_task(dial(_line(args, api_key, script, i))))
            progress.show("ramp", lines, failures, args.calls)
        await asyncio.gather(*dials)
        ramp_ended = loop.time()
        after_ramp = await _sample(http, args)
        await asyncio.sleep(SETTLE_S)
        window_start, window_client = await _sample(http, args), _client_cpu()
        window_t0 = loop.time()
        held_at_start = sum(1 for line in lines if line.live)
        # At least --hold; with --turns, until every caller still up has had its answers (each at most
        # REPLY_TIMEOUT_S late), so that a slow machine makes the run longer, not its figures emptier.
        longest = args.hold + args.turns * (REPLY_TIMEOUT_S + 10.0)
        while True:
            elapsed = loop.time() - window_t0
            talking = any(line.live and not line.done_talking for line in lines) if args.turns else False
            if elapsed >= longest or elapsed >= args.hold and not talking:
                break
            await asyncio.sleep(min(1.0, max(0.05, args.hold - elapsed)))
            progress.show("hold", lines, failures, args.calls)
        window_s = loop.time() - window_t0
        window_end, client_cpu = await _sample(http, args), _client_cpu() - window_client
        held_at_end = sum(1 for line in lines if line.live)
        ticking.cancel()
        await asyncio.gather(ticking, return_exceptions=True)
        await asyncio.gather(*(line.hang_up() for line in lines))
        # The outbound clocks' lag is counted as calls stop: wait until the gateway has let ours go.
        deadline = loop.time() + 30
        final = await _sample(http, args)
        others = before.calls_active if before is not None else 0
        while final is not None and final.calls_active > others and loop.time() < deadline:
            await asyncio.sleep(0.5)
            final = await _sample(http, args)
    progress.done()
    report = _report(args, lines, failures, idle_rate, (ramp_started, ramp_ended), (before, after_ramp),
                     (window_start, window_end, window_s, held_at_start, held_at_end), final, client_cpu,
                     clock.lags)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)
    return 0 if not failures and not report["calls"]["dropped"] else 1


class Progress:
    """One line, rewritten in place on a terminal; elsewhere (a log) a line every 5 s."""

    def __init__(self, quiet: bool) -> None:
        self.quiet, self.tty, self.last = quiet, sys.stderr.isatty(), float("-inf")

    def show(self, phase: str, lines: list[Line], failures: list[str], wanted: int) -> None:
        now = asyncio.get_running_loop().time()
        if self.quiet or not self.tty and now - self.last < 5.0:
            return
        self.last = now
        live = sum(1 for line in lines if line.live)
        turns = [t for line in lines for t in line.figures.turn_latencies]
        p50 = f"{statistics.median(turns) * 1000:.0f} ms" if turns else "-"
        dropped = sum(1 for line in lines if line.figures.dropped)
        print(f"\r{phase}: {live}/{wanted} calls up, {len(failures)} failed, {dropped} dropped, {len(turns)} "
              f"answers (p50 {p50})   ", end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty and not self.quiet:
            print(file=sys.stderr)


def _ms(values: list[float], q: float) -> float | None:
    return round(percentile(values, q) * 1000, 1) if values else None


def _report(args, lines, failures, idle_rate, ramp, ramp_samples, window, final, client_cpu, clock_lags) -> dict:
    (ramp_started, ramp_ended), (before, after_ramp) = ramp, ramp_samples
    window_start, window_end, window_s, held_at_start, held_at_end = window
    figures = [line.figures for line in lines]
    setups = [f.setup_s for f in figures if f.setup_s is not None]
    turns = [t for f in figures for t in f.turn_latencies]
    stalls = [s for f in figures for s in f.stalls]
    dropped: dict[str, int] = {}
    for f in figures:
        if f.dropped:
            dropped[f.dropped] = dropped.get(f.dropped, 0) + 1
    report = {
        "door": args.door, "talking": not args.silent, "rate_per_s": args.rate,
        "calls": {"asked": args.calls, "set_up": len(lines), "failed": len(failures),
                  "failures": sorted(set(failures))[:5], "held_in_window": min(held_at_start, held_at_end),
                  "dropped": sum(dropped.values()), "dropped_why": dropped},
        "set_up_s": {"p50": _ms(setups, 0.5), "p99": _ms(setups, 0.99), "max": _ms(setups, 1.0),
                     "ramp_s": round(ramp_ended - ramp_started, 1)},
        "turns": {"answered": len(turns), "unanswered": sum(f.unanswered for f in figures),
                  "latency_p50_ms": _ms(turns, 0.5), "latency_p95_ms": _ms(turns, 0.95)},
        "stalls": {"count": len(stalls), "calls_with_stalls": sum(1 for f in figures if f.stalls),
                   "p99_ms": _ms(stalls, 0.99), "frames_heard": sum(f.frames_heard for f in figures)},
        "client": {"cpu_percent_of_core": round(100 * client_cpu / window_s, 1) if window_s else None,
                   "clock_lag_p99_ms": _ms(clock_lags, 0.99)},
    }
    held = min(held_at_start, held_at_end)
    if window_start is not None and window_end is not None and held:
        cpu_rate = (window_end.cpu_s - window_start.cpu_s) / window_s  # cores busy
        per_call = max(0.0, cpu_rate - idle_rate) / held  # less what the server spends with no call at all
        server = {"cpu_percent_of_core": round(100 * cpu_rate, 1), "idle_cpu_percent": round(100 * idle_rate, 1),
                  "cpu_percent_per_call": round(100 * per_call, 4)}
        if before is not None:
            server["rss_mb"] = round(window_end.rss_bytes / 2**20, 1)
            server["rss_mb_per_call"] = round((window_end.rss_bytes - before.rss_bytes) / 2**20 / held, 3)
        if before is not None and after_ramp is not None and lines:
            # CPU of the ramp, less what the calls already up cost meanwhile at the window's rate per call.
            call_seconds = sum(ramp_ended - f.connected_at for f in figures if f.connected_at is not None)
            ramp_cpu = after_ramp.cpu_s - before.cpu_s - idle_rate * (ramp_ended - ramp_started)
            setup_cpu = ramp_cpu - per_call * call_seconds
            server["set_up_cpu_ms_per_call"] = round(max(0.0, setup_cpu) / len(lines) * 1000, 1)
        report["server"] = server
    if final is not None and before is not None:
        lag = lag_between(before.tick_lag, final.tick_lag)
        q50, q99 = histogram_quantile(lag, 0.5), histogram_quantile(lag, 0.99)
        report.setdefault("server", {})["outbound_tick_lag_ms"] = {
            "p50_at_most": None if q50 is None else q50 * 1000, "p99_at_most": None if q99 is None else q99 * 1000,
            "ticks": int(lag[-1][1]) if lag else 0}
        report["server"]["turn_stages_mean_ms"] = stage_means_ms(before, final)
    return report


def _print(report: dict) -> None:
    calls, turns, stalls = report["calls"], report["turns"], report["stalls"]
    print(f"door {report['door']}, {'talking' if report['talking'] else 'silent'} callers, "
          f"dialled at {report['rate_per_s']}/s")
    print(f"calls: {calls['set_up']}/{calls['asked']} set up, {calls['failed']} failed, "
          f"{calls['held_in_window']} held through the window, {calls['dropped']} dropped")
    for why in calls["failures"]:
        print(f"  failed: {why}")
    for why, n in calls["dropped_why"].items():
        print(f"  dropped ({n}): {why}")
    s = report["set_up_s"]
    print(f"set-up (webhook / create answered): p50 {s['p50']} ms, p99 {s['p99']} ms, max {s['max']} ms "
          f"(ramp {s['ramp_s']} s)")
    print(f"turns: {turns['answered']} answered, {turns['unanswered']} unanswered; end of question -> first audio "
          f"p50 {turns['latency_p50_ms']} ms, p95 {turns['latency_p95_ms']} ms")
    print(f"earpiece stalls: {stalls['count']} in {stalls['calls_with_stalls']} calls (p99 {stalls['p99_ms']} ms), "
          f"{stalls['frames_heard']} frames heard")
    server = report.get("server")
    if server:
        print("server: " + ", ".join(f"{k} {v}" for k, v in server.items()))
    else:
        print("server: no figures (pass --admin-key for its /metrics)")
    client = report["client"]
    print(f"bench client: {client['cpu_percent_of_core']} % of a core, its clock late by p99 "
          f"{client['clock_lag_p99_ms']} ms (if that is high, the client is the limit)")
