"""Service-window clerks: assisted submission (窗口代办)."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
