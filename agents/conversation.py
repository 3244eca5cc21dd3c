"""The conversation: listen -> understand -> answer -> speak, with barge-in (SPEC §4, §5).

A door feeds it audio frames with plain synchronous calls (no task or queue
hop per frame, SPEC §11); speech start/end become turn jobs that one worker
task runs in order, so events always come out in turn order even when a
reply is cut short and its turn must be saved before the next one starts.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog

from agents import lines
from agents.endings import Endings, cancel_ending
from agents.errors import ProviderError
from agents.engine import Engine
from agents.events import ErrorEvent, EndReason, Interruption, SessionEnded, Transcript, TurnEnd, TurnStart
from agents.keypad import Keypad
from agents.listening import ENGINE_RATE, Listening, OverlapsIgnored, UserTurn
from agents.ports import AudioSink, CallControl, EventSink, Recorder, TurnRecord, TurnStore
from agents.providers.llm.base import Message
from agents.current_reply import CurrentReply
from agents.reply import Reply, ReplyState, fixed_pieces
from agents.session import History, SessionSettings
from agents.speculation import Speculation
from agents.turns import EchoGate, EndOfTurn, InterruptionGuard, TurnLength
from media.format import frame_bytes
from media.framing import Tail
from media.vad.detector import SpeechDetector

log = structlog.get_logger(__name__)

_PREROLL_MS = 300  # audio kept from before speech was confirmed, so ASR hears the first syllable
_FINISH_TURN_S = 3.0  # how long ending a session waits for the turn in hand to be stored
_FAILED_TURNS_TO_END = 3  # turns failing in a row (not one slow provider: a broken store) end the session: error


class Conversation(Listening, Keypad, Endings):
    """One live session. Create it, `start()` it, feed it, and `end()` or `close()` it.

    `emit` receives every event in order; `sink` receives the assistant's
    audio; `store` commits each completed turn before its turn_end is emitted.
    """

    def __init__(self, engine: Engine, settings: SessionSettings, history: History, sink: AudioSink,
                 emit: EventSink, store: TurnStore, vad_threshold: float | None = None,
                 control: CallControl | None = None, recorder: Recorder | None = None) -> None:
        self.engine = engine
        self.control = control  # the door's transfer/DTMF; None: call-control tools say unavailable
        self._dtmf = ""  # key presses collected for the next DTMF turn (agents/keypad.py)
        self._dtmf_timer: asyncio.TimerHandle | None = None
        self.settings = settings
        self.history = history
        self.sink = sink
        self.emit = emit
        self.store = store
        self.recorder = recorder  # keeps both sides of the call, if the session records
        # The turn-taking strategies (agents/turns/), from the engine's settings.
        self._end_of_turn = EndOfTurn(engine.endpoint_min_ms, engine.hangover_ms, engine.endpoint_max_ms,
                                      transcribe_at_ms=engine.transcribe_after_ms)
        self._guard = InterruptionGuard(engine.interrupt_min_ms, engine.backchannel_max_ms,
                                        engine.resume_after_backchannel)
        self._length = TurnLength(engine.max_turn_ms)
        self._echo = EchoGate(engine.echo_suppression_db)
        if vad_threshold is None:  # the stream did not ask: the session's (persona's), else the gateway's
            vad_threshold = settings.vad_threshold if settings.vad_threshold is not None else engine.vad_threshold
        self._detector = SpeechDetector(engine.make_vad(ENGINE_RATE, vad_threshold), engine.min_speech_ms,
                                        self._end_of_turn.longest_ms)
        self._denoiser = None
        if settings.noise_suppression:
            if engine.make_denoiser is None:
                log.warning("noise_suppression_unavailable", hint="the DTLN models are not installed or did not load")
            else:
                self._denoiser = engine.make_denoiser()
        self._side_tasks: set[asyncio.Task] = set()
        self._prefilling: asyncio.Task | None = None
        self._job_running = False
        self._last_feed = self.engine.clock()
        self._preroll = Tail(frame_bytes(ENGINE_RATE, 10) * ((engine.min_speech_ms + _PREROLL_MS) // 10))
        self._jobs: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self._worker: asyncio.Task | None = None
        self._idle: asyncio.Task | None = None
        self._user: UserTurn | None = None
        self._held = False
        self._false_holds: deque[float] = deque(maxlen=self._guard.noisy_line_holds)
        self.overlaps_ignored = OverlapsIgnored()
        self.reply = CurrentReply()
        self._cut_ms = 0
        self._generation = 0  # bumped whenever the caller starts a new turn
        self._closing = False  # set as soon as end() or close() starts: no new input is taken
        self.ended = asyncio.Event()
        self.end_reason: EndReason | None = None
        self.last_activity = self.engine.clock()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._worker = asyncio.create_task(self._work(), name=f"conversation-{self.settings.session_id}")
        if self.engine.idle_timeout_s > 0:
            self._idle = asyncio.create_task(self._watch_idle(), name=f"idle-{self.settings.session_id}")
        if self.settings.greeting and not self.history.turns:
            self._enqueue(self._greet)
        self._prefill()
        if self.engine.keep_apology:
            task = asyncio.create_task(self._keep_apology(), name=f"apology-{self.settings.session_id}")
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)

    async def _keep_apology(self) -> None:
        """The apology for a failing model, synthesised while the TTS works (once per voice and rate), so that
        a TTS server that goes down mid-call still leaves the caller a word instead of silence."""
        for piece in fixed_pieces(lines.in_language(lines.TROUBLE, self.settings.language)):
            try:
                await self.engine.lines.keep(self.engine.tts, piece, self.settings.voice_id, self.sink.sample_rate)
            except Exception as exc:  # the TTS is failing already: nothing to keep
                log.warning("apology_not_kept", error=repr(exc))
                return

    def _prefill(self, said: str | None = None) -> None:
        """Have the LLM read this session's context now (system prompt, tools, turns so far, and `said`,
        the caller's words up to a pause), while the caller talks, so that at the end of the turn only
        the last words are left to read. An LLM that keeps a prompt cache offers
        `warm_up(messages, tools)`; others are left alone."""
        warm_up = getattr(self.engine.llm, "warm_up", None)
        if warm_up is None or self._prefilling is not None and not self._prefilling.done():
            return
        messages = self.history.messages(self.settings.system_prompt, self.settings.context_window,
                                         self.settings.language)
        if said:
            messages.append(Message("user", said))
        tools = [t.spec() for t in self.settings.tools]

        async def prefill() -> None:
            try:
                await warm_up(messages, tools)
            except Exception as exc:  # only a head start: the reply itself will say what is wrong
                log.warning("llm_prefill_failed", error=str(exc))

        self._prefilling = asyncio.create_task(prefill(), name=f"prefill-{self.settings.session_id}")
        self._side_tasks.add(self._prefilling)
        self._prefilling.add_done_callback(self._side_tasks.discard)

    async def _watch_idle(self) -> None:
        """End the session (idle_timeout) after `idle_timeout_s` without speech, text or a reply."""
        timeout = self.engine.idle_timeout_s
        while True:
            busy = self._user is not None or (self.reply.task is not None and not self.reply.task.done())
            if busy:
                self.last_activity = self.engine.clock()
            # Whole milliseconds: on a clock reading 1e5 s, "left" can stay a few 1e-11 s above zero, and a
            # sleep that short never moves a virtual clock (the loop would spin; it did, in CI).
            left_ms = round((self.last_activity + timeout - self.engine.clock()) * 1000)
            if left_ms <= 0:
                await self.end("idle_timeout")
                return
            await asyncio.sleep(min(left_ms, 1000) / 1000)

    async def end(self, reason: EndReason) -> None:
        """End the session for good: stop everything and emit session_ended."""
        if self._closing:
            return
        self._closing = True
        self.end_reason = reason
        await self._stop()
        self.emit(SessionEnded(reason, self.history.total_turns))
        self.ended.set()  # after session_ended is emitted: the door closes on this
        log.info("session_ended", reason=reason, total_turns=self.history.total_turns)

    async def close(self) -> None:
        """The door went away (the session may be resumed): stop everything, emit nothing."""
        self._closing = True
        await self._stop()
        self.ended.set()

    async def _stop(self) -> None:
        if self.reply.task and not self.reply.task.done():
            if self.reply.state is not None:  # what was heard of it is what gets stored
                self._cut_ms = min(self.sink.played_ms(), self.reply.state.timeline.total_ms)
            self.sink.clear()
            self.reply.task.cancel()
        if self._user is not None:
            self._drop_user_turn()
        worker = self._worker
        if self._job_running and worker is not None and worker is not asyncio.current_task():
            # The turn in hand (a reply just cut off, words just heard) is still stored: a hang-up
            # right after a barge-in must not lose what was said. The reply is cancelled, so this is quick.
            await asyncio.wait({worker}, timeout=_FINISH_TURN_S)
        tasks = [t for t in (self.reply.task, self._worker, self._idle, *self._side_tasks)
                 if t is not None and t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- input from the door (synchronous, per frame) ---------------------------------------------

    def feed_text(self, text: str) -> None:
        """A typed user turn (`user_text`): interrupts like speech, answered like speech."""
        if self._closing:
            return
        self._generation += 1
        self._barge_in()
        if self._user is not None:
            self._drop_user_turn()
        received = self.last_activity = self.engine.clock()
        turn_id = self.history.new_turn_id()
        generation = self._generation
        self._enqueue(lambda: self._typed_turn(turn_id, text, received, generation))

    def _spawn(self, job: Awaitable[None], name: str) -> None:
        task = asyncio.create_task(job, name=name)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    def _barge_in(self) -> None:
        """Caller spoke (or typed) over the reply: stop it within this frame and say how much was heard."""
        task, state = self.reply.task, self.reply.state
        # A reply cut already may still be finishing (waiting for its tool's result): cut once only.
        if task is None or not self.reply.running() or state is None:
            return
        self._cut_ms = min(self.sink.played_ms(), state.timeline.total_ms)
        self.sink.clear()
        self._held = False
        task.cancel()
        if state.first_audio_at is not None:
            self.emit(Interruption(state.turn_id, self._cut_ms, state.timeline.heard(self._cut_ms)))
        log.info("barge_in", turn_id=state.turn_id, played_ms=self._cut_ms)

    # -- turn jobs (run one at a time, in order, by the worker) -----------------------------------

    def _enqueue(self, job: Callable[[], Awaitable[None]]) -> None:
        self._jobs.put_nowait(job)

    async def _work(self) -> None:
        failed = 0  # turns in a row that failed outright (not a provider error: those get a spoken apology)
        while not self._closing:
            job = await self._jobs.get()
            self._job_running = True
            try:
                await job()
                failed = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failed += 1
                log.exception("turn_failed", in_a_row=failed)
                self.emit(ErrorEvent("internal", f"the turn failed: {type(exc).__name__}"))
                if failed >= _FAILED_TURNS_TO_END:
                    # Something is broken for good (e.g. storage): end the call rather than leave the
                    # caller talking to an agent that cannot answer or keep what was said.
                    self._job_running = False
                    await self.end("error")
            finally:
                self._job_running = False

    async def _announce_user_turn(self, turn: UserTurn) -> None:
        turn.announced = True
        self.emit(TurnStart("user", turn.turn_id))

    async def _finish_user_turn(self, turn: UserTurn, ended: float, endpoint_ms: int, duration_ms: int,
                                generation: int, text: str | None = None, asr_ms: int = 0) -> None:
        speculation, turn.speculation = turn.speculation, None
        try:
            await self._answer_user_turn(turn, ended, endpoint_ms, duration_ms, generation, text, asr_ms, speculation)
        finally:
            if speculation is not None and not speculation.gate.is_set():
                self._drop(speculation, "other_words")  # the turn said something else, or was not answered

    async def _answer_user_turn(self, turn: UserTurn, ended: float, endpoint_ms: int, duration_ms: int,
                                generation: int, text: str | None, asr_ms: int,
                                speculation: Speculation | None) -> None:
        if text is None:
            asked = self.engine.clock()
            try:
                text = (await turn.stream.final()).strip()
            except ProviderError as exc:
                # The recogniser (or its server) failed: the words are lost; say so, and the call goes on.
                log.error("asr_failed", turn_id=turn.turn_id, error=exc.message)
                self.emit(ErrorEvent("provider_error", f"the caller's words could not be recognised: {exc.message}"))
                self.emit(TurnEnd("user", turn.turn_id, duration_ms))
                await self._say(lines.in_language(lines.TROUBLE, self.settings.language))
                return
            asr_ms = round((self.engine.clock() - asked) * 1000)
        else:
            turn.stream.cancel()  # the transcript taken in the pause is the final one: silence followed
        if not text:  # noise that passed the VAD: close the turn, keep nothing
            self.emit(Transcript("user", "", True, turn.turn_id))
            self.emit(TurnEnd("user", turn.turn_id, duration_ms))
            return
        await self._complete_user_turn(TurnRecord(turn.turn_id, "user", text, turn.started_at, duration_ms))
        if not self._closing and generation == self._generation:
            # Otherwise the caller went on talking: the next turn's reply answers both.
            await self._respond(ended, asr_ms=asr_ms, endpoint_ms=endpoint_ms, speculation=speculation)

    async def _typed_turn(self, turn_id: str, text: str, received: float, generation: int) -> None:
        self.emit(TurnStart("user", turn_id))
        await self._complete_user_turn(TurnRecord(turn_id, "user", text, datetime.now(UTC), 0))
        if not self._closing and generation == self._generation:
            await self._respond(received, asr_ms=None)

    async def _complete_user_turn(self, record: TurnRecord) -> None:
        self.emit(Transcript("user", record.text, True, record.turn_id))
        await self._commit(record)
        self.emit(TurnEnd("user", record.turn_id, record.duration_ms))
        await self._check_limit()

    async def _greet(self) -> None:
        await self._say(self.settings.greeting or "")

    async def _say(self, text: str) -> None:
        """Fixed text, no model, as an assistant turn of its own (the greeting, a transfer that failed)."""
        state = ReplyState(self.history.new_turn_id(), self.engine.clock())
        reply = Reply(self.engine, self.settings, self.sink, self.emit, state)
        await self._run_reply(state, reply.speak_text(text), asr_ms=None)

    async def _respond(self, started: float, asr_ms: int | None, endpoint_ms: int | None = None,
                       speculation: Speculation | None = None) -> None:
        messages = self.history.messages(self.settings.system_prompt, self.settings.context_window,
                                         self.settings.language)
        if speculation is not None and speculation.fits(messages, self._generation, self.history.next_turn_id()):
            self.history.new_turn_id()  # the id the speculative reply already has
            self._side_tasks.discard(speculation.task)
            log.info("speculation_adopted", turn_id=speculation.state.turn_id,
                     ahead_ms=round((self.engine.clock() - speculation.state.started) * 1000))
            await self._run_reply(speculation.state, speculation.adopt(started), asr_ms, endpoint_ms)
            return
        if speculation is not None:
            self._drop(speculation, "other_context")
        state = ReplyState(self.history.new_turn_id(), started)
        reply = Reply(self.engine, self.settings, self.sink, self.emit, state, self.control)
        await self._run_reply(state, reply.run(messages), asr_ms, endpoint_ms)

    # -- speculative replies (agents/speculation.py) ------------------------------------------------

    def _speculate(self, turn: UserTurn, text: str, mark: int) -> None:
        """Start the reply to the words said so far, behind a gate, while the pause may still be the end of
        the turn; only when nothing else is going on (no reply, no turn job in hand)."""
        old = turn.speculation
        if old is not None:
            if old.mark == mark and not old.task.done():
                return
            turn.speculation = None
            self._drop(old, "went_on")
        if (not self.engine.speculate or turn.tentative or not turn.turn_id or not text or self._closing
                or self._job_running or not self._jobs.empty() or self.reply.task is not None):
            return
        said = TurnRecord(turn.turn_id, "user", text, turn.started_at, 0)
        messages = History([*self.history.turns, said]).messages(
            self.settings.system_prompt, self.settings.context_window, self.settings.language)
        state = ReplyState(self.history.next_turn_id(), self.engine.clock())
        gate = asyncio.Event()
        reply = Reply(self.engine, self.settings, self.sink, self.emit, state, self.control, gate)
        task = asyncio.create_task(reply.run(messages), name=f"speculation-{state.turn_id}")
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)
        turn.speculation = Speculation(messages, mark, self._generation, state, task, gate)
        log.info("reply_speculated", turn_id=state.turn_id, speech_ms=mark)

    def _drop(self, speculation: Speculation, why: str) -> None:
        if not speculation.task.done():
            speculation.drop()
            log.info("speculation_dropped", turn_id=speculation.state.turn_id, why=why)

    async def _run_reply(self, state: ReplyState, generate: Awaitable[None], asr_ms: int | None,
                         endpoint_ms: int | None = None) -> None:
        started_at = datetime.now(UTC)

        async def generate_and_play():
            await generate
            return await self.sink.played(self.sink.end_segment())

        task = self.reply.task = asyncio.create_task(generate_and_play(), name=f"reply-{state.turn_id}")
        self.reply.state = state
        await asyncio.wait({task})
        self.reply.task = None
        failed = None if task.cancelled() else task.exception()
        if task.cancelled():
            interrupted, played_ms = True, self._cut_ms
        elif failed is not None:
            log.error("reply_failed", turn_id=state.turn_id, error=repr(failed))
            self.emit(ErrorEvent("provider_error", f"the reply failed: {failed}"))
            self.sink.clear()
            interrupted, played_ms = True, min(self.sink.played_ms(), state.timeline.total_ms)
        else:
            playout = task.result()
            interrupted = playout.interrupted
            played_ms = playout.played_ms if interrupted else state.timeline.total_ms
        if state.first_audio_at is None and not state.tool_calls:
            return  # cut off before a word was said or a tool ran: nothing happened
        if state.first_audio_at is None:
            self.emit(TurnStart("assistant", state.turn_id, None))
        text = state.timeline.heard(played_ms) if interrupted else state.timeline.text
        if state.ending is not None and interrupted:
            cancel_ending(state)
        record = TurnRecord(
            state.turn_id, "assistant", text, started_at, played_ms, latency_ms=state.latency_ms,
            interrupted=interrupted, tool_calls=state.tool_calls, endpoint_ms=endpoint_ms, asr_ms=asr_ms,
            llm_first_token_ms=state.llm_first_token_ms, tts_first_audio_ms=state.tts_first_audio_ms,
            guarded=state.guarded, answer_latency_ms=state.answer_latency_ms,
        )
        self.emit(Transcript("assistant", text, True, state.turn_id))
        await self._commit(record)
        self.emit(TurnEnd("assistant", state.turn_id, played_ms, interrupted))
        log.info("turn_ended", turn_id=state.turn_id, latency_ms=state.latency_ms,
                 answer_latency_ms=state.answer_latency_ms, interrupted=interrupted,
                 endpoint_ms=endpoint_ms, asr_ms=asr_ms, llm_first_token_ms=state.llm_first_token_ms,
                 tts_first_audio_ms=state.tts_first_audio_ms)
        if state.ending is not None and not interrupted:
            await self._end_call(state)  # the goodbye (or "transferring you") was heard out
            return
        await self._check_limit()

    async def _commit(self, record: TurnRecord) -> None:
        await self.store.save_turn(self.settings.session_id, record)
        self.history.add(record)
        self.last_activity = self.engine.clock()

    async def _check_limit(self) -> None:
        limit = self.settings.max_turns
        if limit is not None and self.history.total_turns >= limit:
            await self.end("max_turns")
