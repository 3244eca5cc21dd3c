"""Per-frame cost of Parley's media paths, in microseconds.

Run:  .venv/bin/python tests/perf/media_bench.py [--frames 5000] [--runs 5]

Not a pytest module (no test_ prefix, no test functions): it prints a table.
Each figure is the median over `--runs` runs of the mean cost per frame over
`--frames` frames, timed with time.perf_counter_ns around the whole loop (so
Python's call and loop overhead is included, as it is on the real path).
Audio is an espeak-ng utterance when espeak-ng is on PATH, else a synthetic
voiced signal (harmonics of a wavering 120 Hz pitch under formant peaks,
in syllables with pauses), looped.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere, installed or not
    sys.path.insert(0, str(ROOT))

from media.codecs import MulawCodec  # noqa: E402
from media.framing import Framer  # noqa: E402
from media.resample import Resampler, resample  # noqa: E402
from media.vad import SpeechDetector, WebRtcVAD  # noqa: E402

INBOUND_TARGET_US = 15.0
FRAME_US = 20_000  # one 20 ms frame period
SENTENCE = (
    "Hello, thank you for calling Parley. Your call may be recorded. "
    "Please tell me, in a few words, how I can help you today."
)


# --------------------------------------------------------------------------- audio


def espeak_clip() -> bytes | None:
    """An espeak-ng utterance, pcm16 at 22050 Hz, or None without espeak-ng."""
    if shutil.which("espeak-ng") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.wav"
        subprocess.run(["espeak-ng", "-w", str(path), SENTENCE], check=True, capture_output=True, timeout=60)
        with wave.open(str(path), "rb") as w:
            if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, 22050):
                return None
            return w.readframes(w.getnframes())


def synthetic_voice(seconds: float = 6.0, rate: int = 22050) -> bytes:
    """A voiced, speech-like signal at 22050 Hz: syllables of harmonics under formants, with pauses."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = 120 + 15 * np.sin(2 * np.pi * 0.7 * t) + 8 * np.sin(2 * np.pi * 3.1 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    formants = ((700, 130), (1220, 70), (2600, 160))
    x = np.zeros_like(t)
    for k in range(1, 40):
        freq = k * f0
        gain = sum(1 / (1 + ((freq - fc) / bw) ** 2) for fc, bw in formants) / k**0.5
        x += gain * np.sin(k * phase) * (freq < rate / 2)
    syllables = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) ** 0.5
    phrases = (np.sin(2 * np.pi * 0.25 * t) > -0.3).astype(float)  # a pause every four seconds
    x *= syllables * phrases
    x = 0.3 * 32767 * x / np.abs(x).max()
    return np.round(x).astype(np.int16).tobytes()


def frames(pcm: bytes, size: int) -> list[bytes]:
    return [pcm[i : i + size] for i in range(0, len(pcm) - size + 1, size)]


def cycle(items: Sequence[bytes], n: int) -> list[bytes]:
    return [items[i % len(items)] for i in range(n)]


# --------------------------------------------------------------------------- timing


def per_frame_us(make: Callable[[], Callable[[bytes], object]], inputs: list[bytes], runs: int) -> float:
    """Median over `runs` of the mean microseconds per call of a fresh `make()` over `inputs`."""
    results = []
    for _ in range(runs):
        fn = make()
        start = time.perf_counter_ns()
        for item in inputs:
            fn(item)
        results.append((time.perf_counter_ns() - start) / len(inputs) / 1000)
    return statistics.median(results)


def chain(*stages: Callable[[bytes], bytes]) -> Callable[[bytes], object]:
    def run(data: bytes) -> object:
        for stage in stages:
            data = stage(data)
        return data

    return run


class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def section(self, title: str) -> None:
        self.rows.append((title, "", ""))

    def add(self, label: str, us: float, note: str = "") -> None:
        self.rows.append((f"  {label}", f"{us:9.2f}", note))

    def line(self, label: str, value: str) -> None:
        self.rows.append((f"  {label}", value, ""))

    def print(self) -> None:
        width = max(len(r[0]) for r in self.rows) + 2
        print(f"{'path / stage':<{width}}{'us/frame':>9}")
        print("-" * (width + 9))
        for label, value, note in self.rows:
            print(f"{label:<{width}}{value:>9}" + (f"  {note}" if note else ""))


# --------------------------------------------------------------------------- benchmark


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5000, help="frames per run (default 5000)")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure; the median is shown (default 5)")
    args = parser.parse_args(argv)
    n, runs = args.frames, args.runs

    raw = espeak_clip()
    source = "espeak-ng clip" if raw is not None else "synthetic voiced signal (espeak-ng not found)"
    if raw is None:
        raw = synthetic_voice()
    pcm = {rate: resample(raw, 22050, rate) for rate in (8000, 16000, 48000)}
    pcm[22050] = raw
    seconds = len(raw) / 2 / 22050

    f8 = frames(pcm[8000], 320)  # 20 ms at 8 kHz
    f16 = frames(pcm[16000], 640)
    f48 = frames(pcm[48000], 1920)
    f22 = frames(pcm[22050], 882)
    mulaw8 = [MulawCodec().encode(f) for f in f8]

    # Sanity: the chosen audio must exercise the detector (speech and pauses both present).
    probe = SpeechDetector(WebRtcVAD(16000))
    events = [e for f in f16 for e in probe.process(f)]

    print(
        f"Parley media benchmark: median of {runs} runs x {n} frames; audio: {source}, "
        f"{seconds:.1f} s looped (VAD events per pass: {len(events)})"
    )
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}\n")

    report = Report()

    # (a) inbound: mulaw 8 kHz -> pcm16 -> 8k->16k -> SpeechDetector(WebRtcVAD 16k)
    report.section("(a) inbound: PCMU 8 kHz -> pcm16 -> 16 kHz -> VAD, per 20 ms")
    in_mulaw = cycle(mulaw8, n)
    in_pcm8 = cycle(f8, n)
    in_pcm16 = cycle(frames(b"".join(Resampler(8000, 16000).process(f) for f in f8), 640), n)
    decode_us = per_frame_us(lambda: MulawCodec().decode, in_mulaw, runs)
    up_us = per_frame_us(lambda: Resampler(8000, 16000).process, in_pcm8, runs)
    vad_us = per_frame_us(lambda: SpeechDetector(WebRtcVAD(16000)).process, in_pcm16, runs)
    inbound_us = per_frame_us(
        lambda: chain(MulawCodec().decode, Resampler(8000, 16000).process, SpeechDetector(WebRtcVAD(16000)).process),
        in_mulaw,
        runs,
    )
    report.add("MulawCodec.decode (160 B -> 320 B)", decode_us)
    report.add("Resampler 8k->16k", up_us)
    report.add("SpeechDetector(WebRtcVAD 16k).process", vad_us)
    report.add("sum of stages", decode_us + up_us + vad_us)
    report.add("total, chained", inbound_us)
    verdict = "within target" if inbound_us <= INBOUND_TARGET_US else f"OVER target by {inbound_us / INBOUND_TARGET_US:.1f}x"
    report.add("target", INBOUND_TARGET_US, verdict)
    report.line("calls per core (20000 us / total)", f"{FRAME_US / inbound_us:9.0f}")

    # (b) webrtcvad alone
    report.section("(b) WebRtcVAD.prob alone, per 20 ms")
    report.add("16 kHz (640 B)", per_frame_us(lambda: WebRtcVAD(16000).prob, cycle(f16, n), runs))
    report.add("8 kHz (320 B)", per_frame_us(lambda: WebRtcVAD(8000).prob, cycle(f8, n), runs))

    # (c) Silero
    report.section("(c) Silero VAD, per 32 ms frame")
    try:
        from media.vad.silero import SileroModel

        model = SileroModel()
    except Exception as exc:  # model wheel or onnxruntime missing: report, don't fail
        report.line(f"unavailable: {exc}", "")
    else:
        s16 = cycle(frames(pcm[16000], 1024), n)
        s8 = cycle(frames(pcm[8000], 512), n)
        silero16 = per_frame_us(lambda: model.stream(16000).prob, s16, runs)
        silero8 = per_frame_us(lambda: model.stream(8000).prob, s8, runs)
        report.add("16 kHz (512 samples)", silero16, f"= {silero16 * 20 / 32:.1f} us per 20 ms of audio")
        report.add("8 kHz (256 samples)", silero8, f"= {silero8 * 20 / 32:.1f} us per 20 ms of audio")
        det = per_frame_us(lambda: SpeechDetector(model.stream(16000)).process, cycle(f16, n), runs)
        report.add("SpeechDetector(Silero 16k), per 20 ms chunk", det)

    # (d) outbound: pcm16 16 kHz -> 16k->8k -> mulaw
    report.section("(d) outbound: pcm16 16 kHz -> 8 kHz -> PCMU, per 20 ms")
    out_pcm16 = cycle(f16, n)
    out_pcm8 = cycle(frames(b"".join(Resampler(16000, 8000).process(f) for f in f16), 320), n)
    down_us = per_frame_us(lambda: Resampler(16000, 8000).process, out_pcm16, runs)
    encode_us = per_frame_us(lambda: MulawCodec().encode, out_pcm8, runs)
    outbound_us = per_frame_us(lambda: chain(Resampler(16000, 8000).process, MulawCodec().encode), out_pcm16, runs)
    report.add("Resampler 16k->8k", down_us)
    report.add("MulawCodec.encode (320 B -> 160 B)", encode_us)
    report.add("total, chained", outbound_us)

    # (e) TTS output 22050 -> 8000
    report.section("(e) TTS-style resample, per 20 ms")
    report.add("Resampler 22050->8000 (882 B -> 320 B)", per_frame_us(lambda: Resampler(22050, 8000).process, cycle(f22, n), runs))
    report.add("Resampler 22050->16000", per_frame_us(lambda: Resampler(22050, 16000).process, cycle(f22, n), runs))
    report.add("Framer.push, 20 ms chunks (bookkeeping)", per_frame_us(lambda: Framer(640).push, cycle(f16, n), runs))

    # (f) Opus
    report.section("(f) Opus (voip, default bitrate), per 20 ms")
    try:
        from media.codecs.opus import OpusCodec
    except Exception as exc:  # libopus missing
        report.line(f"unavailable: {exc}", "")
    else:
        for rate, fr in ((16000, f16), (48000, f48)):
            enc_in = cycle(fr, n)
            encoder = OpusCodec(rate)
            packets = [encoder.encode(f) for f in fr]
            dec_in = cycle(packets, n)
            mean_bytes = sum(len(p) for p in packets) / len(packets)
            report.add(f"encode {rate // 1000} kHz", per_frame_us(lambda r=rate: OpusCodec(r).encode, enc_in, runs))
            report.add(
                f"decode {rate // 1000} kHz",
                per_frame_us(lambda r=rate: OpusCodec(r).decode, dec_in, runs),
                f"({mean_bytes:.0f} B/packet = {mean_bytes * 8 * 50 / 1000:.0f} kbit/s)",
            )

    report.print()
    print(
        f"\ninbound total {inbound_us:.2f} us vs {INBOUND_TARGET_US:.0f} us target: "
        f"{'OK' if inbound_us <= INBOUND_TARGET_US else 'OVER'}; "
        f"calls per core = 20000 / {inbound_us:.2f} = {FRAME_US / inbound_us:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
