"""`parley bench latency` against the shared gateway: the figures a user reads come out, answer audio included."""

import json
import subprocess

from tests.integration.test_api import new_key
from tests.servers import PARLEY


def test_bench_latency_on_ordinary_questions_reports_first_audio_and_first_answer_audio(server):
    key = new_key(server, "--name", "bench")
    result = subprocess.run([*PARLEY, "bench", "latency", server.url, "--key", key, "--turns", "2",
                             "--questions", "ordinary", "--json"],
                            env=server.env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    turns = report["turns"]
    # what the recogniser made of the questions is not this test's business ("What are your opening now?"):
    # that they were heard as words and answered is
    assert all(t["user_text"].strip() and t["reply"] for t in turns)
    for turn in turns:
        # no tool answers these, so no hold line goes first: the first audio is the answer's
        assert turn["answer_latency_ms"] == turn["latency_ms"] and turn["client_answer_ms"] == turn["client_ms"]
    summary = report["summary"]
    assert summary["client_answer_ms"]["n"] == 2 and summary["endpoint_ms"]["n"] == 2
