"""Opaque pagination cursors: (created_at, session_id) of the last item, URL-safe base64 JSON."""

import base64
import binascii
import json

from agents.errors import InvalidRequest


def encode_cursor(created_at: str, session_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_at, session_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, session_id = json.loads(raw)
        if not isinstance(created_at, str) or not isinstance(session_id, str):
            raise ValueError
        return created_at, session_id
    except (ValueError, binascii.Error, TypeError, UnicodeDecodeError):
        raise InvalidRequest("cursor is not one this server gave out", param="cursor") from None
