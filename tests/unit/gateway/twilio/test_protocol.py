"""Twilio Media Streams messages in and out, and the playback marks (gateway/twilio/protocol.py)."""

import base64
import json

import pytest

from gateway.twilio import protocol
from gateway.twilio.protocol import PlaybackMarks, ProtocolError

SID = "MZ18ad3ab5a668481ce02b83e7395059f0"

# Twilio's own examples (Media Streams - WebSocket Messages), as sent.
CONNECTED = {"event": "connected", "protocol": "Call", "version": "1.0.0"}
START = {
    "event": "start", "sequenceNumber": "1", "streamSid": SID,
    "start": {
        "accountSid": "AC123", "streamSid": SID, "callSid": "CA123", "tracks": ["inbound"],
        "customParameters": {"session_id": "conv_1"},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
    },
}
MEDIA = {"event": "media", "sequenceNumber": "3", "streamSid": SID,
         "media": {"track": "inbound", "chunk": "1", "timestamp": "5", "payload": base64.b64encode(b"\xff" * 160).decode()}}
DTMF = {"event": "dtmf", "streamSid": SID, "sequenceNumber": "5", "dtmf": {"track": "inbound_track", "digit": "1"}}
MARK = {"event": "mark", "sequenceNumber": "4", "streamSid": SID, "mark": {"name": "my label"}}
STOP = {"event": "stop", "sequenceNumber": "5", "streamSid": SID, "stop": {"accountSid": "AC123", "callSid": "CA123"}}


def test_parses_each_message_twilio_sends():
    assert protocol.parse(json.dumps(CONNECTED)) == protocol.Connected("Call", "1.0.0")
    start = protocol.parse(json.dumps(START))
    assert start == protocol.Start(SID, "CA123", "AC123", {"session_id": "conv_1"}, ("inbound",))
    media = protocol.parse(json.dumps(MEDIA))
    assert media == protocol.Media(SID, b"\xff" * 160, "inbound")
    assert protocol.parse(json.dumps(DTMF)) == protocol.Dtmf(SID, "1")
    assert protocol.parse(json.dumps(MARK)) == protocol.Mark(SID, "my label")
    assert protocol.parse(json.dumps(STOP)) == protocol.Stop(SID, "CA123")


def with_(message: dict, key: str, value) -> str:
    changed = json.loads(json.dumps(message))
    inner = changed
    *path, last = key.split(".")
    for part in path:
        inner = inner[part]
    if value is None:
        del inner[last]
    else:
        inner[last] = value
    return json.dumps(changed)


@pytest.mark.parametrize(("text", "says"), [
    ("{not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    ("[" * 100_000 + "]" * 100_000, "not JSON"),  # nested too deeply for json: RecursionError
    ("[1, 2]", "not a JSON object"),
    (json.dumps({"event": "dance"}), "unknown event"),
    (json.dumps({"streamSid": SID}), "unknown event"),
    (with_(MEDIA, "media.payload", "@@not base64@@"), "not valid base64"),
    (with_(MEDIA, "media.payload", 12), "base64 string"),
    (with_(MEDIA, "media.payload", "A" * 20000), "larger than"),
    (with_(MEDIA, "media", None), "'media' object"),
    (with_(MEDIA, "streamSid", None), "streamSid"),
    (with_(START, "start.callSid", None), "callSid"),
    (with_(START, "start.mediaFormat", "mulaw"), "must be objects"),
    (with_(START, "start.mediaFormat.sampleRate", "fast"), "must be numbers"),
    (with_(DTMF, "dtmf.digit", "12"), "digit"),
    (with_(MARK, "mark.name", ""), "name"),
])
def test_refuses_what_is_not_media_streams(text, says):
    with pytest.raises(ProtocolError, match=says):
        protocol.parse(text)


def test_messages_we_send_are_twilios_shapes():
    audio = bytes(range(160))
    media = json.loads(protocol.media_message(SID, audio))
    assert media == {"event": "media", "streamSid": SID, "media": {"payload": base64.b64encode(audio).decode()}}
    assert base64.b64decode(media["media"]["payload"]) == audio  # raw mu-law: no WAV (RIFF) header
    assert json.loads(protocol.mark_message(SID, "p1")) == {"event": "mark", "streamSid": SID, "mark": {"name": "p1"}}
    assert json.loads(protocol.clear_message(SID)) == {"event": "clear", "streamSid": SID}


def test_an_echoed_mark_says_how_much_of_the_reply_was_played():
    marks = PlaybackMarks()
    names = [marks.sent(1, ms) for ms in (20, 40, 60, 80)]
    assert len(set(names)) == 4
    assert marks.echoed(names[0]) == (1, 20)
    assert marks.echoed(names[2]) == (1, 60)  # in order: the one between was played too
    assert marks.pending == 1
    assert marks.echoed(names[1]) is None  # already accounted for


def test_marks_echoed_after_a_clear_were_not_played():
    marks = PlaybackMarks()
    names = [marks.sent(1, ms) for ms in (20, 40, 60)]
    assert marks.echoed(names[0]) == (1, 20)
    marks.cleared()  # Twilio now echoes the pending marks at once
    assert marks.echoed(names[1]) is None and marks.echoed(names[2]) is None
    after = marks.sent(1, 40)  # the same audio sent again after a pause: a new mark
    assert marks.echoed(after) == (1, 40)
    assert marks.echoed("p999") is None  # never sent


def test_unechoed_marks_do_not_pile_up():
    marks = PlaybackMarks()
    for ms in range(protocol.MAX_PENDING_MARKS + 500):
        marks.sent(1, ms)
    assert marks.pending == protocol.MAX_PENDING_MARKS
