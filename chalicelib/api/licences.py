"""Electronic licences: download by the holder, public verification.

``GET /licences/{id}`` answers the holder (the case's tracking code in ``?code=``, or the
applicant's bearer token): the signed document, its exact bytes, the signatures, the platform's
public key and a link to the PDF (``?format=pdf`` redirects to it). Anyone else gets the same
404 as for an unknown id. ``GET /licences/{id}/verify`` is public: whether the stored licence's
signature verifies, and what it is about, with the holder's name masked.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import licence, runtime, storage, tracking
from chalicelib.api import authz, json_response
from chalicelib.api.departments import headers, params
from chalicelib.contract import Status
from chalicelib.errors import ClientError, NotFound
from chalicelib.names import Bucket
from chalicelib.principal import APPLICANT_ROLES
from chalicelib.store import cases
from chalicelib.store.models import ApplicationModel

bp = Blueprint(__name__)


class LicencePending(NotFound):
    """The case is approved; its licence is being signed."""

    code = "LICENCE_PENDING"
    message_zh = "电子证照正在签发，请稍后再试"
    message_en = "the licence is being issued; try again shortly"


def _holder_case(licence_id: str) -> ApplicationModel:
    receipt = licence.receipt_of(licence_id)
    if receipt is None:
        raise licence.UnknownLicence()
    settings = runtime.ready()
    code = params().get("code")
    if code:
        try:
            return tracking.authorise(receipt, code)
        except NotFound:
            raise licence.UnknownLicence() from None
    given = headers()
    if given.get("authorization"):
        caller = authz.principal(given, settings)
        application = cases.find(receipt)
        if caller.role in APPLICANT_ROLES and application is not None \
                and application.applicant_key == caller.subject:
            return application
    raise licence.UnknownLicence()


@bp.route("/licences/{licence_id}", methods=["GET"])
def get_licence(licence_id: str) -> Response:
    """The holder's licence bundle, or (``?format=pdf``) a redirect to the PDF."""
    settings = runtime.ready()
    application = _holder_case(licence_id)
    if application.status != Status.APPROVED.value:
        raise licence.UnknownLicence()
    if not application.licence_id:
        raise LicencePending()
    fmt = params().get("format") or "json"
    if fmt == "pdf":
        url = storage.presign_get(settings.bucket(Bucket.LICENCES),
                                  licence.object_keys(licence_id)["pdf"])
        return Response(body="", status_code=302,
                        headers={"Location": url, "Cache-Control": "no-store"})
    if fmt != "json":
        raise ClientError("format 只能是 json 或 pdf", "format must be json or pdf",
                          code="INVALID_FORMAT")
    stored = licence.load(settings, licence_id)
    return json_response(licence.bundle(settings, stored), headers={"Cache-Control": "no-store"})


@bp.route("/licences/{licence_id}/verify", methods=["GET"])
def verify_licence(licence_id: str) -> Response:
    """Public: does this licence exist and does its signature verify with the platform key?"""
    settings = runtime.ready()
    stored = licence.load(settings, licence_id)
    return json_response(licence.check(settings, stored),
                         headers={"Cache-Control": "public, max-age=60"})
