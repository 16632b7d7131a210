"""Write a synthetic province-scale data set (e.g. 1M nodes) into an empty database, for benchmarks."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core import clock
from demo.scale import SCALE_PASSWORD, ScaleRefused, scale_generate, scale_instants, scale_usernames


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{text}") from exc


class Command(BaseCommand):
    help = (
        "生成规模测试数据（基准测试用）：乡镇(园区)、县直部门、经办人与分管领导、包保关系、"
        "专项、项目、分布在三年内的节点，以及截至补巡时刻的亮牌、扣分、督办事项、重新承诺和"
        "节点动态；另有 --overdue-fraction 比例的节点在补巡时刻之后超期、尚未亮牌，"
        "由下一次巡检亮黄牌。只写入空数据库（已有项目或单位时拒绝）。同样的参数生成同样的数据。"
        f"登录账号：经办人 scale-staff-1、分管领导 scale-leader-1、督查办 scale-office、"
        f"主要领导 scale-principal，密码均为 {SCALE_PASSWORD}。"
        "例：python manage.py generate_scale --projects 50000 --nodes-per-project 20"
    )

    def add_arguments(self, parser):
        parser.add_argument("--projects", type=int, required=True, help="项目数")
        parser.add_argument("--nodes-per-project", type=int, required=True, help="每个项目的节点数")
        parser.add_argument(
            "--overdue-fraction",
            type=float,
            default=0.01,
            help="补巡时刻之后超期、待下一次巡检亮黄牌的节点比例（默认 0.01）",
        )
        parser.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）")
        parser.add_argument(
            "--today", type=_date, default=None, help="数据的“今天”，YYYY-MM-DD（默认县里的今天）"
        )

    def handle(self, *args, **options):
        projects, per = options["projects"], options["nodes_per_project"]
        if projects < 1 or per < 1:
            raise CommandError("项目数和每个项目的节点数须为正整数。")
        fraction = options["overdue_fraction"]
        if not 0 <= fraction <= 1:
            raise CommandError("--overdue-fraction 须在 0 到 1 之间。")
        today = options["today"] or clock.today()
        try:
            result = scale_generate(
                projects=projects,
                nodes_per_project=per,
                today=today,
                overdue_fraction=fraction,
                seed=options["seed"],
                progress=lambda line: self.stdout.write(f"  已生成 {line}"),
                # PostgreSQL writes a chunk while the next is worked out; SQLite one at a time.
                pipeline=connection.vendor == "postgresql",
            )
        except ScaleRefused as exc:
            raise CommandError(
                "数据库中已有项目或责任单位：规模测试数据只写入刚迁移的空数据库，不追加。"
                "请换一个空数据库（python manage.py migrate 之后）再运行。"
            ) from exc
        catch_up, today_start = scale_instants(today)
        self.stdout.write(self.style.SUCCESS(f"规模测试数据已生成，用时 {result.seconds:.1f} 秒："))
        for kind, n in result.counts.items():
            self.stdout.write(f"  {kind} {n}")
        nodes = result.counts.get("节点", 0)
        rate = nodes / result.seconds if result.seconds else 0
        self.stdout.write(
            f"  每秒 {rate:.0f} 个节点；补巡时刻 {catch_up:%Y-%m-%d %H:%M}，"
            f"待下一次巡检（{today_start:%Y-%m-%d} 起）亮黄牌的超期节点 {len(result.overdue)} 个。"
        )
        names = scale_usernames()
        self.stdout.write(
            f"  登录：经办人 {names['staff']}、分管领导 {names['leader']}、督查办 {names['office']}、"
            f"主要领导 {names['principal']}，密码 {SCALE_PASSWORD}"
        )
