"""Template context shared by every page."""


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from supervision.selectors import notification_unread_count

    return {"unread_notifications": notification_unread_count(user=user)}
