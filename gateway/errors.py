"""One middleware turns every error into SPEC §3's JSON envelope; nothing else ever reaches a client."""

import structlog
from aiohttp import web

from agents.errors import ParleyError
from gateway.app_keys import METRICS
from gateway.limits import TooManyRequests
from gateway.storage.base import StorageUnavailable

log = structlog.get_logger(__name__)

_HTTP_CODES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "invalid_request", 409: "conflict", 413: "invalid_request", 429: "rate_limited"}


def error_response(status: int, code: str, message: str, param: str | None = None) -> web.Response:
    error = {"code": code, "message": message}
    if param is not None:
        error["param"] = param
    return web.json_response({"error": error}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ParleyError as exc:
        response = web.json_response(exc.to_wire(), status=exc.status)
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return _counted(request, response, exc.code)
    except StorageUnavailable as exc:  # PostgreSQL down or unreachable: try again later, not a bug of ours
        log.warning("storage_unavailable", method=request.method, path=request.path, error=str(exc))
        code = "storage_unavailable"
        return _counted(request, error_response(503, code, "the database is unreachable; try again shortly"), code)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "internal" if exc.status >= 500 else "invalid_request")
        message = exc.reason if exc.status != 404 else f"no such endpoint: {request.method} {request.path}"
        return _counted(request, error_response(exc.status, code, message), code)
    except Exception:
        log.exception("request_failed", method=request.method, path=request.path)
        return _counted(request, error_response(500, "internal", "internal error"), "internal")


def _counted(request: web.Request, response: web.Response, code: str) -> web.Response:
    """Every error answered is counted by its code (GET /metrics)."""
    metrics = request.app.get(METRICS)
    if metrics is not None:  # an application made without (a test's)
        metrics.error(code)
    return response
