"""The service catalog: the pilot's counts, the model's invariants, import and search."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from chalicelib import names
from chalicelib.catalog import (
    CatalogError,
    Department,
    Fee,
    Routing,
    RoutingModel,
    ServiceItem,
    Stage,
    check_catalog,
    department_by_code,
    import_catalog,
    load_departments,
    load_services,
    pilot,
    service_by_code,
)
from chalicelib.catalog.search import MAX_LIMIT, InvalidQuery, Page, search

DATA = Path(pilot.__file__).parent / "data"


@pytest.fixture(scope="module")
def departments() -> tuple[Department, ...]:
    return load_departments()


@pytest.fixture(scope="module")
def items() -> tuple[ServiceItem, ...]:
    return load_services()


def make_item(**changes: Any) -> ServiceItem:
    """A valid single-department item; ``changes`` override fields."""
    base = load_services()[0]
    return dataclasses.replace(base, **changes)


# -- the pilot's shape ----------------------------------------------------------------------------


def test_departments_48_of_which_29_online(departments: tuple[Department, ...]) -> None:
    assert len(departments) == 48
    assert sum(d.online for d in departments) == 29
    assert len({d.code for d in departments}) == 48
    assert len({d.name for d in departments}) == 48


def test_department_codes_make_valid_queue_names(departments: tuple[Department, ...]) -> None:
    for dept in departments:
        assert re.fullmatch(r"[a-z0-9]{2,12}", dept.code)
        names.department_queue_name("prod", dept.code)
        assert dept.name.startswith("市")


def test_department_codes_are_pinned() -> None:
    # Codes name SQS queues and IAM policies: renaming one orphans a live queue.
    raw = json.loads((DATA / "departments.json").read_text(encoding="utf-8"))
    codes = [row["code"] for row in raw]
    assert codes[:5] == ["fgj", "jmj", "jyj", "kjj", "gaj"]
    assert {"gsj", "zjj", "guoshui", "dishui", "xfzd", "jsj", "ghj", "gtj"} <= set(codes)


def test_494_items_282_online(items: tuple[ServiceItem, ...]) -> None:
    assert len(items) == 494
    assert sum(item.online for item in items) == 282


def test_every_department_publishes_items(
    departments: tuple[Department, ...], items: tuple[ServiceItem, ...]
) -> None:
    assert {item.department for item in items} == {d.code for d in departments}


def test_online_items_belong_to_the_29_online_departments(
    departments: tuple[Department, ...], items: tuple[ServiceItem, ...]
) -> None:
    online_depts = {d.code for d in departments if d.online}
    assert {item.department for item in items if item.online} == online_depts
    by_code = {d.code: d for d in departments}
    for item in items:
        if item.online:
            # Every department on the way works online, not only the lead.
            assert all(by_code[c].online for c in item.routing.departments()), item.code


def test_routings_are_valid_and_reference_known_departments(
    departments: tuple[Department, ...], items: tuple[ServiceItem, ...]
) -> None:
    known = {d.code for d in departments}
    check_catalog(departments, items)
    for item in items:
        assert set(item.routing.departments()) <= known, item.code
        assert item.routing.working_days <= item.promised_days <= item.legal_days, item.code
        assert item.department in item.routing.departments()


def test_share_of_multi_department_items_is_realistic(items: tuple[ServiceItem, ...]) -> None:
    multi = [item for item in items if item.routing.model is not RoutingModel.SINGLE]
    assert 0.10 <= len(multi) / len(items) <= 0.15
    assert {item.routing.model for item in multi} == {
        RoutingModel.PARALLEL,
        RoutingModel.LEAD,
        RoutingModel.PROCESS,
    }


def test_the_three_models_of_the_source_documents(items: tuple[ServiceItem, ...]) -> None:
    by_name = {item.name: item for item in items}
    company = by_name["有限责任公司设立登记"].routing
    assert company.model is RoutingModel.PARALLEL
    assert company.stages[0].departments == ("gsj", "zjj", "guoshui", "dishui")
    food = by_name["食品流通许可证核发"].routing
    assert food.model is RoutingModel.LEAD and food.decider == "gsj"
    assert food.stages[0].departments == ("wsj", "xfzd")
    building = by_name["房屋建筑工程建设项目联合审批"].routing
    assert building.model is RoutingModel.PROCESS
    assert [s.departments for s in building.stages] == [
        ("ghj",),
        ("gtj",),
        ("jsj", "xfzd", "hbj"),
    ]
    assert by_name["娱乐场所经营许可证核发"].routing.departments() == ("gaj", "xfzd", "whj")


def test_item_codes_unique_and_stable(items: tuple[ServiceItem, ...]) -> None:
    codes = [item.code for item in items]
    assert len(set(codes)) == len(codes)
    for item in items:
        assert re.fullmatch(rf"441200-{item.department}-\d{{4}}", item.code)
    assert service_by_code("441200-gsj-0002") is not None
    assert service_by_code("441200-gsj-0002").name == "有限责任公司设立登记"  # type: ignore[union-attr]
    assert department_by_code("xfzd").name == "市公安消防支队"  # type: ignore[union-attr]


def test_generator_is_deterministic_and_committed_file_is_its_output() -> None:
    first = pilot.render_services()
    assert first == pilot.render_services()
    assert (DATA / "services.json").read_bytes() == first, (
        "data/services.json is stale: run python -m chalicelib.catalog.pilot"
    )


def test_eight_public_standards_are_filled(items: tuple[ServiceItem, ...]) -> None:
    for item in items:
        assert item.name and item.department and item.procedure
        assert item.materials and any(m.required for m in item.materials)
        assert item.promised_days >= 1
        assert item.fee.basis
        assert item.forms and all(f.path.startswith("/forms/") for f in item.forms)
        assert item.legal_basis and all(re.fullmatch(r"《.+》", law) for law in item.legal_basis)


def test_fees_mostly_free_some_real_amounts(items: tuple[ServiceItem, ...]) -> None:
    fees = Counter(item.fee.is_free for item in items)
    assert fees[True] > 0.8 * len(items)
    by_name = {item.name: item for item in items}
    assert by_name["居民身份证申领"].fee.amount_yuan == Decimal("20")
    assert by_name["有限责任公司设立登记"].fee.amount_yuan is None  # per mille of the capital


def test_form_schemas_are_valid_draft_2020_12(items: tuple[ServiceItem, ...]) -> None:
    for item in items:
        Draft202012Validator.check_schema(item.form_schema)
        assert item.form_schema["additionalProperties"] is False


def test_form_schema_accepts_a_good_form_and_refuses_unknown_fields(
    items: tuple[ServiceItem, ...],
) -> None:
    schema = {i.name: i for i in items}["有限责任公司设立登记"].form_schema
    validator = Draft202012Validator(schema)
    form = {
        "company_name": "肇庆市端州区星湖贸易有限公司",
        "registered_capital_yuan": "500000",
        "address": "肇庆市端州区天宁北路1号",
        "legal_representative": "张三",
        "business_scope": "日用百货批发、零售",
    }
    assert not list(validator.iter_errors(form))
    assert list(validator.iter_errors({**form, "registered_capital_yuan": "5e5"}))
    assert list(validator.iter_errors({**form, "note": "x"}))


def test_items_and_departments_round_trip(
    departments: tuple[Department, ...], items: tuple[ServiceItem, ...]
) -> None:
    for dept in departments:
        assert Department.from_dict(dept.to_dict()) == dept
    for item in items:
        data = json.loads(json.dumps(item.to_dict(), ensure_ascii=False))
        assert ServiceItem.from_dict(data) == item


# -- model invariants ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "stages", "decider", "days"),
    [
        ("single", [("gsj", "zjj")], None, 0),
        ("single", [("gsj",), ("zjj",)], None, 0),
        ("parallel", [("gsj",)], None, 0),
        ("parallel", [("gsj", "zjj"), ("dishui",)], None, 0),
        ("lead", [("wsj",)], None, 0),
        ("lead", [("wsj", "gsj")], "gsj", 5),
        ("lead", [("wsj",)], "gsj", 0),
        ("process", [("gsj",)], None, 0),
        ("process", [("gsj",), ("zjj",)], "gsj", 5),
        ("unknown", [("gsj",)], None, 0),
    ],
)
def test_invalid_routings_are_refused(
    model: str, stages: list[tuple[str, ...]], decider: str | None, days: int
) -> None:
    with pytest.raises(ValueError):
        Routing(
            RoutingModel(model) if model != "unknown" else model,  # type: ignore[arg-type]
            tuple(Stage(s, 5) for s in stages),
            decider,
            days,
        )


def test_invalid_stages_are_refused() -> None:
    for departments, days in [((), 5), (("gsj", "gsj"), 5), (("GSJ",), 5), (("gsj",), 0)]:
        with pytest.raises(ValueError):
            Stage(departments, days)


def test_stage_days_must_fit_the_promise() -> None:
    routing = Routing(RoutingModel.PROCESS, (Stage(("ghj",), 10), Stage(("gtj",), 10)))
    with pytest.raises(ValueError, match="超过承诺时限"):
        make_item(department="ghj", routing=routing, promised_days=15, legal_days=45)
    assert make_item(department="ghj", routing=routing, promised_days=20, legal_days=45)


def test_lead_department_must_lead_its_routing() -> None:
    with pytest.raises(ValueError, match="牵头部门"):
        make_item(routing=Routing(RoutingModel.PARALLEL, (Stage(("gsj", "fgj"), 5),)))
    with pytest.raises(ValueError, match="不在审批流程中"):
        make_item(routing=Routing.single("gsj", 5))


def test_legal_days_not_shorter_than_promised() -> None:
    with pytest.raises(ValueError, match="法定时限"):
        make_item(promised_days=10, legal_days=5)


def test_fee_never_uses_float() -> None:
    assert Fee.from_dict({"amount_yuan": "12.50", "basis": "x"}).amount_yuan == Decimal("12.50")
    assert Fee(Decimal("9"), "x").to_dict() == {"amount_yuan": "9.00", "basis": "x"}
    with pytest.raises(ValueError):
        Fee.from_dict({"amount_yuan": 12.5, "basis": "x"})
    with pytest.raises(ValueError):
        Fee(Decimal("-1"), "x")


def test_from_dict_names_the_item_and_field() -> None:
    data = load_services()[0].to_dict()
    data["promised_days"] = "ten"
    with pytest.raises(CatalogError) as caught:
        ServiceItem.from_dict(data)
    assert data["code"] in str(caught.value) and "promised_days" in str(caught.value)


def test_check_catalog_reports_every_problem(departments: tuple[Department, ...]) -> None:
    good = load_services()[0]
    unknown = make_item(code="441200-zz-0001", department="zz", routing=Routing.single("zz", 5))
    offline = make_item(
        code="441200-sfj-9999", department="sfj", routing=Routing.single("sfj", 5), online=True
    )
    with pytest.raises(CatalogError) as caught:
        check_catalog(departments, [good, good, unknown, offline])
    text = str(caught.value)
    assert "事项代码重复" in text and "未知部门 zz" in text and "未开通网上审批" in text


# -- import ---------------------------------------------------------------------------------------


def _csv_text(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        cells = {}
        for key, value in row.items():
            if key in ("procedure", "legal_basis", "applicant_kinds"):
                cells[key] = "\n".join(value)  # one entry per line, as a spreadsheet cell holds
            elif isinstance(value, (dict, list)):
                cells[key] = json.dumps(value, ensure_ascii=False)
            elif isinstance(value, bool):
                cells[key] = "是" if value else "否"
            else:
                cells[key] = value
        writer.writerow(cells)
    return out.getvalue()


def test_import_json_of_the_packaged_shape(tmp_path: Path, items: tuple[ServiceItem, ...]) -> None:
    path = tmp_path / "catalog.json"
    path.write_bytes((DATA / "services.json").read_bytes())
    assert import_catalog(path) == items


def test_import_csv_with_bom(tmp_path: Path, items: tuple[ServiceItem, ...]) -> None:
    chosen = [items[0], items[1], {i.name: i for i in items}["房屋建筑工程建设项目联合审批"]]
    path = tmp_path / "catalog.csv"
    path.write_text(_csv_text([i.to_dict() for i in chosen]), encoding="utf-8-sig")
    assert import_catalog(path) == tuple(chosen)


def test_import_reports_rows_and_fields(tmp_path: Path, items: tuple[ServiceItem, ...]) -> None:
    rows = [items[0].to_dict(), items[1].to_dict(), items[2].to_dict()]
    rows[0]["promised_days"] = "很快"
    rows[1]["department"] = "nosuch"
    rows[2]["routing"] = {"model": "single", "stages": [], "decider": None, "decider_days": 0}
    path = tmp_path / "bad.csv"
    path.write_text(_csv_text(rows), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        import_catalog(path)
    problems = caught.value.problems
    assert any(p.startswith("第2行") and "promised_days" in p for p in problems)
    assert any(p.startswith("第4行") for p in problems)


def test_import_refuses_invalid_json_schema_and_unknown_departments(
    tmp_path: Path, items: tuple[ServiceItem, ...]
) -> None:
    bad_schema = items[1].to_dict()
    bad_schema["form_schema"] = {"type": "object", "properties": {"x": {"type": "nonsense"}}}
    unknown = items[0].to_dict()
    assert unknown["routing"]["model"] == "lead"  # a supporter may be changed alone
    unknown["routing"]["stages"][0]["departments"] = ["nosuch"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([bad_schema, unknown, 7], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CatalogError, match="第3项：必须是 JSON 对象"):
        import_catalog(path)
    path.write_text(json.dumps([bad_schema, unknown], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        import_catalog(path)
    text = str(caught.value)
    assert "不是有效的 JSON Schema" in text and "nosuch" in text


def test_import_refuses_unknown_file_types_and_broken_json(tmp_path: Path) -> None:
    other = tmp_path / "catalog.xlsx"
    other.write_bytes(b"PK")
    with pytest.raises(CatalogError, match="不支持的文件类型"):
        import_catalog(other)
    broken = tmp_path / "catalog.json"
    broken.write_text("[{", encoding="utf-8")
    with pytest.raises(CatalogError, match="JSON 格式错误"):
        import_catalog(broken)
    empty = tmp_path / "empty.json"
    empty.write_text("[]", encoding="utf-8")
    with pytest.raises(CatalogError, match="没有事项"):
        import_catalog(empty)


# -- search ---------------------------------------------------------------------------------------


def test_search_by_department_name_and_item_name(items: tuple[ServiceItem, ...]) -> None:
    page = search(items, keyword="工商", limit=MAX_LIMIT)
    assert page.total >= 28
    assert {i.department for i in page.items} >= {"gsj"}
    food = search(items, keyword="食品流通许可证")
    assert [i.name for i in food.items] == [
        "食品流通许可证核发",
        "食品流通许可证变更",
        "食品流通许可证延续",
        "食品流通许可证注销",
    ]


def test_search_terms_all_match_and_normalize(items: tuple[ServiceItem, ...]) -> None:
    assert search(items, keyword="消防 验收").total == search(items, keyword="消防　验收").total
    both = search(items, keyword="消防 验收", limit=MAX_LIMIT)
    assert both.total >= 2
    assert all("验收" in i.name for i in both.items)
    assert search(items, keyword="ＸＦＺＤ").total == search(items, department="xfzd").total
    assert search(items, keyword="没有这种事项").total == 0


def test_search_filters(items: tuple[ServiceItem, ...]) -> None:
    online = search(items, online_only=True, limit=MAX_LIMIT)
    assert online.total == 282
    assert all(i.online for i in online.items)
    gaj = search(items, department="gaj", online_only=True, limit=MAX_LIMIT)
    assert gaj.total == 20 and all(i.department == "gaj" for i in gaj.items)


def _all_pages(items: tuple[ServiceItem, ...], **query: Any) -> list[Page]:
    pages = [search(items, **query)]
    while pages[-1].next_cursor:
        pages.append(search(items, cursor=pages[-1].next_cursor, **query))
    return pages


@pytest.mark.parametrize("limit", [1, 7, 20, MAX_LIMIT])
def test_pagination_walks_every_match_once_in_stable_order(
    items: tuple[ServiceItem, ...], limit: int
) -> None:
    pages = _all_pages(items, keyword="登记", limit=limit)
    seen = [i.code for page in pages for i in page.items]
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == pages[0].total
    assert all(page.total == pages[0].total for page in pages)
    assert all(len(page.items) == limit for page in pages[:-1])


def test_cursor_survives_items_added_before_it(items: tuple[ServiceItem, ...]) -> None:
    first = search(items, department="gsj", limit=5)
    gsj = service_by_code("441200-gsj-0001")
    assert gsj is not None
    added = dataclasses.replace(gsj, code="441200-gsj-0001a")  # sorts inside the first page
    second = search((*items, added), department="gsj", limit=5, cursor=first.next_cursor)
    assert second.items[0].code == "441200-gsj-0006"


def test_bad_cursor_limit_and_keyword_are_client_errors(items: tuple[ServiceItem, ...]) -> None:
    cursor = search(items, keyword="登记", limit=2).next_cursor
    with pytest.raises(InvalidQuery):
        search(items, keyword="许可", cursor=cursor)
    for bad in ("!!!", "bm90IGpzb24", "W10"):
        with pytest.raises(InvalidQuery):
            search(items, cursor=bad)
    for limit in (0, MAX_LIMIT + 1):
        with pytest.raises(InvalidQuery):
            search(items, limit=limit)
    with pytest.raises(InvalidQuery) as caught:
        search(items, keyword="许" * 101)
    assert caught.value.status == 400


def test_search_takes_department_names_from_the_caller(items: tuple[ServiceItem, ...]) -> None:
    page = search(items, keyword="工商局", departments={"gsj": "工商局"}, limit=MAX_LIMIT)
    assert page.total == 28
