"""The REST API (/api/v1/): the instance with its bearer-token authentication, and the apps' routers.

Error bodies, schema pieces and pagination are the kernel's (core.api); the routers are
the apps'. This module only puts them together.
"""

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from core.api.base import BAD_TOKEN, NodeTrackAPI
from organization.tokens import api_token_authenticate
from projects.api import router as projects_router
from reports.api import router as reports_router
from scoring.api import router as scoring_router
from supervision.api import router as supervision_router


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`, checked against the stored digests (organization.tokens)."""

    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_authenticate(token)
        if user is None:
            raise AuthenticationError(message=str(BAD_TOKEN))
        # The history middleware reads request.user: changes made through the API are
        # recorded under the token's user, as in the browser.
        request.user = user
        return user


api = NodeTrackAPI(
    title="NodeTrack API",
    version="1",
    description=(
        "节点督办 REST API。认证：请求头 `Authorization: Bearer <令牌>`，"
        "令牌由 `python manage.py create_api_token 用户名` 生成。"
        "列表接口接受 limit（默认 50，最大 500）与 offset，返回 {count, next, results}；"
        "next 为下一页的游标（无下一页时为 null），作为 cursor 传回即按排序键取下一页，"
        "不受新增数据影响、深翻页同样快。给出 cursor 或 count=false 时不计总数，count 为 null。"
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=BearerToken(),
)
api.add_router("", projects_router)
api.add_router("", supervision_router)
api.add_router("", scoring_router)
api.add_router("", reports_router)
