"""What runs on this node right now, for the admin's live view: each live call and its events so far.

gateway/call_session.py tells the Monitor when a call starts, each event its conversation emits
(never audio: nothing per frame) and when it stops; subscribers (gateway/admin/live.py) get
`call_started`, `event` and `call_ended` messages. All methods run on the event loop, no await.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from agents.events import Event
from gateway.storage import SessionRecord

log = structlog.get_logger(__name__)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


MAX_EVENTS = 400  # events kept per live call for late joiners; the full history is stored anyway
_KEPT = frozenset({"turn_start", "transcript", "tool_call", "tool_result", "interruption", "turn_end"})
QUEUE_SIZE = 1000  # messages a slow subscriber may fall behind before it is dropped (its browser reconnects)


@dataclass
class LiveCall:
    session_id: str
    channel: str
    persona_id: str | None
    caller: str | None
    called: str | None
    started_at: datetime
    events: list[dict] = field(default_factory=list)  # what a console joining mid-call replays

    def to_wire(self, with_events: bool = True) -> dict:
        wire = {"session_id": self.session_id, "channel": self.channel, "persona_id": self.persona_id,
                "caller": self.caller, "called": self.called, "started_at": _iso(self.started_at),
                "duration_ms": round((datetime.now(UTC) - self.started_at).total_seconds() * 1000)}
        if with_events:
            wire["events"] = list(self.events)
        return wire

    def note(self, event: dict) -> None:
        """Keep the conversation so far (final transcripts, turns, tools, interruptions; no partials)."""
        kind = event["type"]
        if kind in _KEPT and (kind != "transcript" or event["is_final"]):
            self.events.append(event)
            del self.events[:-MAX_EVENTS]


class Monitor:
    """This node's live calls and the admins following them. All methods run on the event loop, no await."""

    def __init__(self) -> None:
        self.calls: dict[str, LiveCall] = {}
        self._subscribers: set[asyncio.Queue] = set()

    def call_started(self, record: SessionRecord) -> None:
        call = self.calls.get(record.session_id)
        if call is None:  # a resumed stream keeps what was already shown
            call = self.calls[record.session_id] = LiveCall(record.session_id, record.channel, record.persona_id,
                                                            record.caller, record.called, datetime.now(UTC))
        self._publish({"type": "call_started", "call": call.to_wire(with_events=False)})

    def event(self, session_id: str, event: Event) -> None:
        call = self.calls.get(session_id)
        if call is None:
            return
        wire = event.to_wire()
        call.note(wire)
        if self._subscribers:
            self._publish({"type": "event", "session_id": session_id, "event": wire})

    def call_ended(self, session_id: str, reason: str | None) -> None:
        if self.calls.pop(session_id, None) is not None:
            self._publish({"type": "call_ended", "session_id": session_id, "reason": reason})

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._subscribers.discard(queue)

    def snapshot(self) -> list[dict]:
        return [call.to_wire() for call in sorted(self.calls.values(), key=lambda c: c.started_at)]

    def close(self) -> None:
        """Shutdown: every feed ends."""
        for queue in list(self._subscribers):
            self._end(queue)

    def _publish(self, message: dict) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:  # too slow: end its feed rather than hold memory; its browser reconnects
                log.warning("live_subscriber_dropped")
                self._end(queue)

    def _end(self, queue: asyncio.Queue) -> None:
        self._subscribers.discard(queue)
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)  # the feed's handler stops on None
