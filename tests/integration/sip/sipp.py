"""Run Debian's `sipp` (package sip-tester) as the far end of a SIP call, with the scenarios beside this file.

Each run gets a working directory of its own (the scenario's question.wav
goes there: sipp's rtp_stream takes a path relative to it), a free SIP port
and a free media port on 127.0.0.1, and the messages sipp exchanged
(-trace_msg) to assert on.
"""

import socket
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from media.codecs import make_codec
from media.resample import resample

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
_WAV_FORMATS = {"mulaw": 7, "alaw": 6}  # WAVE_FORMAT_MULAW / WAVE_FORMAT_ALAW
CODECS = {"PCMU": (0, "mulaw"), "PCMA": (8, "alaw")}  # codec -> (RTP payload type, question.wav's encoding)


def free_udp_port(count: int = 1) -> int:
    """A port with `count` free UDP ports from it (RTP wants an even port and the next one for RTCP)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1] & ~1
        sockets = []
        try:
            for offset in range(count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sockets.append(s)
                s.bind(("127.0.0.1", port + offset))
            return port
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()


def g711_wav(path: Path, pcm: bytes, rate: int, encoding: str, tail_ms: int = 1000) -> Path:
    """Write `pcm` (pcm16 at `rate`) as an 8 kHz G.711 WAV (what sipp's rtp_stream plays), silence after."""
    pcm8 = resample(pcm, rate, 8000) + b"\x00" * (16 * tail_ms)
    data = make_codec(encoding, 8000).encode(pcm8)
    fmt = b"fmt " + struct.pack("<IHHIIHHH", 18, _WAV_FORMATS[encoding], 1, 8000, 8000, 1, 8, 0)
    fact = b"fact" + struct.pack("<II", 4, len(data))
    body = b"WAVE" + fmt + fact + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


@dataclass
class SippRun:
    returncode: int
    output: str
    messages: str  # every SIP message sent and received, as sipp logged them

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_sipp(scenario: str, target: str | None, workdir: Path, service: str = "1000", calls: int = 1,
             pause_ms: int = 10000, timeout_s: float = 150.0, codec: str = "PCMU", port: int | None = None,
             extra: tuple[str, ...] = (), rate: int | None = None) -> SippRun:
    """Place `calls` calls (all at once) with scenarios/<scenario>.xml to `target` (host:port); waits for the end.
    With `target` None sipp is the one called (a UAS on `port`) and takes `calls` calls.

    `pause_ms` is how long `<pause/>` lasts (sipp's -d): the time the caller listens before hanging up.
    `rate`: calls placed per second (default: all `calls` within the first second).
    `codec` (PCMU or PCMA) is offered in the SDP and used for question.wav's RTP.
    """
    payload_type = CODECS[codec][0]
    workdir.mkdir(parents=True, exist_ok=True)
    for old in workdir.glob("*_messages.log"):
        old.unlink()
    command = [
        "sipp", "-sf", str(SCENARIOS / f"{scenario}.xml"), *([target, "-s", service] if target else []),
        "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(port or free_udp_port()), "-mp", str(free_udp_port(4)),
        "-m", str(calls), "-l", str(calls), "-r", str(rate or calls), "-rp", "1000", "-d", str(pause_ms),
        "-key", "codec", codec, "-key", "codec_pt", str(payload_type), "-rtp_payload", str(payload_type),
        "-nostdin", "-trace_msg", "-timeout", f"{int(timeout_s)}s", "-timeout_error", *extra,
    ]
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=timeout_s + 15)
    logs = sorted(workdir.glob("*_messages.log"))
    return SippRun(done.returncode, done.stdout + done.stderr, "\n".join(p.read_text(errors="replace") for p in logs))
