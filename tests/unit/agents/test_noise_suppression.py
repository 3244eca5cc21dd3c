"""A session that asks for noise suppression detects the caller's speech through the engine's denoiser (the
recogniser still hears the line as it came); a denoiser that fails mid-call, or none at all, leaves the audio
as it came and the call going on."""

import pytest
from structlog.testing import capture_logs

from agents.events import TurnEnd
from media.audioop_lib import audioop
from tests.fakes.engine import FakeASR, FakeLLM, make_engine, speech
from tests.fakes.harness import Harness, assistant_end

pytestmark = pytest.mark.looptime  # the engine on a virtual loop clock: exact milliseconds, no real waiting


class Muting:
    """A denoiser that takes everything for noise: the caller is never heard."""

    def __init__(self) -> None:
        self.frames = 0

    def process(self, pcm: bytes) -> bytes:
        self.frames += 1
        return bytes(len(pcm))


class Broken:
    def process(self, pcm: bytes) -> bytes:
        raise RuntimeError("onnxruntime: bad state")


def user_turn_ended(e) -> bool:
    return isinstance(e, TurnEnd) and e.role == "user"


async def test_the_caller_is_detected_through_the_denoiser(closing):
    muting = Muting()
    h = Harness(make_engine(FakeASR(["Hello?"]), FakeLLM([["Hi."]]), make_denoiser=lambda: muting),
                noise_suppression=True)
    closing(h)
    await h.say(ms=400, pause_ms=300)
    assert muting.frames > 0
    assert not any(user_turn_ended(e) for e in h.events)  # all of it was taken for noise


class Halving:
    def process(self, pcm: bytes) -> bytes:
        return audioop.mul(pcm, 2, 0.5)


async def test_the_recogniser_hears_the_line_as_it_came(closing):
    asr = FakeASR(["Hello?"])
    h = Harness(make_engine(asr, FakeLLM([["Hi."]]), make_denoiser=Halving), noise_suppression=True)
    closing(h)
    await h.say(ms=400, pause_ms=300)
    await h.wait_for(assistant_end)
    heard = bytes(asr.streams[0].audio)
    assert heard and audioop.max(heard, 2) == audioop.max(speech(400), 2)  # not the halved audio


async def test_sessions_that_do_not_ask_hear_the_line_as_it_is(closing):
    muting = Muting()
    h = Harness(make_engine(FakeASR(["Hello?"]), FakeLLM([["Hi."]]), make_denoiser=lambda: muting))
    closing(h)
    await h.say(ms=400, pause_ms=300)
    await h.wait_for(assistant_end)
    assert muting.frames == 0


async def test_a_denoiser_that_fails_is_dropped_with_one_log_line_and_the_call_goes_on(closing):
    with capture_logs() as logs:
        h = Harness(make_engine(FakeASR(["Hello?"]), FakeLLM([["Hi."]]), make_denoiser=Broken),
                    noise_suppression=True)
        closing(h)
        await h.say(ms=400, pause_ms=300)
        await h.wait_for(assistant_end)
    assert [entry["event"] for entry in logs].count("noise_suppression_failed") == 1


async def test_asking_for_it_without_a_denoiser_warns_and_hears_the_line(closing):
    with capture_logs() as logs:
        h = Harness(make_engine(FakeASR(["Hello?"]), FakeLLM([["Hi."]])), noise_suppression=True)
        closing(h)
        await h.say(ms=400, pause_ms=300)
        await h.wait_for(assistant_end)
    assert any(entry["event"] == "noise_suppression_unavailable" for entry in logs)
