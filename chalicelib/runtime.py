"""Process start-up shared by every handler: settings, tracing, table binding. Done once."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from chalicelib import tracing
from chalicelib.settings import Settings, get_settings
from chalicelib.store import models

_lock = threading.Lock()
_ready: Settings | None = None


def ready() -> Settings:
    """Initialise the process on first use and return its settings."""
    global _ready
    if _ready is not None:
        return _ready
    with _lock:
        if _ready is None:
            settings = get_settings()
            if not settings.pepper and settings.pepper_secret:
                settings = _with_pepper(settings)
            logging.getLogger("chalicelib").setLevel(logging.INFO)
            tracing.setup(settings.tracing)
            models.bind(settings.tables, settings.region, settings.endpoint_url)
            _ready = settings
    return _ready


def _with_pepper(settings: Settings) -> Settings:
    """Settings with the applicant-key pepper read from Secrets Manager (once per process)."""
    from chalicelib.clients import client

    secret = client("secretsmanager", settings).get_secret_value(SecretId=settings.pepper_secret)
    return replace(settings, pepper=str(secret["SecretString"]).encode())


def reset() -> None:
    """Forget the initialised state (tests run several stacks in one process)."""
    global _ready
    from chalicelib import clients, queues
    from chalicelib.api import authz

    authz.key_ring.clear()
    with _lock:
        _ready = None
        get_settings.cache_clear()
        clients.reset()
        queues.reset()
