"""A scripted OpenAI-compatible chat server for call-control tests: what the caller says decides the tool.

The real small model does not call end_call or transfer_call reliably enough
for a test that is about the SIP side of those tools. Behind `llm.provider =
openai`, this server answers the caller's last words with a streamed tool
call: "goodbye" -> end_call, "front desk" -> transfer_call(+15550100),
"press" -> send_dtmf(42); anything else (and a tool's result) gets a short
spoken line. Runs in a thread: the tests around it are synchronous.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TRANSFER_TARGET = "+15550100"
DTMF_DIGITS = "42"


def _decide(messages: list[dict]) -> tuple[str, dict | None, str]:
    """(spoken text, tool call or None) for the conversation so far."""
    last = messages[-1] if messages else {}
    if last.get("role") == "tool":
        return "Done.", None, ""
    said = str(last.get("content") or "").lower()
    if "bye" in said:
        return "", {"name": "end_call", "arguments": {}}, said
    if "desk" in said:
        return "", {"name": "transfer_call", "arguments": {"target": TRANSFER_TARGET}}, said
    if "press" in said:
        return "", {"name": "send_dtmf", "arguments": {"digits": DTMF_DIGITS}}, said
    return "I heard you.", None, said


class _Handler(BaseHTTPRequestHandler):
    server: "ScriptedLLM"

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        text, tool, heard = _decide(body.get("messages", []))
        self.server.heard.append(heard)
        chunks = [{"delta": {"role": "assistant", "content": text or None}}]
        if tool is not None:
            call = {"index": 0, "id": f"call_{len(self.server.heard)}", "type": "function",
                    "function": {"name": tool["name"], "arguments": json.dumps(tool["arguments"])}}
            chunks.append({"delta": {"tool_calls": [call]}})
        chunks.append({"delta": {}, "finish_reason": "tool_calls" if tool else "stop"})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for chunk in chunks:
            choice = {"index": 0, "finish_reason": None, **chunk}
            self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


class ScriptedLLM(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.heard: list[str] = []  # the caller's words of each request
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def __enter__(self) -> "ScriptedLLM":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
