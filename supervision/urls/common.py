from django.urls import path

from ..views import common

urlpatterns = [
    path("notifications/", common.notification_list, name="notifications"),
    path("notifications/read-all/", common.notification_read_all, name="notifications-read-all"),
]
