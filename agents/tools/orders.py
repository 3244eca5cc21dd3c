"""The sample `lookup_order` tool: a small demo orders file shipped with Parley (order 1234 exists)."""

import json
from functools import cache
from importlib.resources import files

from agents.tools.registry import tool


@cache
def _orders() -> dict[str, dict]:
    return json.loads(files("agents.tools").joinpath("data/orders.json").read_text())


def _normalise(order_id: str) -> str:
    # Callers say "order number one two three four", "#1234" or "1 2 3 4": keep the digits/letters only.
    return "".join(ch for ch in str(order_id) if ch.isalnum()).upper()


@tool(
    description="Look up an order by its ID and return its status, carrier and expected delivery.",
    parameters={
        "type": "object",
        "properties": {"order_id": {"type": "string", "description": "the order number, digits only"}},
        "required": ["order_id"],
    },
)
async def lookup_order(order_id: str) -> dict:
    order = _orders().get(_normalise(order_id))
    if order is None:
        return {"found": False, "order_id": order_id, "message": f"No order {order_id} was found."}
    return {"found": True, "order_id": _normalise(order_id), **order}
