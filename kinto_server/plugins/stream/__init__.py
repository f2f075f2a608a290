"""The live change stream (``kinto_server.plugins.stream`` in
``kinto.includes``): Server-Sent Events of the changes a client may read,
resumable from any event, filtered by permissions when delivered.

- Every create, update and delete of a bucket, collection, group or record
  is appended to the storage's change log inside its transaction
  (``Storage.log_changes``): a rolled-back write is never logged, and the
  log's order is the commits' (see each backend for how).
- :mod:`.grant` is the API's side: ``GET /v1/changes/stream`` checks the
  parameters, the caller and its permissions.
- :mod:`.server` serves the streams, asynchronously, on their own port
  (``kinto.changes.stream.listen``), in a thread of this process;
  :mod:`.hub` reads the log and decides what each stream receives.

Settings (``kinto.changes.stream.*``): ``listen`` (host:port; no stream
server without it), ``url`` (the public URL announced in the
``changes_stream`` capability, when behind a proxy or listening on every
interface), ``heartbeat_seconds``, ``retry_milliseconds``,
``max_per_user``, ``max_per_process``, ``max_seconds`` (a stream's
longest life: its client then resumes), ``retention_hours`` (how long
changes stay in the log, so how far back a client may resume) and
``poll_seconds`` (how often the log is read for the writes of other
processes when no notification came).
"""

import logging

from pyramid.events import ApplicationCreated

from kinto_server.events import AfterResourceChanged, ResourceChanged
from kinto_server.plugins.stream import grant, tickets, wakeups
from kinto_server.plugins.stream.server import PATH, StreamServer, listening_socket
from kinto_server.settings import ConfigurationError

logger = logging.getLogger(__name__)

LOGGED_RESOURCES = ("bucket", "collection", "group", "record")
WILDCARD_HOSTS = ("", "0.0.0.0", "::", "[::]")


def log_change(event):
    """Append the change to the log, in the request's transaction (accounts
    are left out: their changes are nobody else's business)."""
    payload = event.payload
    if payload["resource_name"] not in LOGGED_RESOURCES:
        return
    parent_id = payload["uri"].rsplit("/", 2)[0]
    new = event.impacted_objects[0]["new"]
    storage = event.request.registry.storage
    storage.log_changes([(payload["action"], payload["resource_name"], parent_id, new)])


def parse_listen(value):
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigurationError(f"kinto.changes.stream.listen must be host:port, not {value!r}")
    return host.strip("[]"), int(port)


def includeme(config):
    registry = config.registry
    settings = registry.settings
    if not registry.storage.has_change_log:
        raise ConfigurationError(
            f"The change stream needs a storage backend with a change log; {type(registry.storage).__name__} has none"
        )
    config.add_subscriber(log_change, ResourceChanged)
    config.add_cornice_service(grant.stream)
    config.add_cornice_service(tickets.tickets)
    registry.implicit_authentication_sources.append(
        tickets.TicketSource(settings, PATH, grant.GRANT_KEY, grant.RECHECK_KEY)
    )
    registry.media_types[PATH] = ("text/event-stream",)  # What EventSource asks for.
    registry.stream_url = settings["changes.stream.url"]
    listen = settings["changes.stream.listen"]
    capability = {
        "description": "A live, resumable stream of the changes you may read (Server-Sent Events).",
        "url": registry.stream_url,
        "heartbeat_seconds": settings["changes.stream.heartbeat_seconds"],
    }
    registry.capabilities["changes_stream"] = capability
    if listen is None:
        return
    host, port = parse_listen(listen)
    if registry.stream_url is None and host in WILDCARD_HOSTS:
        raise ConfigurationError(
            f"kinto.changes.stream.listen = {listen} listens on every interface:"
            " set kinto.changes.stream.url to the URL clients use"
        )
    server = StreamServer(registry, settings)
    try:
        sock = listening_socket(host, port, settings["changes.stream.max_per_process"])
    except OSError as error:
        raise ConfigurationError(f"Cannot listen on {listen} for the change stream: {error.strerror}") from None
    if registry.stream_url is None:
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        registry.stream_url = capability["url"] = f"http://{shown}:{bound_port}{PATH}"
    registry.stream_server = server

    def start(event):
        server.start(event.app, sock)
        wakeups.start(server.hub, registry)
        logger.info("Change stream on %s", registry.stream_url)

    def wake(event):
        server.hub.wake_threadsafe()

    config.add_subscriber(start, ApplicationCreated)
    config.add_subscriber(wake, AfterResourceChanged)
