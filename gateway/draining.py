"""Draining: once told to stop (SIGTERM) with `server.drain_timeout_s` set, a node takes no new calls while the
live ones finish, and /healthz says 503 "draining" so that load balancers and Kubernetes send calls elsewhere."""

from aiohttp import web

from agents.errors import ParleyError
from gateway.app_keys import DRAINING


class Draining(ParleyError):
    code, status = "draining", 503


def refuse_new_calls(app: web.Application) -> None:
    """Raises Draining (503) while this node drains."""
    if app[DRAINING].is_set():
        raise Draining("this gateway is shutting down and takes no new calls; try again (another node will answer)")
