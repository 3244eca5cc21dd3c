"""`parley models serve` (the embedded models as OpenAI-compatible endpoints) and a gateway whose ASR, LLM and
TTS are on it (asr.provider = "remote", tts.provider = "remote", llm.base_url): both real processes
on loopback, the real models. The last test stops the model server under a live call."""

import io
import json
import signal
import urllib.error
import urllib.request
import wave

import aiohttp
import pytest

from agents import lines
from gateway.client import GatewayClient
from media.wav import wav_bytes
from tests.integration.line import RATE, Line
from tests.integration.test_api import new_key
from tests.servers import http_get, start_models_server, start_server, stop_server

MODELS_KEY = "models-test-key"


def request(url: str, body: bytes | None = None, headers: dict | None = None, key: str | None = MODELS_KEY,
            method: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {**(headers or {}), **({"Authorization": f"Bearer {key}"} if key else {})}
    req = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def post_json(url: str, body: dict, **options) -> tuple[int, dict[str, str], bytes]:
    return request(url, json.dumps(body).encode(), {"Content-Type": "application/json"}, **options)


def multipart(fields: dict[str, str], file: bytes | None) -> tuple[bytes, str]:
    boundary = "parleyboundary1234"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    if file is not None:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
                     "Content-Type: audio/wav\r\n\r\n".encode() + file + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def transcribe(base: str, wav: bytes, **fields) -> tuple[int, dict]:
    body, content_type = multipart({"model": "whisper-1", "language": "en", **fields}, wav)
    status, _, data = request(base + "/audio/transcriptions", body, {"Content-Type": content_type})
    return status, json.loads(data)


def wav_pcm(data: bytes) -> tuple[bytes, int]:
    with wave.open(io.BytesIO(data)) as w:
        return w.readframes(w.getnframes()), w.getframerate()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A running `parley models serve`; yields its base URL (…/v1) and the process."""
    server = start_models_server(tmp_path_factory.mktemp("models"), MODELS_KEY)
    yield server.url + "/v1", server.process
    stop_server(server)


@pytest.fixture(scope="module")
def gateway(models, tmp_path_factory):
    base, _ = models
    remote = {"PARLEY_ASR_PROVIDER": "remote", "PARLEY_ASR_BASE_URL": base, "PARLEY_ASR_API_KEY": MODELS_KEY,
              "PARLEY_TTS_PROVIDER": "remote", "PARLEY_TTS_BASE_URL": base, "PARLEY_TTS_API_KEY": MODELS_KEY,
              "PARLEY_LLM_BASE_URL": base, "PARLEY_LLM_API_KEY": MODELS_KEY, "PARLEY_ASR_LANGUAGES": "en"}
    server = start_server(tmp_path_factory.mktemp("remote-gateway"), remote)
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def question(models) -> bytes:
    """"Can I pay by card?" as 16 kHz pcm16, spoken by the model server's Piper voice."""
    base, _ = models
    status, headers, pcm = post_json(base + "/audio/speech", {"input": "Can I pay by card?", "voice": "joe",
                                                              "response_format": "pcm", "sample_rate": RATE})
    assert status == 200 and headers["X-Sample-Rate"] == str(RATE)
    return pcm


def test_it_speaks_hears_and_answers(models):
    base, _ = models
    status, headers, data = post_json(base + "/audio/speech", {"input": "Your order 1234 has shipped.",
                                                               "voice": "joe", "response_format": "wav"})
    assert status == 200 and headers["Content-Type"] == "audio/wav"
    pcm, rate = wav_pcm(data)
    assert rate == 24000 and len(pcm) > rate * 2  # OpenAI's default rate; over a second of speech
    status, body = transcribe(base, data)
    # Piper's voice varies a little from run to run, and Whisper writes the number as 1234 or 1,234
    assert status == 200 and body["text"].lower().replace(",", "").startswith("your order 1234 has"), body
    status, body = transcribe(base, data, response_format="verbose_json")
    assert status == 200 and body["language"] == "en" and 1.0 < body["duration"] < 5.0

    status, _, data = post_json(base + "/chat/completions", {
        "model": "any", "max_tokens": 8, "temperature": 0,
        "messages": [{"role": "user", "content": "Reply with the single word: hello"}]})
    reply = json.loads(data)
    assert status == 200 and "hello" in reply["choices"][0]["message"]["content"].lower()
    assert reply["model"] == "qwen2.5-coder-0.5b"

    status, headers, data = post_json(base + "/chat/completions", {
        "stream": True, "max_tokens": 8, "temperature": 0,
        "messages": [{"role": "user", "content": "Reply with the single word: hello"}]})
    events = [line.removeprefix("data: ") for line in data.decode().split("\n\n") if line.startswith("data: ")]
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream") and events[-1] == "[DONE]"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in map(json.loads, events[:-1]))
    assert "hello" in text.lower()

    status, _, data = request(base + "/audio/voices")
    assert status == 200 and "joe" in [v["voice_id"] for v in json.loads(data)["voices"]]
    status, _, data = request(base + "/models")
    assert status == 200 and {"whisper-1", "qwen2.5-coder-0.5b", "tts-1"} <= {m["id"] for m in json.loads(data)["data"]}


def test_bad_requests_get_json_errors(models):
    base, _ = models
    status, _, data = request(base + "/models", key=None)
    assert status == 401 and json.loads(data)["error"]["code"] == "unauthorized"
    status, _, data = request(base + "/models", key="wrong")
    assert status == 401
    assert http_get(base.removesuffix("/v1") + "/healthz")[0] == 200  # no key needed

    assert transcribe(base, b"not a wav file")[0] == 400
    status, body = transcribe(base, None)
    assert status == 400 and body["error"]["param"] == "file"
    status, body = transcribe(base, wav_bytes(b"\x00\x00" * 1600, 16000), language="xx")
    assert status == 400 and body["error"]["param"] == "language"
    for speech, param in (({"input": "Hi.", "voice": "nobody"}, "voice_id"),
                          ({"input": "Hi.", "voice": "joe", "response_format": "mp3"}, "response_format"),
                          ({"input": "", "voice": "joe"}, "input"),
                          ({"input": "Hi.", "voice": "joe", "sample_rate": 12345}, "sample_rate")):
        status, _, data = post_json(base + "/audio/speech", speech)
        assert status == 400 and json.loads(data)["error"]["param"] == param, (speech, data)
    status, _, data = request(base + "/audio/speech", b"[[[", {"Content-Type": "application/json"})
    assert status == 400 and json.loads(data)["error"]["code"] == "invalid_request"
    status, _, data = post_json(base + "/chat/completions", {"messages": []})
    assert status == 400 and json.loads(data)["error"]["param"] == "messages"
    status, _, data = request(base + "/nothing")
    assert status == 404 and json.loads(data)["error"]["code"] == "not_found"


async def _spoken_turn(gateway, question: bytes, key: str) -> tuple[Line, list[dict]]:
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(gateway.url, key, http)
        sid = (await client.create(voice_id="joe", system_prompt="You are Acme's phone agent. We open at nine."))[
            "session_id"]
        async with http.ws_connect(client.stream_url(sid, RATE, "pcm16"), headers=client.headers) as ws:
            async with Line(ws) as line:
                line.say(question + b"\x00\x00" * RATE)
                await line.wait_for(lambda e: e["type"] == "turn_end" and e.get("role") == "assistant", timeout=120)
                return line, list(line.events)


async def test_a_gateway_on_the_model_server_answers_a_spoken_question(gateway, question, whisper):
    ok = {"status": "ok"}
    assert http_get(gateway.url + "/healthz") == (200, {"status": "ok", "providers": {"asr": ok, "llm": ok, "tts": ok}})
    key = new_key(gateway, "--name", "remote")
    status, _, data = request(gateway.url + "/v1/voices", key=key)  # the model server's voices, as the gateway has them
    assert status == 200 and "joe" in [v["voice_id"] for v in json.loads(data)["voices"]]
    line, events = await _spoken_turn(gateway, question, key)
    heard = [e["text"] for e in events if e["type"] == "transcript" and e["role"] == "user" and e["is_final"]]
    assert heard and "pay by" in heard[0].lower()  # tiny.en hears "card" as "car" now and then
    answer = [e["text"] for e in events if e["type"] == "transcript" and e["role"] == "assistant" and e["is_final"]]
    assert answer and answer[0].strip()
    audio = b"".join(frame for _, frame in line.received)
    assert len(audio) > RATE * 2 // 2  # half a second and more of the answer
    assert whisper(audio, RATE).strip()  # speech, not noise


async def test_the_model_server_down_gets_the_caller_an_apology_and_healthz_says_so(gateway, models, question):
    base, proc = models
    key = new_key(gateway, "--name", "remote-down")
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(gateway.url, key, http)
        sid = (await client.create(voice_id="joe"))["session_id"]
        async with http.ws_connect(client.stream_url(sid, RATE, "pcm16"), headers=client.headers) as ws:
            async with Line(ws) as line:
                await line.send_json({"type": "user_text", "text": "Hello there."})
                await line.wait_for(lambda e: e["type"] == "turn_end" and e.get("role") == "assistant", timeout=120)
                proc.send_signal(signal.SIGKILL)  # the model server dies under the live call
                proc.wait(30)
                line.events.clear()
                await line.send_json({"type": "user_text", "text": "What are your opening hours?"})
                error = await line.wait_for(lambda e: e["type"] == "error", timeout=60)
                assert error["code"] == "provider_error"
                heard_from = len(line.received)
                # The apology was synthesised as the call started (tts.provider = "remote"): it is still heard.
                said = await line.wait_for(lambda e: e["type"] == "transcript" and e["role"] == "assistant"
                                           and e["is_final"], timeout=60)
                assert said["text"] == lines.TROUBLE
                await line.wait_for(lambda e: e["type"] == "turn_end" and e.get("role") == "assistant", timeout=60)
                assert len(line.received) > heard_from
                assert not ws.closed  # the call is up
    status, body = http_get(gateway.url + "/healthz")
    assert status == 200 and body["status"] == "degraded"
    assert body["providers"]["llm"]["status"] == "error" and base in body["providers"]["llm"]["error"]
    assert body["providers"]["asr"] == {"status": "ok"}  # asked nothing since: its latest request went well
