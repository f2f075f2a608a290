"""The login dance of Kinto's OpenID plugin, for clients that cannot talk to
the provider themselves (the admin page, kinto-http's browser login):

1. ``GET /v1/openid/{provider}/login?callback=<url>&scope=<scopes>[&prompt=none]``
   checks the scopes and the callback, keeps the callback under a random
   ``state`` for ``state_ttl_seconds``, and redirects (307) to the
   provider's authorization endpoint, with ``/v1/openid/{provider}/token``
   as its ``redirect_uri``;
2. the provider sends the browser to ``GET /v1/openid/{provider}/token?code=&state=``
   (or ``?error=&state=``), where the state is used up, the code traded for
   tokens, and the browser redirected (307) to the callback followed by the
   base64 of the provider's token answer (or by the error parameters).
"""

import base64
import secrets
import urllib.parse

from cornice import Service
from pyramid.httpexceptions import HTTPTemporaryRedirect

from kinto_server.errors import ERRORS, invalid_request
from kinto_server.plugins.openid.callbacks import is_trusted
from kinto_server.views.rendering import BASE_EXPOSED

STATE_PREFIX = "openid:state:"
CHOICE = "Provide either 'state' and 'code', or 'error' and 'error_description', but not both."

login = Service(name="openid_login", path="/openid/{provider}/login", description="Initiate the OAuth2 login")
token = Service(name="openid_token", path="/openid/{provider}/token", description="Trade a code for tokens")
login.exposed = token.exposed = {"GET": BASE_EXPOSED}


def _error(location, name, description, **extra):
    return {"location": location, "name": name, "description": description, **extra}


def _source(request, errors):
    """The configured OpenID source named in the path, or an error."""
    name = request.matchdict["provider"]
    source = request.registry.openid_sources.get(name)
    if source is None:
        errors.append(_error("path", "provider", f"Unknown provider {name!r}"))
    return source


def _required(request, errors, *names):
    for name in names:
        if name not in request.GET:
            errors.append(_error("querystring", name, "Required"))


def _is_url(value):
    parts = urllib.parse.urlsplit(value)
    return bool(parts.scheme and parts.netloc)


def _redirect(location):
    return HTTPTemporaryRedirect(location=location)


@login.get()
def get_login(request):
    errors = []
    query = request.GET
    _required(request, errors, "callback", "scope")
    if "callback" in query and not _is_url(query["callback"]):
        errors.append(_error("querystring", "callback", "Must be a URL"))
    prompt = query.get("prompt")
    if prompt is not None and prompt != "none":
        errors.append(_error("querystring", "prompt", "String does not match expected pattern"))
    source = _source(request, errors)
    if errors:
        return invalid_request(400, errors)
    config = source.config
    scopes = query["scope"].split()
    # No more power than needed in the tokens (offline_access: refresh tokens).
    refused = sorted(set(scopes) - config.allowed_scopes)
    if refused:
        return invalid_request(400, [_error("body", "scope", "Scopes not allowed: " + ", ".join(refused))])
    callback = query["callback"]
    if not is_trusted(callback, config.trusted_callbacks(request)):
        return invalid_request(400, [_error("body", "callback", "Untrusted callback URL")])
    if config.userid_field == "email" and "email" not in scopes:
        return invalid_request(400, [_error("body", "scope", f"Provider {config.name} requires 'email' scope")])

    authorize = source.provider.endpoint("authorization_endpoint")
    state = secrets.token_hex(config.state_length)
    request.registry.cache.set(STATE_PREFIX + state, callback, config.state_ttl)
    params = {
        "client_id": config.client_id,
        "response_type": "code",
        "scope": query["scope"],
        "redirect_uri": request.route_url("openid_token", provider=config.name),
        "state": state,
    }
    if prompt:
        params["prompt"] = prompt
    if config.audience:
        params["audience"] = config.audience
    separator = "&" if "?" in authorize else "?"
    return _redirect(authorize + separator + urllib.parse.urlencode(params))


@token.get()
def get_token(request):
    errors = []
    query = request.GET
    _required(request, errors, "state")
    if "state" in query and ("code" in query) == ("error" in query):
        errors.append(_error("querystring", "", CHOICE))
    source = _source(request, errors)
    if errors:
        return invalid_request(400, errors)
    config = source.config
    # A state is good for one use only.
    callback = request.registry.cache.delete(STATE_PREFIX + query["state"])
    if callback is None:
        return invalid_request(400, [_error("body", "state", "Invalid state", errno=int(ERRORS.INVALID_AUTH_TOKEN))])
    if "error" in query:
        # The provider refused (the user said no, an unknown audience...):
        # the client learns it at its callback.
        answer = {"error": query["error"]}
        if query.get("error_description"):
            answer["error_description"] = query["error_description"]
        return _redirect(callback + urllib.parse.urlencode(answer))
    _status, text = source.provider.exchange_code(
        query["code"],
        config.client_id,
        config.client_secret,
        request.route_url("openid_token", provider=config.name),
    )
    # The provider's answer goes to the client as it is (its errors too).
    encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return _redirect(callback + urllib.parse.quote(encoded))


def includeme(config):
    config.add_cornice_service(login)
    config.add_cornice_service(token)
