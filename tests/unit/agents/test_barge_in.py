"""Barge-in that is exact and not trigger-happy: guard, backchannels, echo, adaptive end of turn."""

import asyncio

import pytest

from agents.events import Interruption, TurnEnd, TurnStart
from agents.listening import OverlapsIgnored
from media.audioop_lib import audioop
from tests.fakes.engine import FakeASR, FakeLLM, FakeTTS, make_engine, silence, speech
from tests.fakes.harness import Harness, assistant_end

pytestmark = pytest.mark.looptime  # the engine on a virtual loop clock: exact milliseconds, no real waiting

LONG_REPLY = " ".join(f"Sentence number {i} is here." for i in range(1, 13))  # 12 x 250 ms of fake speech


async def talking(h: Harness, first_words: str = "tell me a story") -> None:
    """Start a long reply and let it play for a moment."""
    h.conversation.feed_text(first_words)
    await h.wait_for(lambda e: isinstance(e, TurnStart) and e.role == "assistant")
    await asyncio.sleep(0.4)


async def test_mm_hmm_over_the_reply_pauses_it_then_it_plays_on(closing):
    h = Harness(make_engine(FakeASR(["Mm-hmm."]), FakeLLM([[LONG_REPLY]])))
    closing(h)
    await talking(h)
    sent_before = len(h.frames)
    for i in range(0, len(speech(400)), 640):  # 400 ms "mm-hmm"
        h.conversation.feed_audio(speech(400)[i:i + 640])
    assert h.sink.paused  # stopped within the guard, while the caller still talks
    paused_frames = len(h.frames)
    assert paused_frames == sent_before  # held at the sound's onset: not one more frame went out
    await h.say(ms=0, pause_ms=300)
    end = await h.wait_for(assistant_end, timeout=10)
    assert not end.interrupted and not any(isinstance(e, Interruption) for e in h.events)
    stored = [t for _, t in h.store.turns]
    assert [t.role for t in stored] == ["user", "assistant"] and stored[1].text == LONG_REPLY
    assert sum(len(f) for f in h.frames) // 32 >= 12 * 250 - 20  # the whole reply was heard, once
    assert h.conversation.overlaps_ignored == OverlapsIgnored(listener_sounds=1, noise=0)  # for GET /metrics


async def test_noise_over_the_reply_is_not_an_interruption(closing):
    h = Harness(make_engine(FakeASR([""]), FakeLLM([[LONG_REPLY]])))
    closing(h)
    await talking(h)
    await h.say(ms=300, pause_ms=300)
    end = await h.wait_for(assistant_end, timeout=10)
    assert not end.interrupted
    assert h.conversation.overlaps_ignored.listener_sounds + h.conversation.overlaps_ignored.noise == 1


async def test_words_over_the_reply_interrupt_it_where_it_was_paused(closing):
    h = Harness(make_engine(FakeASR(["Stop, stop."]), FakeLLM([[LONG_REPLY], ["Sure."]])))
    closing(h)
    await talking(h)
    await h.say(ms=400, pause_ms=0)
    paused_at = h.sink.played_ms()
    await h.say(ms=0, pause_ms=300)
    cut = await h.wait_for(lambda e: isinstance(e, Interruption))
    assert cut.played_ms == paused_at  # what was heard when the reply stopped, not when we decided
    await h.wait_for(lambda e: assistant_end(e) and e.turn_id == "turn_004")
    stored = {t.turn_id: t for _, t in h.store.turns}
    assert stored["turn_002"].interrupted and stored["turn_002"].text == cut.text
    assert stored["turn_003"].text == "Stop, stop."


async def test_long_speech_over_the_reply_interrupts_before_the_caller_stops(closing):
    h = Harness(make_engine(FakeASR(["I said I want to talk to a person"]), FakeLLM([[LONG_REPLY], ["Sure."]])))
    closing(h)
    await talking(h)
    audio = speech(800)
    for i in range(0, len(audio), 640):
        h.conversation.feed_audio(audio[i:i + 640])
    assert any(isinstance(e, Interruption) for e in h.events)  # 700 ms of talk is no "mm-hmm"


async def test_words_over_the_reply_interrupt_as_soon_as_they_are_heard(closing):
    # "Wait, I have a question": no need to wait out the 700 ms a "mm-hmm" could last.
    h = Harness(make_engine(FakeASR(["Wait, I have a question."]), FakeLLM([[LONG_REPLY], ["Sure."]])))
    closing(h)
    await talking(h)
    await h.say(ms=400, pause_ms=0, realtime=True)
    assert any(isinstance(e, Interruption) for e in h.events)


async def test_a_listener_word_over_the_reply_is_read_but_does_not_interrupt(closing):
    h = Harness(make_engine(FakeASR(["Okay."]), FakeLLM([[LONG_REPLY]])))
    closing(h)
    await talking(h)
    await h.say(ms=400, pause_ms=0, realtime=True)
    assert h.sink.paused and not any(isinstance(e, Interruption) for e in h.events)
    await h.say(ms=0, pause_ms=300)
    end = await h.wait_for(assistant_end, timeout=10)
    assert not end.interrupted


async def test_a_listener_word_read_whole_lets_the_reply_play_on_once_the_caller_is_quiet(closing):
    h = Harness(make_engine(FakeASR(["Okay."]), FakeLLM([[LONG_REPLY]])))  # ends speech after 200 ms of silence
    closing(h)
    await talking(h)
    await h.say(ms=400, pause_ms=0, realtime=True)  # read while it is said: "Okay."
    assert h.sink.paused
    await h.say(ms=0, pause_ms=160, realtime=True)
    assert not h.sink.paused  # played on after 120 ms of quiet, not at the end of speech
    end = await h.wait_for(assistant_end, timeout=10)
    assert not end.interrupted and not any(isinstance(e, Interruption) for e in h.events)


async def test_a_blip_shorter_than_the_guard_does_not_pause(closing):
    h = Harness(make_engine(FakeASR([""]), FakeLLM([[LONG_REPLY]]), interrupt_min_ms=120))
    closing(h)
    await talking(h)
    await h.say(ms=100, pause_ms=300)  # longer than min speech (60 ms), shorter than the 120 ms guard
    assert not h.sink.paused
    end = await h.wait_for(assistant_end, timeout=10)
    assert not end.interrupted


def feed(h: Harness, pcm: bytes) -> None:
    for i in range(0, len(pcm), 640):  # 20 ms frames
        h.conversation.feed_audio(pcm[i:i + 640])


async def test_a_guard_shorter_than_speech_holds_the_reply_at_the_sound_and_plays_on_if_it_stops(closing):
    # interrupt_min_ms below min_speech_ms (60 ms here): the reply pauses before the sound counts as speech.
    h = Harness(make_engine(FakeASR([""]), FakeLLM([[LONG_REPLY]]), interrupt_min_ms=40))
    closing(h)
    await talking(h)
    feed(h, speech(20))
    assert not h.sink.paused
    feed(h, speech(20))
    assert h.sink.paused  # 40 ms of sound
    feed(h, silence(60))
    assert h.sink.paused  # perhaps a word's stop consonant: held on
    feed(h, silence(60))
    assert not h.sink.paused  # a click: 120 ms gone and never speech, the reply plays on
    end = await h.wait_for(assistant_end, timeout=10)
    assert not end.interrupted
    assert [t.role for _, t in h.store.turns] == ["user", "assistant"]  # no user turn for the click
    assert h.conversation.overlaps_ignored == OverlapsIgnored(listener_sounds=0, noise=1)


async def test_on_a_line_that_keeps_clicking_the_reply_stops_holding_for_each_click(closing):
    h = Harness(make_engine(FakeASR([""]), FakeLLM([[LONG_REPLY]]), interrupt_min_ms=40))
    closing(h)
    await talking(h)
    for _ in range(3):  # three clicks that never became speech
        feed(h, speech(40))
        assert h.sink.paused
        feed(h, silence(140))
        assert not h.sink.paused
    feed(h, speech(40))
    assert not h.sink.paused  # the fourth: a noisy line, the reply pauses only for speech
    end = await h.wait_for(assistant_end, timeout=10)
    assert not end.interrupted


async def test_speech_that_began_as_a_held_sound_interrupts_where_the_reply_was_held(closing):
    h = Harness(make_engine(FakeASR(["Stop, stop."]), FakeLLM([[LONG_REPLY], ["Sure."]]), interrupt_min_ms=40))
    closing(h)
    await talking(h)
    feed(h, speech(40))
    held_at = h.sink.played_ms()
    await h.say(ms=360, pause_ms=300)
    cut = await h.wait_for(lambda e: isinstance(e, Interruption))
    assert cut.played_ms == held_at


async def test_a_backchannel_that_began_as_a_held_sound_lets_the_reply_play_on(closing):
    h = Harness(make_engine(FakeASR(["Mm-hmm."]), FakeLLM([[LONG_REPLY]]), interrupt_min_ms=40))
    closing(h)
    await talking(h)
    await h.say(ms=300, pause_ms=300, realtime=True)
    end = await h.wait_for(assistant_end, timeout=10)
    assert not end.interrupted and not any(isinstance(e, Interruption) for e in h.events)


async def test_with_resume_off_a_held_sound_that_becomes_speech_interrupts(closing):
    h = Harness(make_engine(FakeASR(["Mm-hmm."]), FakeLLM([[LONG_REPLY], ["Yes?"]]), interrupt_min_ms=40,
                            resume_after_backchannel=False))
    closing(h)
    await talking(h)
    feed(h, speech(80))
    assert any(isinstance(e, Interruption) for e in h.events)


async def test_without_resume_any_speech_past_the_guard_interrupts(closing):
    h = Harness(make_engine(FakeASR(["Mm-hmm."]), FakeLLM([[LONG_REPLY], ["Yes?"]]), resume_after_backchannel=False))
    closing(h)
    await talking(h)
    await h.say(ms=300, pause_ms=300)
    await h.wait_for(lambda e: isinstance(e, Interruption))


async def echo_call(h: Harness, seconds: float, delay_s: float = 0.15, gain: float = 0.1,
                    caller: bytes = b"") -> None:
    """Play a phone line in real time: every 20 ms the caller's frame is their own speech (from
    `caller`) plus what we sent `delay_s` ago, at `gain` (0.1 = -20 dB)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    frames = int(seconds * 50)
    for n in range(frames):
        now = loop.time()
        heard = [(t, f) for t, f in h.sent if t <= now - delay_s]
        echo = heard[-1][1] if heard and heard[-1][0] > now - delay_s - 0.06 else b""
        frame = silence(20)
        if echo:
            frame = audioop.add(frame, audioop.mul(echo, 2, gain), 2)
        own = caller[n * 640:(n + 1) * 640]
        if len(own) == 640:
            frame = audioop.add(frame, own, 2)
        h.conversation.feed_audio(frame)
        await asyncio.sleep(max(0.0, start + (n + 1) * 0.02 - loop.time()))


@pytest.mark.parametrize("delay_s", [0.1, 0.2])
async def test_the_assistants_own_echo_does_not_interrupt_it(closing, delay_s):
    h = Harness(make_engine(FakeASR(["Sentence number one."]), FakeLLM([[LONG_REPLY]])))
    closing(h)
    await talking(h)
    await echo_call(h, 1.5, delay_s=delay_s)
    assert not h.sink.paused and not any(isinstance(e, Interruption) for e in h.events)
    assert sum(isinstance(e, TurnStart) and e.role == "user" for e in h.events) == 1  # the typed one


async def test_echo_would_interrupt_without_suppression(closing):
    """The control for the test above: the same echo, suppression off, cuts the reply."""
    h = Harness(make_engine(FakeASR(["Sentence number one."]), FakeLLM([[LONG_REPLY], ["Yes?"]]),
                            echo_suppression_db=0, resume_after_backchannel=False))
    closing(h)
    await talking(h)
    await echo_call(h, 1.0)
    assert any(isinstance(e, Interruption) for e in h.events)


async def test_the_caller_still_interrupts_over_the_echo(closing):
    h = Harness(make_engine(FakeASR(["Hold on, that is wrong."]), FakeLLM([[LONG_REPLY], ["Sorry."]])))
    closing(h)
    await talking(h)
    caller = silence(300) + speech(900)
    await echo_call(h, 1.4, caller=caller)
    cut = await h.wait_for(lambda e: isinstance(e, Interruption))
    assert cut.text and LONG_REPLY.startswith(cut.text)


async def test_interrupted_a_hundred_times_leaks_no_tasks(closing):
    llm = FakeLLM([[LONG_REPLY] for _ in range(101)])
    h = Harness(make_engine(FakeASR(), llm))
    closing(h)
    await talking(h, "start")
    baseline = len(asyncio.all_tasks())
    for i in range(100):
        h.conversation.feed_text(f"interruption {i}")
        await h.wait_for(lambda e, n=i: isinstance(e, TurnStart) and e.role == "assistant"
                         and e.turn_id == f"turn_{2 * n + 4:03d}")
    assert sum(isinstance(e, Interruption) for e in h.events) == 100
    assert len(asyncio.all_tasks()) <= baseline + 1
    assert h.conversation._user is None and not h.sink.paused


# -- adaptive end of turn ------------------------------------------------------------------------


async def test_a_finished_question_ends_the_turn_after_a_short_pause(closing):
    h = Harness(make_engine(FakeASR(["Where is my order?"]), FakeLLM([["On its way."]]), endpoint_min_ms=200,
                            hangover_ms=500, endpoint_max_ms=1500))
    closing(h)
    await h.say(ms=600, pause_ms=900, realtime=True)
    await h.wait_for(assistant_end)
    reply = h.store.turns[-1][1]
    assert reply.endpoint_ms == 200  # endpoint_min_ms, not the 500 ms hangover


async def test_digits_read_slowly_are_not_cut_off(closing):
    digits = "My number is 4 5 6."
    llm = FakeLLM([["Thanks."]])
    h = Harness(make_engine(FakeASR([digits]), llm, endpoint_min_ms=200, hangover_ms=500,
                            endpoint_max_ms=1500))
    closing(h)
    for _ in range(2):
        await h.say(ms=300, pause_ms=800, realtime=True)  # "four" ... "five" ...
    await h.say(ms=300, pause_ms=1700, realtime=True)
    await h.wait_for(assistant_end)
    user_turns = [t for _, t in h.store.turns if t.role == "user"]
    assert [t.text for t in user_turns] == [digits] and len(llm.calls) == 1
    assert h.store.turns[-1][1].endpoint_ms == 1500  # endpoint_max_ms after digits, and reported


async def test_with_a_fixed_hangover_slow_digits_are_cut(closing):
    """The control for the test above: a fixed 500 ms silence splits the number into turns."""
    llm = FakeLLM([["Go on."], ["Go on."], ["Go on."], ["Go on."]])
    h = Harness(make_engine(FakeASR(["4", "5", "6", "7"]), llm, endpoint_min_ms=0, hangover_ms=500))
    closing(h)
    for _ in range(4):
        await h.say(ms=300, pause_ms=800, realtime=True)
    await asyncio.sleep(0.3)
    assert sum(isinstance(e, TurnEnd) and e.role == "user" for e in h.events) >= 2


async def test_a_pause_mid_sentence_gets_the_usual_wait(closing):
    h = Harness(make_engine(FakeASR(["hello there"]), FakeLLM([["Hi."]]), endpoint_min_ms=200,
                            hangover_ms=500, endpoint_max_ms=1500))
    closing(h)
    await h.say(ms=500, pause_ms=900, realtime=True)
    await h.wait_for(assistant_end)
    assert h.store.turns[-1][1].endpoint_ms == 500  # the hangover: words that may go on


async def test_tts_is_not_needed_for_the_tests_above():
    assert FakeTTS.ms_per_word == 50  # LONG_REPLY's timing above relies on it


async def test_a_client_that_stops_sending_audio_still_gets_its_turn_ended(closing):
    """API clients may send nothing once their user stops talking: the wait runs on the clock."""
    h = Harness(make_engine(FakeASR(["My number is 4"]), FakeLLM([["Go on."]]), endpoint_min_ms=200,
                            hangover_ms=500, endpoint_max_ms=1000))
    closing(h)
    await h.say(ms=400, pause_ms=300, realtime=True)  # then nothing at all
    await h.wait_for(assistant_end, timeout=5)
    assert [t.text for _, t in h.store.turns if t.role == "user"] == ["My number is 4"]


async def test_the_llm_reads_the_context_while_the_caller_talks(closing):
    class CachingLLM(FakeLLM):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.prefilled: list[list] = []

        async def warm_up(self, messages, tools) -> None:
            self.prefilled.append([m.content for m in messages])

    llm = CachingLLM([["Hi there."], ["Sure."]])
    h = Harness(make_engine(FakeASR(["hello", "and another thing,"]), llm, endpoint_min_ms=200, hangover_ms=400,
                            endpoint_max_ms=1000))
    closing(h)
    await h.say(realtime=True, pause_ms=700)
    await h.wait_for(assistant_end)
    await h.say(realtime=True, pause_ms=1200)  # "and another thing," ... a pause that does not end the turn
    await h.wait_for(lambda e: assistant_end(e) and e.turn_id == "turn_004")
    # at the start (system prompt only), as each turn began (the context before the new words), and in a
    # pause that did not end the turn (the words so far)
    assert llm.prefilled[0] == ["Be brief."]
    assert ["Be brief.", "hello", "Hi there."] in llm.prefilled
    assert ["Be brief.", "hello", "Hi there.", "and another thing,"] in llm.prefilled


async def test_hanging_up_mid_reply_still_stores_what_was_heard(closing):
    h = Harness(make_engine(FakeASR(), FakeLLM([[LONG_REPLY]])))
    closing(h)
    await talking(h)
    await h.conversation.end("hangup")
    stored = {t.turn_id: t for _, t in h.store.turns}
    reply = stored["turn_002"]
    assert reply.interrupted and reply.text and LONG_REPLY.startswith(reply.text) and reply.text != LONG_REPLY
    assert reply.duration_ms == 410  # heard in the 400 ms it played, plus the frame in flight
    assert h.types()[-1] == "session_ended:"


async def test_hanging_up_right_after_a_barge_in_keeps_both_turns(closing):
    h = Harness(make_engine(FakeASR(["Stop there."]), FakeLLM([[LONG_REPLY], ["Sure."]], delay_s=0.5)))
    closing(h)
    await talking(h)
    await h.say(ms=800, pause_ms=0)  # long enough to be an interruption at once
    await h.wait_for(lambda e: isinstance(e, Interruption))
    await h.conversation.end("hangup")
    stored = {t.turn_id: t for _, t in h.store.turns}
    assert stored["turn_002"].interrupted and stored["turn_002"].text
