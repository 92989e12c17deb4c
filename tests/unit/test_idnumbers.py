"""Resident ID numbers (GB 11643) and unified social credit codes (GB 32100)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import ClientError
from chalicelib.idnumbers import (
    CREDIT_AUTHORITIES,
    CREDIT_CHARSET,
    PROVINCES,
    InvalidIdNumber,
    applicant_key,
    credit_code_check,
    make_credit_code,
    make_resident_id,
    mask,
    organization_code_check,
    parse_resident_id,
    resident_id_check,
    validate_applicant_id,
    validate_credit_code,
    validate_resident_id,
)

# The textbook examples: GB 11643-1999's own two numbers, GB 32100's example code, and a
# published code of a well-known company (华为技术有限公司).
KNOWN_IDS = ["11010519491231002X", "440524188001010014"]
KNOWN_CODES = ["91350100M000100Y43", "914403001922038216"]


def code_of(exc: pytest.ExceptionInfo[InvalidIdNumber]) -> str:
    return exc.value.code


def brute_mod11_2(first17: str) -> str:
    # ISO 7064 MOD 11-2 from its definition: weights 2^(17-i) mod 11, check = (12 - S) mod 11.
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


regions = st.builds(lambda p, rest: p + rest, st.sampled_from(sorted(PROVINCES)),
                    st.from_regex(r"[0-9]{4}", fullmatch=True))
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 11, 23))
resident_ids = st.builds(make_resident_id, regions, births, st.integers(0, 999))
credit_codes = st.builds(
    lambda region, serial, authority, org_type: make_credit_code(
        region, serial, authority=authority, org_type=org_type),
    st.one_of(regions, st.just("100000")), st.integers(0, 10**8 - 1),
    st.sampled_from(sorted(CREDIT_AUTHORITIES)), st.sampled_from("123456789"))


# --------------------------------------------------------------------------- resident ID


@pytest.mark.parametrize("number", KNOWN_IDS)
def test_known_resident_ids(number: str) -> None:
    assert validate_resident_id(number) == number
    assert validate_resident_id(number.lower()) == number


def test_parts_of_a_resident_id() -> None:
    parsed = parse_resident_id("11010519491231002x")
    assert parsed.number == "11010519491231002X"
    assert (parsed.region, parsed.birth, parsed.sequence) == ("110105", date(1949, 12, 31), 2)
    assert parsed.sex == "female"
    assert parse_resident_id("440524188001010014").sex == "male"


def test_input_is_normalised() -> None:
    assert validate_resident_id(" 11010519491231002x\n") == "11010519491231002X"
    # Full-width characters, as some input methods type them.
    assert validate_resident_id("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"


@pytest.mark.parametrize(("number", "code"), [
    ("11010519491231002", "INVALID_ID_FORMAT"),
    ("11010519491231002XX", "INVALID_ID_FORMAT"),
    ("1101051949123100XX", "INVALID_ID_FORMAT"),
    ("11010519491231002Y", "INVALID_ID_FORMAT"),
    ("11010519491231002٣", "INVALID_ID_FORMAT"),  # an Arabic-Indic digit is not a digit here
    ("", "INVALID_ID_FORMAT"),
    ("00010519491231002X", "INVALID_ID_REGION"),
    ("99010519491231002X", "INVALID_ID_REGION"),
    ("110105200002300020", "INVALID_ID_BIRTH_DATE"),
    ("110105194913310021", "INVALID_ID_BIRTH_DATE"),
    ("110105000012310021", "INVALID_ID_BIRTH_DATE"),
    ("110105179912310021", "INVALID_ID_BIRTH_DATE"),
    ("110105194912310021", "INVALID_ID_CHECKSUM"),
    ("11010519491231002 X", "INVALID_ID_FORMAT"),
])
def test_bad_resident_ids(number: str, code: str) -> None:
    with pytest.raises(InvalidIdNumber) as exc:
        validate_resident_id(number)
    assert code_of(exc) == code
    assert exc.value.message_zh and exc.value.message_en
    assert isinstance(exc.value, ClientError)
    assert exc.value.status == 400


@pytest.mark.parametrize("birth", [date(2024, 2, 29), date(2000, 2, 29), date(1949, 12, 31)])
def test_leap_days_and_year_ends_are_birth_dates(birth: date) -> None:
    assert validate_resident_id(make_resident_id("441203", birth, 8))


@pytest.mark.parametrize("first10", ["4412031900", "4412032023", "4412032100"])
def test_29_february_of_a_common_year_is_not(first10: str) -> None:
    first17 = f"{first10}0229001"
    with pytest.raises(InvalidIdNumber) as exc:
        validate_resident_id(first17 + resident_id_check(first17))
    assert code_of(exc) == "INVALID_ID_BIRTH_DATE"


def test_birth_in_the_future_only_when_today_is_given() -> None:
    number = make_resident_id("441203", date(2030, 1, 1), 1)
    assert validate_resident_id(number) == number
    with pytest.raises(InvalidIdNumber) as exc:
        validate_resident_id(number, today=date(2026, 11, 23))
    assert code_of(exc) == "INVALID_ID_BIRTH_DATE"
    assert validate_resident_id(number, today=date(2030, 1, 1)) == number


@given(st.from_regex(r"[0-9]{17}", fullmatch=True))
def test_check_character_matches_the_definition(first17: str) -> None:
    assert resident_id_check(first17) == brute_mod11_2(first17)


@given(regions, births, st.integers(0, 999))
def test_generated_resident_ids_round_trip(region: str, birth: date, seq: int) -> None:
    number = make_resident_id(region, birth, seq)
    parsed = parse_resident_id(number)
    assert (parsed.number, parsed.region, parsed.birth, parsed.sequence) == (
        number, region, birth, seq)
    assert validate_resident_id(number.lower()) == number
    assert validate_applicant_id("person", number) == number


@given(resident_ids, st.integers(0, 17), st.data())
def test_any_single_substitution_in_a_resident_id_is_rejected(
        number: str, position: int, data: st.DataObject) -> None:
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    changed = number[:position] + replacement + number[position + 1:]
    with pytest.raises(InvalidIdNumber):
        validate_resident_id(changed)


@given(resident_ids, st.integers(0, 16))
def test_adjacent_transpositions_are_caught_too(number: str, position: int) -> None:
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2:]
    if swapped != number:
        with pytest.raises(InvalidIdNumber):
            validate_resident_id(swapped)


def test_make_resident_id_refuses_bad_parts() -> None:
    with pytest.raises(ValueError, match="region"):
        make_resident_id("11010", date(1990, 1, 1), 1)
    with pytest.raises(ValueError, match="region"):
        make_resident_id("１１０１０５", date(1990, 1, 1), 1)
    with pytest.raises(ValueError, match="seq"):
        make_resident_id("110105", date(1990, 1, 1), 1000)
    with pytest.raises(ValueError, match="birth"):
        make_resident_id("110105", date(1700, 1, 1), 1)


# --------------------------------------------------------------- unified social credit code


@pytest.mark.parametrize("code", KNOWN_CODES)
def test_known_credit_codes(code: str) -> None:
    assert validate_credit_code(code) == code
    assert validate_credit_code(code.lower()) == code
    assert validate_credit_code(code, check_org_code=True) == code


def test_make_credit_code_matches_the_standard_example() -> None:
    # 91350100M000100Y43: organisation code M000100Y4 (M000100Y + check 4), MOD 31 check 3.
    assert organization_code_check("M000100Y") == "4"
    assert credit_code_check("91350100M000100Y4") == "3"
    code = make_credit_code("441200", 61788230)
    assert code == "91441200617882306U"
    assert validate_credit_code(code, check_org_code=True) == code


@pytest.mark.parametrize(("code", "reason"), [
    ("91350100M000100Y4", "INVALID_CREDIT_CODE_FORMAT"),
    ("91350100M000100Y433", "INVALID_CREDIT_CODE_FORMAT"),
    ("91350100M000100I43", "INVALID_CREDIT_CODE_FORMAT"),  # I, O, Z, S, V are not used
    ("91350100M000100O43", "INVALID_CREDIT_CODE_FORMAT"),
    ("91350100M000100Z43", "INVALID_CREDIT_CODE_FORMAT"),
    ("91350100M000100S43", "INVALID_CREDIT_CODE_FORMAT"),
    ("91350100M000100V43", "INVALID_CREDIT_CODE_FORMAT"),
    ("91350100M000100Y4-", "INVALID_CREDIT_CODE_FORMAT"),
    ("B1350100M000100Y43", "INVALID_CREDIT_CODE_AUTHORITY"),
    ("0135010000000000Y3", "INVALID_CREDIT_CODE_AUTHORITY"),
    ("9A350100M000100Y43", "INVALID_CREDIT_CODE_AUTHORITY"),
    ("90350100M000100Y43", "INVALID_CREDIT_CODE_AUTHORITY"),
    ("91A50100M000100Y43", "INVALID_CREDIT_CODE_REGION"),
    ("91990100M000100Y43", "INVALID_CREDIT_CODE_REGION"),
    ("91350100M000100Y44", "INVALID_CREDIT_CODE_CHECKSUM"),
])
def test_bad_credit_codes(code: str, reason: str) -> None:
    with pytest.raises(InvalidIdNumber) as exc:
        validate_credit_code(code)
    assert code_of(exc) == reason


def test_the_embedded_organisation_code_is_checked_on_request() -> None:
    first17 = "91441200617882307"  # organisation code check should be 6
    code = first17 + credit_code_check(first17)
    assert validate_credit_code(code) == code
    with pytest.raises(InvalidIdNumber) as exc:
        validate_credit_code(code, check_org_code=True)
    assert code_of(exc) == "INVALID_CREDIT_CODE_CHECKSUM"


@given(credit_codes)
def test_generated_credit_codes_validate(code: str) -> None:
    assert validate_credit_code(code, check_org_code=True) == code
    assert validate_credit_code(code.lower()) == code
    assert validate_applicant_id("organization", code) == code
    assert all(c in CREDIT_CHARSET for c in code)


@given(credit_codes, st.integers(0, 17), st.data())
def test_any_single_substitution_in_a_credit_code_is_rejected(
        code: str, position: int, data: st.DataObject) -> None:
    replacement = data.draw(st.sampled_from([c for c in CREDIT_CHARSET if c != code[position]]))
    changed = code[:position] + replacement + code[position + 1:]
    with pytest.raises(InvalidIdNumber):
        validate_credit_code(changed)


def test_make_credit_code_refuses_bad_parts() -> None:
    with pytest.raises(ValueError, match="region"):
        make_credit_code("4412", 1)
    with pytest.raises(ValueError, match="authority"):
        make_credit_code("441200", 1, authority="Z")
    with pytest.raises(ValueError, match="authority"):
        make_credit_code("441200", 1, org_type="0")
    with pytest.raises(ValueError, match="serial"):
        make_credit_code("441200", 10**8)


# --------------------------------------------------------------------------- applicants


def test_validate_applicant_id_dispatches_on_kind() -> None:
    assert validate_applicant_id("person", "11010519491231002x") == "11010519491231002X"
    assert validate_applicant_id("organization", "91350100m000100y43") == "91350100M000100Y43"
    with pytest.raises(InvalidIdNumber) as exc:
        validate_applicant_id("person", "91350100M000100Y43")
    assert code_of(exc) == "INVALID_ID_FORMAT"
    with pytest.raises(InvalidIdNumber) as exc:
        validate_applicant_id("organization", "11010519491231002X")
    assert code_of(exc).startswith("INVALID_CREDIT_CODE")
    with pytest.raises(InvalidIdNumber) as exc:
        validate_applicant_id("alien", "11010519491231002X")
    assert code_of(exc) == "INVALID_APPLICANT_KIND"


def test_error_body_is_bilingual() -> None:
    with pytest.raises(InvalidIdNumber) as exc:
        validate_resident_id("110105194912310021")
    body = exc.value.body()["error"]
    assert body["code"] == "INVALID_ID_CHECKSUM"
    assert "校验" in body["message"]
    assert "check character" in body["message_en"]


@pytest.mark.parametrize(("value", "masked"), [
    ("44012319900101123X", "440***********123X"),
    ("91350100M000100Y43", "913***********0Y43"),
    ("1234567", "*******"),
    ("", ""),
])
def test_mask(value: str, masked: str) -> None:
    assert mask(value) == masked


@given(st.one_of(resident_ids, credit_codes))
def test_mask_hides_the_middle(value: str) -> None:
    masked = mask(value)
    assert len(masked) == len(value)
    assert masked[:3] == value[:3]
    assert masked[-4:] == value[-4:]
    assert set(masked[3:-4]) == {"*"}


def test_applicant_key() -> None:
    key = b"pepper"
    expected = hmac.new(key, b"person:11010519491231002X", hashlib.sha256).hexdigest()
    assert applicant_key("person", "11010519491231002X", key) == expected
    assert applicant_key("person", "11010519491231002x", key) == expected
    assert len(expected) == 64
    assert applicant_key("organization", "11010519491231002X", key) != expected
    assert applicant_key("person", "11010519491231002X", b"other") != expected
    assert "11010519491231002X" not in expected
    with pytest.raises(ValueError, match="secret"):
        applicant_key("person", "11010519491231002X", b"")
    with pytest.raises(InvalidIdNumber):
        applicant_key("robot", "11010519491231002X", key)
