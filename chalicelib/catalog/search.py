"""Catalog search: keyword, department and online filters with keyset pagination.

Pure functions of their inputs: the API passes the packaged catalog. Results are ordered by item
code, and a cursor remembers the last code shown, so a page never repeats or skips an item even
when the catalog is reloaded with items added between two requests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from chalicelib.catalog.model import Department, ServiceItem
from chalicelib.errors import ClientError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_KEYWORD_LENGTH = 100


class InvalidQuery(ClientError):
    """A search parameter (cursor, limit or keyword) is unusable."""

    status = 400
    code = "INVALID_QUERY"
    message_zh = "查询参数不正确"
    message_en = "invalid query parameter"


@dataclass(frozen=True)
class Page:
    """One page of results; ``total`` counts all matches, not only this page's."""

    items: tuple[ServiceItem, ...]
    next_cursor: str | None
    total: int


def search(
    items: Iterable[ServiceItem],
    *,
    keyword: str | None = None,
    department: str | None = None,
    online_only: bool = False,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    departments: Iterable[Department] | Mapping[str, str] | None = None,
) -> Page:
    """Search the catalog.

    Parameters
    ----------
    items
        The catalog to search.
    keyword
        Whitespace-separated terms; an item matches when every term is a substring of its name,
        its department's name, its code or its sector (Unicode-normalized, case-insensitive, so
        full-width ``ＧＳＪ`` finds ``gsj``).
    department
        Only items of this lead department (code).
    online_only
        Only fully online items.
    cursor
        ``next_cursor`` of the previous page of the same query.
    limit
        Page size, 1 to ``MAX_LIMIT``.
    departments
        Department names for keyword matching: the registry or a code → name mapping; defaults
        to the packaged registry.

    Raises
    ------
    InvalidQuery
        For a bad limit, an over-long keyword, or a cursor that is malformed or belongs to
        another query.
    """
    if isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(
            f"每页条数必须在1到{MAX_LIMIT}之间", f"limit must be between 1 and {MAX_LIMIT}"
        )
    terms = _terms(keyword)
    names = _department_names(departments) if terms else {}
    fingerprint = _fingerprint(terms, department, online_only)
    after = _decode_cursor(cursor, fingerprint) if cursor else None

    matches = sorted(
        (
            item
            for item in items
            if (department is None or item.department == department)
            and (not online_only or item.online)
            and _matches(item, terms, names)
        ),
        key=lambda item: item.code,
    )
    start = 0 if after is None else _first_after(matches, after)
    page = tuple(matches[start : start + limit])
    more = start + limit < len(matches)
    next_cursor = _encode_cursor(page[-1].code, fingerprint) if more and page else None
    return Page(items=page, next_cursor=next_cursor, total=len(matches))


def _normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _terms(keyword: str | None) -> tuple[str, ...]:
    if keyword is None:
        return ()
    if len(keyword) > MAX_KEYWORD_LENGTH:
        raise InvalidQuery(
            f"关键词不能超过{MAX_KEYWORD_LENGTH}个字",
            f"keyword longer than {MAX_KEYWORD_LENGTH} characters",
        )
    return tuple(_normalize(keyword).split())


def _department_names(
    departments: Iterable[Department] | Mapping[str, str] | None,
) -> Mapping[str, str]:
    if departments is None:
        # Imported here: the package imports nothing from this module, and tests pass their own.
        from chalicelib.catalog import load_departments

        departments = load_departments()
    if isinstance(departments, Mapping):
        return departments
    return {dept.code: dept.name for dept in departments}


def _matches(item: ServiceItem, terms: Sequence[str], names: Mapping[str, str]) -> bool:
    if not terms:
        return True
    haystack = _normalize(
        "\n".join((item.name, names.get(item.department, ""), item.code, item.sector))
    )
    return all(term in haystack for term in terms)


def _first_after(matches: Sequence[ServiceItem], code: str) -> int:
    # Binary search on the sorted codes: the first item strictly after the cursor's code.
    low, high = 0, len(matches)
    while low < high:
        mid = (low + high) // 2
        if matches[mid].code <= code:
            low = mid + 1
        else:
            high = mid
    return low


def _fingerprint(terms: Sequence[str], department: str | None, online_only: bool) -> str:
    query = json.dumps([list(terms), department, online_only], ensure_ascii=False)
    return hashlib.sha256(query.encode("utf-8")).hexdigest()[:16]


def _encode_cursor(code: str, fingerprint: str) -> str:
    raw = json.dumps({"after": code, "q": fingerprint}, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidQuery("翻页标记无效", "malformed cursor") from exc
    if not isinstance(data, dict) or not isinstance(data.get("after"), str):
        raise InvalidQuery("翻页标记无效", "malformed cursor")
    if data.get("q") != fingerprint:
        # A cursor of another query would silently skip items of this one.
        raise InvalidQuery("翻页标记与查询条件不符", "cursor belongs to another query")
    return str(data["after"])
