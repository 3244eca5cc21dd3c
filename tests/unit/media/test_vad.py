"""VAD: webrtcvad and Silero on real (espeak-ng) speech, the SpeechDetector's timing rules, validation."""

import math
import shutil
import subprocess
import wave

import numpy as np
import pytest

import media
from media.resample import resample
from media.vad import SpeechDetector, SpeechEnd, SpeechStart, WebRtcVAD, check_threshold, gate_dbfs
from media.vad.silero import SileroModel, SileroVAD
from media.vad.webrtc import aggressiveness

SENTENCE = "Hello, thank you for calling. How can I help you today?"
LEAD_MS = 1000  # silence before and after the clip


def to_array(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype=np.int16)


def silence(rate: int, ms: int) -> bytes:
    return b"\x00" * (rate * ms // 1000 * 2)


def attenuate(pcm: bytes, db: float) -> bytes:
    return np.round(to_array(pcm) * 10 ** (-db / 20)).astype(np.int16).tobytes()


def white_noise(rate: int, ms: int, dbfs: float, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(rate * ms // 1000) * 32768 * 10 ** (dbfs / 20)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16).tobytes()


def detect(vad, pcm: bytes, chunk_ms: int = 20, **kwargs) -> list:
    """Feed `pcm` in `chunk_ms` chunks, as a call's media path would; all events."""
    detector = SpeechDetector(vad, **kwargs)
    step = vad.sample_rate * chunk_ms // 1000 * 2
    events = []
    for i in range(0, len(pcm), step):
        events += detector.process(pcm[i : i + step])
    return events


class Clip:
    """An espeak-ng utterance at one rate, with where its speech starts and ends (by energy)."""

    def __init__(self, pcm: bytes, rate: int) -> None:
        self.pcm = pcm
        self.rate = rate
        x = to_array(pcm).astype(np.float64)
        n = rate // 100
        frames_db = [
            20 * np.log10(np.sqrt(np.mean(x[i : i + n] ** 2)) / 32768 + 1e-12) for i in range(0, len(x) - n + 1, n)
        ]
        loud = [i for i, db in enumerate(frames_db) if db > -40]
        self.onset_ms, self.offset_ms = loud[0] * 10, (loud[-1] + 1) * 10

    @property
    def padded(self) -> bytes:
        return silence(self.rate, LEAD_MS) + self.pcm + silence(self.rate, LEAD_MS)

    @property
    def speech_only(self) -> bytes:
        """The clip trimmed to its loud part (no leading or trailing silence)."""
        return self.pcm[self.rate * self.onset_ms // 1000 * 2 : self.rate * self.offset_ms // 1000 * 2]


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> dict[int, Clip]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not on PATH")
    path = tmp_path_factory.mktemp("espeak") / "hello.wav"
    subprocess.run(["espeak-ng", "-w", str(path), SENTENCE], check=True, capture_output=True, timeout=30)
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        pcm = w.readframes(w.getnframes())
    return {rate: Clip(resample(pcm, 22050, rate), rate) for rate in (16000, 8000)}


@pytest.fixture(scope="session")
def silero_model() -> SileroModel:
    return SileroModel()


ENGINES = ["webrtc", "silero"]
RATES = [16000, 8000]


@pytest.fixture
def make_vad(silero_model):
    def make(engine: str, rate: int, threshold: float = 0.5):
        if engine == "webrtc":
            return WebRtcVAD(rate, threshold)
        return silero_model.stream(rate, threshold)

    return make


# --------------------------------------------------------------------------- real speech


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("engine", ENGINES)
def test_finds_the_speech_in_a_padded_clip(engine, rate, clips, make_vad):
    clip = clips[rate]
    events = detect(make_vad(engine, rate), clip.padded)
    assert [type(e) for e in events] == [SpeechStart, SpeechEnd]
    start, end = events
    assert abs(start.at_ms - (LEAD_MS + clip.onset_ms)) <= 300
    assert abs(start.at_ms - LEAD_MS) <= 300
    assert abs(end.at_ms - (LEAD_MS + clip.offset_ms)) <= 300
    assert end.duration_ms == end.at_ms - start.at_ms


@pytest.mark.parametrize("engine", ENGINES)
def test_events_do_not_depend_on_chunk_size(engine, clips, make_vad):
    clip = clips[16000]
    reference = detect(make_vad(engine, 16000), clip.padded, chunk_ms=20)
    assert detect(make_vad(engine, 16000), clip.padded, chunk_ms=7) == reference
    assert SpeechDetector(make_vad(engine, 16000)).process(clip.padded) == reference


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("engine", ENGINES)
def test_no_speech_in_digital_silence(engine, rate, make_vad):
    assert detect(make_vad(engine, rate), silence(rate, 3000)) == []


@pytest.mark.parametrize("dbfs", [-60, -50])
@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("engine", ENGINES)
def test_no_speech_in_low_level_white_noise(engine, rate, dbfs, make_vad):
    assert detect(make_vad(engine, rate), white_noise(rate, 3000, dbfs)) == []


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("engine", ENGINES)
def test_higher_threshold_needs_louder_speech(engine, rate, clips, make_vad):
    quiet = attenuate(clips[rate].padded, 30)
    assert SpeechStart in {type(e) for e in detect(make_vad(engine, rate, 0.2), quiet)}
    assert detect(make_vad(engine, rate, 0.9), quiet) == []


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("engine", ENGINES)
def test_full_level_speech_passes_a_strict_threshold(engine, rate, clips, make_vad):
    events = detect(make_vad(engine, rate, 0.9), clips[rate].padded)
    assert events and isinstance(events[0], SpeechStart)
    assert abs(events[0].at_ms - LEAD_MS) <= 300


def loudest_burst(clip: Clip, ms: int) -> bytes:
    x = to_array(clip.pcm).astype(np.float64)
    n = clip.rate * ms // 1000
    energy = np.convolve(x * x, np.ones(n), mode="valid")
    i = int(np.argmax(energy))
    return clip.pcm[i * 2 : (i + n) * 2]


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("engine", ENGINES)
def test_60ms_burst_does_not_start_speech_with_min_speech_120(engine, rate, clips, make_vad):
    stream = silence(rate, 500) + loudest_burst(clips[rate], 60) + silence(rate, 700)
    # The burst is speech to the VAD (with no minimum it starts a turn)...
    events = detect(make_vad(engine, rate), stream, min_speech_ms=0)
    assert isinstance(events[0], SpeechStart) and abs(events[0].at_ms - 500) <= 40
    # ...but too short to start one when 120 ms are required.
    assert detect(make_vad(engine, rate), stream, min_speech_ms=120) == []


@pytest.mark.parametrize("rate", RATES)
def test_webrtc_60ms_burst_starts_speech_when_min_speech_allows(rate, clips):
    stream = silence(rate, 500) + loudest_burst(clips[rate], 60) + silence(rate, 700)
    events = detect(WebRtcVAD(rate), stream, min_speech_ms=60)
    assert events == [SpeechStart(at_ms=500), SpeechEnd(at_ms=560, duration_ms=60)]


@pytest.mark.parametrize("rate", RATES)
def test_a_sound_too_short_for_speech_shows_as_onset_then_quiet(rate, clips):
    # What the interruption guard reads to hold a reply before the sound is speech, and to release it.
    detector = SpeechDetector(WebRtcVAD(rate), min_speech_ms=120)
    step = rate * 20 // 1000 * 2
    burst = loudest_burst(clips[rate], 60)
    for i in range(0, len(burst), step):
        assert detector.process(burst[i:i + step]) == []
    assert detector.onset_ms == 60 and detector.quiet_ms == 0
    detector.process(silence(rate, 100))
    assert detector.onset_ms == 0 and detector.quiet_ms == 100


@pytest.mark.parametrize("engine", ENGINES)
def test_200ms_pause_inside_speech_does_not_end_it_with_hangover_500(engine, clips, make_vad):
    clip = clips[16000]
    speech = clip.speech_only
    stream = silence(16000, LEAD_MS) + speech + silence(16000, 200) + speech + silence(16000, LEAD_MS)
    events = detect(make_vad(engine, 16000), stream, hangover_ms=500)
    assert [type(e) for e in events] == [SpeechStart, SpeechEnd]
    speech_ms = len(speech) // 32
    assert abs(events[1].at_ms - (LEAD_MS + 2 * speech_ms + 200)) <= 300
    # A shorter hangover does end the turn in that pause.
    events = detect(make_vad(engine, 16000), stream, hangover_ms=100)
    ends = [e.at_ms for e in events if isinstance(e, SpeechEnd)]
    assert any(abs(at - (LEAD_MS + speech_ms)) <= 150 for at in ends)


@pytest.mark.parametrize("engine", ENGINES)
def test_speech_end_waits_for_the_hangover(engine, clips, make_vad):
    clip = clips[16000]
    detector = SpeechDetector(make_vad(engine, 16000), hangover_ms=500)
    events = detector.process(silence(16000, 500) + clip.speech_only)
    assert [type(e) for e in events] == [SpeechStart]
    assert detector.process(silence(16000, 400)) == []
    assert detector.speaking
    (end,) = detector.process(silence(16000, 200))
    assert isinstance(end, SpeechEnd)
    assert not detector.speaking


# --------------------------------------------------------------------------- Silero specifics


def test_silero_probabilities_are_in_range_and_reset_makes_them_repeatable(clips, silero_model):
    vad = silero_model.stream(16000)
    pcm = clips[16000].padded
    frames = [pcm[i : i + 1024] for i in range(0, len(pcm) - 1023, 1024)]
    first = [vad.prob(f) for f in frames]
    assert all(0.0 <= p <= 1.0 for p in first)
    assert max(first) > 0.9
    vad.reset()
    assert [vad.prob(f) for f in frames] == first


def test_silero_streams_are_independent(clips, silero_model):
    pcm = clips[16000].padded
    frames = [pcm[i : i + 1024] for i in range(0, len(pcm) - 1023, 1024)]
    a, b = silero_model.stream(16000), silero_model.stream(16000)
    alone = [a.prob(f) for f in frames]
    a.reset()
    interleaved = []
    for f in frames:
        interleaved.append(a.prob(f))
        b.prob(b"\x00" * 1024)
    assert interleaved == alone


def test_silero_quiet_frames_are_gated_to_zero(silero_model):
    vad = silero_model.stream(16000, 0.5)
    assert vad.prob(b"\x00" * 1024) == 0.0
    assert vad.prob(white_noise(16000, 32, -70)) == 0.0


@pytest.mark.parametrize(("rate", "nbytes"), [(16000, 640), (16000, 1022), (8000, 1024), (8000, 320)])
def test_silero_wrong_frame_length_raises(rate, nbytes, silero_model):
    with pytest.raises(media.AudioFormatError, match=str(nbytes)):
        silero_model.stream(rate).prob(b"\x00" * nbytes)


@pytest.mark.parametrize("rate", [22050, 24000, 48000, 44100, "16000"])
def test_silero_rejects_rates(rate, silero_model):
    with pytest.raises(media.AudioFormatError, match=repr(rate)):
        silero_model.stream(rate)


@pytest.mark.parametrize("threshold", [-0.1, 1.1, math.nan, "0.5", True, None])
def test_silero_rejects_bad_thresholds(threshold, silero_model):
    with pytest.raises(media.AudioFormatError):
        SileroVAD(silero_model, 16000, threshold)


def test_silero_frame_is_32ms(silero_model):
    vad = silero_model.stream(8000)
    assert (vad.frame_ms, vad.sample_rate) == (32, 8000)
    assert vad.prob(b"\x00" * 512) == 0.0


# --------------------------------------------------------------------------- webrtc validation


@pytest.mark.parametrize(("rate", "frame_ms", "nbytes"), [(16000, 20, 639), (16000, 20, 320), (8000, 10, 320), (48000, 30, 0)])
def test_webrtc_wrong_frame_length_raises_naming_sizes(rate, frame_ms, nbytes):
    vad = WebRtcVAD(rate, frame_ms=frame_ms)
    expected = rate * frame_ms // 1000 * 2
    with pytest.raises(media.AudioFormatError, match=f"{expected} bytes.*got {nbytes}"):
        vad.prob(b"\x00" * nbytes)


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_webrtc_accepts_its_rates_and_frames(rate, frame_ms):
    vad = WebRtcVAD(rate, frame_ms=frame_ms)
    assert vad.prob(b"\x00" * (rate * frame_ms // 1000 * 2)) == 0.0


@pytest.mark.parametrize("rate", [22050, 24000, 44100, 0, "16000", None])
def test_webrtc_rejects_rates(rate):
    with pytest.raises(media.AudioFormatError, match=repr(rate)):
        WebRtcVAD(rate)


@pytest.mark.parametrize("frame_ms", [5, 25, 32, 40, 0, "20"])
def test_webrtc_rejects_frame_durations(frame_ms):
    with pytest.raises(media.AudioFormatError, match=repr(frame_ms)):
        WebRtcVAD(16000, frame_ms=frame_ms)


@pytest.mark.parametrize("threshold", [-0.1, 1.1, 2, math.nan, math.inf, "0.5", True, None])
def test_thresholds_outside_0_to_1_raise(threshold):
    with pytest.raises(media.AudioFormatError):
        WebRtcVAD(16000, threshold)
    with pytest.raises(media.AudioFormatError, match="vad_threshold"):
        check_threshold(threshold)


@pytest.mark.parametrize("threshold", [0, 0.0, 0.5, 1, 1.0])
def test_threshold_bounds_are_accepted(threshold):
    assert check_threshold(threshold) == float(threshold)
    WebRtcVAD(16000, threshold)


def test_threshold_maps_to_loudness_gate_and_webrtc_mode():
    assert (gate_dbfs(0.0), gate_dbfs(0.5), gate_dbfs(1.0)) == (-60.0, -45.0, -30.0)
    assert [aggressiveness(t) for t in (0.0, 0.25, 0.5, 0.75, 1.0)] == [0, 1, 2, 3, 3]


def test_webrtc_gate_silences_frames_below_the_threshold_level(clips):
    clip = clips[16000]
    frame = loudest_burst(clip, 20)
    assert WebRtcVAD(16000, 0.5).prob(frame) == 1.0
    quiet = attenuate(frame, 60)
    assert WebRtcVAD(16000, 0.5).prob(quiet) == 0.0


# --------------------------------------------------------------------------- detector rules (scripted VAD)


class ScriptedVAD:
    """A VAD whose frames say whether they are speech: first sample non-zero means speech."""

    def __init__(self, sample_rate: int = 8000, frame_ms: int = 10) -> None:
        self.sample_rate = sample_rate
        self.frame_ms = frame_ms
        self.threshold = 0.5
        self.resets = 0

    def prob(self, frame: bytes) -> float:
        assert len(frame) == self.sample_rate * self.frame_ms // 1000 * 2
        return 1.0 if frame[:2] != b"\x00\x00" else 0.0

    def reset(self) -> None:
        self.resets += 1


def script(pattern: str, frame_bytes: int = 160) -> bytes:
    """'1' is a 10 ms speech frame, '0' a silent one (8 kHz)."""
    return b"".join((b"\x01\x00" if c == "1" else b"\x00\x00") * (frame_bytes // 2) for c in pattern)


def test_detector_start_and_end_times():
    events = SpeechDetector(ScriptedVAD(), min_speech_ms=30, hangover_ms=50).process(
        script("00000" + "1" * 20 + "0" * 10)
    )
    assert events == [SpeechStart(at_ms=50), SpeechEnd(at_ms=250, duration_ms=200)]


def test_detector_min_speech_blips_never_start():
    detector = SpeechDetector(ScriptedVAD(), min_speech_ms=120, hangover_ms=100)
    assert detector.process(script("0" * 10 + "1" * 6 + "0" * 10 + "1" * 11 + "0" * 5)) == []
    assert not detector.speaking
    # Twelve frames in a row is 120 ms: the start is dated back to the first of them.
    assert detector.process(script("1" * 12)) == [SpeechStart(at_ms=420)]
    assert detector.speaking


def test_detector_min_speech_zero_starts_on_the_first_frame():
    assert SpeechDetector(ScriptedVAD(), min_speech_ms=0).process(script("001")) == [SpeechStart(at_ms=20)]


def test_detector_start_is_emitted_once_min_speech_is_reached():
    detector = SpeechDetector(ScriptedVAD(), min_speech_ms=100)
    for i in range(9):
        assert detector.process(script("1")) == [], i
    assert detector.process(script("1")) == [SpeechStart(at_ms=0)]


def test_detector_hangover_bridges_short_pauses():
    detector = SpeechDetector(ScriptedVAD(), min_speech_ms=20, hangover_ms=500)
    pattern = "1" * 30 + "0" * 20 + "1" * 30 + "0" * 49
    assert detector.process(script(pattern)) == [SpeechStart(at_ms=0)]
    # The 50th silent frame completes 500 ms of hangover; the end is the end of the last speech frame.
    assert detector.process(script("0")) == [SpeechEnd(at_ms=800, duration_ms=800)]
    assert detector.now_ms == 1300


def test_detector_hangover_zero_ends_on_the_first_silent_frame():
    events = SpeechDetector(ScriptedVAD(), min_speech_ms=10, hangover_ms=0).process(script("11011"))
    assert events == [
        SpeechStart(at_ms=0),
        SpeechEnd(at_ms=20, duration_ms=20),
        SpeechStart(at_ms=30),
    ]


def test_detector_chunk_size_does_not_matter():
    pattern = "000111111110000000000001111111111110000000000000000000"
    pcm = script(pattern)
    reference = SpeechDetector(ScriptedVAD(), 30, 100).process(pcm)
    assert len(reference) == 4
    rng = np.random.default_rng(5)
    detector = SpeechDetector(ScriptedVAD(), 30, 100)
    events, i = [], 0
    while i < len(pcm):
        n = int(rng.integers(1, 400)) * 2
        events += detector.process(pcm[i : i + n])
        i += n
    assert events == reference


def test_detector_now_ms_counts_whole_frames_only():
    detector = SpeechDetector(ScriptedVAD())
    detector.process(b"\x00" * 100)
    assert detector.now_ms == 0
    detector.process(b"\x00" * 60)
    assert detector.now_ms == 10


def test_detector_last_prob_follows_the_vad():
    detector = SpeechDetector(ScriptedVAD())
    detector.process(script("1"))
    assert detector.last_prob == 1.0
    detector.process(script("0"))
    assert detector.last_prob == 0.0


def test_detector_reset_forgets_speech_in_progress():
    vad = ScriptedVAD()
    detector = SpeechDetector(vad, min_speech_ms=20, hangover_ms=50)
    assert detector.process(script("111")) == [SpeechStart(at_ms=0)]
    detector.process(b"\x01\x00" * 40)  # half a frame held back
    detector.reset()
    assert not detector.speaking and vad.resets == 1
    assert detector.process(script("0" * 10)) == []  # no SpeechEnd for the forgotten turn
    assert detector.now_ms == 130  # stream time kept counting
    assert detector.process(script("11")) == [SpeechStart(at_ms=130)]


def test_detector_uses_the_vads_frame_size():
    detector = SpeechDetector(ScriptedVAD(16000, 30))
    assert detector.process(script("1" * 4, frame_bytes=960)) == [SpeechStart(at_ms=0)]
    assert detector.now_ms == 120


@pytest.mark.parametrize(("min_speech", "hangover"), [(-1, 500), (120, -1)])
def test_detector_rejects_negative_durations(min_speech, hangover):
    with pytest.raises(ValueError):
        SpeechDetector(ScriptedVAD(), min_speech, hangover)
