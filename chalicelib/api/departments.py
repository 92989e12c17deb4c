"""Department work: worklists, task details, decisions (officers)."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
