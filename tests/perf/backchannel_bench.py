"""Listener sounds over a reply: does the interruption guard let "mm-hmm" pass and stop for "wait"? Run by hand.

    .venv/bin/python tests/perf/backchannel_bench.py [--json FILE] [--heard FILE]

Short sounds a caller makes while the assistant talks, spoken by the synthetic phone callers
(gateway/evaluation/phone_voices.py: 8 kHz, 300-3400 Hz, G.711 mu-law) and as plain hums (a voiced,
closed-mouth murmur, no TTS), each heard by the default ASR the way the engine hears speech over a
reply: a quick greedy decode while the caller talks, then the final decode once they stop
(agents/listening.py). The guard (agents/turns/interruption.py) judges both readings; either one
saying "interruption" cuts the reply. Figures by split: rules are chosen on the tuning voices and
hums only, the held-out ones are reported.

  false cuts  listener sounds ("Mm-hmm.", "Okay.", hums) judged an interruption (should be 0)
  missed      interruptions ("Wait.", "No.", "Hold on.") judged a listener sound (the reply plays on)

`--heard FILE` keeps what Whisper heard (JSON) and reuses it on the next run, so a rule change is
judged again in a second.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from agents.turns import InterruptionGuard  # noqa: E402
from gateway.evaluation.phone_voices import (HELD_OUT_VOICES, LINE_RATE_HZ, TUNING_VOICES, synthesise,  # noqa: E402
                                             telephone_line)
from media.resample import resample  # noqa: E402

RATE = 16000
LISTENER = ("Mm-hmm.", "Uh-huh.", "Okay.", "Right.", "Yeah.", "Mhm.", "Hmm.", "Yeah, okay.", "Mm.", "Yep.", "Sure.",
            "I see.", "Oh, okay.", "Got it.")
INTERRUPTIONS = ("Stop.", "Wait.", "No.", "Hold on.", "Sorry, what?", "No, no.", "What?", "Excuse me.",
                 "Hang on a second.", "Stop, I have a different question.", "Actually, cancel that.", "Hello?")
# Plain hums: (name, pitch Hz, [(start s, length s, pitch glide)], split)
HUMS = (
    ("hum-mm-low", 110, [(0.0, 0.35, 0.0)], "tuning"),
    ("hum-mm-hmm-low", 120, [(0.0, 0.18, -0.1), (0.26, 0.22, 0.25)], "tuning"),
    ("hum-mm-high", 210, [(0.0, 0.30, -0.05)], "tuning"),
    ("hum-mm-hmm-high", 200, [(0.0, 0.15, 0.0), (0.22, 0.25, 0.3)], "held-out"),
    ("hum-mmm-long", 140, [(0.0, 0.55, -0.15)], "held-out"),
    ("hum-hm-short", 170, [(0.0, 0.16, 0.1)], "held-out"),
)


def hum(pitch_hz: float, parts: list[tuple[float, float, float]]) -> bytes:
    """A closed-mouth hum as a phone line delivers it: a glottal pulse train through a nasal murmur
    (a strong resonance near 250 Hz, weak ones near 1 and 2.2 kHz), with a smooth onset and offset."""
    total = max(start + length for start, length, _ in parts) + 0.05
    n = int(total * RATE)
    source = np.zeros(n)
    for start, length, glide in parts:
        t = np.arange(int(length * RATE)) / RATE
        f0 = pitch_hz * (1 + glide * t / length)
        phase = np.cumsum(f0) / RATE
        pulses = np.diff(np.floor(phase), prepend=0) > 0
        envelope = np.sin(np.pi * np.clip(t / length, 0, 1)) ** 0.5
        begin = int(start * RATE)
        source[begin:begin + t.size] += pulses * envelope
    out = np.zeros(n)
    for freq, bandwidth, gain in ((250, 80, 1.0), (1000, 200, 0.12), (2200, 300, 0.05)):
        r = np.exp(-np.pi * bandwidth / RATE)
        a1, a2 = 2 * r * np.cos(2 * np.pi * freq / RATE), -r * r
        y = np.zeros(n)
        for i in range(n):  # a two-pole resonator: small clips, plain loop is fine
            y[i] = source[i] + a1 * (y[i - 1] if i else 0) + a2 * (y[i - 2] if i > 1 else 0)
        out += gain * y / (np.abs(y).max() or 1)
    pcm = np.clip(out / (np.abs(out).max() or 1) * 12000, -32768, 32767).astype(np.int16).tobytes()
    return telephone_line(pcm, RATE)


def clips() -> list[dict]:
    """Every (sound, voice) pair: kind listener/interruption, split tuning/held-out, the 8 kHz clip."""
    out = []
    for split, voices in (("tuning", TUNING_VOICES), ("held-out", HELD_OUT_VOICES)):
        for kind, texts in (("listener", LISTENER), ("interruption", INTERRUPTIONS)):
            for text in texts:
                for voice in voices:
                    out.append({"kind": kind, "split": split, "sound": text, "voice": voice.name,
                                "clip": lambda text=text, voice=voice: synthesise(text, voice)})
    for name, pitch, parts, split in HUMS:
        out.append({"kind": "listener", "split": split, "sound": name, "voice": "hum",
                    "clip": lambda pitch=pitch, parts=parts: hum(pitch, parts)})
    return out


def hear(items: list[dict], cache: Path | None) -> None:
    heard = json.loads(cache.read_text()) if cache is not None and cache.exists() else {}
    missing = [item for item in items if f"{item['sound']}|{item['voice']}" not in heard]
    if missing:
        from agents.pool import InferencePool
        from agents.providers.asr.whisper import WhisperASR

        asr = WhisperASR(pool=InferencePool("bench", 1))
        silence = b"\x00\x00" * (RATE // 5)
        for i, item in enumerate(missing, 1):
            pcm = silence + resample(item["clip"](), LINE_RATE_HZ, RATE) + silence
            heard[f"{item['sound']}|{item['voice']}"] = {"quick": asr.transcribe(pcm, "en", final=False),
                                                           "final": asr.transcribe(pcm, "en", final=True)}
            if i % 25 == 0 or i == len(missing):
                print(f"  heard {i}/{len(missing)}", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        if cache is not None:
            cache.write_text(json.dumps(heard, indent=1))
    for item in items:
        item.update(heard[f"{item['sound']}|{item['voice']}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="write every clip's readings and verdict here")
    parser.add_argument("--heard", type=Path, help="keep/reuse what Whisper heard (JSON)")
    parser.add_argument("--show", action="store_true", help="list every wrong verdict")
    args = parser.parse_args()
    items = clips()
    hear(items, args.heard)
    guard = InterruptionGuard()
    for item in items:
        item["cuts"] = guard.interrupts(item["quick"], "en") or guard.interrupts(item["final"], "en")
        item["right"] = item["cuts"] == (item["kind"] == "interruption")
    print("\n| split | listener sounds: false cuts | interruptions: missed |\n|---|---|---|")
    for split in ("tuning", "held-out"):
        listener = [i for i in items if i["split"] == split and i["kind"] == "listener"]
        inter = [i for i in items if i["split"] == split and i["kind"] == "interruption"]
        print(f"| {split} | {sum(i['cuts'] for i in listener)}/{len(listener)} | "
              f"{sum(not i['cuts'] for i in inter)}/{len(inter)} |")
    print("\n| sound | false cuts / missed, tuning | held-out |\n|---|---|---|")
    for sound in (*LISTENER, *INTERRUPTIONS, *(h[0] for h in HUMS)):
        row = [f"{sum(not i['right'] for i in group)}/{len(group)}" if (group := [
            i for i in items if i["sound"] == sound and i["split"] == split]) else "-" for split in ("tuning", "held-out")]
        print(f"| {sound} | {row[0]} | {row[1]} |")
    if args.show:
        for item in items:
            if not item["right"]:
                print(f"  {item['split']:8} {item['kind']:12} {item['sound']:36} {item['voice']:22} "
                      f"quick={item['quick']!r} final={item['final']!r}")
    if args.json:
        args.json.write_text(json.dumps([{k: v for k, v in i.items() if k != "clip"} for i in items], indent=1))


if __name__ == "__main__":
    main()
