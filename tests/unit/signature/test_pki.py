"""tools.pki: the PKI the tests and the local stack use."""

from __future__ import annotations

import json

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from tools import pki as pki_module
from tools.pki import PkiError, build_pki, resident_id, social_credit_code


def test_resident_id_check_character():
    assert resident_id("11010519491231002") == "11010519491231002X"
    assert resident_id("44052418800101001") == "440524188001010014"  # GB 11643 example
    with pytest.raises(ValueError):
        resident_id("1101051949123100")


def test_social_credit_code_checks():
    # A published example code: 91350100M000100Y43 (org code M000100Y4, check 3).
    assert social_credit_code("91350100M000100Y4") == "91350100M000100Y43"
    code = social_credit_code("9144120061788230")
    assert len(code) == 18 and code.startswith("9144120061788230")


def test_every_identity_carries_its_id_number(pki):
    for identity in pki.identities.values():
        cert = x509.load_pem_x509_certificate(identity.cert_pem())
        serials = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
        assert [a.value for a in serials] == [identity.id_number], identity.name
        assert identity.key.exists()
    assert pki["sm2_citizen"].chain_pems() and not pki["untrusted"].chain_pems()
    assert len({i.id_number for i in pki.identities.values()}) == len(pki.identities)


def test_dates_relative_to_build(pki):
    expired = x509.load_pem_x509_certificate(pki["expired"].cert_pem())
    future = x509.load_pem_x509_certificate(pki["not_yet_valid"].cert_pem())
    assert expired.not_valid_after_utc < pki.reference_time < future.not_valid_before_utc
    crl = x509.load_der_x509_crl(pki.intermediate_crl.read_bytes())
    assert crl.next_update_utc == pki.crl_next_update
    revoked = x509.load_pem_x509_certificate(pki["revoked"].cert_pem())
    assert crl.get_revoked_certificate_by_serial_number(revoked.serial_number) is not None


def test_second_build_reuses_the_directory(pki):
    before = {p.name: p.stat().st_mtime_ns for p in pki.directory.iterdir()}
    again = build_pki(pki.directory)
    assert again == pki
    assert {p.name: p.stat().st_mtime_ns for p in pki.directory.iterdir()} == before


def test_refuses_a_foreign_directory(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(PkiError):
        build_pki(tmp_path)
    assert (tmp_path / "precious.txt").exists()


def test_cli_reuses_and_prints(pki, capsys):
    assert pki_module.main([str(pki.directory)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed["identities"]) == set(pki.identities)
