"""The service catalog: departments and approval items, packaged with the code.

``load_departments()`` and ``load_services()`` read the JSON files under ``data/`` once per
process. ``import_catalog(path)`` parses and validates a real catalog (CSV or JSON of the same
shape as ``data/services.json``) for the operator command that loads it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from chalicelib.catalog.model import (
    CatalogError,
    Department,
    Fee,
    Form,
    Material,
    Routing,
    RoutingModel,
    ServiceItem,
    Stage,
    check_catalog,
)

__all__ = [
    "CatalogError",
    "Department",
    "Fee",
    "Form",
    "Material",
    "Routing",
    "RoutingModel",
    "ServiceItem",
    "Stage",
    "check_catalog",
    "department_by_code",
    "import_catalog",
    "load_departments",
    "load_services",
    "service_by_code",
]

DATA_DIR = Path(__file__).parent / "data"

# CSV cells of these columns hold JSON (objects or lists); list-of-text columns also accept one
# entry per line, which is how a spreadsheet cell holds a list.
_JSON_COLUMNS = ("materials", "fee", "forms", "routing", "form_schema")
_LIST_COLUMNS = ("procedure", "legal_basis", "applicant_kinds")
_INT_COLUMNS = ("version", "promised_days", "legal_days", "max_payload_bytes")
_BOOL_TEXT = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "是": True,
    "否": False,
    "yes": True,
    "no": False,
}


@cache
def load_departments() -> tuple[Department, ...]:
    """The department registry (``data/departments.json``), in registry order."""
    data = json.loads((DATA_DIR / "departments.json").read_text(encoding="utf-8"))
    return tuple(Department.from_dict(row) for row in data)


@cache
def load_services() -> tuple[ServiceItem, ...]:
    """The packaged catalog (``data/services.json``), in catalog order."""
    data = json.loads((DATA_DIR / "services.json").read_text(encoding="utf-8"))
    return tuple(ServiceItem.from_dict(row) for row in data)


@cache
def _departments_index() -> dict[str, Department]:
    return {dept.code: dept for dept in load_departments()}


@cache
def _services_index() -> dict[str, ServiceItem]:
    return {item.code: item for item in load_services()}


def department_by_code(code: str) -> Department | None:
    """The registered department called ``code``, or None."""
    return _departments_index().get(code)


def service_by_code(code: str) -> ServiceItem | None:
    """The packaged item called ``code``, or None."""
    return _services_index().get(code)


def import_catalog(
    path: str | Path, *, departments: Iterable[Department] | None = None
) -> tuple[ServiceItem, ...]:
    """Parse and validate a catalog file for import.

    Parameters
    ----------
    path
        A ``.json`` file (a list of items shaped like ``data/services.json``) or a ``.csv`` file
        (UTF-8, with or without BOM) with one row per item and the same keys as columns; the
        cells of ``materials``, ``fee``, ``forms``, ``routing`` and ``form_schema`` hold JSON,
        ``procedure``, ``legal_basis`` and ``applicant_kinds`` a JSON list or one entry per line.
    departments
        The registry the items must refer to; defaults to the packaged one.

    Raises
    ------
    CatalogError
        Listing every problem found, each with its row or item.
    """
    path = Path(path)
    registry = tuple(departments) if departments is not None else load_departments()
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError([f"无法读取文件 {path}：{exc}"]) from exc
    if suffix == ".json":
        rows, problems = _json_rows(text)
    elif suffix == ".csv":
        rows, problems = _csv_rows(text)
    else:
        raise CatalogError([f"不支持的文件类型 {suffix or '（无扩展名）'}，请使用 .json 或 .csv"])
    if not rows and not problems:
        raise CatalogError(["文件中没有事项"])
    items: list[ServiceItem] = []
    for label, row in rows:
        try:
            item = ServiceItem.from_dict(row)
        except CatalogError as exc:
            problems.extend(f"{label}：{p}" for p in exc.problems)
            continue
        schema_problem = _schema_problem(item.form_schema)
        if schema_problem:
            problems.append(
                f"{label}：事项 {item.code}：form_schema 不是有效的 JSON Schema：{schema_problem}"
            )
        items.append(item)
    try:
        check_catalog(registry, items)
    except CatalogError as exc:
        problems.extend(exc.problems)
    if problems:
        raise CatalogError(problems)
    return tuple(items)


# A parser returns the rows it could read and a problem for each it could not, so that the
# operator sees every faulty row of a file at once.
_Rows = tuple[list[tuple[str, Mapping[str, Any]]], list[str]]


def _json_rows(text: str) -> _Rows:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            [f"JSON 格式错误（第{exc.lineno}行第{exc.colno}列）：{exc.msg}"]
        ) from exc
    if not isinstance(data, list):
        raise CatalogError(["JSON 文件的顶层必须是事项列表"])
    rows: list[tuple[str, Mapping[str, Any]]] = []
    problems: list[str] = []
    for index, row in enumerate(data, start=1):
        if isinstance(row, dict):
            rows.append((f"第{index}项", row))
        else:
            problems.append(f"第{index}项：必须是 JSON 对象")
    return rows, problems


def _csv_rows(text: str) -> _Rows:
    reader = csv.DictReader(text.splitlines(keepends=True))
    if reader.fieldnames is None:
        raise CatalogError(["CSV 文件为空"])
    missing = [c for c in ("code", "name", "department") if c not in reader.fieldnames]
    if missing:
        raise CatalogError([f"CSV 缺少列：{', '.join(missing)}"])
    rows: list[tuple[str, Mapping[str, Any]]] = []
    problems: list[str] = []
    # Line 1 is the header, so the first item is on line 2 (what a spreadsheet shows).
    for line, raw in enumerate(reader, start=2):
        label = f"第{line}行"
        try:
            rows.append((label, _csv_item(raw)))
        except ValueError as exc:
            problems.append(f"{label}：{exc}")
    return rows, problems


def _csv_item(raw: Mapping[str, str | None]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in raw.items():
        if key is None:
            raise ValueError("列数多于表头")
        cell = (value or "").strip()
        if not cell:
            continue
        if key in _JSON_COLUMNS:
            row[key] = _json_cell(key, cell)
        elif key in _LIST_COLUMNS:
            row[key] = (
                _json_cell(key, cell)
                if cell.startswith("[")
                else [line.strip() for line in cell.splitlines() if line.strip()]
            )
        elif key in _INT_COLUMNS:
            try:
                row[key] = int(cell)
            except ValueError as exc:
                raise ValueError(f"列 {key} 必须是整数：{cell!r}") from exc
        elif key == "online":
            if cell.lower() not in _BOOL_TEXT:
                raise ValueError(f"列 online 必须是 true/false 或 是/否：{cell!r}")
            row[key] = _BOOL_TEXT[cell.lower()]
        else:
            row[key] = cell
    return row


def _json_cell(key: str, cell: str) -> Any:
    try:
        return json.loads(cell)
    except json.JSONDecodeError as exc:
        raise ValueError(f"列 {key} 不是有效的 JSON：{exc.msg}") from exc


def _schema_problem(schema: Mapping[str, Any]) -> str | None:
    # jsonschema is only needed here, at import time of a catalog, not on a request path.
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(dict(schema))
    except SchemaError as exc:
        return str(exc.message)
    return None
