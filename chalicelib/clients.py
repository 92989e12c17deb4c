"""boto3 clients, created once per process on first use (never at import of domain code)."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.settings import Settings, get_settings

_lock = threading.Lock()
_clients: dict[tuple[str, str, str | None], Any] = {}
# Retries in standard mode with a short connect timeout: a Lambda should fail fast and let the
# queue redeliver rather than hang until its own timeout.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5,
                 read_timeout=30, signature_version="v4")


def client(service: str, settings: Settings | None = None) -> Any:
    """A cached boto3 client for ``service`` in the stage's region and endpoint."""
    s = settings or get_settings()
    key = (service, s.region, s.endpoint_url)
    found = _clients.get(key)
    if found is not None:
        return found
    # boto3's default session is not thread-safe while creating clients.
    with _lock:
        if key not in _clients:
            config = _CONFIG
            if service == "s3":
                config = _CONFIG.merge(Config(s3={"addressing_style": "path"}))
            _clients[key] = boto3.session.Session().client(
                service, region_name=s.region, endpoint_url=s.endpoint_url, config=config
            )
        return _clients[key]


def reset() -> None:
    """Forget cached clients (tests switch endpoints between runs)."""
    with _lock:
        _clients.clear()
