"""Deterministic generator of the pilot catalog: 494 items of 48 departments, 282 fully online.

The Zhaoqing pilot published 494 approval items of 48 municipal departments under the eight
public standards, 282 items of 29 departments fully online. This module rebuilds a catalog of
that shape from hand-written tables (no randomness): per department, families of items
(``食品流通许可证`` + ``核发/变更/延续/注销``), each with its form kind, time limits, legal basis,
fee and, for the ~11 % that involve several departments, a routing in one of the three models.

Run ``python -m chalicelib.catalog.pilot`` to rewrite ``data/services.json``; a test checks that
the committed file equals the generator's output byte for byte.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from chalicelib.catalog.model import (
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

# Zhaoqing's administrative division code; it prefixes every item code.
REGION = "441200"
VERSION = 1
DATA_DIR = Path(__file__).parent / "data"
SERVICES_PATH = DATA_DIR / "services.json"
DEPARTMENTS_PATH = DATA_DIR / "departments.json"

EXPECTED_ITEMS = 494
EXPECTED_ONLINE_ITEMS = 282

# Joint or unified handling by several departments: 45 days (行政许可法 第四十二条).
JOINT_LEGAL_DAYS = 45
MIB = 1024 * 1024
DOCS = ("application/pdf", "image/jpeg", "image/png")
PHOTO = ("image/jpeg",)


# -- routing specifications (the item's own department is filled in when an item is built) ------


@dataclass(frozen=True)
class _Route:
    model: RoutingModel
    stages: tuple[tuple[str, ...], ...]
    days: tuple[int, ...]
    decide_days: int = 0

    def build(self, department: str) -> Routing:
        if self.model is RoutingModel.PARALLEL:
            # 一家受理、并联审批: the publishing department leads the single stage.
            stages = (Stage((department, *self.stages[0]), self.days[0]),)
            return Routing(self.model, stages)
        if self.model is RoutingModel.LEAD:
            stages = (Stage(self.stages[0], self.days[0]),)
            return Routing(self.model, stages, decider=department, decider_days=self.decide_days)
        built = tuple(Stage(depts, d) for depts, d in zip(self.stages, self.days, strict=True))
        return Routing(self.model, built)


def _par(*others: str, days: int = 5) -> _Route:
    """网上并联许可: the item's department and ``others`` review at once; all must approve."""
    return _Route(RoutingModel.PARALLEL, (others,), (days,))


def _lead(*supporters: str, days: int = 5, decide: int = 10) -> _Route:
    """以核心部门为中心: ``supporters`` give opinions, then the item's department decides."""
    return _Route(RoutingModel.LEAD, (supporters,), (days,), decide)


def _proc(*stages: str, days: tuple[int, ...]) -> _Route:
    """以事务处理过程为中心: stages such as ``"jsj+xfzd+hbj"`` in sequence, none primary."""
    return _Route(RoutingModel.PROCESS, tuple(tuple(s.split("+")) for s in stages), days)


# -- item families ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Family:
    base: str
    variants: tuple[str, ...]
    kind: str
    days: tuple[int, int]
    law: tuple[str, ...]
    fee: tuple[str | None, str] | None
    route: _Route | None
    who: str | None
    sector: str | None


def F(  # a table constructor: each call reads as a row of the tables below
    base: str,
    variants: str = "",
    *,
    kind: str = "org",
    days: tuple[int, int] = (10, 20),
    law: str = "",
    fee: tuple[str | None, str] | None = None,
    route: _Route | None = None,
    who: str | None = None,
    sector: str | None = None,
) -> _Family:
    """One row: ``base`` + each of the ``/``-separated ``variants`` is one item.

    ``route`` applies to the first variant only (核发/设立); later variants (变更/延续/注销) are
    decided by the department alone. ``law`` is ``|``-separated; ``^`` abbreviates 中华人民共和国.
    """
    return _Family(
        base=base,
        variants=tuple(variants.split("/")) if variants else ("",),
        kind=kind,
        days=days,
        law=tuple(law.split("|")) if law else (),
        fee=fee,
        route=route,
        who=who,
        sector=sector,
    )


COMPANY_FEE = (
    None,
    "按注册资本总额的0.8‰收取；注册资本超过1000万元的，超过部分按0.4‰收取；"
    "超过1亿元的，超过部分不再收取",
)
ID_CARD_FEE = ("20", "居民身份证工本费每证20元")
HOUSE_FEE = ("80", "住房登记每件80元；非住房房屋登记每件550元")
DRIVING_FEE = ("10", "机动车驾驶证工本费每证10元")
MARRIAGE_FEE = ("9", "婚姻登记证工本费每对9元")

# fmt: off
# Department defaults: the sector (行业分类, the second way the pilot classified items) and the
# legal basis of items whose row names none.
DEPT_SECTOR: dict[str, str] = {
    "fgj": "投资建设", "jmj": "商贸流通", "jyj": "教育", "kjj": "科技", "gaj": "公安治安",
    "mzj": "民政事务", "sfj": "法律服务", "czj": "财政会计", "ldj": "劳动就业",
    "rsj": "人才人事", "gtj": "国土资源", "jsj": "建设工程", "ghj": "城乡规划",
    "jtj": "交通运输", "swj": "水务", "nyj": "农业", "lyj": "林业", "hyj": "海洋渔业",
    "wjmj": "外经贸", "whj": "文化广电", "wsj": "医疗卫生", "rkjsj": "人口计生",
    "sjj": "审计", "hbj": "环境保护", "tyj": "体育", "tjj": "统计", "ajj": "安全生产",
    "yjj": "食品药品", "wjj": "价格收费", "lvyj": "旅游", "gsj": "企业登记",
    "zjj": "质量技术", "guoshui": "税务", "dishui": "税务", "xfzd": "消防安全",
    "qxj": "气象防雷", "mzzj": "民族宗教", "wqj": "外事侨务", "rfb": "人民防空",
    "cgj": "市容城管", "fcj": "房地产", "gjj": "住房公积金", "daj": "档案",
    "dzj": "防震减灾", "ycj": "烟草专卖", "lsj": "粮食流通", "ywj": "盐业",
    "cjrlh": "残疾人服务",
}
DEPT_LAW: dict[str, str] = {
    "fgj": "国务院关于投资体制改革的决定",
    "jmj": "国务院对确需保留的行政审批项目设定行政许可的决定",
    "jyj": "^教育法", "kjj": "^科学技术进步法", "gaj": "^人民警察法", "mzj": "^婚姻法",
    "sfj": "^律师法", "czj": "^会计法", "ldj": "^劳动法", "rsj": "人才市场管理规定",
    "gtj": "^土地管理法", "jsj": "^建筑法", "ghj": "^城乡规划法", "jtj": "^道路运输条例",
    "swj": "^水法", "nyj": "^农业法", "lyj": "^森林法", "hyj": "^渔业法",
    "wjmj": "^对外贸易法", "whj": "^文物保护法", "wsj": "医疗机构管理条例",
    "rkjsj": "^人口与计划生育法", "sjj": "^审计法", "hbj": "^环境保护法", "tyj": "^体育法",
    "tjj": "^统计法", "ajj": "^安全生产法", "yjj": "^药品管理法", "wjj": "^价格法",
    "lvyj": "旅行社条例", "gsj": "^公司登记管理条例", "zjj": "^产品质量法",
    "guoshui": "^税收征收管理法|^税收征收管理法实施细则",
    "dishui": "^税收征收管理法|^税收征收管理法实施细则", "xfzd": "^消防法",
    "qxj": "^气象法", "mzzj": "宗教事务条例", "wqj": "^护照法",
    "rfb": "^人民防空法|广东省实施〈中华人民共和国人民防空法〉办法",
    "cgj": "城市市容和环境卫生管理条例", "fcj": "^城市房地产管理法", "gjj": "住房公积金管理条例",
    "daj": "^档案法", "dzj": "^防震减灾法", "ycj": "^烟草专卖法|^烟草专卖法实施条例",
    "lsj": "粮食流通管理条例", "ywj": "食盐专营办法", "cjrlh": "^残疾人保障法",
}

# How many items of each online department are fully online (282 in all); the first eligible
# rows of the department's table are the online ones.
ONLINE_QUOTA: dict[str, int] = {
    "gsj": 24, "zjj": 11, "guoshui": 12, "dishui": 12, "jsj": 15, "ghj": 10, "gtj": 10,
    "xfzd": 8, "hbj": 9, "wsj": 14, "yjj": 11, "gaj": 20, "whj": 10, "jtj": 10, "fgj": 7,
    "jmj": 7, "wjmj": 7, "mzj": 9, "ldj": 10, "rsj": 5, "jyj": 7, "kjj": 5, "nyj": 8,
    "lyj": 6, "hyj": 5, "swj": 7, "ajj": 7, "cgj": 6, "fcj": 10,
}

TABLE: dict[str, tuple[_Family, ...]] = {
    "gsj": (
        F("企业名称预先核准", kind="name", days=(2, 10),
          law="企业名称登记管理规定|企业名称登记管理实施办法"),
        F("有限责任公司设立登记", kind="company", route=_par("zjj", "guoshui", "dishui"),
          law="^公司法|^公司登记管理条例", fee=COMPANY_FEE),
        F("股份有限公司设立登记", kind="company", route=_par("zjj", "guoshui", "dishui"),
          law="^公司法|^公司登记管理条例", fee=COMPANY_FEE),
        F("非公司企业法人开业登记", kind="company", route=_par("zjj", "guoshui", "dishui"),
          law="^企业法人登记管理条例", fee=COMPANY_FEE),
        F("内资企业分支机构设立登记", kind="company", route=_par("zjj", "guoshui", "dishui"),
          law="^公司法|^公司登记管理条例", fee=("300", "分支机构设立登记费每户300元")),
        F("个人独资企业设立登记", kind="company", route=_par("zjj", "guoshui", "dishui"),
          law="^个人独资企业法|个人独资企业登记管理办法"),
        F("合伙企业设立登记", kind="company", route=_par("zjj", "guoshui", "dishui"),
          law="^合伙企业法|^合伙企业登记管理办法"),
        F("农民专业合作社设立登记", kind="company", route=_par("zjj", "guoshui", "dishui"),
          law="^农民专业合作社法|农民专业合作社登记管理条例"),
        F("个体工商户开业登记", kind="premises", who="person", days=(3, 15),
          route=_par("guoshui", "dishui", days=3), law="城乡个体工商户管理暂行条例"),
        F("内资企业变更登记", kind="company", route=_par("zjj", "guoshui", "dishui"),
          law="^公司法|^公司登记管理条例", fee=("100", "变更登记费每次100元")),
        F("内资企业注销登记", kind="company", route=_proc("guoshui+dishui", "gsj", days=(10, 5)),
          law="^公司法|^公司登记管理条例|^税收征收管理法"),
        F("外商投资企业设立登记", kind="company",
          route=_proc("wjmj", "gsj+zjj+guoshui+dishui", days=(10, 5)), fee=COMPANY_FEE,
          law="^中外合资经营企业法|^外资企业法|^公司登记管理条例"),
        F("外商投资企业变更登记", kind="company", days=(5, 15),
          law="^公司登记管理条例|外商投资企业授权登记管理办法"),
        F("外商投资企业注销登记", kind="company", days=(5, 15),
          law="^公司登记管理条例|外商投资企业授权登记管理办法"),
        F("企业联合年检", route=_proc("gsj+zjj+ldj", days=(10,)),
          law="企业年度检验办法|组织机构代码管理办法|^劳动合同法"),
        F("个体工商户变更登记", kind="premises", who="person", days=(3, 15),
          law="城乡个体工商户管理暂行条例"),
        F("个体工商户注销登记", kind="person", days=(3, 15), law="城乡个体工商户管理暂行条例"),
        F("食品流通许可证", "核发/变更/延续/注销", kind="premises", sector="食品安全",
          route=_lead("wsj", "xfzd", days=5, decide=10),
          law="^食品安全法|食品流通许可证管理办法"),
        F("广告经营许可证", "核发/变更", law="广告管理条例|广告经营许可证管理办法"),
        F("动产抵押登记", days=(1, 5), law="^物权法|动产抵押登记办法"),
        F("股权出质设立登记", days=(3, 10), law="^物权法|工商行政管理机关股权出质登记办法"),
        F("企业集团登记", law="企业集团登记管理暂行规定"),
        F("集贸市场登记", law="城乡集市贸易管理办法"),
        F("外国企业常驻代表机构登记",
          law="关于审批和管理外国企业在华常驻代表机构的实施细则"),
    ),
    "zjj": (
        F("组织机构代码证书", "核发/变更/年检/注销", days=(3, 10), law="组织机构代码管理办法"),
        F("工业产品生产许可证申请受理审查", days=(5, 20), law="^工业产品生产许可证管理条例"),
        F("制造计量器具许可证核发", days=(15, 20), law="^计量法|^计量法实施细则"),
        F("修理计量器具许可证核发", days=(15, 20), law="^计量法|^计量法实施细则"),
        F("计量标准器具核准", days=(15, 20), law="^计量法|^计量法实施细则"),
        F("特种设备使用登记", days=(5, 30), law="特种设备安全监察条例"),
        F("电梯使用登记", days=(5, 30), law="特种设备安全监察条例"),
        F("特种设备安装改造维修告知", days=(1, 5), law="特种设备安全监察条例"),
        F("特种设备作业人员证核发", kind="qualification", days=(15, 20),
          law="特种设备安全监察条例|特种设备作业人员监督管理办法"),
        F("商品条码注册申请初审", days=(5, 20), law="商品条码管理办法"),
        F("食品生产许可证受理审查", days=(5, 20), sector="食品安全",
          law="^工业产品生产许可证管理条例|食品生产加工企业质量安全监督管理实施细则（试行）"),
        F("产品质量检验机构计量认证", days=(15, 20),
          law="^计量法|产品质量检验机构计量认证管理办法"),
        F("强制检定计量器具登记备案", days=(3, 10),
          law="^计量法|^强制检定的工作计量器具检定管理办法"),
        F("企业产品标准备案", days=(5, 10), law="^标准化法|^标准化法实施条例"),
    ),
    "guoshui": (
        F("税务登记（设立登记）", kind="tax", days=(3, 30), law="^税收征收管理法|税务登记管理办法"),
        F("变更税务登记", kind="tax", days=(3, 30), law="^税收征收管理法|税务登记管理办法"),
        F("注销税务登记", kind="tax", days=(10, 30), law="^税收征收管理法|税务登记管理办法"),
        F("增值税一般纳税人资格认定", kind="tax", days=(10, 20),
          law="^增值税暂行条例|增值税一般纳税人申请认定办法"),
        F("增值税专用发票最高开票限额审批", kind="tax", days=(10, 20),
          law="国务院对确需保留的行政审批项目设定行政许可的决定|^发票管理办法"),
        F("发票领购簿核发", kind="tax", days=(3, 5), law="^发票管理办法"),
        F("增值税专用发票领购", kind="tax", days=(1, 5), law="^发票管理办法"),
        F("代开增值税专用发票", kind="tax", days=(1, 5), law="^发票管理办法"),
        F("延期申报核准", kind="tax", days=(5, 20), law="^税收征收管理法|^税收征收管理法实施细则"),
        F("延期缴纳税款核准", kind="tax", days=(10, 20),
          law="^税收征收管理法|^税收征收管理法实施细则"),
        F("减免税审批", kind="tax", days=(15, 20), law="^税收征收管理法|税收减免管理办法（试行）"),
        F("出口货物退（免）税认定", kind="tax", days=(5, 20),
          law="出口货物退（免）税管理办法（试行）"),
        F("出口货物退（免）税审批", kind="tax", days=(15, 20),
          law="出口货物退（免）税管理办法（试行）"),
        F("外出经营活动税收管理证明开具", kind="tax", days=(1, 5), law="税务登记管理办法"),
        F("纳税申报（网上申报）", kind="tax", days=(1, 1), law="^税收征收管理法"),
        F("企业所得税汇算清缴申报", kind="tax", days=(1, 1), law="^企业所得税法"),
    ),
    "dishui": (
        F("设立税务登记", kind="tax", days=(3, 30), law="^税收征收管理法|税务登记管理办法"),
        F("变更税务登记", kind="tax", days=(3, 30), law="^税收征收管理法|税务登记管理办法"),
        F("注销税务登记", kind="tax", days=(10, 30), law="^税收征收管理法|税务登记管理办法"),
        F("发票领购簿核发", kind="tax", days=(3, 5), law="^发票管理办法"),
        F("普通发票领购", kind="tax", days=(1, 5), law="^发票管理办法"),
        F("代开普通发票", kind="tax", days=(1, 5), law="^发票管理办法"),
        F("延期申报核准", kind="tax", days=(5, 20), law="^税收征收管理法|^税收征收管理法实施细则"),
        F("延期缴纳税款核准", kind="tax", days=(10, 20),
          law="^税收征收管理法|^税收征收管理法实施细则"),
        F("营业税减免税审批", kind="tax", days=(15, 20),
          law="^营业税暂行条例|税收减免管理办法（试行）"),
        F("个人所得税自行纳税申报", kind="tax", days=(1, 1),
          law="^个人所得税法|个人所得税自行纳税申报办法（试行）"),
        F("个人所得税完税证明开具", kind="person", days=(1, 5), law="^个人所得税法"),
        F("社会保险费缴费登记", kind="tax", days=(3, 10), sector="社会保障",
          law="社会保险费征缴暂行条例"),
        F("社会保险费申报缴纳", kind="tax", days=(1, 5), sector="社会保障",
          law="社会保险费征缴暂行条例"),
        F("房产税、城镇土地使用税减免审批", kind="tax", days=(15, 20),
          law="^房产税暂行条例|^城镇土地使用税暂行条例"),
        F("契税纳税申报", kind="tax", days=(1, 1), law="^契税暂行条例"),
        F("土地增值税清算审核", kind="tax", days=(20, 90), law="^土地增值税暂行条例"),
    ),
    "jsj": (
        F("建筑工程施工许可证核发", kind="project", days=(7, 15),
          law="^建筑法|建筑工程施工许可管理办法"),
        F("建筑工程施工许可证变更", kind="project", days=(5, 15),
          law="^建筑法|建筑工程施工许可管理办法"),
        F("房屋建筑工程建设项目联合审批", kind="project",
          route=_proc("ghj", "gtj", "jsj+xfzd+hbj", days=(10, 10, 10)),
          law="^城乡规划法|^土地管理法|^建筑法|^消防法|^环境影响评价法"),
        F("工业项目建设联合审批", kind="project",
          route=_proc("fgj+ghj", "gtj+hbj", "jsj+xfzd+ajj", days=(5, 10, 10)),
          law="国务院关于投资体制改革的决定|^城乡规划法|^土地管理法|^建筑法|^安全生产法"),
        F("建设工程竣工联合验收", kind="project",
          route=_proc("ghj+xfzd+hbj", "jsj", days=(10, 5)),
          law="建设工程质量管理条例|^城乡规划法|^消防法|建设项目环境保护管理条例"),
        F("建设工程竣工验收备案", kind="project", days=(5, 15),
          law="建设工程质量管理条例|房屋建筑和市政基础设施工程竣工验收备案管理办法"),
        F("建筑业企业资质核准（首次申请）", days=(15, 20), law="^建筑法|建筑业企业资质管理规定"),
        F("建筑业企业资质升级", days=(15, 20), law="^建筑法|建筑业企业资质管理规定"),
        F("建筑业企业资质延续", days=(15, 20), law="^建筑法|建筑业企业资质管理规定"),
        F("工程监理企业资质核准", days=(15, 20),
          law="建设工程质量管理条例|工程监理企业资质管理规定"),
        F("房地产开发企业资质", "核定/延续", days=(15, 20),
          law="城市房地产开发经营管理条例|房地产开发企业资质管理规定"),
        F("工程造价咨询企业资质核准", days=(15, 20), law="工程造价咨询企业管理办法"),
        F("建设工程质量监督注册", kind="project", days=(3, 5), law="建设工程质量管理条例"),
        F("建设工程安全监督备案", kind="project", days=(3, 5), law="建设工程安全生产管理条例"),
        F("施工图设计文件审查备案", kind="project", days=(5, 10),
          law="建设工程勘察设计管理条例|房屋建筑和市政基础设施工程施工图设计文件审查管理办法"),
        F("建设工程招标文件备案", kind="project", days=(3, 5),
          law="^招标投标法|房屋建筑和市政基础设施工程施工招标投标管理办法"),
        F("建设工程中标结果备案", kind="project", days=(3, 15),
          law="^招标投标法|房屋建筑和市政基础设施工程施工招标投标管理办法"),
        F("建筑施工企业安全生产许可证初审", days=(10, 20),
          law="安全生产许可证条例|建筑施工企业安全生产许可证管理规定"),
        F("燃气经营许可证核发", kind="premises", route=_lead("xfzd", "ajj", days=5, decide=10),
          law="城市燃气管理办法"),
        F("建筑起重机械使用登记", days=(5, 7),
          law="特种设备安全监察条例|建筑起重机械安全监督管理规定"),
        F("建设工程施工合同备案", kind="project", days=(3, 7), law="^建筑法|^合同法"),
        F("建设工程档案报送", kind="project", days=(5, 10), law="城市建设档案管理规定"),
        F("工程建设项目报建", kind="project", days=(3, 5), law="^建筑法|工程建设项目报建管理办法"),
    ),
    "ghj": (
        F("建设项目选址意见书核发", kind="project", days=(15, 20), law="^城乡规划法"),
        F("建设用地规划许可证核发", kind="project", days=(15, 20), law="^城乡规划法"),
        F("建设工程规划许可证核发", kind="project", days=(15, 20), law="^城乡规划法"),
        F("建设工程规划许可证变更", kind="project", days=(10, 20), law="^城乡规划法"),
        F("临时建设工程规划许可", kind="project", days=(10, 20), law="^城乡规划法"),
        F("乡村建设规划许可证核发", kind="project", who="both", days=(15, 20),
          law="^城乡规划法"),
        F("建设工程规划条件核实", kind="project", days=(10, 20), law="^城乡规划法"),
        F("建筑工程设计方案审查", kind="project", days=(15, 20), law="^城乡规划法"),
        F("修建性详细规划审查", kind="project", days=(15, 20), law="^城乡规划法"),
        F("规划设计条件核定", kind="project", days=(10, 20), law="^城乡规划法"),
        F("市政管线工程规划许可", kind="project", days=(10, 20), law="^城乡规划法"),
        F("建设工程放线验线", kind="project", days=(3, 5), law="^城乡规划法"),
        F("历史文化街区建设活动规划审查", kind="project", days=(15, 20),
          law="^城乡规划法|^文物保护法"),
        F("户外广告设施设置规划审查", days=(10, 20), law="^城乡规划法"),
    ),
    "gtj": (
        F("建设项目用地预审", kind="project", route=_lead("ghj", days=5, decide=10),
          law="^土地管理法|建设项目用地预审管理办法"),
        F("建设用地审批（农用地转用和土地征收）", kind="project", days=(15, 20),
          law="^土地管理法|^土地管理法实施条例"),
        F("国有建设用地使用权划拨审批", kind="project", days=(15, 20),
          law="^土地管理法|^城市房地产管理法"),
        F("划拨土地使用权转让审批", days=(15, 20),
          law="^城镇国有土地使用权出让和转让暂行条例"),
        F("临时用地审批", kind="project", days=(10, 20), law="^土地管理法"),
        F("国有土地使用权初始登记", who="both", days=(15, 20), law="^物权法|土地登记办法"),
        F("土地使用权变更登记", who="both", days=(15, 20), law="^物权法|土地登记办法"),
        F("土地他项权利（抵押）登记", who="both", days=(5, 20), law="^物权法|土地登记办法"),
        F("土地注销登记", who="both", days=(10, 20), law="土地登记办法"),
        F("集体土地使用权登记", who="both", days=(15, 20), law="^土地管理法|土地登记办法"),
        F("农村村民宅基地审批", kind="person", days=(15, 20), law="^土地管理法"),
        F("采矿许可证核发（新立）", route=_lead("hbj", "ajj", "lyj", days=10, decide=10),
          law="^矿产资源法|矿产资源开采登记管理办法"),
        F("采矿许可证", "延续/变更", days=(15, 40), law="^矿产资源法|矿产资源开采登记管理办法"),
        F("地质灾害危险性评估备案", kind="project", days=(5, 10), law="地质灾害防治条例"),
        F("土地复垦方案审查", kind="project", days=(15, 20), law="土地复垦规定"),
        F("建设项目压覆矿产资源审批", kind="project", days=(15, 20), law="^矿产资源法"),
    ),
    "xfzd": (
        F("建设工程消防设计审核", kind="project", days=(10, 20),
          law="^消防法|建设工程消防监督管理规定"),
        F("建设工程消防验收", kind="project", days=(10, 20),
          law="^消防法|建设工程消防监督管理规定"),
        F("建设工程消防设计备案", kind="project", days=(5, 5),
          law="^消防法|建设工程消防监督管理规定"),
        F("建设工程竣工验收消防备案", kind="project", days=(5, 5),
          law="^消防法|建设工程消防监督管理规定"),
        F("公众聚集场所投入使用、营业前消防安全检查", kind="premises", days=(5, 10),
          law="^消防法|消防监督检查规定"),
        F("大型群众性活动消防安全检查", days=(3, 10), law="^消防法|大型群众性活动安全管理条例"),
        F("装修工程消防设计审核", kind="project", days=(10, 20),
          law="^消防法|建设工程消防监督管理规定"),
        F("消防安全重点单位备案", days=(5, 10),
          law="^消防法|机关、团体、企业、事业单位消防安全管理规定"),
        F("建筑消防设施检测备案", days=(5, 10), law="^消防法"),
        F("易燃易爆危险物品场所消防安全检查", kind="premises", days=(5, 10),
          law="^消防法|消防监督检查规定"),
    ),
    "hbj": (
        F("建设项目环境影响评价文件审批（报告书）", kind="project", days=(30, 60),
          law="^环境影响评价法|建设项目环境保护管理条例"),
        F("建设项目环境影响评价文件审批（报告表）", kind="project", days=(15, 30),
          law="^环境影响评价法|建设项目环境保护管理条例"),
        F("建设项目环境影响登记表备案", kind="project", days=(5, 15),
          law="^环境影响评价法|建设项目环境保护管理条例"),
        F("建设项目竣工环境保护验收", kind="project", days=(20, 30),
          law="建设项目环境保护管理条例|建设项目竣工环境保护验收管理办法"),
        F("建设项目试生产审批", kind="project", days=(15, 30), law="建设项目环境保护管理条例"),
        F("排放污染物许可证", "核发/延续", days=(15, 20),
          law="^水污染防治法|^大气污染防治法"),
        F("排污申报登记", days=(5, 10), law="^环境保护法|排放污染物申报登记管理规定"),
        F("危险废物经营许可证核发", days=(15, 20),
          law="^固体废物污染环境防治法|危险废物经营许可证管理办法"),
        F("危险废物转移联单审批", days=(5, 10),
          law="^固体废物污染环境防治法|危险废物转移联单管理办法"),
        F("辐射安全许可证初审", days=(10, 20), law="放射性同位素与射线装置安全和防护条例"),
        F("拆除或闲置污染防治设施审批", days=(10, 20), law="^水污染防治法|^大气污染防治法"),
        F("夜间施工审批", kind="project", days=(3, 5), law="^环境噪声污染防治法"),
    ),
    "wsj": (
        F("医疗机构设置审批", route=_lead("ghj", "hbj", days=10, decide=10),
          law="医疗机构管理条例|医疗机构管理条例实施细则"),
        F("医疗机构执业登记", days=(20, 45), law="医疗机构管理条例|医疗机构管理条例实施细则"),
        F("医疗机构执业登记变更", days=(15, 30), law="医疗机构管理条例|医疗机构管理条例实施细则"),
        F("医疗机构校验", days=(15, 30), law="医疗机构管理条例|医疗机构管理条例实施细则"),
        F("医师执业注册", kind="qualification", days=(15, 30),
          law="^执业医师法|医师执业注册暂行办法"),
        F("医师执业变更注册", kind="qualification", days=(15, 30),
          law="^执业医师法|医师执业注册暂行办法"),
        F("护士执业注册", kind="qualification", days=(15, 20),
          law="护士条例|护士执业注册管理办法"),
        F("护士执业变更注册", kind="qualification", days=(5, 7),
          law="护士条例|护士执业注册管理办法"),
        F("护士延续注册", kind="qualification", days=(15, 20),
          law="护士条例|护士执业注册管理办法"),
        F("公共场所卫生许可证", "核发/变更/延续", kind="premises", days=(15, 20),
          law="公共场所卫生管理条例|公共场所卫生管理条例实施细则"),
        F("食品卫生许可证", "核发/延续", kind="premises", days=(15, 20), sector="食品安全",
          law="^食品卫生法|食品卫生许可证管理办法"),
        F("生活饮用水供水单位卫生许可证核发", days=(15, 20),
          law="^传染病防治法|生活饮用水卫生监督管理办法"),
        F("放射诊疗许可", route=_lead("hbj", days=10, decide=10),
          law="放射诊疗管理规定|放射性同位素与射线装置安全和防护条例"),
        F("母婴保健技术服务执业许可", days=(15, 20), law="^母婴保健法|^母婴保健法实施办法"),
        F("消毒产品生产企业卫生许可初审", days=(10, 20), law="^传染病防治法|消毒管理办法"),
        F("出生医学证明签发", kind="person", days=(1, 5), law="^母婴保健法"),
        F("建设项目职业病危害预评价审核", kind="project", days=(20, 30), law="^职业病防治法"),
    ),
    "yjj": (
        F("药品经营许可证（零售）", "核发/变更/换证", kind="premises", days=(20, 30),
          law="^药品管理法|^药品管理法实施条例|药品经营许可证管理办法"),
        F("药品经营质量管理规范认证初审", days=(15, 20), law="^药品管理法|^药品管理法实施条例"),
        F("医疗器械经营企业许可证", "核发/变更/换证", kind="premises", days=(20, 30),
          law="医疗器械监督管理条例|医疗器械经营企业许可证管理办法"),
        F("餐饮服务许可证核发", kind="premises", sector="食品安全",
          route=_lead("xfzd", "hbj", days=5, decide=10),
          law="^食品安全法|餐饮服务许可管理办法"),
        F("餐饮服务许可证", "变更/延续", kind="premises", days=(10, 20), sector="食品安全",
          law="^食品安全法|餐饮服务许可管理办法"),
        F("保健食品广告审查初审", days=(5, 10), law="^广告法|^食品安全法"),
        F("药品广告审查初审", days=(5, 10), law="^广告法|^药品管理法|药品广告审查办法"),
        F("医疗机构制剂配制许可初审", days=(15, 30), law="^药品管理法|^药品管理法实施条例"),
        F("执业药师注册", kind="qualification", days=(15, 30), law="执业药师资格制度暂行规定"),
        F("麻醉药品和第一类精神药品购用印鉴卡核发", days=(15, 40),
          law="麻醉药品和精神药品管理条例"),
        F("第一类医疗器械产品注册", days=(20, 30),
          law="医疗器械监督管理条例|医疗器械注册管理办法"),
    ),
    "gaj": (
        F("户口迁入（投靠亲属）", kind="household", days=(10, 20), sector="户籍身份",
          law="^户口登记条例"),
        F("户口迁出", kind="household", days=(1, 5), sector="户籍身份", law="^户口登记条例"),
        F("出生登记", kind="household", days=(1, 5), sector="户籍身份", law="^户口登记条例"),
        F("居民身份证申领", kind="person", days=(20, 60), sector="户籍身份", fee=ID_CARD_FEE,
          law="^居民身份证法"),
        F("居民身份证换领、补领", kind="person", days=(20, 60), sector="户籍身份",
          fee=ID_CARD_FEE, law="^居民身份证法"),
        F("临时居民身份证申领", kind="person", days=(3, 3), sector="户籍身份",
          fee=("10", "临时居民身份证工本费每证10元"), law="^居民身份证法"),
        F("流动人员居住登记", kind="person", days=(3, 5), sector="户籍身份",
          law="广东省流动人员管理条例"),
        F("户籍证明开具", kind="person", days=(1, 3), sector="户籍身份", law="^户口登记条例"),
        F("姓名变更登记", kind="household", days=(10, 20), sector="户籍身份",
          law="^户口登记条例"),
        F("因私普通护照签发", kind="person", days=(15, 15), sector="出入境",
          fee=("200", "普通护照每本200元"), law="^护照法"),
        F("往来港澳通行证签发", kind="person", days=(15, 15), sector="出入境",
          fee=("100", "往来港澳通行证每证100元"),
          law="中国公民因私事往来香港地区或者澳门地区的暂行管理办法"),
        F("往来台湾通行证签发", kind="person", days=(15, 15), sector="出入境",
          law="中国公民往来台湾地区管理办法"),
        F("往来港澳通行证签注", kind="person", days=(10, 15), sector="出入境",
          law="中国公民因私事往来香港地区或者澳门地区的暂行管理办法"),
        F("机动车注册登记", kind="vehicle", days=(2, 2), sector="交通管理",
          fee=("125", "号牌工本费100元、行驶证工本费15元、登记证书工本费10元"),
          law="^道路交通安全法|机动车登记规定"),
        F("机动车转移登记", kind="vehicle", days=(1, 1), sector="交通管理",
          law="^道路交通安全法|机动车登记规定"),
        F("机动车变更登记", kind="vehicle", days=(1, 1), sector="交通管理",
          law="^道路交通安全法|机动车登记规定"),
        F("机动车抵押登记", kind="vehicle", days=(1, 1), sector="交通管理",
          law="^物权法|机动车登记规定"),
        F("机动车驾驶证申领", kind="qualification", days=(1, 1), sector="交通管理",
          fee=DRIVING_FEE, law="^道路交通安全法|机动车驾驶证申领和使用规定"),
        F("机动车驾驶证换证", kind="qualification", days=(1, 1), sector="交通管理",
          fee=DRIVING_FEE, law="^道路交通安全法|机动车驾驶证申领和使用规定"),
        F("旅馆业特种行业许可证核发", kind="premises",
          route=_lead("xfzd", "wsj", days=5, decide=10), law="旅馆业治安管理办法"),
        F("典当业特种行业许可证核发", kind="premises",
          route=_lead("jmj", "xfzd", days=5, decide=5), law="典当管理办法"),
        F("公章刻制审批", days=(3, 5), law="印铸刻字业暂行管理规则"),
        F("犬类登记", kind="person", days=(5, 10), law="^动物防疫法|^治安管理处罚法"),
        F("大型群众性活动安全许可", route=_lead("xfzd", days=5, decide=5),
          law="大型群众性活动安全管理条例"),
        F("保安服务公司设立许可初审", days=(15, 20),
          law="国务院对确需保留的行政审批项目设定行政许可的决定"),
        F("民用爆炸物品购买许可", days=(5, 5), law="民用爆炸物品安全管理条例"),
        F("烟花爆竹道路运输许可", days=(3, 3), law="烟花爆竹安全管理条例"),
        F("剧毒化学品购买凭证核发", days=(3, 3), law="危险化学品安全管理条例"),
    ),
    "whj": (
        F("娱乐场所经营许可证核发", kind="premises",
          route=_lead("gaj", "xfzd", days=5, decide=10), law="娱乐场所管理条例"),
        F("娱乐场所经营许可证变更", kind="premises", days=(10, 20), law="娱乐场所管理条例"),
        F("互联网上网服务营业场所经营许可", kind="premises",
          route=_lead("gaj", "xfzd", days=5, decide=10),
          law="互联网上网服务营业场所管理条例"),
        F("营业性演出许可证核发（文艺表演团体）", days=(15, 20), law="营业性演出管理条例"),
        F("营业性演出活动审批", route=_lead("gaj", "xfzd", days=3, decide=5),
          law="营业性演出管理条例|大型群众性活动安全管理条例"),
        F("音像制品零售单位设立审批", kind="premises", days=(15, 20), law="音像制品管理条例"),
        F("出版物零售单位设立审批", kind="premises", days=(15, 20),
          law="出版管理条例|出版物市场管理规定"),
        F("包装装潢印刷品印刷经营许可初审", days=(15, 20), law="印刷业管理条例"),
        F("其他印刷品印刷经营许可证核发", days=(15, 20), law="印刷业管理条例"),
        F("卫星电视广播地面接收设施安装许可", days=(15, 20),
          law="卫星电视广播地面接收设施管理规定"),
        F("有线电视站设立初审", days=(15, 20), law="广播电视管理条例"),
        F("文物保护单位建设控制地带内建设工程审批", kind="project", days=(15, 20),
          law="^文物保护法|^文物保护法实施条例"),
        F("电影放映单位设立审批", kind="premises", days=(15, 20), law="电影管理条例"),
        F("美术品经营单位备案", days=(5, 15), law="美术品经营管理办法"),
        F("广播电视节目制作经营许可初审", days=(15, 20),
          law="广播电视管理条例|广播电视节目制作经营管理规定"),
    ),
    "jtj": (
        F("道路旅客运输经营许可", days=(15, 20),
          law="^道路运输条例|道路旅客运输及客运站管理规定"),
        F("道路货物运输经营许可", days=(15, 20),
          law="^道路运输条例|道路货物运输及站场管理规定"),
        F("道路旅客运输班线经营许可", days=(15, 20),
          law="^道路运输条例|道路旅客运输及客运站管理规定"),
        F("出租汽车经营许可", days=(15, 20),
          law="国务院对确需保留的行政审批项目设定行政许可的决定"),
        F("机动车维修经营许可", kind="premises", days=(15, 20),
          law="^道路运输条例|机动车维修管理规定"),
        F("机动车驾驶员培训许可", days=(15, 20),
          law="^道路运输条例|机动车驾驶员培训管理规定"),
        F("道路运输从业人员从业资格证核发", kind="qualification", days=(10, 20),
          law="^道路运输条例|道路运输从业人员管理规定"),
        F("道路运输证核发", kind="vehicle", days=(3, 10), law="^道路运输条例"),
        F("道路危险货物运输许可", route=_lead("ajj", "gaj", days=5, decide=10),
          law="^道路运输条例|危险化学品安全管理条例|道路危险货物运输管理规定"),
        F("客运站经营许可", kind="premises", route=_lead("ghj", "xfzd", days=5, decide=10),
          law="^道路运输条例|道路旅客运输及客运站管理规定"),
        F("公路超限运输许可", kind="vehicle", days=(3, 15),
          law="^公路法|超限运输车辆行驶公路管理规定"),
        F("占用、挖掘公路许可", kind="project", days=(10, 20), law="^公路法"),
        F("公路用地范围内设置非公路标志许可", days=(10, 20), law="^公路法"),
        F("水路运输经营许可", days=(15, 20), law="^水路运输管理条例"),
        F("船舶营业运输证核发", days=(10, 20), law="^水路运输管理条例"),
        F("港口经营许可", days=(20, 30), law="^港口法|港口经营管理规定"),
    ),
    "fgj": (
        F("企业投资项目核准", kind="project",
          route=_lead("ghj", "gtj", "hbj", days=10, decide=10),
          law="国务院关于投资体制改革的决定|企业投资项目核准暂行办法"),
        F("企业投资项目备案", kind="project", days=(5, 20),
          law="国务院关于投资体制改革的决定"),
        F("政府投资项目建议书审批", kind="project", days=(15, 20),
          law="国务院关于投资体制改革的决定"),
        F("政府投资项目可行性研究报告审批", kind="project",
          route=_lead("ghj", "gtj", "hbj", days=10, decide=10),
          law="国务院关于投资体制改革的决定"),
        F("政府投资项目初步设计及概算审批", kind="project", days=(15, 20),
          law="国务院关于投资体制改革的决定"),
        F("工程建设项目招标方案核准", kind="project", days=(5, 20),
          law="^招标投标法|工程建设项目招标范围和规模标准规定"),
        F("外商投资项目核准", kind="project", days=(15, 20), law="外商投资项目核准暂行管理办法"),
        F("固定资产投资项目节能评估和审查", kind="project", days=(15, 20), law="^节约能源法"),
        F("国家鼓励发展的内外资项目确认", kind="project", days=(15, 20),
          law="国务院关于调整进口设备税收政策的通知"),
        F("企业债券发行申报初审", days=(15, 20), law="企业债券管理条例"),
    ),
    "jmj": (
        F("成品油零售经营资格审核", kind="premises",
          route=_lead("ghj", "xfzd", "hbj", "ajj", days=10, decide=10), law="成品油市场管理办法"),
        F("生猪定点屠宰厂（场）设置审查", kind="premises",
          route=_lead("nyj", "hbj", days=10, decide=10), law="生猪屠宰管理条例"),
        F("酒类商品批发许可", days=(15, 20), law="酒类流通管理办法"),
        F("酒类商品零售许可", kind="premises", days=(10, 20), law="酒类流通管理办法"),
        F("拍卖企业设立初审", days=(15, 20), law="^拍卖法|拍卖管理办法"),
        F("典当行设立初审", days=(15, 20), law="典当管理办法"),
        F("报废汽车回收企业资格初审", days=(15, 20), law="报废汽车回收管理办法"),
        F("再生资源回收经营者备案", days=(5, 10), law="再生资源回收管理办法"),
        F("企业技术改造项目备案", kind="project", days=(5, 10),
          law="国务院关于投资体制改革的决定"),
        F("直销企业服务网点核查", days=(10, 20), law="直销管理条例"),
        F("成品油零售经营资格年检", kind="premises", days=(10, 20), law="成品油市场管理办法"),
    ),
    "wjmj": (
        F("外商投资企业设立审批", kind="company", route=_lead("fgj", "ghj", days=5, decide=10),
          law="^中外合资经营企业法|^中外合作经营企业法|^外资企业法"),
        F("外商投资企业变更审批", kind="company", days=(15, 30),
          law="^中外合资经营企业法|^外资企业法"),
        F("外商投资企业合同章程修改审批", kind="company", days=(15, 30),
          law="^中外合资经营企业法|^中外合作经营企业法"),
        F("外商投资企业终止审批", kind="company", days=(15, 30),
          law="^中外合资经营企业法|^外资企业法"),
        F("对外贸易经营者备案登记", days=(5, 5), law="^对外贸易法|对外贸易经营者备案登记办法"),
        F("加工贸易业务批准证核发", days=(5, 10), law="加工贸易审批管理暂行办法"),
        F("自动进口许可证申领初审", days=(5, 10), law="货物自动进口许可管理办法"),
        F("外商投资企业进口设备免税确认", days=(10, 20),
          law="国务院关于调整进口设备税收政策的通知"),
        F("对外经济技术合作企业资格初审", days=(15, 20), law="对外承包工程管理条例"),
        F("外商投资企业联合年检",
          route=_proc("wjmj+gsj+guoshui+dishui+czj+tjj", days=(15,)),
          law="外商投资企业联合年检实施方案"),
    ),
    "mzj": (
        F("结婚登记", kind="person", days=(1, 1), fee=MARRIAGE_FEE,
          law="^婚姻法|婚姻登记条例"),
        F("离婚登记", kind="person", days=(1, 1), fee=MARRIAGE_FEE, law="^婚姻法|婚姻登记条例"),
        F("补领婚姻登记证", kind="person", days=(1, 5), law="婚姻登记条例"),
        F("社会团体成立登记", days=(30, 60), law="社会团体登记管理条例"),
        F("社会团体", "变更登记/注销登记", days=(15, 30), law="社会团体登记管理条例"),
        F("民办非企业单位成立登记", days=(30, 60), law="民办非企业单位登记管理暂行条例"),
        F("养老机构设立许可", kind="premises", route=_lead("xfzd", "wsj", days=10, decide=10),
          law="社会福利机构管理暂行办法|^老年人权益保障法"),
        F("城市居民最低生活保障审批", kind="person", days=(20, 30),
          law="城市居民最低生活保障条例"),
        F("收养登记", kind="person", days=(20, 30), law="^收养法|中国公民收养子女登记办法"),
        F("殡葬服务单位设立审批", route=_lead("ghj", "hbj", days=10, decide=10),
          law="殡葬管理条例"),
        F("公墓建设审批", kind="project", route=_lead("gtj", "lyj", "ghj", days=10, decide=10),
          law="殡葬管理条例|公墓管理暂行办法"),
        F("地名命名、更名审批", days=(20, 30), law="地名管理条例"),
    ),
    "ldj": (
        F("劳动合同备案", days=(3, 5), law="^劳动合同法"),
        F("企业实行不定时工作制和综合计算工时工作制审批", days=(10, 20),
          law="^劳动法|关于企业实行不定时工作制和综合计算工时工作制的审批办法"),
        F("职业介绍机构设立许可", days=(15, 20), law="^就业促进法|就业服务与就业管理规定"),
        F("民办职业培训机构设立审批", route=_lead("xfzd", days=5, decide=10),
          law="^民办教育促进法|^劳动法"),
        F("社会保险登记", route=_proc("ldj", "dishui", days=(5, 3)), sector="社会保障",
          law="社会保险费征缴暂行条例|社会保险登记管理暂行办法"),
        F("社会保险登记变更", days=(5, 10), sector="社会保障",
          law="社会保险费征缴暂行条例|社会保险登记管理暂行办法"),
        F("基本养老保险待遇核定", kind="person", days=(15, 20), sector="社会保障",
          law="国务院关于完善企业职工基本养老保险制度的决定"),
        F("工伤认定", kind="person", days=(30, 60), sector="社会保障", law="工伤保险条例"),
        F("劳动能力鉴定", kind="person", days=(40, 60), sector="社会保障", law="工伤保险条例"),
        F("失业保险金申领", kind="person", days=(10, 15), sector="社会保障", law="失业保险条例"),
        F("失业登记", kind="person", days=(1, 5), law="^就业促进法|就业服务与就业管理规定"),
        F("职业技能鉴定报名", kind="qualification", days=(5, 10),
          law="^劳动法|职业技能鉴定规定"),
        F("外国人就业许可", days=(10, 15), law="外国人在中国就业管理规定"),
        F("台港澳人员就业证核发", days=(10, 15),
          law="台湾和香港、澳门居民在内地就业管理规定"),
        F("劳动争议仲裁申请", kind="person", days=(5, 5), law="^劳动争议调解仲裁法"),
    ),
    "rsj": (
        F("人才引进及入户", kind="household", route=_proc("rsj", "gaj", days=(10, 10)),
          law="^户口登记条例|人才市场管理规定"),
        F("高校毕业生就业报到", kind="person", days=(3, 5),
          law="普通高等学校毕业生就业工作暂行规定"),
        F("人事代理", who="both", days=(3, 5), law="人才市场管理规定"),
        F("专业技术资格评审申报", kind="qualification", days=(20, 30),
          law="关于实行专业技术职务聘任制度的规定"),
        F("事业单位公开招聘人员备案", days=(5, 10), law="事业单位公开招聘人员暂行规定"),
        F("外国专家来华工作许可", days=(10, 15),
          law="国务院对确需保留的行政审批项目设定行政许可的决定"),
        F("人才中介服务机构设立许可", days=(15, 20), law="人才市场管理规定"),
        F("留学回国人员身份确认", kind="person", days=(5, 10), law="人才市场管理规定"),
    ),
    "jyj": (
        F("民办学校设立审批", route=_lead("xfzd", "wsj", days=10, decide=20), days=(30, 90),
          law="^民办教育促进法|^民办教育促进法实施条例"),
        F("民办学校变更审批", days=(20, 90), law="^民办教育促进法|^民办教育促进法实施条例"),
        F("民办学校终止审批", days=(20, 90), law="^民办教育促进法|^民办教育促进法实施条例"),
        F("民办幼儿园设立审批", route=_lead("xfzd", "wsj", days=10, decide=10),
          law="幼儿园管理条例|^民办教育促进法"),
        F("教师资格认定", kind="qualification", days=(30, 30), law="^教师法|教师资格条例"),
        F("教师资格证书补发换发", kind="qualification", days=(15, 20), law="教师资格条例"),
        F("中小学生转学", kind="person", days=(5, 10), law="^义务教育法"),
        F("普通高中学历证明开具", kind="person", days=(3, 5), law="^教育法"),
        F("适龄儿童少年延缓入学审批", kind="person", days=(5, 10), law="^义务教育法"),
        F("中外合作办学项目初审", days=(20, 30), law="^中外合作办学条例"),
        F("非学历教育培训机构设立许可", days=(20, 30), law="^民办教育促进法"),
    ),
    "kjj": (
        F("高新技术企业认定初审", days=(15, 20), law="高新技术企业认定管理办法"),
        F("技术合同认定登记", days=(5, 10), law="技术合同认定登记管理办法"),
        F("科技计划项目申报", days=(20, 30), law="^科学技术进步法"),
        F("民营科技企业认定", days=(15, 20), law="^科学技术进步法"),
        F("科技成果登记", days=(5, 10), law="科技成果登记办法"),
        F("专利申请资助", who="both", days=(15, 20), law="^专利法"),
        F("科技型中小企业技术创新基金项目初审", days=(20, 30), law="^中小企业促进法"),
    ),
    "nyj": (
        F("农作物种子经营许可证核发", days=(15, 20), law="^种子法"),
        F("兽药经营许可证核发", days=(20, 30), law="兽药管理条例"),
        F("动物防疫条件合格证核发", days=(15, 20), law="^动物防疫法"),
        F("动物诊疗许可证核发", days=(15, 20), law="^动物防疫法|动物诊疗机构管理办法"),
        F("饲料添加剂预混合饲料生产许可证初审", days=(15, 20),
          law="饲料和饲料添加剂管理条例"),
        F("拖拉机驾驶证申领", kind="qualification", days=(5, 10),
          law="^道路交通安全法|拖拉机驾驶证申领和使用规定"),
        F("拖拉机登记", kind="vehicle", days=(2, 5), law="^道路交通安全法|拖拉机登记规定"),
        F("联合收割机登记", kind="vehicle", days=(2, 5),
          law="^农业机械化促进法|联合收割机及驾驶人安全监理规定"),
        F("农作物种子生产许可证核发", days=(15, 20), law="^种子法"),
        F("植物检疫证书签发", who="both", days=(3, 5), law="植物检疫条例"),
        F("无公害农产品产地认定", days=(20, 30), law="^农产品质量安全法|无公害农产品管理办法"),
        F("生鲜乳收购许可证核发", days=(15, 20), law="乳品质量安全监督管理条例"),
        F("动物检疫合格证明签发", who="both", days=(1, 3), law="^动物防疫法"),
    ),
    "lyj": (
        F("林木采伐许可证核发", who="both", days=(10, 20), law="^森林法|^森林法实施条例"),
        F("木材运输证核发", who="both", days=(3, 5), law="^森林法|^森林法实施条例"),
        F("林权登记", who="both", days=(20, 30), law="^森林法|^森林法实施条例"),
        F("使用林地审核", kind="project", days=(15, 20), law="^森林法实施条例"),
        F("野生动物驯养繁殖许可证核发", days=(15, 20),
          law="^野生动物保护法|^陆生野生动物保护实施条例"),
        F("野生动物经营利用许可", days=(15, 20),
          law="^野生动物保护法|^陆生野生动物保护实施条例"),
        F("森林植物检疫证书签发", who="both", days=(3, 5), law="植物检疫条例"),
        F("木材经营加工许可证核发", days=(15, 20), law="^森林法实施条例"),
        F("林木种子生产经营许可证核发", days=(15, 20), law="^种子法"),
    ),
    "hyj": (
        F("渔业捕捞许可证核发", who="both", days=(15, 20),
          law="^渔业法|渔业捕捞许可管理规定"),
        F("水域滩涂养殖证核发", who="both", days=(15, 20), law="^渔业法"),
        F("渔业船舶登记", who="both", days=(7, 20), law="^渔业法|渔业船舶登记办法"),
        F("水产苗种生产许可证核发", days=(15, 20), law="^渔业法|水产苗种管理办法"),
        F("水生野生动物驯养繁殖许可", days=(15, 20),
          law="^野生动物保护法|^水生野生动物保护实施条例"),
        F("渔业船员证书核发", kind="qualification", days=(10, 20), law="^渔业法"),
        F("海域使用权审批初审", kind="project", days=(15, 20), law="^海域使用管理法"),
        F("渔港内新建改建设施审批", kind="project", route=_lead("hbj", "jtj", days=5, decide=10),
          law="^渔港水域交通安全管理条例"),
        F("渔业水域爆破施工审批", kind="project", days=(10, 20), law="^渔业法实施细则"),
    ),
    "swj": (
        F("取水许可", days=(20, 45), law="^水法|取水许可和水资源费征收管理条例"),
        F("取水许可延续", days=(15, 45), law="^水法|取水许可和水资源费征收管理条例"),
        F("河道管理范围内建设项目审批", kind="project",
          route=_lead("ghj", days=5, decide=15), law="^水法|^防洪法|^河道管理条例"),
        F("水土保持方案审批", kind="project", days=(15, 20), law="^水土保持法"),
        F("城市排水许可证核发", days=(15, 20), law="城市排水许可管理办法"),
        F("二次供水设施审批", kind="project", days=(10, 20), law="城市供水条例"),
        F("河道采砂许可", days=(15, 20), law="^河道管理条例"),
        F("洪水影响评价审批", kind="project", days=(15, 20), law="^防洪法"),
        F("水利工程开工审批", kind="project", days=(15, 20), law="^水法"),
        F("建设项目水资源论证报告书审查", kind="project", days=(15, 20),
          law="建设项目水资源论证管理办法"),
        F("用水报装", who="both", days=(5, 10), law="城市供水条例"),
    ),
    "ajj": (
        F("危险化学品经营许可证核发", route=_lead("xfzd", "gaj", days=5, decide=10),
          law="危险化学品安全管理条例|危险化学品经营许可证管理办法"),
        F("危险化学品经营许可证换证", days=(15, 30),
          law="危险化学品安全管理条例|危险化学品经营许可证管理办法"),
        F("烟花爆竹经营（零售）许可证核发", kind="premises",
          route=_lead("xfzd", "gaj", days=5, decide=10),
          law="烟花爆竹安全管理条例|烟花爆竹经营许可实施办法"),
        F("烟花爆竹经营（批发）许可初审", days=(15, 30),
          law="烟花爆竹安全管理条例|烟花爆竹经营许可实施办法"),
        F("非药品类易制毒化学品经营备案", days=(3, 5), law="易制毒化学品管理条例"),
        F("建设项目安全设施设计审查", kind="project", days=(15, 20), law="^安全生产法"),
        F("建设项目安全设施竣工验收", kind="project", days=(15, 20), law="^安全生产法"),
        F("特种作业人员操作证核发", kind="qualification", days=(10, 20),
          law="^安全生产法|特种作业人员安全技术培训考核管理规定"),
        F("主要负责人和安全生产管理人员安全资格证核发", kind="qualification", days=(10, 20),
          law="^安全生产法"),
        F("非煤矿山企业安全生产许可证初审", days=(15, 45),
          law="安全生产许可证条例|非煤矿矿山企业安全生产许可证实施办法"),
        F("生产安全事故应急预案备案", days=(5, 10), law="^安全生产法"),
    ),
    "cgj": (
        F("城市道路挖掘许可", kind="project", route=_par("gaj", days=5),
          law="城市道路管理条例|^道路交通安全法"),
        F("临时占用城市道路许可", route=_par("gaj", days=3),
          law="城市道路管理条例|^道路交通安全法"),
        F("户外广告设置许可", route=_par("gsj", days=5),
          law="城市市容和环境卫生管理条例|^广告法"),
        F("城市建筑垃圾处置核准", days=(10, 20), law="城市建筑垃圾管理规定"),
        F("城市生活垃圾经营性清扫、收集、运输许可", days=(15, 20), law="城市生活垃圾管理办法"),
        F("砍伐城市树木审批", who="both", days=(10, 20), law="城市绿化条例"),
        F("临时占用城市绿地审批", days=(10, 20), law="城市绿化条例"),
        F("临时摆卖摊点设置许可", kind="person", days=(5, 10),
          law="城市市容和环境卫生管理条例"),
        F("环境卫生设施拆除迁移审批", days=(10, 20), law="城市市容和环境卫生管理条例"),
    ),
    "fcj": (
        F("房屋所有权初始登记", who="both", days=(15, 30), fee=HOUSE_FEE,
          law="^物权法|房屋登记办法"),
        F("房屋所有权转移登记", who="both", days=(15, 30), fee=HOUSE_FEE,
          law="^物权法|房屋登记办法"),
        F("房屋抵押登记", who="both", days=(5, 30), fee=HOUSE_FEE, law="^物权法|房屋登记办法"),
        F("房屋所有权变更登记", who="both", days=(10, 30), fee=HOUSE_FEE,
          law="^物权法|房屋登记办法"),
        F("房屋所有权注销登记", who="both", days=(10, 30), law="^物权法|房屋登记办法"),
        F("房屋预告登记", who="both", days=(5, 30), law="^物权法|房屋登记办法"),
        F("商品房预售许可证核发", kind="project", route=_lead("jsj", "ghj", days=5, decide=5),
          law="^城市房地产管理法|城市商品房预售管理办法"),
        F("商品房买卖合同备案", who="both", days=(3, 5), law="城市商品房预售管理办法"),
        F("房屋租赁登记备案", who="both", days=(3, 5), law="城市房屋租赁管理办法"),
        F("物业服务企业资质核定", days=(15, 20), law="物业管理条例|物业服务企业资质管理办法"),
        F("城市房屋拆迁许可证核发", kind="project",
          route=_lead("ghj", "gtj", days=5, decide=10), law="城市房屋拆迁管理条例"),
        F("房屋权属证明开具", who="both", days=(1, 3), law="房屋登记办法"),
    ),
    # -- departments not (yet) online ------------------------------------------------------------
    "sfj": (
        F("律师执业许可初审", kind="qualification", days=(15, 20), law="^律师法"),
        F("律师事务所设立初审", days=(15, 20), law="^律师法|律师事务所管理办法"),
        F("基层法律服务工作者执业核准", kind="qualification", days=(15, 20),
          law="基层法律服务工作者管理办法"),
        F("基层法律服务所设立核准", days=(15, 20), law="基层法律服务所管理办法"),
        F("公证书办理", kind="person", days=(15, 15), law="^公证法",
          fee=(None, "按公证事项，依照省价格主管部门核定的公证服务收费标准收取")),
        F("法律援助申请", kind="person", days=(7, 7), law="法律援助条例"),
        F("司法鉴定机构设立初审", days=(15, 20),
          law="全国人民代表大会常务委员会关于司法鉴定管理问题的决定|司法鉴定机构登记管理办法"),
        F("司法鉴定人执业登记初审", kind="qualification", days=(15, 20),
          law="司法鉴定人登记管理办法"),
    ),
    "czj": (
        F("代理记账机构设立审批", days=(15, 20), law="^会计法|代理记账管理办法"),
        F("会计从业资格证书核发", kind="qualification", days=(10, 20),
          law="^会计法|会计从业资格管理办法"),
        F("会计从业资格调转登记", kind="qualification", days=(3, 5),
          law="^会计法|会计从业资格管理办法"),
        F("政府采购供应商注册", days=(5, 10), law="^政府采购法"),
        F("行政事业单位国有资产处置审批", days=(15, 20), law="行政事业单位国有资产管理办法"),
        F("财政票据领购", days=(3, 5), law="^会计法"),
    ),
    "rkjsj": (
        F("生育服务证核发", kind="person", days=(5, 15),
          law="^人口与计划生育法|广东省人口与计划生育条例"),
        F("再生育一个子女审批", kind="person", days=(20, 30),
          law="^人口与计划生育法|广东省人口与计划生育条例"),
        F("流动人口婚育证明核发", kind="person", days=(3, 5),
          law="流动人口计划生育工作管理办法"),
        F("独生子女父母光荣证核发", kind="person", days=(5, 15),
          law="^人口与计划生育法|广东省人口与计划生育条例"),
        F("计划生育技术服务机构执业许可", days=(20, 30), law="计划生育技术服务管理条例"),
        F("农村部分计划生育家庭奖励扶助资格确认", kind="person", days=(20, 30),
          law="^人口与计划生育法"),
    ),
    "sjj": (
        F("内部审计机构备案", days=(5, 10), law="^审计法|审计署关于内部审计工作的规定"),
        F("建设项目竣工决算审计申请", kind="project", days=(20, 30), law="^审计法"),
    ),
    "tyj": (
        F("高危险性体育项目经营许可", kind="premises", days=(15, 20), law="^体育法"),
        F("体育类社会团体成立审查", days=(15, 20), law="^体育法|社会团体登记管理条例"),
        F("社会体育指导员技术等级审批", kind="qualification", days=(15, 20),
          law="^体育法|社会体育指导员技术等级制度"),
        F("体育竞赛活动审批", days=(10, 20), law="^体育法"),
    ),
    "tjj": (
        F("涉外社会调查项目审批初审", days=(10, 20), law="^统计法|涉外调查管理办法"),
        F("统计调查项目审批", days=(15, 20), law="^统计法"),
        F("统计从业资格认定", kind="qualification", days=(15, 20), law="^统计法"),
    ),
    "wjj": (
        F("经营服务性收费标准审批", days=(20, 30), law="^价格法"),
        F("收费许可证核发", days=(10, 20), law="^价格法|收费许可证管理办法"),
        F("收费许可证年审", days=(10, 20), law="收费许可证管理办法"),
        F("收费许可证变更", days=(10, 20), law="收费许可证管理办法"),
        F("涉案财产价格鉴定", days=(7, 20), law="^价格法|扣押、追缴、没收物品估价管理办法"),
        F("政府定价商品价格调整申请", days=(30, 60), law="^价格法|政府制定价格行为规则"),
    ),
    "lvyj": (
        F("旅行社设立许可", days=(20, 20), law="旅行社条例"),
        F("旅行社变更备案", days=(5, 10), law="旅行社条例"),
        F("导游证核发", kind="qualification", days=(15, 15), law="导游人员管理条例"),
        F("导游证换发", kind="qualification", days=(10, 15), law="导游人员管理条例"),
        F("星级饭店评定初审", days=(20, 30), law="旅游饭店星级的划分与评定"),
        F("旅行社分社备案", days=(5, 10), law="旅行社条例"),
    ),
    "qxj": (
        F("防雷装置设计审核", kind="project", days=(10, 20), law="^气象法|防雷减灾管理办法"),
        F("防雷装置竣工验收", kind="project", days=(10, 20), law="^气象法|防雷减灾管理办法"),
        F("施放气球活动审批", days=(5, 5), law="施放气球管理办法"),
        F("施放气球单位资质认定初审", days=(15, 20), law="施放气球管理办法"),
        F("气象探测环境保护范围内建设项目审批", kind="project", days=(15, 20),
          law="^气象法|气象探测环境和设施保护办法"),
    ),
    "mzzj": (
        F("宗教活动场所设立审批", days=(30, 30),
          law="宗教事务条例|宗教活动场所设立审批和登记办法"),
        F("宗教活动场所登记", days=(30, 30), law="宗教事务条例|宗教活动场所设立审批和登记办法"),
        F("宗教教职人员备案", days=(20, 30), law="宗教事务条例|宗教教职人员备案办法"),
        F("宗教临时活动地点审批", days=(15, 20), law="宗教事务条例"),
        F("大型宗教活动审批", days=(15, 20), law="宗教事务条例"),
    ),
    "wqj": (
        F("因公出国（境）审批", who="both", days=(10, 20), law="^护照法"),
        F("邀请外国人来华审批", days=(10, 20), law="^外国人入境出境管理法"),
        F("华侨身份确认", kind="person", days=(10, 20), law="^归侨侨眷权益保护法"),
        F("归侨侨眷身份确认", kind="person", days=(10, 20), law="^归侨侨眷权益保护法"),
    ),
    "rfb": (
        F("防空地下室建设审批", kind="project", days=(10, 20)),
        F("防空地下室易地建设审批", kind="project", days=(10, 20),
          fee=(None, "按本省规定的防空地下室易地建设费标准计收")),
        F("人防工程竣工验收备案", kind="project", days=(10, 15)),
        F("人防工程拆除审批", kind="project", days=(15, 20)),
        F("人防工程平时使用许可", days=(15, 20)),
    ),
    "gjj": (
        F("住房公积金缴存登记", days=(5, 20), law="住房公积金管理条例"),
        F("住房公积金提取", kind="person", days=(3, 3), law="住房公积金管理条例"),
        F("住房公积金个人住房贷款", kind="person", days=(15, 15), law="住房公积金管理条例"),
        F("缓缴住房公积金审批", days=(10, 20), law="住房公积金管理条例"),
        F("住房公积金转移", kind="person", days=(5, 10), law="住房公积金管理条例"),
    ),
    "daj": (
        F("档案出境审批", days=(15, 20), law="^档案法|^档案法实施办法"),
        F("档案查阅利用", kind="person", days=(3, 5), law="^档案法"),
        F("建设项目档案验收", kind="project", days=(15, 20),
          law="^档案法|重大建设项目档案验收办法"),
    ),
    "dzj": (
        F("建设工程地震安全性评价审定", kind="project", days=(15, 20),
          law="^防震减灾法|地震安全性评价管理条例"),
        F("抗震设防要求确定", kind="project", days=(10, 20),
          law="^防震减灾法|地震安全性评价管理条例"),
        F("地震监测设施保护范围内建设审批", kind="project", days=(15, 20),
          law="^防震减灾法|地震监测管理条例"),
    ),
    "ycj": (
        F("烟草专卖零售许可证", "核发/变更/延续/停业", kind="premises", days=(15, 20)),
    ),
    "lsj": (
        F("粮食收购资格许可", days=(15, 20), law="粮食流通管理条例|粮食收购资格审核管理暂行办法"),
        F("粮食收购资格变更", days=(10, 20), law="粮食收购资格审核管理暂行办法"),
        F("粮食收购资格年度审核", days=(10, 20), law="粮食收购资格审核管理暂行办法"),
        F("粮油仓储单位备案", days=(5, 10), law="粮食流通管理条例"),
    ),
    "ywj": (
        F("食盐批发许可初审", days=(15, 20), law="食盐专营办法"),
        F("食盐零售许可", kind="premises", days=(10, 20), law="食盐专营办法|盐业管理条例"),
        F("工业盐准运证核发", days=(5, 10), law="盐业管理条例"),
    ),
    "cjrlh": (
        F("残疾人证核发", kind="person", days=(15, 20), law="^残疾人保障法"),
        F("残疾人证换发", kind="person", days=(10, 20), law="^残疾人保障法"),
        F("按比例安排残疾人就业审核", days=(10, 20), law="^残疾人保障法|残疾人就业条例"),
    ),
}
# fmt: on


# -- form kinds: schema, materials, applicants, payload limit -----------------------------------


def _text(title: str, max_length: int, min_length: int = 1) -> dict[str, Any]:
    return {"type": "string", "title": title, "minLength": min_length, "maxLength": max_length}


_AMOUNT = {"type": "string", "pattern": "^(0|[1-9][0-9]{0,14})(\\.[0-9]{1,2})?$"}
_AREA = {"type": "number", "exclusiveMinimum": 0, "maximum": 100000000}

_KIND_FIELDS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "name": (
        {
            "proposed_names": {
                "type": "array",
                "title": "拟申请的企业名称（按优先顺序）",
                "items": _text("企业名称", 50, 2),
                "minItems": 1,
                "maxItems": 5,
                "uniqueItems": True,
            },
            "industry": _text("行业表述", 50),
            "organization_form": {
                "type": "string",
                "title": "组织形式",
                "enum": [
                    "有限责任公司",
                    "股份有限公司",
                    "个人独资企业",
                    "合伙企业",
                    "农民专业合作社",
                    "其他",
                ],
            },
            "address": _text("住所所在地", 200),
            "registered_capital_yuan": {"title": "注册资本（元）", **_AMOUNT},
        },
        ("proposed_names", "industry", "organization_form"),
    ),
    "company": (
        {
            "company_name": _text("企业名称", 100, 2),
            "registered_capital_yuan": {"title": "注册资本（元）", **_AMOUNT},
            "address": _text("住所", 200),
            "legal_representative": _text("法定代表人（负责人）", 50),
            "business_scope": _text("经营范围", 2000),
            "name_approval_number": _text("名称预先核准文号", 50),
        },
        ("company_name", "address", "legal_representative", "business_scope"),
    ),
    "org": (
        {
            "organization_name": _text("单位名称", 100, 2),
            "address": _text("地址", 200),
            "contact_person": _text("联系人", 50),
            "description": _text("申请事项说明", 2000),
        },
        ("organization_name", "address", "description"),
    ),
    "premises": (
        {
            "business_name": _text("经营者名称（字号）", 100),
            "premises_address": _text("经营场所地址", 200),
            "floor_area_m2": {"title": "经营场所面积（平方米）", **_AREA},
            "business_scope": _text("经营项目", 1000),
            "legal_representative": _text("法定代表人或负责人", 50),
        },
        ("business_name", "premises_address", "floor_area_m2", "business_scope"),
    ),
    "project": (
        {
            "project_name": _text("项目名称", 200, 2),
            "location": _text("建设地点", 200),
            "total_investment_yuan": {"title": "总投资（元）", **_AMOUNT},
            "land_area_m2": {"title": "用地面积（平方米）", **_AREA},
            "floor_area_m2": {"title": "建筑面积（平方米）", **_AREA},
            "description": _text("建设内容及规模", 4000),
        },
        ("project_name", "location", "description"),
    ),
    "person": (
        {
            "reason": _text("申请事由", 1000),
            "address": _text("联系地址", 200),
        },
        ("reason",),
    ),
    "household": (
        {
            "reason": _text("申请事由", 1000),
            "current_address": _text("现户籍地址", 200),
            "target_address": _text("拟迁入（登记）地址", 200),
            "member_count": {"type": "integer", "title": "涉及人数", "minimum": 1, "maximum": 20},
        },
        ("reason", "current_address", "target_address"),
    ),
    "vehicle": (
        {
            "vin": {
                "type": "string",
                "title": "车辆识别代号（VIN）",
                "pattern": "^[A-HJ-NPR-Z0-9]{17}$",
            },
            "brand_model": _text("品牌型号", 100),
            "usage": {"type": "string", "title": "使用性质", "enum": ["非营运", "营运"]},
            "reason": _text("申请事由", 500),
        },
        ("vin", "brand_model", "usage"),
    ),
    "qualification": (
        {
            "qualification": _text("申请的资格或证件类别", 100),
            "education": _text("学历及专业", 100),
            "work_unit": _text("工作单位", 100),
            "address": _text("联系地址", 200),
        },
        ("qualification",),
    ),
    "tax": (
        {
            "taxpayer_name": _text("纳税人名称", 100),
            "tax_period": {
                "type": "string",
                "title": "所属期（年-月）",
                "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$",
            },
            "description": _text("申请事项说明", 2000),
        },
        ("taxpayer_name", "description"),
    ),
}

_M = tuple[str, str, bool, int, tuple[str, ...]]
_APPLICATION: _M = ("application", "申请表（申请人签名或盖章）", True, 10 * MIB, DOCS)
_KIND_MATERIALS: dict[str, tuple[_M, ...]] = {
    "name": (
        ("application", "企业名称预先核准申请书", True, 10 * MIB, DOCS),
        ("investor_ids", "全体投资人的主体资格证明或自然人身份证明", True, 10 * MIB, DOCS),
        ("authorization", "指定代表或者共同委托代理人的证明", True, 10 * MIB, DOCS),
    ),
    "company": (
        ("application", "登记申请书（法定代表人签署）", True, 10 * MIB, DOCS),
        ("articles", "企业章程或合伙协议", True, 10 * MIB, DOCS),
        ("name_notice", "企业名称预先核准通知书", True, 10 * MIB, DOCS),
        ("investor_ids", "投资人主体资格证明或自然人身份证明", True, 10 * MIB, DOCS),
        ("premises_proof", "住所使用证明（产权证明或租赁合同）", True, 10 * MIB, DOCS),
        ("capital_proof", "验资证明", False, 10 * MIB, DOCS),
        ("officer_docs", "法定代表人、董事、监事和经理的任职文件及身份证明", True, 10 * MIB, DOCS),
    ),
    "org": (
        _APPLICATION,
        ("licence", "营业执照或法人登记证书副本", True, 10 * MIB, DOCS),
        ("legal_rep_id", "法定代表人身份证明", True, 5 * MIB, DOCS),
        ("supporting", "其他相关证明材料", False, 20 * MIB, DOCS),
    ),
    "premises": (
        _APPLICATION,
        ("licence", "营业执照或企业名称预先核准通知书", True, 10 * MIB, DOCS),
        ("premises_proof", "经营场所使用证明（产权证明或租赁合同）", True, 10 * MIB, DOCS),
        ("floor_plan", "经营场所平面布局图", True, 20 * MIB, DOCS),
        ("legal_rep_id", "法定代表人或负责人身份证明", True, 5 * MIB, DOCS),
    ),
    "project": (
        _APPLICATION,
        ("approval", "项目审批、核准或备案文件", True, 10 * MIB, DOCS),
        ("land_docs", "建设用地批准文件或土地使用权证明", True, 10 * MIB, DOCS),
        ("drawings", "设计图纸及说明", True, 50 * MIB, DOCS),
        ("licence", "建设单位营业执照或法人证书", True, 10 * MIB, DOCS),
    ),
    "person": (
        _APPLICATION,
        ("id_card", "居民身份证", True, 5 * MIB, DOCS),
        ("household_register", "居民户口簿", False, 5 * MIB, DOCS),
        ("supporting", "其他相关证明材料", False, 10 * MIB, DOCS),
    ),
    "household": (
        _APPLICATION,
        ("id_card", "居民身份证", True, 5 * MIB, DOCS),
        ("household_register", "居民户口簿", True, 5 * MIB, DOCS),
        ("relation_proof", "亲属关系、出生或准予迁入证明", True, 10 * MIB, DOCS),
    ),
    "vehicle": (
        _APPLICATION,
        ("owner_id", "机动车所有人身份证明", True, 5 * MIB, DOCS),
        ("origin_proof", "机动车来历证明", True, 10 * MIB, DOCS),
        ("conformity", "机动车整车出厂合格证明或进口凭证", True, 10 * MIB, DOCS),
        ("insurance", "机动车交通事故责任强制保险凭证", True, 5 * MIB, DOCS),
    ),
    "qualification": (
        _APPLICATION,
        ("id_card", "居民身份证", True, 5 * MIB, DOCS),
        ("diploma", "学历证明", True, 5 * MIB, DOCS),
        ("certificate", "相关资格证书或考试合格证明", False, 5 * MIB, DOCS),
        ("photo", "近期一寸免冠彩色照片", True, 2 * MIB, PHOTO),
    ),
    "tax": (
        _APPLICATION,
        ("licence", "营业执照副本或其他核准执业证件", True, 10 * MIB, DOCS),
        ("tax_certificate", "税务登记证副本", False, 10 * MIB, DOCS),
        ("statements", "财务会计报表或相关资料", False, 20 * MIB, DOCS),
    ),
}

_KIND_APPLICANTS: dict[str, tuple[str, ...]] = {
    "name": ("person", "organization"),
    "company": ("person", "organization"),
    "org": ("organization",),
    "premises": ("person", "organization"),
    "project": ("organization",),
    "person": ("person",),
    "household": ("person",),
    "vehicle": ("person", "organization"),
    "qualification": ("person",),
    "tax": ("person", "organization"),
}
_WHO: dict[str, tuple[str, ...]] = {
    "person": ("person",),
    "organization": ("organization",),
    "both": ("person", "organization"),
}
# Company and project forms carry long texts (business scope, construction content).
_KIND_PAYLOAD: dict[str, int] = {"company": 131072, "project": 131072, "name": 131072}


def form_schema(kind: str, title: str) -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of the application form of an item of ``kind``."""
    properties, required = _KIND_FIELDS[kind]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "properties": properties,
        "required": list(required),
        # Unknown keys would be stored and shown to officers unchecked: refuse them.
        "additionalProperties": False,
    }


def _citation(law: str) -> str:
    title = "中华人民共和国" + law[1:] if law.startswith("^") else law
    return f"《{title}》"


_PERMIT = re.compile("许可|审批|核准|核发|审核|审查|登记")


def _legal_basis(family: _Family, department: str, name: str, routed: bool) -> tuple[str, ...]:
    laws = family.law or tuple(DEPT_LAW[department].split("|"))
    cited = [_citation(law) for law in laws]
    # Every licensing item, and every joint handling (第二十六条), also rests on the
    # Administrative Licensing Law.
    general = "《中华人民共和国行政许可法》"
    if (routed or _PERMIT.search(name)) and general not in cited:
        cited.append(general)
    return tuple(cited)


def _fee(family: _Family) -> Fee:
    if family.fee is None:
        return Fee.free()
    amount, basis = family.fee
    return Fee(None if amount is None else Decimal(amount), basis)


def _names(departments: Mapping[str, Department], codes: Sequence[str]) -> str:
    return "、".join(departments[code].name for code in codes)


def _procedure(
    routing: Routing, promised: int, online: bool, departments: Mapping[str, Department]
) -> tuple[str, ...]:
    if online:
        submit = "申请人登录网上办事大厅填写申请表、上传申请材料，使用数字证书签名后提交"
        deliver = "办理结果通过网上和短信告知，申请人可下载打印电子证照，或到窗口领取"
    else:
        submit = "申请人到市行政服务中心窗口提交申请材料（可先在网上办事大厅预审）"
        deliver = "申请人凭受理回执到窗口领取办理结果"
    correction = "材料齐全、符合法定形式的予以受理；需要补正的，一次性告知需要补正的全部内容"
    stages = routing.stages
    if routing.model is RoutingModel.SINGLE:
        dept = _names(departments, stages[0].departments)
        steps = [
            submit,
            f"{dept}受理：{correction}",
            f"{dept}审查，依法需要现场核查的进行现场核查",
            f"{dept}在{promised}个工作日内作出决定",
        ]
    elif routing.model is RoutingModel.PARALLEL:
        lead = _names(departments, stages[0].departments[:1])
        others = _names(departments, stages[0].departments[1:])
        steps = [
            submit,
            f"{lead}统一受理：{correction}",
            f"{lead}受理后网上转告{others}，各部门在{stages[0].working_days}个工作日内并联审批",
            f"各部门均审批通过后，由{lead}统一办结",
        ]
    elif routing.model is RoutingModel.LEAD:
        assert routing.decider is not None
        lead = departments[routing.decider].name
        steps = [
            submit,
            f"{lead}受理：{correction}",
            f"{_names(departments, stages[0].departments)}在{stages[0].working_days}"
            "个工作日内分别出具审查意见",
            f"{lead}综合各部门意见，在{routing.decider_days}个工作日内作出决定",
        ]
    else:
        # No department is primary here: the service hall, online or at the window, accepts.
        hall = "网上办事大厅" if online else "市行政服务中心"
        steps = [submit, f"{hall}统一受理：{correction}"]
        for number, stage in enumerate(stages, start=1):
            steps.append(
                f"第{number}环节：{_names(departments, stage.departments)}"
                f"在{stage.working_days}个工作日内审查"
            )
        steps.append("全部环节审查通过后办结")
    steps.append(deliver)
    return tuple(steps)


# -- generation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Draft:
    department: str
    sequence: int
    name: str
    family: _Family
    routing: Routing
    routed: bool


def _drafts(department: str) -> list[_Draft]:
    drafts: list[_Draft] = []
    for family in TABLE[department]:
        for position, variant in enumerate(family.variants):
            routed = family.route is not None and position == 0
            if routed:
                assert family.route is not None
                routing = family.route.build(department)
            else:
                routing = Routing.single(department, family.days[0])
            drafts.append(
                _Draft(department, len(drafts) + 1, family.base + variant, family, routing, routed)
            )
    return drafts


def build_items(departments: Sequence[Department]) -> tuple[ServiceItem, ...]:
    """Build the pilot catalog for ``departments`` (the registry of ``departments.json``)."""
    by_code = {dept.code: dept for dept in departments}
    items: list[ServiceItem] = []
    for dept in departments:
        quota = ONLINE_QUOTA.get(dept.code, 0) if dept.online else 0
        for draft in _drafts(dept.code):
            # A fully online item cannot wait for a department that still works on paper.
            eligible = all(by_code[code].online for code in draft.routing.departments())
            online = quota > 0 and eligible
            if online:
                quota -= 1
            items.append(_item(draft, online, by_code))
        if quota:
            raise ValueError(f"{dept.code}: 可在线事项不足，缺 {quota} 项")
    return tuple(items)


def _item(draft: _Draft, online: bool, departments: Mapping[str, Department]) -> ServiceItem:
    family = draft.family
    code = f"{REGION}-{draft.department}-{draft.sequence:04d}"
    if draft.routed:
        promised = draft.routing.working_days
        legal = max(JOINT_LEGAL_DAYS, family.days[1], promised)
    else:
        promised, legal = family.days
    applicants = _WHO[family.who] if family.who else _KIND_APPLICANTS[family.kind]
    return ServiceItem(
        code=code,
        version=VERSION,
        name=draft.name,
        department=draft.department,
        sector=family.sector or DEPT_SECTOR[draft.department],
        procedure=_procedure(draft.routing, promised, online, departments),
        materials=tuple(Material(*row) for row in _KIND_MATERIALS[family.kind]),
        promised_days=promised,
        legal_days=legal,
        fee=_fee(family),
        forms=(Form(f"{draft.name}申请表", f"/forms/{code}/application.doc"),),
        legal_basis=_legal_basis(family, draft.department, draft.name, draft.routed),
        online=online,
        applicant_kinds=applicants,
        routing=draft.routing,
        max_payload_bytes=_KIND_PAYLOAD.get(family.kind, 65536),
        form_schema=form_schema(family.kind, draft.name),
    )


def read_departments(path: Path = DEPARTMENTS_PATH) -> tuple[Department, ...]:
    """The department registry from ``path`` (defaults to the packaged file)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple(Department.from_dict(row) for row in data)


def render_services(departments: Sequence[Department] | None = None) -> bytes:
    """The bytes of ``data/services.json``: one item per line, UTF-8, stable across runs."""
    departments = tuple(departments) if departments is not None else read_departments()
    items = build_items(departments)
    check_catalog(departments, items)
    lines = [json.dumps(item.to_dict(), ensure_ascii=False) for item in items]
    return ("[\n" + ",\n".join(lines) + "\n]\n").encode("utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Write the generated catalog to ``data/services.json`` (or to the path given)."""
    args = list(sys.argv[1:] if argv is None else argv)
    target = Path(args[0]) if args else SERVICES_PATH
    target.write_bytes(render_services())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
