"""Load the Feixi demo data set (idempotent) and print what it holds and how to sign in."""

from django.core.management.base import BaseCommand

from demo.data import demo_load, demo_node_counts
from projects.choices import DisposalMethod
from projects.selectors import disposal_summary


class Command(BaseCommand):
    help = "载入演示数据（肥西县低效用地处置）；重复运行不会改动已有数据。"

    def handle(self, *args, **options):
        result = demo_load()
        if result.anything_created:
            created = "，".join(f"{kind}{n}" for kind, n in result.created.items() if n)
            self.stdout.write(self.style.SUCCESS(f"演示数据已载入（新建：{created}）。"))
        else:
            self.stdout.write("演示数据已加载，本次未做任何修改。")

        rows, totals = disposal_summary()
        self.stdout.write("\n处置方式汇总：")
        for row in rows:
            label = DisposalMethod(row["method"]).label
            self.stdout.write(f"  {label:　<6}{row['projects']:>4} 个{row['area']:>12.2f} 亩")
        self.stdout.write(
            f"  {'合计（去重）':　<6}{totals['projects']:>4} 个{totals['area']:>12.2f} 亩"
        )

        counts = demo_node_counts(today=result.today)
        self.stdout.write(
            f"\n节点（截至 {result.today:%Y-%m-%d}）：共 {counts['all']} 个，"
            f"已完成 {counts['completed']} 个，超期未完成 {counts['overdue']} 个，"
            f"3 日内到期 {counts['due_soon']} 个。\n"
        )
        self.stdout.write("演示账号：python manage.py demo_accounts")
