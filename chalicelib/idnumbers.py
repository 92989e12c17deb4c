"""Identity numbers of applicants: resident ID numbers and unified social credit codes.

* GB 11643-1999 公民身份号码 (18 characters): 6-digit address code, 8-digit birth date, 3-digit
  sequence (odd for men, even for women), and a check character by ISO 7064 MOD 11-2
  (``0``-``9`` or ``X``).
* GB 32100-2015 统一社会信用代码 (18 characters of ``0-9 A-H J-N P-R T U W-Y``; no I, O, Z, S,
  V): registration authority, organisation type, 6-digit administrative division code, 9-char
  organisation code (GB 11714, with its own MOD 11 check), and a MOD 31 check character.

Both checks catch every single mistyped character, which is what they are for: the applicant is
told at submission, not weeks later by a department. Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from chalicelib.errors import ClientError

ApplicantKind = Literal["person", "organization"]
APPLICANT_KINDS: tuple[ApplicantKind, ...] = ("person", "organization")

_DIGITS = "0123456789"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"  # indexed by the weighted sum mod 11
# GB/T 2260 province-level codes (the first two digits of every address code); 81-83 are the
# residence permits of Hong Kong, Macao and Taiwan residents, which use the same number format.
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
})
# An earlier birth year is a typing mistake (0990 for 1990). Not later: the standard's own
# example, 440524188001010014, is born in 1880.
_FIRST_BIRTH_YEAR = 1800

CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUE = {char: value for value, char in enumerate(CREDIT_CHARSET)}
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 32100-2015 table 1 (with the later A and N): the registration authority (first character).
# The organisation type (second character) is a digit whose meaning depends on the authority
# (9/1 enterprise, 9/2 individual business, 5/1 social organisation, ...); only its form is
# checked, so that a type added by a registration authority does not lock its registrants out.
CREDIT_AUTHORITIES: dict[str, tuple[str, str]] = {
    "1": ("机构编制", "establishment administration"),
    "2": ("外交", "foreign affairs"),
    "3": ("司法行政", "justice administration"),
    "4": ("文化", "culture"),
    "5": ("民政", "civil affairs"),
    "6": ("旅游", "tourism"),
    "7": ("宗教", "religious affairs"),
    "8": ("工会", "trade unions"),
    "9": ("工商（市场监管）", "market regulation"),
    "A": ("中央军委改革和编制办公室", "CMC reform and establishment office"),
    "N": ("农业", "agriculture"),
    "Y": ("其他", "other"),
}
_ORG_TYPES = frozenset("123456789")
# A code registered by a central authority carries 100000 instead of a division code.
_CREDIT_REGIONS = PROVINCES | {"10"}
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


class InvalidIdNumber(ClientError):
    """An applicant's identity number is malformed or fails its check character."""

    status = 400
    code = "INVALID_ID_NUMBER"
    message_zh = "证件号码不正确"
    message_en = "invalid identity number"


def _fail(code: str, zh: str, en: str) -> InvalidIdNumber:
    return InvalidIdNumber(zh, en, code=code)


def _bad_kind() -> InvalidIdNumber:
    return _fail("INVALID_APPLICANT_KIND", "申请人类型应为个人（person）或单位（organization）",
                 "the applicant kind must be person or organization")


@dataclass(frozen=True)
class ResidentId:
    """The parts of a valid resident identity number."""

    number: str
    region: str
    birth: date
    sequence: int

    @property
    def sex(self) -> Literal["male", "female"]:
        """Odd sequence numbers are given to men, even ones to women (GB 11643 4.3)."""
        return "male" if self.sequence % 2 else "female"


# --------------------------------------------------------------------------- resident ID


def resident_id_check(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def parse_resident_id(value: str, *, today: date | None = None) -> ResidentId:
    """Validate a GB 11643 resident identity number and split it into its parts.

    Parameters
    ----------
    value
        The number as typed: surrounding spaces, full-width characters and a lowercase ``x``
        are accepted and normalised.
    today
        If given, a birth date after it is refused.

    Raises
    ------
    InvalidIdNumber
        ``INVALID_ID_FORMAT``, ``INVALID_ID_REGION``, ``INVALID_ID_BIRTH_DATE`` or
        ``INVALID_ID_CHECKSUM``.
    """
    number = _normalise(value)
    # str.isdigit also takes other scripts' digits; only ASCII ones make a number.
    if len(number) != 18 or any(c not in _DIGITS for c in number[:17]) or (
            number[17] not in _DIGITS + "X"):
        raise _fail("INVALID_ID_FORMAT",
                    "身份证号码应为18位：17位数字加1位校验码（数字或X）",
                    "a resident identity number is 17 digits and a check character "
                    "(a digit or X)")
    if number[:2] not in PROVINCES:
        raise _fail("INVALID_ID_REGION", "身份证号码的地址码不正确",
                    "the address code of the resident identity number is not valid")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth = None
    if birth is None or birth.year < _FIRST_BIRTH_YEAR or (today is not None and birth > today):
        raise _fail("INVALID_ID_BIRTH_DATE", "身份证号码中的出生日期不正确",
                    "the birth date in the resident identity number is not valid")
    if resident_id_check(number[:17]) != number[17]:
        raise _fail("INVALID_ID_CHECKSUM", "身份证号码校验位不符，请检查是否输错",
                    "the resident identity number fails its check character; "
                    "please check for a typing mistake")
    return ResidentId(number=number, region=number[:6], birth=birth,
                      sequence=int(number[14:17]))


def validate_resident_id(value: str, *, today: date | None = None) -> str:
    """The normalised resident identity number (``X`` uppercase); see :func:`parse_resident_id`.

    Raises
    ------
    InvalidIdNumber
        If the number is malformed, has an impossible birth date or fails its check.
    """
    return parse_resident_id(value, today=today).number


def make_resident_id(region: str, birth: date, seq: int) -> str:
    """A valid resident identity number (for tests and demo data).

    Raises
    ------
    ValueError
        If ``region`` is not 6 digits, ``seq`` not in 0..999, or ``birth`` before 1800.
    """
    if len(region) != 6 or any(c not in _DIGITS for c in region):
        raise ValueError(f"region must be a 6-digit address code, got {region!r}")
    if not 0 <= seq <= 999:
        raise ValueError(f"seq must be 0..999, got {seq}")
    if birth.year < _FIRST_BIRTH_YEAR:
        raise ValueError(f"birth year must be {_FIRST_BIRTH_YEAR} or later, got {birth.year}")
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + resident_id_check(first17)


# --------------------------------------------------------------- unified social credit code


def credit_code_check(first17: str) -> str:
    """The GB 32100 MOD 31 check character of the first 17 characters."""
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def organization_code_check(first8: str) -> str:
    """The GB 11714 MOD 11 check character of an organisation code's first 8 characters."""
    total = sum(_org_value(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def validate_credit_code(value: str, *, check_org_code: bool = False) -> str:
    """The normalised unified social credit code (uppercase).

    Parameters
    ----------
    value
        The code as typed (spaces, full-width characters and lowercase accepted).
    check_org_code
        Also require the embedded organisation code (characters 9-17) to pass its own GB 11714
        check. Off by default: codes whose body was assigned without one exist in the field,
        and refusing a real registrant is worse than missing a typo the MOD 31 check catches.

    Raises
    ------
    InvalidIdNumber
        ``INVALID_CREDIT_CODE_FORMAT``, ``INVALID_CREDIT_CODE_AUTHORITY``,
        ``INVALID_CREDIT_CODE_REGION`` or ``INVALID_CREDIT_CODE_CHECKSUM``.
    """
    code = _normalise(value)
    if len(code) != 18 or any(c not in _CREDIT_VALUE for c in code):
        raise _fail("INVALID_CREDIT_CODE_FORMAT",
                    "统一社会信用代码应为18位数字或大写英文字母（不使用I、O、Z、S、V）",
                    "a unified social credit code is 18 digits or capital letters "
                    "(I, O, Z, S and V are not used)")
    if code[0] not in CREDIT_AUTHORITIES or code[1] not in _ORG_TYPES:
        raise _fail("INVALID_CREDIT_CODE_AUTHORITY",
                    "统一社会信用代码的登记管理部门代码或机构类别代码不正确",
                    "the registration authority or organisation type of the unified social "
                    "credit code is not valid")
    if not code[2:8].isdigit() or code[2:4] not in _CREDIT_REGIONS:
        raise _fail("INVALID_CREDIT_CODE_REGION", "统一社会信用代码的登记管理机关行政区划码不正确",
                    "the administrative division code of the unified social credit code is "
                    "not valid")
    if credit_code_check(code[:17]) != code[17] or (
            check_org_code and organization_code_check(code[8:16]) != code[16]):
        raise _fail("INVALID_CREDIT_CODE_CHECKSUM", "统一社会信用代码校验位不符，请检查是否输错",
                    "the unified social credit code fails its check character; "
                    "please check for a typing mistake")
    return code


def make_credit_code(region: str, serial: int, *, authority: str = "9",
                     org_type: str = "1") -> str:
    """A valid unified social credit code (for tests and demo data).

    The organisation code is ``serial`` as 8 digits plus its GB 11714 check character.

    Raises
    ------
    ValueError
        If an argument is out of range.
    """
    if len(region) != 6 or any(c not in _DIGITS for c in region):
        raise ValueError(f"region must be a 6-digit division code, got {region!r}")
    if authority not in CREDIT_AUTHORITIES or org_type not in _ORG_TYPES:
        raise ValueError(f"unknown authority/type {authority!r}/{org_type!r}")
    if not 0 <= serial < 10**8:
        raise ValueError(f"serial must be 0..99999999, got {serial}")
    body = f"{serial:08d}"
    first17 = f"{authority}{org_type}{region}{body}{organization_code_check(body)}"
    return first17 + credit_code_check(first17)


# --------------------------------------------------------------------------- applicants


def validate_applicant_id(kind: str, value: str) -> str:
    """The normalised identity number of an applicant of ``kind`` (person or organization).

    Raises
    ------
    InvalidIdNumber
        ``INVALID_APPLICANT_KIND``, or the code of the failing check.
    """
    if kind == "person":
        return validate_resident_id(value)
    if kind == "organization":
        return validate_credit_code(value)
    raise _bad_kind()


def mask(value: str) -> str:
    """The number for notifications and logs: first 3 and last 4 kept (``440***********123X``).

    Shorter values (never a valid number) are masked entirely.
    """
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def applicant_key(kind: str, ident: str, key: bytes) -> str:
    """A stable, non-reversible key of an applicant, to index without storing the number.

    HMAC-SHA256 under ``key`` (a secret pepper, not stored with the data) of ``kind:number``,
    hex. The number is normalised first, so ``…002x`` and ``…002X`` are the same applicant.

    Raises
    ------
    ValueError
        If ``key`` is empty: an unkeyed hash of an 18-digit number with a known structure is
        reversible by enumeration.
    InvalidIdNumber
        If ``kind`` is not an applicant kind.
    """
    if not key:
        raise ValueError("applicant_key needs a secret key")
    if kind not in APPLICANT_KINDS:
        raise _bad_kind()
    message = f"{kind}:{_normalise(ident)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _normalise(value: str) -> str:
    if not isinstance(value, str):
        return ""  # fails the length check with the usual message
    # NFKC turns full-width digits and letters (common with Chinese input methods) into ASCII.
    return unicodedata.normalize("NFKC", value).strip().upper()


def _org_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10
