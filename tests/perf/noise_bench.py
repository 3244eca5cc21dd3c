"""Noise on the caller's line: word errors and false speech, with and without DTLN noise suppression. By hand.

    .venv/bin/python tests/perf/noise_bench.py [--quick] [--snr 10] [--json FILE]

No noise recordings are reachable here, so the noises are made: pink and brown noise (white noise
shaped to 1/f and 1/f^2) and a babble (four synthetic voices saying other sentences at once). Each
caller sentence (tests/perf/asr_phone_bench.py) is spoken by synthetic callers through a phone line
(gateway/evaluation/phone_voices.py), the noise added at `--snr` dB below the speech (RMS over the
speech), then G.711 mu-law again, as a door hands it to the engine. Figures:

  WER            tiny.en (the default ASR) on the 16 kHz clip, clean / noisy / noisy through DTLN
  false speech   in 60 s of each noise alone at the same level (3 takes), what the default speech
                 detector (webrtc, 120 ms to start speech) makes of it, without and with DTLN: speech
                 starts (each a turn, or an interruption of a reply) and holds (60 ms of sound: a
                 reply would pause, sessions.interrupt_min_ms)
  cost           DTLN's CPU time per 20 ms frame

`--no-wer` measures the false speech only (seconds, not minutes).
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from gateway.evaluation.phone_voices import (HELD_OUT_VOICES, LINE_RATE_HZ, TUNING_VOICES, _speech_rms,  # noqa: E402
                                             synthesise)
from agents.turns import InterruptionGuard  # noqa: E402
from media.codecs import make_codec  # noqa: E402
from media.denoise import DtlnModel  # noqa: E402
from media.resample import resample  # noqa: E402
from media.vad import SpeechDetector, SpeechStart, WebRtcVAD  # noqa: E402
from tests.perf.asr_phone_bench import QUICK_SENTENCES, SENTENCES, word_errors  # noqa: E402

RATE = 16000
BABBLE = ("The weather has been lovely all week and we went to the beach twice.",
          "Did you see the game last night? It went to extra time.",
          "I need to pick up some bread and milk on the way home.",
          "She said the meeting moved to Thursday afternoon at four.")
VOICES = {"piper joe": [v for v in TUNING_VOICES if v.engine == "piper"],
          "espeak": [TUNING_VOICES[0], TUNING_VOICES[2], HELD_OUT_VOICES[0], HELD_OUT_VOICES[3]]}


def coloured(kind: str, samples: int, seed: int) -> np.ndarray:
    """Unit-RMS pink (1/f power) or brown (1/f^2) noise, shaped in the frequency domain."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    f = np.fft.rfftfreq(samples, 1 / LINE_RATE_HZ)
    f[0] = f[1]
    spectrum /= np.sqrt(f) if kind == "pink" else f
    x = np.fft.irfft(spectrum, n=samples)
    return x / x.std()


def babble(samples: int, seed: int) -> np.ndarray:
    voices = TUNING_VOICES[1:5]
    mix = np.zeros(samples)
    for i, (text, voice) in enumerate(zip(BABBLE, voices)):
        talk = np.frombuffer(synthesise(text, voice), dtype=np.int16).astype(np.float64)
        talk = np.tile(talk, samples // talk.size + 2)
        start = (seed * 997 + i * 3001) % talk.size
        mix += np.roll(talk, -start)[:samples] / (_speech_rms(talk) or 1)
    return mix / mix.std()


NOISES = {"pink": lambda n, seed: coloured("pink", n, seed), "brown": lambda n, seed: coloured("brown", n, seed),
          "babble": babble}


def noisy(clip: bytes, noise: np.ndarray, snr_db: float) -> bytes:
    x = np.frombuffer(clip, dtype=np.int16).astype(np.float64)
    level = _speech_rms(x) * 10 ** (-snr_db / 20)
    mixed = np.clip(np.rint(x + noise[: x.size] * level), -32768, 32767).astype(np.int16).tobytes()
    codec = make_codec("mulaw", LINE_RATE_HZ)
    return codec.decode(codec.encode(mixed))


def wide(clip8k: bytes) -> bytes:
    return resample(clip8k, LINE_RATE_HZ, RATE)


def denoised(model: DtlnModel, pcm16k: bytes, took: list[float]) -> bytes:
    stream = model.stream()
    out = bytearray()
    frame = RATE // 50 * 2
    pad = b"\x00\x00" * (RATE * 24 // 1000)  # push the 24 ms lag out at the end
    for i in range(0, len(pcm16k) + len(pad), frame):
        chunk = (pcm16k + pad)[i:i + frame]
        started = time.perf_counter()
        out += stream.process(chunk)
        took.append((time.perf_counter() - started) * 1000 * frame / max(len(chunk), 2))
    return bytes(out[len(pad):])


def false_speech(pcm16k: bytes) -> tuple[int, int]:
    """(speech starts, reply holds) the default speech detector and interruption guard find in `pcm16k`, as
    over a reply that plays throughout (agents/listening.py's onset hold, noisy-line fallback included)."""
    guard = InterruptionGuard()
    detector = SpeechDetector(WebRtcVAD(RATE), min_speech_ms=120, hangover_ms=500)
    starts = holds = 0
    held = False
    released: list[int] = []  # stream ms of holds that never became speech
    for i in range(0, len(pcm16k), 640):
        starts += sum(isinstance(e, SpeechStart) for e in detector.process(pcm16k[i:i + 640]))
        now = detector.now_ms
        recent = sum(at >= now - guard.noisy_line_window_ms for at in released)
        if not held and not detector.speaking and guard.holds_at_onset(detector.onset_ms, recent):
            holds, held = holds + 1, True
        elif held and (detector.speaking or guard.releases_hold(detector.quiet_ms)):
            if not detector.speaking:
                released.append(now)
            held = False
    return starts, holds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="12 sentences instead of 36")
    parser.add_argument("--snr", type=float, default=10.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-wer", action="store_true", help="false speech and cost only")
    args = parser.parse_args()
    from agents.pool import InferencePool
    from agents.providers.asr.whisper import WhisperASR

    asr = WhisperASR(pool=InferencePool("bench", 1))
    model = DtlnModel()
    took: list[float] = []
    sentences = QUICK_SENTENCES if args.quick else SENTENCES
    errors: dict[tuple[str, str, str], list[int]] = {}

    def count(group: str, noise: str, how: str, text: str, pcm16k: bytes) -> None:
        e, n = word_errors(text, asr.transcribe(pcm16k, "en"))
        tally = errors.setdefault((group, noise, how), [0, 0])
        tally[0] += e
        tally[1] += n

    for group, voices in ({} if args.no_wer else VOICES).items():
        for v, voice in enumerate(voices):
            for s, text in enumerate(sentences):
                clip = synthesise(text, voice)
                count(group, "-", "clean", text, wide(clip))
                count(group, "-", "clean, DTLN", text, denoised(model, wide(clip), took))
                for noise_name, make in NOISES.items():
                    mixed = wide(noisy(clip, make(len(clip) // 2, seed=v * 100 + s), args.snr))
                    count(group, noise_name, "noisy", text, mixed)
                    count(group, noise_name, "noisy, DTLN", text, denoised(model, mixed, took))
            print(f"  {group} {voice.name} done", file=sys.stderr, flush=True)
    if not args.no_wer:
        print_wer(errors, args.snr)
    # Noise alone at the level it had under nominal speech (-20 dBFS) at this SNR.
    level = 32768 * 10 ** ((-20 - args.snr) / 20)
    print("\n| 60 s of noise alone, 3 takes | speech starts | with DTLN | reply holds | with DTLN |\n|---|---|---|---|---|")
    false = {}
    codec = make_codec("mulaw", LINE_RATE_HZ)
    for noise_name, make in NOISES.items():
        raw, clean = [0, 0], [0, 0]
        for seed in range(3):
            x = np.clip(np.rint(make(LINE_RATE_HZ * 60, seed=700 + seed) * level), -32768, 32767).astype(np.int16)
            pcm = wide(codec.decode(codec.encode(x.tobytes())))
            for tally, audio in ((raw, pcm), (clean, denoised(model, pcm, took))):
                starts, holds = false_speech(audio)
                tally[0] += starts
                tally[1] += holds
        false[noise_name] = {"starts": (raw[0], clean[0]), "holds": (raw[1], clean[1])}
        print(f"| {noise_name} | {raw[0]} | {clean[0]} | {raw[1]} | {clean[1]} |")
    print(f"\nDTLN: median {statistics.median(took):.2f} ms of CPU per 20 ms frame")
    if args.json:
        args.json.write_text(json.dumps({"wer": {"|".join(k): v for k, v in errors.items()}, "false_speech": false,
                                         "dtln_ms_per_frame": statistics.median(took)}, indent=1))


def print_wer(errors: dict, snr: float) -> None:
    print(f"\n| WER at {snr:g} dB SNR | " + " | ".join(VOICES) + " |\n|---|" + "---|" * len(VOICES))
    for noise, how in (("-", "clean"), ("-", "clean, DTLN"), *((n, h) for n in NOISES for h in ("noisy", "noisy, DTLN"))):
        cells = []
        for group in VOICES:
            e, n = errors[(group, noise, how)]
            cells.append(f"{100 * e / n:.1f} %")
        print(f"| {noise if noise != '-' else ''} {how} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
