"""Metrics with Kinto's names and labels: Prometheus at /v1/__metrics__, StatsD over UDP."""

import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support import ALICE, user_id

PROMETHEUS = {"kinto.includes": "kinto.plugins.prometheus kinto.plugins.history kinto.plugins.accounts"}
NO_IDS = {"bucket_id": "", "collection_id": "", "group_id": "", "record_id": ""}


def samples(app):
    """{(sample name, sorted labels): value} of /v1/__metrics__."""
    response = app.get("/v1/__metrics__")
    assert response.headers["Content-Type"] == "text/plain; version=1.0.0; charset=utf-8"
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found, name, **labels):
    return found.get((name, tuple(sorted(labels.items()))))


@pytest.fixture
def app(make_app):
    app = make_app(**PROMETHEUS)
    app.put("/v1/buckets/b", headers=ALICE)
    app.put("/v1/buckets/b/collections/c", headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c/records/r", {"data": {}}, headers=ALICE)
    app.get("/v1/buckets/b/collections/c/records/r", headers=ALICE)
    app.get("/v1/buckets/b/collections/c/records/r", headers=ALICE)
    app.get("/v1/buckets/b/collections/nope/records/zz", headers=ALICE, status=404)
    app.get("/v1/no/such/path", status=404)
    return app


def test_requests_are_counted_per_endpoint_method_ids_and_status(app):
    found = samples(app)
    record = {**NO_IDS, "bucket_id": "b", "collection_id": "c", "record_id": "r"}
    assert (
        value(found, "kinto_request_summary_total", method="get", endpoint="record-object", status="200", **record) == 2
    )
    assert (
        value(
            found,
            "kinto_request_summary_total",
            method="put",
            endpoint="bucket-object",
            status="201",
            **{**NO_IDS, "bucket_id": "b"},
        )
        == 1
    )
    # A failure's ids are left out: random ids would be label values.
    assert (
        value(found, "kinto_request_summary_total", method="get", endpoint="record-object", status="404", **NO_IDS) == 1
    )
    assert value(found, "kinto_request_summary_total", method="get", endpoint="unknown", status="404", **NO_IDS) == 1


def test_durations_and_sizes_are_observed_with_kintos_buckets(app):
    found = samples(app)
    labels = {
        **NO_IDS,
        "bucket_id": "b",
        "collection_id": "c",
        "record_id": "r",
        "method": "get",
        "endpoint": "record-object",
    }
    assert value(found, "kinto_request_duration_seconds_count", **labels) == 2
    buckets = sorted(
        float(dict(key)["le"])
        for (name, key), _ in found.items()
        if name == "kinto_request_duration_seconds_bucket"
        and dict(key)["endpoint"] == "record-object"
        and dict(key)["method"] == "get"
        and dict(key)["record_id"] == "r"
    )
    assert buckets == [0.01, 0.05, 0.1, 0.5, 1.0, 3.0, 6.0, float("inf")]
    size = value(found, "kinto_request_size_sum", **labels)
    body = app.get("/v1/buckets/b/collections/c/records/r", headers=ALICE).body
    assert size == 2 * len(body)


def test_users_authentication_backends_and_plugins_are_measured(app):
    found = samples(app)
    alice = user_id("alice").removeprefix("basicauth:")
    assert value(found, "kinto_users_total", auth="basicauth", userid=alice) == 6
    assert value(found, "kinto_authentication_total", type="basicauth") == 6
    assert value(found, "kinto_backend_storage_seconds_count", method="read_lineage") >= 6
    assert value(found, "kinto_authentication_basicauth_seconds_count", method="user_id") >= 6
    assert value(found, "kinto_plugins_history_seconds_count") == 3


def test_a_backend_call_made_inside_another_is_part_of_its_measurement(app):
    found = samples(app)
    # Each request's lineage read (objects, ACEs, groups) is one measurement...
    assert value(found, "kinto_backend_storage_seconds_count", method="read_lineage") >= 6
    assert value(found, "kinto_backend_storage_seconds_count", method="get_many") is None
    assert value(found, "kinto_backend_permission_seconds_count", method="get_principals_and_permissions") is None
    # ...and so is a creation with its ACEs; what the history plugin calls is measured on its own.
    assert value(found, "kinto_backend_storage_seconds_count", method="create") == 3 + 3
    assert value(found, "kinto_backend_permission_seconds_count", method="replace_object_permissions") == 3


def test_measured_backends_are_still_the_backends_and_take_replaced_methods(app):
    registry = app.app.registry
    storage = registry.storage
    assert isinstance(storage, type(storage._backend))
    calls = []
    storage.resource_timestamp = lambda **kwargs: calls.append(kwargs) or 42
    assert storage._backend.resource_timestamp(resource_name="x", parent_id="y") == 42
    assert storage.resource_timestamp(resource_name="x", parent_id="y") == 42
    assert len(calls) == 2
    found = samples(app)
    assert value(found, "kinto_backend_storage_seconds_count", method="resource_timestamp") >= 1


def test_label_sets_kept_are_bounded_and_counts_stay_exact(make_app, monkeypatch):
    from kinto_server import metrics

    monkeypatch.setattr(metrics, "MAX_LABEL_SETS", 2)
    app = make_app(**PROMETHEUS)
    app.put("/v1/buckets/b", headers=ALICE)
    app.put("/v1/buckets/b/collections/c", headers=ALICE)
    for rid in ("r1", "r2", "r3", "r4"):
        app.put_json(f"/v1/buckets/b/collections/c/records/{rid}", {"data": {}}, headers=ALICE)
    for _ in range(2):
        for rid in ("r1", "r2", "r3", "r4"):
            app.get(f"/v1/buckets/b/collections/c/records/{rid}", headers=ALICE)
    found = samples(app)
    for rid in ("r1", "r2", "r3", "r4"):
        labels = {**NO_IDS, "bucket_id": "b", "collection_id": "c", "record_id": rid, "status": "200"}
        assert value(found, "kinto_request_summary_total", method="get", endpoint="record-object", **labels) == 2


def test_cache_hits_and_misses_are_counted(make_app):
    app = make_app(
        **PROMETHEUS,
        **{"kinto.multiauth.policies": "account basicauth", "kinto.account_create_principals": "system.Everyone"},
    )
    app.post_json("/v1/accounts", {"data": {"id": "ann", "password": "ann-secret"}})
    from tests.support import auth

    for _ in range(3):
        app.get("/v1/", headers=auth("ann", "ann-secret"))
    found = samples(app)
    assert value(found, "kinto_cache_misses_total") == 1  # The first login checks the password...
    assert value(found, "kinto_cache_hits_total") == 2  # ...the next ones find it checked.


def test_prefix_disabled_metrics_and_capability_follow_the_settings(make_app):
    app = make_app(
        **PROMETHEUS,
        **{
            "kinto.prometheus_prefix": "remote-settings",
            "kinto.prometheus_disabled_metrics": "remotesettings_request_size users",
        },
    )
    app.get("/v1/", headers=ALICE)
    names = {name for name, _ in samples(app)}
    assert "remotesettings_request_summary_total" in names
    assert not any(re.match(r"remotesettings_(request_size|users)", name) for name in names)
    assert not any(name.startswith("kinto_") for name in names)
    capability = app.get("/v1/").json["capabilities"]["prometheus"]
    assert capability["prefix"] == "remotesettings_"
    assert capability["disabled_metrics"] == ["remotesettings_request_size", "users"]


def test_without_a_metrics_plugin_nothing_is_wrapped(make_app):
    app = make_app()
    registry = app.app.registry
    assert not registry.metrics
    assert registry.storage.get.__func__ is type(registry.storage).get
    app.get("/v1/__metrics__", status=404)


def received(listener):
    """The lines of every datagram until none comes for half a second."""
    lines = []
    listener.settimeout(0.5)
    try:
        while True:
            datagram = listener.recv(65536).decode()
            assert len(datagram) <= 1400
            lines.extend(datagram.split("\n"))
    except TimeoutError:
        return lines


def test_statsd_receives_the_same_measurements_in_kintos_spelling(make_app, statsd_listener):
    port = statsd_listener.getsockname()[1]
    app = make_app(**{"kinto.includes": "kinto.plugins.statsd", "kinto.statsd_url": f"udp://127.0.0.1:{port}"})
    try:
        app.put("/v1/buckets/b", headers=ALICE)
        lines = received(statsd_listener)
    finally:
        for service in app.app.registry.metrics.services:
            service.close()
    alice = user_id("alice").removeprefix("basicauth:")
    assert f"kinto.users:auth.basicauth.userid.{alice}|s" in lines
    assert (
        "kinto.request_summary:method.put.endpoint.bucket-object.bucket_id.b.collection_id..group_id..record_id."
        ".status.201|s" in lines
    )
    assert any(
        re.fullmatch(r"kinto\.request_duration_seconds\.method\.put\.endpoint\.bucket-object\..*:[0-9.]+\|ms", line)
        for line in lines
    )
    assert any(
        re.fullmatch(r"kinto\.backend\.storage\.seconds\.method\.read_lineage:[0-9.]+\|ms", line) for line in lines
    )
    assert any(re.fullmatch(r"kinto\.request_size:[0-9]+\|g", line) for line in lines)


def test_a_statsd_url_that_is_no_udp_address_stops_the_start(make_app):
    from kinto_server.settings import ConfigurationError

    with pytest.raises(ConfigurationError, match="statsd_url: 'localhost:8125' is not udp://host:port"):
        make_app(**{"kinto.includes": "kinto.plugins.statsd", "kinto.statsd_url": "localhost:8125"})
