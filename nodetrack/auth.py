"""The authentication backend that throttles logins (django-axes)."""

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked-out username and address before any password is checked.

    Every login over HTTP (the site's login page, the admin's) passes its request, and is
    throttled. A call without a request comes from code on the server (a management
    command, a test's `Client.login`), where there is no address to lock: it is let
    through to the password check instead of raising, as django-axes would.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
