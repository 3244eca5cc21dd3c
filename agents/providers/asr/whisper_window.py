"""Whisper decoding on a window fitted to the utterance instead of the fixed 30 s one.

faster-whisper pads every clip to 30 s before the encoder, which makes the
encoder (most of a short final's cost) as slow for "yes" as for a 25 s monologue.
CTranslate2 accepts shorter mel inputs, so an utterance gets a window of its
own length plus `pad_s` of silence, at least `min_s`: on tiny.en that took a
3 s final from ~0.5 s to ~0.15 s with the same words (tests/perf/asr_bench.py).
Whisper was trained on 30 s windows only: with 10 s, one-word answers lost their
full stop or came back doubled ("No." -> "No? No?"), with 5 s words went wrong
("invoice" -> "it in voice"); 15 s gave the 30 s window's words on 23 short
clips. The full stop matters here: the end-of-turn guess reads it.

The decode mirrors faster-whisper's own (greedy, then hotter retries when the
text looks like a repetition loop or gibberish; silence gives ""), without
timestamps, for one window. Clips too long for a fitted window go through the
library's transcribe().
"""

from dataclasses import dataclass

import numpy as np

FRAMES_PER_S = 100  # Whisper's mel frames: 10 ms hop at 16 kHz
FULL_WINDOW_FRAMES = 3000  # the 30 s window Whisper was trained on
MAX_TOKENS = 448  # the decoder's context, prompt included
# faster-whisper's defaults for when a decode needs a hotter retry or is silence.
COMPRESSION_RATIO_MAX = 2.4
LOG_PROB_MIN = -1.0
NO_SPEECH_MIN = 0.6
SAMPLING_CANDIDATES = 5


@dataclass(frozen=True)
class Window:
    """The encoder window for a clip: its length plus `pad_s`, at least `min_s`, at most 30 s."""

    min_s: float = 15.0
    pad_s: float = 2.0

    def frames(self, content_frames: int) -> int | None:
        """Mel frames to encode, or None when the clip needs the full-window path (too long)."""
        if self.min_s >= 30:
            return None
        wanted = max(content_frames + round(self.pad_s * FRAMES_PER_S), round(self.min_s * FRAMES_PER_S))
        if wanted > FULL_WINDOW_FRAMES:
            return None
        return wanted + wanted % 2  # the encoder's stride-2 convolution wants an even length


class WindowDecoder:
    """Transcribes one clip on a fitted window with a loaded faster-whisper WhisperModel. Thread-safe:
    the feature extractor is pure numpy and CTranslate2 runs concurrent calls on its replicas."""

    def __init__(self, model, window: Window, beam_size: int) -> None:
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        self.model = model
        self.window = window
        self.beam_size = beam_size
        self._tokenizers: dict[str, tuple] = {}
        self._make_tokenizer = lambda language: Tokenizer(
            model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language)
        self._suppressed = lambda tokenizer: get_suppressed_tokens(tokenizer, [-1])

    def fits(self, audio: np.ndarray) -> bool:
        return self.window.frames(len(audio) // 160) is not None

    def decode(self, audio: np.ndarray, language: str, temperatures: tuple[float, ...],
               prompt: str | None = None) -> str:
        """The text of `audio` (float32 at 16 kHz, short enough: see `fits`), primed with `prompt`
        as Whisper's previous text (faster-whisper's initial_prompt)."""
        import ctranslate2

        features = self.model.feature_extractor(audio)[:, :-1]  # drop the frame of the extractor's own padding
        size = self.window.frames(features.shape[-1])
        if size is None:
            raise ValueError("clip too long for a fitted window")
        features = np.pad(features, ((0, 0), (0, size - features.shape[-1])))
        encoded = self.model.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])))
        tokenizer, suppressed = self._tokenizer(language)
        tokens = list(tokenizer.sot_sequence) + [tokenizer.no_timestamps]
        if prompt:
            # As faster-whisper's get_prompt: <|startofprev|> text, at most half the context.
            tokens = [tokenizer.sot_prev, *tokenizer.encode(" " + prompt.strip())[-(MAX_TOKENS // 2 - 1):], *tokens]
        return self._decode_with_retries(encoded, tokens, tokenizer, suppressed, temperatures)

    def _tokenizer(self, language: str) -> tuple:
        """(tokenizer, tokens to suppress) for a language; made once (a benign race between two workers)."""
        if language not in self._tokenizers:
            tokenizer = self._make_tokenizer(language)
            self._tokenizers[language] = (tokenizer, self._suppressed(tokenizer))
        return self._tokenizers[language]

    def _decode_with_retries(self, encoded, prompt: list[int], tokenizer, suppressed, temperatures) -> str:
        from faster_whisper.transcribe import get_compression_ratio

        tried: list[tuple[float, str, float]] = []  # (avg log prob, text, no-speech probability)
        not_repetitive: list[tuple[float, str, float]] = []
        for temperature in temperatures:
            options = (
                {"beam_size": self.beam_size}
                if temperature == 0
                else {"beam_size": 1, "num_hypotheses": SAMPLING_CANDIDATES, "sampling_topk": 0,
                      "sampling_temperature": temperature}
            )
            result = self.model.model.generate(
                encoded, [prompt], max_length=MAX_TOKENS, return_scores=True, return_no_speech_prob=True,
                suppress_blank=True, suppress_tokens=suppressed, **options)[0]
            tokens = result.sequences_ids[0]
            avg_log_prob = result.scores[0] * len(tokens) / (len(tokens) + 1)
            text = tokenizer.decode(tokens).strip()
            attempt = (avg_log_prob, text, result.no_speech_prob)
            tried.append(attempt)
            repetitive = get_compression_ratio(text) > COMPRESSION_RATIO_MAX
            if not repetitive:
                not_repetitive.append(attempt)
            unsure = avg_log_prob < LOG_PROB_MIN
            silence = result.no_speech_prob > NO_SPEECH_MIN and unsure
            if silence or not (repetitive or unsure):
                break
        else:
            attempt = max(not_repetitive or tried, key=lambda a: a[0])
        avg_log_prob, text, no_speech = attempt
        if no_speech > NO_SPEECH_MIN and avg_log_prob < LOG_PROB_MIN:
            return ""  # Whisper is sure nobody spoke: its words would be a hallucination
        # Silence on a short window can come back as a lone "." (the 30 s window gives nothing).
        return text if any(c.isalnum() for c in text) else ""
