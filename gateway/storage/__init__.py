"""Storage behind one protocol; the database URL picks the backend."""

from pathlib import Path
from urllib.parse import urlparse

from gateway.config import ConfigError
from gateway.storage.admin import PersonaRecord, RouteRecord
from gateway.storage.base import (ApiKeyRecord, SessionPage, SessionRecord, Storage, StorageUnavailable,
                                  StreamOwnership)
from gateway.storage.sqlite import SQLiteStorage

_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")


def storage_for(database_url: str) -> Storage:
    """A not-yet-opened Storage for `database_url`.

    SQLite URLs follow SQLAlchemy: sqlite:///relative/file.db, sqlite:////absolute/file.db. PostgreSQL:
    postgresql://user:password@host:port/database (libpq's form; ?sslmode=require and the like pass through).
    """
    parsed = urlparse(database_url)
    if parsed.scheme == "sqlite":
        path = database_url[len("sqlite:///") :]
        if not path:
            raise ConfigError(f"invalid setting database_url (PARLEY_DATABASE_URL): no file path in {database_url!r}")
        return SQLiteStorage(Path(path))
    if parsed.scheme in _POSTGRES_SCHEMES:
        from gateway.storage.postgres import PostgresStorage  # asyncpg only for those who use it

        return PostgresStorage(database_url)
    raise ConfigError(
        f"invalid setting database_url (PARLEY_DATABASE_URL): unsupported database {parsed.scheme or database_url!r}"
        " (supported: sqlite:///path, postgresql://user:password@host:port/database)"
    )


__all__ = ["ApiKeyRecord", "PersonaRecord", "RouteRecord", "SQLiteStorage", "SessionPage", "SessionRecord", "Storage",
           "StorageUnavailable", "StreamOwnership", "storage_for"]
