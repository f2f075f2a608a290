"""Pagination tokens: keyset continuation signed by the server.

A token carries the sort values and id of the last object of the page, and
an expiry time. The next page holds the objects strictly after that key, so
pages neither repeat nor skip objects that did not change meanwhile, however
many objects are created or deleted between two pages. Tokens are signed with
an HMAC so a tampered one is refused (400) instead of reaching a backend; no
server-side state is kept, so any server process accepts any token.
"""

import base64
import binascii
import hashlib
import hmac
import time
from urllib.parse import urlencode

import ujson

from kinto_server.errors import invalid_parameters
from kinto_server.storage.evaluation import MISSING, resolve


def _signature(secret, payload):
    return hmac.new(secret, payload, hashlib.sha256).hexdigest()[:32]


def _secret(settings):
    return ("pagination:" + settings["userid_hmac_secret"]).encode("utf-8")


def last_object_key(obj, sorting):
    """The part of ``obj`` the next page starts after."""
    key = {"id": obj["id"]}
    for sort in sorting:
        value = resolve(obj, sort.field)
        if value is not MISSING:
            _assign(key, sort.field, value)
    return key


def _assign(target, dotted, value):
    parts = dotted.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            return
    target[parts[-1]] = value


def encode(settings, last_key):
    validity = settings["pagination_token_validity_seconds"]
    body = ujson.dumps({"last": last_key, "exp": int(time.time()) + validity}).encode("utf-8")
    payload = base64.urlsafe_b64encode(body).rstrip(b"=")
    return (payload + b"." + _signature(_secret(settings), payload).encode("ascii")).decode("ascii")


def decode(settings, token):
    """The last object key stored in ``token``; 400 if invalid or expired."""
    error = invalid_parameters("querystring", None, "_token has invalid content")
    try:
        payload, _, signature = token.encode("ascii").partition(b".")
        if not hmac.compare_digest(_signature(_secret(settings), payload).encode("ascii"), signature):
            raise error
        body = ujson.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
        last_key, expires = body["last"], body["exp"]
    except (UnicodeError, ValueError, binascii.Error, KeyError, TypeError):
        raise error from None
    if not isinstance(last_key, dict) or not isinstance(expires, int) or expires < time.time():
        raise error
    # Signed by us, but checked all the same: a leaked secret must not turn
    # into a 500 (an id compared with a number, a timestamp cast from text).
    stamp = last_key.get("last_modified")
    if not isinstance(last_key.get("id"), str) or (
        stamp is not None and (not isinstance(stamp, int) or isinstance(stamp, bool) or abs(stamp) >= 2**63)
    ):
        raise error
    return last_key


def next_page_url(request, token, limit):
    """The current URL with ``_token`` (and ``_limit``) set for the next page:
    the other parameters stay in their order, as Kinto writes it."""
    params = dict(request.GET.items())
    params["_limit"] = str(limit)
    params["_token"] = token
    settings = request.registry.settings
    scheme = settings["http_scheme"] or request.scheme
    host = settings["http_host"] or request.host
    return f"{scheme}://{host}{request.path}?{urlencode(params)}"
