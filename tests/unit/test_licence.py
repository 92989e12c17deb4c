"""The licence document, its canonical bytes, offline verification and the PDF rendering."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zlib
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib import licence, licence_pdf
from chalicelib.catalog import service_by_code

ITEM = "441200-jsj-0005"  # 建设工程竣工联合验收: two stages, three departments in the first


def _document() -> dict:
    item = service_by_code(ITEM)
    assert item is not None
    return licence.build(
        licence="L20261123ABCDEFGHJK", receipt="20261123ABCDEFGHJK", item=item.to_dict(),
        holder={"kind": "organization", "name": "肇庆市星湖建设有限公司",
                "id": "91441200MA4UXXXX0X"},
        approvals=[{"stage": 0, "department": "ghj", "department_name": "市规划局",
                    "decision": "approve", "decided_at": "2026-11-24T02:00:00+00:00"}],
        decided_at=datetime(2026, 11, 30, 8, 0, tzinfo=UTC), assisted=False,
        key_fingerprint="ab" * 32, base_url="https://ywt.zhaoqing.gov.cn")


def test_licence_id_round_trips_and_rejects_garbage() -> None:
    assert licence.receipt_of(licence.licence_id("20261123ABCDEFGHJK")) == "20261123ABCDEFGHJK"
    for bad in ("", "X20261123ABC", "L../../etc", "L" + "A" * 80, "L2026"):
        assert licence.receipt_of(bad) is None


def test_document_names_item_holder_issuer_and_how_to_verify() -> None:
    doc = _document()
    assert doc["format"] == licence.FORMAT
    assert doc["service"]["name"] == "建设工程竣工联合验收"
    assert doc["issuer"] == {"department": "jsj", "name": doc["issuer"]["name"]}
    assert doc["issuer"]["name"] != "jsj"  # the department's Chinese name
    assert doc["issued_at"] == "2026-11-30T08:00:00+00:00"
    assert doc["verify_url"].endswith("/licences/L20261123ABCDEFGHJK/verify")
    assert doc["signature"]["algorithm"] == "ECDSA_P256_SHA256"


def test_canonical_bytes_are_stable_and_readable_utf8() -> None:
    doc = _document()
    body = licence.canonical(doc)
    assert body == licence.canonical(json.loads(body))
    assert "建设工程竣工联合验收".encode() in body
    assert b" " not in body.split(b'"title"')[0][:5]  # no padding spaces between tokens


def test_signature_verifies_offline_and_fails_on_any_change() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    body = licence.canonical(_document())
    # What KMS returns for ECDSA_SHA_256 over the digest: a DER ECDSA signature.
    signature = private.sign(body, ec.ECDSA(hashes.SHA256()))
    assert licence.verify_signature(body, signature, der)
    assert not licence.verify_signature(body.replace("星湖".encode(), "星河".encode()),
                                        signature, der)
    other = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert not licence.verify_signature(body, signature, other)


def test_openssl_verifies_the_documented_command(tmp_path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    body = licence.canonical(_document())
    (tmp_path / "licence.json").write_bytes(body)
    (tmp_path / "licence.sig").write_bytes(private.sign(body, ec.ECDSA(hashes.SHA256())))
    (tmp_path / "platform.pem").write_bytes(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    result = subprocess.run(["openssl", "dgst", "-sha256", "-verify", "platform.pem",
                             "-signature", "licence.sig", "licence.json"],
                            cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "Verified OK" in result.stdout


def _page_text(pdf: bytes) -> str:
    start = pdf.index(b"stream\n") + len(b"stream\n")
    content = zlib.decompress(pdf[start:pdf.index(b"\nendstream")]).decode("ascii")
    text = []
    for token in content.split("<")[1:]:
        text.append(bytes.fromhex(token.split(">")[0]).decode("utf-16-be"))
    return "\n".join(text)


def test_pdf_is_a_well_formed_deterministic_one_page_document() -> None:
    doc = _document()
    digest = hashlib.sha256(licence.canonical(doc)).hexdigest()
    pdf = licence_pdf.render(licence.pdf_lines(doc, digest), title=licence.TITLE)
    assert pdf.startswith(b"%PDF-1.7") and pdf.rstrip().endswith(b"%%EOF")
    assert pdf == licence_pdf.render(licence.pdf_lines(doc, digest), title=licence.TITLE)
    # The cross-reference table points at every object.
    xref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    rows = pdf[xref:].split(b"\n")[3:11]
    for number, row in enumerate(rows, start=1):
        offset = int(row[:10])
        assert pdf[offset:].startswith(f"{number} 0 obj".encode())
    text = _page_text(pdf)
    assert "准予行政许可决定书" in text
    assert "建设工程竣工联合验收" in text
    assert "肇庆市星湖建设有限公司" in text
    assert digest in text.replace("\n", "")


def test_pdf_parses_with_a_pdf_library() -> None:
    pytest.importorskip("pyhanko")
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    doc = _document()
    pdf = licence_pdf.render(licence.pdf_lines(doc, "0" * 64), title=licence.TITLE)
    reader = PdfFileReader(BytesIO(pdf))
    page = reader.root["/Pages"]["/Kids"][0]
    font = page["/Resources"]["/Font"]["/F1"]
    assert font["/BaseFont"] == "/STSong-Light"
    assert font["/Encoding"] == "/UniGB-UTF16-H"


def test_long_lines_wrap_within_the_page() -> None:
    text = "很长的事项名称" * 30
    parts = licence_pdf.wrap(text, 12, 400)
    assert "".join(parts) == text
    assert all(licence_pdf.text_width(p, 12) <= 400 for p in parts)
