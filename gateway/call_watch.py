"""What the admin side sees of every live session, whatever its door: its events go to the live view
(gateway/monitor.py) as well as to the door, it is counted (gateway/metrics.py), traced when tracing is on
(gateway/telemetry.py), and, when its persona records, both sides of the audio go to a CallRecorder
(gateway/recordings.py). gateway/call_session.py makes one per LiveSession."""

from aiohttp import web

from agents.events import ErrorEvent, Event
from agents.listening import OverlapsIgnored
from agents.playout import PacedSink
from agents.ports import TurnRecord
from agents.session import SessionSettings
from gateway.app_keys import METRICS, MONITOR, RECORDINGS, TRACING
from gateway.recordings import CallRecorder
from gateway.storage import SessionRecord


class CallWatch:
    def __init__(self, app: web.Application, record: SessionRecord, settings: SessionSettings,
                 emit, sink: PacedSink) -> None:
        self.app = app
        self.session_id = record.session_id
        self.channel, self.persona = record.channel, record.persona_id
        self.sink = sink
        self._door_emit = emit
        self.recorder: CallRecorder | None = None
        if settings.recording:
            recorder = self.recorder = app[RECORDINGS].start(record.session_id)
            rate = sink.sample_rate
            sink.on_sent = lambda frame: recorder.agent(frame, rate)  # what the caller was sent, paced
        app[MONITOR].call_started(record)
        app[METRICS].call_started(record.channel, record.persona_id)
        tracing = app.get(TRACING)
        self.trace = tracing.call(record) if tracing is not None else None

    def emit(self, event: Event) -> None:
        """The conversation's events: to the door first, then to the admins watching."""
        self._door_emit(event)
        self.app[MONITOR].event(self.session_id, event)
        if isinstance(event, ErrorEvent):
            self.app[METRICS].error(event.code)

    def turn(self, turn: TurnRecord) -> None:
        """A turn was stored: counted, and traced."""
        self.app[METRICS].turn(self.channel, turn)
        if self.trace is not None:
            self.trace.turn(turn)

    async def stopped(self, reason: str | None, overlaps: OverlapsIgnored | None = None) -> None:
        """The door's connection is over: off the live view, counted, the recording written out."""
        self.app[MONITOR].call_ended(self.session_id, reason)
        self.app[METRICS].call_stopped(self.channel, self.persona, reason, self.sink.frames_sent,
                                       self.sink.frames_late, overlaps, self.sink.tick_lag, self.sink.tick_lag_ms)
        if self.trace is not None:
            self.trace.end(reason)
        if self.recorder is not None:
            recorder, self.recorder = self.recorder, None
            await self.app[RECORDINGS].finish(recorder)
