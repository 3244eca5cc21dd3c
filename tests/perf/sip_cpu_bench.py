"""CPU per held SIP call: one real `parley serve` with SIP on, sipp holding 4 calls (the most one worker
takes) whose callers send RTP all along (low noise, as a line carries) and say nothing, against the same
gateway idle, in alternating rounds.

    .venv/bin/python -m tests.perf.sip_cpu_bench [--rounds 3] [--window-s 20] [--calls 4]

Prints, per round, the gateway's CPU (user + system, from /proc) over the window with the calls held and
idle, and at the end the median cost of one held call in % of a core. Run it on a quiet machine: another
process's load shows up in the gateway's figures only as noise, but a loaded core stretches every callback.
"""

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from tests.integration.sip.gateway import start_sip_gateway
from tests.integration.sip.sipp import g711_wav, run_sipp
from tests.servers import stop_server

CLOCK_TICKS = 100  # os.sysconf("SC_CLK_TCK") on Linux


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def line_noise(seconds: float, rate: int = 8000) -> bytes:
    """pcm16 of a quiet line (about -60 dBFS): what a caller who listens sends."""
    rng = random.Random(7)
    return b"".join(int(rng.gauss(0, 30)).to_bytes(2, "little", signed=True) for _ in range(int(seconds * rate)))


def window(pid: int, seconds: float) -> float:
    """% of a core the process used over the next `seconds`."""
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - before) / (time.monotonic() - started)


def held_round(gateway, work: Path, calls: int, window_s: float) -> float:
    hold_ms = int((window_s + 12) * 1000)
    g711_wav(work / "question.wav", line_noise(window_s + 14), 8000, "mulaw", tail_ms=0)
    result: list = []
    sipp = threading.Thread(target=lambda: result.append(
        run_sipp("caller_hangs_up", gateway.target, work, service="1000", calls=calls, pause_ms=hold_ms,
                 timeout_s=window_s + 120)))
    sipp.start()
    deadline = time.monotonic() + 60
    while True:  # every call answered and its greeting over
        _, page = gateway.api("GET", "/v1/conversations?channel=sip&status=active&limit=100")
        if len(page["conversations"]) >= calls:
            break
        assert time.monotonic() < deadline, "the calls did not come up"
        time.sleep(0.2)
    time.sleep(6)  # the greeting (about 1.5 s) played out
    used = window(gateway.server.process.pid, window_s)
    sipp.join()
    assert result and result[0].ok, result[0].output[-2000:] if result else "sipp did not run"
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window-s", type=float, default=20.0)
    parser.add_argument("--calls", type=int, default=4)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sip-cpu-"))
    gateway = start_sip_gateway(tmp / "gateway", {"PARLEY_SESSIONS_IDLE_TIMEOUT_S": "600"})
    per_call = []
    try:
        for n in range(args.rounds):
            idle = window(gateway.server.process.pid, args.window_s)
            held = held_round(gateway, tmp / f"round-{n}", args.calls, args.window_s)
            per_call.append((held - idle) / args.calls)
            print(f"round {n + 1}: idle {idle:.2f} %, {args.calls} calls held {held:.2f} %, "
                  f"per call {per_call[-1]:.3f} % of a core", flush=True)
    finally:
        stop_server(gateway.server)
    print(f"per held SIP call: median {statistics.median(per_call):.3f} % of a core "
          f"({', '.join(f'{v:.3f}' for v in per_call)})")


if __name__ == "__main__":
    main()
