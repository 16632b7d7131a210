"""The weekly digest of lagging nodes: each unit's staff and leaders in charge hear once a
week which of its nodes lag and why."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django_q.models import Schedule

from organization.models import User
from projects.models import Node, ProgressReport
from supervision import tasks
from supervision.models import Notification
from supervision.services.early_warning import lagging_digest_send
from tests.factories import LocalityFactory, NodeFactory, ProjectFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 12, 7, 8, 0, tzinfo=SH)


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=SH)


@pytest.fixture
def frozen():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(frozen):
    zrj, czj, quiet = (
        UnitFactory(name="县自然资源和规划局"),
        UnitFactory(name="县财政局"),
        UnitFactory(name="县住建局"),
    )
    town = LocalityFactory(name="桃花镇")
    people = {
        "zrj_staff": make_user("staff", zrj, username="zrj_staff"),
        "zrj_staff2": make_user("staff", zrj, username="zrj_staff2"),
        "zrj_gone": make_user("staff", zrj, username="zrj_gone"),
        "zrj_leader": make_user("leader", zrj, username="zrj_leader"),
        "czj_staff": make_user("staff", czj, username="czj_staff"),
        "czj_leader": make_user("leader", czj, username="czj_leader"),
        "quiet_staff": make_user("staff", quiet, username="quiet_staff"),
        "principal": make_user("principal", username="principal"),
        "office": make_user("supervisor", username="office"),
    }
    people["zrj_gone"].is_active = False
    people["zrj_gone"].save()
    a = ProjectFactory(
        code="FXDX-001",
        name="宏远机械低效用地收储收回项目",
        locality=town,
        start_date=at("2026-10-01").date(),
    )
    # 67 of 91 days (73%) used at 10%: 63 points behind; its last report 20 days ago
    behind = NodeFactory(
        project=a, seq=1, name="签订收回协议", unit=zrj, due_date=dt.date(2026, 12, 31), progress=10
    )
    report = ProgressReport.objects.create(node=behind, percent=10, author=people["zrj_staff"])
    ProgressReport.objects.filter(pk=report.pk).update(created_at=at("2026-11-17"))
    # on pace (7 of 20 days, 35%, at 50%), but not reported since it was created 36 days ago
    b = ProjectFactory(
        code="FXDX-002",
        name="瑞丰新材料低效用地收储收回项目",
        locality=town,
        start_date=dt.date(2026, 11, 30),
    )
    silent = NodeFactory(
        project=b, seq=1, name="完成资产评估", unit=zrj, due_date=dt.date(2026, 12, 20), progress=50
    )
    Node.objects.filter(pk=silent.pk).update(created_at=at("2026-11-01"))
    # lagging as much, but archived, in an archived project, or done: not in the digest
    NodeFactory(
        project=a, seq=2, unit=zrj, due_date=dt.date(2027, 1, 31), archived_at=at("2026-12-01")
    )
    gone = ProjectFactory(
        code="FXDX-003", locality=town, start_date=dt.date(2026, 9, 1), archived_at=at("2026-12-01")
    )
    NodeFactory(project=gone, seq=1, unit=zrj, due_date=dt.date(2026, 12, 31))
    done = ProjectFactory(code="FXDX-004", locality=town, start_date=dt.date(2026, 9, 1))
    NodeFactory(
        project=done, seq=1, unit=zrj, due_date=dt.date(2026, 12, 31), completed_at=at("2026-12-01")
    )
    # another unit's lagging node: 38 of 91 days (42%) used, nothing done
    c = ProjectFactory(
        code="FXDX-005",
        name="众鑫电子低效用地嫁接盘活项目",
        locality=town,
        start_date=dt.date(2026, 10, 30),
    )
    other = NodeFactory(
        project=c, seq=1, name="拨付收储资金", unit=czj, due_date=dt.date(2027, 1, 29)
    )
    # a unit whose node is on pace and reported
    d = ProjectFactory(code="FXDX-006", locality=town, start_date=dt.date(2026, 12, 1))
    NodeFactory(project=d, seq=1, unit=quiet, due_date=dt.date(2027, 3, 1))
    return {"people": people, "behind": behind, "silent": silent, "other": other}


def digests():
    return {
        (n.recipient.username, n.event_key): (n.kind, n.title, n.body, n.node_id)
        for n in Notification.objects.select_related("recipient")
    }


ZRJ_BODY = (
    "以下节点进度滞后，请尽快推进并填报进度，以免到期亮牌（进度落后于已用时间占比超过 30 个百分点，"
    "或距到期不超过 30 天且连续 14 天未填报进度）：\n"
    "· FXDX-002 瑞丰新材料低效用地收储收回项目 节点“完成资产评估”，12月20日（周日）到期："
    "进度 50%，已 36 天未填报进度。/nodes/{silent}/\n"
    "· FXDX-001 宏远机械低效用地收储收回项目 节点“签订收回协议”，12月31日（周四）到期："
    "进度 10%，落后序时进度 63 个百分点，已 20 天未填报进度。/nodes/{behind}/"
)


def test_each_unit_hears_once_who_and_why(world, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        made = lagging_digest_send()
    # then
    zrj, czj = world["behind"].unit_id, world["other"].unit_id
    zrj_key, czj_key = f"lagging:{zrj}:2026-W50", f"lagging:{czj}:2026-W50"
    zrj_row = (
        "lagging_digest",
        "县自然资源和规划局：2 个节点进度滞后",
        ZRJ_BODY.format(silent=world["silent"].pk, behind=world["behind"].pk),
        None,
    )
    czj_row = (
        "lagging_digest",
        "县财政局：1 个节点进度滞后",
        "以下节点进度滞后，请尽快推进并填报进度，以免到期亮牌（进度落后于已用时间占比超过 30 个百分点，"
        "或距到期不超过 30 天且连续 14 天未填报进度）：\n"
        "· FXDX-005 众鑫电子低效用地嫁接盘活项目 节点“拨付收储资金”，2027年1月29日（周五）到期："
        f"进度 0%，落后序时进度 41 个百分点。/nodes/{world['other'].pk}/",
        world["other"].pk,
    )
    assert made == 5
    assert digests() == {
        ("zrj_staff", zrj_key): zrj_row,
        ("zrj_staff2", zrj_key): zrj_row,
        ("zrj_leader", zrj_key): zrj_row,
        ("czj_staff", czj_key): czj_row,
        ("czj_leader", czj_key): czj_row,
    }
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == [
        ("czj_leader@example.cn", "县财政局：1 个节点进度滞后"),
        ("czj_staff@example.cn", "县财政局：1 个节点进度滞后"),
        ("zrj_leader@example.cn", "县自然资源和规划局：2 个节点进度滞后"),
        ("zrj_staff2@example.cn", "县自然资源和规划局：2 个节点进度滞后"),
        ("zrj_staff@example.cn", "县自然资源和规划局：2 个节点进度滞后"),
    ]
    assert mail.outbox[0].body in {zrj_row[2], czj_row[2]}


def test_once_per_week_however_often_it_runs(world, frozen):
    # given
    lagging_digest_send()
    before = digests()
    # when: again, and on Friday of the same week
    again = lagging_digest_send()
    frozen.move_to(at("2026-12-11", 17))
    friday = lagging_digest_send()
    # then
    assert (again, friday) == (0, 0)
    assert digests() == before
    # when: the next Monday, the nodes still lagging
    frozen.move_to(at("2026-12-14", 8))
    next_week = lagging_digest_send()
    # then
    assert next_week == 5
    assert {key for _user, key in digests()} == {
        f"lagging:{world['behind'].unit_id}:2026-W50",
        f"lagging:{world['other'].unit_id}:2026-W50",
        f"lagging:{world['behind'].unit_id}:2026-W51",
        f"lagging:{world['other'].unit_id}:2026-W51",
    }


def test_nothing_when_nothing_lags(world):
    # given: reports today, on pace
    for node in (world["behind"], world["silent"], world["other"]):
        Node.objects.filter(pk=node.pk).update(progress=90)
        ProgressReport.objects.create(node=node, percent=90, author=world["people"]["zrj_staff"])
    # when
    made = lagging_digest_send()
    # then
    assert made == 0 and not Notification.objects.exists()


def test_the_notification_leads_to_the_lagging_projects_or_the_node(client, world):
    # given
    lagging_digest_send()
    client.force_login(world["people"]["zrj_leader"])
    # when
    page = client.get("/notifications/").content.decode()
    # then
    assert 'href="/projects/?light=lagging"' in page and "查看滞后项目" in page
    assert "进度滞后周报" in page
    # and the other unit's, naming one node, leads to it
    client.force_login(world["people"]["czj_staff"])
    page = client.get("/notifications/").content.decode()
    assert f'href="/nodes/{world["other"].pk}/"' in page


def test_the_task_sends_the_digest(world):
    assert tasks.lagging_digest() == "notifications=5"


def test_setup_schedules_plans_the_digest_every_monday_morning(settings, frozen):
    # given: Tuesday
    frozen.move_to(at("2026-12-08", 10))
    # when
    call_command("setup_schedules")
    call_command("setup_schedules")
    # then
    digest = Schedule.objects.get(name="nodetrack.lagging_digest")
    assert (digest.func, digest.schedule_type, digest.repeats) == (
        "supervision.tasks.lagging_digest",
        Schedule.WEEKLY,
        -1,
    )
    assert digest.next_run == at("2026-12-14", 8)
    assert Schedule.objects.filter(name="nodetrack.sweep").count() == 1


@pytest.mark.parametrize(
    ("now", "first"),
    [
        (at("2026-12-07", 7), at("2026-12-07", 8)),  # Monday before 08:00: today
        (at("2026-12-07", 8), at("2026-12-07", 8)),
        (at("2026-12-07", 9), at("2026-12-14", 8)),
        (at("2026-12-13", 23), at("2026-12-14", 8)),  # Sunday night
    ],
)
def test_the_first_digest_is_the_next_monday_morning(now, first):
    from supervision.management.commands.setup_schedules import next_monday_morning

    assert next_monday_morning(now) == first


# ---- the demo --------------------------------------------------------------------------------


def test_the_demo_shows_lagging_nodes_to_its_leaders(client):
    """The nodes that follow an overdue one lag (their time, from the previous node's date, is
    mostly gone, nothing reported): every demo load has a few, and the leaders hear of them."""
    from io import StringIO

    from core import clock
    from supervision.selectors import nodes_with_light

    # given
    call_command("load_demo", stdout=StringIO())
    # when
    lagging = nodes_with_light(Node.objects.all(), today=clock.today()).filter(light="lagging")
    made = lagging_digest_send()
    # then
    assert sorted(lagging.values_list("project__code", "seq", "unit__name")) == [
        ("FXDX-002", 6, "县财政局"),
        ("FXDX-009", 5, "肥西经济开发区"),
        ("FXDX-011", 6, "县投资促进中心"),
        ("FXDX-018", 4, "桃花镇"),
        ("FXDX-024", 5, "新港工业园"),
        ("FXDX-033", 7, "官亭镇"),
        ("FXDX-037", 5, "严店乡"),
        ("FXZD-001", 6, "肥西经济开发区"),
        ("FXZD-003", 3, "市生态环境局肥西分局"),
        ("FXZS-002", 2, "新港工业园"),
    ]
    assert made == Notification.objects.count() > 0
    titles = sorted(
        Notification.objects.filter(recipient__username="leader_wang").values_list(
            "title", flat=True
        )
    )
    assert titles == [
        "严店乡：1 个节点进度滞后",
        "县投资促进中心：1 个节点进度滞后",
        "县财政局：1 个节点进度滞后",
        "桃花镇：1 个节点进度滞后",
    ]
    client.force_login(User.objects.get(username="leader_taohua"))
    assert 'class="light light-lagging"' in client.get("/coverage/").content.decode()
