"""Test applicants: openssl-made certificates signing real envelopes, submitted through the API."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib import storage, uploads
from chalicelib.catalog import ServiceItem, load_services
from chalicelib.names import Bucket
from chalicelib.settings import Settings
from tools.demo import sample_form
from tools.pki import Identity
from tools.signing import sign_detached

OPENSSL_VARIANTS: dict[str, tuple[str, ...]] = {
    "rsa-pkcs1-sha256": (),
    "rsa-pss-sha256": ("-keyopt", "rsa_padding_mode:pss"),
    "sha384": ("-md", "sha384"),
    "sha512-noattr": ("-md", "sha512", "-noattr"),
    "noattr": ("-noattr",),
}


def openssl_cms_sign(identity: Identity, payload: bytes, workdir: Path, *extra: str) -> bytes:
    """What a citizen's openssl makes: ``openssl cms -sign -binary -outform DER``."""
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / f"payload-{secrets.token_hex(4)}.json"
    source.write_bytes(payload)
    args = ["openssl", "cms", "-sign", "-binary", "-in", str(source), "-signer",
            str(identity.cert), "-inkey", str(identity.key), "-outform", "DER", *extra]
    if identity.chain.read_bytes().strip():
        args += ["-certfile", str(identity.chain)]
    return subprocess.run(args, check=True, capture_output=True).stdout


def item_for(kind: str) -> ServiceItem:
    """A fully online, single-department item open to ``kind`` applicants."""
    return next(s for s in load_services()
                if s.online and kind in s.applicant_kinds and len(s.routing.departments()) == 1)


@dataclass
class Draft:
    """An application being prepared: its JSON and the bytes of its materials."""

    item: ServiceItem
    doc: dict[str, Any]
    materials: dict[str, bytes]

    def payload(self) -> bytes:
        return json.dumps(self.doc, ensure_ascii=False, sort_keys=True).encode()


def draft(kind: str, identity: Identity, *, now: datetime | None = None,
          applicant_id: str | None = None) -> Draft:
    """An application by ``identity`` for a suitable item, with every required material."""
    item = item_for(kind)
    materials = {m.code: f"%PDF-1.4 {m.code} {secrets.token_hex(8)}".encode()
                 for m in item.materials if m.required}
    doc = {
        "service_code": item.code,
        "applicant": {"kind": kind, "id": applicant_id or identity.id_number, "name": "测试申请人",
                      "phone": "13800138000", "email": "applicant@example.cn"},
        "form": sample_form(item.form_schema),
        "attachments": [],
        "signed_at": (now or datetime.now(UTC)).isoformat(),
        "nonce": secrets.token_hex(12),
    }
    return Draft(item, doc, materials)


def upload_materials(settings: Settings, d: Draft,
                     stored: Callable[[str, bytes], bytes] = lambda code, b: b) -> None:
    """Put each material in the uploads bucket (as a presigned PUT would) and declare it."""
    for code, data in d.materials.items():
        upload_id = secrets.token_urlsafe(12)
        storage.put(settings.bucket(Bucket.UPLOADS), uploads.object_key(upload_id),
                    stored(code, data))
        d.doc["attachments"].append({"upload_id": upload_id, "name": code,
                                     "sha256": hashlib.sha256(data).hexdigest(),
                                     "size": len(data)})


def envelope(payload: bytes, signature: bytes) -> str:
    """The contract's JSON body."""
    return json.dumps({"payload": base64.b64encode(payload).decode(),
                       "signature": base64.b64encode(signature).decode()})


def sm2_sign(identity: Identity, payload: bytes, *, wrapper: str = "pkcs7") -> bytes:
    """SM2/SM3 CMS made by the project's signing helper (openssl has no SM2 CMS signing)."""
    return sign_detached(payload, identity.cert_pem(), identity.key_pem(), identity.chain_pems(),
                         wrapper=wrapper)  # type: ignore[arg-type]
