"""The Twilio door with a scripted engine: greeting, pacing, marks, clear on barge-in, DTMF, hang-up and
transfer through the REST stand-in, status callbacks and stop, bad input."""

import asyncio
import json
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from agents.lines import TRANSFER_FAILED
from agents.reply import TRANSFER_LINE
from gateway.storage import RouteRecord
from media.dtmf import GAP_MS, TONE_MS
from tests.fakes.engine import speech, tool_call
from tests.unit.media.test_dtmf import heard_keys
from tests.twilio_phone import RATE, TwilioPhone

WORDS_60 = " ".join(["word"] * 59) + "."  # 3 s of FakeTTS speech


def ms(pcm_bytes: int) -> int:
    return pcm_bytes * 1000 // (RATE * 2)


async def history(gateway, session_id: str) -> list:
    return await gateway.storage.list_turns(session_id)


async def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {what} within {timeout} s")


async def ended(gateway, session_id: str):
    async def check():
        record = await gateway.storage.get_session(session_id)
        return record if record.status == "ended" else None
    return await wait_for(check, what="ended session")


@pytest.mark.parametrize("persona", [{"voice_id": "fake_voice", "system_prompt": "Be brief.", "greeting": WORDS_60}])
async def test_greeting_is_paced_a_little_ahead_and_a_barge_in_clears_it_where_the_caller_was(gateway, persona):
    gateway.asr.transcripts = ["wait, I have a question"]
    async with gateway.phone() as phone:
        await phone.ring()
        await phone.connect()
        await phone.wait_until(lambda: ms(len(phone.played)) >= 1000, what="a second of greeting")
        first = phone.received[0][0]
        ahead = [sum(n for _, n in phone.received[: i + 1]) * 1000 // (RATE * 2) - (t - first) * 1000
                 for i, (t, _) in enumerate(phone.received)]
        phone.say(speech(800, RATE))
        await phone.wait_until(lambda: phone.clears, timeout=5, what="clear")
        clear_after_ms = (phone.clears[0] - phone.speech_started_at) * 1000
        heard_ms = ms(phone.played_at_clear[0])
        turns = await wait_for(lambda: history(gateway, phone.session_id), what="stored greeting")
    greeting = turns[0]
    print(f"sent ahead of playback: max {max(ahead):.0f} ms; clear {clear_after_ms:.0f} ms after speech; "
          f"heard {heard_ms} ms, stored {greeting.duration_ms} ms")
    assert max(ahead) <= 200 + 60  # [twilio] lead_ms plus a tick: not the whole greeting at once
    assert clear_after_ms <= 250  # the engine's guard (60 ms here) + a frame or two
    assert greeting.role == "assistant" and greeting.interrupted
    assert abs(greeting.duration_ms - heard_ms) <= 60  # from the marks: what the caller's earpiece played
    assert greeting.text and greeting.text != WORDS_60


async def test_caller_speech_is_answered_and_key_presses_reach_the_engine(gateway):
    gateway.asr.transcripts = ["hello there"]
    gateway.llm.scripts = [["Hello, caller."], ["You pressed one two three four."]]
    async with gateway.phone() as phone:
        await phone.ring()
        await phone.connect()
        phone.say(speech(400, RATE))
        await phone.wait_quiet(quiet_s=0.5, timeout=10)
        for digit in "1234#":
            await phone.press(digit)
        turns = await wait_for(lambda: _with(history(gateway, phone.session_id), 4), what="four turns")
        await phone.stop()
        record = await ended(gateway, phone.session_id)
    assert [(t.role, t.text) for t in turns] == [("user", "hello there"), ("assistant", "Hello, caller."),
                                                 ("user", "caller pressed 1234#"),
                                                 ("assistant", "You pressed one two three four.")]
    assert record.end_reason == "hangup" and record.channel == "twilio" and record.call_sid == phone.call_sid
    assert (record.caller, record.called) == (phone.caller, phone.called)


async def _with(turns_coro, count: int):
    turns = await turns_coro
    return turns if len(turns) >= count else None


@pytest.mark.parametrize("persona", [{"voice_id": "fake_voice", "system_prompt": "Be brief.",
                                      "tools": [{"name": "end_call"}]}])
async def test_end_call_hangs_up_through_twilios_api_after_the_goodbye(gateway, twilio_api, persona):
    gateway.asr.transcripts = ["that is all, bye"]
    gateway.llm.scripts = [["Goodbye!", tool_call("end_call")]]
    async with gateway.phone() as phone:
        await phone.ring()
        await phone.connect()
        phone.say(speech(400, RATE))
        hang_up = await twilio_api.wait_for(lambda r: r.call_sid == phone.call_sid, timeout=10)
        played_then = len(phone.played)
        await phone.wait_until(lambda: phone.closed_at is not None, timeout=5, what="the stream closed")
        record = await ended(gateway, phone.session_id)
    assert hang_up.value("Status") == "completed"
    assert played_then >= sum(n for _, n in phone.received) - 320  # the goodbye was heard first
    assert record.end_reason == "hangup"


@pytest.mark.parametrize("persona", [{"voice_id": "fake_voice", "system_prompt": "Be brief.",
                                      "tools": [{"name": "transfer_call"}], "transfer_targets": ["+15550100"]}])
async def test_transfer_redirects_the_call_to_dial_once_the_line_was_heard(gateway, twilio_api, persona):
    gateway.asr.transcripts = ["a person please"]
    gateway.llm.scripts = [[tool_call("transfer_call", target="+15550100")]]
    async with gateway.phone() as phone:
        await phone.ring()
        await phone.connect()
        phone.say(speech(400, RATE))
        redirect = await twilio_api.wait_for(lambda r: r.call_sid == phone.call_sid, timeout=10)
        played_then = ms(len(phone.played))
        await phone.stop()  # Twilio stops the stream as the call leaves for the <Dial>
        record = await ended(gateway, phone.session_id)
        turns = await history(gateway, phone.session_id)
    dial = ET.fromstring(redirect.value("Twiml")).find("Dial")
    assert dial.find("Number").text == "+15550100"
    assert turns[-1].text == TRANSFER_LINE and not turns[-1].interrupted
    assert played_then >= turns[-1].duration_ms - 20  # "transferring you" was heard before the redirect
    assert record.end_reason == "hangup"
    assert len(twilio_api.for_call(phone.call_sid)) == 1  # no hang-up after: the call is the <Dial>'s


@pytest.mark.parametrize("persona", [{"voice_id": "fake_voice", "system_prompt": "Be brief.",
                                      "tools": [{"name": "transfer_call"}], "transfer_targets": ["+15550100"]}])
async def test_a_transfer_twilio_refuses_is_said_to_the_caller_and_the_call_goes_on(gateway, twilio_api, persona):
    gateway.asr.transcripts = ["a person please", "then what are your hours"]
    gateway.llm.scripts = [[tool_call("transfer_call", target="+15550100")], ["We open at nine."]]
    twilio_api.refuse_twiml = (400, 13223, "Dial: Invalid phone number format")
    async with gateway.phone() as phone:
        await phone.ring()
        await phone.connect()
        phone.say(speech(400, RATE))
        await twilio_api.wait_for(lambda r: r.call_sid == phone.call_sid, timeout=10)
        turns = await wait_for(lambda: _with(history(gateway, phone.session_id), 3), what="the apology")
        await phone.wait_quiet(quiet_s=0.5, timeout=10)
        phone.say(speech(400, RATE))
        turns = await wait_for(lambda: _with(history(gateway, phone.session_id), 5), what="the next answer")
        record = await gateway.storage.get_session(phone.session_id)
    assert [t.text for t in turns[1:]] == [TRANSFER_LINE, TRANSFER_FAILED, "then what are your hours",
                                           "We open at nine."]
    assert record.status == "active"  # the caller was still on the line
    assert len(twilio_api.for_call(phone.call_sid)) == 1  # the redirect tried, no hang-up


@pytest.mark.parametrize("persona", [{"voice_id": "fake_voice", "system_prompt": "Be brief.",
                                      "tools": [{"name": "send_dtmf"}]}])
async def test_send_dtmf_plays_the_keys_in_band(gateway, persona):
    gateway.asr.transcripts = ["press one two hash"]
    gateway.llm.scripts = [[tool_call("send_dtmf", digits="12#")], ["Done."]]
    async with gateway.phone() as phone:
        await phone.ring()
        await phone.connect()
        phone.say(speech(400, RATE))
        turns = await wait_for(lambda: _with(history(gateway, phone.session_id), 2), what="the reply")
        played = bytes(phone.played)
    call = turns[1].tool_calls[0]
    assert call.name == "send_dtmf" and call.result == {"sent": "12#"} and call.error is None
    tones = played[:3 * (TONE_MS + GAP_MS) * RATE * 2 // 1000]
    assert heard_keys(tones) == "12#"  # what an IVR at the far end hears, through mu-law


async def test_a_completed_status_callback_ends_a_live_call_already_ended_at_twilio(gateway, twilio_api):
    async with gateway.phone() as phone:
        await phone.ring()
        await phone.connect()
        await asyncio.sleep(0.3)
        twilio_api.end_call(phone.call_sid)  # Twilio knows the call is over: a hang-up now is a 21220
        resp = await phone.status("completed", CallDuration="3")
        assert resp.status == 204
        record = await ended(gateway, phone.session_id)
        await phone.wait_until(lambda: phone.closed_at is not None, timeout=5, what="the stream closed")
    assert record.end_reason == "hangup"
    assert [r.value("Status") for r in twilio_api.for_call(phone.call_sid)] == ["completed"]  # tried, was done


@pytest.mark.parametrize("call_status, reason", [("completed", "hangup"), ("busy", "hangup"), ("no-answer", "hangup"),
                                                 ("canceled", "hangup"), ("failed", "error")])
async def test_status_callbacks_end_a_session_whose_stream_never_came(gateway, call_status, reason):
    async with gateway.phone() as phone:
        await phone.ring()
        assert (await phone.status("ringing")).status == 204
        assert (await gateway.storage.get_session(phone.session_id)).status == "ready"
        await phone.status(call_status)
        record = await ended(gateway, phone.session_id)
    assert record.end_reason == reason and record.started_at is None


async def test_a_stream_that_goes_quiet_is_a_call_that_is_over(gateway, monkeypatch):
    from gateway.twilio import door

    monkeypatch.setattr(door, "SILENCE_TIMEOUT_S", 0.5)  # Twilio sends media every 20 ms while a call lasts
    monkeypatch.setattr(door, "START_TIMEOUT_S", 0.5)
    async with gateway.phone() as phone:
        await phone.ring()
        await phone.connect()
        clock = phone._tasks[-1]
        clock.cancel()  # the caller's side stops sending, without a stop message
        record = await ended(gateway, phone.session_id)
        await phone.wait_until(lambda: phone.closed_at is not None, timeout=5, what="the stream closed")
    assert record.end_reason == "hangup"
    async with gateway.phone() as mute:
        await mute.open()  # a socket that never says anything is not Twilio
        await mute.wait_until(lambda: mute.closed_at is not None, timeout=5, what="the silent socket closed")


async def test_the_same_call_ringing_twice_gets_the_same_session(gateway):
    phone = gateway.phone()
    first = phone.session_id if await phone.ring() is not None else None
    await phone.ring()
    assert phone.session_id == first


async def test_an_unrouted_number_hears_a_polite_line_and_is_hung_up(gateway):
    phone = TwilioPhone(gateway.http, gateway.url, called="+15559990000")
    root = await phone.ring()
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert "not in service" in root.find("Say").text


async def test_with_a_default_route_any_number_reaches_the_default_persona(gateway):
    await gateway.storage.add_route(RouteRecord("default", "per_test", datetime.now(UTC)))
    phone = TwilioPhone(gateway.http, gateway.url, called="+15559990000")
    await phone.ring()
    record = await gateway.storage.get_session(phone.session_id)
    assert record.persona_id == "per_test" and record.called == "+15559990000"


BAD_INPUT = [
    "{not json",
    json.dumps(["a", "list"]),
    json.dumps({"event": "dance", "streamSid": "MZx"}),
    json.dumps({"event": "media", "streamSid": "MZx", "media": {"payload": "AAAA"}}),  # before start
]


async def test_bad_input_is_logged_and_ignored_and_other_calls_carry_on(gateway):
    gateway.asr.transcripts = ["hello"]
    gateway.llm.scripts = [["Hello."]]
    async with gateway.phone() as bad, gateway.phone() as good:
        await bad.ring()
        await good.ring()
        await good.connect()
        await bad.open()
        for text in BAD_INPUT:
            await bad.send(text)
        await bad.ws.send_bytes(b"\x00" * 160)
        await bad.start()
        sid = bad.stream_sid
        for message in [{"event": "media", "streamSid": "MZ-not-this-one", "media": {"payload": "/w=="}},
                        {"event": "media", "streamSid": sid, "media": {"payload": "%%%"}},
                        {"event": "media", "streamSid": sid, "media": {"payload": "A" * 40000}},
                        {"event": "dtmf", "streamSid": sid, "dtmf": {"digit": "X"}},
                        {"event": "mark", "streamSid": sid, "mark": {"name": "never-sent"}}]:
            await bad.send(message)
        good.say(speech(400, RATE))
        turns = await wait_for(lambda: _with(history(gateway, good.session_id), 2), what="the good call's reply")
        assert bad.closed_at is None  # still up: bad messages are ignored, not fatal
        await bad.ws.send_str(json.dumps({"event": "media", "streamSid": sid, "media": {"payload": "A" * 90000}}))
        await bad.wait_until(lambda: bad.closed_at is not None, timeout=5, what="oversized message closing")
        assert good.closed_at is None
    assert [t.text for t in turns] == ["hello", "Hello."]
