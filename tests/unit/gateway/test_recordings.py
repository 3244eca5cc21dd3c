"""CallRecorder: both sides on one clock into a stereo WAV; Recordings.sweep follows the sessions' retention."""

import time
import wave
from datetime import UTC, datetime

from gateway.recordings import RATE, CallRecorder, Recordings
from gateway.storage import SessionRecord, SQLiteStorage
from media.audioop_lib import audioop

LOUD = b"\x00\x30" * (RATE // 10)  # 100 ms at 16 kHz


def read(path):
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, RATE)
        frames = wav.readframes(wav.getnframes())
    return audioop.tomono(frames, 2, 1, 0), audioop.tomono(frames, 2, 0, 1)


def test_both_sides_line_up_on_one_clock(tmp_path):
    recorder = CallRecorder(tmp_path / "conv_1")
    recorder.caller(LOUD)
    time.sleep(0.4)  # the caller's client sent nothing for a while: that is silence, not lost time
    recorder.caller(LOUD)
    recorder.agent(b"\x00\x20" * 1600, 8000)  # 200 ms at 8 kHz, resampled to 16 kHz
    path = recorder.finish()
    assert path == tmp_path / "conv_1" / "recording.wav" and not list((tmp_path / "conv_1").glob("*.pcm"))
    left, right = read(path)
    at = lambda ms: RATE * 2 * ms // 1000  # noqa: E731 - byte offset of a time in one channel
    # Each chunk ends when it arrives: 0-100 ms, then (after 400 ms) 300-400 ms, silence between.
    assert at(380) <= len(left) <= at(480)
    assert audioop.rms(left[:at(100)], 2) > 1000
    assert audioop.rms(left[at(120):at(280)], 2) == 0  # the gap
    assert audioop.rms(left[-at(100):], 2) > 1000
    # The agent's 200 ms arrived with the second chunk: quiet before, speech in the last 200 ms.
    assert audioop.rms(right[:at(180)], 2) == 0 and audioop.rms(right[-at(100):], 2) > 500
    assert recorder.finish() is None  # once


def test_a_resumed_stream_adds_to_the_recording(tmp_path):
    for _ in range(2):
        recorder = CallRecorder(tmp_path / "conv_2")
        recorder.caller(LOUD)
        recorder.finish()
    left, _ = read(tmp_path / "conv_2" / "recording.wav")
    assert len(left) == 2 * len(LOUD)


async def test_recordings_go_when_their_session_is_purged(tmp_path):
    storage = SQLiteStorage(tmp_path / "parley.db")
    await storage.open()
    try:
        now = datetime.now(UTC)
        await storage.create_session(SessionRecord("conv_kept", None, "ended", {}, now, now))
        recordings = Recordings(tmp_path / "recordings")
        for session_id in ("conv_kept", "conv_purged"):
            recorder = recordings.start(session_id)
            recorder.caller(LOUD)
            recorder.finish()
        assert sorted(recordings.session_ids()) == ["conv_kept", "conv_purged"]
        assert recordings.describe("conv_kept") == {"duration_ms": 100, "bytes": 44 + len(LOUD) * 2}
        assert await recordings.sweep(storage) == 1
        assert recordings.session_ids() == ["conv_kept"] and recordings.wav("conv_purged") is None
    finally:
        await storage.close()
