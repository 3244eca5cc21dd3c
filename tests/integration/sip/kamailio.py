"""Debian's real Kamailio with the project's own configuration (deploy/kamailio/kamailio.cfg) on a free port,
dispatching to the workers given; its log says where each call went and which workers went down or up."""

import re
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.integration.sip.sipp import free_udp_port

CONFIG = Path(__file__).resolve().parents[3] / "deploy" / "kamailio" / "kamailio.cfg"


def options_status(target: str) -> str | None:
    """The status line a SIP OPTIONS to `target` (host:port) gets, or None if nothing answers in 0.5 s."""
    host, port = target.rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        s.bind(("127.0.0.1", 0))
        local = s.getsockname()[1]
        s.sendto((f"OPTIONS sip:{target} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{time.time_ns()}\r\n"
                  f"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:{target}>\r\nCall-ID: probe-{time.time_ns()}\r\n"
                  "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(), (host, int(port)))
        try:
            return s.recv(4096).split(b"\r\n", 1)[0].decode()
        except OSError:
            return None


@dataclass
class Kamailio:
    process: subprocess.Popen
    target: str  # host:port the callers send their INVITEs to
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def destinations(self) -> dict[str, list[str]]:
        """Call-ID -> the workers (host:port) Kamailio handed the call to, in order."""
        sent: dict[str, list[str]] = {}
        for call_id, worker in re.findall(r"call (\S+) to sip:(\S+)", self.log()):
            sent.setdefault(call_id, []).append(worker)
        return sent

    def wait_for(self, line: str, timeout_s: float = 60.0) -> None:
        """Until `line` is in the log (a worker going down or up, say)."""
        deadline = time.monotonic() + timeout_s
        while line not in self.log():
            assert self.process.poll() is None and time.monotonic() < deadline, f"no {line!r}:\n{self.log()[-3000:]}"
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start_kamailio(tmp: Path, workers: list[str], probe_interval_s: int = 1) -> Kamailio:
    """Kamailio in front of `workers` (host:port each), probing them every `probe_interval_s`; returns once it
    answers OPTIONS itself."""
    port = free_udp_port()
    listing = tmp / "dispatcher.list"
    listing.write_text("".join(f"1 sip:{worker}\n" for worker in workers))
    log_path = tmp / "kamailio.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(["kamailio", "-f", str(CONFIG), "-D", "-E", "-l", f"udp:127.0.0.1:{port}",
                                 "-A", f'DISPATCHER_LIST="{listing}"', "-A", f"PROBE_INTERVAL={probe_interval_s}",
                                 "-P", str(tmp / "kamailio.pid"), "-w", str(tmp), "-m", "32", "-M", "8"],
                                stdout=log, stderr=subprocess.STDOUT)
    kamailio = Kamailio(proc, f"127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + 30
    while options_status(kamailio.target) != "SIP/2.0 200 OK":
        assert proc.poll() is None and time.monotonic() < deadline, kamailio.log()[-3000:]
    return kamailio
