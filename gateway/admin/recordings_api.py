"""Recordings through the API: `GET /v1/conversations/{session_id}/recording` (the stereo WAV: caller left,
assistant right; its owner or an admin) and `GET /v1/recordings` (admin: every recording kept)."""

from aiohttp import web

from agents.errors import NotFound
from gateway.api.conversations import iso, load_owned
from gateway.app_keys import RECORDINGS, STORAGE
from gateway.auth import authenticate, authenticate_admin


async def get_recording(request: web.Request) -> web.StreamResponse:
    key = await authenticate(request, request.app[STORAGE])
    session = await load_owned(request, key, request.match_info["session_id"])
    path = request.app[RECORDINGS].wav(session.session_id)
    if path is None:
        raise NotFound(f"conversation {session.session_id} has no recording (its persona does not record, or "
                       "the call is still running)", param="session_id")
    return web.FileResponse(path, headers={"Content-Type": "audio/wav", "Cache-Control": "no-store"})


async def list_recordings(request: web.Request) -> web.Response:
    storage = request.app[STORAGE]
    await authenticate_admin(request, storage, "listing recordings")
    recordings = request.app[RECORDINGS]
    listed = []
    for session_id in recordings.session_ids():
        session = await storage.get_session(session_id)
        described = recordings.describe(session_id)
        if session is None or described is None:
            continue  # its session is being purged, or the call is still running
        listed.append({"session_id": session_id, "url": f"/v1/conversations/{session_id}/recording", **described,
                       "persona_id": session.persona_id, "channel": session.channel, "caller": session.caller,
                       "called": session.called, "created_at": iso(session.created_at)})
    listed.sort(key=lambda r: r["created_at"], reverse=True)
    return web.json_response({"recordings": listed})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/conversations/{session_id}/recording", get_recording)
    app.router.add_get("/v1/recordings", list_recordings)
