"""Basic Auth against accounts: ``user:password`` is ``account:user`` when an
account ``user`` exists with that password.

Checking a bcrypt hash is slow by design, so a successful check is cached for
``account_cache_ttl_seconds``. The cache key is an HMAC of the credentials and
of the stored hash: no password is ever kept, and changing the password (or
deleting the account) makes the old entries useless at once.
"""

from kinto_server.authentication import BASIC_CHALLENGE, basic_credentials, hmac_digest
from kinto_server.errors import ERRORS, http_error
from kinto_server.plugins.accounts.passwords import check_password
from kinto_server.plugins.accounts.throttle import LoginThrottle
from kinto_server.storage import ObjectNotFoundError

ACCOUNT_PREFIX = "account:"
RESOURCE_NAME = "account"
PARENT_ID = ""


class AccountSource:
    name = "account"

    def __init__(self, settings):
        self.secret = settings["userid_hmac_secret"]
        self.ttl = settings["account_cache_ttl_seconds"]
        self.throttle = LoginThrottle(
            settings["account_login_failures_limit"], settings["account_login_failures_window_seconds"]
        )

    def challenge(self):
        return BASIC_CHALLENGE

    def user_id(self, request):
        credentials = basic_credentials(request)
        if credentials is None:
            return None
        username, password = credentials
        if "\x00" in username:
            return None  # Not an account id (and not storable).
        registry = request.registry
        try:
            account = registry.storage.get(resource_name=RESOURCE_NAME, parent_id=PARENT_ID, object_id=username)
        except ObjectNotFoundError:
            return None
        hashed = account.get("password", "")
        key = "accounts:verified:" + hmac_digest(self.secret, f"{username}:{password}:{hashed}")
        if registry.cache.get(key) is None:
            if not self._checked(request, password, hashed):
                return None
            registry.cache.set(key, True, self.ttl)
        return ACCOUNT_PREFIX + username

    def _checked(self, request, password, hashed):
        """bcrypt's answer, within the caller's address budget (429 past it)."""
        address = request.environ.get("REMOTE_ADDR", "")
        reservation = self.throttle.begin(address)
        if reservation is None:
            retry_after = str(self.throttle.retry_after(address))
            message = "Too many failed logins from this address; retry later."
            raise http_error(429, ERRORS.CLIENT_REACHED_CAPACITY, message, headers={"Retry-After": retry_after})
        if not check_password(password, hashed):
            return False
        self.throttle.succeeded(address, reservation)
        return True
