"""Load the pilot data into a freshly deployed stage: catalog, demo PKI, trust store, demo
application."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("onestop.local")


def load_catalog() -> int:
    """Publish the pilot catalog into the catalog table."""
    from chalicelib import runtime
    from chalicelib.catalog import load_services
    from chalicelib.store import catalog

    runtime.ready()
    return catalog.publish([item.to_dict() for item in load_services()])


def load_pki(directory: Path) -> Any:
    """Build (or reuse) the demo PKI with openssl and load its trust objects into the bucket."""
    from chalicelib import storage
    from chalicelib.names import Bucket
    from chalicelib.settings import get_settings
    from tools.pki import build_pki

    pki = build_pki(directory)
    if pki.crl_next_update <= datetime.now(UTC):
        pki = build_pki(directory, force=True)  # stale CRLs would hold every application
    bucket = get_settings().bucket(Bucket.TRUST)
    for key, data in pki.trust_objects().items():
        storage.put(bucket, key, data)
    return pki


def demo_application(directory: Path, pki: Any) -> tuple[Path, list[str]]:
    """An application for a single-department item by the demo citizen, with its materials."""
    from chalicelib.catalog import load_services
    from tools.demo import sample_form, sample_material

    citizen = pki["rsa_citizen"]
    item = next(s for s in load_services()
                if s.online and "person" in s.applicant_kinds and len(s.routing.departments()) == 1)
    application = {
        "service_code": item.code,
        "applicant": {"kind": "person", "id": citizen.id_number, "name": "张三",
                      "phone": "13800138000", "email": "zhangsan@example.cn"},
        "form": sample_form(item.form_schema),
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "application.json"
    path.write_text(json.dumps(application, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    attachments = [f"{sample_material(directory / 'materials', m.code)}:{m.code}"
                   for m in item.materials if m.required]
    return path, attachments


def load(state_dir: Path, outputs: dict[str, str]) -> dict[str, Any]:
    """Everything the local stack loads after deploying; returns what the banner shows."""
    from chalicelib import email
    from chalicelib.settings import get_settings

    demo: dict[str, Any] = {"services": load_catalog()}
    email.verify_sender(get_settings())
    log.info("catalog: %d service items published", demo["services"])
    pki = load_pki(state_dir / "pki")
    demo["pki_dir"] = str(pki.directory)
    citizen = pki["rsa_citizen"]
    application, attachments = demo_application(state_dir / "demo", pki)
    attach = " ".join(f"--attach {a}" for a in attachments)
    demo["example"] = (f".venv/bin/onestop --api {{api}} submit {application} "
                       f"--cert {citizen.cert} --key {citizen.key} --chain {citizen.chain} "
                       f"{attach}")
    return demo
