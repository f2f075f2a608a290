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
  ``backend.<role>.seconds`` (method), and the cache's ``cache_hits`` /
  ``cache_misses``; the lineage read and the creation that touch storage
  and permissions together (``registry.combined``) are one measurement
  each, as storage ``read_lineage`` and ``create``. What the request waits
  for is measured, once: the calls a backend makes inside another (its own
  methods, or the two behind ``registry.combined``) are part of that one;
- each authentication source: ``authentication.<name>.seconds``;
- the history plugin and Kinto-style event listeners: ``plugins.history``,
  ``listeners.<name>`` (seconds).

With no service registered nothing is wrapped or measured: a server without
a metrics plugin pays nothing.
"""

import functools
import inspect
import time

from pyramid.events import ApplicationCreated
from pyramid.interfaces import ISecurityPolicy

from kinto_server.environ_keys import IDENTITY_KEY

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

    def request_done(self, labels, seconds, size, user):
        """A request's measurements at once: its :class:`LabelSet`, how long
        it took, its body's bytes, the user's :class:`LabelSet` (or None)."""
        for service in self.services:
            service.request_done(labels, seconds, size, user)

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

    def counter(self, key):
        """A function counting one more under ``key`` (no labels)."""
        counts = [service.counter(key) for service in self.services]
        if len(counts) == 1:
            return counts[0]

        def count():
            for each in counts:
                each()

        return count


def timed(metrics, key, func, labels=()):
    """``func``, reporting how long each call took under ``key``."""
    record, clock = metrics.timer(key, labels), time.perf_counter

    @functools.wraps(func)
    def measured(*args, **kwargs):
        started = clock()
        try:
            return func(*args, **kwargs)
        finally:
            record(clock() - started)

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


class Watched:
    """A backend as the application sees it once metrics are on: its public
    methods timed, everything else the backend's own, ``isinstance`` as the
    backend. The backend itself is left alone, so that the calls it makes
    to its own methods, and those of ``registry.combined`` (which holds the
    backends), are part of the measured call rather than measured again,
    without a check on each."""

    def __init__(self, backend, measure):
        object.__setattr__(self, "_backend", backend)
        object.__setattr__(self, "_measure", measure)
        for name, method in inspect.getmembers(backend, inspect.ismethod):
            if not name.startswith("_") and name != "from_settings":
                object.__setattr__(self, name, measure(name, method))

    @property
    def __class__(self):
        return type(self._backend)

    def __getattr__(self, name):  # what is not a timed method
        return getattr(self._backend, name)

    def __setattr__(self, name, value):
        setattr(self._backend, name, value)
        if name in self.__dict__:  # a method replaced (tests, plugins): timed too
            object.__setattr__(self, name, self._measure(name, value))

    def __repr__(self):
        return f"<measured {self._backend!r}>"


def _timed_method(metrics, key):
    def measure(name, method):
        return timed(metrics, key, method, (("method", name),))

    return measure


def _cache_method(metrics):
    """The cache's methods timed, and ``get`` counting hits and misses."""
    timed_method = _timed_method(metrics, "backend.cache.seconds")
    hit, miss = metrics.counter("cache_hits"), metrics.counter("cache_misses")

    def measure(name, method):
        measured = timed_method(name, method)
        if name != "get":
            return measured

        @functools.wraps(method)
        def counted(key):
            value = measured(key)
            (hit if value is not None else miss)()
            return value

        return counted

    return measure


def _watch(event):
    registry = event.app.registry
    metrics = registry.metrics
    if not metrics:
        return
    registry.storage = Watched(registry.storage, _timed_method(metrics, "backend.storage.seconds"))
    registry.permission = Watched(registry.permission, _timed_method(metrics, "backend.permission.seconds"))
    registry.cache = Watched(registry.cache, _cache_method(metrics))
    combined = registry.combined
    for name in ("read_lineage", "create"):
        method = getattr(combined, name)
        setattr(combined, name, timed(metrics, "backend.storage.seconds", method, (("method", name),)))
    policy = registry.queryUtility(ISecurityPolicy)
    for source in getattr(policy, "sources", ()):
        key = f"authentication.{source.name}.seconds"
        source.user_id = timed(metrics, key, source.user_id, (("method", "user_id"),))


class LabelSet:
    """The labels of one kind of request (or of one user), spelled once:
    ``derived`` keeps what each service makes of them (its lines, its
    slots), keyed by the service."""

    __slots__ = ("first", "second", "derived")

    def __init__(self, first, second):
        self.first, self.second, self.derived = first, second, {}


#: Label sets kept by a server: more kinds of request (one per record id,
#: with Kinto's default ``metrics_matchdict_fields``) start the cache afresh.
MAX_LABEL_SETS = 10_000


def _request_label_set(request, method, route, status, fields):
    """Kinto's labels of the request metrics: ``first`` those of the
    summary (method, endpoint, the ``fields`` ids, status), ``second`` those
    of the duration and size (the same without the status)."""
    code = int(status.split(" ", 1)[0])
    if route is not None:
        endpoint = KINTO_ENDPOINTS.get(route, route)
    else:
        endpoint = "unknown" if code == 404 else "unnamed"
    # A failure's ids would let anyone mint label values (404s of random ids).
    ids = (request.matchdict or {}) if code < 400 else {}
    common = (("method", method.lower()), ("endpoint", endpoint), *((f, str(ids.get(f, ""))) for f in fields))
    return LabelSet((*common, ("status", str(code))), common)


def _user_label_set(user_id, policy):
    """Kinto's labels of ``users`` (``first``) and ``authentication``."""
    auth, _, user = user_id.partition(":")
    return LabelSet((("auth", auth), ("userid", user.replace(":", "."))), (("type", policy),))


def metrics_tween_factory(handler, registry):
    """The request's measurements, as Kinto takes them (label names:
    method, endpoint, then the ``metrics_matchdict_fields``). Plugins have
    registered their services when tweens are made: without one, this tween
    is not even called. A request's label sets are found by what identifies
    them, in one dictionary lookup, and spelled only the first time."""
    metrics = registry.metrics
    if not metrics:
        return handler
    fields = tuple(registry.settings["metrics_matchdict_fields"])
    clock = time.perf_counter
    request_done = metrics.request_done
    requests, users = {}, {}

    def metrics_tween(request):
        started = clock()
        response = handler(request)
        seconds = clock() - started
        route = request.matched_route
        route = route.name if route is not None else None
        matchdict = request.matchdict
        method, status = request.environ["REQUEST_METHOD"], response.status
        key = (method, route, status, tuple(matchdict.values()) if matchdict else ())
        labels = requests.get(key)
        if labels is None:
            if len(requests) >= MAX_LABEL_SETS:
                requests.clear()
            labels = requests[key] = _request_label_set(request, method, route, status, fields)
        identity = request.__dict__.get(IDENTITY_KEY)
        if identity is not None and identity.user_id:
            key = (identity.user_id, identity.policy)
            user = users.get(key)
            if user is None:
                if len(users) >= MAX_LABEL_SETS:
                    users.clear()
                user = users[key] = _user_label_set(*key)
        else:
            user = None
        app_iter = response.app_iter  # The body's bytes, never reading a streamed one:
        size = sum(map(len, app_iter)) if type(app_iter) is list else response.content_length or 0
        request_done(labels, seconds, size, user)
        return response

    return metrics_tween


def includeme(config):
    config.registry.metrics = Metrics()
    config.add_subscriber(_watch, ApplicationCreated)
