"""``GET /v1/__metrics__`` (Kinto's ``kinto.plugins.prometheus``): the
measurements of :mod:`kinto_server.metrics` in Prometheus's text format,
with Kinto's metric names (``kinto_request_summary_total``,
``kinto_request_duration_seconds``, ``kinto_backend_storage_seconds``...)
and settings: ``prometheus_prefix`` (``kinto``), ``prometheus_disabled_metrics``,
``prometheus_histogram_buckets``, ``prometheus_created_metrics_enabled``.

Measuring must cost a request next to nothing, so values are kept in plain
per-thread dictionaries (no lock, no lost update: each thread writes only
its own), summed when ``/__metrics__`` is read. With several worker
processes (``kinto_server start --workers N``, whose parent sets
``PROMETHEUS_MULTIPROC_DIR``; set it yourself for servers started
otherwise), each process also writes its totals to that folder every
second (``metrics-<pid>.json``, replaced atomically), and whichever answers
``/__metrics__`` adds the others' files to its own live values: every
worker reports the sum of all, the other workers' part at most a second
old, and a worker that died still counts.

The Prometheus project's client (prometheus-client) writes the text format
and the process collectors; its own metric objects, which take a lock per
update, are not used on the request path.
"""

import bisect
import glob
import json
import os
import tempfile
import threading
import time

from kinto_server.settings import ConfigurationError

DUMP_SECONDS = 1.0
COUNTER, HISTOGRAM, SUMMARY = "counter", "histogram", "summary"


def _metric_name(key):
    return key.replace("-", "_").replace(".", "_").replace(" ", "_")


class Store:
    """Exact sums without locks: each thread adds to its own dictionary;
    readers copy them (a dictionary copy is atomic under the GIL)."""

    def __init__(self, on_first_thread=None):
        self._local = threading.local()
        self._threads = []
        self._lock = threading.Lock()
        self._on_first_thread = on_first_thread

    def mine(self):
        values = getattr(self._local, "values", None)
        if values is None:
            values = self._local.values = {}
            with self._lock:
                self._threads.append(values)
                first = len(self._threads) == 1
            if first and self._on_first_thread is not None:
                self._on_first_thread()
        return values

    def totals(self):
        """``{key: list of numbers}``, summed over the threads."""
        with self._lock:
            threads = list(self._threads)
        totals = {}
        for values in threads:
            for key, numbers in dict(values).items():
                numbers = list(numbers)
                found = totals.get(key)
                totals[key] = numbers if found is None else [a + b for a, b in zip(found, numbers, strict=True)]
        return totals


def merge(into, other):
    for key, numbers in other.items():
        found = into.get(key)
        into[key] = list(numbers) if found is None else [a + b for a, b in zip(found, numbers, strict=True)]
    return into


class PrometheusService:
    """Kinto's keys to Prometheus names and kinds. The threads' values are
    keyed by what the callers pass, ``(key, labels)``, so that a measurement
    is a dictionary lookup and an addition; ``meta`` names each such pair
    for Prometheus (None: disabled). A value is a list: ``[count]`` for a
    counter, ``[count, sum]`` for a summary, a count per bucket then the
    sum for a histogram."""

    def __init__(self, prefix, disabled, buckets, folder=None):
        self.prefix = prefix
        self.folder = folder
        self.disabled = {_metric_name(name).removeprefix(prefix) for name in disabled}
        self.bounds = sorted(buckets)
        if self.bounds[-1] != float("inf"):
            self.bounds.append(float("inf"))
        self.store = Store(self._start_dumping if folder else None)
        self.kinds = {}  # name -> (kind, label names)
        self.meta = {}  # (key, labels) -> (name, label values), or None when disabled
        self.created = {}  # (name, label values) -> time of the first observation here
        self._lock = threading.Lock()

    def _start_dumping(self):
        """In multiprocess mode: from the first value on, write this
        process's totals for the others (in the process that measures: the
        app is loaded after the fork)."""
        threading.Thread(target=_dump_forever, args=(self, self.folder), name="metrics-dump", daemon=True).start()

    def _new(self, values, kind, key, labels, slot=None):
        """The numbers of a first measurement in this thread, under ``slot``
        (``(key, labels)`` by default)."""
        slot = (key, labels) if slot is None else slot
        meta = self.meta.get(slot, False)
        if meta is False:
            with self._lock:
                name = _metric_name(key)
                if name in self.disabled:
                    meta = None
                else:
                    meta = (name, tuple(value for _, value in labels))
                    self.kinds.setdefault(name, (kind, tuple(label for label, _ in labels)))
                    self.created.setdefault(meta, time.time())
                self.meta[slot] = meta
        size = {COUNTER: 1, SUMMARY: 2}.get(kind, len(self.bounds) + 1)
        numbers = values[slot] = [0] * size
        return numbers

    def timer(self, key, labels=()):
        # A string slot: its hash is computed once, where a tuple's would be
        # computed again at each measurement.
        slot = f"{key}\x1f{labels!r}"
        bounds, store = self.bounds, self.store

        def record(seconds):
            values = store.mine()
            numbers = values.get(slot) or self._new(values, HISTOGRAM, key, labels, slot)
            numbers[bisect.bisect_left(bounds, seconds)] += 1
            numbers[-1] += seconds

        return record

    def counter(self, key):
        slot, store = f"{key}\x1f()", self.store

        def count():
            values = store.mine()
            (values.get(slot) or self._new(values, COUNTER, key, (), slot))[0] += 1

        return count

    def timing(self, key, seconds, labels=()):
        values = self.store.mine()
        numbers = values.get((key, labels)) or self._new(values, HISTOGRAM, key, labels)
        numbers[bisect.bisect_left(self.bounds, seconds)] += 1
        numbers[-1] += seconds

    def observe(self, key, value, labels=()):
        values = self.store.mine()
        numbers = values.get((key, labels)) or self._new(values, SUMMARY, key, labels)
        numbers[0] += 1
        numbers[1] += value

    def count(self, key, count=1, labels=()):
        values = self.store.mine()
        numbers = values.get((key, labels)) or self._new(values, COUNTER, key, labels)
        numbers[0] += count

    def _request_slots(self, labels):
        """The slots of a request's three metrics, named once per label set."""
        summary, common = labels.first, labels.second
        found = labels.derived[self] = (
            (f"request_summary\x1f{summary!r}", COUNTER, "request_summary", summary),
            (f"request_duration_seconds\x1f{common!r}", HISTOGRAM, "request_duration_seconds", common),
            (f"request_size\x1f{common!r}", SUMMARY, "request_size", common),
        )
        return found

    def _user_slots(self, user):
        found = user.derived[self] = (
            (f"users\x1f{user.first!r}", COUNTER, "users", user.first),
            (f"authentication\x1f{user.second!r}", COUNTER, "authentication", user.second),
        )
        return found

    def request_done(self, labels, seconds, size, user):
        store = self.store.mine()
        summary, duration, length = labels.derived.get(self) or self._request_slots(labels)
        (store.get(summary[0]) or self._new(store, *summary[1:], summary[0]))[0] += 1
        numbers = store.get(duration[0]) or self._new(store, *duration[1:], duration[0])
        numbers[bisect.bisect_left(self.bounds, seconds)] += 1
        numbers[-1] += seconds
        numbers = store.get(length[0]) or self._new(store, *length[1:], length[0])
        numbers[0] += 1
        numbers[1] += size
        if user is not None:
            for slot, kind, key, labels in user.derived.get(self) or self._user_slots(user):
                (store.get(slot) or self._new(store, kind, key, labels, slot))[0] += 1

    def totals(self):
        """``{(name, label values): numbers}``, summed over the threads."""
        totals = {}
        for pair, numbers in self.store.totals().items():
            meta = self.meta.get(pair)
            if meta is not None:
                merge(totals, {meta: numbers})
        return totals


class Collector:
    """prometheus-client's view of the service: this process's values, and
    the other processes' last totals in multiprocess mode."""

    def __init__(self, client, service, folder, created_enabled):
        self.client = client
        self.service = service
        self.folder = folder
        self.created_enabled = created_enabled

    def _everyone(self):
        totals = self.service.totals()
        kinds = dict(self.service.kinds)
        if self.folder:
            mine = os.path.join(self.folder, f"metrics-{os.getpid()}.json")
            for path in glob.glob(os.path.join(self.folder, "metrics-*.json")):
                if path == mine:
                    continue
                try:
                    with open(path, encoding="utf-8") as dump:
                        other = json.load(dump)
                except (OSError, ValueError):
                    continue  # Being replaced, or gone: the next scrape reads it.
                kinds.update({name: (kind, tuple(labels)) for name, (kind, labels) in other["kinds"].items()})
                merge(totals, {(name, tuple(values)): numbers for name, values, numbers in other["values"]})
        return kinds, totals

    def collect(self):
        client, prefix = self.client, self.service.prefix
        kinds, totals = self._everyone()
        families = {}
        for name, (kind, labels) in kinds.items():
            full = prefix + name
            if kind == COUNTER:
                families[name] = client.metrics_core.CounterMetricFamily(full, f"Counter of {full}", labels=labels)
            elif kind == SUMMARY:
                families[name] = client.metrics_core.SummaryMetricFamily(full, f"Summary of {full}", labels=labels)
            else:
                families[name] = client.metrics_core.HistogramMetricFamily(full, f"Histogram of {full}", labels=labels)
        bounds = [client.utils.floatToGoString(b) for b in self.service.bounds]
        for (name, values), numbers in sorted(totals.items()):
            family = families.get(name)
            if family is None:
                continue
            kind = kinds[name][0]
            if kind == COUNTER:
                created = self.service.created.get((name, values)) if self.created_enabled else None
                family.add_metric(values, numbers[0], created=created)
            elif kind == SUMMARY:
                family.add_metric(values, numbers[0], numbers[1])
            else:
                cumulative, running = [], 0
                for bound, count in zip(bounds, numbers[:-1], strict=True):
                    running += count
                    cumulative.append((bound, running))
                family.add_metric(values, cumulative, numbers[-1])
        return list(families.values())


def _dump_forever(service, folder):
    """Write this process's totals for the others, every DUMP_SECONDS."""
    path = os.path.join(folder, f"metrics-{os.getpid()}.json")
    while True:
        time.sleep(DUMP_SECONDS)
        values = [[name, list(labels), numbers] for (name, labels), numbers in service.totals().items()]
        kinds = {name: [kind, list(labels)] for name, (kind, labels) in dict(service.kinds).items()}
        try:
            with tempfile.NamedTemporaryFile("w", dir=folder, prefix=".metrics-", delete=False) as dump:
                json.dump({"kinds": kinds, "values": values}, dump)
            os.replace(dump.name, path)
        except OSError:
            pass  # The folder went away (the server is stopping).


def _buckets(settings):
    try:
        return [float(value) for value in settings["prometheus_histogram_buckets"]]
    except ValueError as error:
        raise ConfigurationError(
            f"prometheus_histogram_buckets: {error} (numbers separated by spaces, such as 0.01 0.05 0.1 Inf)"
        ) from None


def includeme(config):
    try:
        import prometheus_client as client
        import prometheus_client.metrics_core
        import prometheus_client.utils  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            "kinto.plugins.prometheus needs prometheus-client: pip install 'kinto_server[monitoring]'"
        ) from None
    settings = config.registry.settings
    # As Kinto: "remote-settings" -> "remotesettings_".
    prefix = _metric_name(settings["prometheus_prefix"]).replace("_", "").lower()
    prefix = f"{prefix}_" if prefix else ""
    disabled = settings["prometheus_disabled_metrics"]
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
    service = PrometheusService(prefix, disabled, _buckets(settings), folder)
    config.registry.metrics.add(service)
    registry = client.CollectorRegistry()
    registry.register(Collector(client, service, folder, settings["prometheus_created_metrics_enabled"]))
    for collector in (client.ProcessCollector, client.PlatformCollector, client.GCCollector):
        collector(registry=registry)

    def metrics_view(request):
        from pyramid.response import Response

        body = client.generate_latest(registry)
        return Response(body=body, headers={"Content-Type": client.CONTENT_TYPE_LATEST})

    config.add_route("prometheus_metrics", "/__metrics__")
    config.add_view(metrics_view, route_name="prometheus_metrics")
    config.registry.capabilities["prometheus"] = {
        "description": "Prometheus metrics.",
        "url": "https://github.com/Kinto/kinto/",
        "prefix": prefix,
        "disabled_metrics": disabled,
    }
