"""Speech start/end events from a frame VAD, with minimum-speech and hangover durations."""

from dataclasses import dataclass

from media.format import SAMPLE_WIDTH
from media.framing import Framer
from media.vad.base import VAD, frame_rms


@dataclass(frozen=True, slots=True)
class SpeechStart:
    """Speech began at `at_ms` (stream time of its first speech frame)."""

    at_ms: int


@dataclass(frozen=True, slots=True)
class SpeechEnd:
    """Speech ended at `at_ms` (end of its last speech frame) after `duration_ms`."""

    at_ms: int
    duration_ms: int


VADEvent = SpeechStart | SpeechEnd


class SpeechDetector:
    """Feed pcm16 chunks of any size; get SpeechStart/SpeechEnd events.

    Speech starts once `min_speech_ms` of consecutive speech frames were seen
    (shorter blips, a cough or a click, never start a turn) and ends after
    `hangover_ms` of consecutive non-speech. Times are stream time, counted
    from the first sample fed, in ms. Plain synchronous calls: this runs per
    frame on the audio path.

    `floor_rms`, when set, is a level (pcm16 RMS) a frame must reach to count
    as speech on top of the VAD's own judgement: the engine raises it while
    the assistant talks, so the assistant's own voice coming back down the
    line (echo) does not count as the caller speaking. `end_now()` lets the
    owner end speech early (adaptive endpointing) instead of waiting out the
    hangover.
    """

    def __init__(self, vad: VAD, min_speech_ms: int = 120, hangover_ms: int = 500) -> None:
        if min_speech_ms < 0 or hangover_ms < 0:
            raise ValueError(f"min_speech_ms and hangover_ms must be >= 0, got {min_speech_ms}, {hangover_ms}")
        self.vad = vad
        self.min_speech_ms = min_speech_ms
        self.hangover_ms = hangover_ms
        self._framer = Framer(vad.sample_rate * vad.frame_ms // 1000 * SAMPLE_WIDTH)
        self._frame_ms = vad.frame_ms
        self.speaking = False
        self.last_prob = 0.0
        self.floor_rms = 0
        self._now_ms = 0
        self._run_ms = 0  # consecutive speech (while silent) or silence (while speaking)
        self._quiet_ms = 0  # while silent: consecutive non-speech since the latest speech frame
        self._start_ms = 0
        self._last_speech_end_ms = 0

    @property
    def now_ms(self) -> int:
        """Stream time of the audio judged so far."""
        return self._now_ms

    @property
    def speech_ms(self) -> int:
        """While speaking: ms from the start of speech to the end of its latest speech frame."""
        return self._last_speech_end_ms - self._start_ms if self.speaking else 0

    @property
    def onset_ms(self) -> int:
        """While not speaking: ms of consecutive speech frames not yet long enough to start speech (0: none)."""
        return 0 if self.speaking else self._run_ms

    @property
    def quiet_ms(self) -> int:
        """While not speaking: ms since the latest speech frame (a sound too short to start speech)."""
        return 0 if self.speaking else self._quiet_ms

    @property
    def silence_ms(self) -> int:
        """While speaking: ms of silence since the latest speech frame (0 while the caller talks)."""
        return self._run_ms if self.speaking else 0

    def process(self, pcm: bytes) -> list[VADEvent]:
        events: list[VADEvent] = []
        for frame in self._framer.push(pcm):
            event = self._judge(frame)
            if event is not None:
                events.append(event)
        return events

    def _judge(self, frame: bytes) -> VADEvent | None:
        prob = self.last_prob = self.vad.prob(frame)
        is_speech = prob >= self.vad.threshold and (not self.floor_rms or frame_rms(frame) >= self.floor_rms)
        frame_start = self._now_ms
        self._now_ms += self._frame_ms
        if not self.speaking:
            if not is_speech:
                self._run_ms = 0
                self._quiet_ms += self._frame_ms
                return None
            self._quiet_ms = 0
            if self._run_ms == 0:
                self._start_ms = frame_start
            self._run_ms += self._frame_ms
            if self._run_ms >= max(self.min_speech_ms, 1):
                self.speaking = True
                self._run_ms = 0
                self._last_speech_end_ms = self._now_ms
                return SpeechStart(at_ms=self._start_ms)
            return None
        if is_speech:
            self._run_ms = 0
            self._last_speech_end_ms = self._now_ms
            return None
        self._run_ms += self._frame_ms
        if self._run_ms >= self.hangover_ms:
            self.speaking = False
            self._run_ms = 0
            end = self._last_speech_end_ms
            return SpeechEnd(at_ms=end, duration_ms=end - self._start_ms)
        return None

    def end_now(self) -> SpeechEnd | None:
        """End the speech in progress now, as if the hangover had run out; None if not speaking."""
        if not self.speaking:
            return None
        self.speaking = False
        self._run_ms = 0
        end = self._last_speech_end_ms
        return SpeechEnd(at_ms=end, duration_ms=end - self._start_ms)

    def reset(self) -> None:
        """Forget any speech in progress (stream time keeps counting)."""
        self._framer.reset()
        self.vad.reset()
        self.speaking = False
        self._run_ms = 0
