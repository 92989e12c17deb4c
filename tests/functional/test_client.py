"""The command-line client signs from PEM files or a PKCS#12, into envelopes the verifier
accepts, and `openssl cms -verify` accepts the same signature."""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import UTC, datetime

import pytest

from chalicelib.signature import TrustStore, verify_detached
from tools import client
from tools.pki import P12_PASSWORD


@pytest.mark.parametrize("source", ["pem", "p12"])
def test_client_sign_makes_an_envelope_that_verifies(pki, tmp_path, source: str) -> None:
    identity = pki["rsa_citizen"]
    application = tmp_path / "application.json"
    application.write_text(json.dumps({"service_code": "441200-jmj-0001", "form": {},
                                       "applicant": {"kind": "person",
                                                     "id": identity.id_number,
                                                     "name": "张三"}}), encoding="utf-8")
    out = tmp_path / "envelope.json"
    args = ["sign", str(application), "-o", str(out)]
    if source == "pem":
        args += ["--cert", str(identity.cert), "--key", str(identity.key),
                 "--chain", str(identity.chain)]
    else:
        args += ["--p12", str(identity.p12), "--password", P12_PASSWORD]
    assert client.main(args) == 0
    envelope = json.loads(out.read_text())
    payload = base64.b64decode(envelope["payload"])
    signature = base64.b64decode(envelope["signature"])
    doc = json.loads(payload)
    assert doc["nonce"] and doc["signed_at"]  # filled in by the client
    verdict = verify_detached(payload, signature, TrustStore.from_objects(pki.trust_objects()),
                              now=datetime.now(UTC), applicant_id=identity.id_number)
    assert verdict.reason is None, verdict.report
    (tmp_path / "payload").write_bytes(payload)
    (tmp_path / "sig.der").write_bytes(signature)
    checked = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER",
                              "-in", str(tmp_path / "sig.der"), "-content",
                              str(tmp_path / "payload"), "-CAfile", str(pki.root),
                              "-certfile", str(pki.intermediate), "-purpose", "any",
                              "-out", "/dev/null"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
