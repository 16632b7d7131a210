"""Make a REST API token for an account and print it once (only its digest is stored)."""

from django.core.management.base import BaseCommand, CommandError

from organization.models import User
from organization.tokens import api_token_create


class Command(BaseCommand):
    help = "为用户创建 REST API 令牌，并只显示这一次（数据库只保存其摘要）。令牌在输出的最后一行。"

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"未找到用户 {username}。请核对用户名。")
        if not user.is_active:
            raise CommandError(f"用户 {username} 已停用，不能创建令牌。")
        raw = api_token_create(user=user)
        self.stderr.write(
            f"已为用户 {username} 创建 API 令牌。请立即妥善保存，它不会再次显示；"
            "调用时使用请求头 Authorization: Bearer <令牌>。"
        )
        self.stdout.write(raw)
