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

from kinto_server.environ_keys import IDENTITY_KEY
from kinto_server.errors import BackendUnavailable
from kinto_server.resources.access import base_principals
from kinto_server.settings import ConfigurationError

BASICAUTH_PREFIX = "basicauth:"
BASIC_CHALLENGE = 'Basic realm="Realm"'


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

    def challenge(self):
        return BASIC_CHALLENGE

    def user_id(self, request):
        credentials = basic_credentials(request)
        if credentials is None:
            return None
        return BASICAUTH_PREFIX + hmac_digest(self.secret, "{}:{}".format(*credentials))


@dataclass(frozen=True)
class Identity:
    user_id: str | None
    policy: str | None = None
    profile: dict | None = None  # what an identity provider says of the user (OpenID Connect)


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
        cached = request.__dict__.get(IDENTITY_KEY)
        if cached is not None:
            return cached
        identity = Identity(None)
        for source in self.sources:
            try:
                found = source.user_id(request)
            except BackendUnavailable:
                # Answered with a 503; what reads the identity afterwards
                # (logs, metrics) sees an anonymous caller, not the failure again.
                request.__dict__[IDENTITY_KEY] = identity
                raise
            if found is not None:
                # A source gives a user id, or an Identity when it knows more.
                identity = found if isinstance(found, Identity) else Identity(found, source.name)
                break
        request.__dict__[IDENTITY_KEY] = identity
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


def shown_principals(request):
    """The caller's principals as ``GET /v1/`` shows them (see
    ``PermissionBackend.shown_user_principals``): never for a check."""
    if "principals" in request.__dict__:
        return request.principals
    base = base_principals(request)
    return frozenset(base) | request.registry.permission.shown_user_principals(user_ids=base)


def challenges(request):
    """The ``WWW-Authenticate`` values of a 401: one per configured policy
    that has one, in the order of ``multiauth.policies``, as Kinto sends them."""
    values = []
    for source in request.registry.authentication_challengers:
        value = source.challenge()
        if request.__dict__.get("_kinto_token_refused") and not value.startswith("Basic "):
            # RFC 6750: say that the bearer token sent was refused.
            value += ', error="invalid_token"'
        if value not in values:
            values.append(value)
    return values


SOURCES = {"basicauth": BasicAuthSource}
# Policies named by the class of their ``multiauth.policy.<name>.use`` (the
# name is the user's choice): class name -> "module:factory(registry, name, settings)".
POLICY_CLASSES = {"OpenIDConnectPolicy": "kinto_server.plugins.openid:source_for"}


def _policy_source(registry, settings, name):
    use = str(settings.get(f"multiauth.policy.{name}.use", ""))
    class_name = use.rpartition(".")[2].rpartition(":")[2]
    if class_name in POLICY_CLASSES:
        module_name, _, factory = POLICY_CLASSES[class_name].partition(":")
        module = __import__(module_name, fromlist=[factory])
        return getattr(module, factory)(registry, name, settings)
    source_class = registry.authentication_sources.get(name)
    if source_class is None:
        raise ConfigurationError(f"Unknown authentication policy {name!r} in multiauth.policies")
    return source_class(settings)


def includeme(config):
    settings = config.registry.settings
    # Asked first: plugins' own credentials, valid only where they say (the
    # change stream's tickets).
    sources = list(config.registry.implicit_authentication_sources)
    configured = [_policy_source(config.registry, settings, name) for name in settings["multiauth.policies"]]
    sources.extend(configured)
    config.registry.authentication_challengers = [s for s in configured if hasattr(s, "challenge")]
    if "basicauth" in settings["multiauth.policies"]:
        config.registry.capabilities["basicauth"] = {
            "description": "Very basic authentication sessions. Not for production use.",
            "url": "http://kinto.readthedocs.io/en/stable/api/1.x/authentication.html",
        }
    config.set_security_policy(SecurityPolicy(sources))
