"""Shared set-up of the auth and notify tests: an openssl-made PKI, the API client, logins.

Imported by ``test_auth*.py``, ``test_notify*.py`` and ``test_authz_matrix.py`` (the ``http``
fixture by import); the PKI is the session's (``conftest.pki``). It holds no tests itself.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import tokens, verification
from chalicelib.api import authz
from chalicelib.names import Bucket
from chalicelib.principal import Principal
from chalicelib.settings import Settings
from tests.functional.conftest import ROOT
from tests.functional.test_workflow import honour_kms_digest
from tools.pki import Identity, Pki
from tools.signing import sign_detached

KIND_OF = {"company": "organization"}


def trust(settings: Settings, pki: Pki) -> None:
    """Put ``pki``'s roots, intermediates and CRLs in the trust bucket; drop the cache."""
    from chalicelib import storage

    bucket = settings.bucket(Bucket.TRUST)
    for key, data in pki.trust_objects().items():
        storage.put(bucket, key, data)
    verification.trust_cache.clear()


@pytest.fixture
def http(settings: Settings, pki: Pki) -> Iterator[Any]:
    """The app's HTTP test client, with the session PKI trusted (again: another module may
    have put its own PKI in the trust bucket) and KMS signing digests as AWS does."""
    honour_kms_digest()
    trust(settings, pki)
    from app import app

    with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
        yield client.http


def as_json(response: Any) -> dict[str, Any]:
    """The JSON body of a test-client response."""
    return dict(json.loads(response.body or b"{}"))


def post_json(api: Any, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    """POST a JSON body."""
    return api.post(path, headers={"Content-Type": "application/json", **(headers or {})},
                    body=json.dumps(body, ensure_ascii=False).encode())


def openssl_sign(identity: Identity, payload: bytes, work: Path) -> bytes:
    """A detached CMS signature made by the openssl command line, as the contract says."""
    work.mkdir(parents=True, exist_ok=True)
    data = work / "login.json"
    data.write_bytes(payload)
    out = work / "login.p7s"
    args = ["openssl", "cms", "-sign", "-binary", "-in", str(data), "-signer", str(identity.cert),
            "-inkey", str(identity.key), "-outform", "DER", "-out", str(out)]
    if identity.chain.read_bytes().strip():
        args[args.index("-outform"):args.index("-outform")] = ["-certfile", str(identity.chain)]
    subprocess.run(args, check=True, capture_output=True)
    return out.read_bytes()


def login_envelope(identity: Identity, nonce: str, *, kind: str | None = None,
                   ident: str | None = None, openssl_dir: Path | None = None) -> dict[str, str]:
    """The envelope ``POST /auth/login`` takes: ``{"nonce", "id", "kind"}`` signed."""
    doc = {"nonce": nonce, "id": ident if ident is not None else identity.id_number,
           "kind": kind or KIND_OF.get(identity.name, "person")}
    payload = json.dumps(doc, ensure_ascii=False).encode()
    signature = (openssl_sign(identity, payload, openssl_dir) if openssl_dir else
                 sign_detached(payload, identity.cert_pem(), identity.key_pem(),
                               identity.chain_pems()))
    return {"payload": base64.b64encode(payload).decode(),
            "signature": base64.b64encode(signature).decode()}


def challenge(api: Any) -> str:
    """A fresh login nonce."""
    answer = api.post("/auth/challenge")
    assert answer.status_code == 201, answer.body
    return str(as_json(answer)["nonce"])


def login(api: Any, identity: Identity, **kwargs: Any) -> Any:
    """Log in with ``identity``'s certificate; the raw response."""
    return post_json(api, "/auth/login", login_envelope(identity, challenge(api), **kwargs))


def bearer_for(api: Any, identity: Identity, **kwargs: Any) -> dict[str, str]:
    """An Authorization header from a real certificate login."""
    answer = login(api, identity, **kwargs)
    assert answer.status_code == 200, answer.body
    return {"Authorization": f"Bearer {as_json(answer)['token']}"}


def minted(settings: Settings, principal: Principal, *, now: datetime | None = None) -> dict[
        str, str]:
    """An Authorization header for any principal, signed by the stage's KMS key."""
    honour_kms_digest()
    kid, sign_der = authz.signer(settings)
    token = tokens.issue(principal, kid=kid, sign_der=sign_der, now=now or datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}
