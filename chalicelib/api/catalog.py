"""Public catalog: service items with the eight public standards (八公开), departments.

Listing and search read the published snapshot (``store.catalog.snapshot``), held in-process
and refreshed when a newer generation is published: no request scans the catalog table. An
item's details are one GetItem, cached for a minute. Answers are public and cacheable
(``Cache-Control``), with an ``ETag`` so that a client or a CDN revalidates cheaply.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

from chalice import Blueprint, Response

from chalicelib import runtime
from chalicelib.api import json_response
from chalicelib.api.departments import headers, params
from chalicelib.catalog import ServiceItem, department_by_code, load_departments
from chalicelib.catalog.search import DEFAULT_LIMIT, InvalidQuery, search
from chalicelib.errors import NotFound
from chalicelib.store import catalog

bp = Blueprint(__name__)

CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=60"
# The eight public standards, in the order the source publishes them, with their labels.
PUBLIC_STANDARDS = (
    ("name", "事项名称"),
    ("department", "承办单位"),
    ("procedure", "办事程序"),
    ("materials", "资料要求"),
    ("promised_days", "承诺时限（工作日）"),
    ("fee", "收费标准"),
    ("forms", "下载表格"),
    ("legal_basis", "法律依据"),
)
_TRUE = {"1", "true", "yes", "是"}


class UnknownService(NotFound):
    """No item with this code (or version)."""

    code = "UNKNOWN_SERVICE"
    message_zh = "办理事项不存在"
    message_en = "no such service item"


class _Summary:
    """A snapshot row with the attributes the search matches on (code, name, department,
    sector, online): the snapshot keeps summaries, not whole items."""

    __slots__ = ("code", "department", "name", "online", "row", "sector")

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.code = str(row["code"])
        self.name = str(row.get("name", ""))
        self.department = str(row.get("department", ""))
        self.sector = str(row.get("sector", ""))
        self.online = bool(row.get("online", False))


_summaries: dict[int, list[_Summary]] = {}


def _rows() -> tuple[int, list[_Summary]]:
    snapshot = catalog.snapshot()
    if snapshot is None:
        return 0, []
    found = _summaries.get(snapshot.generation)
    if found is None:
        found = [_Summary(row) for row in snapshot.items]
        _summaries.clear()
        _summaries[snapshot.generation] = found
    return snapshot.generation, found


def _department_name(code: str) -> str:
    department = department_by_code(code)
    return department.name if department else code


def _cached(body: dict[str, Any], tag_source: str) -> Response:
    etag = '"' + hashlib.sha256(tag_source.encode()).hexdigest()[:32] + '"'
    answer: dict[str, str | list[str]] = {"Cache-Control": CACHE_CONTROL, "ETag": etag,
                                          "Vary": "Accept-Encoding"}
    if headers().get("if-none-match") == etag:
        return Response(body="", status_code=304, headers=answer)
    return json_response(body, headers={k: str(v) for k, v in answer.items()})


def _param(name: str) -> str | None:
    value = params().get(name)
    return value if value else None


@bp.route("/services", methods=["GET"])
def list_services() -> Response:
    """Search the catalog: ``q`` (keyword), ``department``, ``online``, ``limit``, ``cursor``."""
    runtime.ready()
    keyword = _param("q") or _param("keyword")
    department = _param("department")
    online_only = (_param("online") or "").lower() in _TRUE
    raw_limit = _param("limit")
    try:
        limit = int(raw_limit) if raw_limit is not None else DEFAULT_LIMIT
    except ValueError:
        raise InvalidQuery("每页条数必须是整数", "limit must be an integer") from None
    cursor = _param("cursor")
    generation, rows = _rows()
    # The search reads only code, name, department, sector and online, which summaries carry.
    page = search(cast("list[ServiceItem]", rows), keyword=keyword, department=department,
                  online_only=online_only, cursor=cursor, limit=limit)
    items = []
    for found in page.items:
        row = cast("_Summary", found).row
        items.append({**row, "department_name": _department_name(row["department"]),
                      "links": {"self": f"/services/{row['code']}"}})
    body = {"items": items, "total": page.total, "next_cursor": page.next_cursor,
            "catalog_generation": generation}
    tag = f"{generation}|{keyword}|{department}|{online_only}|{limit}|{cursor}"
    return _cached(body, tag)


@bp.route("/services/{code}", methods=["GET"])
def get_service(code: str) -> Response:
    """One item with all eight public standards (``?version=N`` for a former version)."""
    runtime.ready()
    raw_version = _param("version")
    if len(code) > 64:
        raise UnknownService()
    if raw_version is not None:
        if not raw_version.isdigit() or int(raw_version) < 1:
            raise InvalidQuery("版本号必须是正整数", "version must be a positive integer")
        document = catalog.bound(code, int(raw_version))
    else:
        document = catalog.current(code)
    if document is None:
        raise UnknownService(details={"service_code": code})
    return _cached(service_view(document), f"{code}|{document.get('version')}")


def service_view(document: dict[str, Any]) -> dict[str, Any]:
    """An item as the public sees it: the eight standards first, then what applying needs."""
    department = document["department"]
    standards = []
    for key, label in PUBLIC_STANDARDS:
        value: Any = document.get(key)
        if key == "department":
            value = {"code": department, "name": _department_name(department)}
        standards.append({"key": key, "label": label, "value": value})
    routing = dict(document.get("routing") or {})
    routing["stages"] = [
        {**stage, "departments": [{"code": d, "name": _department_name(d)}
                                  for d in stage.get("departments", [])]}
        for stage in routing.get("stages", [])]
    if routing.get("decider"):
        routing["decider"] = {"code": routing["decider"],
                              "name": _department_name(routing["decider"])}
    return {
        "code": document["code"],
        "version": document.get("version", 1),
        "name": document.get("name"),
        "department": {"code": department, "name": _department_name(department)},
        "sector": document.get("sector", ""),
        "public_standards": standards,
        "legal_days": document.get("legal_days"),
        "promised_days": document.get("promised_days"),
        "online": document.get("online", False),
        "applicant_kinds": document.get("applicant_kinds", []),
        "routing": routing,
        "form_schema": document.get("form_schema"),
        "max_payload_bytes": document.get("max_payload_bytes"),
        "links": {"apply": "/applications", "uploads": "/uploads"},
    }


@bp.route("/departments", methods=["GET"])
def list_departments() -> Response:
    """Every department, with how many items it publishes and how many are fully online."""
    runtime.ready()
    generation, rows = _rows()
    counts: dict[str, list[int]] = {}
    for row in rows:
        count = counts.setdefault(row.department, [0, 0])
        count[0] += 1
        count[1] += int(row.online)
    items = [{**dept.to_dict(), "services": counts.get(dept.code, [0, 0])[0],
              "online_services": counts.get(dept.code, [0, 0])[1],
              "links": {"services": f"/services?department={dept.code}"}}
             for dept in load_departments()]
    return _cached({"items": items, "total": len(items), "catalog_generation": generation},
                   f"departments|{generation}")
