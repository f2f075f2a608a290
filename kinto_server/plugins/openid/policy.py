"""The OpenID Connect authentication policy: ``Authorization: Bearer <token>``
verified against the provider, the user id ``<policy name>:<userinfo field>``.

A provider is configured as in Kinto, under its policy name::

    multiauth.policies = google basicauth
    multiauth.policy.google.use = kinto.plugins.openid.OpenIDConnectPolicy
    multiauth.policy.google.issuer = https://accounts.google.com
    multiauth.policy.google.client_id = ...
    multiauth.policy.google.client_secret = ...

A token is verified once, by the provider's userinfo endpoint (and, with
an ``audience``, as a JWT signed by the provider for that audience first),
then its profile is cached for ``verification_ttl_seconds`` under an HMAC
of the token. Unlike Kinto, a use of the token does not extend that time
(Kinto writes the cache on every request, which keeps an expired token
valid for as long as it is used), and a JWT is never cached past its
``exp``.
"""

import time
from dataclasses import dataclass

from kinto_server.authentication import Identity, hmac_digest
from kinto_server.plugins.openid.callbacks import DEFAULT_TRUSTED
from kinto_server.plugins.openid.provider import Provider, TokenRefused
from kinto_server.settings import ConfigurationError, as_int, as_list

POLICY_CLASS = "OpenIDConnectPolicy"
DEFAULT_ALLOWED_SCOPES = "openid email profile"


def openid_policy_names(settings):
    """The names in ``multiauth.policies`` whose ``use`` is the OpenID policy."""
    return [
        name
        for name in settings["multiauth.policies"]
        if str(settings.get(f"multiauth.policy.{name}.use", "")).endswith(POLICY_CLASS)
    ]


@dataclass
class ProviderSettings:
    name: str
    issuer: str
    client_id: str
    client_secret: str
    audience: str
    header_type: str
    userid_field: str
    realm: str
    verification_ttl: int
    state_ttl: int
    state_length: int
    allowed_scopes: frozenset
    trusted_callback_urls: list
    timeout_seconds: float

    @classmethod
    def read(cls, name, settings):
        prefix = f"multiauth.policy.{name}."

        def value(key, default=None, convert=str):
            raw = settings.get(prefix + key, default)
            if raw is None:
                raise ConfigurationError(f"Missing setting {prefix}{key} (the OpenID provider {name!r} needs it)")
            try:
                return convert(raw)
            except (TypeError, ValueError):
                raise ConfigurationError(f"Invalid value for setting {prefix}{key}: {raw!r}") from None

        return cls(
            name=name,
            issuer=value("issuer").strip(),
            client_id=value("client_id"),
            client_secret=value("client_secret", ""),
            audience=value("audience", ""),
            header_type=value("header_type", "Bearer"),
            userid_field=value("userid_field", "sub"),
            realm=value("realm", "Realm"),
            verification_ttl=value("verification_ttl_seconds", 86400, as_int),
            state_ttl=value("state_ttl_seconds", 3600, as_int),
            state_length=value("state_length", 32, as_int),
            allowed_scopes=frozenset(value("allowed_scopes", DEFAULT_ALLOWED_SCOPES, as_list)),
            trusted_callback_urls=value("trusted_callback_urls", "", as_list),
            timeout_seconds=value("timeout_seconds", 10, float),
        )

    def trusted_callbacks(self, request):
        if self.trusted_callback_urls:
            return self.trusted_callback_urls
        trusted = list(DEFAULT_TRUSTED)
        admin = request.registry.introspector.get("routes", "admin_home")
        if admin is not None:
            trusted.append(request.route_url("admin_home") + "*")
        return trusted


class OpenIDSource:
    """An authentication source of :mod:`kinto_server.authentication`."""

    def __init__(self, name, settings):
        self.name = name
        self.config = ProviderSettings.read(name, settings)
        self.secret = settings["userid_hmac_secret"]
        config = self.config
        self.provider = Provider(name, config.issuer, config.timeout_seconds, config.audience)

    def challenge(self):
        return f'{self.config.header_type} realm="{self.config.realm}"'

    def user_id(self, request):
        header = request.environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != self.config.header_type.lower() or not token:
            return None
        profile = self.verified_profile(request, token)
        if profile is None:
            request.__dict__["_kinto_token_refused"] = True
            return None
        user = profile.get(self.config.userid_field)
        if user is None or user == "":
            return None
        return Identity(f"{self.name}:{user}", self.name, profile)

    def verified_profile(self, request, token):
        config = self.config
        cache = request.registry.cache
        key = "openid:verify:" + hmac_digest(
            self.secret, f"{config.issuer}:{config.client_id}:{config.audience}:{token}"
        )
        profile = cache.get(key)
        if profile is not None:
            return profile
        ttl = config.verification_ttl
        try:
            if config.audience:
                claims = self.provider.check_jwt(token)
                if "exp" in claims:
                    ttl = min(ttl, int(claims["exp"] - time.time()))
            profile = self.provider.userinfo(token)
        except TokenRefused:
            return None
        if ttl > 0:
            cache.set(key, profile, ttl)
        return profile
