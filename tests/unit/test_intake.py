"""Cheap intake checks: each failure is a 4xx with a code, in the order the contract implies."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib import intake
from chalicelib.errors import ClientError, PayloadTooLarge

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def body(payload: object, signature: bytes = b"\x30\x03\x02\x01\x01") -> bytes:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return json.dumps({"payload": base64.b64encode(raw).decode(),
                       "signature": base64.b64encode(signature).decode()}).encode()


def application(**changes: object) -> dict:
    doc = {"service_code": "440400-gsj-0001",
           "applicant": {"kind": "person", "id": "11010519491231002X", "name": "张三"},
           "form": {}, "attachments": [], "signed_at": "2026-11-23T10:00:00+08:00",
           "nonce": "n-0001-abcdef"}
    doc.update(changes)
    return doc


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    assert 400 <= exc.value.status < 500
    assert exc.value.body()["error"]["message"] and exc.value.body()["error"]["message_en"]
    return exc.value.code


@pytest.mark.parametrize(("raw", "code"), [
    (b"not json", "INVALID_JSON"),
    (b"[]", "INVALID_ENVELOPE"),
    (b'{"payload": "eA=="}', "INVALID_ENVELOPE"),
    (b'{"payload": "eA==", "signature": "eA==", "extra": 1}', "INVALID_ENVELOPE"),
    (b'{"payload": "***", "signature": "eA=="}', "INVALID_BASE64"),
    (b'{"payload": "", "signature": "eA=="}', "INVALID_BASE64"),
    (b'{"payload": 5, "signature": "eA=="}', "INVALID_BASE64"),
])
def test_envelope_errors(raw: bytes, code: str) -> None:
    with pytest.raises(ClientError) as exc:
        intake.parse_envelope(raw)
    assert code_of(exc) == code


def test_body_over_the_limit_is_413() -> None:
    with pytest.raises(PayloadTooLarge) as exc:
        intake.parse_envelope(b"x" * 101, max_bytes=100)
    assert exc.value.status == 413


def test_envelope_round_trip() -> None:
    env = intake.parse_envelope(body(application()))
    assert json.loads(env.payload)["nonce"] == "n-0001-abcdef"
    assert len(env.payload_sha256) == 64


@pytest.mark.parametrize("doc", [
    application(service_code=""),
    application(applicant={"kind": "alien", "id": "1" * 18, "name": "x"}),
    application(applicant={"kind": "person", "id": "123", "name": "x"}),
    application(nonce="short"),
    application(attachments=[{"upload_id": "abcdefgh", "name": "a", "sha256": "zz", "size": 1}]),
    application(unexpected=True),
    {k: v for k, v in application().items() if k != "form"},
])
def test_payload_shape_errors(doc: dict) -> None:
    with pytest.raises(ClientError) as exc:
        intake.parse_application(json.dumps(doc).encode())
    assert code_of(exc) == "INVALID_PAYLOAD"


def test_payload_not_utf8_json() -> None:
    with pytest.raises(ClientError) as exc:
        intake.parse_application(b"\xff\xfe")
    assert code_of(exc) == "INVALID_PAYLOAD"


def test_signed_at_skew() -> None:
    skew = timedelta(hours=1)
    assert intake.parse_signed_at("2026-11-23T10:30:00+08:00", NOW, skew)
    for value, code in [("2026-11-23T20:00:00+08:00", "SIGNED_AT_SKEW"),
                        ("2026-11-23T10:00:00", "INVALID_SIGNED_AT"),
                        ("yesterday", "INVALID_SIGNED_AT")]:
        with pytest.raises(ClientError) as exc:
            intake.parse_signed_at(value, NOW, skew)
        assert code_of(exc) == code


def test_form_schema_and_materials() -> None:
    schema = {"type": "object", "required": ["company"],
              "properties": {"company": {"type": "string", "minLength": 2}}}
    intake.check_form({"company": "肇庆某公司"}, schema)
    with pytest.raises(ClientError) as exc:
        intake.check_form({"company": 1}, schema)
    assert code_of(exc) == "INVALID_FORM"
    materials = [{"code": "M1", "name": "营业执照", "required": True, "max_bytes": 10},
                 {"code": "M2", "name": "照片", "required": False, "max_bytes": 10}]
    intake.check_materials([{"name": "营业执照", "size": 5}], materials)
    intake.check_materials([{"name": "M1", "size": 5}], materials)
    with pytest.raises(ClientError) as exc:
        intake.check_materials([{"name": "照片", "size": 5}], materials)
    assert code_of(exc) == "MISSING_MATERIALS"
    with pytest.raises(ClientError) as exc:
        intake.check_materials([{"name": "M1", "size": 50}], materials)
    assert code_of(exc) == "ATTACHMENT_TOO_LARGE"


@given(st.binary(max_size=300))
def test_random_bodies_never_escape_as_anything_but_client_errors(raw: bytes) -> None:
    try:
        env = intake.parse_envelope(raw)
        intake.parse_application(env.payload)
    except ClientError as exc:
        assert 400 <= exc.status < 500
