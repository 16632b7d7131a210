"""Print the demo sign-ins (username, password, roles, units) that exist in this database."""

from django.core.management.base import BaseCommand

from demo.data import DEMO_PASSWORD, demo_role_rows


class Command(BaseCommand):
    help = "列出演示账号（用户名、密码、角色、单位）；未载入演示数据时只给出提示。"

    def handle(self, *args, **options):
        rows = demo_role_rows()
        if not rows:
            self.stdout.write("尚无演示账号。运行 python manage.py load_demo 载入演示数据。")
            return
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}，如已被修改则以修改后为准）：")
        width = max(len(user.username) for user, _ in rows)
        for user, assignments in rows:
            if user.is_superuser:
                roles = "系统管理员（后台 /admin/）"
            else:
                by_role: dict[str, list[str]] = {}
                for ra in assignments:
                    by_role.setdefault(str(ra.get_role_display()), []).append(
                        ra.unit.name if ra.unit_id else ""
                    )
                roles = (
                    "；".join(
                        label + ("：" + "、".join(n for n in names if n) if any(names) else "")
                        for label, names in by_role.items()
                    )
                    or "（无角色）"
                )
            state = "" if user.is_active else "（已停用）"
            self.stdout.write(
                f"  {user.username:<{width}}  {DEMO_PASSWORD}  {user.display_name}{state}  {roles}"
            )
