"""Which packaged GGUF model answers the phone best: tool calls first, then latency (run on demand, not by pytest).

    .venv/bin/python tests/perf/llm_eval.py                       # every installed packaged model
    .venv/bin/python tests/perf/llm_eval.py --models qwen2.5-coder-0.5b --runs 3 --temperature 0.2
    .venv/bin/python tests/perf/llm_eval.py --parallel qwen2.5-coder-0.5b   # 1 slot vs 2 slots, two callers at once

Each model runs in its own subprocess (so its RSS is its own) through LlamaCppLLM,
the same code the engine uses. Cases:
  a  "What is the status of order 1234?"                       -> lookup_order(order_id="1234")
  b  "..., order number one two three four?" (ASR-style words)  -> lookup_order(order_id="1234")
  c  "Hi, can you help me?"                                     -> no tool call, a plain coherent answer
  d  after the tool result {"status": "shipped", ...}           -> an answer that says shipped
  e  "Where is my order?"                                       -> no invented number: asks for it
  f  after a greeting and small talk, "Where is order 1234?"  -> lookup_order(order_id="1234") (a call
     rarely starts with the order: after a plain assistant turn a small model stops calling tools)
  g  after the greeting, "Can you check order 5678 for me?"   -> lookup_order(order_id="5678")
  h  after "Order 1234 shipped ... with UPS", "Which carrier?"  -> an answer that says UPS (earlier turns read)
Latency: `ttft` is request -> first TextDelta (the first thing TTS could speak) for
c/d/e, `call` request -> complete ToolCallRequest for a/b; medians over the warm runs.
"""

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from agents.providers.llm.base import LLMOptions, Message, TextDelta, ToolCallRequest, ToolSpec  # noqa: E402
from agents.providers.llm.packaged import MODELS  # noqa: E402

SYSTEM = "You are a concise phone support agent for Acme. Answer in one or two short sentences."
LOOKUP = ToolSpec(
    name="lookup_order",
    description="Look up the status of a customer's order by its order number.",
    parameters={
        "type": "object",
        "properties": {"order_id": {"type": "string", "description": "The order number"}},
        "required": ["order_id"],
    },
)
RESULT = {"order_id": "1234", "status": "shipped", "carrier": "UPS", "eta": "Friday"}
CALL = ToolCallRequest("call_1", "lookup_order", {"order_id": "1234"})
TOOL_TALK = re.compile(r"\b(function|tool|json|lookup_order|argument|parameter)s?\b|[{}]", re.I)


GREETING = "Thanks for calling Acme. How can I help?"


def _history(user: str) -> list[Message]:
    return [Message("system", SYSTEM), Message("user", user)]


CASES = {
    "a": _history("What is the status of order 1234?"),
    "b": _history("What's the status of my order, order number one two three four?"),
    "c": _history("Hi, can you help me?"),
    "d": _history("What is the status of order 1234?")
    + [Message("assistant", "", tool_calls=(CALL,)), Message("tool", json.dumps(RESULT), tool_call_id="call_1", name="lookup_order")],
    "e": _history("Where is my order?"),
    "f": [Message("system", SYSTEM), Message("assistant", GREETING), Message("user", "Hi there."),
          Message("assistant", "Hello! How can I help you today?"), Message("user", "Where is order 1234?")],
    "g": [Message("system", SYSTEM), Message("assistant", GREETING), Message("user", "Can you check order 5678 for me?")],
    "h": _history("What is the status of order 1234?")
    + [Message("assistant", "", tool_calls=(CALL,)), Message("tool", json.dumps(RESULT), tool_call_id="call_1", name="lookup_order"),
       Message("assistant", "Order 1234 has shipped with UPS and should arrive on Friday."),
       Message("user", "Sorry, which carrier was that?")],
}


def judge(case: str, text: str, calls: list[ToolCallRequest]) -> tuple[bool, str]:
    text = text.strip()
    if case in ("a", "b", "f", "g"):
        wanted = "5678" if case == "g" else "1234"
        ok = len(calls) == 1 and calls[0].name == "lookup_order" and calls[0].arguments.get("order_id") == wanted
        return ok and "{" not in text, "call " + ", ".join(f"{c.name}({json.dumps(c.arguments)})" for c in calls) if calls else "no call: " + text
    if calls:
        return False, "called " + ", ".join(f"{c.name}({json.dumps(c.arguments)})" for c in calls)
    if case == "c":
        return len(text.split()) >= 3 and not TOOL_TALK.search(text), text
    if case == "d":
        return "shipped" in text.lower() and not TOOL_TALK.search(text), text
    if case == "h":
        return "ups" in text.lower() and not TOOL_TALK.search(text), text
    asks = "?" in text or re.search(r"\b(please|provide|give|tell|share|need)\b", text, re.I)
    wants_number = re.search(r"\b(order )?(number|id)\b", text, re.I)
    return bool(asks and wants_number and not re.search(r"\d{3,}", text) and not TOOL_TALK.search(text)), text


async def one_reply(llm, case: str, temperature: float, seed: int) -> dict:
    started = time.perf_counter()
    first_text = call_at = None
    text, calls = "", []
    async for out in llm.reply(CASES[case], [LOOKUP], LLMOptions(temperature=temperature, max_tokens=80, extra={"seed": seed})):
        now = time.perf_counter() - started
        if isinstance(out, TextDelta):
            first_text = first_text if first_text is not None else now
            text += out.text
        elif isinstance(out, ToolCallRequest):
            call_at = call_at if call_at is not None else now
            calls.append(out)
    ok, shown = judge(case, text, calls)
    timings = llm.last_timings
    return {
        "case": case,
        "ok": ok,
        "shown": shown,
        "ttft_s": first_text,
        "call_s": call_at,
        "total_s": time.perf_counter() - started,
        "tok_per_s": timings.get("predicted_per_second"),
        "prompt_tok_per_s": timings.get("prompt_per_second"),
        "prompt_n": timings.get("prompt_n"),
    }


def _rss_mb() -> tuple[float, float]:
    status = Path("/proc/self/status").read_text()
    get = lambda key: int(re.search(rf"{key}:\s+(\d+)", status).group(1)) / 1024  # noqa: E731
    return get("VmRSS"), get("VmHWM")


async def evaluate(model: str, runs: int, temperature: float, tools_in: str, threads: int | None) -> dict:
    from agents.providers.llm.llamacpp import LlamaCppLLM

    llm = LlamaCppLLM(model, tools_in=tools_in, threads=threads)
    started = time.perf_counter()
    await llm.start()
    load_s = time.perf_counter() - started
    results = []
    for run in range(runs):
        for case in CASES:
            results.append(await one_reply(llm, case, temperature, seed=run + 1) | {"run": run})
    rss, peak = _rss_mb()
    llm.close()
    return {"model": model, "load_s": load_s, "rss_mb": rss, "peak_rss_mb": peak, "results": results, "load_avg": os.getloadavg()[0]}


async def parallel(model: str, slots: int) -> dict:
    """Two callers at once (cases c and d): per-caller first-text latency and wall time."""
    from agents.providers.llm.llamacpp import LlamaCppLLM

    llm = LlamaCppLLM(model, slots=slots)
    await llm.start()
    for case in ("c", "d"):  # prime both prompts' prefixes, as a live call would have
        await one_reply(llm, case, 0.0, 1)
    rounds = []
    for _ in range(3):
        started = time.perf_counter()
        got = await asyncio.gather(one_reply(llm, "c", 0.0, 1), one_reply(llm, "d", 0.0, 1))
        rounds.append({"wall_s": time.perf_counter() - started, "ttft_s": [r["ttft_s"] for r in got], "ok": [r["ok"] for r in got]})
    llm.close()
    return {"model": model, "slots": slots, "rounds": rounds, "load_avg": os.getloadavg()[0]}


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _fmt(value, unit="") -> str:
    return "-" if value is None else f"{value:.2f}{unit}"


def report(summary: dict, runs: int) -> None:
    rows = summary["results"]
    by_case = {case: [r for r in rows if r["case"] == case] for case in CASES}
    passes = "  ".join(f"{c}:{sum(r['ok'] for r in rs)}/{len(rs)}" for c, rs in by_case.items())
    ttft = _median(r["ttft_s"] for r in rows if r["case"] in "cde")
    call = _median(r["call_s"] for r in rows if r["case"] in "ab")
    tps = _median(r["tok_per_s"] for r in rows)
    pps = _median(r["prompt_tok_per_s"] for r in rows)
    print(
        f"| {summary['model']} | {passes} | {_fmt(ttft, ' s')} | {_fmt(call, ' s')} | {_fmt(tps)} | {_fmt(pps)} "
        f"| {summary['rss_mb']:.0f} / {summary['peak_rss_mb']:.0f} MB | {summary['load_s']:.1f} s | {summary['load_avg']:.1f} |"
    )
    for r in rows:
        mark = "ok  " if r["ok"] else "FAIL"
        print(f"    run {r['run']} {r['case']} {mark} {_fmt(r['ttft_s'] or r['call_s'], ' s'):>7}  {r['shown'][:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", help="packaged model names or .gguf paths (default: every installed one)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--temperature", type=float, default=LLMOptions().temperature)
    parser.add_argument("--tools-in", default="auto", choices=["auto", "template", "prompt"])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--parallel", metavar="MODEL", help="compare 1 and 2 slots with two callers at once")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child process: evaluate one model, print JSON
    parser.add_argument("--slots", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one and args.slots:
        print(json.dumps(asyncio.run(parallel(args.one, args.slots))))
        return
    if args.one:
        print(json.dumps(asyncio.run(evaluate(args.one, args.runs, args.temperature, args.tools_in, args.threads))))
        return
    if args.parallel:
        for slots in (1, 2):
            out = _child(["--one", args.parallel, "--slots", str(slots)])
            for r in out["rounds"]:
                print(f"slots={slots} wall {r['wall_s']:.2f} s, first text {r['ttft_s'][0]:.2f} / {r['ttft_s'][1]:.2f} s, ok {r['ok']} (load {out['load_avg']:.1f})")
        return

    models = args.models or [name for name in MODELS if _installed(name)]
    print(f"temperature {args.temperature}, {args.runs} runs, seeds 1..{args.runs}, tools in {args.tools_in}\n")
    print("| model | pass per case | ttft (c,d,e) | tool call (a,b) | tok/s | prompt tok/s | RSS now / peak | load | load avg |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model in models:
        extra = ["--runs", str(args.runs), "--temperature", str(args.temperature), "--tools-in", args.tools_in]
        if args.threads:
            extra += ["--threads", str(args.threads)]
        report(_child(["--one", model, *extra]), args.runs)


def _child(argv: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"evaluation of {argv} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _installed(name: str) -> bool:
    from agents.errors import ProviderError
    from agents.providers.llm.packaged import _part_paths

    try:
        _part_paths(MODELS[name])
    except ProviderError:
        return False
    return True


if __name__ == "__main__":
    main()
