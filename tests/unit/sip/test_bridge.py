"""The audio bridge of one call: frames cross between pjsua2's clock thread and the loop through deques."""

import threading
import time

import pjsua2 as pj

from sip.bridge import BridgePort, FrameQueues, _read_vector_fast, read_vector


def test_frames_are_read_in_one_copy_and_exactly():
    data = bytes(range(256)) * 2 + b"\x00\xff"
    vector = pj.ByteVector(data)
    assert read_vector is _read_vector_fast  # the layout check passed: not the 180 us per frame path
    assert read_vector(vector) == data
    assert read_vector(pj.ByteVector(b"")) == b""
    started = time.perf_counter()
    for _ in range(1000):
        read_vector(vector)
    assert (time.perf_counter() - started) / 1000 < 50e-6


def frame_with(pcm: bytes) -> pj.MediaFrame:
    frame = pj.MediaFrame()
    frame.buf = pj.ByteVector(pcm)
    frame.size = len(pcm)
    frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
    return frame


def test_caller_frames_queue_up_and_ours_are_taken_in_order_with_silence_between():
    queues = FrameQueues(8000)
    port = BridgePort(8000)  # not registered with a bridge: the callbacks are called as pjsua2 would
    port.queues = queues
    port.onFrameReceived(frame_with(b"\x01\x00" * 160))
    port.onFrameReceived(frame_with(b"\x01\x00" * 7))  # not a 20 ms frame: dropped
    assert list(queues.inbound) == [b"\x01\x00" * 160] and queues.frames_in == 1

    queues.outbound.extend([b"\x02\x00" * 160, b"\x03\x00" * 160])
    assert queues.unheard_ms() == 40
    first, second, empty = pj.MediaFrame(), pj.MediaFrame(), pj.MediaFrame()
    for frame in (first, second, empty):
        port.onFrameRequested(frame)
    assert read_vector(first.buf) == b"\x02\x00" * 160 and first.size == 320
    assert read_vector(second.buf) == b"\x03\x00" * 160
    assert empty.type == pj.PJMEDIA_FRAME_TYPE_NONE  # nothing queued: the bridge plays silence
    assert queues.frames_out == 2 and queues.unheard_ms() == 0


def test_a_stalled_loop_loses_the_oldest_caller_audio_not_the_clock_thread():
    queues = FrameQueues(8000)
    port = BridgePort(8000)
    port.queues = queues
    frames = [bytes([n % 256, 0]) * 160 for n in range(80)]

    def clock_thread():
        for pcm in frames:
            port.onFrameReceived(frame_with(pcm))

    thread = threading.Thread(target=clock_thread)
    thread.start()
    thread.join(5)
    assert not thread.is_alive()  # never blocked on the loop
    assert list(queues.inbound) == frames[-50:]  # a second of audio kept, the newest


def test_a_port_between_calls_answers_the_clock_thread_with_nothing():
    port = BridgePort(8000)  # in the pool: no call's queues
    requested = pj.MediaFrame()
    port.onFrameRequested(requested)
    port.onFrameReceived(frame_with(b"\x01\x00" * 160))
    assert requested.type == pj.PJMEDIA_FRAME_TYPE_NONE


def test_a_60_ms_bridge_frame_carries_three_of_ours_and_pads_the_last_with_silence():
    queues = FrameQueues(8000, 60)
    port = BridgePort(8000, 60)
    port.queues = queues
    port.onFrameReceived(frame_with(b"\x01\x00" * 480))
    port.onFrameReceived(frame_with(b"\x01\x00" * 160))  # a 20 ms frame on a 60 ms port: dropped
    assert list(queues.inbound) == [b"\x01\x00" * 480] and queues.frames_in == 3  # counted in 20 ms

    queues.outbound.extend(bytes([n, 0]) * 160 for n in range(1, 5))  # 80 ms of ours
    full, rest, empty = pj.MediaFrame(), pj.MediaFrame(), pj.MediaFrame()
    for frame in (full, rest, empty):
        port.onFrameRequested(frame)
    assert read_vector(full.buf) == b"".join(bytes([n, 0]) * 160 for n in (1, 2, 3)) and full.size == 960
    assert read_vector(rest.buf) == bytes([4, 0]) * 160 + b"\x00" * 640  # the speech's end, then silence
    assert empty.type == pj.PJMEDIA_FRAME_TYPE_NONE
    assert queues.frames_out == 4 and queues.unheard_ms() == 0
    assert FrameQueues(8000, 60).inbound.maxlen == 1000 // 60  # still about a second of caller audio kept
