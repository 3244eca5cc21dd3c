"""What a caller hears: a second SIP user agent (pjsua2, in its own process) calls, asks, records the gateway's
RTP, and Whisper transcribes the recording: the agent answered the question, over a stray RTP sender."""

import difflib

import pytest

from tests.integration.sip.conftest import QUESTION, pcm_wav
from tests.integration.sip.softphone import call
from tests.integration.sip.test_sip_calls import ANSWERS, assert_question_answered, words

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("codec, rate", [("PCMU", 8000), ("G722", 16000)])
def test_the_caller_hears_the_greeting_and_the_answer(sip_gateway, whisper, tmp_path, codec, rate):
    # ANSWERS hangs up once its answer was heard: the recording holds the whole answer however long it took.
    result = call(f"sip:{ANSWERS}@{sip_gateway.target}", pcm_wav(tmp_path / "question.wav", QUESTION, rate),
                  tmp_path, seconds=120, codec=codec, junk_rtp=codec == "PCMU")
    assert result.connected and result.codec.startswith(codec) and result.hung_up_by == "gateway"
    session = sip_gateway.ended_session_of(result.call_id)
    assert_question_answered(session)  # the gateway understood the question and answered "... Paris ..."
    heard = words(whisper(result.heard, result.rate))
    greeting, answer = words(session["history"][0]["text"]), words(session["history"][2]["text"])
    assert heard.startswith(greeting), heard  # the greeting, on connect
    # The answer as the caller's earpiece got it (Whisper spells the city "parris" at times).
    spoken = heard[len(greeting):].strip()
    assert difflib.SequenceMatcher(None, spoken, answer).ratio() >= 0.8, (spoken, answer)
    if codec == "PCMU":
        assert result.junk_sent == 200  # RTP from an address the SDP never named: ignored, the call went on
