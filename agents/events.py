"""The events a conversation emits (SPEC §4), one frozen dataclass each, field names as on the wire."""

from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["user", "assistant"]


@dataclass(frozen=True, slots=True)
class SessionStarted:
    session_id: str
    resumed: bool
    last_turn_id: str | None
    type = "session_started"

    def to_wire(self) -> dict:
        return {"type": self.type, "session_id": self.session_id, "resumed": self.resumed,
                "last_turn_id": self.last_turn_id}


@dataclass(frozen=True, slots=True)
class TurnStart:
    role: Role
    turn_id: str
    latency_ms: int | None = None  # assistant only: end of user speech -> first audio byte sent
    type = "turn_start"

    def to_wire(self) -> dict:
        wire = {"type": self.type, "role": self.role, "turn_id": self.turn_id}
        if self.role == "assistant":
            wire["latency_ms"] = self.latency_ms
        return wire


@dataclass(frozen=True, slots=True)
class Transcript:
    role: Role
    text: str
    is_final: bool
    turn_id: str
    type = "transcript"

    def to_wire(self) -> dict:
        return {"type": self.type, "role": self.role, "text": self.text, "is_final": self.is_final,
                "turn_id": self.turn_id}


@dataclass(frozen=True, slots=True)
class ToolCall:
    turn_id: str
    call_id: str
    name: str
    arguments: dict
    type = "tool_call"

    def to_wire(self) -> dict:
        return {"type": self.type, "turn_id": self.turn_id, "call_id": self.call_id, "name": self.name,
                "arguments": self.arguments}


@dataclass(frozen=True, slots=True)
class ToolResult:
    turn_id: str
    call_id: str
    name: str
    duration_ms: int
    result: Any = None
    error: str | None = None
    type = "tool_result"

    def to_wire(self) -> dict:
        wire = {"type": self.type, "turn_id": self.turn_id, "call_id": self.call_id, "name": self.name,
                "duration_ms": self.duration_ms}
        if self.error is not None:
            wire["error"] = self.error
        else:
            wire["result"] = self.result
        return wire


@dataclass(frozen=True, slots=True)
class Interruption:
    turn_id: str
    played_ms: int
    text: str  # what the caller actually heard of the reply
    type = "interruption"

    def to_wire(self) -> dict:
        return {"type": self.type, "turn_id": self.turn_id, "played_ms": self.played_ms, "text": self.text}


@dataclass(frozen=True, slots=True)
class TurnEnd:
    role: Role
    turn_id: str
    duration_ms: int
    interrupted: bool = False
    type = "turn_end"

    def to_wire(self) -> dict:
        wire = {"type": self.type, "role": self.role, "turn_id": self.turn_id, "duration_ms": self.duration_ms}
        if self.role == "assistant":
            wire["interrupted"] = self.interrupted
        return wire


EndReason = Literal["deleted", "max_turns", "hangup", "idle_timeout", "error"]


@dataclass(frozen=True, slots=True)
class SessionEnded:
    reason: EndReason
    total_turns: int
    type = "session_ended"

    def to_wire(self) -> dict:
        return {"type": self.type, "reason": self.reason, "total_turns": self.total_turns}


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    code: str
    message: str
    type = "error"

    def to_wire(self) -> dict:
        return {"type": self.type, "code": self.code, "message": self.message}


Event = (SessionStarted | TurnStart | Transcript | ToolCall | ToolResult | Interruption | TurnEnd
         | SessionEnded | ErrorEvent)
