"""Optional OpenTelemetry traces (`[telemetry] traces_endpoint`): a span for each call (a session on a door,
from the stream's start to its stop) and, inside it, a span for each turn, with the turn's latency breakdown
as attributes and its tool calls as events. Sent over OTLP/HTTP by the SDK's batch processor (its own
thread: the event loop never waits on the collector). Nothing is imported unless an endpoint is set.

No words and no phone numbers leave in spans: ids, timings, outcomes only. One tracer provider per
application, not the SDK's global one (two gateways in one process, as in tests, trace apart).
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

import structlog
from aiohttp import web

from agents.ports import TurnRecord
from gateway.app_keys import CONFIG, TRACING
from gateway.storage import SessionRecord

log = structlog.get_logger(__name__)

_TURN_FIGURES = ("latency_ms", "answer_latency_ms", "endpoint_ms", "asr_ms", "llm_first_token_ms",
                 "tts_first_audio_ms")


def _ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1e9)


class Tracing:
    """The application's tracer provider, exporting to one OTLP/HTTP endpoint."""

    def __init__(self, endpoint: str, service_name: str) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self.provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        self.tracer = self.provider.get_tracer("parley")
        self.open: set[CallTrace] = set()  # calls whose span has not ended yet

    def call(self, record: SessionRecord) -> "CallTrace":
        trace = CallTrace(self.tracer, record, self.open.discard)
        self.open.add(trace)
        return trace

    def shutdown(self) -> None:
        """End the spans of calls cut short by the shutdown, send what is still batched, then stop (blocking:
        run it in a thread)."""
        for trace in list(self.open):
            trace.end("gateway_stopped")
        self.provider.shutdown()


class CallTrace:
    """One call's span, and its turns' spans inside it."""

    def __init__(self, tracer, record: SessionRecord, on_end=None) -> None:
        attributes = {"parley.session_id": record.session_id, "parley.channel": record.channel}
        if record.persona_id:
            attributes["parley.persona_id"] = record.persona_id
        if record.call_sid:
            attributes["parley.call_id"] = record.call_sid
        from opentelemetry import trace

        self.tracer = tracer
        self._on_end = on_end
        self.span = tracer.start_span(f"call {record.channel}", attributes=attributes)
        self._inside = trace.set_span_in_context(self.span)  # where its turns' spans go

    def turn(self, turn: TurnRecord) -> None:
        attributes = {"parley.turn_id": turn.turn_id, "parley.role": turn.role}
        if turn.role == "assistant":
            attributes["parley.interrupted"] = turn.interrupted
            attributes["parley.guarded"] = turn.guarded
            attributes.update({f"parley.{name}": getattr(turn, name) for name in _TURN_FIGURES
                               if getattr(turn, name) is not None})
        start = _ns(turn.timestamp)
        span = self.tracer.start_span(f"{turn.role} turn", context=self._inside, start_time=start,
                                      attributes=attributes)
        for call in turn.tool_calls:
            span.add_event("tool_call", {"parley.tool": call.name, "parley.duration_ms": call.duration_ms,
                                         "parley.outcome": "error" if call.error else "ok"})
        span.end(end_time=start + turn.duration_ms * 1_000_000)

    def end(self, reason: str | None) -> None:
        """The door's connection is over; `reason` None: a stream that may be resumed."""
        self.span.set_attribute("parley.end_reason", reason or "disconnected")
        self.span.end()
        if self._on_end is not None:
            self._on_end(self)


async def tracing_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[CONFIG].telemetry
    app[TRACING] = None
    if settings.traces_endpoint:
        app[TRACING] = Tracing(settings.traces_endpoint, settings.service_name)
        log.info("tracing", endpoint=settings.traces_endpoint)
    yield
    if app[TRACING] is not None:
        await asyncio.to_thread(app[TRACING].shutdown)
