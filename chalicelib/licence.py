"""Electronic licences (电子证照): the signed JSON document, its PDF rendering, verification.

A licence is issued once per approved case, by the route worker. Its document is canonical JSON
(sorted keys, no spaces, UTF-8); the platform's KMS key signs exactly those bytes with ECDSA
P-256 / SHA-256, and the PDF rendering is signed the same way. Anyone holding the platform's
public key verifies both offline::

    openssl dgst -sha256 -verify platform.pem -signature licence.sig licence.json

The licence id derives from the receipt, and the document from stored facts only (its issue
time is the decision time), so issuing twice — a redelivered message — writes the same document.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib import keys, licence_pdf, storage
from chalicelib.catalog import department_by_code
from chalicelib.contract import Status
from chalicelib.errors import NotFound
from chalicelib.names import Bucket
from chalicelib.settings import Settings

log = logging.getLogger(__name__)

FORMAT = "onestop.licence/1"
ALGORITHM = "ECDSA_P256_SHA256"
TITLE = "准予行政许可决定书"
_PREFIX = "L"


class UnknownLicence(NotFound):
    """No licence with this id (or the caller may not know that it exists)."""

    code = "LICENCE_NOT_FOUND"
    message_zh = "未找到该电子证照"
    message_en = "no such licence"


def licence_id(receipt: str) -> str:
    """The licence id of a case (one licence per approved case)."""
    return _PREFIX + receipt


def receipt_of(licence: str) -> str | None:
    """The receipt a licence id was derived from, or None for a malformed id."""
    if not licence.startswith(_PREFIX) or not 8 < len(licence) <= 65 or not licence.isalnum():
        return None
    return licence[len(_PREFIX):]


def object_keys(licence: str) -> dict[str, str]:
    """Where a licence's parts live in the licences bucket."""
    base = f"licences/{licence}"
    return {"json": f"{base}/licence.json", "sig": f"{base}/licence.sig",
            "pdf": f"{base}/licence.pdf", "pdf_sig": f"{base}/licence.pdf.sig"}


def canonical(document: dict[str, Any]) -> bytes:
    """The exact bytes that are signed."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def build(*, licence: str, receipt: str, item: dict[str, Any], holder: dict[str, str],
          approvals: list[dict[str, Any]], decided_at: datetime, assisted: bool,
          key_fingerprint: str, base_url: str) -> dict[str, Any]:
    """The licence document (pure: every value is passed in)."""
    lead = item.get("department", "")
    lead_dept = department_by_code(lead)
    return {
        "format": FORMAT,
        "licence_id": licence,
        "title": TITLE,
        "receipt": receipt,
        "service": {"code": item["code"], "version": int(item.get("version", 1)),
                    "name": item.get("name", ""), "legal_basis": list(item.get("legal_basis", []))},
        "holder": holder,
        "issuer": {"department": lead, "name": lead_dept.name if lead_dept else lead},
        "approvals": approvals,
        "issued_at": decided_at.isoformat(),
        "assisted": assisted,
        "verify_url": f"{base_url}/licences/{licence}/verify",
        "signature": {"algorithm": ALGORITHM, "key_sha256": key_fingerprint},
    }


def pdf_lines(document: dict[str, Any], document_sha256: str) -> list[licence_pdf.Line]:
    """What the printed licence shows."""
    line = licence_pdf.Line
    holder = document["holder"]
    id_label = "统一社会信用代码" if holder.get("kind") == "organization" else "身份证号码"
    issued = document["issued_at"][:10]
    lines = [
        line("电子证照", size=14, centre=True, gap_before=10),
        line(document["title"], size=22, centre=True, gap_before=6),
        line(f"证照编号：{document['licence_id']}", size=10, centre=True, gap_before=4),
        line(f"许可事项：{document['service']['name']}", size=12, gap_before=24),
        line(f"事项编码：{document['service']['code']}（第{document['service']['version']}版）",
             size=12),
        line(f"受理号：{document['receipt']}", size=12),
        line(f"申请人：{holder.get('name', '')}", size=12, gap_before=12),
        line(f"{id_label}：{holder.get('id', '')}", size=12),
        line("审批意见：", size=12, gap_before=12),
    ]
    for approval in document["approvals"]:
        lines.append(line(f"第{int(approval['stage']) + 1}环节　{approval['department_name']}　"
                          f"{'同意' if approval['decision'] == 'approve' else '出具意见'}　"
                          f"{str(approval['decided_at'])[:10]}", size=11, indent=24))
    lines += [
        line(f"经审查，你（单位）的申请符合法定条件、标准，决定准予{document['service']['name']}。",
             size=12, gap_before=12),
        line(f"发证机关：{document['issuer']['name']}", size=12, gap_before=24),
        line(f"发证日期：{issued}", size=12),
        line(f"本证照由一站式网上办事大厅签发，以平台密钥（{ALGORITHM}）电子签名。", size=9,
             gap_before=36),
        line(f"证照数据摘要（SHA-256）：{document_sha256}", size=9),
        line(f"验证地址：{document['verify_url']}", size=9),
    ]
    return lines


def verify_signature(data: bytes, signature: bytes, public_key_der: bytes) -> bool:
    """True when ``signature`` (DER ECDSA) over ``data`` verifies with the public key."""
    key = serialization.load_der_public_key(public_key_der)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def public_key_pem(settings: Settings) -> str:
    """The platform's public key (PEM), the one licences verify with."""
    der = keys.public_key_der(settings.key_alias)
    key = serialization.load_der_public_key(der)
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_fingerprint(settings: Settings) -> str:
    """SHA-256 of the platform public key's DER, named in each licence."""
    return hashlib.sha256(keys.public_key_der(settings.key_alias)).hexdigest()


# ---------------------------------------------------------------------------- issue and read


def issue(settings: Settings, receipt: str, now: datetime) -> str | None:
    """Sign and store the licence of an approved case; returns its id (None if not approved).

    Idempotent: a case that has its licence is left alone.
    """
    from chalicelib import outbox
    from chalicelib.store import cases, steps, tasks
    from chalicelib.store.models import ApplicationModel

    application = cases.find(receipt)
    if application is None:
        raise LookupError("licence for an unknown receipt")
    if application.status != Status.APPROVED.value:
        return None
    if application.licence_id:
        outbox.deliver(settings, receipt)  # what the issuing step still owes
        return str(application.licence_id)
    from chalicelib import workflow

    item = workflow.bound_item(application)
    payload = json.loads(storage.get(settings.bucket(Bucket.UPLOADS), application.payload_key))
    applicant = payload["applicant"]
    holder = {"kind": applicant["kind"], "name": applicant["name"],
              # An organisation's credit code is public; a person's ID number is not printed.
              "id": applicant["id"] if applicant["kind"] == "organization"
              else application.applicant_masked}
    approvals = [{"stage": int(t.stage), "department": t.department,
                  "department_name": _department_name(t.department), "decision": t.decision,
                  "decided_at": t.closed_at.isoformat() if t.closed_at else None}
                 for t in tasks.for_case(receipt) if t.decision in ("approve", "opinion")]
    licence = licence_id(receipt)
    document = build(licence=licence, receipt=receipt, item=item, holder=holder,
                     approvals=approvals, decided_at=application.decided_at or now,
                     assisted=bool(application.assisted), key_fingerprint=key_fingerprint(settings),
                     base_url=settings.public_base_url)
    body = canonical(document)
    digest = hashlib.sha256(body).hexdigest()
    pdf = licence_pdf.render(pdf_lines(document, digest), title=TITLE,
                             subject=f"{document['service']['name']} {licence}")
    bucket = settings.bucket(Bucket.LICENCES)
    paths = object_keys(licence)
    meta = {"receipt": receipt, "sha256": digest}
    storage.put(bucket, paths["json"], body, content_type="application/json", metadata=meta)
    storage.put(bucket, paths["sig"], keys.sign(settings.key_alias, body),
                content_type="application/octet-stream", metadata=meta)
    storage.put(bucket, paths["pdf"], pdf, content_type="application/pdf", metadata=meta)
    storage.put(bucket, paths["pdf_sig"], keys.sign(settings.key_alias, pdf),
                content_type="application/octet-stream", metadata=meta)
    # The licence id, its audit record and the holder's notification in one step; the objects
    # above are content-addressed by the licence id, so a retry rewrites the same ones.
    issued = steps.commit(
        receipt, [ApplicationModel.licence_id.set(licence), ApplicationModel.updated_at.set(now)],
        ApplicationModel.licence_id.does_not_exist()
        & (ApplicationModel.status == Status.APPROVED.value),
        records=[steps.Record("LICENCE_ISSUED", "route", now,
                              {"licence_id": licence, "sha256": digest})],
        outbox=[workflow.notice(settings, receipt, "licence_issued",
                                detail={"licence_id": licence})], now=now)
    outbox.deliver(settings, receipt)
    if not issued:
        return licence  # issued concurrently: the same document, another valid signature
    log.info("licence issued", extra={"receipt": receipt, "licence_id": licence})
    return licence


@dataclass(frozen=True)
class Stored:
    """A licence as stored: the exact signed bytes and the signatures."""

    licence_id: str
    document_bytes: bytes
    signature: bytes
    pdf_signature: bytes

    @property
    def document(self) -> dict[str, Any]:
        """The parsed document."""
        return dict(json.loads(self.document_bytes))

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the signed bytes."""
        return hashlib.sha256(self.document_bytes).hexdigest()


def load(settings: Settings, licence: str) -> Stored:
    """Read a licence's document and signatures; ``UnknownLicence`` if there is none."""
    if receipt_of(licence) is None:
        raise UnknownLicence()
    bucket = settings.bucket(Bucket.LICENCES)
    paths = object_keys(licence)
    if storage.head(bucket, paths["json"]) is None:
        raise UnknownLicence()
    return Stored(licence, storage.get(bucket, paths["json"]), storage.get(bucket, paths["sig"]),
                  storage.get(bucket, paths["pdf_sig"]))


def bundle(settings: Settings, stored: Stored) -> dict[str, Any]:
    """What the holder downloads: document, exact bytes, signatures, key and PDF link."""
    bucket = settings.bucket(Bucket.LICENCES)
    return {
        "licence_id": stored.licence_id,
        "document": stored.document,
        "document_base64": base64.b64encode(stored.document_bytes).decode(),
        "document_sha256": stored.sha256,
        "signature_base64": base64.b64encode(stored.signature).decode(),
        "algorithm": ALGORITHM,
        "public_key_pem": public_key_pem(settings),
        "pdf_url": storage.presign_get(bucket, object_keys(stored.licence_id)["pdf"]),
        "pdf_signature_base64": base64.b64encode(stored.pdf_signature).decode(),
        "verify_url": stored.document.get("verify_url"),
    }


def check(settings: Settings, stored: Stored) -> dict[str, Any]:
    """The public verification answer: valid or not, and what the licence is about.

    No personal data beyond what the printed licence shows to anyone it is presented to; the
    holder's name is masked to its first character.
    """
    der = keys.public_key_der(settings.key_alias)
    valid = verify_signature(stored.document_bytes, stored.signature, der)
    document = stored.document
    holder = document.get("holder", {})
    name = str(holder.get("name", ""))
    return {
        "licence_id": stored.licence_id,
        "valid": valid,
        "status": "valid" if valid else "invalid",
        "title": document.get("title"),
        "service": {k: document.get("service", {}).get(k) for k in ("code", "name", "version")},
        "issuer": document.get("issuer"),
        "issued_at": document.get("issued_at"),
        "holder": {"kind": holder.get("kind"), "name": name[:1] + "*" * max(len(name) - 1, 0)},
        "document_sha256": stored.sha256,
        "algorithm": ALGORITHM,
        "public_key_pem": public_key_pem(settings),
    }


def _department_name(code: str) -> str:
    department = department_by_code(code)
    return department.name if department else code
