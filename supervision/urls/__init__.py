"""The pages' URLs, one module per role's area."""

from .audit import urlpatterns as audit
from .common import urlpatterns as common
from .leader import urlpatterns as leader
from .office import urlpatterns as office
from .projects import urlpatterns as projects
from .staff import urlpatterns as staff

urlpatterns = [*common, *staff, *leader, *office, *audit, *projects]
