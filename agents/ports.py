"""What the engine needs from the outside: doors (audio out, events, call control) and storage.

Doors and the gateway implement these by shape (Protocols), so test fakes need no base class.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from agents.events import Event


@dataclass(frozen=True, slots=True)
class Playout:
    """How a reply segment ended at the listener: `played_ms` of it heard, cut short or not."""

    played_ms: int
    interrupted: bool


class AudioSink(Protocol):
    """Where a conversation's speech goes (STYLE §2: the playback contract).

    `push` may run ahead of real time (the door paces); `end_segment` marks a
    reply fully queued; `clear` drops everything queued and tells the far end
    to flush (barge-in); `played` resolves once the segment is heard out or cleared;
    `pause`/`resume` hold a reply while the engine decides whether the caller really interrupted.
    """

    sample_rate: int

    def push(self, pcm: bytes) -> None: ...

    def end_segment(self) -> int: ...

    def clear(self) -> None: ...

    def played_ms(self) -> int:
        """Audio of the current segment heard so far."""

    async def played(self, segment: int) -> Playout: ...

    def pause(self) -> None:
        """Stop playing now, keep what is queued (the caller may only be saying "mm-hmm")."""

    def resume(self) -> None:
        """Play on from where the listener stopped hearing."""

    def output_level(self) -> int:
        """How loud (pcm16 RMS) the audio sent in the last ~0.6 s was: the echo gate's reference."""

    async def aclose(self) -> None:
        """The call is over: stop sending (what is queued is dropped)."""


class EventSink(Protocol):
    def __call__(self, event: Event) -> None: ...


class Recorder(Protocol):
    """Keeps both sides of a call (a persona with recording on). Called on the frame path: cheap, no await."""

    def caller(self, pcm: bytes) -> None:
        """Caller audio as fed to the conversation: pcm16 at 16 kHz."""

    def agent(self, pcm: bytes, sample_rate: int) -> None:
        """One frame of the assistant's speech as the door sends it (pcm16 at the door's rate)."""


class CallControlError(Exception):
    """The door cannot do what was asked ("not available on the api channel") or it failed.

    str(exc) is written for the LLM: it becomes the call-control tool's error result.
    """


class CallControl(Protocol):
    """What the engine may ask of the call itself; each door implements it for its wire (SPEC §2).

    The engine calls these from the conversation's tasks (built-in tools transfer_call and
    send_dtmf) and raises CallControlError when the door cannot. Ending the call is not here: the
    session ends (end_call, a transfer that went through, DELETE, a limit) and the session's runner
    stores the end and then tells the door to finish (gateway/call_session.py), one path for every door.
    """

    def check_transfer(self) -> None:
        """Raise CallControlError if this call cannot be transferred at all (the api channel, Twilio
        without REST credentials): transfer_call then fails before the agent says it is transferring."""

    async def transfer(self, target: str) -> None:
        """Move the caller to `target` (E.164 number or sip: URI, already checked against the session's
        transfer_targets). Called once the reply announcing it has been heard out, like a hang-up.
        Returns once the call is the target's (the session then ends); CallControlError if it did not
        go through (refused, busy, no answer): the caller is still on the line and is told so."""

    async def send_dtmf(self, digits: str) -> None:
        """Play key presses (0-9 * # A-D) to the far end, e.g. to drive another IVR."""


@dataclass(slots=True)
class ToolCallRecord:
    call_id: str
    name: str
    arguments: dict
    result: Any = None
    error: str | None = None
    duration_ms: int = 0

    def to_wire(self) -> dict:
        wire = {"call_id": self.call_id, "name": self.name, "arguments": self.arguments,
                "duration_ms": self.duration_ms}
        if self.error is not None:
            wire["error"] = self.error
        else:
            wire["result"] = self.result
        return wire


@dataclass(slots=True)
class TurnRecord:
    """One completed turn as stored and replayed (SPEC §3 history entry plus the latency breakdown)."""

    turn_id: str
    role: str
    text: str
    timestamp: datetime
    duration_ms: int
    latency_ms: int | None = None
    interrupted: bool = False
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    endpoint_ms: int | None = None  # end of speech -> the VAD decided the turn was over
    asr_ms: int | None = None  # the ASR final transcript took
    llm_first_token_ms: int | None = None
    tts_first_audio_ms: int | None = None
    guarded: int = 0  # sentences of model text the reply guard refused before they were spoken
    answer_latency_ms: int | None = None  # end of speech -> first audio of the answer (after any hold line)

    def to_wire(self) -> dict:
        wire = {"turn_id": self.turn_id, "role": self.role, "text": self.text,
                "timestamp": self.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"), "duration_ms": self.duration_ms}
        if self.role == "assistant":
            wire["latency_ms"] = self.latency_ms
            wire["answer_latency_ms"] = self.answer_latency_ms
            wire["interrupted"] = self.interrupted
            wire["tool_calls"] = [call.to_wire() for call in self.tool_calls]
            wire["latency_breakdown"] = {"endpoint_ms": self.endpoint_ms, "asr_ms": self.asr_ms,
                                         "llm_first_token_ms": self.llm_first_token_ms,
                                         "tts_first_audio_ms": self.tts_first_audio_ms}
            wire["guarded"] = self.guarded
        return wire


class TurnStore(Protocol):
    """Persists turns; `save_turn` returns once the turn is committed (before its turn_end is sent)."""

    async def save_turn(self, session_id: str, turn: TurnRecord) -> None: ...
