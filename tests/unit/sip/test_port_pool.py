"""Bridge ports outlive their calls: deleting one while pjsua2's clock runs crashed the gateway as calls ended."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_ports_are_reused_call_after_call_and_the_process_survives_their_clock():
    # Deleting a port per call (the old way) died with SIGSEGV within a few hundred calls under the clock.
    result = subprocess.run([sys.executable, "-X", "faulthandler", "-m", "tests.unit.sip.port_churn", "500"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-1] == "1"  # one call at a time: one port, leased 500 times
