"""The shared, loaded-once parts every conversation of a process uses."""

from collections.abc import Callable
from dataclasses import dataclass, field

from agents.clock import loop_time
from agents.line_cache import OPENERS_KEPT, LineCache
from agents.lines import GOODBYE, HOLD

from agents.providers.asr.base import ASR
from agents.providers.llm.base import LLM, LLMOptions
from agents.providers.tts.base import TTS
from agents.tools.runner import ToolRunner
from media.denoise import Denoiser
from media.vad.base import VAD


@dataclass
class Engine:
    asr: ASR
    llm: LLM
    tts: TTS
    tools: ToolRunner
    make_vad: Callable[[int, float], VAD]  # (sample_rate, threshold) -> a new per-stream VAD
    # A new per-call noise suppressor (pcm16 16 kHz in and out) for sessions that ask for one; None: not available.
    make_denoiser: Callable[[], Denoiser] | None = None
    llm_options: LLMOptions = LLMOptions()
    lines: LineCache = field(default_factory=LineCache)  # the hold line & co., synthesised once
    # Short first clauses ("Yes,", "Sure,", "I'm sorry,") recur across calls: their audio is kept apart from the
    # lines above, so a stream of varied short pieces cannot push the hold line out.
    openers: LineCache = field(default_factory=lambda: LineCache(OPENERS_KEPT))
    vad_threshold: float = 0.5  # 0.0-1.0, for sessions and streams that do not set their own
    min_speech_ms: int = 120
    hangover_ms: int = 500  # end of turn after this much silence when the words give no clue
    endpoint_min_ms: int = 250  # shortest end of turn, after a finished question (transcribed from half of it); 0 = fixed hangover
    endpoint_max_ms: int = 1500  # the longest wait, after "my number is four five..." or "and"
    transcribe_after_ms: int = 60  # silence before a pause is transcribed (and a reply begun: `speculate`)
    # A caller who never pauses (or a line whose noise the VAD takes for speech) is answered after this much
    # speech all the same, instead of never; 28 s is the longest clip Whisper reads on a fitted window. 0 = never.
    max_turn_ms: int = 30000
    # Sound over the assistant before its reply pauses (the false-barge-in guard); below min_speech_ms the reply
    # pauses before the sound is speech, and plays on if it stops short of it (a click, a cough).
    interrupt_min_ms: int = 60
    backchannel_max_ms: int = 700  # longer speech over the assistant is an interruption whatever it says
    resume_after_backchannel: bool = True  # "mm-hmm" or noise over a reply: play on; False: any speech cuts it
    echo_suppression_db: float = 12.0  # while talking, caller audio this far below our own output is echo; 0 = off
    # Start the reply in the caller's pause, before the turn is known to be over; it is heard only if the turn ends
    # with the words it answers (agents/speculation.py).
    speculate: bool = True
    partial_interval_ms: int = 2000  # partials at each pause and at least this often without one; 0 = never
    max_tool_rounds: int = 3  # LLM -> tools -> LLM rounds in one reply
    refuse_invented_numbers: bool = False  # the reply guard refuses numbers nothing in the call holds (the gateway: on)
    hold_after_ms: int = 700  # a tool slower than this gets a hold line spoken while it runs
    hold_line: str = HOLD
    idle_timeout_s: float = 300.0  # a live session with no speech, text or reply this long ends; 0 = never
    dtmf_pause_ms: int = 1500  # key presses end with "#" or after this long without another key
    goodbye_line: str = GOODBYE  # end_call's words when the model gave none
    # Synthesise the apology for a failing model as each call starts (once per voice and rate: kept in `lines`), so a
    # TTS on a server that goes down later still has it to say. The gateway sets it for a remote TTS.
    keep_apology: bool = False
    # Seconds on a monotonic clock: every duration the engine measures or waits out reads it (the event loop's
    # own clock, agents/clock.py, so a test may run the engine on a virtual one).
    clock: Callable[[], float] = loop_time
