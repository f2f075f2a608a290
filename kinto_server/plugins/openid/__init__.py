"""OpenID Connect (Kinto's ``kinto.plugins.openid``): users of an identity
provider (Google, Auth0, Keycloak...) call the API with the provider's
access tokens, and browsers log in through ``/v1/openid/{provider}/login``.

Enable it with::

    kinto.includes = kinto.plugins.openid
    multiauth.policies = myprovider basicauth
    multiauth.policy.myprovider.use = kinto.plugins.openid.OpenIDConnectPolicy
    multiauth.policy.myprovider.issuer = https://auth.example.com
    multiauth.policy.myprovider.client_id = ...
    multiauth.policy.myprovider.client_secret = ...

Kinto's other per-provider settings are read too: ``audience`` (access
tokens must then be JWTs signed by the provider for it), ``userid_field``
(``sub``), ``header_type`` (``Bearer``), ``verification_ttl_seconds``,
``state_ttl_seconds``, ``state_length``, ``allowed_scopes``,
``trusted_callback_urls``; and ours, ``timeout_seconds`` (10) for every
call to the provider.

Beyond Kinto: a provider that cannot be reached at start-up does not stop
the server (it is asked again when needed), and one that is down while a
token is checked or a code traded gets a 503, not a 500.
"""

from kinto_server.plugins.openid.policy import OpenIDSource, openid_policy_names

DOCS_URL = "http://kinto.readthedocs.io/en/stable/api/1.x/authentication.html"


def source_for(registry, name, settings):
    """The one source of the provider ``name`` (the plugin's views and the
    security policy share it)."""
    sources = registry.openid_sources
    if name not in sources:
        sources[name] = OpenIDSource(name, settings)
    return sources[name]


def _capability_entry(source):
    config = source.config
    entry = {
        "name": config.name,
        "issuer": config.issuer,
        "auth_path": f"/openid/{config.name}/login",
        "client_id": config.client_id,
        "audience": config.audience,
        "header_type": config.header_type,
        "userinfo_endpoint": None,
    }

    def discovered(document):
        entry["issuer"] = document.get("issuer", config.issuer)
        entry["userinfo_endpoint"] = document["userinfo_endpoint"]

    source.provider.on_discovery.append(discovered)
    return entry


def _security_scheme(source, registry):
    def discovered(document):
        registry.openapi_security_schemes[source.name] = {
            "type": "oauth2",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": document["authorization_endpoint"],
                    "tokenUrl": document["token_endpoint"],
                    "scopes": {scope: scope for scope in sorted(source.config.allowed_scopes)},
                }
            },
        }

    source.provider.on_discovery.append(discovered)


def includeme(config):
    registry = config.registry
    settings = registry.settings
    config.include("kinto_server.plugins.openid.views")
    names = openid_policy_names(settings)
    if not names:
        return  # As Kinto: the endpoints answer "Unknown provider", no capability.
    providers = []
    for name in names:
        source = source_for(registry, name, settings)
        providers.append(_capability_entry(source))
        _security_scheme(source, registry)
        source.provider.try_discovery()
    registry.capabilities["openid"] = {
        "description": "OpenID connect support.",
        "url": DOCS_URL,
        "providers": providers,
    }
    registry.user_profiles = True
