"""REST: create, get, list and delete conversation sessions; list voices (the seed's endpoints, SPEC §3)."""

import json
import secrets
from datetime import UTC, datetime

from aiohttp import web

from agents.errors import Conflict, InvalidRequest, NotFound
from gateway.api.validation import parse_create
from gateway.app_keys import CONFIG, LIVE, MODELS, RECORDINGS, STORAGE
from gateway.auth import authenticate, hash_key
from gateway.draining import refuse_new_calls
from gateway.models import Models
from gateway.numbers import normalise_number
from gateway.routing import persona_request
from gateway.storage import SessionRecord

STATUSES = ("ready", "active", "ended")
CHANNELS = ("api", "twilio", "sip")


def loaded_models(request: web.Request) -> Models:
    """The models, or 409 while they load: voices and languages are not known before."""
    models = request.app[MODELS]
    if not models.ready.is_set():
        raise Conflict("the gateway is still loading its models; retry when /healthz is ok")
    refuse_new_calls(request.app)  # sessions and streams are the calls of the API
    return models


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def websocket_url(request: web.Request, session_id: str) -> str:
    base = request.app[CONFIG].resolved_public_url(request.url.port)
    ws_base = "wss://" + base[len("https://"):] if base.startswith("https://") else "ws://" + base.split("://", 1)[1]
    return f"{ws_base}/v1/conversations/{session_id}/stream"


def session_object(request: web.Request, session: SessionRecord, history: list | None = None) -> dict:
    settings = session.settings
    body = {
        "session_id": session.session_id,
        "status": session.status,
        "voice_id": settings["voice_id"],
        "language": settings["language"],
        "system_prompt": settings["system_prompt"],
        "tools": [tool["name"] for tool in settings["tools"]],
        "context_window": settings["context_window"],
        "max_turns": settings["max_turns"],
        "total_turns": session.total_turns,
        "channel": session.channel,
        "created_at": iso(session.created_at),
        "last_activity_at": iso(session.last_activity_at),
        "websocket_url": websocket_url(request, session.session_id),
    }
    for name in ("greeting", "vad_threshold"):
        if settings.get(name) is not None:
            body[name] = settings[name]
    if settings.get("llm"):
        body["llm"] = settings["llm"]
    if settings.get("recording"):
        body["recording"] = True
        saved = request.app[RECORDINGS].describe(session.session_id)  # once the call has stopped
        if saved is not None:
            body["recording_url"] = f"/v1/conversations/{session.session_id}/recording"
            body["recording_duration_ms"] = saved["duration_ms"]
    if settings.get("transfer_targets"):
        body["transfer_targets"] = settings["transfer_targets"]
    if settings.get("vocabulary"):
        body["vocabulary"] = settings["vocabulary"]
    if settings.get("asr"):
        body["asr"] = settings["asr"]
    if settings.get("noise_suppression"):
        body["noise_suppression"] = True
    if session.metadata is not None:
        body["metadata"] = session.metadata
    if session.persona_id is not None:
        body["persona_id"] = session.persona_id
    if session.caller or session.called:
        body["caller"], body["called"] = session.caller, session.called
    if session.call_sid:
        body["call_id"] = session.call_sid  # the telephony call's own id (Twilio's CallSid)
    if session.status == "ended":
        body["ended_at"] = iso(session.ended_at)
        body["end_reason"] = session.end_reason
    if history is not None:
        body["history"] = [turn.to_wire() for turn in history]
    return body


async def json_body(request: web.Request):
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidRequest("the request body is not valid JSON") from None
    except RecursionError:  # json gives up on deep nesting this way, not with a JSONDecodeError
        raise InvalidRequest("the request body is nested too deeply") from None


async def create_conversation(request: web.Request) -> web.Response:
    storage = request.app[STORAGE]
    key = await authenticate(request, storage)
    models = loaded_models(request)
    body = await json_body(request)
    persona_id = body.get("persona_id") if isinstance(body, dict) else None
    if persona_id is None:
        parsed = parse_create(body, models.voices, models.languages, models.registry, models.llm_models,
                              models.asr_models)
    else:  # start from the persona's fields; the request's own fields override them
        if not isinstance(persona_id, str):
            raise InvalidRequest("persona_id must be a string", param="persona_id")
        persona = await storage.get_persona(persona_id)
        if persona is None:
            raise NotFound(f"no persona {persona_id!r}", param="persona_id")
        parsed = persona_request(request.app, persona, body)
    now = datetime.now(UTC)
    stream_token = "st_" + secrets.token_urlsafe(24)
    session = SessionRecord(
        session_id="conv_" + secrets.token_hex(8),
        owner_key_id=key.key_id,
        status="ready",
        settings=parsed.settings(),
        created_at=now,
        last_activity_at=now,
        metadata=parsed.metadata,
        stream_token_hash=hash_key(stream_token),
        persona_id=parsed.persona_id,
    )
    await storage.create_session(session)
    body = session_object(request, session)
    body["stream_token"] = stream_token  # shown once: lets a browser open the stream without the API key
    return web.json_response(body, status=201)


async def load_owned(request: web.Request, key, session_id: str) -> SessionRecord:
    """The session if this key may see it; others' sessions are 404, not 403, so ids do not leak."""
    session = await request.app[STORAGE].get_session(session_id)
    if session is None or (not key.admin and session.owner_key_id != key.key_id):
        raise NotFound(f"no conversation {session_id!r}", param="session_id")
    return session


async def get_conversation(request: web.Request) -> web.Response:
    storage = request.app[STORAGE]
    key = await authenticate(request, storage)
    session = await load_owned(request, key, request.match_info["session_id"])
    history = await storage.list_turns(session.session_id)
    return web.json_response(session_object(request, session, history))


async def list_conversations(request: web.Request) -> web.Response:
    storage = request.app[STORAGE]
    key = await authenticate(request, storage)
    query = request.query
    status = query.get("status")
    if status is not None and status not in STATUSES:
        raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}, got {status!r}", param="status")
    raw_limit = query.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise InvalidRequest(f"limit must be an integer from 1 to 100, got {raw_limit!r}", param="limit")
    channel = query.get("channel")
    if channel is not None and channel not in CHANNELS:
        raise InvalidRequest(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}", param="channel")
    number = query.get("number")
    page = await storage.list_sessions(
        None if key.admin else key.key_id, status, query.get("persona_id"), int(raw_limit), query.get("cursor"),
        channel=channel, number=normalise_number(number) if number else None,
    )
    return web.json_response({
        "conversations": [session_object(request, s) for s in page.sessions],
        "next_cursor": page.next_cursor,
    })


async def delete_conversation(request: web.Request) -> web.Response:
    storage = request.app[STORAGE]
    key = await authenticate(request, storage)
    session = await load_owned(request, key, request.match_info["session_id"])
    live = request.app[LIVE].get(session.session_id)
    if live is not None:
        await live.end("deleted")  # closes the stream at once, after its session_ended event
    now = datetime.now(UTC)
    await storage.set_session_status(session.session_id, "ended", ended_at=now, end_reason="deleted", deleted_at=now)
    session = await storage.get_session(session.session_id)
    assert session is not None
    started = session.started_at or session.created_at
    return web.json_response({
        "session_id": session.session_id,
        "status": "ended",
        "total_turns": session.total_turns,
        "total_duration_ms": max(0, round((session.ended_at - started).total_seconds() * 1000))
        if session.started_at else 0,
        "ended_at": iso(session.ended_at),
    })


async def list_voices(request: web.Request) -> web.Response:
    """The installed voices (each speaks at least one installed language) and the installed languages;
    `?language=fr` keeps the voices that speak it."""
    await authenticate(request, request.app[STORAGE])
    models = loaded_models(request)
    voices = list(models.voices.values())
    language = request.query.get("language")
    if language is not None:
        if language not in models.languages:
            installed = ", ".join(sorted(models.languages))
            raise InvalidRequest(f"language {language!r} is not installed (installed: {installed})", param="language")
        voices = [v for v in voices if language in v.languages]
    return web.json_response({"voices": [v.to_wire() for v in voices], "languages": sorted(models.languages)})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/conversations/create", create_conversation)
    app.router.add_get("/v1/conversations", list_conversations)
    app.router.add_get("/v1/conversations/{session_id}", get_conversation)
    app.router.add_delete("/v1/conversations/{session_id}", delete_conversation)
    app.router.add_get("/v1/voices", list_voices)
