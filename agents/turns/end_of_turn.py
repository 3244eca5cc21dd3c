"""The VAD pause, judged: how long a silence ends the caller's turn, given what the voters say.

In a pause the engine takes a transcript (from `transcribe_at_ms` of silence) and asks each voter
whether the caller sounds done. Votes add up (COMPLETE +1, INCOMPLETE -1): a caller who sounds done
is answered after `complete_ms`, one who sounds like going on ("my number is four five...", "and")
is waited for up to `incomplete_ms`, and no clue either way waits `neutral_ms`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from agents.turns.base import Completeness, EndOfTurnVoter
from agents.turns.transcript import TranscriptCompleteness

_SCORE = {Completeness.COMPLETE: 1, Completeness.NEUTRAL: 0, Completeness.INCOMPLETE: -1}


@dataclass(frozen=True, slots=True)
class PauseVerdict:
    completeness: Completeness
    wait_ms: int  # the silence that ends the turn
    votes: dict[str, Completeness]


@dataclass(frozen=True)
class EndOfTurn:
    """`complete_ms` 0 turns the judging off: every turn ends after `neutral_ms` of silence."""

    complete_ms: int = 250
    neutral_ms: int = 500
    incomplete_ms: int = 1500
    voters: Sequence[EndOfTurnVoter] = field(default_factory=lambda: (TranscriptCompleteness(),))
    # Silence after which the pause is transcribed: the words must be in before a turn can end, and a decode
    # takes 0.2-0.3 s on 2 cores, so the sooner the better. At 60 ms tiny.en made as many word errors as at
    # 125 or 300 ms (46.6 / 44.7 / 45.9 % on the tuning phone callers, tests/perf/pause_cut_bench.py); at
    # 30 ms more transcripts lost their punctuation and pauses inside sentences were read for nothing.
    transcribe_at_ms: int = 60

    @property
    def adaptive(self) -> bool:
        return self.complete_ms > 0

    @property
    def longest_ms(self) -> int:
        """The longest silence any turn waits (the speech detector's own hangover)."""
        return max(self.neutral_ms, self.incomplete_ms) if self.adaptive else self.neutral_ms

    def judge(self, transcript: str, language: str) -> PauseVerdict:
        votes = {voter.name: voter.vote(transcript, language) for voter in self.voters}
        score = sum(_SCORE[vote] for vote in votes.values())
        verdict = (Completeness.COMPLETE if score > 0 else Completeness.INCOMPLETE if score < 0
                   else Completeness.NEUTRAL)
        return PauseVerdict(verdict, self.wait_ms(verdict), votes)

    def wait_ms(self, verdict: Completeness) -> int:
        return {Completeness.COMPLETE: self.complete_ms, Completeness.NEUTRAL: self.neutral_ms,
                Completeness.INCOMPLETE: self.incomplete_ms}[verdict]

    def ends(self, silence_ms: int, verdict: PauseVerdict) -> bool:
        return silence_ms >= verdict.wait_ms
