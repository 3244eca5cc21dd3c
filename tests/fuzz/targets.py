"""Coverage-guided fuzzing (atheris: libFuzzer for Python) of what callers and peers send us: the Twilio Media
Streams parser, the codecs, the framer and the jitter buffer, each instrumented so that the fuzzer steers
towards inputs that reach new branches. A target fails on anything but the input's refusal in the module's own
words (ProtocolError, AudioFormatError) or a broken promise (a lost byte, an unbounded buffer).

    .venv/bin/python -m tests.fuzz.targets twilio -atheris_runs=200000 [other libFuzzer options]

tests/unit/test_fuzz.py runs each target for a bounded number of inputs on every test run.
"""

import base64
import json
import sys

import atheris

with atheris.instrument_imports():
    from gateway.twilio.protocol import ProtocolError, parse
    from media.codecs import make_codec
    from media.errors import AudioFormatError
    from media.framing import Framer
    from media.jitter import JitterBuffer


_EVENTS = ["connected", "start", "media", "mark", "dtmf", "stop", "other"]
_KEYS = ["streamSid", "callSid", "payload", "track", "name", "digit", "customParameters", "mediaFormat",
         "encoding", "sampleRate", "channels", "sequenceNumber", "timestamp", "chunk", "accountSid", "tracks"]


def _value(given: atheris.FuzzedDataProvider, depth: int = 0):
    kind = given.ConsumeIntInRange(0, 7 if depth < 3 else 4)
    if kind == 0:
        return given.ConsumeUnicodeNoSurrogates(given.ConsumeIntInRange(0, 40))
    if kind == 1:
        return given.ConsumeInt(4)
    if kind == 2:
        return base64.b64encode(given.ConsumeBytes(given.ConsumeIntInRange(0, 400))).decode()
    if kind == 3:
        return given.PickValueInList([None, True, False, 1.5, "audio/x-mulaw", 8000, "inbound"])
    if kind == 4:
        return given.ConsumeRegularFloat()
    if kind == 5:
        return [_value(given, depth + 1) for _ in range(given.ConsumeIntInRange(0, 3))]
    return {given.PickValueInList(_KEYS): _value(given, depth + 1) for _ in range(given.ConsumeIntInRange(0, 4))}


def twilio(data: bytes) -> None:
    given = atheris.FuzzedDataProvider(data)
    if given.ConsumeBool():  # anything at all
        text = given.ConsumeBytes(given.remaining_bytes())
    else:  # a message shaped like Twilio's, any event, any fields, any values
        event = given.PickValueInList(_EVENTS)
        fields = {given.PickValueInList(_KEYS + _EVENTS): _value(given) for _ in range(given.ConsumeIntInRange(0, 4))}
        message = {"event": event, **fields}
        text = json.dumps(message)
    try:
        parse(text)
    except ProtocolError:
        pass


def codecs(data: bytes) -> None:
    given = atheris.FuzzedDataProvider(data)
    name = given.PickValueInList(["pcm16", "mulaw", "alaw", "opus"])
    rate = given.PickValueInList([8000, 16000, 24000, 48000])
    try:
        codec = make_codec(name, rate)
    except AudioFormatError:
        return
    while given.remaining_bytes():
        payload = given.ConsumeBytes(given.ConsumeIntInRange(0, 400))
        try:
            pcm = codec.decode(payload)
        except AudioFormatError:
            continue
        if len(pcm) % 2:
            raise AssertionError(f"{name} decoded to an odd number of bytes")


def framer(data: bytes) -> None:
    given = atheris.FuzzedDataProvider(data)
    size = 2 * given.ConsumeIntInRange(1, 480)
    framer = Framer(size)
    chunks, frames = [], []
    while given.remaining_bytes():
        chunks.append(given.ConsumeBytes(given.ConsumeIntInRange(0, 1000)))
        frames += framer.push(chunks[-1])
    rest = framer.flush(pad=False) or b""
    if any(len(f) != size for f in frames) or b"".join(frames) + rest != b"".join(chunks):
        raise AssertionError("the framer lost or invented bytes")


def jitter(data: bytes) -> None:
    given = atheris.FuzzedDataProvider(data)
    depth = given.ConsumeIntInRange(0, 4)
    buffer = JitterBuffer(depth, depth + given.ConsumeIntInRange(1, 8))
    while given.remaining_bytes() >= 3:
        if given.ConsumeBool():
            buffer.push(given.ConsumeIntInRange(0, 65535), given.ConsumeBytes(4))
        else:
            buffer.pop()
        if len(buffer) > buffer.max_depth:
            raise AssertionError(f"the jitter buffer holds {len(buffer)} packets, over {buffer.max_depth}")


TARGETS = {"twilio": twilio, "codecs": codecs, "framer": framer, "jitter": jitter}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        raise SystemExit(f"usage: python -m tests.fuzz.targets {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
