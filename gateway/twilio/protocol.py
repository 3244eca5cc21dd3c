"""Twilio Media Streams on the wire: the JSON messages Twilio sends, the ones we send, and playback marks.

Pure (no I/O, no asyncio). The protocol is Twilio's, to the letter:
https://www.twilio.com/docs/voice/media-streams/websocket-messages. Twilio sends
`connected`, `start` (streamSid, callSid, customParameters, mediaFormat), `media`
(base64 mu-law, 8 kHz mono, 20 ms a message), `dtmf`, `mark` (the echo of one we
sent, once the audio before it has played) and `stop`. We send `media` (base64
mu-law, no file headers), `mark` and `clear` (drop the audio Twilio buffered; it
then echoes every pending mark at once).
"""

import base64
import binascii
import json
from collections import deque
from dataclasses import dataclass, field

MULAW_RATE = 8000
MEDIA_ENCODING = "audio/x-mulaw"
MAX_MEDIA_BYTES = 8000  # one second of mu-law; Twilio sends 160 bytes (20 ms) a message
MAX_MARK_NAME = 256
MAX_PENDING_MARKS = 3000  # a minute of 20 ms marks: a far end that never echoes cannot grow this without end


class ProtocolError(ValueError):
    """A message that is not Media Streams: str(exc) says what is wrong (for the log)."""


@dataclass(frozen=True, slots=True)
class Connected:
    protocol: str
    version: str


@dataclass(frozen=True, slots=True)
class Start:
    stream_sid: str
    call_sid: str
    account_sid: str
    custom_parameters: dict[str, str] = field(default_factory=dict)
    tracks: tuple[str, ...] = ("inbound",)
    encoding: str = MEDIA_ENCODING
    sample_rate: int = MULAW_RATE
    channels: int = 1


@dataclass(frozen=True, slots=True)
class Media:
    stream_sid: str
    payload: bytes  # mu-law bytes, base64 already decoded
    track: str = "inbound"


@dataclass(frozen=True, slots=True)
class Dtmf:
    stream_sid: str
    digit: str


@dataclass(frozen=True, slots=True)
class Mark:
    stream_sid: str
    name: str


@dataclass(frozen=True, slots=True)
class Stop:
    stream_sid: str
    call_sid: str | None


Inbound = Connected | Start | Media | Dtmf | Mark | Stop


def _object(message: dict, key: str) -> dict:
    value = message.get(key)
    if not isinstance(value, dict):
        raise ProtocolError(f"{message.get('event')} message without a {key!r} object")
    return value


def _text(obj: dict, key: str, where: str, max_chars: int = 128) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value or len(value) > max_chars:
        raise ProtocolError(f"{where}: {key!r} must be a non-empty string of at most {max_chars} characters")
    return value


def _stream_sid(message: dict) -> str:
    return _text(message, "streamSid", str(message.get("event")))


def _start(message: dict) -> Start:
    start = _object(message, "start")
    fmt = start.get("mediaFormat") or {}
    params = start.get("customParameters") or {}
    if not isinstance(fmt, dict) or not isinstance(params, dict):
        raise ProtocolError("start: mediaFormat and customParameters must be objects")
    tracks = start.get("tracks") or ["inbound"]
    if not isinstance(tracks, list) or not all(isinstance(t, str) for t in tracks):
        raise ProtocolError("start: tracks must be a list of strings")
    try:
        rate, channels = int(fmt.get("sampleRate", MULAW_RATE)), int(fmt.get("channels", 1))
    except (TypeError, ValueError):
        raise ProtocolError("start: mediaFormat sampleRate and channels must be numbers") from None
    return Start(
        stream_sid=_text(start, "streamSid", "start"),
        call_sid=_text(start, "callSid", "start"),
        account_sid=str(start.get("accountSid") or ""),
        custom_parameters={str(k): str(v) for k, v in params.items()},
        tracks=tuple(tracks),
        encoding=str(fmt.get("encoding", MEDIA_ENCODING)),
        sample_rate=rate,
        channels=channels,
    )


def _media(message: dict) -> Media:
    media = _object(message, "media")
    payload = media.get("payload")
    if not isinstance(payload, str):
        raise ProtocolError("media: payload must be a base64 string")
    if len(payload) > MAX_MEDIA_BYTES * 4 // 3 + 4:
        raise ProtocolError(f"media: payload larger than {MAX_MEDIA_BYTES} bytes of audio")
    try:
        audio = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("media: payload is not valid base64") from None
    return Media(_stream_sid(message), audio, str(media.get("track", "inbound")))


def _dtmf(message: dict) -> Dtmf:
    digit = _text(_object(message, "dtmf"), "digit", "dtmf", max_chars=1)
    return Dtmf(_stream_sid(message), digit)


def parse(text: str | bytes) -> Inbound:
    """One message from Twilio. Raises ProtocolError for anything else (bad JSON, an unknown event,
    missing fields, bad base64, an oversized payload)."""
    try:
        message = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply
        raise ProtocolError("not JSON") from None
    if not isinstance(message, dict):
        raise ProtocolError("not a JSON object")
    event = message.get("event")
    if event == "media":  # first: 50 a second
        return _media(message)
    if event == "connected":
        return Connected(str(message.get("protocol", "")), str(message.get("version", "")))
    if event == "start":
        return _start(message)
    if event == "mark":
        return Mark(_stream_sid(message), _text(_object(message, "mark"), "name", "mark", MAX_MARK_NAME))
    if event == "dtmf":
        return _dtmf(message)
    if event == "stop":
        stop = message.get("stop")
        call_sid = stop.get("callSid") if isinstance(stop, dict) else None
        return Stop(_stream_sid(message), call_sid if isinstance(call_sid, str) else None)
    raise ProtocolError(f"unknown event {str(event)[:40]!r}")


def media_message(stream_sid: str, mulaw: bytes) -> str:
    """Audio for Twilio to play: raw mu-law 8 kHz, base64, no WAV or other headers."""
    return json.dumps({"event": "media", "streamSid": stream_sid,
                       "media": {"payload": base64.b64encode(mulaw).decode("ascii")}})


def mark_message(stream_sid: str, name: str) -> str:
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    return json.dumps({"event": "clear", "streamSid": stream_sid})


class PlaybackMarks:
    """How much of each reply Twilio has played, from the marks it echoes.

    A mark follows each chunk we send, named by a counter and remembered with
    where the reply stands once that chunk is heard (segment, ms). Twilio echoes
    a mark when the audio before it has played, in order. A `clear` makes Twilio
    echo every pending mark at once, although that audio was dropped: those echoes
    must not count as played, so `cleared()` forgets them first.
    """

    def __init__(self) -> None:
        self._pending: deque[tuple[str, int, int]] = deque(maxlen=MAX_PENDING_MARKS)
        self._count = 0

    def sent(self, segment: int, position_ms: int) -> str:
        """The name of the mark to send after a chunk; `position_ms` is the reply's position at its end."""
        self._count += 1
        name = f"p{self._count}"
        self._pending.append((name, segment, position_ms))
        return name

    def cleared(self) -> None:
        """A `clear` went out: the pending marks' audio was dropped, not played."""
        self._pending.clear()

    def echoed(self, name: str) -> tuple[int, int] | None:
        """A mark came back: (segment, ms) now played, or None when it is one a clear dropped (or unknown)."""
        if not any(pending[0] == name for pending in self._pending):
            return None
        while self._pending:
            pending_name, segment, position_ms = self._pending.popleft()
            if pending_name == name:  # marks come back in order: the ones before it were played too
                return segment, position_ms
        return None

    @property
    def pending(self) -> int:
        return len(self._pending)
