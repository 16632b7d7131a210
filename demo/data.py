"""The demo data set: Feixi County's low-efficiency land cases (亩均论英雄, 低效用地处置), and
a few projects of two other work streams (重点项目建设, 招商引资) run by the same method.

Everything is keyed by a stable name, code or username and written with get_or_create, so a
second load writes nothing. Node dates are laid out relative to the county's date on the day
of the first load, so the wall chart always shows completed, running, due-soon and overdue
nodes.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q

from core import clock
from organization.choices import CoverageTarget, Role, UnitKind
from organization.models import Coverage, RoleAssignment, Unit, User
from organization.selectors import system_user
from organization.services import role_assign
from projects.choices import CompletionSource, DisposalMethod, ProjectStatus
from projects.models import (
    DisposalLine,
    Enterprise,
    Node,
    NodeTemplate,
    NodeTemplateStep,
    ProgressReport,
    Project,
    WorkStream,
    land_stream_id,
)
from projects.services import node_progress_report
from projects.validators import USCC_ALPHABET, uscc_check_digit
from supervision.services import node_complete

DEMO_PASSWORD = "demo12345"
FEIXI_DIVISION = "340123"  # 肥西县's administrative division code (GB/T 2260)

TAKEBACK = DisposalMethod.TAKEBACK
GRAFTING = DisposalMethod.GRAFTING
SELF_UPGRADE = DisposalMethod.SELF_UPGRADE

# code → (name, (node owner names; the first one is the unit's demo staff account)).
DEPARTMENTS = {
    "zrj": ("县自然资源和规划局", ("陈涛", "刘芳")),
    "jxj": ("县经信局", ("吴磊", "许静")),
    "zjj": ("县住建局", ("马骏", "郑红")),
    "czj": ("县财政局", ("黄勇", "杨洁")),
    "tcz": ("县投资促进中心", ("朱斌", "何蕾")),
    "scj": ("县市场监管局", ("胡军", "高燕")),
    "fgw": ("县发展改革委", ("林峰", "罗敏")),
    "sthj": ("市生态环境局肥西分局", ("宋杰", "梁琳")),
    "swj": ("县税务局", ("谢伟", "韩梅")),
}

# code → (name, kind, (node owner names), name of its leader in charge of the land work).
LOCALITIES = {
    "shangpai": ("上派镇", UnitKind.TOWNSHIP, ("徐海波", "曹雪"), "钱志强"),
    "taohua": ("桃花镇", UnitKind.TOWNSHIP, ("彭程", "田甜"), "董立军"),
    "sanhe": ("三河镇", UnitKind.TOWNSHIP, ("袁野", "邓佳"), "汪春生"),
    "zipeng": ("紫蓬镇", UnitKind.TOWNSHIP, ("蒋涛", "唐慧"), "蔡明"),
    "huagang": ("花岗镇", UnitKind.TOWNSHIP, ("魏东", "薛敏"), "叶广林"),
    "guanting": ("官亭镇", UnitKind.TOWNSHIP, ("潘宇", "杜娟"), "程家旺"),
    "shannan": ("山南镇", UnitKind.TOWNSHIP, ("丁磊", "沈静"), "任国庆"),
    "yandian": ("严店乡", UnitKind.TOWNSHIP, ("姚远", "卢婷"), "姜海"),
    "fengle": ("丰乐镇", UnitKind.TOWNSHIP, ("傅强", "钟丽"), "崔永"),
    "mingchuan": ("铭传乡", UnitKind.TOWNSHIP, ("范伟", "石兰"), "秦峰"),
    "thgy": ("桃花工业园", UnitKind.PARK, ("方正", "金晶"), "戴宏斌"),
    "jkq": ("肥西经济开发区", UnitKind.PARK, ("夏晨", "陆洁"), "邱永军"),
    "xingang": ("新港工业园", UnitKind.PARK, ("贺鹏", "邹艳"), "熊建"),
}

# username → (full name, units in charge); county leaders also cover (包保) their localities.
COUNTY_LEADERS = {
    "leader_wang": ("王立新", ("zrj", "czj", "tcz", "shangpai", "taohua", "thgy", "yandian")),
    "leader_li": ("李国华", ("jxj", "scj", "fgw", "swj", "jkq", "sanhe", "zipeng", "fengle")),
    "leader_zhang": (
        "张建平",
        ("zjj", "sthj", "xingang", "huagang", "guanting", "shannan", "mingchuan"),
    ),
}


@dataclass(frozen=True)
class Step:
    """A usual step: its name, the department that does it (None: the locality), its day offset."""

    name: str
    unit: str | None
    offset: int


TAKEBACK_STEPS = (
    Step("摸底调查（权属、面积、地上附着物）", None, 10),
    Step("土地及地上附着物评估报告", "zrj", 30),
    Step("收回方案报县政府审批", "zrj", 45),
    Step("与企业协商谈判", None, 65),
    Step("签订土地收回协议", None, 80),
    Step("补偿款支付", "czj", 95),
    Step("土地收回（腾退交地）", None, 110),
    Step("不动产权证注销", "zrj", 125),
    Step("纳入储备并挂牌出让", "zrj", 160),
)
# Small parcels bought back by agreement skip the approval, the deregistration and the sale.
TAKEBACK_SHORT = tuple(TAKEBACK_STEPS[i] for i in (0, 1, 3, 4, 5, 6))
GRAFTING_STEPS = (
    Step("摸底调查（闲置厂房及资产状况）", None, 10),
    Step("资产评估报告", "zrj", 30),
    Step("招引意向企业", "tcz", 55),
    Step("三方协商谈判", None, 70),
    Step("签订嫁接盘活协议", None, 85),
    Step("新项目备案", "fgw", 100),
    Step("施工许可办理", "zjj", 120),
    Step("项目开工", None, 140),
)
SELF_UPGRADE_STEPS = (
    Step("亩均效益评价", "jxj", 10),
    Step("提升方案编制", None, 30),
    Step("技改项目备案", "jxj", 45),
    Step("规划设计方案审批", "zrj", 65),
    Step("施工许可办理", "zjj", 85),
    Step("项目开工", None, 100),
    Step("竣工验收", "zjj", 220),
)
GRAFTING_WITH_UPGRADE = GRAFTING_STEPS[:5] + (
    Step("扩建提升方案编制", None, 100),
    Step("技改项目备案", "jxj", 115),
    Step("施工许可办理", "zjj", 135),
    Step("项目开工", None, 150),
)
GRAFTING_WITH_TAKEBACK = (
    GRAFTING_STEPS[0],
    GRAFTING_STEPS[1],
    Step("签订部分土地收回协议", None, 50),
    Step("补偿款支付", "czj", 65),
    Step("收回部分不动产权证注销", "zrj", 80),
    Step("招引意向企业", "tcz", 95),
    Step("签订嫁接盘活协议", None, 110),
    Step("新项目备案", "fgw", 125),
    Step("项目开工", None, 150),
)

TEMPLATES = {
    "收储收回标准流程": ("低效用地收储收回：从摸底调查到挂牌出让。", TAKEBACK_STEPS),
    "嫁接盘活标准流程": ("闲置厂房嫁接盘活：引进新企业、签约、开工。", GRAFTING_STEPS),
    "自主提升标准流程": (
        "企业增资技改自主提升：评价、备案、审批、开工、验收。",
        SELF_UPGRADE_STEPS,
    ),
}


@dataclass(frozen=True)
class Case:
    """One demo project: its enterprise, disposal lines, steps and where it stands today.

    `current` is the index of the node being worked on (len(steps) when all are done), `due`
    the days from today to that node's due date (for a finished project, to the last one's),
    `late` marks a project whose last finished node was completed after its due date.
    """

    locality: str
    enterprise: str
    short: str
    lines: tuple[tuple[str, str], ...]
    steps: tuple[Step, ...]
    current: int
    due: int
    progress: int = 0
    late: bool = False
    stream: str = "land"  # a key of STREAMS; only the land stream's cases have lines
    title: str = ""  # the project's name, for the other streams' cases


def _tb(area: str) -> tuple[tuple[str, str], ...]:
    return ((TAKEBACK, area),)


T9, T8, T6 = TAKEBACK_STEPS, TAKEBACK_STEPS[:8], TAKEBACK_SHORT

# In code order: FXDX-001 … FXDX-039. The areas add up to the published table exactly.
CASES = (
    Case("thgy", "合肥宏远机械制造有限公司", "宏远机械", _tb("86.45"), T9, 5, 12, 40),
    Case(
        "thgy", "安徽瑞丰新材料科技有限公司", "瑞丰新材料", _tb("52.30"), T8, 4, -9, 60, late=True
    ),
    Case("thgy", "合肥金泰塑胶制品有限公司", "金泰塑胶", _tb("38.76"), T6, 6, -20),
    Case("thgy", "安徽华联包装科技有限公司", "华联包装", _tb("61.20"), T9, 2, 2, 80),
    Case(
        "thgy",
        "合肥众鑫电子科技有限公司",
        "众鑫电子",
        ((GRAFTING, "128.50"), (SELF_UPGRADE, "62.45")),
        GRAFTING_WITH_UPGRADE,
        5,
        18,
        30,
    ),
    Case("thgy", "安徽恒达新型建材有限公司", "恒达建材", _tb("24.88"), T8, 3, -3, 50),
    Case(
        "thgy",
        "合肥奥科精密铸造有限公司",
        "奥科铸造",
        ((SELF_UPGRADE, "108.76"),),
        SELF_UPGRADE_STEPS,
        4,
        25,
        20,
    ),
    Case("jkq", "合肥天宇汽车零部件有限公司", "天宇汽配", _tb("45.10"), T9, 6, 1, 85),
    Case("jkq", "安徽中晟环保设备有限公司", "中晟环保", _tb("73.62"), T9, 3, -12, 35, late=True),
    Case("jkq", "合肥德润食品有限公司", "德润食品", _tb("31.05"), T6, 3, 9, 45),
    Case(
        "jkq",
        "安徽佳和纺织有限公司",
        "佳和纺织",
        ((GRAFTING, "96.30"), (TAKEBACK, "41.66")),
        GRAFTING_WITH_TAKEBACK,
        4,
        -5,
        70,
    ),
    Case(
        "jkq",
        "合肥星辰光电科技有限公司",
        "星辰光电",
        ((SELF_UPGRADE, "131.27"),),
        SELF_UPGRADE_STEPS,
        5,
        3,
        75,
    ),
    Case("jkq", "安徽鼎丰钢结构工程有限公司", "鼎丰钢构", _tb("58.40"), T8, 5, 20, 25),
    Case("shangpai", "合肥上派宏达印务有限公司", "宏达印务", _tb("19.96"), T6, 4, 0, 90),
    Case("shangpai", "合肥派河家具制造有限公司", "派河家具", _tb("42.33"), T9, 4, -2, 55),
    Case("shangpai", "安徽鑫源电缆有限公司", "鑫源电缆", _tb("67.80"), T8, 8, -6),
    Case("shangpai", "合肥绿源生物科技有限公司", "绿源生物", _tb("35.27"), T8, 2, 14, 30),
    Case("taohua", "合肥桃花新型墙材有限公司", "桃花墙材", _tb("28.14"), T6, 2, -15, 40),
    Case("taohua", "合肥永信五金制品有限公司", "永信五金", _tb("54.69"), T9, 6, 5, 60),
    Case(
        "taohua",
        "安徽博远智能装备有限公司",
        "博远智能",
        ((GRAFTING, "115.20"),),
        GRAFTING_STEPS,
        6,
        10,
        50,
    ),
    Case("taohua", "合肥金桥物流有限公司", "金桥物流", _tb("49.02"), T8, 1, 7, 65),
    Case("xingang", "合肥港联仓储有限公司", "港联仓储", _tb("22.50"), T9, 7, -4, 80),
    Case("xingang", "安徽江淮木业有限公司", "江淮木业", _tb("77.35"), T9, 1, 21, 15),
    Case("xingang", "合肥恒通化工有限公司", "恒通化工", _tb("40.18"), T8, 2, -25, 20),
    Case(
        "xingang",
        "安徽聚能新能源科技有限公司",
        "聚能新能源",
        ((SELF_UPGRADE, "86.91"),),
        SELF_UPGRADE_STEPS,
        3,
        2,
        70,
    ),
    Case("sanhe", "合肥三河米业有限公司", "三河米业", _tb("33.91"), T8, 5, 30, 10),
    Case("sanhe", "肥西县古镇酿造有限公司", "古镇酿造", _tb("63.47"), T6, 6, -40),
    Case("zipeng", "合肥紫蓬山茶业有限公司", "紫蓬茶业", _tb("26.73"), T6, 3, 3, 60),
    Case("zipeng", "合肥圣泉饮品有限公司", "圣泉饮品", _tb("48.86"), T9, 4, 16, 35),
    Case("huagang", "合肥花岗建筑材料有限公司", "花岗建材", _tb("55.12"), T8, 4, -1, 65),
    Case("huagang", "安徽立达机电有限公司", "立达机电", _tb("30.44"), T9, 7, 8, 40),
    Case("huagang", "合肥丰泽农业机械有限公司", "丰泽农机", _tb("44.95"), T8, 3, 11, 55),
    Case("guanting", "合肥林海木业有限公司", "林海木业", _tb("69.08"), T9, 5, -10, 45),
    Case("guanting", "安徽润禾农产品加工有限公司", "润禾农产品", _tb("37.60"), T6, 2, 19, 25),
    Case("shannan", "合肥山南陶瓷有限公司", "山南陶瓷", _tb("21.37"), T6, 4, 4, 50),
    Case("shannan", "合肥兴旺禽业有限公司", "兴旺禽业", _tb("59.83"), T8, 6, 13, 30),
    Case("yandian", "肥西县严店新型砖瓦厂", "严店砖瓦", _tb("46.29"), T8, 3, -7, 60),
    Case("fengle", "合肥丰乐化纤有限公司", "丰乐化纤", _tb("34.58"), T9, 3, 6, 70),
    Case("mingchuan", "合肥铭传纸业有限公司", "铭传纸业", _tb("87.01"), T8, 2, 24, 20),
)


def project_code(index: int) -> str:
    return f"FXDX-{index + 1:03d}"


# The other work streams (专项): code → (name, order, project code prefix). The land stream
# (园区转型升级) is the one the migrations make; its cases above are left exactly as they are.
STREAMS = {
    "key-projects": ("重点项目建设", 2, "FXZD"),
    "investment": ("招商引资", 3, "FXZS"),
}

KEY_PROJECT_STEPS = (
    Step("项目立项（可研批复）", "fgw", 10),
    Step("用地预审与选址意见", "zrj", 25),
    Step("环境影响评价批复", "sthj", 40),
    Step("施工图审查", "zjj", 55),
    Step("施工许可办理", "zjj", 70),
    Step("项目开工", None, 85),
    Step("主体工程完工", None, 150),
)
INVESTMENT_STEPS = (
    Step("项目洽谈对接", "tcz", 10),
    Step("投资协议签订", None, 30),
    Step("企业注册落户", "scj", 45),
    Step("项目备案", "fgw", 60),
    Step("供地或厂房交付", "zrj", 90),
    Step("项目开工", None, 110),
)

# In code order per stream: FXZD-001 …, FXZS-001 …; no disposal lines (they are the land
# stream's), so the disposal table stays the published one.
STREAM_CASES = (
    Case(
        "jkq",
        "合肥新能汽车零部件产业园建设有限公司",
        "新能产业园",
        (),
        KEY_PROJECT_STEPS,
        4,
        -8,
        50,
        stream="key-projects",
        title="新能源汽车零部件产业园一期建设项目",
    ),
    Case(
        "shangpai",
        "合肥派河城市建设投资有限公司",
        "派河城投",
        (),
        KEY_PROJECT_STEPS,
        5,
        2,
        60,
        stream="key-projects",
        title="派河大道提升改造工程",
    ),
    Case(
        "sanhe",
        "安徽三河文旅发展有限公司",
        "三河文旅",
        (),
        KEY_PROJECT_STEPS,
        2,
        5,
        30,
        late=True,
        stream="key-projects",
        title="三河古镇游客服务中心建设项目",
    ),
    Case(
        "thgy",
        "安徽芯联半导体材料有限公司",
        "芯联半导体",
        (),
        INVESTMENT_STEPS,
        3,
        -3,
        70,
        stream="investment",
        title="芯联半导体材料生产基地招引项目",
    ),
    Case(
        "xingang",
        "合肥绿电储能科技有限公司",
        "绿电储能",
        (),
        INVESTMENT_STEPS,
        1,
        5,
        40,
        stream="investment",
        title="绿电储能电池项目招引落地",
    ),
    Case(
        "huagang",
        "安徽禾丰食品科技有限公司",
        "禾丰食品",
        (),
        INVESTMENT_STEPS,
        6,
        -10,
        stream="investment",
        title="禾丰预制菜加工基地招引项目",
    ),
)


def stream_project_codes() -> list[str]:
    """The codes of the other streams' demo projects, in STREAM_CASES order."""
    codes, counts = [], {}
    for case in STREAM_CASES:
        counts[case.stream] = counts.get(case.stream, 0) + 1
        codes.append(f"{STREAMS[case.stream][2]}-{counts[case.stream]:03d}")
    return codes


def demo_project_codes() -> list[str]:
    return [project_code(i) for i in range(len(CASES))] + stream_project_codes()


def _method_words(case: Case) -> str:
    return "+".join(str(DisposalMethod(method).label) for method, _ in case.lines)


def credit_code(name: str) -> str:
    """A valid, stable unified social credit code for a demo enterprise registered in Feixi."""
    digest = hashlib.sha256(name.encode()).digest()
    if digest[0] % 3:  # registered after 2015: organisation code "MA…"
        body = "MA" + "".join(USCC_ALPHABET[b % len(USCC_ALPHABET)] for b in digest[1:7])
    else:  # an older firm keeps its numeric organisation code
        body = "".join(str(b % 10) for b in digest[1:9])
    # GB 11714 check character of the 9-character organisation code.
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w
        for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)
    )
    check = 11 - total % 11
    org = body + {10: "X", 11: "0"}.get(check, str(check))
    first17 = "91" + FEIXI_DIVISION + org
    return first17 + uscc_check_digit(first17)


@dataclass(frozen=True)
class Account:
    """One demo sign-in: its roles as (role, unit code or None)."""

    username: str
    full_name: str
    roles: tuple[tuple[str, str | None], ...]
    is_superuser: bool = False


def demo_accounts() -> list[Account]:
    """Every demo sign-in, in the order they are printed."""
    accounts = [
        Account("admin", "系统管理员", (), is_superuser=True),
        Account("principal", "周振华", ((Role.PRINCIPAL, None),)),
        Account("supervisor", "孙丽", ((Role.SUPERVISOR, None),)),
    ]
    for username, (full_name, units) in COUNTY_LEADERS.items():
        accounts.append(Account(username, full_name, tuple((Role.LEADER, u) for u in units)))
    for code, (_, _, _, leader) in LOCALITIES.items():
        accounts.append(Account(f"leader_{code}", leader, ((Role.LEADER, code),)))
    for code, (_, owners) in DEPARTMENTS.items():
        accounts.append(Account(f"staff_{code}", owners[0], ((Role.STAFF, code),)))
    for code, (_, _, owners, _) in LOCALITIES.items():
        accounts.append(Account(f"staff_{code}", owners[0], ((Role.STAFF, code),)))
    return accounts


def demo_usernames() -> list[str]:
    return [account.username for account in demo_accounts()]


@dataclass
class DemoResult:
    """What a load wrote: rows created per kind (all zero when the demo was already there)."""

    today: dt.date
    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, created: bool) -> None:
        self.created[kind] = self.created.get(kind, 0) + int(created)

    @property
    def anything_created(self) -> bool:
        return any(self.created.values())


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=clock.local_tz())


@transaction.atomic
def demo_load(*, today: dt.date | None = None) -> DemoResult:
    """Load the demo data set; rows that exist already are left exactly as they are."""
    today = today or clock.today()
    result = DemoResult(today=today)
    units = _load_units(result)
    users = _load_accounts(result, units)
    _load_templates(result, units)
    streams = _load_streams(result)
    for index, case in enumerate(CASES):
        _load_case(result, index, case, units, users, today, streams=streams)
    for index, (case, code) in enumerate(
        zip(STREAM_CASES, stream_project_codes(), strict=True), start=len(CASES)
    ):
        _load_case(result, index, case, units, users, today, streams=streams, code=code)
    return result


def _load_streams(result: DemoResult) -> dict[str, WorkStream]:
    streams = {"land": WorkStream.objects.get(pk=land_stream_id())}
    for code, (name, seq, _prefix) in STREAMS.items():
        streams[code], created = WorkStream.objects.get_or_create(
            code=code, defaults={"name": name, "seq": seq}
        )
        result.add("专项", created)
    return streams


def _load_units(result: DemoResult) -> dict[str, Unit]:
    units = {}
    for code, (name, _) in DEPARTMENTS.items():
        units[code], created = Unit.objects.get_or_create(
            name=name, defaults={"kind": UnitKind.DEPARTMENT}
        )
        result.add("责任单位", created)
    for code, (name, kind, _, _) in LOCALITIES.items():
        units[code], created = Unit.objects.get_or_create(name=name, defaults={"kind": kind})
        result.add("责任单位", created)
    return units


def _load_accounts(result: DemoResult, units: dict[str, Unit]) -> dict[str, User]:
    password = make_password(DEMO_PASSWORD)  # hashed once: the same demo password for all
    users = {}
    for account in demo_accounts():
        user, created = User.objects.get_or_create(
            username=account.username,
            defaults={
                "full_name": account.full_name,
                "email": f"{account.username}@feixi.example.cn",
                "password": password,
                "is_staff": account.is_superuser,
                "is_superuser": account.is_superuser,
            },
        )
        result.add("账号", created)
        users[account.username] = user
        for role, unit_code in account.roles:
            unit = units[unit_code] if unit_code else None
            _, created = role_assign(user=user, role=role, unit=unit, actor=None)
            result.add("角色", created)
    for username, (_, codes) in COUNTY_LEADERS.items():
        for code in codes:
            if code in LOCALITIES:
                _, created = Coverage.objects.get_or_create(
                    leader=users[username],
                    locality=units[code],
                    defaults={"target": CoverageTarget.LOCALITY},
                )
                result.add("包保关系", created)
    return users


def _load_templates(result: DemoResult, units: dict[str, Unit]) -> None:
    for name, (description, steps) in TEMPLATES.items():
        template, created = NodeTemplate.objects.get_or_create(
            name=name, defaults={"description": description}
        )
        result.add("节点模板", created)
        for seq, step in enumerate(steps, start=1):
            _, created = NodeTemplateStep.objects.get_or_create(
                template=template,
                seq=seq,
                defaults={
                    "name": step.name,
                    "unit_kind": UnitKind.DEPARTMENT if step.unit else UnitKind.TOWNSHIP,
                    "default_unit": units[step.unit] if step.unit else None,
                    "offset_days": step.offset,
                },
            )
            result.add("模板步骤", created)


def _load_case(
    result: DemoResult,
    index: int,
    case: Case,
    units: dict[str, Unit],
    users: dict[str, User],
    today: dt.date,
    *,
    streams: dict[str, WorkStream],
    code: str = "",
) -> None:
    locality = units[case.locality]
    township_leader = users[f"leader_{case.locality}"]
    enterprise, created = Enterprise.objects.get_or_create(
        name=case.enterprise,
        defaults={"credit_code": credit_code(case.enterprise), "locality": locality},
    )
    result.add("企业", created)

    steps = case.steps
    done = case.current >= len(steps)
    anchor = steps[-1] if done else steps[case.current]
    start = today + dt.timedelta(days=case.due - anchor.offset)
    due_dates = [start + dt.timedelta(days=step.offset) for step in steps]
    project, created = Project.objects.get_or_create(
        code=code or project_code(index),
        defaults={
            "name": case.title or f"{case.short}低效用地{_method_words(case)}项目",
            "work_stream": streams[case.stream],
            "locality": locality,
            "enterprise": enterprise,
            "leader": township_leader,
            "status": ProjectStatus.COMPLETED if done else ProjectStatus.ACTIVE,
            "start_date": start,
            "end_date": due_dates[-1],
        },
    )
    result.add("项目", created)
    for method, area in case.lines:
        _, created = DisposalLine.objects.get_or_create(
            project=project, method=method, defaults={"area_mu": Decimal(area)}
        )
        result.add("处置方式", created)

    _, created = Coverage.objects.get_or_create(
        leader=township_leader,
        enterprise=enterprise,
        defaults={"target": CoverageTarget.ENTERPRISE},
    )
    result.add("包保关系", created)
    if len(case.lines) > 1 or (case.lines and case.lines[0][0] == GRAFTING):
        _, created = Coverage.objects.get_or_create(
            leader=township_leader, project=project, defaults={"target": CoverageTarget.PROJECT}
        )
        result.add("包保关系", created)

    yesterday = today - dt.timedelta(days=1)
    for i, (step, due) in enumerate(zip(steps, due_dates, strict=True)):
        unit = units[step.unit] if step.unit else locality
        owners = DEPARTMENTS[step.unit][1] if step.unit else LOCALITIES[case.locality][2]
        completed_at, progress = None, 0
        if i < case.current:
            progress = 100
            if case.late and i == case.current - 1:
                completed_at = _at(due + dt.timedelta(days=3), 10, 30)
            else:
                completed_at = _at(min(due - dt.timedelta(days=(index + i) % 4), yesterday), 16, 30)
        elif i == case.current:
            progress = case.progress
        node, created = Node.objects.get_or_create(
            project=project,
            seq=i + 1,
            defaults={
                "name": step.name,
                "unit": unit,
                "owner": owners[(index + i) % 2],
                "due_date": due,
            },
        )
        result.add("节点", created)
        if created and progress:
            _progress_report(result, node, unit, progress, completed_at, today)


def _progress_report(
    result: DemoResult,
    node: Node,
    unit: Unit,
    progress: int,
    completed_at: dt.datetime | None,
    today: dt.date,
) -> None:
    """The node's report or completion, through the same services as a page, dated in the past."""
    if completed_at is not None:
        node_complete(
            node=node,
            actor=system_user(),
            source=CompletionSource.ADMIN,
            completed_at=completed_at,
            note=f"{node.name}已办结，相关材料已归档。",
        )
        report, when = node.progress_reports.get(), completed_at
    else:
        author = User.objects.filter(
            role_assignments__role=Role.STAFF, role_assignments__unit=unit
        )[0]
        report = node_progress_report(
            node=node,
            actor=author,
            percent=progress,
            note=f"{node.name}正在推进，已完成{progress}%。",
        )
        when = _at(today - dt.timedelta(days=2 + node.seq % 3), 11, 0)
    # A demo shows a history that happened before it was loaded: date the records back.
    ProgressReport.objects.filter(pk=report.pk).update(created_at=when)
    node.events.update(occurred_at=when)
    result.add("进度报告", True)


def demo_role_rows() -> list[tuple[User, list[RoleAssignment]]]:
    """The demo accounts that exist, each with its role assignments, in print order."""
    usernames = demo_usernames()
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    assignments: dict[int, list[RoleAssignment]] = {}
    for ra in RoleAssignment.objects.filter(user__in=users.values()).select_related("unit"):
        assignments.setdefault(ra.user_id, []).append(ra)
    return [(users[n], assignments.get(users[n].pk, [])) for n in usernames if n in users]


def demo_node_counts(*, today: dt.date) -> dict[str, int]:
    """How the demo projects' nodes stand on `today`: all, completed, overdue, due in 3 days."""
    nodes = Node.objects.filter(project__code__in=demo_project_codes())
    open_nodes = nodes.filter(completed_at__isnull=True)
    overdue = Q(committed_due_date__isnull=True, due_date__lt=today) | Q(
        committed_due_date__lt=today
    )
    return {
        "all": nodes.count(),
        "completed": nodes.filter(completed_at__isnull=False).count(),
        "overdue": open_nodes.filter(overdue).count(),
        "due_soon": open_nodes.filter(
            due_date__gte=today, due_date__lte=today + dt.timedelta(days=3)
        ).count(),
    }
