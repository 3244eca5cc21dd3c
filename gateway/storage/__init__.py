"""Storage behind one protocol; the database URL picks the backend."""

from pathlib import Path
from urllib.parse import urlparse

from gateway.config import ConfigError
from gateway.storage.admin import PersonaRecord, RouteRecord
from gateway.storage.base import ApiKeyRecord, SessionPage, SessionRecord, Storage
from gateway.storage.sqlite import SQLiteStorage


def storage_for(database_url: str) -> Storage:
    """A not-yet-opened Storage for `database_url`; postgresql:// arrives with its issue.

    SQLite URLs follow SQLAlchemy: sqlite:///relative/file.db, sqlite:////absolute/file.db.
    """
    parsed = urlparse(database_url)
    if parsed.scheme == "sqlite":
        path = database_url[len("sqlite:///") :]
        if not path:
            raise ConfigError(f"invalid setting database_url (PARLEY_DATABASE_URL): no file path in {database_url!r}")
        return SQLiteStorage(Path(path))
    raise ConfigError(
        f"invalid setting database_url (PARLEY_DATABASE_URL): unsupported database {parsed.scheme or database_url!r}"
        " (supported: sqlite:///path)"
    )


__all__ = ["ApiKeyRecord", "PersonaRecord", "RouteRecord", "SQLiteStorage", "SessionPage", "SessionRecord", "Storage", "storage_for"]
