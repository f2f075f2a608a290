"""Stream tickets: how a browser's ``EventSource``, which cannot send an
``Authorization`` header, opens a stream of private data.

``POST /v1/changes/stream/tickets`` (authenticated as any request) answers a
ticket: the caller's user id and an expiry, signed with
``kinto.userid_hmac_secret``. ``GET /v1/changes/stream?ticket=...`` then
authenticates as that user. A ticket opens one stream, once, within
``kinto.changes.stream.ticket_seconds`` (60; its use is remembered in the
cache backend); the stream's own rechecks keep using it for its life, so a
stream opened by a ticket still loses what its user may no longer read.
"""

import base64
import binascii
import hmac
import time

import ujson
from cornice import Service

from kinto_server.authentication import hmac_digest
from kinto_server.errors import cornice_errors_to_response
from kinto_server.resources.access import forbidden
from kinto_server.views.rendering import BASE_EXPOSED, json_response

SOURCE_NAME = "stream-ticket"

tickets = Service(
    name="changes-stream-tickets",
    path="/changes/stream/tickets",
    description="A single-use ticket that opens a change stream as the caller (for EventSource)",
    error_handler=cornice_errors_to_response,
)
tickets.exposed = {"POST": BASE_EXPOSED}


def _sign(secret, payload):
    return hmac_digest(secret, "stream-ticket:" + payload)[:40]


def make_ticket(secret, user_id, expires):
    payload = base64.urlsafe_b64encode(ujson.dumps({"u": user_id, "e": expires}).encode()).decode().rstrip("=")
    return f"{payload}.{_sign(secret, payload)}"


def read_ticket(secret, ticket):
    """``(user id, expiry in ms)`` of a genuine ticket, or None."""
    payload, _, signature = ticket.partition(".")
    if not payload or not hmac.compare_digest(signature, _sign(secret, payload)):
        return None
    try:
        content = ujson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(content["u"]), int(content["e"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None


class TicketSource:
    """Authenticates the stream's own path from its ``ticket`` parameter."""

    name = SOURCE_NAME

    def __init__(self, settings, path, grant_key, recheck_key):
        self.secret = settings["userid_hmac_secret"]
        self.path, self.grant_key, self.recheck_key = path, grant_key, recheck_key

    def user_id(self, request):
        if request.path_info != self.path:
            return None
        ticket = request.GET.get("ticket")
        if not ticket:
            return None
        found = read_ticket(self.secret, ticket)
        if found is None:
            return None
        user_id, expires = found
        if request.environ.get(self.recheck_key):
            return user_id  # The stream it opened goes on.
        if expires < time.time() * 1000:
            return None
        if not request.environ.get(self.grant_key):
            return user_id  # The API's port only checks, and redirects to the stream server.
        cache = request.registry.cache
        key = "stream-ticket:" + ticket.rpartition(".")[2]
        if cache.get(key) is not None:
            return None  # Used once already.
        cache.set(key, "used", ttl=max(1, int(expires / 1000 - time.time()) + 1))
        return user_id


@tickets.post()
def post_ticket(request):
    user_id = request.authenticated_userid
    if user_id is None or request.identity.policy == SOURCE_NAME:
        raise forbidden(request)
    seconds = request.registry.settings["changes.stream.ticket_seconds"]
    expires = int((time.time() + seconds) * 1000)
    ticket = make_ticket(request.registry.settings["userid_hmac_secret"], user_id, expires)
    return json_response({"ticket": ticket, "expires": expires}, 201, {"Cache-Control": "no-store"})
