"""Drive tests/integration/sip/phone.py (a pjsua2 softphone in a process of its own) from a test."""

import json
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

PHONE = Path(__file__).resolve().parent / "phone.py"


@dataclass
class PhoneCall:
    connected: bool
    codec: str
    status_code: int
    hung_up_by: str
    junk_sent: int
    digits: str
    call_id: str  # the SIP Call-ID
    heard: bytes  # what the phone's earpiece got: pcm16 at `rate`
    rate: int


def call(uri: str, say: Path, workdir: Path, seconds: float = 15.0, say_after_s: float = 3.0,
         codec: str = "PCMU", junk_rtp: bool = False) -> PhoneCall:
    record = workdir / "heard.wav"
    command = [sys.executable, str(PHONE), uri, "--say", str(say), "--record", str(record), "--seconds", str(seconds),
               "--say-after-s", str(say_after_s), "--codec", codec, *(["--junk-rtp"] if junk_rtp else [])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, f"the softphone failed: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    with wave.open(str(record)) as wav:
        heard, rate = wav.readframes(wav.getnframes()), wav.getframerate()
    return PhoneCall(**json.loads(lines[-1]), heard=heard, rate=rate)
