"""What the admin side stores: personas and number routes (SPEC §7), and the protocol each backend implements."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(slots=True)
class PersonaRecord:
    """A persona as stored. `fields` are its session fields as the admin gave them (voice_id, system_prompt,
    language, greeting, tools, context_window, max_turns, vad_threshold, llm, recording, ...), JSON-ready;
    they are checked again whenever a session is made from them, against the voices and tools loaded then."""

    persona_id: str
    name: str
    fields: dict
    created_at: datetime
    updated_at: datetime
    source: str = "api"  # api | config (declared in the TOML file: read-only through the API)


@dataclass(frozen=True, slots=True)
class RouteRecord:
    """A dialled number (E.164, a SIP user part, or "default") -> the persona that answers it."""

    number: str
    persona_id: str
    created_at: datetime
    source: str = "api"  # api | config


class AdminStorage(Protocol):
    """Personas and routes. Writes that would break a rule return False instead of raising."""

    async def add_persona(self, persona: PersonaRecord) -> bool:
        """False if the persona_id is taken."""

    async def get_persona(self, persona_id: str) -> PersonaRecord | None: ...

    async def list_personas(self) -> list[PersonaRecord]:
        """Oldest first."""

    async def update_persona(self, persona: PersonaRecord) -> bool:
        """Replace name and fields (and updated_at); False if there is no such persona."""

    async def delete_persona(self, persona_id: str) -> bool:
        """False if there is no such persona or a route still names it."""

    async def add_route(self, route: RouteRecord) -> bool:
        """False if the number is taken (or the persona does not exist)."""

    async def get_route(self, number: str) -> RouteRecord | None: ...

    async def find_route(self, numbers: list[str]) -> RouteRecord | None:
        """The route of the first of `numbers` that has one."""

    async def list_routes(self) -> list[RouteRecord]:
        """By number."""

    async def update_route(self, number: str, persona_id: str) -> bool: ...

    async def delete_route(self, number: str) -> bool: ...

    async def sync_config(self, personas: list[PersonaRecord], routes: list[RouteRecord]) -> list[str]:
        """Make the configuration-declared personas and routes exactly these (at start-up), atomically:
        API-made ones are kept, except a route on a number the configuration now claims. Returns the
        numbers whose API route was replaced."""
