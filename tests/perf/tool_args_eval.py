"""Tools the tool policy does not understand: does the embedded model call them with arguments that fit?

    .venv/bin/python tests/perf/tool_args_eval.py                     # free and constrained, 3 seeds each
    .venv/bin/python tests/perf/tool_args_eval.py --modes unfitted free constrained --json out.json
    .venv/bin/python tests/perf/tool_args_eval.py --modes free --runs 1 --split held-out

`parley eval` measures the shop's own agent, whose order look-ups, transfers and goodbyes the tool
policy decides (agents/tool_policy.py). An admin's own tools (a table booking with a party size and a
time from a list, a callback at a phone number) are left to the model. Each case is one caller turn to
one of four agents; the outcome is judged as the engine would act on it:

- a call is expected: exactly one call, to that tool, that the engine would run (every required
  value present and valid against the tool's JSON Schema: agents/tools/spec.py lacking_argument),
  with the expected values (names compared without case, phone numbers by their digits);
- no call is expected (a value the caller did not give, small talk, a question the agent answers):
  no call the engine would run, and a reply in words. A call missing a value is not run (the caller
  is asked for it), so it counts as right; a call with an invented value counts as wrong.

`--modes` compares `constrained_calls` on ("constrained": a tool call, once the model starts one, is
written again under a JSON-Schema grammar of the offered tools) and off ("free": the model's own text,
parsed leniently); both with the engine's fitting of values to the tool's schema (agents/tools/fitting.py),
"unfitted" without it (the release before it).
Cases marked held-out were written with the others and never used to choose settings.
"""

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from agents.providers.llm.base import LLMOptions, Message, TextDelta, ToolCallRequest, ToolSpec  # noqa: E402
from agents.tools.fitting import fit_arguments  # noqa: E402
from agents.tools.spec import ToolDefinition, lacking_argument  # noqa: E402

HALF_HOURS = [f"{h}:{m}" for h in range(17, 22) for m in ("00", "30")][:-1]  # 17:00 .. 21:00
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _tool(name: str, description: str, properties: dict, required: list[str]) -> ToolSpec:
    return ToolSpec(name, description, {"type": "object", "properties": properties, "required": required})


AGENTS = {
    "restaurant": (
        "You are the phone line of Luigi's, an Italian restaurant. Book tables and answer questions about "
        "opening hours. Answer in one or two short sentences.",
        [
            _tool("book_table", "Book a table for the caller.", {
                "party_size": {"type": "integer", "minimum": 1, "maximum": 12, "description": "How many people"},
                "time": {"type": "string", "enum": HALF_HOURS, "description": "Seating time, 24-hour clock"},
                "name": {"type": "string", "description": "The name the booking is under"},
            }, ["party_size", "time", "name"]),
            _tool("check_opening_hours", "Tell the opening hours of one day of the week.", {
                "day": {"type": "string", "enum": DAYS, "description": "Day of the week"},
            }, ["day"]),
        ],
    ),
    "internet": (
        "You are the support line of Northwind Broadband. Log outages and arrange callbacks. "
        "Answer in one or two short sentences.",
        [
            _tool("report_outage", "Log a service outage at the caller's address.", {
                "service": {"type": "string", "enum": ["internet", "tv", "phone"], "description": "What stopped working"},
                "postcode": {"type": "string", "pattern": "^[0-9]{5}$", "description": "Five-digit ZIP code"},
            }, ["service", "postcode"]),
            _tool("schedule_callback", "Arrange for an engineer to call the caller back.", {
                "when": {"type": "string", "enum": ["morning", "afternoon", "evening"], "description": "Part of the day"},
                "phone": {"type": "string", "pattern": "^[0-9]{10}$", "description": "Ten-digit phone number"},
            }, ["when", "phone"]),
        ],
    ),
    "clinic": (
        "You are the reception of Riverside Clinic. Book and cancel appointments. "
        "Answer in one or two short sentences.",
        [
            _tool("book_appointment", "Book an appointment with a department.", {
                "department": {"type": "string", "enum": ["cardiology", "dermatology", "pediatrics", "general"],
                               "description": "Which department"},
                "day": {"type": "string", "enum": DAYS[:5], "description": "Weekday of the appointment"},
                "patient_name": {"type": "string", "description": "Full name of the patient"},
            }, ["department", "day", "patient_name"]),
            _tool("cancel_appointment", "Cancel the caller's next appointment.", {
                "patient_name": {"type": "string", "description": "Full name of the patient"},
            }, ["patient_name"]),
        ],
    ),
    "bank": (
        "You are the card services line of Harbor Bank. Freeze cards that are lost or stolen. "
        "Answer in one or two short sentences.",
        [
            _tool("freeze_card", "Freeze a payment card so nobody can use it.", {
                "last_four": {"type": "string", "pattern": "^[0-9]{4}$", "description": "Last four digits of the card"},
                "reason": {"type": "string", "enum": ["lost", "stolen", "suspicious"], "description": "Why"},
            }, ["last_four", "reason"]),
        ],
    ),
}


@dataclass(frozen=True)
class Case:
    id: str
    agent: str
    said: str
    tool: str | None  # None: no call the engine would run
    values: dict = field(default_factory=dict)
    held_out: bool = False


CASES = [
    Case("t1", "restaurant", "A table for four at seven thirty tonight, the name is Dana Fox.", "book_table",
         {"party_size": 4, "time": "19:30", "name": "dana fox"}),
    Case("t2", "restaurant", "Could I book for two people at 6 pm? It's under Kim.", "book_table",
         {"party_size": 2, "time": "18:00", "name": "kim"}),
    Case("t3", "restaurant", "Are you open on Sunday?", "check_opening_hours", {"day": "sunday"}),
    Case("t4", "restaurant", "I'd like to book a table.", None),
    Case("t5", "restaurant", "Hi! How are you today?", None),
    Case("t6", "internet", "My internet is down, I'm in 90210.", "report_outage", {"service": "internet", "postcode": "90210"}),
    Case("t7", "internet", "Please call me back in the afternoon at 555 123 4567.", "schedule_callback",
         {"when": "afternoon", "phone": "5551234567"}),
    Case("t8", "internet", "The TV isn't working.", None),
    Case("t9", "clinic", "I need to see a dermatologist on Thursday, my name is Ana Lopez.", "book_appointment",
         {"department": "dermatology", "day": "thursday", "patient_name": "ana lopez"}),
    Case("t10", "clinic", "Please cancel my appointment, I'm John Reed.", "cancel_appointment", {"patient_name": "john reed"}),
    Case("t11", "bank", "I lost my card, it ends in 4321.", "freeze_card", {"last_four": "4321", "reason": "lost"}),
    Case("t12", "bank", "Do you have a branch downtown?", None),
    Case("h1", "restaurant", "Hello, yes, can I get a table for six people at eight o'clock, the name's Martinez.",
         "book_table", {"party_size": 6, "time": "20:00", "name": "martinez"}, held_out=True),
    Case("h2", "restaurant", "What time do you open on Tuesday?", "check_opening_hours", {"day": "tuesday"}, held_out=True),
    Case("h3", "restaurant", "A table for three please.", None, held_out=True),
    Case("h4", "internet", "Our phone line has been dead since this morning, zip code 10001.", "report_outage",
         {"service": "phone", "postcode": "10001"}, held_out=True),
    Case("h5", "internet", "Can someone ring me back this evening? My number is 415 555 0199.", "schedule_callback",
         {"when": "evening", "phone": "4155550199"}, held_out=True),
    Case("h6", "clinic", "Could my son see the children's doctor on Monday? His name is Leo Park.", "book_appointment",
         {"department": "pediatrics", "day": "monday", "patient_name": "leo park"}, held_out=True),
    Case("h7", "clinic", "I want to cancel, this is Maria Chen calling.", "cancel_appointment",
         {"patient_name": "maria chen"}, held_out=True),
    Case("h8", "clinic", "What should I bring to my first appointment?", None, held_out=True),
    Case("h9", "bank", "Someone stole my wallet, the card ending 8 8 1 2 needs blocking.", "freeze_card",
         {"last_four": "8812", "reason": "stolen"}, held_out=True),
    Case("h10", "bank", "My card was stolen.", None, held_out=True),
]


def _same(name: str, want, got) -> bool:
    if name == "phone":
        return re.sub(r"\D", "", str(got)) == want
    if isinstance(want, str):
        return isinstance(got, str) and got.strip().lower() == want
    return got == want


def judge(case: Case, text: str, calls: list[ToolCallRequest], fit: bool = True) -> tuple[str, str]:
    """("right" | "asked" | "wrong", what happened). "asked": no call ran where one should have (the
    caller is asked or answered instead: a turn lost); "wrong": a call ran that should not have, or
    with the wrong tool or values (a booking for the wrong time: worse than a question)."""
    _, tools = AGENTS[case.agent]
    by_name = {t.name: ToolDefinition(t.name, t.description, t.parameters) for t in tools}
    if fit:  # what the engine does before it decides to run a call (agents/reply.py)
        calls = [ToolCallRequest(c.call_id, c.name, fit_arguments(by_name[c.name].parameters, c.arguments))
                 if c.name in by_name else c for c in calls]
    run = [c for c in calls if c.name in by_name and lacking_argument(by_name[c.name], c.arguments) is None]
    shown = "; ".join(f"{c.name}({json.dumps(c.arguments)})" + ("" if c in run else " [not run]") for c in calls)
    shown = (shown + " | " if shown else "") + text.strip()
    if case.tool is None:
        return ("wrong" if run else "right" if text.strip() or calls else "asked"), shown
    if not run:
        return "asked", shown
    right = (len(calls) == 1 and run[0].name == case.tool
             and all(_same(k, v, run[0].arguments.get(k)) for k, v in case.values.items()))
    return ("right" if right else "wrong"), shown


async def one(llm, case: Case, seed: int, fit: bool = True) -> dict:
    prompt, tools = AGENTS[case.agent]
    messages = [Message("system", prompt), Message("assistant", "Hello, how can I help?"), Message("user", case.said)]
    started = time.perf_counter()
    text, calls, done_at = "", [], None
    async for out in llm.reply(messages, tools, LLMOptions(temperature=0.2, max_tokens=120, extra={"seed": seed})):
        if isinstance(out, TextDelta):
            text += out.text
        elif isinstance(out, ToolCallRequest):
            calls.append(out)
            done_at = time.perf_counter() - started
    kind, shown = judge(case, text, calls, fit)
    return {"case": case.id, "held_out": case.held_out, "ok": kind == "right", "kind": kind, "shown": shown, "call_s": done_at,
            "total_s": time.perf_counter() - started}


async def evaluate(model: str, mode: str, runs: int, cases: list[Case], threads: int | None) -> list[dict]:
    from agents.providers.llm.llamacpp import LlamaCppLLM

    llm = LlamaCppLLM(model, threads=threads, constrained_calls=mode == "constrained")
    await llm.start()
    rows = []
    try:
        for seed in range(1, runs + 1):
            for case in cases:
                row = await one(llm, case, seed, fit=mode != "unfitted") | {"seed": seed}
                rows.append(row)
                print(f"  {row['kind']:<5} {case.id:>4} seed {seed} {row['total_s']:.2f} s  {row['shown'][:120]}",
                      flush=True)
    finally:
        llm.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--modes", nargs="+", default=["free", "constrained"], choices=["unfitted", "free", "constrained"])
    parser.add_argument("--runs", type=int, default=3, help="seeds per case (temperature 0.2)")
    parser.add_argument("--split", default="all", choices=["all", "tuned", "held-out"])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", help="write every reply and verdict here")
    args = parser.parse_args()
    cases = [c for c in CASES if args.split == "all" or c.held_out == (args.split == "held-out")]
    results = {}
    for mode in args.modes:
        print(f"{mode}:", flush=True)
        results[mode] = asyncio.run(evaluate(args.model, mode, args.runs, cases, args.threads))
    print("\n| mode | tuned: right / asked / wrong | held-out: right / asked / wrong | call written, median s |")
    print("|---|---|---|---|")
    for mode, rows in results.items():
        parts = []
        for held in (False, True):
            part = [r for r in rows if r["held_out"] == held]
            counts = " / ".join(str(sum(r["kind"] == k for r in part)) for k in ("right", "asked", "wrong"))
            parts.append(f"{counts} of {len(part)}" if part else "-")
        times = [r["call_s"] for r in rows if r["call_s"] is not None]
        print(f"| {mode} | {parts[0]} | {parts[1]} | {statistics.median(times):.2f} |" if times else
              f"| {mode} | {parts[0]} | {parts[1]} | - |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
