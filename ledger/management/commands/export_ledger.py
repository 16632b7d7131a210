"""manage.py export_ledger FILE [filters]: the ledger (台账) in the import's columns."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.tabular import file_write
from ledger.exporting import HEADER, ledger_projects, ledger_rows
from ledger.parsing import METHOD_BY_NAME
from organization.models import Unit
from projects.choices import DisposalMethod, ProjectStatus
from projects.models import WorkStream


class Command(BaseCommand):
    help = (
        "按导入台账的列导出台账（.xlsx 或 .csv，按文件扩展名）；筛选与项目列表相同。"
        "再用 import_ledger 导入所导出的文件，不会改动任何数据。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="导出到的文件（.xlsx 或 .csv）")
        parser.add_argument("--work-stream", help="专项（代码或名称）")
        parser.add_argument("--locality", help="乡镇(园区)名称")
        parser.add_argument("--unit", help="责任单位名称（有该单位节点的项目）")
        parser.add_argument("--method", help="处置方式（收储收回、嫁接盘活、自主提升或其代码）")
        parser.add_argument("--status", choices=ProjectStatus.values, help="项目状态")
        parser.add_argument("--q", help="搜索项目编号、名称或企业")

    def handle(self, *args, file: str, **options):
        path = Path(file)
        if path.suffix.lower() not in (".xlsx", ".csv"):
            raise CommandError(_("文件扩展名应为 .xlsx 或 .csv。"))
        data = self._filters(options)
        projects = ledger_projects(user=None, data=data)  # the command line: the whole county
        if projects is None:
            raise CommandError(_("筛选条件有误。"))
        rows = 0

        def counted():
            nonlocal rows
            for row in ledger_rows(projects):
                rows += 1
                yield row

        file_write(path, HEADER, counted(), "台账")
        self.stdout.write(_("已导出%(rows)s行到 %(file)s。") % {"rows": rows, "file": path})

    def _filters(self, options) -> dict:
        """The project list's query string for the options given (units by name)."""
        data = {}
        if name := options.get("work_stream"):
            stream = WorkStream.objects.filter(code=name).first() or (
                WorkStream.objects.filter(name=name).first()
            )
            if stream is None:
                raise CommandError(_("没有名为“%(name)s”的专项。") % {"name": name})
            data["work_stream"] = stream.code
        for option in ("locality", "unit"):
            if name := options.get(option):
                unit = Unit.objects.filter(name=name).first()
                if unit is None:
                    raise CommandError(_("没有名为“%(name)s”的单位。") % {"name": name})
                data[option] = str(unit.pk)
        if method := options.get("method"):
            method = METHOD_BY_NAME.get(method, method)
            if method not in DisposalMethod.values:
                raise CommandError(_("无法识别的处置方式“%(value)s”。") % {"value": method})
            data["method"] = method
        for option in ("status", "q"):
            if options.get(option):
                data[option] = options[option]
        return data
