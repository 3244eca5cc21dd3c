"""Codecs: G.711 against the ITU reference tables, pcm16 identity, Opus round trips, make_codec and its errors."""

import numpy as np
import pytest

import media
from media.codecs import CODEC_NAMES, AlawCodec, MulawCodec, Pcm16Codec, make_codec
from media.codecs.opus import OpusCodec

FULL_SWEEP = np.arange(-32768, 32768, dtype=np.int16)  # every pcm16 value once


def pcm(samples) -> bytes:
    return np.asarray(samples, dtype=np.int16).tobytes()


def samples(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.int16).astype(np.int64)


def sine(freq: float, rate: int, seconds: float, dbfs: float = -6.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return np.round(32767 * 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def rms_db(x: np.ndarray) -> float:
    x = x.astype(np.float64)
    return 20 * np.log10(np.sqrt(np.mean(x * x)) / 32768)


def peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


# ITU-T G.711 expansion, written out from the standard (not from audioop), 16-bit scale.
def ref_ulaw_decode(code: int) -> int:
    u = ~code & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return 0x84 - t if u & 0x80 else t - 0x84


def ref_alaw_decode(code: int) -> int:
    a = code ^ 0x55
    seg = (a & 0x70) >> 4
    t = (a & 0x0F) << 4
    t = t + 8 if seg == 0 else (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


# --------------------------------------------------------------------------- G.711 mu-law


class TestMulaw:
    @pytest.mark.parametrize(
        ("value", "code"),
        [(0, 0xFF), (32767, 0x80), (-32768, 0x00), (1000, 0xCE), (-1000, 0x4E), (8, 0xFE)],
    )
    def test_encodes_reference_values(self, value, code):
        assert MulawCodec().encode(pcm([value])) == bytes([code])

    @pytest.mark.parametrize(("code", "value"), [(0xFF, 0), (0x7F, 0), (0x80, 32124), (0x00, -32124), (0xCE, 988)])
    def test_decodes_reference_values(self, code, value):
        assert samples(MulawCodec().decode(bytes([code]))).tolist() == [value]

    def test_decode_table_matches_g711_for_all_256_codes(self):
        decoded = samples(MulawCodec().decode(bytes(range(256))))
        assert decoded.tolist() == [ref_ulaw_decode(c) for c in range(256)]

    def test_full_scale_sweep_round_trip_within_half_a_quantization_step(self):
        codec = MulawCodec()
        x = FULL_SWEEP.astype(np.int64)
        codes = np.frombuffer(codec.encode(FULL_SWEEP.tobytes()), dtype=np.uint8).astype(np.int64)
        y = samples(codec.decode(codes.astype(np.uint8).tobytes()))
        assert len(codes) == len(x)
        # One byte per sample; the decoded value never goes the wrong way as the input rises.
        assert np.all(np.diff(y) >= 0)
        # mu-law segment s quantizes in steps of 2**(s+3) (16-bit scale): error <= half a step,
        # plus 3 for the two low bits the 14-bit compander drops.
        segment = ((~codes) >> 4) & 7
        in_range = np.abs(x) < 32636
        err = np.abs(y - x)
        assert np.all(err[in_range] <= 2 ** (segment[in_range] + 2) + 3)
        # Beyond the compander's range the output clips at the largest level, never wraps.
        assert set(y[~in_range].tolist()) == {-32124, 32124}
        assert np.all(np.sign(y[~in_range]) == np.sign(x[~in_range]))

    def test_speech_band_sine_keeps_37_db_snr(self):
        x = sine(1000, 8000, 1.0, dbfs=0.0)
        codec = MulawCodec()
        y = samples(codec.decode(codec.encode(x.tobytes())))
        noise = y - x
        assert 10 * np.log10(np.sum(x.astype(float) ** 2) / np.sum(noise.astype(float) ** 2)) > 35


# --------------------------------------------------------------------------- G.711 A-law


class TestAlaw:
    @pytest.mark.parametrize(
        ("value", "code"),
        [(0, 0xD5), (-1, 0x55), (32767, 0xAA), (-32768, 0x2A), (1000, 0xFA), (-1000, 0x7A)],
    )
    def test_encodes_reference_values(self, value, code):
        assert AlawCodec().encode(pcm([value])) == bytes([code])

    @pytest.mark.parametrize(("code", "value"), [(0xD5, 8), (0x55, -8), (0xAA, 32256), (0x2A, -32256), (0xFA, 1008)])
    def test_decodes_reference_values(self, code, value):
        assert samples(AlawCodec().decode(bytes([code]))).tolist() == [value]

    def test_decode_table_matches_g711_for_all_256_codes(self):
        decoded = samples(AlawCodec().decode(bytes(range(256))))
        assert decoded.tolist() == [ref_alaw_decode(c) for c in range(256)]

    def test_full_scale_sweep_round_trip_within_half_a_quantization_step(self):
        codec = AlawCodec()
        x = FULL_SWEEP.astype(np.int64)
        codes = np.frombuffer(codec.encode(FULL_SWEEP.tobytes()), dtype=np.uint8).astype(np.int64)
        y = samples(codec.decode(codes.astype(np.uint8).tobytes()))
        assert np.all(np.diff(y) >= 0)
        # A-law steps (16-bit scale): 16 in segments 0 and 1, 2**(s+3) above; error <= half a step.
        segment = ((codes ^ 0x55) >> 4) & 7
        half_step = np.where(segment == 0, 8, 2 ** (segment + 2))
        assert np.all(np.abs(y - x) <= half_step)
        assert np.abs(y - x).max() == 512  # only at full scale, where the top level is 32256

    def test_speech_band_sine_keeps_37_db_snr(self):
        x = sine(1000, 8000, 1.0, dbfs=0.0)
        codec = AlawCodec()
        y = samples(codec.decode(codec.encode(x.tobytes())))
        assert 10 * np.log10(np.sum(x.astype(float) ** 2) / np.sum((y - x).astype(float) ** 2)) > 35


# --------------------------------------------------------------------------- shared checks


G711 = [MulawCodec, AlawCodec]


@pytest.mark.parametrize("codec_cls", G711)
def test_g711_is_one_byte_per_sample_and_accepts_bytes_like(codec_cls):
    codec = codec_cls()
    x = sine(440, 8000, 0.02).tobytes()
    encoded = codec.encode(x)
    assert len(encoded) == 160
    assert codec.encode(bytearray(x)) == encoded
    assert codec.encode(memoryview(x)) == encoded
    assert codec.decode(bytearray(encoded)) == codec.decode(encoded)
    assert len(codec.decode(encoded)) == 320
    assert codec.encode(b"") == b""
    assert codec.decode(b"") == b""


@pytest.mark.parametrize("codec_cls", [*G711, Pcm16Codec])
@pytest.mark.parametrize("odd", [b"\x00", b"\x00\x01\x02"])
def test_encode_rejects_odd_byte_count(codec_cls, odd):
    codec = codec_cls(8000)
    with pytest.raises(media.AudioFormatError, match=str(len(odd))):
        codec.encode(odd)


@pytest.mark.parametrize("codec_cls", [*G711, Pcm16Codec])
@pytest.mark.parametrize("bad", ["\x00\x00", [0, 0], None, 0, np.zeros(2, dtype=np.int16)])
def test_encode_and_decode_reject_non_bytes(codec_cls, bad):
    codec = codec_cls(8000)
    with pytest.raises(media.AudioFormatError):
        codec.encode(bad)
    with pytest.raises(media.AudioFormatError):
        codec.decode(bad)


def test_g711_decode_takes_any_byte_count():
    # One byte per sample: an odd-length payload is still whole samples.
    assert len(MulawCodec().decode(b"\xff" * 3)) == 6
    assert len(AlawCodec().decode(b"\xd5" * 3)) == 6


@pytest.mark.parametrize("codec_cls", [*G711, Pcm16Codec])
@pytest.mark.parametrize("rate", [44100, 0, "8000", 8000.0, True])
def test_codecs_reject_unsupported_rates(codec_cls, rate):
    with pytest.raises(media.AudioFormatError, match="unsupported sample rate"):
        codec_cls(rate)


def test_pcm16_is_identity_and_returns_bytes():
    codec = Pcm16Codec(16000)
    x = FULL_SWEEP.tobytes()
    assert codec.encode(x) == x
    assert codec.decode(x) == x
    assert type(codec.encode(bytearray(x))) is bytes
    assert type(codec.decode(memoryview(x))) is bytes
    assert codec.encode(b"") == b""


# --------------------------------------------------------------------------- make_codec


@pytest.mark.parametrize(
    ("name", "rate", "cls"),
    [
        ("pcm16", 16000, Pcm16Codec),
        ("mulaw", 8000, MulawCodec),
        ("alaw", 8000, AlawCodec),
        ("opus", 48000, OpusCodec),
        ("opus", 16000, OpusCodec),
    ],
)
def test_make_codec_by_name(name, rate, cls):
    codec = make_codec(name, rate)
    assert isinstance(codec, cls)
    assert codec.name == name
    assert codec.sample_rate == rate


def test_make_codec_returns_a_new_instance_per_stream():
    assert make_codec("opus", 16000) is not make_codec("opus", 16000)


def test_codec_names_are_all_constructible():
    assert set(CODEC_NAMES) == {"pcm16", "mulaw", "alaw", "opus"}
    for name in CODEC_NAMES:
        assert make_codec(name, 16000).name == name


@pytest.mark.parametrize("name", ["g729", "MULAW", "ulaw", "", None, 0])
def test_make_codec_unknown_encoding_names_the_value(name):
    with pytest.raises(media.AudioFormatError) as info:
        make_codec(name, 8000)
    assert isinstance(info.value, ValueError)
    assert repr(name) in str(info.value)


def test_make_codec_bad_rate_for_opus():
    with pytest.raises(media.AudioFormatError, match="22050"):
        make_codec("opus", 22050)


# --------------------------------------------------------------------------- Opus


def opus_round_trip(rate: int, x: np.ndarray) -> tuple[np.ndarray, list[bytes]]:
    codec = OpusCodec(rate)
    n = rate // 50
    packets = [codec.encode(x[i : i + n].tobytes()) for i in range(0, len(x) - n + 1, n)]
    decoded = [codec.decode(p) for p in packets]
    assert all(len(d) == n * 2 for d in decoded)
    return samples(b"".join(decoded)), packets


@pytest.mark.parametrize("rate", [16000, 48000])
def test_opus_sine_round_trip_keeps_frequency_and_level(rate):
    x = sine(440, rate, 1.0, dbfs=-12.0)
    y, packets = opus_round_trip(rate, x)
    assert len(y) == len(x)
    assert all(len(p) < 400 for p in packets)  # compressed, not raw
    skip = 2 * rate // 50  # codec delay: the first packets ramp up from silence
    y, x = y[skip:], x[skip:]
    assert abs(peak_hz(y, rate) - 440) <= 2
    assert abs(rms_db(y) - rms_db(x)) < 2


@pytest.mark.parametrize("frame_ms", [2.5, 5, 10, 20, 40, 60])
def test_opus_encodes_every_legal_frame_duration(frame_ms):
    codec = OpusCodec(16000)
    n = int(16000 * frame_ms / 1000)
    packet = codec.encode(sine(440, 16000, frame_ms / 1000).tobytes())
    assert len(codec.decode(packet)) == n * 2
    # Concealment stands in for a packet as long as the last one.
    assert len(codec.conceal()) == n * 2


@pytest.mark.parametrize("nbytes", [638, 642, 960, 1000, 0, 2])
def test_opus_rejects_wrong_frame_size(nbytes):
    codec = OpusCodec(16000)
    with pytest.raises(media.AudioFormatError, match=str(nbytes)):
        codec.encode(b"\x00" * nbytes)


def test_opus_rejects_odd_and_non_bytes_input():
    codec = OpusCodec(16000)
    with pytest.raises(media.AudioFormatError):
        codec.encode(b"\x00" * 639)
    with pytest.raises(media.AudioFormatError):
        codec.encode("x" * 640)


@pytest.mark.parametrize("rate", [22050, 44100, 0, 11025])
def test_opus_rejects_rates_it_does_not_run_at(rate):
    with pytest.raises(media.AudioFormatError, match=str(rate)):
        OpusCodec(rate)


def test_opus_rejects_unknown_application():
    with pytest.raises(media.AudioFormatError, match="music"):
        OpusCodec(16000, application="music")
    assert OpusCodec(16000, application="audio").name == "opus"


def test_opus_bitrate_is_applied():
    x = sine(440, 16000, 0.5)
    low, high = OpusCodec(16000, bitrate=8000), OpusCodec(16000, bitrate=64000)
    frames = [x[i : i + 320].tobytes() for i in range(0, len(x), 320)]
    assert sum(len(low.encode(f)) for f in frames) < sum(len(high.encode(f)) for f in frames)


@pytest.mark.parametrize("packet", [b"\xff\xff\xff", b"\xff", b"\x03", b"\x03\xff"])
def test_opus_corrupt_packet_raises_audio_format_error(packet):
    codec = OpusCodec(16000)
    with pytest.raises(media.AudioFormatError, match="corrupt Opus packet"):
        codec.decode(packet)
    # The decoder survives: a good packet still decodes afterwards.
    good = OpusCodec(16000).encode(sine(440, 16000, 0.02).tobytes())
    assert len(codec.decode(good)) == 640


def test_opus_random_bytes_never_crash():
    codec = OpusCodec(16000)
    rng = np.random.default_rng(1234)
    rejected = 0
    for _ in range(300):
        packet = rng.bytes(int(rng.integers(1, 64)))
        try:
            out = codec.decode(packet)
        except media.AudioFormatError:
            rejected += 1
        else:
            assert len(out) % 2 == 0 and 0 < len(out) <= 16000 * 120 // 1000 * 2
    assert rejected > 0


@pytest.mark.parametrize("payload", [b"", None, "abc", 123])
def test_opus_decode_rejects_empty_or_non_bytes(payload):
    with pytest.raises(media.AudioFormatError):
        OpusCodec(16000).decode(payload)


@pytest.mark.parametrize("rate", [16000, 48000])
def test_opus_conceal_returns_one_20ms_frame(rate):
    codec = OpusCodec(rate)
    assert len(codec.conceal()) == rate // 50 * 2  # before any packet
    x = sine(440, rate, 0.2)
    n = rate // 50
    for i in range(0, len(x), n):
        codec.decode(codec.encode(x[i : i + n].tobytes()))
    concealed = codec.conceal()
    assert len(concealed) == n * 2
    # Right after a tone, concealment continues it rather than returning silence.
    assert rms_db(samples(concealed)) > -40
