"""Measurements of requests and backends, with Kinto's names and labels,
handed to the metrics services that plugins register
(:mod:`kinto_server.plugins.prometheus`, :mod:`kinto_server.plugins.statsd`).

Names are Kinto's dotted keys (``backend.storage.seconds``); each service
spells them its own way (``kinto_backend_storage_seconds`` for Prometheus).
Labels are ``(name, value)`` pairs. What is measured:

- every request: ``request_summary`` (count; method, endpoint, the ids of
  ``metrics_matchdict_fields`` on successes, status),
  ``request_duration_seconds`` and ``request_size`` (the response body's
  bytes), ``users`` (auth, userid) and ``authentication`` (type);
- each public method of the storage, permission and cache backends:
  ``backend.<role>.seconds`` (method; a call made inside another one is
  part of it, not measured again), and the cache's ``cache_hits`` /
  ``cache_misses``;
- each authentication source: ``authentication.<name>.seconds``;
- the history plugin and Kinto-style event listeners: ``plugins.history``,
  ``listeners.<name>`` (seconds).

With no service registered nothing is wrapped or measured: a server without
a metrics plugin pays nothing.
"""

import functools
import inspect
import threading
import time

from pyramid.events import ApplicationCreated
from pyramid.interfaces import ISecurityPolicy

#: Cornice service names whose Kinto endpoint label differs.
KINTO_ENDPOINTS = {
    "accounts": "account-plural",
    "account": "account-object",
    "history": "history-plural",
    "user-data": "user-data-object",
    "user-data-list": "user-data-plural",
}


class Metrics:
    """The registered services, as one (a single service is called directly)."""

    def __init__(self):
        self.services = []

    def __bool__(self):
        return bool(self.services)

    DIRECT = ("timing", "observe", "count", "request_done")

    def add(self, service):
        self.services.append(service)
        for name in self.DIRECT:
            if len(self.services) == 1:
                setattr(self, name, getattr(service, name))
            else:
                self.__dict__.pop(name, None)

    def request_done(self, names, values, status, seconds, size, user):
        """A request's measurements at once (see :func:`record_request`)."""
        for service in self.services:
            service.request_done(names, values, status, seconds, size, user)

    def timing(self, key, seconds, labels=()):
        for service in self.services:
            service.timing(key, seconds, labels)

    def observe(self, key, value, labels=()):
        for service in self.services:
            service.observe(key, value, labels)

    def count(self, key, count=1, labels=()):
        for service in self.services:
            service.count(key, count, labels)

    def timer(self, key, labels=()):
        """A function recording a duration under ``key`` and these labels:
        what a measurement site that always has the same ones keeps."""
        records = [service.timer(key, labels) for service in self.services]
        if len(records) == 1:
            return records[0]

        def record(seconds):
            for each in records:
                each(seconds)

        return record


def timed(metrics, key, func, labels=()):
    """``func``, reporting how long each call took under ``key``."""
    record = metrics.timer(key, labels)

    @functools.wraps(func)
    def measured(*args, **kwargs):
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            record(time.perf_counter() - started)

    return measured


class _Inside(threading.local):
    busy = False  # per thread: within a measured backend call


_inside = _Inside()


def timed_outermost(metrics, key, func, labels=()):
    """``timed``, but only for a call that no other such call encloses: a
    backend method that calls others is one measurement (what the request
    waited for), not one per method it went through."""
    record = metrics.timer(key, labels)

    @functools.wraps(func)
    def measured(*args, **kwargs):
        if _inside.busy:
            return func(*args, **kwargs)
        _inside.busy = True
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            _inside.busy = False
            record(time.perf_counter() - started)

    return measured


def timed_listener(registry, key, listener):
    """An event subscriber timed under ``key`` once a service is registered
    (subscribers are added before the plugins that register services)."""

    @functools.wraps(listener)
    def measured(event):
        metrics = registry.metrics
        if not metrics:
            return listener(event)
        started = time.perf_counter()
        try:
            return listener(event)
        finally:
            metrics.timing(key + ".seconds", time.perf_counter() - started)

    return measured


def _watch_methods(metrics, obj, key):
    for name, method in inspect.getmembers(obj, inspect.ismethod):
        if not name.startswith("_") and name != "from_settings":
            setattr(obj, name, timed_outermost(metrics, key, method, (("method", name),)))


def _watch_cache_hits(metrics, cache):
    get = cache.get

    @functools.wraps(get)
    def counted(key):
        value = get(key)
        metrics.count("cache_hits" if value is not None else "cache_misses")
        return value

    cache.get = counted


def _watch(event):
    registry = event.app.registry
    metrics = registry.metrics
    if not metrics:
        return
    for role in ("storage", "permission", "cache"):
        _watch_methods(metrics, getattr(registry, role), f"backend.{role}.seconds")
    _watch_cache_hits(metrics, registry.cache)
    combined = registry.combined
    lineage_labels = (("method", "read_lineage"),)
    combined.read_lineage = timed_outermost(metrics, "backend.storage.seconds", combined.read_lineage, lineage_labels)
    policy = registry.queryUtility(ISecurityPolicy)
    for source in getattr(policy, "sources", ()):
        key = f"authentication.{source.name}.seconds"
        source.user_id = timed(metrics, key, source.user_id, (("method", "user_id"),))


def _endpoint(request, status):
    route = request.matched_route
    if route is not None:
        return KINTO_ENDPOINTS.get(route.name, route.name)
    return "unknown" if status == 404 else "unnamed"


def request_labels(names, values, status):
    """The labels of Kinto's three request metrics (summary, duration and
    size) from the request's label ``names`` and ``values``."""
    labels = tuple(zip(names, values, strict=True))
    return (*labels, ("status", str(status))), labels


def user_labels(user_id, policy):
    """The labels of Kinto's ``users`` and ``authentication`` counts."""
    auth, _, user = user_id.partition(":")
    return (("auth", auth), ("userid", user.replace(":", "."))), (("type", policy),)


def record_request(request, response, seconds, names):
    """The request's measurements, as Kinto takes them: ``names`` are the
    label names (method, endpoint, then the ``metrics_matchdict_fields``)."""
    status = response.status_code
    # A failure's ids would let anyone mint label values (404s of random ids).
    matchdict = request.matchdict if status < 400 else None
    fields = names[2:]
    ids = tuple([str(matchdict.get(f, "")) for f in fields]) if matchdict else ("",) * len(fields)
    values = (request.method.lower(), _endpoint(request, status), *ids)
    length = response.content_length
    if length is None:  # Never read a streamed body here.
        length = sum(map(len, response.app_iter)) if isinstance(response.app_iter, (list, tuple)) else 0
    identity = request.__dict__.get("_kinto_identity")
    user = (identity.user_id, identity.policy) if identity is not None and identity.user_id else None
    request.registry.metrics.request_done(names, values, status, seconds, length, user)


def metrics_tween_factory(handler, registry):
    names = ("method", "endpoint", *registry.settings["metrics_matchdict_fields"])

    def metrics_tween(request):
        if not registry.metrics:
            return handler(request)
        started = time.perf_counter()
        response = handler(request)
        record_request(request, response, time.perf_counter() - started, names)
        return response

    return metrics_tween


def includeme(config):
    config.registry.metrics = Metrics()
    config.add_subscriber(_watch, ApplicationCreated)
