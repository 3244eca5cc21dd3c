"""Property-based tests (hypothesis) of what callers and peers send us, over many generated inputs: the codecs,
the framer, the jitter buffer, the resampler and the Twilio Media Streams parser either take the input or refuse
it with their own error (AudioFormatError, ProtocolError, ValueError), never anything else, and keep their
promises (no byte lost or invented, a bounded buffer, each slot played once)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.twilio.protocol import Connected, Dtmf, Mark, Media, ProtocolError, Start, Stop, parse
from media.codecs import CODEC_NAMES, make_codec
from media.errors import AudioFormatError
from media.framing import Framer
from media.jitter import JitterBuffer
from media.resample import Resampler

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
PROFILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

pcm16 = st.binary(max_size=4000).map(lambda b: b[: len(b) // 2 * 2])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20)


@PROFILE
@given(name=st.sampled_from(CODEC_NAMES), rate=st.sampled_from([8000, 16000, 24000, 48000]),
       payload=st.binary(max_size=2000))
def test_a_codec_decodes_any_bytes_or_refuses_them_with_its_own_error(name, rate, payload):
    try:
        codec = make_codec(name, rate)
    except AudioFormatError:
        return  # that codec does not run at that rate
    try:
        pcm = codec.decode(payload)
    except AudioFormatError:
        return
    assert isinstance(pcm, bytes) and len(pcm) % 2 == 0


@PROFILE
@given(name=st.sampled_from(["pcm16", "mulaw", "alaw"]), pcm=pcm16)
def test_g711_and_pcm16_keep_every_sample(name, pcm):
    codec = make_codec(name, 8000)
    assert len(codec.decode(codec.encode(pcm))) == len(pcm)


@PROFILE
@given(size=st.sampled_from([2, 320, 640, 960]), chunks=st.lists(st.binary(max_size=1500), max_size=30))
def test_the_framer_loses_and_invents_nothing(size, chunks):
    framer = Framer(size)
    frames = [frame for chunk in chunks for frame in framer.push(chunk)]
    assert all(len(frame) == size for frame in frames)
    rest = framer.flush(pad=False) or b""
    assert b"".join(frames) + rest == b"".join(chunks) and len(rest) < size


@PROFILE
@given(ops=st.lists(st.one_of(st.tuples(st.just("push"), st.integers(0, 65535), st.binary(max_size=8)),
                              st.tuples(st.just("pop"))), max_size=200),
       depth=st.integers(0, 4), extra=st.integers(1, 8))
def test_the_jitter_buffer_stays_bounded_and_plays_in_order_whatever_arrives(ops, depth, extra):
    jitter = JitterBuffer(depth, depth + extra)
    played: list[int] = []
    for op in ops:
        if op[0] == "push":
            jitter.push(op[1], op[2])
        elif (frame := jitter.pop()) is not None:
            played.append(frame.seq)
        assert len(jitter) <= jitter.max_depth
    assert all(earlier != later for earlier, later in zip(played, played[1:]))  # a slot is played once


@PROFILE
@given(seq=st.integers().filter(lambda n: not 0 <= n < 65536))
def test_a_sequence_number_out_of_range_is_refused(seq):
    with pytest.raises(ValueError):
        JitterBuffer().push(seq, b"x")


@PROFILE
@given(rates=st.tuples(st.sampled_from([8000, 16000, 24000, 48000]), st.sampled_from([8000, 16000, 24000, 48000])),
       chunks=st.lists(st.binary(max_size=2000), max_size=10))
def test_the_resampler_takes_pcm16_or_refuses_it(rates, chunks):
    resampler = Resampler(*rates)
    for chunk in chunks:
        try:
            out = resampler.process(chunk)
        except AudioFormatError:
            assert len(chunk) % 2  # only odd byte counts are refused
            continue
        assert len(out) % 2 == 0


@PROFILE
@given(text=st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_any_text_from_twilio_is_parsed_or_refused_with_a_protocol_error(text):
    try:
        parse(text)
    except ProtocolError:
        pass


@PROFILE
@given(event=st.sampled_from(["connected", "start", "media", "mark", "dtmf", "stop", "other"]),
       fields=st.dictionaries(st.sampled_from(["streamSid", "start", "media", "mark", "dtmf", "stop", "protocol",
                                                "sequenceNumber"]), json_values, max_size=6))
def test_twilio_messages_with_any_fields_are_parsed_or_refused_with_a_protocol_error(event, fields):
    try:
        message = parse(json.dumps({"event": event, **fields}))
    except ProtocolError:
        return
    assert isinstance(message, (Connected, Start, Media, Mark, Dtmf, Stop))
    assert event != "other"


def test_json_nested_deeper_than_the_parser_goes_is_refused_too():
    with pytest.raises(ProtocolError):
        parse("[" * 100_000 + "]" * 100_000)
