"""Resource events, as Kinto emits them.

- :class:`ResourceChanged` is notified inside the request's transaction, as
  soon as an object is created, updated or deleted: subscribers that write
  (the history plugin) succeed or fail with the change itself.
- :class:`AfterResourceChanged` is notified once the change is committed, and
  only if it was: for listeners that talk to the outside world.

Both carry Kinto's ``payload`` (action, uri, resource_name, ids, user_id,
timestamp) and ``impacted_objects`` (``[{"old": ..., "new": ...}]``).

Listeners are configured as in Kinto::

    kinto.event_listeners = mylistener
    kinto.event_listeners.mylistener.use = some.module
    kinto.event_listeners.mylistener.actions = create delete
    kinto.event_listeners.mylistener.resources = record

where ``some.module.load_from_config(config, prefix)`` returns a callable
taking the event.
"""

import importlib
import logging
from dataclasses import dataclass, field

from kinto_server.environ_keys import PARENT_PENDING_EVENTS, PENDING_EVENTS
from kinto_server.metrics import timed_listener
from kinto_server.settings import ConfigurationError, as_list

logger = logging.getLogger(__name__)


@dataclass
class _ResourceEvent:
    payload: dict
    impacted_objects: list
    request: object = field(repr=False)


class ResourceChanged(_ResourceEvent):
    """Notified inside the transaction."""


class AfterResourceChanged(_ResourceEvent):
    """Notified after the commit. Not a ResourceChanged: subscribers of one
    never receive the other."""


def _payload(request, action, ref, timestamp):
    payload = {
        "action": action,
        "uri": ref.uri,
        "resource_name": ref.resource.name,
        "id": ref.object_id,
        "timestamp": timestamp,
        "user_id": request.authenticated_userid,
    }
    for lineage_ref in ref.lineage():
        payload[f"{lineage_ref.resource.name}_id"] = lineage_ref.object_id
    return payload


def notify(request, action, ref, old, new, permissions=None):
    """Announce one change: now (in the transaction), and after the commit."""
    impacted = [{"old": old, "new": new, "permissions": permissions}]
    payload = _payload(request, action, ref, new["last_modified"])
    request.registry.notify(ResourceChanged(payload, impacted, request))
    request.environ.setdefault(PENDING_EVENTS, []).append(AfterResourceChanged(payload, impacted, request))


@dataclass
class AfterCommit:
    """A call to make once the request's transaction is committed, and only
    if it is: queued with the request's events (a batch's sub-request hands
    it to its batch; a request tried again forgets the abandoned attempt's)."""

    callback: object

    def run(self):
        self.callback()


def after_commit(request, callback):
    """Call ``callback()`` once the current change is committed (never if it is not)."""
    request.environ.setdefault(PENDING_EVENTS, []).append(AfterCommit(callback))


def after_commit_tween_factory(handler, registry):
    """Sends the AfterResourceChanged events of a successful request once its
    transaction is committed (this tween sits above the transaction's); a
    batch sub-request hands its events to the batch."""

    def after_commit_tween(request):
        response = handler(request)
        pending = request.environ.pop(PENDING_EVENTS, [])
        if not pending or response.status_code >= 400:
            return response
        parent_pending = request.environ.get(PARENT_PENDING_EVENTS)
        if parent_pending is not None:
            parent_pending.extend(pending)
            return response
        for event in pending:
            try:
                if isinstance(event, AfterCommit):
                    event.run()
                else:
                    registry.notify(event)
            except Exception:
                logger.exception("After-commit work failed: %r", getattr(event, "payload", event))
        return response

    return after_commit_tween


def _listener(config, name):
    settings = config.registry.settings
    prefix = f"event_listeners.{name}."
    module_name = settings.get(prefix + "use")
    if not module_name:
        raise ConfigurationError(f"kinto.{prefix}use is required for the event listener {name!r}")
    module = importlib.import_module(module_name)
    listener = module.load_from_config(config, prefix)
    actions = set(as_list(settings.get(prefix + "actions", "create update delete")))
    resources = set(as_list(settings.get(prefix + "resources", "bucket collection group record")))

    def subscriber(event):
        if event.payload["action"] in actions and event.payload["resource_name"] in resources:
            listener(event)

    return subscriber


def includeme(config):
    for name in as_list(config.registry.settings.get("event_listeners", "")):
        listener = timed_listener(config.registry, f"listeners.{name}", _listener(config, name))
        config.add_subscriber(listener, AfterResourceChanged)
