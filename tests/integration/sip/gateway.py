"""A real `parley serve` with SIP on (free ports on 127.0.0.1, personas from a TOML file), and its API as seen
by an admin: the session a SIP call made, found by the call's SIP Call-ID."""

import json
import random
import re
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.integration.sip.sipp import free_udp_port
from tests.servers import Server, start_server

PROMPT = "You are a helpful assistant on the phone. Answer in one short sentence."
LONG_GREETING = ("Hello, this is Parley, the voice assistant of the Acme store. I can help you with your orders, "
                 "deliveries, returns and refunds. How can I help you today?")

# Numbers (request-URI user parts) and the personas they reach. "brief" ends the session (and the call) once its
# answer was heard (max_turns 3: greeting, question, answer): a call lasts as long as the answer takes to come.
PERSONAS = """
[personas.front]
voice_id = "joe"
system_prompt = "{prompt}"
greeting = "Hello, this is Parley."
numbers = ["1000"]

[personas.brief]
voice_id = "joe"
system_prompt = "{prompt}"
greeting = "Hello, this is Parley."
max_turns = 3
numbers = ["2000"]

[personas.talker]
voice_id = "joe"
system_prompt = "{prompt}"
greeting = "{long_greeting}"
numbers = ["4000"]

[personas.control]
voice_id = "joe"
system_prompt = "You are a phone assistant."
greeting = "Hello."
tools = [{{name = "end_call"}}, {{name = "transfer_call"}}, {{name = "send_dtmf"}}]
transfer_targets = ["+15550100"]
numbers = ["3000"]
"""


def free_sip_port() -> int:
    """A port free for both UDP and TCP (SIP listens on both)."""
    import socket

    while True:
        port = free_udp_port()
        try:
            with socket.socket() as tcp:
                tcp.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue


@dataclass
class SipGateway:
    server: Server
    sip_port: int
    admin_key: str

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.sip_port}"

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server.url + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {self.admin_key}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def session_of(self, call_id: str, timeout_s: float = 10.0) -> dict:
        """The session (with its history) carried by the SIP call `call_id`."""
        deadline = time.monotonic() + timeout_s
        while True:
            _, page = self.api("GET", "/v1/conversations?channel=sip&limit=100")
            for item in page["conversations"]:
                if item.get("call_id") == call_id:
                    return self.api("GET", f"/v1/conversations/{item['session_id']}")[1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no session for SIP call {call_id}")
            time.sleep(0.2)

    def ended_session_of(self, call_id: str, timeout_s: float = 15.0) -> dict:
        """The session once its end is stored (a hang-up stores the turn in hand first)."""
        deadline = time.monotonic() + timeout_s
        while True:
            session = self.session_of(call_id)
            if session["status"] == "ended" or time.monotonic() > deadline:
                return session
            time.sleep(0.2)

    def log_events(self, event: str) -> list[dict]:
        lines = [json.loads(line) for line in self.server.log().splitlines() if line.startswith("{")]
        return [line for line in lines if line.get("event") == event]


def call_ids(messages: str) -> list[str]:
    """The Call-IDs of the calls in a sipp message log, in order of appearance."""
    seen: list[str] = []
    for call_id in re.findall(r"^Call-ID:\s*(\S+)", messages, re.MULTILINE):
        if call_id not in seen:
            seen.append(call_id)
    return seen


def start_sip_gateway(tmp: Path, extra_env: dict | None = None, rtp_port: int | None = None) -> SipGateway:
    tmp.mkdir(parents=True, exist_ok=True)
    config = tmp / "parley.toml"
    sip_port = free_sip_port()
    rtp_port = rtp_port or random.randrange(20000, 30000, 2)  # each call takes the next pair from here
    config.write_text(f"""
[sip]
transports = "udp,tcp"
rtp_port = {rtp_port}
rtp_port_range = 400
{PERSONAS.format(prompt=PROMPT, long_greeting=LONG_GREETING)}""")
    env = {"PARLEY_CONFIG": str(config), "PARLEY_SIP_PORT": str(sip_port), **(extra_env or {})}
    server = start_server(tmp, env)
    result = server.cli("keys", "create", "--admin", "--name", "sip-tests")
    assert result.returncode == 0, result.stderr
    return SipGateway(server, sip_port, result.stdout.strip().splitlines()[-1])
