"""Does Smart Turn v3.2 tell a finished caller from one who paused mid-sentence on phone audio? (run by hand)

    .venv/bin/pip download --no-deps pipecat-ai==1.14.0 -d /tmp/pipecat   # 12 MB; the model is inside
    unzip -o /tmp/pipecat/pipecat_ai-1.14.0-py3-none-any.whl 'pipecat/audio/turn/smart_turn/data/*' -d /tmp/pipecat
    .venv/bin/python tests/perf/smart_turn_probe.py /tmp/pipecat/pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx

Each sentence is synthesised by the tuning callers (gateway/evaluation/phone_voices.py: 8 kHz mu-law line)
and scored whole, and cut at the quietest 20 ms near 50 % and 70 % of its length (the caller paused
there and is not done), each followed by 200 ms of silence. The model reads Whisper-style log-mel
features of the last 8 s at 16 kHz (faster-whisper's feature extractor, the waveform normalised to zero
mean and unit variance first) and gives the probability that the turn is complete.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gateway.evaluation.phone_voices import LINE_RATE_HZ, TUNING_VOICES, synthesise  # noqa: E402
from media.resample import resample  # noqa: E402

RATE = 16000
WINDOW = 8 * RATE
SENTENCES = ("What time do you close on Saturday and Sunday?", "My order number is one two three four.",
             "I'd like to speak to someone about my last bill please.", "Can I pay by card when I pick it up?",
             "Where is my package? It was due on Monday.", "I want to cancel my subscription.")


def features(pcm8k: bytes, extractor) -> np.ndarray:
    audio = np.frombuffer(resample(pcm8k, LINE_RATE_HZ, RATE), dtype=np.int16).astype(np.float32) / 32768
    audio = audio[-WINDOW:]
    audio = np.pad(audio, (WINDOW - audio.size, 0))
    audio = (audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)
    mel = extractor(audio, padding=0)[:, :800]
    return np.pad(mel, ((0, 0), (0, 800 - mel.shape[1])))[None].astype(np.float32)


def cut_at_pause(pcm: bytes, fraction: float) -> bytes:
    """The clip up to its quietest 20 ms within 0.3 s of `fraction` of its length."""
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    frame = LINE_RATE_HZ // 50
    energy = np.square(x[: x.size // frame * frame].reshape(-1, frame)).mean(axis=1)
    target = int(energy.size * fraction)
    lo, hi = max(1, target - 15), min(energy.size - 1, target + 15)
    return pcm[: (lo + int(np.argmin(energy[lo:hi]))) * frame * 2]


def main() -> None:
    import onnxruntime
    from faster_whisper.feature_extractor import FeatureExtractor

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="smart-turn-v3.2-cpu.onnx")
    args = parser.parse_args()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    extractor = FeatureExtractor(feature_size=80, chunk_length=8)
    pause = b"\x00\x00" * (LINE_RATE_HZ // 5)
    scores = {"whole": [], "cut 50%": [], "cut 70%": []}
    took = []
    for voice in TUNING_VOICES:
        for sentence in SENTENCES:
            clip = synthesise(sentence, voice)
            for name, part in (("whole", clip), ("cut 50%", cut_at_pause(clip, 0.5)), ("cut 70%", cut_at_pause(clip, 0.7))):
                started = time.perf_counter()
                p = float(session.run(None, {"input_features": features(part + pause, extractor)})[0].ravel()[0])
                took.append(time.perf_counter() - started)
                scores[name].append(p)
            print(f"{voice.name:24} whole {scores['whole'][-1]:.2f}  cut 50% {scores['cut 50%'][-1]:.2f}  "
                  f"cut 70% {scores['cut 70%'][-1]:.2f}  {sentence}", flush=True)
    print("\n| clips | judged complete (p > 0.5) | median p |\n|---|---|---|")
    for name, ps in scores.items():
        print(f"| {name} ({len(ps)}) | {sum(p > 0.5 for p in ps)} | {np.median(ps):.2f} |")
    print(f"\nfeatures + inference, median {np.median(took) * 1000:.0f} ms on 1 thread")


if __name__ == "__main__":
    main()
