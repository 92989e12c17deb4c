"""Who is calling: roles and the principal a verified token stands for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Role(str, Enum):
    """Roles of the platform; staff roles are enrolled by certificate."""

    PERSON = "person"
    ORGANIZATION = "organization"
    OFFICER = "officer"  # bound to one department
    CLERK = "clerk"  # service-window clerk, assisted submission
    SUPERVISOR = "supervisor"  # read-all, no decisions
    ADMIN = "admin"  # catalog, trust store


APPLICANT_ROLES = frozenset({Role.PERSON, Role.ORGANIZATION})


@dataclass(frozen=True)
class Principal:
    """The caller: a role, a stable subject and, for officers, their department.

    ``subject`` is the applicant key (HMAC of the identity number) for applicants and the
    certificate fingerprint for staff: never the raw identity number.
    """

    role: Role
    subject: str
    department: str | None = None
    display: str = ""

    @property
    def is_applicant(self) -> bool:
        """True for persons and organizations."""
        return self.role in APPLICANT_ROLES
