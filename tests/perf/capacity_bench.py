"""Issue 14's capacity figures: start a gateway (instant providers by default, or the real embedded models),
then run `parley bench capacity` against it as a separate process, as an outside load generator would.

    .venv/bin/python tests/perf/capacity_bench.py --door twilio --calls 500 --rate 20 --hold 30
    .venv/bin/python tests/perf/capacity_bench.py --real --door twilio --calls 400 --rate 20 --silent --hold 10
    .venv/bin/python tests/perf/capacity_bench.py --real --door api --calls 2 --rate 1 --hold 60

Everything after the known options goes to `parley bench capacity` unchanged (--json, --think, ...).
The gateway's log is kept in the temp directory it prints.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, http_get  # noqa: E402

PARLEY = [sys.executable, "-m", "gateway.cli"]
AUTH_TOKEN = "bench-auth-token"
CONFIG = """
[routing]
default_persona = "bench"

[personas.bench]
voice_id = "joe"
system_prompt = "You are a concise phone support agent for Acme. Answer in one or two short sentences."
greeting = "Hello, Acme support."
"""


def start(tmp: Path, real: bool, env_extra: list[str]) -> tuple[subprocess.Popen, str, dict]:
    port = free_port()
    config = tmp / "parley.toml"
    config.write_text(CONFIG)
    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp / "data"), "PARLEY_LOG_FORMAT": "json",
           "PARLEY_LOG_LEVEL": "warning", "PARLEY_TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PARLEY_CONFIG": str(config),
           "PARLEY_LIMITS_REQUESTS_PER_MINUTE": "1000000", "PARLEY_LIMITS_SESSIONS_PER_KEY": "100000"}
    env.update(item.split("=", 1) for item in env_extra)
    command = ([*PARLEY, "serve", "--port", str(port)] if real
               else [sys.executable, str(ROOT / "tests/perf/instant_gateway.py"), "--port", str(port)])
    log = open(tmp / "gateway.log", "w")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the gateway exited ({proc.returncode}); see {tmp / 'gateway.log'}")
        try:
            if http_get(url + "/healthz", timeout=1)[0] == 200:
                return proc, url, env
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the gateway did not become healthy")


def key(env: dict, admin: bool) -> str:
    out = subprocess.run([*PARLEY, "keys", "create", *(["--admin"] if admin else [])], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="the embedded models, not instant providers")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the gateway (repeatable)")
    args, rest = parser.parse_known_args()
    tmp = Path(tempfile.mkdtemp(prefix="parley-capacity-"))
    print(f"gateway: {'embedded models' if args.real else 'instant providers'}, files in {tmp}", file=sys.stderr)
    proc, url, env = start(tmp, args.real, args.env)
    print(f"gateway pid {proc.pid} at {url}: healthy", file=sys.stderr, flush=True)
    if args.real:
        time.sleep(10)  # healthy once the models are loaded; the persona's prompt is read in just after
    try:
        bench_env = {**os.environ, "PARLEY_API_KEY": key(env, False), "PARLEY_ADMIN_KEY": key(env, True),
                     "PARLEY_TWILIO_AUTH_TOKEN": AUTH_TOKEN}
        persona = [] if "--persona" in rest else ["--persona", "bench"]
        return subprocess.run([*PARLEY, "bench", "capacity", url, *persona, *rest], env=bench_env, cwd=ROOT).returncode
    finally:
        proc.terminate()
        proc.wait(60)


if __name__ == "__main__":
    sys.exit(main())
