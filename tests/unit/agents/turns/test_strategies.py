"""Each turn-taking strategy alone, on exact milliseconds: no audio, no clock, no sleeps."""

import pytest

from agents.turns import (Completeness, EchoGate, EndOfTurn, InterruptionGuard, Overlap, TranscriptCompleteness,
                          TurnLength)


class Says:
    """A voter with a fixed opinion."""

    def __init__(self, name: str, vote: Completeness) -> None:
        self.name, self._vote = name, vote

    def vote(self, transcript: str, language: str) -> Completeness:
        return self._vote


END = EndOfTurn(complete_ms=250, neutral_ms=500, incomplete_ms=1500)


@pytest.mark.parametrize("said, wait_ms", [
    ("Can I pay by card?", 250),  # a finished question: answered soon
    ("I'd like to know", 500),  # no clue: the usual pause
    ("My order number is four, five", 1500),  # digits read out: the long wait
    ("I want to talk to someone and", 1500),
])
def test_the_pause_that_ends_a_turn_follows_the_words(said, wait_ms):
    verdict = END.judge(said, "en")
    assert verdict.wait_ms == wait_ms
    assert not END.ends(wait_ms - 1, verdict) and END.ends(wait_ms, verdict)


def test_the_pause_is_transcribed_well_before_the_shortest_end():
    assert END.transcribe_at_ms == 60 < END.complete_ms
    assert END.longest_ms == 1500  # the speech detector's own hangover


def test_votes_add_up_and_a_tie_waits_the_usual_pause():
    done, going_on = Says("a", Completeness.COMPLETE), Says("b", Completeness.INCOMPLETE)
    assert EndOfTurn(voters=(done,)).judge("", "en").wait_ms == 250
    tie = EndOfTurn(voters=(done, going_on)).judge("", "en")
    assert tie.completeness is Completeness.NEUTRAL and tie.wait_ms == 500
    assert tie.votes == {"a": Completeness.COMPLETE, "b": Completeness.INCOMPLETE}
    two_to_one = EndOfTurn(voters=(done, going_on, Says("c", Completeness.INCOMPLETE))).judge("", "en")
    assert two_to_one.wait_ms == 1500


def test_without_judging_every_turn_ends_after_the_fixed_pause():
    fixed = EndOfTurn(complete_ms=0, neutral_ms=700, incomplete_ms=1500)
    assert not fixed.adaptive and fixed.longest_ms == 700


def test_the_transcript_voter_reads_the_words():
    voter = TranscriptCompleteness()
    assert voter.vote("Where is my order?", "en") is Completeness.COMPLETE
    assert voter.vote("It's one two", "en") is Completeness.INCOMPLETE


def test_speech_over_a_reply_pauses_it_then_interrupts_once_longer_than_a_backchannel():
    guard = InterruptionGuard(pause_after_ms=120, confirm_after_ms=700, resume=True)
    assert guard.on_speech(119, paused=False) is Overlap.NOTHING  # a click, a cough
    assert guard.on_speech(120, paused=False) is Overlap.PAUSE
    assert guard.on_speech(699, paused=True) is Overlap.NOTHING  # could still be "mm-hmm"
    assert guard.on_speech(700, paused=True) is Overlap.INTERRUPT


def test_words_decide_whether_short_speech_over_a_reply_interrupts():
    guard = InterruptionGuard()
    assert not guard.interrupts("Mm-hmm.", "en") and not guard.interrupts("", "en")
    assert guard.interrupts("Wait, what?", "en")


def test_with_resume_off_any_speech_over_a_reply_interrupts():
    guard = InterruptionGuard(pause_after_ms=120, confirm_after_ms=700, resume=False)
    assert guard.on_speech(120, paused=False) is Overlap.INTERRUPT
    assert guard.interrupts("Mm-hmm.", "en")


def test_a_turn_without_a_pause_ends_at_the_maximum_length():
    assert not TurnLength(30000).too_long(29999) and TurnLength(30000).too_long(30000)
    assert not TurnLength(0).too_long(10 ** 9)  # 0: never


def test_the_echo_gate_raises_the_speech_floor_by_the_suppression():
    assert EchoGate(12.0).speech_floor(4000) == 1004  # 4000 * 10^(-12/20)
    assert EchoGate(0.0).speech_floor(4000) == 0 and not EchoGate(0.0).on


def test_words_over_a_reply_are_read_once_there_is_enough_speech_to_hear_them():
    guard = InterruptionGuard(read_after_ms=240)
    assert not guard.reads_words(239) and guard.reads_words(240)
    assert not InterruptionGuard(resume=False).reads_words(10 ** 6)  # nothing to decide: speech interrupts


def test_a_reply_held_for_a_sound_plays_on_once_the_sound_is_gone_a_while():
    guard = InterruptionGuard(pause_after_ms=60, release_after_ms=120)
    assert not guard.holds_at_onset(40) and guard.holds_at_onset(60)
    assert not guard.releases_hold(100) and guard.releases_hold(120)
    assert not InterruptionGuard(pause_after_ms=0).holds_at_onset(10 ** 6)  # 0: at speech start, not before


def test_a_line_whose_sounds_keep_holding_the_reply_for_nothing_gets_the_speech_guard():
    guard = InterruptionGuard(pause_after_ms=60, noisy_line_holds=3)
    assert guard.holds_at_onset(60, recent_false_holds=2)
    assert not guard.holds_at_onset(60, recent_false_holds=3)  # a noisy line: pause once it is speech


def test_a_listener_word_read_whole_plays_the_reply_on_once_the_caller_is_quiet():
    guard = InterruptionGuard(release_after_ms=120, read_slack_ms=100)
    assert guard.plays_on(read_at_speech_ms=400, speech_ms=400, silence_ms=120)
    assert not guard.plays_on(read_at_speech_ms=400, speech_ms=400, silence_ms=100)  # maybe a breath
    assert guard.plays_on(read_at_speech_ms=320, speech_ms=400, silence_ms=120)  # 80 ms more: no room for a word
    assert not guard.plays_on(read_at_speech_ms=250, speech_ms=400, silence_ms=500)  # more was said since
