"""Every route × every role: allowed, 401 or 403 — and no route without a row.

The table below is the authorization policy of the API. The test enumerates ``app.routes``, so a
new route fails the build until someone decides, in a row here, who may call it. "allowed"
means neither 401 nor 403 (the call itself may answer 404 or 400: the objects are made up),
and never a 5xx.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.principal import Principal, Role
from tests.functional import test_auth_fixtures
from tests.functional.test_auth_fixtures import minted

http = test_auth_fixtures.http
ANONYMOUS = "anonymous"
OTHER_OFFICER = "officer_other"  # an officer of another department than the URL's
ROLES = (ANONYMOUS, "person", "organization", "officer", OTHER_OFFICER, "clerk", "supervisor",
         "admin")
OK, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND = "ok", 401, 403, 404
OWN_DEPARTMENT, OTHER_DEPARTMENT = "ghj", "hbj"
PARAMS = {"code": OWN_DEPARTMENT, "receipt": "20260101NOSUCHCASE", "stage": "0",
          "department": OWN_DEPARTMENT, "licence_id": "L20260101NOSUCHCASE",
          "finding_id": "F-NOSUCHFINDING"}


def public() -> dict[str, Any]:
    """Anyone, with or without a token."""
    return dict.fromkeys(ROLES, OK)


def only(*roles: str) -> dict[str, Any]:
    """A token of one of ``roles``: no token 401, any other role 403."""
    return {r: OK if r in roles else UNAUTHENTICATED if r == ANONYMOUS else FORBIDDEN
            for r in ROLES}


def everyone_signed_in() -> dict[str, Any]:
    return only(*ROLES[1:])


APPLICANTS = ("person", "organization")

MATRIX: dict[tuple[str, str], dict[str, Any]] = {
    # Public: the catalog, health, tracking (tracking code), uploads (the signed application
    # binds what was uploaded), submission and supplements (authenticated by their CA
    # signature), login, and licence verification.
    ("GET", "/health"): public(),
    ("GET", "/services"): public(),
    ("GET", "/services/{code}"): public(),
    ("GET", "/departments"): public(),
    ("GET", "/track/{receipt}"): public(),
    ("POST", "/uploads"): public(),
    ("POST", "/applications"): public(),
    ("POST", "/applications/{receipt}/supplements"): public(),
    ("POST", "/auth/challenge"): public(),
    ("POST", "/auth/login"): public(),
    ("GET", "/licences/{licence_id}/verify"): public(),
    # The holder by tracking code or by their own token; anyone else gets the same 404 as for
    # an unknown licence (never 401/403, which would confirm that it exists).
    ("GET", "/licences/{licence_id}"): {**public(), **dict.fromkeys(ROLES, NOT_FOUND)},
    # Evidence: the applicant with the tracking code, or auditors (supervisor, admin).
    ("GET", "/applications/{receipt}/evidence"): only("supervisor", "admin"),
    # Assisted submission at the service window.
    ("POST", "/clerk/applications"): only("clerk"),
    # The caller's own things.
    ("GET", "/me"): everyone_signed_in(),
    ("GET", "/me/inbox"): everyone_signed_in(),
    ("GET", "/me/applications"): only(*APPLICANTS),
    ("GET", "/me/applications/{receipt}"): {**only(*APPLICANTS), "person": NOT_FOUND,
                                            "organization": NOT_FOUND},
    ("GET", "/me/webhook"): only(*APPLICANTS),
    # Department work: officers of the URL's department; supervisors read, never decide.
    ("GET", "/departments/{code}/tasks"): only("officer", "supervisor"),
    ("GET", "/departments/{code}/tasks/{receipt}/{stage}"): only("officer", "supervisor"),
    ("POST", "/departments/{code}/tasks/{receipt}/{stage}/approve"): only("officer"),
    ("POST", "/departments/{code}/tasks/{receipt}/{stage}/deny"): only("officer"),
    ("POST", "/departments/{code}/tasks/{receipt}/{stage}/opinion"): only("officer"),
    ("POST", "/departments/{code}/tasks/{receipt}/{stage}/corrections"): only("officer"),
    ("POST", "/departments/{code}/tasks/{receipt}/{stage}/inspections"): only("officer"),
    ("POST", "/departments/{code}/tasks/{receipt}/{stage}/extensions"): only("officer"),
    ("POST", "/departments/{code}/extensions/{receipt}/{stage}/{department}"): only("officer"),
    # Electronic supervision: public aggregates; everything else is the supervisors' (read and
    # resolve findings, never decide cases).
    ("GET", "/stats"): public(),
    ("GET", "/supervision/stats"): only("supervisor"),
    ("GET", "/supervision/findings"): only("supervisor"),
    ("POST", "/supervision/findings/{finding_id}/resolve"): only("supervisor"),
    ("GET", "/supervision/departments/{code}/overdue"): only("supervisor"),
    ("GET", "/supervision/departments/{code}/warnings"): only("supervisor"),
    ("GET", "/supervision/cases/{receipt}"): only("supervisor"),
    # The applicant's own case: rating (好差评) and who viewed it; another applicant's case is
    # the same 404 as an unknown one.
    ("POST", "/applications/{receipt}/rating"): {**only(*APPLICANTS), "person": NOT_FOUND,
                                                 "organization": NOT_FOUND},
    ("GET", "/me/applications/{receipt}/views"): {**only(*APPLICANTS), "person": NOT_FOUND,
                                                  "organization": NOT_FOUND},
}


def _routes() -> set[tuple[str, str]]:
    from app import app

    return {(method, path) for path, methods in app.routes.items() for method in methods}


def missing_rows(routes: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Routes the matrix does not decide."""
    return sorted(routes - set(MATRIX))


def test_every_route_has_a_row_and_every_row_a_route() -> None:
    routes = _routes()
    missing = missing_rows(routes)
    stale = sorted(set(MATRIX) - routes)
    assert not missing, f"routes without an authorization row (add them to MATRIX): {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_a_route_added_without_a_row_is_caught() -> None:
    assert missing_rows(_routes() | {("DELETE", "/me/applications/{receipt}")}) == [
        ("DELETE", "/me/applications/{receipt}")]


def _principal(role: str) -> Principal | None:
    if role == ANONYMOUS:
        return None
    if role == "officer":
        return Principal(Role.OFFICER, "fp:matrix-officer", OWN_DEPARTMENT, "矩阵")
    if role == OTHER_OFFICER:
        return Principal(Role.OFFICER, "fp:matrix-other", OTHER_DEPARTMENT, "矩阵")
    return Principal(Role(role), f"matrix-{role}")


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_answers_each_role_as_the_matrix_says(http, settings, route) -> None:
    method, path = route
    url = path.format(**{k: v for k, v in PARAMS.items() if "{" + k + "}" in path})
    headers_of = {role: (minted(settings, p) if (p := _principal(role)) else {})
                  for role in ROLES}
    for role, expected in MATRIX[route].items():
        headers = {"Content-Type": "application/json", **headers_of[role]}
        body = json.dumps({}).encode() if method == "POST" else b""
        answer = http.request(method, url, headers=headers, body=body)
        status = answer.status_code
        where = f"{method} {url} as {role}: {status} {answer.body[:200]!r}"
        assert status < 500, where
        if expected == OK:
            assert status not in (401, 403), where
        else:
            assert status == expected, where
