"""Start and stop a real `parley serve` (free port, own data dir) and talk to it over loopback."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARLEY = [sys.executable, "-m", "gateway.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 5.0) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    data_dir: Path
    env: dict
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """Run the `parley` command line against this server's data dir."""
        return subprocess.run([*PARLEY, *args], env=self.env, capture_output=True, text=True, timeout=60)


def metric(server: "Server", admin_key: str, name: str, labels: dict[str, str] | None = None) -> float:
    """A sample of the server's GET /metrics: the sum of those with `labels` among theirs (0: not counted yet)."""
    from prometheus_client.parser import text_string_to_metric_families

    req = urllib.request.Request(server.url + "/metrics", headers={"Authorization": f"Bearer {admin_key}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        text = resp.read().decode()
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == name and all(sample.labels.get(k) == v for k, v in (labels or {}).items()))


def start_server(tmp: Path, extra_env: dict | None = None, ready_timeout: float = 120.0) -> Server:
    port = free_port()
    data_dir = tmp / "data"
    # Temperature 0: the same question gets the same answer, so assertions on replies are stable.
    env = {**os.environ, "PARLEY_DATA_DIR": str(data_dir), "PARLEY_LOG_FORMAT": "json",
           "PARLEY_LLM_TEMPERATURE": "0",
           "PYTHONFAULTHANDLER": "1",  # a crash in native code (pjsua2, onnxruntime) leaves its stacks in the log
           **(extra_env or {})}
    log_path = tmp / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([*PARLEY, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    server = Server(proc, f"http://127.0.0.1:{port}", data_dir, env, log_path)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"parley serve exited with {proc.returncode}:\n{server.log()}")
        try:
            status, _ = http_get(server.url + "/healthz", timeout=1)
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"parley serve not healthy after {ready_timeout}s:\n{server.log()}")


def start_models_server(tmp: Path, api_key: str, extra_env: dict | None = None,
                        ready_timeout: float = 180.0) -> Server:
    """A real `parley models serve` on a free port, once its /healthz says 200 (the models loaded)."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp / "data"), "PARLEY_LOG_FORMAT": "json",
           "PARLEY_MODELS_SERVER_API_KEY": api_key, **(extra_env or {})}
    log_path = tmp / "models.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([*PARLEY, "models", "serve", "--port", str(port)], env=env, stdout=log,
                                stderr=subprocess.STDOUT, cwd=ROOT)
    server = Server(proc, f"http://127.0.0.1:{port}", tmp / "data", env, log_path)
    deadline = time.monotonic() + ready_timeout
    while True:
        try:
            if http_get(server.url + "/healthz", timeout=1)[0] == 200:
                return server
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"parley models serve not healthy (exit {proc.poll()}):\n{server.log()}")
        time.sleep(0.2)


def stop_server(server: Server, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
    if server.process.poll() is None:
        server.process.send_signal(sig)
        try:
            server.process.wait(timeout)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    return server.process.returncode
