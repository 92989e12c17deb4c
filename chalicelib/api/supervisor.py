"""Electronic supervision views and statistics."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
