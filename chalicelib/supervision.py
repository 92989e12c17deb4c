"""Electronic supervision (电子监察): the scheduled pass over open tasks.

Deadline warnings, findings and statistics build on the workflow (see the supervision issue);
this first version reports that it ran.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.settings import Settings


def run(settings: Settings, now: datetime) -> dict[str, Any]:
    """One supervision pass at ``now``."""
    return {"stage": settings.stage, "at": now.isoformat(), "warnings": 0}
