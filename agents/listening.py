"""The caller's side of a conversation: runs the turn-taking strategies (agents/turns/) on the frame path.

`Listening` is the half of `Conversation` (agents/conversation.py) that runs per audio
frame. It owns the speech detector, the pre-roll and the current user turn, and
carries out what the strategies decide (the end of turn, the interruption guard,
the longest turn, the echo gate). It asks the reply side only whether the caller
is hearing a reply (`reply`, a ReplySide) and calls back into the conversation for
what happens next (`_barge_in`, `_enqueue`, `_spawn`, `_prefill`,
`_speculate`, `_drop`, `_announce_user_turn`, `_finish_user_turn`). Plain synchronous calls on the frame
path (SPEC §11); model work (transcribing a pause) runs in tasks.
"""

import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from agents.engine import Engine
from agents.events import Transcript
from agents.ports import AudioSink, EventSink, Recorder
from agents.providers.asr.base import ASRStream
from agents.providers.asr.hints import session_vocabulary
from agents.session import History, SessionSettings
from agents.speculation import Speculation
from agents.turns import EchoGate, EndOfTurn, InterruptionGuard, Overlap, PauseVerdict, ReplySide, TurnLength
from media.denoise import Denoiser
from media.framing import Tail
from media.vad.detector import SpeechDetector, SpeechEnd, SpeechStart

log = structlog.get_logger(__name__)

ENGINE_RATE = 16000  # the rate doors feed in; ASR and VAD run at it
_FEED_GAP_MS = 60  # audio arriving later than this after the previous chunk: the gap counts as silence
_OVERLAP_READ_GAP_S = 0.06  # between two readings of speech over a paused reply (each costs one ASR decode)


@dataclass
class OverlapsIgnored:
    """Caller sound over a reply that did not cut it, over a session (counted for metrics)."""

    listener_sounds: int = 0  # words heard as a listener's ("mm-hmm", "okay"): the reply played on
    noise: int = 0  # sound that paused the reply but never became speech (a cough, a click)


@dataclass
class UserTurn:
    stream: ASRStream
    started_at: datetime
    turn_id: str = ""  # given when the turn opens; a tentative turn may never get one
    # Began while the assistant was talking: not an interruption until the words or its length say so.
    tentative: bool = False
    paused: bool = False  # the reply was paused for it
    reading: bool = False  # its words are being read while it goes on (the interruption guard)
    read: tuple[int, str] | None = None  # (speech_ms it covered, text) of the latest reading: a listener's sound
    announced: bool = False
    partials: asyncio.Task | None = field(default=None, repr=False)
    guess_mark: int = -1  # the pause (speech_ms at its start) the latest so-far transcript was asked in
    guess: str | None = None  # that transcript, once it came back
    verdict: PauseVerdict | None = None  # what the end-of-turn voters made of it (judged once, not per frame)
    guess_ms: int = 0  # how long it took
    guessed_at: float = 0.0  # monotonic time of the latest so-far transcript
    last_partial: str | None = None
    speculation: Speculation | None = None  # a reply begun in a pause of this turn (agents/speculation.py)


class Listening:
    """Mixed into Conversation; see the module docstring for what it expects of it."""

    # Set up by Conversation.__init__:
    engine: Engine
    settings: SessionSettings
    sink: AudioSink
    emit: EventSink
    history: History
    _detector: SpeechDetector
    _user: UserTurn | None
    _preroll: Tail
    _end_of_turn: EndOfTurn
    _guard: InterruptionGuard
    _length: TurnLength
    _echo: EchoGate
    reply: ReplySide  # the reply in progress (agents/current_reply.py)
    _denoiser: Denoiser | None  # the session's noise suppressor, if it asked for one
    _false_holds: deque[float]  # when holds were released without the sound becoming speech
    overlaps_ignored: OverlapsIgnored
    _held: bool  # the reply is paused for a sound that is not speech yet (InterruptionGuard.holds_at_onset)
    _generation: int
    _closing: bool
    _last_feed: float
    recorder: Recorder | None

    def feed_audio(self, pcm: bytes) -> None:
        """One chunk of caller audio, pcm16 at 16 kHz. Cheap: VAD and buffering only."""
        if self._closing:
            return
        self._last_feed = self.engine.clock()
        if self.recorder is not None:
            self.recorder.caller(pcm)  # what the caller sent, noise and all
        # The speech detector hears the line cleaned, if the session asked; the recogniser hears it as it came:
        # DTLN's output cost tiny.en words at every noise measured (tests/perf/noise_bench.py).
        heard = self._denoise(pcm) if self._denoiser is not None else pcm
        self._preroll.push(pcm)
        if self._echo.on:
            self._detector.floor_rms = self._echo.speech_floor(self.sink.output_level())
        pushed = False
        for event in self._detector.process(heard):
            if isinstance(event, SpeechStart):
                self._on_speech_start(event)
                pushed = True  # the pre-roll given to the new stream holds this chunk
            elif isinstance(event, SpeechEnd):
                self._on_speech_end(event)
        turn = self._user
        if turn is None:
            self._check_onset()
            return
        if not pushed:
            turn.stream.push(pcm)
        if turn.speculation is not None and self._detector.speech_ms != turn.speculation.mark:
            # The caller goes on: the reply begun in the pause answers words that are not the turn.
            speculation, turn.speculation = turn.speculation, None
            self._drop(speculation, "went_on")
        if turn.tentative:
            self._check_interruption(turn)
        if self._user is turn and self._detector.speaking and not self._check_endpoint(turn):
            self._check_length(turn)

    def _denoise(self, pcm: bytes) -> bytes:
        try:
            return self._denoiser.process(pcm)
        except Exception as exc:  # a model that fails mid-call: the call goes on with the audio as it came
            log.error("noise_suppression_failed", error=repr(exc))
            self._denoiser = None
            return pcm

    # -- turn detection ----------------------------------------------------------------------------

    def _stream_time_to_monotonic(self, at_ms: int) -> float:
        return self.engine.clock() - (self._detector.now_ms - at_ms) / 1000

    def _on_speech_start(self, event: SpeechStart) -> None:
        self.last_activity = self.engine.clock()
        s = self.settings
        # A session that declares a vocabulary primes the recogniser with it and its tools' words
        # (agents/providers/asr/hints.py). Not by default: primed with the tool words alone, Whisper heard a
        # slowly read "1, 2, 3, 4" as "1, 2, 1, 2" (test_turn_taking's digits test).
        vocabulary = session_vocabulary(s.vocabulary, s.tools, s.language) if s.vocabulary else ()
        # A session that picked another recogniser (asr.model) gets it; the engine's ASR is a LanguageRouter then.
        stream = (self.engine.asr.open(s.language, ENGINE_RATE, vocabulary, model=s.asr_model) if s.asr_model
                  else self.engine.asr.open(s.language, ENGINE_RATE, vocabulary))
        stream.push(bytes(self._preroll))
        turn = self._user = UserTurn(stream, datetime.now(UTC), tentative=self.reply.talking())
        held, self._held = self._held, False
        if held and turn.tentative:
            turn.paused = True  # since its onset; the guard goes on from there
        elif held:
            self.sink.resume()
        if not turn.tentative:
            self._open_user_turn(turn)

    def _check_onset(self) -> None:
        """Sound over the reply that is not speech yet: hold the reply once the guard says so, and play on
        if the sound stops before it becomes speech (a cough, a click)."""
        detector, guard = self._detector, self._guard
        if not self._held:
            onset = detector.onset_ms
            if onset and guard.holds_at_onset(onset, self._recent_false_holds()) and self.reply.talking():
                self._held = True
                self.sink.pause()
                log.info("reply_paused", onset_ms=onset, played_ms=self.sink.played_ms())
        elif guard.releases_hold(detector.quiet_ms):
            self._held = False
            self.sink.resume()
            self._false_holds.append(self.engine.clock())
            self.overlaps_ignored.noise += 1
            log.info("not_an_interruption", why="not_speech")

    def _recent_false_holds(self) -> int:
        since = self.engine.clock() - self._guard.noisy_line_window_ms / 1000
        return sum(at >= since for at in self._false_holds)

    def _open_user_turn(self, turn: UserTurn, why: str = "speech") -> None:
        """The caller's speech is a turn: stop any reply, number the turn, announce it."""
        if turn.tentative:
            log.info("interruption_confirmed", why=why)
        turn.tentative = False
        self._generation += 1
        self._barge_in()
        turn.turn_id = self.history.new_turn_id()
        self._enqueue(lambda: self._announce_user_turn(turn))
        self._prefill()
        if self.engine.partial_interval_ms > 0:
            turn.partials = asyncio.create_task(self._partials(turn), name=f"partials-{turn.turn_id}")

    def _check_interruption(self, turn: UserTurn) -> None:
        """Speech over the assistant: the interruption guard pauses the reply, reads the words once there
        are some, and makes it an interruption once they say more than "mm-hmm" or the speech is longer
        than any (or at once, if replies never resume)."""
        if not self.reply.talking():
            self._open_user_turn(turn, "reply_over")  # the reply ended by itself meanwhile: an ordinary turn
            return
        detector, guard = self._detector, self._guard
        if not detector.speaking:
            return
        if turn.read is not None and guard.plays_on(turn.read[0], detector.speech_ms, detector.silence_ms):
            # "Okay." was read whole and the caller is quiet: play on now, not after another transcript.
            event = detector.end_now()
            if event is not None:
                self._on_speech_end(event, text=turn.read[1])
            return
        overlap = guard.on_speech(detector.speech_ms, turn.paused)
        if overlap is not Overlap.NOTHING and not turn.paused:
            turn.paused = True
            self.sink.pause()
            log.info("reply_paused", speech_ms=detector.speech_ms, played_ms=self.sink.played_ms())
        if overlap is Overlap.INTERRUPT:
            self._open_user_turn(turn, "long_speech" if guard.resume else "no_resume")
        elif turn.paused and not turn.reading and guard.reads_words(detector.speech_ms):
            turn.reading = True
            self._spawn(self._read_overlap(turn), "overlap-words")

    async def _read_overlap(self, turn: UserTurn) -> None:
        """While a reply is paused for the caller, read their words as they come: more than "mm-hmm"
        ("wait", "no, the other one") is an interruption at once, not after `backchannel_max_ms`.
        The first reading waits for some speech (InterruptionGuard.reads_words): while the paused reply's LLM
        and TTS share the CPU one takes 0.35-0.55 s, and on 120 ms of "Stop" it heard nothing."""
        while self._user is turn and turn.tentative and self._detector.speaking and not self._closing:
            asked, speech_ms = self.engine.clock(), self._detector.speech_ms
            if turn.read is not None and turn.read[0] == speech_ms:
                await asyncio.sleep(_OVERLAP_READ_GAP_S)  # nothing new was said since (a pause): no decode
                continue
            text = await turn.stream.so_far(quick=True)  # retries on a half-said word cost 0.5 s
            log.info("overlap_read", text=text, speech_ms=speech_ms, asr_ms=round((self.engine.clock() - asked) * 1000))
            if self._user is not turn or not turn.tentative or self._closing:
                return
            if self._guard.interrupts(text, self.settings.language):
                self._open_user_turn(turn, "early_words")
                return
            turn.read = (speech_ms, text)
            await asyncio.sleep(_OVERLAP_READ_GAP_S)  # let more of the caller's audio in first

    def _silence_ms(self) -> int:
        """Silence since the caller's last speech, counting time in which no audio arrived at all (a
        client may stop sending when its user stops talking; a phone line never does)."""
        gap_ms = (self.engine.clock() - self._last_feed) * 1000 - _FEED_GAP_MS
        return self._detector.silence_ms + (round(gap_ms) if gap_ms > 0 else 0)

    def _check_endpoint(self, turn: UserTurn) -> bool:
        """Adaptive end of turn (agents/turns/end_of_turn.py): in a pause, transcribe what was said; end soon
        after a finished question, wait long after digits or "and" (the detector's own hangover is the
        longest wait). True once the turn is ended."""
        end_of_turn, detector = self._end_of_turn, self._detector
        silence = self._silence_ms()
        if not end_of_turn.adaptive or silence < end_of_turn.transcribe_at_ms or not detector.speaking:
            return False
        mark = detector.speech_ms  # the same in one pause, different in the next
        if turn.guess_mark != mark:
            turn.guess_mark, turn.guess, turn.verdict = mark, None, None
            self._spawn(self._guess(turn, mark), f"guess-{turn.turn_id or 'tentative'}")
            return False
        verdict = turn.verdict
        if turn.guess is None or verdict is None:
            return False
        if not end_of_turn.ends(silence, verdict):
            return False
        event = detector.end_now()
        if event is None:
            return False
        log.info("endpoint", verdict=verdict.completeness.value, silence_ms=silence, asr_ms=turn.guess_ms)
        self._on_speech_end(event, text=turn.guess)
        return True

    def _check_length(self, turn: UserTurn) -> None:
        """End a turn that has gone on for `max_turn_ms` of speech without a pause long enough to end it."""
        if turn.tentative or not self._length.too_long(self._detector.speech_ms):
            return
        event = self._detector.end_now()
        if event is not None:
            log.info("turn_too_long", speech_ms=event.duration_ms)
            self._on_speech_end(event)

    async def _guess(self, turn: UserTurn, mark: int) -> None:
        """Transcribe the pause's audio, then decide; if audio stops coming, keep deciding on the clock."""
        clock = self.engine.clock
        asked = clock()
        text = (await turn.stream.so_far()).strip()
        if not (self._user is turn and turn.guess_mark == mark and self._detector.speaking):
            return
        turn.guessed_at = clock()
        turn.guess, turn.guess_ms = text, round((turn.guessed_at - asked) * 1000)
        turn.verdict = self._end_of_turn.judge(text, self.settings.language)
        if self.engine.partial_interval_ms > 0:
            self._send_partial(turn, text)
        if self._detector.speech_ms == mark:  # still the same pause (on this machine, 1 in 2 were over by now)
            self._speculate(turn, text, mark)  # the reply starts now; heard only if the turn ends on these words
        if self._check_endpoint(turn):
            return
        if not turn.tentative and text and turn.speculation is None:
            self._prefill(text)  # the caller may go on: the model reads what was said so far meanwhile
        wait = turn.verdict.wait_ms
        while (self._user is turn and turn.guess_mark == mark == self._detector.speech_ms
               and not self._check_endpoint(turn)):
            await asyncio.sleep(max(wait - self._silence_ms(), _FEED_GAP_MS) / 1000)

    def _on_speech_end(self, event: SpeechEnd, text: str | None = None) -> None:
        turn, self._user = self._user, None
        if turn is None:
            return
        if turn.partials:
            turn.partials.cancel()
        ended = self._stream_time_to_monotonic(event.at_ms)
        endpoint_ms = round((self.engine.clock() - ended) * 1000)
        if turn.tentative:
            self._spawn(self._judge_overlap(turn, ended, endpoint_ms, event.duration_ms, text), "overlap")
            return
        generation = self._generation
        self._enqueue(lambda: self._finish_user_turn(turn, ended, endpoint_ms, event.duration_ms, generation, text))

    async def _judge_overlap(self, turn: UserTurn, ended: float, endpoint_ms: int, duration_ms: int,
                             text: str | None) -> None:
        """Short speech over the assistant ended: an interruption if it said something, else play on."""
        clock = self.engine.clock
        asked = clock()
        if text is None:
            text = (await turn.stream.final()).strip()
        else:
            turn.stream.cancel()
        if self._closing:
            return
        if not self._guard.interrupts(text, self.settings.language):
            self.overlaps_ignored.listener_sounds += 1
            log.info("not_an_interruption", text=text, duration_ms=duration_ms)
            if turn.paused:
                self.sink.resume()
            return
        self._open_user_turn(turn, "words")  # cuts the reply where it was paused, or ends nothing if it is over
        asr_ms = round((clock() - asked) * 1000)
        generation = self._generation
        self._enqueue(lambda: self._finish_user_turn(turn, ended, endpoint_ms, duration_ms, generation, text,
                                                     asr_ms))

    def _drop_user_turn(self) -> None:
        turn, self._user = self._user, None
        if turn is not None:
            if turn.speculation is not None:
                self._drop(turn.speculation, "turn_dropped")
                turn.speculation = None
            if turn.partials:
                turn.partials.cancel()
            turn.stream.cancel()
        self._detector.reset()

    async def _partials(self, turn: UserTurn) -> None:
        interval = self.engine.partial_interval_ms / 1000
        while True:
            await asyncio.sleep(interval)
            if self._detector.silence_ms or self.engine.clock() - turn.guessed_at < interval:
                continue  # the endpointing transcribes pauses, and its transcript is sent as a partial
            self._send_partial(turn, await turn.stream.partial())

    def _send_partial(self, turn: UserTurn, text: str | None) -> None:
        if text and text != turn.last_partial and turn.announced and turn is self._user:
            turn.last_partial = text
            self.emit(Transcript("user", text, False, turn.turn_id))
