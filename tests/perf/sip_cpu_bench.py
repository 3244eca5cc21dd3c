"""CPU per held SIP call, by `sip.frame_ms`: one real `parley serve` with SIP on per setting, all running at
once; in each round every gateway is measured idle, then holding 4 calls (the most one worker takes) whose
callers send RTP all along (a quiet line) and say nothing, over the same windows, so that the machine's
noise falls on every setting alike.

    .venv/bin/python -m tests.perf.sip_cpu_bench [--frame-ms 20 60] [--rounds 5] [--window-s 20]

Prints each round's figures and then, per setting, the median cost of one held call in % of a core and in
resident memory (the first round's includes the bridge ports made once and reused after) (the
gateway process's user + system CPU from /proc, held minus idle, over the calls), and the shares of two of its
threads: pjsua2's conference clock (bridge frames, RTP out) and the event loop (the engine's frame path).
"""

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from tests.integration.sip.gateway import SipGateway, start_sip_gateway
from tests.integration.sip.sipp import g711_wav, run_sipp
from tests.servers import stop_server

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CALLS = 4


def _seconds(stat: str) -> float:
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def snapshot(pid: int) -> tuple[float, dict[str, tuple[str, float]]]:
    """The process's CPU seconds so far (threads that ended included), and each live thread's: tid -> kind,
    seconds; kind is clock (pjsua2's conference clock), loop (the main thread, the event loop) or other."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        threads[tid] = ("loop" if tid == str(pid) else "clock" if name == "clock" else "other", _seconds(stat))
    return _seconds(Path(f"/proc/{pid}/stat").read_text()), threads


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(gateways: list[SipGateway], seconds: float) -> list[dict[str, float]]:
    """% of a core each gateway used over the next `seconds`: in all, and its clock and loop threads; and its
    resident memory at the end (MB, under "rss")."""
    pids = [g.server.process.pid for g in gateways]
    before, started = [snapshot(pid) for pid in pids], time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    used = []
    for (total_was, threads_was), (total, threads) in zip(before, [snapshot(pid) for pid in pids]):
        share = {"all": 100 * (total - total_was) / elapsed, "clock": 0.0, "loop": 0.0}
        for tid, (kind, spent) in threads.items():
            if kind != "other" and tid in threads_was:  # a thread that came or went meanwhile counts in "all"
                share[kind] += 100 * (spent - threads_was[tid][1]) / elapsed
        used.append(share)
    for share, pid in zip(used, pids):
        share["rss"] = rss_mb(pid)
    return used


def quiet_line(seconds: float, rate: int = 8000) -> bytes:
    """pcm16 of a quiet line (about -60 dBFS): what a caller who listens sends."""
    rng = random.Random(7)
    return b"".join(int(rng.gauss(0, 30)).to_bytes(2, "little", signed=True) for _ in range(int(seconds * rate)))


def active_calls(gateway: SipGateway) -> int:
    _, page = gateway.api("GET", "/v1/conversations?channel=sip&status=active&limit=100")
    return len(page["conversations"])


def held(gateways: list[SipGateway], work: Path, window_s: float) -> list[dict[str, float]]:
    """Every gateway holds CALLS calls from sipp while measured."""
    line = quiet_line(window_s + 14)
    runs: list = []
    threads = []
    for n, gateway in enumerate(gateways):  # each sipp plays the caller's line from its own directory
        (work / f"sipp-{n}").mkdir(parents=True)
        g711_wav(work / f"sipp-{n}" / "question.wav", line, 8000, "mulaw", tail_ms=0)
        threads.append(threading.Thread(target=lambda g=gateway, n=n: runs.append(run_sipp(
            "caller_hangs_up", g.target, work / f"sipp-{n}", service="1000", calls=CALLS,
            pause_ms=int((window_s + 12) * 1000), timeout_s=window_s + 120))))
        threads[-1].start()
    deadline = time.monotonic() + 60
    while not all(active_calls(g) >= CALLS for g in gateways):
        assert time.monotonic() < deadline, "the calls did not come up"
        time.sleep(0.2)
    time.sleep(6)  # the greetings (about 1.5 s) played out
    used = measure(gateways, window_s)
    for thread in threads:
        thread.join()
    assert len(runs) == len(gateways) and all(run.ok for run in runs), [r.output[-1500:] for r in runs]
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frame-ms", type=int, nargs="+", default=[20, 60])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--window-s", type=float, default=20.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sip-cpu-"))
    gateways: list[SipGateway] = []
    costs: dict[int, list[dict[str, float]]] = {ms: [] for ms in args.frame_ms}
    try:
        for ms in args.frame_ms:
            gateways.append(start_sip_gateway(tmp / f"gateway-{ms}", {
                "PARLEY_SESSIONS_IDLE_TIMEOUT_S": "600", "PARLEY_SIP_FRAME_MS": str(ms)}))
        time.sleep(10)  # start-up work (prompt warm-up) over
        for n in range(args.rounds):
            idle = measure(gateways, args.window_s)
            busy = held(gateways, tmp / f"round-{n}", args.window_s)
            for ms, was, now in zip(args.frame_ms, idle, busy):
                per_call = {kind: (now[kind] - was[kind]) / CALLS for kind in now}
                costs[ms].append(per_call)
                print(f"round {n + 1}, frame_ms {ms}: idle {was['all']:.2f} %, held {now['all']:.2f} %,"
                      f" per call {per_call['all']:.3f} % of a core, {per_call['rss']:+.1f} MB", flush=True)
    finally:
        for gateway in gateways:
            stop_server(gateway.server)
    print(f"\nper held SIP call, median of {args.rounds} rounds (% of a core):")
    for ms, rounds in costs.items():
        parts = {kind: statistics.median(r[kind] for r in rounds) for kind in rounds[0]}
        print(f"  frame_ms {ms}: {parts['all']:.3f} (the clock thread {parts['clock']:.3f}, "
              f"the event loop {parts['loop']:.3f}), {parts['rss']:+.1f} MB resident")


if __name__ == "__main__":
    main()
