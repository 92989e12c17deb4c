"""The signed-in applicant's own cases and inbox."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
