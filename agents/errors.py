"""Errors with a public code (SPEC §3): the gateway maps each to a JSON envelope and an HTTP status."""


class ParleyError(Exception):
    """An error a client may see: `code` is one of SPEC §3's codes, `param` the offending field if any."""

    code = "internal"
    status = 500

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param

    def to_wire(self) -> dict:
        error: dict = {"code": self.code, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


class InvalidRequest(ParleyError):
    code, status = "invalid_request", 400


class Unauthorized(ParleyError):
    code, status = "unauthorized", 401


class Forbidden(ParleyError):
    code, status = "forbidden", 403


class NotFound(ParleyError):
    code, status = "not_found", 404


class Conflict(ParleyError):
    code, status = "conflict", 409


class RateLimited(ParleyError):
    code, status = "rate_limited", 429


class ProviderError(ParleyError):
    """An ASR/LLM/TTS library failed; wraps the library's own exception."""

    code, status = "internal", 500
