"""Webhook tools' gateway side: the secret that signs them (configured, else generated once into the data dir)
and the wiring of the process's webhook client and tool settings into the loaded engine."""

import os
import secrets
from pathlib import Path

from aiohttp import web

from gateway.app_keys import CONFIG, MODELS, WEBHOOKS
from gateway.config import Config, ConfigError

SECRET_FILE = "webhook_secret"
MIN_SECRET_CHARS = 16


def secret_path(config: Config) -> Path:
    return config.resolved_data_dir / SECRET_FILE


def webhook_secret(config: Config) -> str:
    """`tools.webhook_secret` if set; else the one in `data_dir/webhook_secret`, created (mode 0600) if missing.

    Two processes starting at once agree on one secret.
    """
    configured = config.tools.webhook_secret
    if configured is not None:
        if len(configured.strip()) < MIN_SECRET_CHARS:
            raise ConfigError(f"invalid setting tools.webhook_secret (PARLEY_TOOLS_WEBHOOK_SECRET): expected at "
                              f"least {MIN_SECRET_CHARS} characters")
        return configured.strip()
    path = secret_path(config)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a temporary name, then linked into place: a process starting at the same
        # time sees no file or the complete one, and the first link wins.
        tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("whsec_" + secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    existing = path.read_text().strip()
    if len(existing) < MIN_SECRET_CHARS:
        raise ConfigError(f"the webhook secret in {path} is empty or too short: delete the file to make a new "
                          "one, or set PARLEY_TOOLS_WEBHOOK_SECRET")
    return existing


def wire_tools(app: web.Application) -> None:
    """Give the loaded engine the webhook client and the tool settings; idempotent, a no-op before loading."""
    engine, config = app[MODELS].engine, app[CONFIG]
    if engine is None or WEBHOOKS not in app or engine.tools.webhooks is app[WEBHOOKS]:
        return
    engine.tools.webhooks = app[WEBHOOKS]
    engine.goodbye_line = config.tools.goodbye_line
    engine.dtmf_pause_ms = config.sessions.dtmf_pause_ms
