"""Load the pilot data into a freshly deployed stage: catalog, demo PKI, trust store."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("onestop.local")


def load_catalog() -> int:
    """Publish the pilot catalog into the catalog table."""
    from chalicelib import runtime
    from chalicelib.catalog import load_services
    from chalicelib.store import catalog

    runtime.ready()
    return catalog.publish([item.to_dict() for item in load_services()])


def load(state_dir: Path, outputs: dict[str, str]) -> dict[str, Any]:
    """Everything the local stack loads after deploying; returns what the banner shows."""
    demo: dict[str, Any] = {}
    demo["services"] = load_catalog()
    log.info("catalog: %d service items published", demo["services"])
    return demo
