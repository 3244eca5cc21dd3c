"""The interruption guard: caller speech over the assistant's reply, from "mm-hmm" to "stop".

Sound over a reply first pauses it (after `pause_after_ms`; below the speech detector's
`min_speech_ms` this happens before the sound counts as speech, and a cough or a click that ends
sooner lets the reply play on at once); then it is an interruption once it is longer than any
listener's sound (`confirm_after_ms`) or its words carry more than one (agents/turns/backchannel.py);
a short sound that said nothing lets the reply play on from where it paused. With `resume` off,
speech over a reply interrupts it as soon as it is speech.
"""

from dataclasses import dataclass
from enum import Enum

from agents.turns.backchannel import is_backchannel


class Overlap(Enum):
    NOTHING = "nothing"  # keep listening
    PAUSE = "pause"  # hold the reply: maybe an interruption
    INTERRUPT = "interrupt"  # the caller has the turn: cut the reply


@dataclass(frozen=True, slots=True)
class InterruptionGuard:
    pause_after_ms: int = 60
    confirm_after_ms: int = 700
    resume: bool = True
    release_after_ms: int = 120
    noisy_line_holds: int = 3  # released holds within `noisy_line_window_ms` that make a line noisy
    noisy_line_window_ms: int = 60000
    # Words are first read after this much speech: on 120 ms of "Stop, I have..." Whisper heard nothing,
    # on 180 ms "stop" (tests/perf/barge_in_bench.py), and a reading takes 0.25-0.65 s while the paused
    # reply's LLM and TTS share the CPU, so a wasted one left the decision to `confirm_after_ms`.
    read_after_ms: int = 180
    read_slack_ms: int = 100

    def holds_at_onset(self, onset_ms: int, recent_false_holds: int = 0) -> bool:
        """Sound over a reply, not yet speech (`onset_ms` of it): pause the reply now? Not on a line whose sounds
        held the reply `noisy_line_holds` times lately without becoming speech (hiss, a fan, traffic): there
        the reply pauses once the sound is speech (tests/perf/noise_bench.py: pink noise at 10 dB below
        speech held a reply 145 times in 3 minutes)."""
        return 0 < self.pause_after_ms <= onset_ms and recent_false_holds < self.noisy_line_holds

    def releases_hold(self, quiet_ms: int) -> bool:
        """A reply held for a sound that never became speech plays on after `quiet_ms` without it: a click
        or a cough is over; a word's own stops ("st-op": the closure before a vowel) are shorter."""
        return quiet_ms >= self.release_after_ms

    def on_speech(self, speech_ms: int, paused: bool) -> Overlap:
        """Per frame while the caller talks over a reply: `speech_ms` of it so far, the reply `paused` already."""
        if not paused:
            if speech_ms < self.pause_after_ms:
                return Overlap.NOTHING
            return Overlap.PAUSE if self.resume else Overlap.INTERRUPT
        return Overlap.INTERRUPT if not self.resume or speech_ms >= self.confirm_after_ms else Overlap.NOTHING

    def reads_words(self, speech_ms: int) -> bool:
        """Is there enough speech over the reply to read its words (if they are not being read yet)?"""
        return self.resume and speech_ms >= self.read_after_ms

    def plays_on(self, read_at_speech_ms: int, speech_ms: int, silence_ms: int) -> bool:
        """A reading of the words said a listener's sound: did it cover the speech (all but its last
        `read_slack_ms`, too short for another word), and has the caller been quiet `release_after_ms`?
        Then the paused reply plays on now."""
        return read_at_speech_ms + self.read_slack_ms >= speech_ms and silence_ms >= self.release_after_ms

    def interrupts(self, heard: str, language: str) -> bool:
        """Words heard over the reply (so far, or once the caller stopped): do they take the turn?"""
        return not self.resume or not is_backchannel(heard, language)
