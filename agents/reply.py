"""One assistant reply: LLM text streamed sentence by sentence into TTS and out to the sink, tools in between."""

import asyncio
import contextlib
import dataclasses
import json
import time
from dataclasses import dataclass, field

import structlog

from agents import lines
from agents.engine import Engine
from agents.line_cache import is_opener
from agents.errors import ProviderError
from agents.events import ErrorEvent, ToolCall, ToolResult, TurnStart
from agents.ports import AudioSink, CallControl, ToolCallRecord
from agents.providers.llm import chatformat
from agents.providers.llm.base import Message, TextDelta, ToolCallRequest, ToolCallStarting
from agents.reply_guard import ReplyGuard
from agents.sentences import SentenceSplitter
from agents.timeline import SpokenTimeline
from agents.session import SessionSettings
from agents.tools.fitting import fit_arguments
from agents.tools.handler import Ending, ToolContext
from agents.tool_policy import CALL_CONTROL, subject_words
from agents.tools.spec import ToolDefinition, value_phrase
from media.format import SAMPLE_WIDTH

log = structlog.get_logger(__name__)

EMPTY_REPLY_FALLBACK = lines.SAY_AGAIN
TOOL_FAILED_FALLBACK = lines.TOOL_FAILED
TRANSFER_LINE = lines.TRANSFERRING
GUARDED_FALLBACK = lines.SAY_AGAIN  # the model's words were refused twice (see _rounds)
INTERRUPTED_TOOL_ERROR = "cancelled: the caller interrupted before the tool finished"
# Added once when a round's first sentence was refused. Short, and itself engine text the guard refuses.
RETRY_NOTE = "Answer the caller directly, in one or two plain sentences."
# What the local-model provider adds to the prompt on its own (rules, call format, result and history
# notes): never sayable. Taken by shape, every upper-case text constant of chatformat.py, so a note
# added or renamed there is guarded without a change here.
PROVIDER_NOTES = tuple(v for k, v in vars(chatformat).items() if k.isupper() and isinstance(v, str))


@dataclass
class ReplyState:
    """What a reply has done so far; read by the conversation when the reply is cut short."""

    turn_id: str
    started: float  # monotonic time the reply's clock starts from (end of user speech)
    timeline: SpokenTimeline = field(default_factory=SpokenTimeline)
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    first_audio_at: float | None = None
    answer_audio_at: float | None = None  # the first audio of the answer itself, not of a hold line
    llm_first_token_ms: int | None = None
    tts_first_audio_ms: int | None = None
    ending: Ending | None = None  # end_call ("hang_up") or a transfer asked for in this reply
    transfer_to: str | None = None  # the transfer's target (ending "transfer")
    guarded: int = 0  # sentences of model text the reply guard refused (logged as reply_guarded)

    @property
    def latency_ms(self) -> int | None:
        return None if self.first_audio_at is None else round((self.first_audio_at - self.started) * 1000)

    @property
    def answer_latency_ms(self) -> int | None:
        return None if self.answer_audio_at is None else round((self.answer_audio_at - self.started) * 1000)


@dataclass
class _Attempt:
    """One LLM generation of a round: the sentences that passed the guard, the calls it asked for."""

    said: list[str] = field(default_factory=list)
    requests: list[ToolCallRequest] = field(default_factory=list)
    refused: bool = False  # a sentence was refused; generation stopped there


def fixed_pieces(text: str) -> list[str]:
    """Fixed text in the pieces it is spoken (and its audio kept) in."""
    splitter = SentenceSplitter()
    return [piece for piece in [*splitter.push(text), splitter.flush()] if piece]


class Reply:
    """Generate and speak one reply. Cancelling the task that runs `run()` stops LLM and TTS at once."""

    def __init__(self, engine: Engine, settings: SessionSettings, sink: AudioSink, emit, state: ReplyState,
                 control: CallControl | None = None, gate: asyncio.Event | None = None) -> None:
        self.engine = engine
        # A speculative reply (agents/speculation.py) sends no audio and runs no tool until this is set.
        self.gate = gate
        self.settings = settings
        self.sink = sink
        self.emit = emit
        self.state = state
        self._held = False  # the hold line was said in this reply
        # Lines said on many calls, served from the engine's line cache rather than synthesised again.
        self._fixed = {self._line(text) for text in (engine.hold_line, engine.goodbye_line, EMPTY_REPLY_FALLBACK,
                                                     GUARDED_FALLBACK, TOOL_FAILED_FALLBACK, TRANSFER_LINE)}
        self.context = ToolContext(settings.session_id, state.turn_id, control, settings.transfer_targets)

    async def _released(self) -> None:
        if self.gate is not None and not self.gate.is_set():
            await self.gate.wait()

    def _line(self, text: str) -> str:
        """One of the agent's fixed lines, in the session's language."""
        return lines.in_language(text, self.settings.language)

    async def speak_text(self, text: str) -> None:
        """Speak fixed text (a greeting) without the LLM."""
        sentences: asyncio.Queue[str | None] = asyncio.Queue()
        self._say_fixed(text, sentences)
        sentences.put_nowait(None)
        await self._speak(sentences)

    def _say_fixed(self, text: str, sentences: asyncio.Queue) -> None:
        for piece in fixed_pieces(text):
            self._fixed.add(piece)  # a greeting, an apology: the same on many calls, its audio kept
            sentences.put_nowait(piece)

    async def run(self, messages: list[Message]) -> None:
        sentences: asyncio.Queue[str | None] = asyncio.Queue()
        speaker = asyncio.create_task(self._speak(sentences), name=f"tts-{self.state.turn_id}")
        try:
            try:
                await self._think(list(messages), sentences)
            except ProviderError as exc:
                # The language model (or its server) failed: say so, and the call goes on.
                log.error("llm_failed", turn_id=self.state.turn_id, error=exc.message)
                self.emit(ErrorEvent("provider_error", f"the reply failed: {exc.message}"))
                self._say_fixed(self._line(lines.TROUBLE), sentences)
            sentences.put_nowait(None)
            await speaker
        finally:
            if not speaker.done():
                speaker.cancel()
                await asyncio.gather(speaker, return_exceptions=True)

    async def _think(self, messages: list[Message], sentences: asyncio.Queue) -> None:
        if not await self._rounds(messages, sentences):
            # A small model sometimes answers with nothing speakable (or a call to a tool it was not
            # offered): the caller must not be left in silence.
            log.warning("llm_empty_reply", turn_id=self.state.turn_id)
            failed = any(call.error is not None for call in self.state.tool_calls)
            sentences.put_nowait(self._line(TOOL_FAILED_FALLBACK if failed else EMPTY_REPLY_FALLBACK))

    async def _rounds(self, messages: list[Message], sentences: asyncio.Queue) -> bool:
        """LLM -> tools -> LLM rounds; True if anything was said.

        Every sentence of model text passes the reply guard before TTS. A round whose first sentence
        is refused is generated once more with RETRY_NOTE; refused again, the caller hears a fixed line.
        A later sentence refused ends the reply at the last good one.
        """
        specs = [t.spec() for t in self.settings.tools]
        tools = self.settings.tools_by_name
        options = self.settings.llm.options(self.engine.llm_options)  # a persona may set its own
        # Numbers are checked in sentences about what the agent's tools look up ("order" for lookup_order): those
        # come from the tools. Elsewhere it may quote years and figures it knows ("In 1876, Bell ...").
        subjects = {w for s in specs if s.name not in CALL_CONTROL for w in subject_words(s)}
        guard = ReplyGuard.for_messages(messages, specs, self.settings.system_prompt, (*PROVIDER_NOTES, RETRY_NOTE),
                                        numbers_about=subjects if self.engine.refuse_invented_numbers else ())
        spoke = False
        for round_ in range(self.engine.max_tool_rounds + 1):
            offered = specs if round_ < self.engine.max_tool_rounds else []  # last round must answer in words
            attempt = await self._generate(messages, offered, options, guard, sentences)
            if attempt.refused and not attempt.said:
                attempt = await self._generate([*messages, Message("system", RETRY_NOTE)], offered, options, guard,
                                               sentences)
                if attempt.refused and not attempt.said:
                    # After a tool ran the caller is waiting for its answer; before, they may say it anew.
                    failed = bool(self.state.tool_calls)
                    sentences.put_nowait(self._line(TOOL_FAILED_FALLBACK if failed else GUARDED_FALLBACK))
                    return True
            spoke = spoke or bool(attempt.said)
            if attempt.refused or not attempt.requests:
                return spoke
            said = " ".join(attempt.said)
            messages.append(Message("assistant", said, tool_calls=tuple(attempt.requests)))
            questions: list[str] = []
            for request in attempt.requests:
                message, question = await self._call_tool(tools, request, sentences)
                messages.append(message)
                guard.learn(message.content)  # the result's numbers may be said
                if question is not None and question not in questions:
                    questions.append(question)
            if self.context.ending is not None:
                # end_call, or the caller was transferred: the model's words of this round are the last.
                self.state.ending, self.state.transfer_to = self.context.ending, self.context.transfer_to
                if not said:
                    last = self._line(self.engine.goodbye_line if self.context.ending == "hang_up" else TRANSFER_LINE)
                    sentences.put_nowait(last)
                return True
            if questions:
                # A call lacked a value only the caller can give: ask for it rather than let the model guess.
                for question in questions:
                    sentences.put_nowait(question)
                return True
        return spoke

    async def _generate(self, messages: list[Message], offered, options, guard: ReplyGuard,
                        sentences: asyncio.Queue) -> _Attempt:
        """One LLM generation; each sentence is queued for TTS once the guard lets it through."""
        attempt = _Attempt()
        tools = self.settings.tools_by_name
        splitter = SentenceSplitter()
        asked = self.engine.clock()
        # aclosing: a barge-in (or a refused sentence) stops generation now, not when the generator is collected.
        async with contextlib.aclosing(self.engine.llm.reply(messages, offered, options)) as outs:
            async for out in outs:
                if self.state.llm_first_token_ms is None:
                    self.state.llm_first_token_ms = round((self.engine.clock() - asked) * 1000)
                if isinstance(out, TextDelta):
                    for piece in splitter.push(out.text):
                        if not self._guarded(piece, guard, attempt, sentences, splitter.goes_on):
                            return attempt
                elif isinstance(out, ToolCallRequest):
                    attempt.requests.append(self._fitted(out, tools))
                elif isinstance(out, ToolCallStarting) and self._holds_early(out.name, tools):
                    # The model is writing a look-up call (about a second for a small local model),
                    # then the tool runs, then a second round answers: speak the hold line now.
                    self._hold(sentences)
        rest = splitter.flush()
        if rest:
            self._guarded(rest, guard, attempt, sentences)
        return attempt

    def _guarded(self, piece: str, guard: ReplyGuard, attempt: _Attempt, sentences: asyncio.Queue,
                 goes_on: bool | None = None) -> bool:
        """Queue `piece` if the guard lets it through; False (and the attempt marked refused) if not."""
        verdict = guard.check(piece, goes_on)
        if verdict.ok:
            attempt.said.append(verdict.text)
            sentences.put_nowait(verdict.text)
            return True
        attempt.refused = True
        self.state.guarded += 1
        log.info("reply_guarded", turn_id=self.state.turn_id, reason=verdict.reason, first=not attempt.said)
        log.debug("reply_guarded_text", turn_id=self.state.turn_id, text=piece)
        return False

    async def _call_tool(self, tools, request: ToolCallRequest,
                         sentences: asyncio.Queue) -> tuple[Message, str | None]:
        """Run one call; the tool message for the LLM, and a question for the caller if the call lacked
        a value only the caller can give (then the tool is not run)."""
        await self._released()  # nothing runs for a turn that may not be over
        turn_id = self.state.turn_id
        self.emit(ToolCall(turn_id, request.call_id, request.name, request.arguments))
        definition = tools.get(request.name)
        lacking = self.engine.tools.lacking(definition, request.arguments) if definition is not None else None
        if lacking is not None:
            name, error = lacking
            record = ToolCallRecord(request.call_id, request.name, request.arguments, error=error)
            self._record(record)
            log.info("tool_argument_asked", turn_id=turn_id, tool=request.name, argument=name)
            question = lines.ask_for(value_phrase(definition, name), self.settings.language)
            self._fixed.add(question)  # the same question on every call of this persona: cache its audio
            message = Message("tool", json.dumps({"error": error}), tool_call_id=record.call_id, name=record.name)
            return message, question
        started = time.perf_counter()
        running = asyncio.create_task(self.engine.tools.run(tools, request, self.context), name=f"tool-{request.name}")
        try:
            done, _ = await asyncio.wait({running}, timeout=self.engine.hold_after_ms / 1000)
            if not done and self._holds(definition):
                self._hold(sentences)  # a slow tool: say so rather than leave the caller in silence
            record = await asyncio.shield(running)
        except asyncio.CancelledError:
            if definition is not None and definition.cancel_on_interrupt:
                # The tool only reads (a search): stop it, and tell the next reply it never finished.
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
                record = ToolCallRecord(request.call_id, request.name, request.arguments, error=INTERRUPTED_TOOL_ERROR,
                                        duration_ms=round((time.perf_counter() - started) * 1000))
                self._record(record)
                raise
            # Barge-in (or the session ending) while the tool runs: the tool is not cancelled, since
            # it may already have acted (placed an order). Its result is kept for the interrupted
            # turn's history, so the next reply knows it and nothing is done twice (SPEC §5).
            # Bounded by the runner's timeout.
            record = await running
            self._record(record)
            raise
        self._record(record)
        content = json.dumps({"error": record.error} if record.error is not None else record.result)
        return Message("tool", content, tool_call_id=record.call_id, name=record.name), None

    def _fitted(self, request: ToolCallRequest, tools: dict[str, ToolDefinition]) -> ToolCallRequest:
        """The call with its values in the shapes the tool declares (tools/fitting.py): "415 555 0199" for a
        ten-digit phone number is the caller's number, not a reason to ask for it again."""
        definition = tools.get(request.name)
        if definition is None:
            return request
        fitted = fit_arguments(definition.parameters, request.arguments)
        if fitted == request.arguments:
            return request
        log.info("tool_arguments_fitted", turn_id=self.state.turn_id, tool=request.name,
                 fields=sorted(k for k in fitted if fitted[k] != request.arguments.get(k)))
        return dataclasses.replace(request, arguments=fitted)

    def _holds_early(self, name: str | None, tools: dict[str, ToolDefinition]) -> bool:
        """A call just begun gets the hold line if it is a look-up; before its name is out, only if
        every tool is one (a goodbye through end_call must not start with "Let me look that up")."""
        if name is None:
            return all(self._holds(t) for t in tools.values())
        return self._holds(tools.get(name))

    def _holds(self, definition: ToolDefinition | None) -> bool:
        """A slow call of this tool gets the hold line (an unknown name too: its error takes a round)."""
        return definition is None or self.engine.tools.holds(definition)

    def _hold(self, sentences: asyncio.Queue) -> None:
        """Say the hold line, at most once a reply."""
        if not self._held:
            self._held = True
            sentences.put_nowait(self._line(self.engine.hold_line))

    def _record(self, record: ToolCallRecord) -> None:
        self.state.tool_calls.append(record)
        self.emit(ToolResult(self.state.turn_id, record.call_id, record.name, record.duration_ms, record.result,
                             record.error))

    async def _speak(self, sentences: asyncio.Queue) -> None:
        rate = self.sink.sample_rate
        while (sentence := await sentences.get()) is not None:
            asked = self.engine.clock()
            first_chunk = True
            voice = self.settings.voice_id
            if sentence in self._fixed:
                speech = self.engine.lines.speak(self.engine.tts, sentence, voice, rate)
            elif is_opener(sentence):
                speech = self.engine.openers.speak(self.engine.tts, sentence, voice, rate)
            else:
                speech = self.engine.tts.speak(sentence, voice, rate)
            async with contextlib.aclosing(speech) as chunks:
                async for chunk in chunks:
                    if not chunk.pcm:
                        continue
                    duration_ms = round(len(chunk.pcm) / SAMPLE_WIDTH * 1000 / rate)
                    now = self.engine.clock()
                    if self.state.first_audio_at is None:
                        self.state.tts_first_audio_ms = round((now - asked) * 1000)
                        await self._released()  # the first audio is ready: speak it once the turn is over
                        now = self.state.first_audio_at = self.engine.clock()
                        self.emit(TurnStart("assistant", self.state.turn_id, self.state.latency_ms))
                    if self.state.answer_audio_at is None and sentence not in self._fixed:
                        self.state.answer_audio_at = now
                    self.sink.push(chunk.pcm)
                    if first_chunk:
                        self.state.timeline.add(sentence, duration_ms, chunk.words)
                        first_chunk = False
                    else:
                        self.state.timeline.extend_last(duration_ms, chunk.words)


