"""The service catalog's data model: departments, service items and their routing.

A service item (审批事项) is published under the "eight public standards" (八公开): name, lead
department, procedure, required materials, promised time limit, fee, downloadable forms and legal
basis. On top of those, the platform needs what makes an item processable online: a stable code
and version, the JSON Schema of the application's ``form``, the routing through departments and
a per-item payload limit.

All three parallel-approval models of the source documents are one mechanism (:class:`Routing`):
stages run in sequence, the departments of one stage review in parallel, and an optional decider
decides after the last stage.

Validation messages are in Chinese: they reach the operator who imports a real catalog.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from chalicelib.errors import OnestopError

DEPARTMENT_CODE = re.compile(r"^[a-z0-9]{2,12}$")
ITEM_CODE = re.compile(r"^[0-9a-z][0-9a-z-]{2,63}$")
MATERIAL_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# An API Gateway request body can be 10 MB; an item's own limit is a lower, per-item ceiling
# for the signed envelope (attachments travel to S3 separately, so forms stay small).
MAX_PAYLOAD_CEILING = 1024 * 1024
MIN_PAYLOAD_BYTES = 1024
APPLICANT_KINDS = ("person", "organization")


class CatalogError(OnestopError):
    """The catalog (or an imported file) is invalid; ``problems`` lists every finding."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("；".join(self.problems) if self.problems else "目录无效")


class RoutingModel(str, Enum):
    """The approval models of the source documents, plus the plain single-department item."""

    SINGLE = "single"  # one department decides alone
    PARALLEL = "parallel"  # 网上并联许可: lead + related departments in one stage, all approve
    LEAD = "lead"  # 以核心部门为中心: supporting departments give opinions, the lead decides
    PROCESS = "process"  # 以事务处理过程为中心: stages in sequence, no department is primary


@dataclass(frozen=True)
class Department:
    """A government department; its code names its SQS task queue, so it never changes."""

    code: str
    name: str
    name_en: str
    online: bool

    def __post_init__(self) -> None:
        if not DEPARTMENT_CODE.match(self.code):
            raise ValueError(f"部门代码 {self.code!r} 不符合格式 [a-z0-9]{{2,12}}")
        if not self.name.strip():
            raise ValueError(f"部门 {self.code} 缺少名称")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored in ``data/departments.json``."""
        return {
            "code": self.code,
            "name": self.name,
            "name_en": self.name_en,
            "online": self.online,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Department:
        """Inverse of :meth:`to_dict`."""
        return cls(
            code=_str(data, "code"),
            name=_str(data, "name"),
            name_en=_str(data, "name_en", default=""),
            online=_bool(data, "online"),
        )


@dataclass(frozen=True)
class Stage:
    """One step of a routing: all its departments review in parallel within ``working_days``."""

    departments: tuple[str, ...]
    working_days: int

    def __post_init__(self) -> None:
        if not self.departments:
            raise ValueError("审批环节至少需要一个部门")
        if len(set(self.departments)) != len(self.departments):
            raise ValueError(f"审批环节中部门重复：{', '.join(self.departments)}")
        for code in self.departments:
            if not isinstance(code, str) or not DEPARTMENT_CODE.match(code):
                raise ValueError(f"部门代码 {code!r} 不符合格式")
        if isinstance(self.working_days, bool) or self.working_days < 1:
            raise ValueError("审批环节时限必须是正整数（工作日）")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"departments": list(self.departments), "working_days": self.working_days}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stage:
        """Inverse of :meth:`to_dict`."""
        departments = data.get("departments")
        if not isinstance(departments, list) or not all(isinstance(d, str) for d in departments):
            raise ValueError("审批环节的 departments 必须是部门代码列表")
        return cls(departments=tuple(departments), working_days=_int(data, "working_days"))


@dataclass(frozen=True)
class Routing:
    """How a case travels through departments.

    ``stages`` run in sequence and the departments of one stage in parallel; a case advances when
    every department of the current stage is done. ``decider`` (lead model only) decides after the
    last stage, within ``decider_days``.
    """

    model: RoutingModel
    stages: tuple[Stage, ...]
    decider: str | None = None
    decider_days: int = 0

    def __post_init__(self) -> None:
        # Accept the plain string too, so that Routing("parallel", ...) reads naturally.
        object.__setattr__(self, "model", RoutingModel(self.model))
        if not self.stages:
            raise ValueError("审批流程至少需要一个环节")
        model = self.model
        if model is RoutingModel.LEAD:
            if self.decider is None or not DEPARTMENT_CODE.match(self.decider):
                raise ValueError("牵头部门模式必须指定作出决定的牵头部门")
            if self.decider in self.departments_in_stages():
                raise ValueError("牵头部门不能同时在征求意见环节中")
            if isinstance(self.decider_days, bool) or self.decider_days < 1:
                raise ValueError("牵头部门决定时限必须是正整数（工作日）")
        elif self.decider is not None or self.decider_days != 0:
            raise ValueError(f"{model.value} 模式不能指定决定部门")
        if model is RoutingModel.SINGLE:
            if len(self.stages) != 1 or len(self.stages[0].departments) != 1:
                raise ValueError("单部门事项只能有一个环节、一个部门")
        elif model is RoutingModel.PARALLEL:
            if len(self.stages) != 1 or len(self.stages[0].departments) < 2:
                raise ValueError("并联审批必须是一个环节、至少两个部门")
        elif model is RoutingModel.PROCESS and len(self.departments()) < 2:
            raise ValueError("以事务处理过程为中心的流程至少涉及两个部门")

    @property
    def lead(self) -> str:
        """The department that answers for the item: decider, else the first of the first stage."""
        return self.decider if self.decider is not None else self.stages[0].departments[0]

    @property
    def working_days(self) -> int:
        """Total working days of all stages and the decider, the routing's own time budget."""
        return sum(stage.working_days for stage in self.stages) + self.decider_days

    def departments_in_stages(self) -> tuple[str, ...]:
        """Departments of the stages (not the decider), first occurrence order."""
        seen: dict[str, None] = {}
        for stage in self.stages:
            seen.update(dict.fromkeys(stage.departments))
        return tuple(seen)

    def departments(self) -> tuple[str, ...]:
        """Every department involved, first occurrence order, decider last."""
        found = self.departments_in_stages()
        if self.decider is not None and self.decider not in found:
            found += (self.decider,)
        return found

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "model": self.model.value,
            "stages": [stage.to_dict() for stage in self.stages],
            "decider": self.decider,
            "decider_days": self.decider_days,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Routing:
        """Inverse of :meth:`to_dict`."""
        stages = data.get("stages")
        if not isinstance(stages, list):
            raise ValueError("routing.stages 必须是列表")
        decider = data.get("decider")
        if decider is not None and not isinstance(decider, str):
            raise ValueError("routing.decider 必须是部门代码或 null")
        model = _str(data, "model")
        if model not in {m.value for m in RoutingModel}:
            raise ValueError(f"未知的审批模式 {model!r}")
        return cls(
            model=RoutingModel(model),
            stages=tuple(Stage.from_dict(_mapping(s, "routing.stages[]")) for s in stages),
            decider=decider,
            decider_days=_int(data, "decider_days", default=0),
        )

    @classmethod
    def single(cls, department: str, working_days: int) -> Routing:
        """The routing of an item one department decides alone."""
        return cls(RoutingModel.SINGLE, (Stage((department,), working_days),))


@dataclass(frozen=True)
class Material:
    """A required or optional document (资料要求) the applicant uploads."""

    code: str
    name: str
    required: bool
    max_bytes: int
    content_types: tuple[str, ...]

    def __post_init__(self) -> None:
        if not MATERIAL_CODE.match(self.code):
            raise ValueError(f"材料代码 {self.code!r} 不符合格式")
        if not self.name.strip():
            raise ValueError(f"材料 {self.code} 缺少名称")
        if isinstance(self.max_bytes, bool) or self.max_bytes < 1:
            raise ValueError(f"材料 {self.code} 的大小上限必须是正整数")
        if not self.content_types or not all("/" in t for t in self.content_types):
            raise ValueError(f"材料 {self.code} 的文件类型必须是 MIME 类型列表")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "code": self.code,
            "name": self.name,
            "required": self.required,
            "max_bytes": self.max_bytes,
            "content_types": list(self.content_types),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Material:
        """Inverse of :meth:`to_dict`."""
        types = data.get("content_types")
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise ValueError("materials[].content_types 必须是字符串列表")
        return cls(
            code=_str(data, "code"),
            name=_str(data, "name"),
            required=_bool(data, "required"),
            max_bytes=_int(data, "max_bytes"),
            content_types=tuple(types),
        )


@dataclass(frozen=True)
class Fee:
    """Fee standard (收费标准).

    ``amount_yuan`` is a fixed amount; ``None`` means the amount is computed from ``basis`` (for
    instance a per-mille of the registered capital). An item without fee has amount 0.
    """

    amount_yuan: Decimal | None
    basis: str

    def __post_init__(self) -> None:
        if self.amount_yuan is not None:
            if not isinstance(self.amount_yuan, Decimal) or not self.amount_yuan.is_finite():
                raise ValueError("收费金额必须是十进制数")
            if self.amount_yuan < 0:
                raise ValueError("收费金额不能为负数")
        if not self.basis.strip():
            raise ValueError("收费标准缺少说明")

    @property
    def is_free(self) -> bool:
        """True when the item costs nothing."""
        return self.amount_yuan is not None and self.amount_yuan == 0

    @classmethod
    def free(cls) -> Fee:
        """The fee of an item that costs nothing."""
        return cls(Decimal("0"), "不收费")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the amount is a string so that no float ever touches money."""
        amount = None if self.amount_yuan is None else f"{self.amount_yuan:.2f}"
        return {"amount_yuan": amount, "basis": self.basis}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fee:
        """Inverse of :meth:`to_dict`; accepts the amount as string or integer, never float."""
        raw = data.get("amount_yuan")
        amount: Decimal | None
        if raw is None:
            amount = None
        elif isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
            raise ValueError('fee.amount_yuan 必须是字符串形式的金额，例如 "20.00"')
        else:
            try:
                amount = Decimal(str(raw).strip())
            except InvalidOperation as exc:
                raise ValueError(f"fee.amount_yuan {raw!r} 不是有效金额") from exc
        return cls(amount_yuan=amount, basis=_str(data, "basis"))


@dataclass(frozen=True)
class Form:
    """A downloadable form (下载表格): a display name and the URL path of the file."""

    name: str
    path: str

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("表格缺少名称")
        if not self.path.startswith("/") or ".." in self.path:
            raise ValueError(f"表格路径 {self.path!r} 必须是以 / 开头的 URL 路径")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"name": self.name, "path": self.path}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Form:
        """Inverse of :meth:`to_dict`."""
        return cls(name=_str(data, "name"), path=_str(data, "path"))


@dataclass(frozen=True)
class ServiceItem:
    """One approval item of the catalog, published under the eight public standards.

    ``form_schema`` is a JSON Schema (Draft 2020-12) for the application's ``form``; treat it as
    read-only. ``department`` is the lead department (承办单位) and is part of the routing.
    """

    code: str
    version: int
    name: str
    department: str
    procedure: tuple[str, ...]
    materials: tuple[Material, ...]
    promised_days: int
    legal_days: int
    fee: Fee
    forms: tuple[Form, ...]
    legal_basis: tuple[str, ...]
    online: bool
    routing: Routing
    form_schema: dict[str, Any] = field(hash=False)
    max_payload_bytes: int = 65536
    sector: str = ""
    applicant_kinds: tuple[str, ...] = APPLICANT_KINDS

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise ValueError("；".join(problems))

    def _problems(self) -> list[str]:
        found: list[str] = []
        if not ITEM_CODE.match(self.code):
            found.append(f"事项代码 {self.code!r} 不符合格式（小写字母、数字和连字符）")
        if isinstance(self.version, bool) or self.version < 1:
            found.append("版本号必须是正整数")
        if not self.name.strip() or len(self.name) > 100:
            found.append("事项名称不能为空且不超过100字")
        if not DEPARTMENT_CODE.match(self.department):
            found.append(f"承办单位代码 {self.department!r} 不符合格式")
        if not self.procedure or not all(step.strip() for step in self.procedure):
            found.append("办事程序不能为空")
        codes = [m.code for m in self.materials]
        if len(set(codes)) != len(codes):
            found.append("材料代码重复")
        if isinstance(self.promised_days, bool) or self.promised_days < 1:
            found.append("承诺时限必须是正整数（工作日）")
        elif self.legal_days < self.promised_days:
            found.append(f"法定时限（{self.legal_days}）不能短于承诺时限（{self.promised_days}）")
        elif self.routing.working_days > self.promised_days:
            found.append(
                f"各审批环节时限之和（{self.routing.working_days}）超过承诺时限（{self.promised_days}）"
            )
        if not self.legal_basis or not all(law.strip() for law in self.legal_basis):
            found.append("法律依据不能为空")
        if self.department not in self.routing.departments():
            found.append(f"承办单位 {self.department} 不在审批流程中")
        elif (
            self.routing.model is not RoutingModel.PROCESS and self.routing.lead != self.department
        ):
            # In the single, parallel and lead models the publishing department is the one that
            # answers for the case; only the process model has no primary department.
            found.append(f"承办单位 {self.department} 应为审批流程的牵头部门")
        if not isinstance(self.form_schema, dict) or self.form_schema.get("type") != "object":
            found.append("表单结构（form_schema）必须是 type 为 object 的 JSON Schema")
        if not MIN_PAYLOAD_BYTES <= self.max_payload_bytes <= MAX_PAYLOAD_CEILING:
            found.append(
                f"申请报文上限必须在 {MIN_PAYLOAD_BYTES} 到 {MAX_PAYLOAD_CEILING} 字节之间"
            )
        if not self.applicant_kinds or not set(self.applicant_kinds) <= set(APPLICANT_KINDS):
            found.append("申请人类型只能是 person 或 organization")
        return found

    @property
    def fully_online(self) -> bool:
        """Alias of ``online``: the item is accepted and decided entirely online."""
        return self.online

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, the shape of one entry of ``data/services.json``."""
        return {
            "code": self.code,
            "version": self.version,
            "name": self.name,
            "department": self.department,
            "sector": self.sector,
            "procedure": list(self.procedure),
            "materials": [m.to_dict() for m in self.materials],
            "promised_days": self.promised_days,
            "legal_days": self.legal_days,
            "fee": self.fee.to_dict(),
            "forms": [f.to_dict() for f in self.forms],
            "legal_basis": list(self.legal_basis),
            "online": self.online,
            "applicant_kinds": list(self.applicant_kinds),
            "routing": self.routing.to_dict(),
            "max_payload_bytes": self.max_payload_bytes,
            "form_schema": self.form_schema,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceItem:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        CatalogError
            With every problem found, each prefixed by the item's code.
        """
        label = data.get("code") if isinstance(data, Mapping) else None
        prefix = f"事项 {label}：" if isinstance(label, str) else "事项："
        try:
            schema = data.get("form_schema")
            if not isinstance(schema, dict):
                raise ValueError("form_schema 必须是 JSON 对象")
            return cls(
                code=_str(data, "code"),
                version=_int(data, "version"),
                name=_str(data, "name"),
                department=_str(data, "department"),
                sector=_str(data, "sector", default=""),
                procedure=_strings(data, "procedure"),
                materials=tuple(
                    Material.from_dict(_mapping(m, "materials[]")) for m in _list(data, "materials")
                ),
                promised_days=_int(data, "promised_days"),
                legal_days=_int(data, "legal_days"),
                fee=Fee.from_dict(_mapping(data.get("fee"), "fee")),
                forms=tuple(Form.from_dict(_mapping(f, "forms[]")) for f in _list(data, "forms")),
                legal_basis=_strings(data, "legal_basis"),
                online=_bool(data, "online"),
                applicant_kinds=_strings(data, "applicant_kinds", default=APPLICANT_KINDS),
                routing=Routing.from_dict(_mapping(data.get("routing"), "routing")),
                max_payload_bytes=_int(data, "max_payload_bytes", default=65536),
                form_schema=schema,
            )
        except CatalogError as exc:
            raise CatalogError([prefix + p for p in exc.problems]) from exc
        except (ValueError, TypeError, AttributeError) as exc:
            raise CatalogError([prefix + str(exc)]) from exc


def check_catalog(departments: Iterable[Department], items: Iterable[ServiceItem]) -> None:
    """Check the references across a catalog.

    Department and item codes are unique, every routing names known departments, and a fully
    online item involves only departments that work online (a paper step would break the
    "fully online" promise).

    Raises
    ------
    CatalogError
        With every problem found.
    """
    problems: list[str] = []
    by_code: dict[str, Department] = {}
    for dept in departments:
        if dept.code in by_code:
            problems.append(f"部门代码重复：{dept.code}")
        by_code[dept.code] = dept
    seen: set[str] = set()
    for item in items:
        if item.code in seen:
            problems.append(f"事项代码重复：{item.code}")
        seen.add(item.code)
        for code in item.routing.departments():
            involved = by_code.get(code)
            if involved is None:
                problems.append(f"事项 {item.code}：未知部门 {code}")
            elif item.online and not involved.online:
                problems.append(
                    f"事项 {item.code}：全程网上办理，但 {involved.name} 未开通网上审批"
                )
    if problems:
        raise CatalogError(problems)


# -- parsing helpers: every failure names the field, in the operator's language ------------------

_MISSING = object()


def _get(data: Mapping[str, Any], key: str, default: Any) -> Any:
    if not isinstance(data, Mapping):
        raise ValueError("应为 JSON 对象")
    value = data.get(key, _MISSING)
    if value is _MISSING or (value is None and default is not _MISSING):
        if default is _MISSING:
            raise ValueError(f"缺少字段 {key}")
        return default
    return value


def _str(data: Mapping[str, Any], key: str, default: Any = _MISSING) -> str:
    value = _get(data, key, default)
    if not isinstance(value, str):
        raise ValueError(f"字段 {key} 必须是字符串")
    return value


def _int(data: Mapping[str, Any], key: str, default: Any = _MISSING) -> int:
    value = _get(data, key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"字段 {key} 必须是整数")
    return value


def _bool(data: Mapping[str, Any], key: str) -> bool:
    value = _get(data, key, _MISSING)
    if not isinstance(value, bool):
        raise ValueError(f"字段 {key} 必须是 true 或 false")
    return value


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = _get(data, key, _MISSING)
    if not isinstance(value, list):
        raise ValueError(f"字段 {key} 必须是列表")
    return value


def _strings(data: Mapping[str, Any], key: str, default: Any = _MISSING) -> tuple[str, ...]:
    value = _get(data, key, default)
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"字段 {key} 必须是字符串列表")
    return tuple(value)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} 必须是 JSON 对象")
    return value
