"""manage.py import_ledger FILE [--dry-run]: import a county's ledger (台账)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ledger.importing import ledger_import
from organization.models import User


class Command(BaseCommand):
    help = "导入已有台账（.xlsx 或 .csv，每行一个节点）；有任何错误时全部不导入。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="台账文件（.xlsx 或 .csv）")
        parser.add_argument(
            "--dry-run", action="store_true", help="只校验并报告将要导入的内容，不写入数据库"
        )

    def handle(self, *args, file: str, dry_run: bool, **options):
        actor = User.objects.get(username=settings.NODETRACK_SYSTEM_USERNAME)
        result = ledger_import(path_or_file=file, actor=actor, dry_run=dry_run)
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(
                _("台账有%(count)s处错误，未导入任何数据。") % {"count": len(result.errors)}
            )
        for line in result.summary_lines():
            self.stdout.write(line)
