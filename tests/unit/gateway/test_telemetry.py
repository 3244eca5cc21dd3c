"""OpenTelemetry traces: the real SDK and OTLP/HTTP exporter of a gateway (in-process, scripted models) send a
call's span and its turns' spans to a collector on loopback, which decodes them with OpenTelemetry's own
protobuf classes. Off unless configured."""

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from gateway.app import create_app
from gateway.app_keys import LIVE, STORAGE, TRACING
from gateway.auth import create_api_key
from gateway.config import ConfigError, load_config
from gateway.models import Models
from tests.fakes.engine import FakeASR, FakeLLM, FakeTTS, make_engine, tool_call


@pytest.fixture
async def collector():
    """An OTLP/HTTP traces receiver: every span it got, as (span, {attribute: value})."""
    spans = []

    async def traces(request: web.Request) -> web.Response:
        export = ExportTraceServiceRequest()
        export.ParseFromString(await request.read())
        for resource in export.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"]
            for scope in resource.scope_spans:
                for span in scope.spans:
                    values = {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in span.attributes}
                    spans.append((span, {**values, "service.name": service}))
        return web.Response(body=b"", content_type="application/x-protobuf")

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/v1/traces")), spans
    await server.close()


async def lookup_order(order_id: str) -> dict:
    return {"order_id": order_id, "status": "shipped"}


async def start_gateway(tmp_path, env: dict, scripts: list) -> TestClient:
    engine = make_engine(FakeASR(), FakeLLM(scripts), FakeTTS(), handlers={"lookup_order": lookup_order})
    voice = FakeTTS().voices()[0]
    models = Models(engine=engine, voices={voice.voice_id: voice}, languages=frozenset({"en"}),
                    registry=engine.tools.registry)
    models.ready.set()
    client = TestClient(TestServer(create_app(load_config(env={"PARLEY_DATA_DIR": str(tmp_path), **env}),
                                              models=models)))
    await client.start_server()
    return client


async def test_a_call_and_its_turns_are_traced_with_timings_and_no_words(tmp_path, collector):
    endpoint, spans = collector
    client = await start_gateway(tmp_path, {"PARLEY_TELEMETRY_TRACES_ENDPOINT": endpoint,
                                            "PARLEY_TELEMETRY_SERVICE_NAME": "parley-test"},
                                 [[tool_call("lookup_order", order_id="1234")], ["It shipped."]])
    key = (await create_api_key(client.app[STORAGE], name="t")).key
    headers = {"Authorization": f"Bearer {key}"}
    resp = await client.post("/v1/conversations/create", headers=headers, json={
        "voice_id": "fake_voice", "system_prompt": "Be brief.", "tools": [{"name": "lookup_order"}]})
    session_id = (await resp.json())["session_id"]
    async with client.ws_connect(f"/v1/conversations/{session_id}/stream", headers=headers) as ws:
        await ws.send_str(json.dumps({"type": "user_text", "text": "Where is order 1234?"}))
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                event = json.loads(msg.data)
                if event["type"] == "turn_end" and event["role"] == "assistant":
                    break
        await ws.send_str(json.dumps({"type": "end"}))
        async for _ in ws:
            pass
    while client.app[LIVE]:  # the door lets the session go just after the socket closes
        await asyncio.sleep(0.01)
    await client.close()  # the gateway stops: what is batched is sent before it is gone

    by_name = {span.name: (span, values) for span, values in spans}
    call, call_values = by_name["call api"]
    assert call_values["parley.session_id"] == session_id and call_values["parley.end_reason"] == "hangup"
    assert call_values["service.name"] == "parley-test"
    user, _ = by_name["user turn"]
    answer, values = by_name["assistant turn"]
    assert user.parent_span_id == call.span_id and answer.parent_span_id == call.span_id
    assert user.trace_id == call.trace_id == answer.trace_id
    assert values["parley.role"] == "assistant" and values["parley.interrupted"] is False
    assert values["parley.llm_first_token_ms"] >= 0
    assert [e.name for e in answer.events] == ["tool_call"]
    tool = {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in answer.events[0].attributes}
    assert tool["parley.tool"] == "lookup_order" and tool["parley.outcome"] == "ok"
    assert call.start_time_unix_nano <= user.start_time_unix_nano <= answer.end_time_unix_nano <= call.end_time_unix_nano
    said = {"1234", "Where is order 1234?", "It shipped."}
    assert not [v for _, values in spans for v in values.values() if isinstance(v, str) and any(s in v for s in said)]


async def test_a_call_cut_short_by_the_gateway_stopping_still_has_its_span(tmp_path, collector):
    endpoint, spans = collector
    client = await start_gateway(tmp_path, {"PARLEY_TELEMETRY_TRACES_ENDPOINT": endpoint}, [])
    key = (await create_api_key(client.app[STORAGE], name="t")).key
    headers = {"Authorization": f"Bearer {key}"}
    resp = await client.post("/v1/conversations/create", headers=headers,
                             json={"voice_id": "fake_voice", "system_prompt": "Be brief."})
    session_id = (await resp.json())["session_id"]
    ws = await client.ws_connect(f"/v1/conversations/{session_id}/stream", headers=headers)
    while not client.app[LIVE]:
        await asyncio.sleep(0.01)
    await client.close()  # with the call still up
    ended = [values for span, values in spans if span.name == "call api"]
    assert ended and ended[0]["parley.session_id"] == session_id
    assert ended[0]["parley.end_reason"] in ("gateway_stopped", "disconnected")
    await ws.close()


async def test_tracing_is_off_unless_configured(tmp_path):
    client = await start_gateway(tmp_path, {}, [])
    assert client.app[TRACING] is None
    await client.close()
    with pytest.raises(ConfigError, match="PARLEY_TELEMETRY_TRACES_ENDPOINT"):
        load_config(env={"PARLEY_TELEMETRY_TRACES_ENDPOINT": "collector:4318"})
