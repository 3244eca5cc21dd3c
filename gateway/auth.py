"""API keys: made once, shown once, stored as a SHA-256 hash (a random 192-bit key needs no slow hash)."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from agents.errors import Forbidden, Unauthorized
from gateway.app_keys import LIMITER
from gateway.storage import ApiKeyRecord, Storage

KEY_PREFIX = "pk_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class NewKey:
    key: str  # the only time the key itself exists outside the caller's hands
    record: ApiKeyRecord


async def create_api_key(storage: Storage, name: str | None = None, admin: bool = False) -> NewKey:
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    record = ApiKeyRecord(
        key_id="key_" + secrets.token_hex(8),
        name=name,
        admin=admin,
        key_hash=hash_key(key),
        prefix=key[:10],
        created_at=datetime.now(UTC),
    )
    await storage.add_api_key(record)
    return NewKey(key, record)


async def check_api_key(storage: Storage, key: str) -> ApiKeyRecord | None:
    """The live key record for `key`, or None."""
    if not key.startswith(KEY_PREFIX):
        return None
    return await storage.find_api_key(hash_key(key))


async def authenticate(request, storage: Storage, allow_query_token: bool = False) -> ApiKeyRecord:
    """The API key of a request: `Authorization: Bearer <key>` (or `?token=` where browsers need it)."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if not header and allow_query_token:
        key, scheme = request.query.get("token", ""), "Bearer"
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("missing API key: send Authorization: Bearer <key>")
    record = await check_api_key(storage, key.strip())
    if record is None:
        raise Unauthorized("invalid or revoked API key")
    limiter = request.app.get(LIMITER)
    if limiter is not None:  # every request a key makes passes here
        limiter.take(record.key_id)
    return record


async def authenticate_admin(request, storage: Storage, doing: str) -> ApiKeyRecord:
    """The request's key, which must be an admin key (SPEC §7): 401 without a valid key, 403 for a client key."""
    record = await authenticate(request, storage)
    if not record.admin:
        raise Forbidden(f"{doing} needs an admin key (parley keys create --admin)")
    return record
