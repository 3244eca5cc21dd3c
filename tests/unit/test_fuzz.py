"""Each coverage-guided fuzz target (tests/fuzz/targets.py) over a bounded run: 100,000 generated inputs from a
fixed seed, libFuzzer steering towards new branches. A crash or a broken promise fails the test and leaves
the input that did it in the test's directory (crash-*), to replay with `python -m tests.fuzz.targets NAME
FILE`. Longer runs: `-atheris_runs=N` by hand."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.targets import TARGETS

ROOT = Path(__file__).resolve().parents[2]
RUNS = 100_000
# libFuzzer's RSS limit reads the process's peak RSS, which Linux carries over from the parent through fork and
# exec: under a pytest that has loaded the models (3.6 GB) every target "ran out of memory" at once (CI did).
# Single allocations of 1 GB or more still fail a target.
MEMORY = ["-rss_limit_mb=0", "-malloc_limit_mb=1024"]


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_the_fuzzer_finds_nothing(target, tmp_path):
    done = subprocess.run([sys.executable, "-m", "tests.fuzz.targets", target, f"-atheris_runs={RUNS}", "-seed=1",
                           "-max_len=4096", *MEMORY, f"-artifact_prefix={tmp_path}/", "-print_final_stats=1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=280)
    report = done.stderr[-3000:]
    assert done.returncode == 0 and f"Done {RUNS} in" in done.stderr, report
    assert not list(tmp_path.glob("crash-*")) and not list(tmp_path.glob("oom-*")), report
