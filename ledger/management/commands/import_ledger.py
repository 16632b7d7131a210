"""manage.py import_ledger FILE [--dry-run] [--background]: import a county's ledger (台账)."""

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from ledger.batches import BACKGROUND_ROWS, ledger_row_count
from ledger.importing import ledger_import
from ledger.uploads import FOLDER
from organization.models import User


class Command(BaseCommand):
    help = "导入已有台账（.xlsx 或 .csv，每行一个节点）；有任何错误时全部不导入。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="台账文件（.xlsx 或 .csv）")
        parser.add_argument(
            "--dry-run", action="store_true", help="只校验并报告将要导入的内容，不写入数据库"
        )
        parser.add_argument(
            "--background",
            action="store_true",
            help=f"超过{BACKGROUND_ROWS}行的台账交给后台任务分批导入（先整体校验，有错误则不导入）",
        )

    def handle(self, *args, file: str, dry_run: bool, background: bool = False, **options):
        actor = User.objects.get(username=settings.NODETRACK_SYSTEM_USERNAME)
        if background and not dry_run and (rows := ledger_row_count(file)) > BACKGROUND_ROWS:
            # The task removes its file when done: it gets a copy, never the caller's file.
            folder = Path(settings.MEDIA_ROOT) / FOLDER
            folder.mkdir(parents=True, exist_ok=True)
            with (
                open(file, "rb") as source,
                tempfile.NamedTemporaryFile(
                    dir=folder, suffix=Path(file).suffix, delete=False
                ) as copy,
            ):
                shutil.copyfileobj(source, copy)
            task_id = async_task("ledger.tasks.ledger_import_batched", copy.name, actor.pk)
            self.stdout.write(
                _("台账共%(rows)s行，已交给后台任务分批导入（任务 %(task)s）。")
                % {"rows": rows, "task": task_id}
            )
            return
        result = ledger_import(path_or_file=file, actor=actor, dry_run=dry_run)
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(
                _("台账有%(count)s处错误，未导入任何数据。") % {"count": len(result.errors)}
            )
        for line in result.summary_lines():
            self.stdout.write(line)
