"""Who is calling: the security policy and the request's principals.

Basic Auth gives the user id ``basicauth:<hex HMAC-SHA256 of "user:password">``
keyed by ``userid_hmac_secret``; without credentials the caller is anonymous
and holds only ``system.Everyone``. Authenticated callers also hold
``system.Authenticated`` and the URIs of the groups they belong to.
"""

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

from kinto_server.resources.access import base_principals
from kinto_server.settings import ConfigurationError

BASICAUTH_PREFIX = "basicauth:"


def hmac_digest(secret, message):
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def basic_credentials(request):
    """``(username, password)`` from a Basic Authorization header, or None."""
    header = request.environ.get("HTTP_AUTHORIZATION")
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        return None
    return username, password


class BasicAuthSource:
    """Any username and password pair is a user, named by their HMAC."""

    name = "basicauth"

    def __init__(self, settings):
        self.secret = settings["userid_hmac_secret"]

    def user_id(self, request):
        credentials = basic_credentials(request)
        if credentials is None:
            return None
        return BASICAUTH_PREFIX + hmac_digest(self.secret, "{}:{}".format(*credentials))


@dataclass(frozen=True)
class Identity:
    user_id: str | None
    policy: str | None = None


class SecurityPolicy:
    """Pyramid security policy asking each configured source in turn.

    Authorization is not done here but in :mod:`kinto_server.resources.access`,
    since it depends on the object tree.
    """

    def __init__(self, sources):
        self.sources = sources

    def identity(self, request):
        # Pyramid asks for it on every use of request.authenticated_userid:
        # compute it once per request.
        cached = request.__dict__.get("_kinto_identity")
        if cached is not None:
            return cached
        identity = Identity(None)
        for source in self.sources:
            user_id = source.user_id(request)
            if user_id is not None:
                identity = Identity(user_id, source.name)
                break
        request.__dict__["_kinto_identity"] = identity
        return identity

    def authenticated_userid(self, request):
        return request.identity.user_id

    def permits(self, request, context, permission):
        return False

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


def request_principals(request):
    """Every principal of the caller, as a frozenset."""
    base = base_principals(request)
    return frozenset(base) | request.registry.permission.get_user_principals(user_ids=base)


SOURCES = {"basicauth": BasicAuthSource}


def includeme(config):
    settings = config.registry.settings
    # Asked first: plugins' own credentials, valid only where they say (the
    # change stream's tickets).
    sources = list(config.registry.implicit_authentication_sources)
    for name in settings["multiauth.policies"]:
        source_class = config.registry.authentication_sources.get(name)
        if source_class is None:
            raise ConfigurationError(f"Unknown authentication policy {name!r} in multiauth.policies")
        sources.append(source_class(settings))
    if "basicauth" in settings["multiauth.policies"]:
        config.registry.capabilities["basicauth"] = {
            "description": "Very basic authentication sessions. Not for production use.",
            "url": "http://kinto.readthedocs.io/en/stable/api/1.x/authentication.html",
        }
    config.set_security_policy(SecurityPolicy(sources))
