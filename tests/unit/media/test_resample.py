"""Resampler: exact frame sizes, pitch and level kept, no clicks at frame edges, anti-aliasing, errors."""

import itertools

import numpy as np
import pytest

import media
from media.resample import Resampler, resample

RATES = (8000, 16000, 22050, 24000, 48000)
PAIRS = [(s, d) for s, d in itertools.product(RATES, RATES) if s != d]
DOWN = [(s, d) for s, d in PAIRS if d < s]
UP = [(s, d) for s, d in PAIRS if d > s]


def sine(freq: float, rate: int, seconds: float = 0.5, dbfs: float = -6.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return np.round(32767 * 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def samples(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.int16).astype(np.float64)


def rms_db(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return 20 * np.log10(max(np.sqrt(np.mean(x * x)), 1e-9) / 32768)


def spectrum(x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    return np.fft.rfftfreq(len(x), 1 / rate), power


def stream(resampler: Resampler, x: np.ndarray, chunk: int) -> list[bytes]:
    data = x.tobytes()
    return [resampler.process(data[i : i + chunk * 2]) for i in range(0, len(data), chunk * 2)]


def pair_id(pair):
    return f"{pair[0]}->{pair[1]}"


# --------------------------------------------------------------------------- frame sizes


@pytest.mark.parametrize("pair", PAIRS + [(r, r) for r in RATES], ids=pair_id)
def test_20ms_in_gives_exactly_20ms_out_on_every_call(pair):
    src, dst = pair
    r = Resampler(src, dst)
    x = sine(440, src, 0.2)
    outs = stream(r, x, src // 50)
    assert len(outs) == 10
    assert [len(o) for o in outs] == [dst // 50 * 2] * 10  # the first call included


@pytest.mark.parametrize("pair", [p for p in PAIRS if 22050 not in p], ids=pair_id)
def test_10ms_frames_are_exact_too(pair):
    src, dst = pair
    outs = stream(Resampler(src, dst), sine(440, src, 0.1), src // 100)
    assert {len(o) for o in outs} == {dst // 100 * 2}


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_arbitrary_chunks_return_exactly_what_the_input_so_far_entitles(pair):
    src, dst = pair
    rng = np.random.default_rng(src * 7 + dst)
    r = Resampler(src, dst)
    total_in = total_out = 0
    for _ in range(60):
        n = int(rng.integers(0, 500))
        out = r.process(b"\x01\x00" * n)
        total_in += n
        total_out += len(out) // 2
        assert total_out == total_in * dst // src


# --------------------------------------------------------------------------- what a listener hears


@pytest.mark.parametrize("freq", [440, 1000])
@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_sine_keeps_its_frequency_and_level(pair, freq):
    src, dst = pair
    x = sine(freq, src, 1.0)
    y = samples(b"".join(stream(Resampler(src, dst), x, src // 50)))
    y = y[dst // 100 :]  # past the first 10 ms (filter and interpolator warm-up)
    freqs, power = spectrum(y, dst)
    assert abs(freqs[np.argmax(power)] - freq) <= 2
    assert abs(rms_db(y) - rms_db(x)) < 1.0
    # What is not the tone (interpolation images, aliases, distortion) stays well below it.
    near = np.abs(freqs - freq) < 30
    assert 10 * np.log10(power[~near].sum() / power[near].sum()) < -25


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_streamed_frames_equal_the_whole_clip_in_one_go(pair):
    # State carries across calls: cutting the input into frames changes nothing, so no clicks at edges.
    src, dst = pair
    x = sine(1000, src, 0.5)
    whole = resample(x.tobytes(), src, dst)
    assert b"".join(stream(Resampler(src, dst), x, src // 50)) == whole


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_random_chunk_sizes_equal_the_whole_clip(pair):
    src, dst = pair
    rng = np.random.default_rng(dst * 3 + src)
    x = rng.integers(-20000, 20000, src // 4).astype(np.int16).tobytes()
    whole = resample(x, src, dst)
    r = Resampler(src, dst)
    out, i = [], 0
    while i < len(x):
        n = int(rng.integers(0, 700)) * 2
        out.append(r.process(x[i : i + n]))
        i += n
    assert b"".join(out) == whole


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_no_click_at_frame_edges(pair):
    # A sine of amplitude A at f Hz moves at most 2*A*sin(pi*f/rate) between samples;
    # a dropped, repeated or zeroed sample at a frame edge would jump far more.
    src, dst = pair
    freq, amp = 1000, 32767 * 10 ** (-6 / 20)
    y = samples(b"".join(stream(Resampler(src, dst), sine(freq, src, 0.3), src // 50)))
    jumps = np.abs(np.diff(y))
    assert jumps.max() <= 2 * amp * np.sin(np.pi * freq / dst) * 1.05 + 4


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_added_latency_is_under_1_5_ms(pair):
    src, dst = pair
    x = np.zeros(src // 5, dtype=np.int16)
    x[src // 10] = 20000  # a click 100 ms in
    y = samples(resample(x.tobytes(), src, dst))
    delay_ms = (np.argmax(np.abs(y)) / dst - (src // 10) / src) * 1000
    assert 0 <= delay_ms < 1.5


@pytest.mark.parametrize("pair", DOWN, ids=pair_id)
def test_downsampling_attenuates_tones_above_the_new_nyquist(pair):
    # A tone above the new Nyquist (1.5x it where the source rate allows, else halfway to the old
    # Nyquist) would fold back into the audible band; it must come out at least 20 dB down.
    src, dst = pair
    freq = 0.75 * dst if 0.75 * dst < 0.45 * src else (dst + src) / 4
    x = sine(freq, src, 0.5)
    y = samples(resample(x.tobytes(), src, dst))[dst // 100 :]
    assert rms_db(y) - rms_db(x) < -20


def test_6khz_tone_at_24k_to_8k_is_suppressed():
    x = sine(6000, 24000, 0.5)
    y = samples(b"".join(stream(Resampler(24000, 8000), x, 480)))[80:]
    assert rms_db(y) - rms_db(x) < -20
    # ...while a 1 kHz tone through the same path is untouched.
    x = sine(1000, 24000, 0.5)
    y = samples(b"".join(stream(Resampler(24000, 8000), x, 480)))[80:]
    assert abs(rms_db(y) - rms_db(x)) < 0.5


@pytest.mark.parametrize("pair", DOWN, ids=pair_id)
def test_full_scale_input_clips_instead_of_wrapping(pair):
    # The low-pass overshoots on a full-scale square wave; it must saturate, not wrap to the other sign.
    src, dst = pair
    period = src // 100  # 100 Hz
    x = np.where((np.arange(src // 5) // (period // 2)) % 2 == 0, 32767, -32768).astype(np.int16)
    y = samples(resample(x.tobytes(), src, dst))
    t_out = np.arange(len(y)) / dst
    phase = (t_out * 100) % 1.0
    plateau_hi = (phase > 0.2) & (phase < 0.45)  # 2 ms past each edge: beyond filter delay and ringing
    plateau_lo = (phase > 0.7) & (phase < 0.95)
    assert y[plateau_hi].min() > 30000
    assert y[plateau_lo].max() < -30000


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_silence_stays_silent(pair):
    src, dst = pair
    out = b"".join(stream(Resampler(src, dst), np.zeros(src // 5, dtype=np.int16), src // 50))
    assert out == b"\x00" * (dst // 5 * 2)


# --------------------------------------------------------------------------- API edges


@pytest.mark.parametrize("rate", RATES)
def test_same_rate_is_a_passthrough(rate):
    x = sine(440, rate, 0.1).tobytes()
    assert Resampler(rate, rate).process(x) == x
    assert resample(x, rate, rate) == x
    assert type(Resampler(rate, rate).process(bytearray(x))) is bytes


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_whole_clip_length_is_floor_of_n_times_ratio(pair):
    src, dst = pair
    for n in (1, 7, 441, 1001):
        assert len(resample(b"\x00\x01" * n, src, dst)) == n * dst // src * 2


def test_empty_chunk_returns_empty_and_keeps_state():
    r = Resampler(8000, 16000)
    assert r.process(b"") == b""
    x = sine(440, 8000, 0.04)
    assert len(r.process(x[:160].tobytes())) == 640
    assert r.process(b"") == b""
    assert len(r.process(x[160:].tobytes())) == 640


def test_bytes_like_input_accepted():
    x = sine(440, 16000, 0.02).tobytes()
    assert Resampler(16000, 8000).process(bytearray(x)) == Resampler(16000, 8000).process(x)
    assert Resampler(16000, 8000).process(memoryview(x)) == Resampler(16000, 8000).process(x)


@pytest.mark.parametrize("bad", [44100, 0, -8000, "16000", 16000.0, True, None, 32000])
def test_unsupported_rate_raises_naming_it(bad):
    with pytest.raises(media.AudioFormatError) as info:
        Resampler(bad, 16000)
    assert repr(bad) in str(info.value)
    with pytest.raises(media.AudioFormatError):
        Resampler(16000, bad)
    with pytest.raises(media.AudioFormatError):
        resample(b"\x00\x00", bad, 8000)


@pytest.mark.parametrize("pair", [(8000, 16000), (16000, 8000), (16000, 16000)], ids=pair_id)
def test_odd_byte_count_raises(pair):
    r = Resampler(*pair)
    with pytest.raises(media.AudioFormatError, match="641"):
        r.process(b"\x00" * 641)
    with pytest.raises(media.AudioFormatError):
        resample(b"\x00", *pair)


@pytest.mark.parametrize("bad", ["\x00\x00", [0, 0], None, np.zeros(4, dtype=np.int16)])
def test_non_bytes_raises(bad):
    with pytest.raises(media.AudioFormatError):
        Resampler(8000, 16000).process(bad)
