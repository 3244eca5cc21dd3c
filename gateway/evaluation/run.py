"""`parley eval`: run the scripted calls against a gateway, show progress, print the table, write JSON."""

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

import aiohttp

from gateway.client import GatewayClient
from gateway.evaluation.calls import place_call
from gateway.evaluation.cases import CATEGORIES, SPLITS, Case, select, split_of
from gateway.evaluation.judge import CallRecord, Verdict, judge
from gateway.evaluation.phone_voices import CallerVoice, voices_for

MODES = ("typed", "spoken")


def voice_for(case: Case, index: int) -> CallerVoice:
    """Voices rotate over a split's calls; held-out calls are spoken only by held-out voices."""
    voices = voices_for(case.language, case.held_out)
    return voices[index % len(voices)]


async def evaluate(client: GatewayClient, cases: list[Case], modes: tuple[str, ...], *, concurrency: int = 2,
                   reply_timeout_s: float = 60.0, progress=None,
                   fields: dict | None = None) -> list[tuple[CallRecord, Verdict]]:
    voices = await client.request("GET", "/v1/voices")
    voice_ids: dict[str, str] = {}
    for v in voices.get("voices", []):
        for language in v.get("languages") or [v.get("language")]:
            voice_ids.setdefault(language, v["voice_id"])
    jobs = [(case, mode, voice_for(case, i) if mode == "spoken" else None)
            for mode in modes for i, case in enumerate(cases)]
    gate = asyncio.Semaphore(max(1, concurrency))
    results: list[tuple[CallRecord, Verdict] | None] = [None] * len(jobs)
    done = 0

    async def run(i: int, case: Case, mode: str, voice: CallerVoice | None) -> None:
        nonlocal done
        async with gate:
            started = time.monotonic()
            record = await place_call(client, case, mode, voice, voice_ids=voice_ids, reply_timeout_s=reply_timeout_s,
                                      fields=fields)
            verdict = judge(record)
            results[i] = (record, verdict)
            done += 1
            if progress:
                progress(done, len(jobs), record, verdict, time.monotonic() - started)

    await asyncio.gather(*(run(i, *job) for i, job in enumerate(jobs)))
    return [r for r in results if r is not None]


def summarise(results: list[tuple[CallRecord, Verdict]]) -> dict:
    """Pass counts by split, mode and category, failure reasons counted, latency of the calls' replies."""
    table: dict[str, dict[str, list[int]]] = {}
    reasons: dict[str, int] = {}
    latencies: list[int] = []
    guarded: dict[str, list[int]] = {}  # split/mode -> [sentences refused, calls with one, calls]
    for record, verdict in results:
        split = split_of(record.case)
        counts = guarded.setdefault(f"{split}/{record.mode}", [0, 0, 0])
        counts[0] += record.guarded
        counts[1] += record.guarded > 0
        counts[2] += 1
        for category in (record.case.category, "all"):
            cell = table.setdefault(category, {}).setdefault(f"{split}/{record.mode}", [0, 0])
            cell[0] += verdict.passed
            cell[1] += 1
        for reason in verdict.reasons:
            kind = reason.split(":")[0].split(" (")[0]
            reasons[kind] = reasons.get(kind, 0) + 1
        latencies += record.latency_ms[1:]  # the greeting's is not an answer
    return {"table": table, "reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
            "latency_ms_p50": statistics.median(latencies) if latencies else None, "guarded": guarded}


def format_table(summary: dict) -> str:
    columns = [f"{split}/{mode}" for split in SPLITS for mode in MODES]
    columns = [c for c in columns if any(c in row for row in summary["table"].values())]
    lines = [f"{'category':<17}" + "".join(f"{c:>16}" for c in columns)]
    for category in (*CATEGORIES, "all"):
        row = summary["table"].get(category)
        if not row:
            continue
        cells = []
        for c in columns:
            passed, total = row.get(c, (0, 0))
            cells.append(f"{passed}/{total} {100 * passed / total:3.0f}%" if total else "-")
        lines.append(f"{category:<17}" + "".join(f"{cell:>16}" for cell in cells))
    if summary["reasons"]:
        lines.append("failures: " + ", ".join(f"{k} x{v}" for k, v in summary["reasons"].items()))
    if any(sentences for sentences, _, _ in summary.get("guarded", {}).values()):
        lines.append("caught by the reply guard (not spoken): " + ", ".join(
            f"{column} {sentences} sentences in {calls} of {total} calls"
            for column, (sentences, calls, total) in summary["guarded"].items() if sentences))
    if summary["latency_ms_p50"] is not None:
        lines.append(f"reply latency (gateway latency_ms) p50: {summary['latency_ms_p50']:.0f} ms")
    return "\n".join(lines)


def _progress(done: int, total: int, record: CallRecord, verdict: Verdict, seconds: float) -> None:
    mark = "ok  " if verdict.passed else "FAIL"
    split = split_of(record.case)
    why = "" if verdict.passed else "  " + "; ".join(verdict.reasons)
    voice = f" [{record.voice}]" if record.voice else ""
    print(f"[{done:>3}/{total}] {mark} {record.mode:<6} {split:<8} {record.case.case_id}{voice} "
          f"({seconds:.0f} s){why}", file=sys.stderr, flush=True)


def to_json(results: list[tuple[CallRecord, Verdict]], summary: dict) -> dict:
    calls = []
    for record, verdict in results:
        entry = asdict(record)
        entry["case"] = {"case_id": record.case.case_id, "category": record.case.category,
                         "held_out": record.case.held_out, "language": record.case.language,
                         "steps": [asdict(s) for s in record.case.steps]}
        entry["passed"], entry["reasons"] = verdict.passed, verdict.reasons
        calls.append(entry)
    return {"summary": summary, "calls": calls}


async def run_eval(args: argparse.Namespace, api_key: str) -> int:
    cases = select(split=args.split, categories=tuple(args.category), ids=tuple(args.case), smoke=args.smoke)
    if not cases:
        print("no case matches", file=sys.stderr)
        return 2
    modes = MODES if args.mode == "both" else (args.mode,)
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(args.url, api_key, http)
        results = await evaluate(client, cases, modes, concurrency=args.concurrency,
                                 reply_timeout_s=args.reply_timeout, progress=None if args.quiet else _progress,
                                 fields={"asr": {"model": args.asr_model}} if args.asr_model else None)
    summary = summarise(results)
    print(format_table(summary))
    if args.json:
        args.json.write_text(json.dumps(to_json(results, summary), indent=2, default=str))
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
