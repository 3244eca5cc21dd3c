"""eSpeak NG TTS: the light voice for many languages, through the `espeak-ng` command line.

Why not pyttsx3 (which the dependency list names; its Linux driver wraps the
same libespeak-ng): measured here with pyttsx3 2.99, `save_to_file` +
`runAndWait` returns before the file is written (the first call of a process
found no file at all; a long text's file appeared only after the call had
returned), now and then it writes an empty WAV, two threads calling it at
once hung, it prints "Audio saved to ..." on stdout, and libespeak-ng keeps
one voice and one callback per process, so every call would need a lock.
One `espeak-ng --stdout` process per piece costs 10-30 ms here, runs beside
the GIL, holds no shared state, and is bounded by the pool like any model.
"""

import os
import re
import shutil
import struct
import subprocess
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from functools import partial

from agents.errors import InvalidRequest, ProviderError
from agents.pool import InferencePool
from agents.providers.tts.base import AudioChunk, VoiceInfo
from agents.providers.tts.sentences import split_text
from agents.providers.tts.stream import check_sample_rate, stream_pieces

NATIVE_HZ = 22050  # espeak-ng's output rate for all its own (non-mbrola) voices
DEFAULT_SPEED_WPM = 175  # espeak-ng's own default; 140-165 were no better understood by Whisper through mu-law
TIMEOUT_S = 10.0  # one piece is at most 200 characters: seconds of audio, milliseconds of work

# ISO 639-1 code -> (espeak-ng voice name, display name). The ones espeak-ng
# actually has installed become voices "espeak_<code>".
CURATED: dict[str, tuple[str, str]] = {
    "en": ("en-us", "English (US)"),
    "fr": ("fr-fr", "French"),
    "de": ("de", "German"),
    "es": ("es", "Spanish"),
    "it": ("it", "Italian"),
    "pt": ("pt-br", "Portuguese (Brazil)"),
    "nl": ("nl", "Dutch"),
    "sv": ("sv", "Swedish"),
    "da": ("da", "Danish"),
    "nb": ("nb", "Norwegian Bokmål"),
    "fi": ("fi", "Finnish"),
    "pl": ("pl", "Polish"),
    "cs": ("cs", "Czech"),
    "sk": ("sk", "Slovak"),
    "hu": ("hu", "Hungarian"),
    "ro": ("ro", "Romanian"),
    "bg": ("bg", "Bulgarian"),
    "hr": ("hr", "Croatian"),
    "sr": ("sr", "Serbian"),
    "el": ("el", "Greek"),
    "ru": ("ru", "Russian"),
    "uk": ("uk", "Ukrainian"),
    "tr": ("tr", "Turkish"),
    "ar": ("ar", "Arabic"),
    "he": ("he", "Hebrew"),
    "fa": ("fa", "Persian"),
    "hi": ("hi", "Hindi"),
    "bn": ("bn", "Bengali"),
    "ta": ("ta", "Tamil"),
    "zh": ("cmn", "Chinese (Mandarin)"),
    "ja": ("ja", "Japanese"),
    "ko": ("ko", "Korean"),
    "vi": ("vi", "Vietnamese"),
    "th": ("th", "Thai"),
    "id": ("id", "Indonesian"),
    "ms": ("ms", "Malay"),
    "sw": ("sw", "Swahili"),
    "ca": ("ca", "Catalan"),
}
_GENDERS = {"M": "male", "F": "female"}
# The child gets only what espeak-ng reads, none of the secrets the gateway may hold in its environment.
_ENV = {key: value for key, value in os.environ.items() if key in ("PATH", "ESPEAK_DATA_PATH", "LANG", "LC_ALL")}


@dataclass(frozen=True, slots=True)
class _Voice:
    info: VoiceInfo
    espeak_name: str


class EspeakTTS:
    """espeak-ng voices "espeak_<iso639-1>" on a shared InferencePool; see the TTS protocol in base.py.

    `languages` limits the voices to those ISO 639-1 codes (default: every
    curated language espeak-ng has installed). Construction runs
    `espeak-ng --voices` (blocking, a few ms). Without a `pool` it creates
    InferencePool("tts", 2) and `close()` shuts it down.
    """

    name = "espeak"

    def __init__(
        self,
        languages: Iterable[str] | None = None,
        *,
        binary: str = "espeak-ng",
        speed_wpm: int = DEFAULT_SPEED_WPM,
        pool: InferencePool | None = None,
    ) -> None:
        found = shutil.which(binary)
        if found is None:
            raise ProviderError(f"{binary} not found on PATH: install the Debian package espeak-ng")
        self._binary = found
        self._speed_wpm = int(speed_wpm)
        installed = _installed_voices(found)
        wanted = list(CURATED) if languages is None else list(languages)
        self._voices: dict[str, _Voice] = {}
        for code in wanted:
            entry = CURATED.get(code)
            if entry is None or entry[0] not in installed:
                if languages is None:
                    continue  # the curated list is a wish list: skip what this espeak-ng lacks
                raise ProviderError(f"espeak-ng has no voice for language {code!r}")
            espeak_name, display = entry
            info = VoiceInfo(
                voice_id=f"espeak_{code}",
                name=_label(display),
                languages=(code,),
                gender=installed[espeak_name],
                engine="espeak",
                sample_rate=NATIVE_HZ,
            )
            self._voices[info.voice_id] = _Voice(info, espeak_name)
        if not self._voices:
            raise ProviderError(f"{found} has none of the curated voices installed")
        self._own_pool = pool is None
        self._pool = pool or InferencePool("tts", 2)

    def voices(self) -> list[VoiceInfo]:
        return [voice.info for voice in self._voices.values()]

    def speak(self, text: str, voice_id: str, sample_rate: int) -> AsyncIterator[AudioChunk]:
        """Stream `text` as pcm16 at `sample_rate`, one chunk per sentence or clause.

        Checks `voice_id` and `sample_rate` at once (InvalidRequest); blank text yields nothing.
        """
        voice = self._voices.get(voice_id) if isinstance(voice_id, str) else None
        if voice is None:
            raise InvalidRequest(f"unknown voice_id {voice_id!r} (espeak voices: espeak_en, ...)", param="voice_id")
        if not isinstance(text, str):
            raise InvalidRequest(f"text must be a string, got {type(text).__name__}", param="text")
        check_sample_rate(sample_rate)
        synthesise = partial(self._synthesise, voice.espeak_name)
        return stream_pieces(self._pool, split_text(text), synthesise, NATIVE_HZ, sample_rate, "espeak")

    def warm_up(self) -> None:
        """Run espeak-ng once (loads its data into the page cache; fails loudly if it cannot speak)."""
        first = next(iter(self._voices.values()))
        if not self._synthesise(first.espeak_name, "Hello."):
            raise ProviderError(f"{self._binary} produced no audio")

    def close(self) -> None:
        """Shut down the pool if this provider created it."""
        if self._own_pool:
            self._pool.shutdown()

    def _synthesise(self, espeak_name: str, piece: str) -> bytes:
        """One piece -> pcm16 at 22.05 kHz; runs on a pool worker, blocked on the child process."""
        # Text goes in on stdin: as an argument, a piece starting with "-" would be read as an option.
        command = [self._binary, "-v", espeak_name, "-s", str(self._speed_wpm), "-b", "1", "--stdout"]
        try:
            done = subprocess.run(command, input=piece.encode("utf-8"), capture_output=True, timeout=TIMEOUT_S,
                                  check=True, env=_ENV)
        except subprocess.CalledProcessError as exc:
            stderr = exc.stderr.decode("utf-8", "replace").strip()
            raise ProviderError(f"espeak-ng failed (exit {exc.returncode}): {stderr}") from exc
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ProviderError(f"espeak-ng failed: {exc}") from exc
        return _wav_pcm(done.stdout)


def _label(display: str) -> str:
    """ "English (US)" -> "English (US, eSpeak)"; "German" -> "German (eSpeak)"."""
    return f"{display[:-1]}, eSpeak)" if display.endswith(")") else f"{display} (eSpeak)"


def _installed_voices(binary: str) -> dict[str, str | None]:
    """espeak-ng voice name -> gender, from `espeak-ng --voices` (Pty Language Age/Gender VoiceName File ...)."""
    try:
        listing = subprocess.run([binary, "--voices"], capture_output=True, timeout=TIMEOUT_S, check=True, env=_ENV)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ProviderError(f"cannot list espeak-ng voices: {exc}") from exc
    voices: dict[str, str | None] = {}
    for line in listing.stdout.decode("utf-8", "replace").splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 4 and re.fullmatch(r"\d+", fields[0]):
            voices[fields[1].lower()] = _GENDERS.get(fields[2].rpartition("/")[2])
    return voices


def _wav_pcm(wav: bytes) -> bytes:
    """The pcm16 samples of espeak-ng's streamed WAV (its RIFF and data sizes are placeholders)."""
    if wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise ProviderError("espeak-ng did not write a WAV file")
    offset = 12
    while offset + 8 <= len(wav):
        chunk_id, size = wav[offset : offset + 4], struct.unpack_from("<I", wav, offset + 4)[0]
        if chunk_id == b"fmt ":
            channels, rate, _, _, bits = struct.unpack_from("<HIIHH", wav, offset + 10)
            if (channels, rate, bits) != (1, NATIVE_HZ, 16):
                raise ProviderError(
                    f"espeak-ng wrote {channels} ch {rate} Hz {bits}-bit audio, expected mono {NATIVE_HZ} Hz 16-bit"
                )
        elif chunk_id == b"data":
            data = wav[offset + 8 :]
            return data[: len(data) - len(data) % 2]
        offset += 8 + size + size % 2
    raise ProviderError("espeak-ng's WAV has no data chunk")
