"""GET /metrics (an admin key): this node's calls, turns and latencies in Prometheus' text format
(prometheus-client).

One registry per application, not the library's process-global one: two gateways in one process (tests)
count apart. What is counted, and where: calls as a session starts and stops on a door (gateway/call_watch.py),
turns as they are stored (gateway/turn_writer.py), with their latency breakdown, interruptions and tool calls,
errors as clients are told of them (gateway/errors.py, a stream's error events), SIP INVITEs by the answer
given (gateway/sip_calls.py) and outbound audio frames sent late (the door's PacedSink).
"""

from aiohttp import web
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector,
                               generate_latest)
from prometheus_client.core import HistogramMetricFamily

from agents.listening import OverlapsIgnored
from agents.playout import TICK_LAG_BUCKETS_MS
from agents.ports import TurnRecord

# Seconds: the range a phone conversation's delays live in (a reply under 0.5 s is quick, over 3 s is broken).
_DELAYS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)
_NONE = "none"  # label value for "no persona" (API sessions made from fields)


class TickLag:
    """parley_outbound_tick_lag_seconds: how late the outbound audio clocks woke for their 40 ms ticks, by
    channel. Each call's PacedSink counts its own ticks in fixed buckets (a tick is too frequent to observe one by
    one into a Histogram: 25 a second per talking call); they are added here as the call stops."""

    def __init__(self) -> None:
        self._counts: dict[str, list[int]] = {}
        self._sums: dict[str, float] = {}

    def add(self, channel: str, counts: list[int], sum_ms: float) -> None:
        total = self._counts.setdefault(channel, [0] * (len(TICK_LAG_BUCKETS_MS) + 1))
        for i, n in enumerate(counts):
            total[i] += n
        self._sums[channel] = self._sums.get(channel, 0.0) + sum_ms

    def collect(self):
        family = HistogramMetricFamily("parley_outbound_tick_lag_seconds", "How late the outbound audio clock woke "
                                       "for a tick (an event loop too busy to keep time), counted as calls stop.",
                                       labels=["channel"])
        for channel, counts in sorted(self._counts.items()):
            cumulative, buckets = 0, []
            for bound, n in zip((*TICK_LAG_BUCKETS_MS, None), counts):
                cumulative += n
                buckets.append(("+Inf" if bound is None else str(bound / 1000), cumulative))
            family.add_metric([channel], buckets, self._sums[channel] / 1000)
        yield family


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.calls_active = Gauge("parley_calls_active", "Sessions live on a door of this node.",
                                  ["channel", "persona"], registry=r)
        self.calls_started = Counter("parley_calls_started", "Sessions started on a door (a resumed stream again).",
                                     ["channel", "persona"], registry=r)
        self.calls_ended = Counter("parley_calls_ended", "Sessions ended, by why.", ["channel", "reason"], registry=r)
        self.turns = Counter("parley_turns", "Turns stored.", ["channel", "role"], registry=r)
        self.interruptions = Counter("parley_interruptions", "Replies the caller talked over (cut).", ["channel"],
                                     registry=r)
        self.overlaps_ignored = Counter("parley_overlaps_ignored", "Caller sound over a reply that did not cut it: "
                                        "a listener's word (\"mm-hmm\") or noise; counted as its call stops.",
                                        ["channel", "kind"], registry=r)
        self.tool_calls = Counter("parley_tool_calls", "Tool calls, by tool and outcome (ok or error).",
                                  ["tool", "outcome"], registry=r)
        self.errors = Counter("parley_errors", "Errors clients were told of (HTTP error bodies, stream error "
                              "events), by code.", ["code"], registry=r)
        self.sip_invites = Counter("parley_sip_invites", "Incoming SIP INVITEs, by the status code answered.",
                                   ["code"], registry=r)
        self.frames_sent = Counter("parley_outbound_frames", "Audio frames sent to callers.", ["channel"], registry=r)
        self.frames_late = Counter("parley_outbound_frames_late", "Audio frames sent after the caller's player "
                                   "should have started playing them (it ran dry).", ["channel"], registry=r)

        self.tick_lag = TickLag()
        r.register(self.tick_lag)
        ProcessCollector(registry=r)  # process_cpu_seconds_total, process_resident_memory_bytes (parley bench capacity)

        def delay(name: str, what: str) -> Histogram:
            return Histogram(name, what, ["channel"], buckets=_DELAYS, registry=r)

        self.first_audio = delay("parley_first_audio_seconds", "End of the caller's speech to the reply's first "
                                 "audio sent (a hold line counts).")
        self.answer_first_audio = delay("parley_answer_first_audio_seconds", "End of the caller's speech to the "
                                        "first audio of the answer itself.")
        self.end_of_turn = delay("parley_end_of_turn_delay_seconds", "End of the caller's speech to the turn "
                                 "judged over.")
        self.asr = delay("parley_asr_seconds", "The final transcript of a turn took.")
        self.llm_first_token = delay("parley_llm_first_token_seconds", "The model's first token took.")
        self.tts_first_audio = delay("parley_tts_first_audio_seconds", "The voice's first audio took.")

    def call_started(self, channel: str, persona: str | None) -> None:
        self.calls_started.labels(channel, persona or _NONE).inc()
        self.calls_active.labels(channel, persona or _NONE).inc()

    def call_stopped(self, channel: str, persona: str | None, reason: str | None, frames_sent: int,
                     frames_late: int, overlaps: OverlapsIgnored | None = None, tick_lag: list[int] = (),
                     tick_lag_ms: float = 0.0) -> None:
        """The door's connection is over; `reason` None: a stream that may be resumed, not an end."""
        self.calls_active.labels(channel, persona or _NONE).dec()
        if reason is not None:
            self.calls_ended.labels(channel, reason).inc()
        self.frames_sent.labels(channel).inc(frames_sent)
        self.frames_late.labels(channel).inc(frames_late)
        if any(tick_lag):
            self.tick_lag.add(channel, tick_lag, tick_lag_ms)
        if overlaps is not None:
            self.overlaps_ignored.labels(channel, "listener_sound").inc(overlaps.listener_sounds)
            self.overlaps_ignored.labels(channel, "noise").inc(overlaps.noise)

    def turn(self, channel: str, turn: TurnRecord) -> None:
        self.turns.labels(channel, turn.role).inc()
        if turn.role != "assistant":
            return
        if turn.interrupted:
            self.interruptions.labels(channel).inc()
        for call in turn.tool_calls:
            self.tool_calls.labels(call.name, "error" if call.error else "ok").inc()
        for histogram, ms in ((self.first_audio, turn.latency_ms), (self.answer_first_audio, turn.answer_latency_ms),
                              (self.end_of_turn, turn.endpoint_ms), (self.asr, turn.asr_ms),
                              (self.llm_first_token, turn.llm_first_token_ms),
                              (self.tts_first_audio, turn.tts_first_audio_ms)):
            if ms is not None:
                histogram.labels(channel).observe(ms / 1000)

    def error(self, code: str) -> None:
        self.errors.labels(code).inc()

    def sip_invite(self, status_code: int) -> None:
        self.sip_invites.labels(str(status_code)).inc()

    def response(self) -> web.Response:
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})
