"""Running a stored session on a door, the same for every door (API stream, Twilio, SIP).

A door owns one connection and its wire (decoding audio in, pacing audio out,
mapping control); everything else about a live session is here: the session's
settings from its stored record, the Conversation built on the door's sink,
events and call control, the node's live registry (so DELETE and a call status
callback can end it), the stored status (`active`, then `ended` with its
reason) and the turns (the Conversation stores them through a TurnWriter,
which keeps the call going through a database outage).

    door = MyDoor(...)                       # has sink, emit, finish, disconnect + CallControl
    live = LiveSession(app, record, door)
    await live.start()                       # registered, active, greeting queued
    ...                                      # the door feeds live.conversation
    await live.stop("hangup")                # the call is over (None: a resumable stream went away)
"""

import asyncio
import os
import secrets
import socket
from datetime import UTC, datetime
from typing import Protocol

import structlog
from aiohttp import web

from agents.conversation import Conversation
from agents.events import EndReason, Event
from agents.ports import AudioSink, CallControl
from agents.session import History, LLMSettings, SessionSettings
from agents.tools.spec import ToolDefinition
from gateway.api.validation import CreateRequest
from gateway.app_keys import LIVE, MODELS, STORAGE
from gateway.call_watch import CallWatch
from gateway.storage import SessionRecord, StorageUnavailable, StreamOwnership
from gateway.turn_writer import TurnWriter, until_stored
from gateway.webhooks import wire_tools

log = structlog.get_logger(__name__)

_NODE = f"{socket.gethostname()}:{os.getpid()}"

# How long a door closing its connection waits for the session's end to be stored. Longer only while the
# database is unreachable: then the end (after any turns still waiting) is stored in the background.
_END_STORED_WAIT_S = 5.0


class Door(CallControl, Protocol):
    """What a door gives the session it carries, besides its CallControl (transfer, send_dtmf).

    A door never ends a session on its own initiative except when its connection is gone (`stop`);
    every other end (end_call, a transfer that went through, DELETE, a limit) is the session's: the end
    is stored, then `finish()` tells the door to carry it out."""

    sink: AudioSink  # PacedSink, paced by the door's own clock or the far end's reports of what it played

    def emit(self, event: Event) -> None:
        """Every event of the conversation, in order (the API stream sends them; a phone door may not)."""

    async def finish(self) -> None:
        """The session ended (session_ended was emitted, the end is stored): deliver what is queued,
        then end the call (unless a transfer took it) or close the connection. Called once."""

    async def disconnect(self, message: str) -> None:
        """Drop the connection now (server shutdown, a newer connection took over the session)."""


def session_settings(record: SessionRecord) -> SessionSettings:
    """The engine's settings of a stored session (what create, or a persona, decided)."""
    return settings_of(record.session_id, record.settings)


def settings_of(session_id: str, s: dict) -> SessionSettings:
    """The engine's settings from a session's stored settings (CreateRequest.settings())."""
    return SessionSettings(
        session_id=session_id, voice_id=s["voice_id"], system_prompt=s["system_prompt"],
        language=s["language"], tools=tuple(ToolDefinition(**t) for t in s["tools"]),
        context_window=s["context_window"], max_turns=s["max_turns"], greeting=s.get("greeting"),
        transfer_targets=tuple(s.get("transfer_targets") or ()), vad_threshold=s.get("vad_threshold"),
        llm=LLMSettings(**(s.get("llm") or {})), recording=bool(s.get("recording")),
        vocabulary=tuple(s.get("vocabulary") or ()), asr_model=(s.get("asr") or {}).get("model"),
        noise_suppression=bool(s.get("noise_suppression")),
    )


def phone_session_record(request: CreateRequest, channel: str, caller: str | None, called: str | None,
                         call_sid: str | None, *, owner_key_id: str | None = None,
                         metadata: dict | None = None) -> SessionRecord:
    """A new (`ready`, not yet stored) session for a phone call as routed: the persona's settings, the
    call's parties and id. `metadata` defaults to the persona's; an outbound call may give its own."""
    now = datetime.now(UTC)
    return SessionRecord(
        session_id="conv_" + secrets.token_hex(8), owner_key_id=owner_key_id, status="ready",
        settings=request.settings(), created_at=now, last_activity_at=now, channel=channel,
        metadata=metadata if metadata is not None else request.metadata, persona_id=request.persona_id,
        caller=caller, called=called, call_sid=call_sid,
    )


class LiveSession:
    """One stored session running on this node: its Conversation and the door carrying it.

    Lives in app[LIVE] from `start()` to `stop()`. When the conversation ends
    (end_call, max_turns, idle timeout, DELETE, a status callback) the end is
    stored and the door told to `finish()`.
    """

    def __init__(self, app: web.Application, record: SessionRecord, door: Door,
                 vad_threshold: float | None = None) -> None:
        self.app = app
        self.record = record
        self.door = door
        self.vad_threshold = vad_threshold
        self.conversation: Conversation | None = None
        self.turns: TurnWriter | None = None  # made by start()
        self.owner = f"{_NODE}:{secrets.token_hex(4)}"  # this connection, as the stored stream owner
        self.took_stream = False  # it is the stored owner (start()); gateway/stream_owners.py watches it from then on
        self._lost: asyncio.Task | None = None  # acting on what another node did: stop() must not cancel it
        self._watcher: asyncio.Task | None = None
        self._recorded: asyncio.Future | None = None
        self._stopped = False
        self._watch: CallWatch | None = None

    @property
    def session_id(self) -> str:
        return self.record.session_id

    async def claim(self) -> None:
        """Take the session over on this node: a connection still carrying it (a client reconnecting
        after its connection died) is dropped. `start()` claims it if this was not done before."""
        live = self.app[LIVE]
        previous = live.get(self.session_id)
        if previous is not None and previous is not self:
            await previous.disconnect("replaced by a new connection")
        live[self.session_id] = self

    async def start(self, history: History | None = None) -> Conversation:
        """Mark the session active and start its conversation (a greeting is queued at once).
        `history` defaults to the stored turns."""
        app, storage = self.app, self.app[STORAGE]
        wire_tools(app)  # normally done as the models turned ready; cheap to make sure
        if app[LIVE].get(self.session_id) is not self:
            await self.claim()
        if history is None:
            history = History.of(await storage.list_turns(self.session_id), self.record.last_turn_number)
        door = self.door
        # No threshold given: the Conversation's own default (the session's, else the gateway's).
        threshold = {} if self.vad_threshold is None else {"vad_threshold": self.vad_threshold}
        settings = session_settings(self.record)
        watch = self._watch = CallWatch(app, self.record, settings, door.emit, door.sink)  # live view, recording
        self.turns = TurnWriter(storage, on_turn=watch.turn)  # counted and traced as stored
        conversation = self.conversation = Conversation(
            app[MODELS].engine, settings, history, door.sink, watch.emit, self.turns,
            control=door, recorder=watch.recorder, **threshold,
        )
        await storage.take_stream(self.session_id, self.owner)  # a connection on another node lets go of it
        self.took_stream = True
        await storage.set_session_status(self.session_id, "active", started_at=datetime.now(UTC))
        conversation.start()
        self._watcher = asyncio.create_task(self._finish_when_ended(), name=f"live-{self.session_id}")
        return conversation

    @property
    def watched(self) -> bool:
        """Whether gateway/stream_owners.py should still check this session against the database."""
        return self.took_stream and not self._stopped and self._lost is None

    def lost(self, state: StreamOwnership) -> None:
        """What happened to the session elsewhere (gateway/stream_owners.py found it): taken over by a newer
        connection (drop this one, as `claim` does on one node), or ended (end the conversation the same way)."""
        if self._lost is not None or self._stopped:
            return
        if self.conversation is not None and self.conversation.ended.is_set():
            return  # ended here (its end is what the row says): the door is finishing the call
        if state.end_reason is not None:
            log.info("session_ended_elsewhere", session_id=self.session_id, reason=state.end_reason)
            action = self.end(state.end_reason)
        else:
            log.info("stream_taken_over", session_id=self.session_id)
            action = self.disconnect("replaced by a new connection")
        # stop(), which the door calls as its connection closes, lets this finish.
        self._lost = asyncio.create_task(action, name=f"lost-{self.session_id}")

    async def end(self, reason: EndReason) -> None:
        """End the session from outside (DELETE, a call status callback): session_ended goes out,
        the end is stored, then the door finishes the call."""
        if self.conversation is not None:
            await self.conversation.end(reason)

    async def disconnect(self, message: str) -> None:
        await self.door.disconnect(message)

    async def record_end(self) -> None:
        """Store the end (status ended, its reason) once the conversation has ended with a reason; once,
        whoever asks first. A door that closes its connection itself awaits this first, so a client that
        sees the close finds the session ended."""
        conversation = self.conversation
        if conversation is None or conversation.end_reason is None:
            return
        if self._recorded is None:
            self._recorded = asyncio.ensure_future(self._store_end(conversation.end_reason, datetime.now(UTC)))
        try:
            await asyncio.wait_for(asyncio.shield(self._recorded), _END_STORED_WAIT_S)
        except TimeoutError:
            log.warning("session_end_stored_later", session_id=self.session_id,
                        turns_waiting=self.turns.waiting if self.turns is not None else 0)

    async def _store_end(self, reason: EndReason, ended_at: datetime) -> None:
        if self.turns is not None:
            await self.turns.drained()  # its turns first: an ended session's history is whole
        storage = self.app[STORAGE]
        await until_stored(lambda: storage.set_session_status(self.session_id, "ended", ended_at=ended_at,
                                                              end_reason=reason), "session end")

    async def stop(self, reason: EndReason | None) -> None:
        """The door's connection is over. A call is over for good: end the session with `reason`; a
        resumable stream (reason None) only closes it, emitting nothing. Stores the end, leaves the
        registry; safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        conversation = self.conversation
        if self._watcher is not None:
            self._watcher.cancel()
        if conversation is not None and not conversation.ended.is_set():
            if reason is not None:
                await conversation.end(reason)
            else:
                await conversation.close()
        await self.door.sink.aclose()
        await asyncio.gather(*[t for t in (self._watcher,) if t is not None], return_exceptions=True)
        await self.record_end()
        if self._watch is not None:
            await self._watch.stopped(conversation.end_reason if conversation is not None else None,
                                      conversation.overlaps_ignored if conversation is not None else None)
        if self.conversation is not None:  # started: it took the stream
            try:
                await self.app[STORAGE].release_stream(self.session_id, self.owner)
            except StorageUnavailable:
                pass  # a newer connection takes it over anyway
        live = self.app[LIVE]
        if live.get(self.session_id) is self:
            del live[self.session_id]

    async def _finish_when_ended(self) -> None:
        assert self.conversation is not None
        await self.conversation.ended.wait()
        if self.conversation.end_reason is None:
            return  # closed by the door, not ended
        await self.record_end()
        await self.door.finish()
