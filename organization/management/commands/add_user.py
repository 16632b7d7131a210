"""Create or update an account and give it a role, for scripted onboarding (idempotent)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from organization.choices import Role
from organization.models import Unit, User
from organization.selectors import people_without_login
from organization.services import role_assign, role_duties_warning, user_ensure


class Command(BaseCommand):
    help = (
        "创建或更新用户并授予角色（可重复运行）：staff/leader 须用 --unit 指定单位，"
        "principal/supervisor 不能指定单位。新用户名带 --full-name 时，若恰有一位同名且未开通"
        "登录的人员，则为其开通登录而不另建账号。"
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--unit",
            action="extend",
            nargs="+",
            default=[],
            metavar="UNIT",
            help="单位名称，可重复或一次给多个",
        )
        parser.add_argument(
            "--name",
            "--full-name",
            dest="full_name",
            default=None,
            help="姓名；系统中恰有一位同名且未开通登录的人员（如台账导入的包保领导）时，为其开通登录",
        )
        parser.add_argument("--email", default=None)

    def handle(self, *args, username, password, role, unit, full_name, email, **options):
        unit_names = list(dict.fromkeys(unit))
        if role in Role.unit_bound() and not unit_names:
            raise CommandError(f"角色 {role}（{Role(role).label}）须用 --unit 指定至少一个单位。")
        if role not in Role.unit_bound() and unit_names:
            raise CommandError(f"角色 {role}（{Role(role).label}）为全县范围，不能指定 --unit。")
        units = {u.name: u for u in Unit.objects.filter(name__in=unit_names)}
        missing = [name for name in unit_names if name not in units]
        if missing:
            raise CommandError("未找到责任单位：" + "、".join(missing) + "。请核对单位全称。")

        actor = User.objects.filter(username=settings.NODETRACK_SYSTEM_USERNAME).first()
        existed = User.objects.filter(username=username).exists()
        without_login = (
            set()
            if existed or not full_name
            else set(people_without_login(full_name=full_name).values_list("pk", flat=True))
        )
        try:
            with transaction.atomic():
                user, user_changed = user_ensure(
                    username=username,
                    password=password,
                    full_name=full_name,
                    email=email,
                    actor=actor,
                )
                added = []
                for target in [units[name] for name in unit_names] or [None]:
                    _, created = role_assign(user=user, role=role, unit=target, actor=actor)
                    if created:
                        added.append(target)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc

        label = Role(role).label
        if not existed and user.pk in without_login:
            self.stdout.write(
                self.style.SUCCESS(
                    f"已为原无登录账号的 {user.full_name} 开通登录，用户名 {username}"
                    "（其包保项目不变）。"
                )
            )
        elif not existed:
            self.stdout.write(self.style.SUCCESS(f"已创建用户 {username}。"))
        elif user_changed:
            self.stdout.write(self.style.SUCCESS(f"已更新用户 {username}（密码、姓名或邮箱）。"))
        for target in added:
            where = f"：{target.name}" if target else ""
            self.stdout.write(self.style.SUCCESS(f"已授予角色 {label}{where}。"))
        if existed and not user_changed and not added:
            self.stdout.write(f"用户 {username} 已存在且已具备该角色，无变化。")
        for target in added:
            if warning := role_duties_warning(user=user, unit=target):
                self.stdout.write(self.style.WARNING(f"注意：{warning}"))
