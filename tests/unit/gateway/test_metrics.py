"""What GET /metrics counts of calls and turns, on a registry of the application's own."""

from datetime import UTC, datetime

from agents.ports import ToolCallRecord, TurnRecord
from gateway.metrics import Metrics


def test_a_turn_counts_its_latencies_interruption_and_tool_calls():
    metrics = Metrics()
    now = datetime.now(UTC)
    metrics.turn("twilio", TurnRecord("turn_001", "user", "where is 1234", now, 1500))
    calls = [ToolCallRecord("call_1", "lookup_order", {"order_id": "1234"}, {"status": "shipped"}, None, 12),
             ToolCallRecord("call_2", "transfer_call", {"target": "x"}, None, "not an allowed target", 1)]
    metrics.turn("twilio", TurnRecord("turn_002", "assistant", "It shipped.", now, 900, latency_ms=640,
                                      interrupted=True, tool_calls=calls, endpoint_ms=250, asr_ms=120,
                                      llm_first_token_ms=300, tts_first_audio_ms=80, answer_latency_ms=1900))
    value = metrics.registry.get_sample_value
    assert value("parley_turns_total", {"channel": "twilio", "role": "user"}) == 1
    assert value("parley_turns_total", {"channel": "twilio", "role": "assistant"}) == 1
    assert value("parley_interruptions_total", {"channel": "twilio"}) == 1
    assert value("parley_tool_calls_total", {"tool": "lookup_order", "outcome": "ok"}) == 1
    assert value("parley_tool_calls_total", {"tool": "transfer_call", "outcome": "error"}) == 1
    assert value("parley_first_audio_seconds_sum", {"channel": "twilio"}) == 0.64
    assert value("parley_first_audio_seconds_bucket", {"channel": "twilio", "le": "0.6"}) == 0
    assert value("parley_first_audio_seconds_bucket", {"channel": "twilio", "le": "0.8"}) == 1
    assert value("parley_answer_first_audio_seconds_sum", {"channel": "twilio"}) == 1.9
    assert value("parley_end_of_turn_delay_seconds_count", {"channel": "twilio"}) == 1
    assert value("parley_asr_seconds_sum", {"channel": "twilio"}) == 0.12


def test_live_calls_go_up_and_down_and_only_an_end_counts_as_ended():
    metrics = Metrics()
    metrics.call_started("sip", "front")
    metrics.call_started("api", None)
    value = metrics.registry.get_sample_value
    assert value("parley_calls_active", {"channel": "sip", "persona": "front"}) == 1
    metrics.call_stopped("api", None, None, frames_sent=100, frames_late=0)  # a stream that may be resumed
    metrics.call_stopped("sip", "front", "hangup", frames_sent=250, frames_late=3)
    assert value("parley_calls_active", {"channel": "sip", "persona": "front"}) == 0
    assert value("parley_calls_active", {"channel": "api", "persona": "none"}) == 0
    assert value("parley_calls_ended_total", {"channel": "sip", "reason": "hangup"}) == 1
    assert value("parley_calls_ended_total", {"channel": "api", "reason": "hangup"}) is None
    assert value("parley_outbound_frames_late_total", {"channel": "sip"}) == 3
    assert value("parley_calls_started_total", {"channel": "api", "persona": "none"}) == 1


def test_two_applications_count_apart():
    first, second = Metrics(), Metrics()
    first.error("unauthorized")
    assert first.registry.get_sample_value("parley_errors_total", {"code": "unauthorized"}) == 1
    assert second.registry.get_sample_value("parley_errors_total", {"code": "unauthorized"}) is None


def test_the_outbound_clocks_lag_adds_up_over_calls_and_the_process_is_measured():
    metrics = Metrics()
    value = metrics.registry.get_sample_value
    assert value("parley_outbound_tick_lag_seconds_count", {"channel": "twilio"}) is None  # no call yet
    lag = [90, 5, 3, 0, 0, 0, 1, 0, 1]  # ticks woken within 1, 2, 5, ... 250 ms, and later still
    metrics.call_stopped("twilio", None, "hangup", frames_sent=500, frames_late=0, tick_lag=lag, tick_lag_ms=400.0)
    metrics.call_stopped("twilio", None, "hangup", frames_sent=500, frames_late=0, tick_lag=lag, tick_lag_ms=400.0)
    assert value("parley_outbound_tick_lag_seconds_bucket", {"channel": "twilio", "le": "0.001"}) == 180
    assert value("parley_outbound_tick_lag_seconds_bucket", {"channel": "twilio", "le": "0.005"}) == 196
    assert value("parley_outbound_tick_lag_seconds_bucket", {"channel": "twilio", "le": "+Inf"}) == 200
    assert value("parley_outbound_tick_lag_seconds_sum", {"channel": "twilio"}) == 0.8
    assert value("process_cpu_seconds_total") > 0 and value("process_resident_memory_bytes") > 0
