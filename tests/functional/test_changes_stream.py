"""The live change stream over real HTTP (its server in a thread of the app's
process, writes through the API), on every backend: what a stream sends,
resuming from an event id, permissions at delivery time, revocations,
limits and the errors before a stream starts."""

import time

import pytest

from tests.stream_client import EventStream
from tests.support import ALICE, BASE_SETTINGS, BOB, MARY, assert_error, auth, create_bucket, create_collection, user_id

STREAM_SETTINGS = {
    "kinto.includes": "kinto_server.plugins.default_bucket kinto_server.plugins.stream",
    "kinto.changes.stream.listen": "127.0.0.1:0",
    "kinto.changes.stream.heartbeat_seconds": "0.3",
    "kinto.changes.stream.poll_seconds": "0.05",
}
COLLECTION = "/buckets/b/collections/c"


@pytest.fixture
def streaming(make_app):
    """``make(**settings)``: an app whose stream server listens on a free port."""
    servers = []

    def make(**overrides):
        app = make_app(**{**STREAM_SETTINGS, **overrides})
        servers.append(app.app.registry.stream_server)
        return app

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def app(streaming):
    app = streaming()
    create_bucket(app)
    create_collection(app)
    return app


def stream_url(app, resources=COLLECTION, **params):
    url = app.app.registry.stream_url + f"?resources={resources}"
    return url + "".join(f"&{name}={value}" for name, value in params.items())


def open_stream(app, resources=COLLECTION, headers=ALICE, **params):
    stream = EventStream(stream_url(app, resources, **params), headers=headers)
    assert stream.status == 200, stream.json()
    ready = stream.next()
    assert ready.event == "ready"
    return stream


def post(app, data, collection="c", headers=ALICE):
    return app.post_json(f"/v1/buckets/b/collections/{collection}/records", {"data": data}, headers=headers).json[
        "data"
    ]


def test_the_capability_announces_the_stream_url(app):
    capability = app.get("/v1/").json["capabilities"]["changes_stream"]
    assert capability["url"] == app.app.registry.stream_url
    assert capability["url"].startswith("http://127.0.0.1:") and capability["url"].endswith("/v1/changes/stream")


def test_a_stream_starts_with_its_headers_retry_advice_and_a_ready_event(app):
    stream = EventStream(stream_url(app), headers={**ALICE, "Origin": "http://app.example"})
    try:
        assert stream.status == 200
        assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert stream.headers["cache-control"] == "no-cache"
        assert stream.headers["x-accel-buffering"] == "no"
        api = app.get("/v1/", headers={"Origin": "http://app.example"})
        assert stream.headers["access-control-allow-origin"] == api.headers["Access-Control-Allow-Origin"]
        ready = stream.next()
        assert ready.event == "ready"
        assert ready.data == {"cursor": ready.id, "resources": [COLLECTION]}
        assert stream.retry == 3000
    finally:
        stream.close()


def test_an_accept_header_of_text_event_stream_is_served_as_browsers_send_it(app):
    stream = EventStream(stream_url(app), headers={**ALICE, "Accept": "text/event-stream"})
    try:
        assert stream.status == 200
        assert stream.next().event == "ready"
    finally:
        stream.close()
    app.get(f"/v1/changes/stream?resources={COLLECTION}", headers={**ALICE, "Accept": "text/event-stream"}, status=307)
    app.get(f"/v1/changes/stream?resources={COLLECTION}", headers={**ALICE, "Accept": "text/html"}, status=406)


def test_a_write_reaches_the_stream_after_its_commit_with_its_payload(app):
    stream = open_stream(app)
    try:
        record = post(app, {"title": "hello"})
        (event,) = stream.changes(1)
        assert event.data == {
            "action": "create",
            "uri": f"{COLLECTION}/records/{record['id']}",
            "resource_name": "record",
            "id": record["id"],
            "timestamp": record["last_modified"],
            "bucket_id": "b",
            "collection_id": "c",
            "record_id": record["id"],
            "data": record,
        }
        app.patch_json(f"/v1{COLLECTION}/records/{record['id']}", {"data": {"title": "bye"}}, headers=ALICE)
        app.delete(f"/v1{COLLECTION}/records/{record['id']}", headers=ALICE)
        update, delete = stream.changes(2)
        assert (update.data["action"], update.data["data"]["title"]) == ("update", "bye")
        assert delete.data["action"] == "delete"
        assert delete.data["data"] == {"id": record["id"], "last_modified": delete.data["timestamp"], "deleted": True}
        assert [float(e.id.split(".")[0]) for e in (event, update, delete)] == sorted(
            float(e.id.split(".")[0]) for e in (event, update, delete)
        )
    finally:
        stream.close()


def test_a_refused_write_sends_nothing(app):
    stream = open_stream(app)
    try:
        app.put_json(f"/v1{COLLECTION}/records/r1", {"data": {}}, headers={**ALICE, "If-Match": '"1"'}, status=412)
        post(app, {"n": 2})
        (event,) = stream.changes(1)
        assert event.data["data"]["n"] == 2
    finally:
        stream.close()


def test_a_collection_stream_gets_only_that_collection(app):
    create_collection(app, collection_id="other")
    stream = open_stream(app)
    try:
        post(app, {"where": "other"}, collection="other")
        post(app, {"where": "c"})
        (event,) = stream.changes(1)
        assert event.data["data"]["where"] == "c"
    finally:
        stream.close()


def test_a_bucket_stream_gets_everything_in_it_and_nothing_of_other_buckets(app):
    create_bucket(app, bucket_id="elsewhere")
    stream = open_stream(app, resources="/buckets/b")
    try:
        create_collection(app, bucket_id="elsewhere", collection_id="x")
        create_collection(app, collection_id="new")
        app.put_json("/v1/buckets/b/groups/g", {"data": {"members": []}}, headers=ALICE)
        post(app, {"n": 1}, collection="new")
        events = stream.changes(3)
        assert [e.data["uri"] for e in events] == [
            "/buckets/b/collections/new",
            "/buckets/b/groups/g",
            events[2].data["uri"],
        ]
        assert events[2].data["resource_name"] == "record"
    finally:
        stream.close()


def first_change_then_leave(app):
    """A client that got one change, then left: that change's event."""
    stream = open_stream(app)
    post(app, {"n": 0})
    (first,) = stream.changes(1)
    stream.close()
    return first


def test_a_client_that_resumes_gets_exactly_what_it_missed_then_the_live_changes(app):
    first = first_change_then_leave(app)
    missed = [post(app, {"n": n})["id"] for n in range(1, 31)]
    resumed = open_stream(app, headers={**ALICE, "Last-Event-ID": first.id})
    try:
        replayed = resumed.changes(30)
        assert [e.data["id"] for e in replayed] == missed
        live = post(app, {"n": 31})
        (event,) = resumed.changes(1)
        assert event.data["id"] == live["id"]
        assert resumed.nothing_for(0.5)
    finally:
        resumed.close()


def test_last_event_id_may_be_given_in_the_querystring(app):
    first = first_change_then_leave(app)
    missed = post(app, {"n": 1})
    resumed = open_stream(app, last_event_id=first.id)
    try:
        (event,) = resumed.changes(1)
        assert event.data["id"] == missed["id"]
    finally:
        resumed.close()


def test_a_cursor_from_before_the_kept_changes_gets_a_reset_event(app):
    first = first_change_then_leave(app)
    post(app, {"n": 1})
    # Forget every change, once this process's stream server has read them
    # (as in real life, where only changes days old are forgotten).
    hub = app.app.registry.stream_server.hub
    wait_until(lambda: hub.cursor > tuple(int(part) for part in first.id.split(".")))
    app.app.registry.storage.purge_changes(before_ms=2**50)
    resumed = EventStream(stream_url(app), headers={**ALICE, "Last-Event-ID": first.id})
    try:
        assert resumed.next().event == "ready"
        reset = resumed.next()
        assert reset.event == "reset"
        assert reset.data == {"cursor": reset.id}
        after = post(app, {"n": 2})
        (event,) = resumed.changes(1)
        assert event.data["id"] == after["id"]
    finally:
        resumed.close()


def wait_until(condition, timeout=5):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_heartbeats_are_comments(app):
    stream = open_stream(app)
    try:
        assert stream.nothing_for(0.8)
        assert "heartbeat" in stream.comments
    finally:
        stream.close()


def share(app, uri, principals, permission="read"):
    app.patch_json(f"/v1{uri}", {"permissions": {permission: principals}}, headers=ALICE)


def test_a_user_gets_only_what_it_may_read_and_a_revoked_event_when_it_loses_access(app):
    share(app, COLLECTION, [user_id("bob")])
    stream = open_stream(app, headers=BOB)
    try:
        post(app, {"n": 1})
        (event,) = stream.changes(1)
        assert event.data["data"]["n"] == 1
        share(app, COLLECTION, [])
        post(app, {"secret": True})
        revoked = stream.next()
        assert revoked.event == "revoked"
        assert revoked.data == {"resource": COLLECTION}
        with pytest.raises(EOFError):
            stream.next(2)  # Nothing left to read: the stream ends.
    finally:
        stream.close()
    refused = EventStream(stream_url(app), headers=BOB)
    assert_error_stream(refused, 403, 121)


def test_removal_from_a_group_revokes_what_the_group_gave(app):
    app.put_json("/v1/buckets/b/groups/readers", {"data": {"members": [user_id("bob")]}}, headers=ALICE)
    share(app, COLLECTION, ["/buckets/b/groups/readers"])
    stream = open_stream(app, headers=BOB)
    try:
        post(app, {"n": 1})
        assert stream.changes(1)[0].data["data"]["n"] == 1
        app.patch_json("/v1/buckets/b/groups/readers", {"data": {"members": []}}, headers=ALICE)
        post(app, {"n": 2})
        event = stream.next()
        assert (event.event, event.data) == ("revoked", {"resource": COLLECTION})
    finally:
        stream.close()


def test_a_bucket_reader_gets_the_changes_of_every_collection_in_it(app):
    share(app, "/buckets/b", [user_id("bob")])
    stream = open_stream(app, resources="/buckets/b", headers=BOB)
    try:
        create_collection(app, collection_id="private")
        post(app, {"n": 1}, collection="private")
        events = stream.changes(2)
        assert [e.data["resource_name"] for e in events] == ["collection", "record"]
    finally:
        stream.close()


def test_a_user_added_to_a_group_may_then_open_a_stream(app):
    share(app, COLLECTION, ["/buckets/b/groups/readers"])
    assert_error_stream(EventStream(stream_url(app), headers=BOB), 403, 121)
    app.put_json("/v1/buckets/b/groups/readers", {"data": {"members": [user_id("bob")]}}, headers=ALICE)
    stream = open_stream(app, headers=BOB)
    try:
        post(app, {"n": 1})
        assert stream.changes(1)[0].data["data"]["n"] == 1
    finally:
        stream.close()


def test_a_record_shared_alone_can_be_followed_and_revoked(app):
    record = app.put_json(
        f"/v1{COLLECTION}/records/r1", {"data": {"v": 1}, "permissions": {"read": [user_id("bob")]}}, headers=ALICE
    ).json["data"]
    uri = f"{COLLECTION}/records/{record['id']}"
    refused = EventStream(stream_url(app), headers=BOB)
    assert_error_stream(refused, 403, 121)  # Not the collection: only that record.
    stream = open_stream(app, resources=uri, headers=BOB)
    try:
        post(app, {"other": True})
        app.patch_json(f"/v1{uri}", {"data": {"v": 2}}, headers=ALICE)
        (event,) = stream.changes(1)
        assert event.data["data"]["v"] == 2
        app.patch_json(f"/v1{uri}", {"permissions": {"read": []}}, headers=ALICE)
        assert stream.next().event == "revoked"
    finally:
        stream.close()


def test_anonymous_streams_follow_public_objects(app):
    share(app, COLLECTION, ["system.Everyone"])
    stream = open_stream(app, headers={})
    try:
        post(app, {"public": True})
        assert stream.changes(1)[0].data["data"]["public"] is True
    finally:
        stream.close()


def test_deleting_the_subscribed_collection_is_sent_then_revoked_for_a_collection_reader(app):
    share(app, COLLECTION, [user_id("bob")])
    stream = open_stream(app, headers=BOB)
    try:
        app.delete(f"/v1{COLLECTION}", headers=ALICE)
        (event,) = stream.changes(1)
        assert (event.data["uri"], event.data["action"]) == (COLLECTION, "delete")
        assert stream.next().event == "revoked"
    finally:
        stream.close()


def assert_error_stream(stream, code, errno):
    try:
        assert stream.status == code
        body = stream.json()
        assert (body["code"], body["errno"]) == (code, errno)
        return body
    finally:
        stream.close()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "resources"),
        ("?resources=", "resources"),
        ("?resources=/buckets", "resources"),
        ("?resources=/buckets/b/collections", "resources"),
        ("?resources=/buckets/b/nope/c", "resources"),
        ("?resources=/buckets/b%C3%A9", "resources"),
        ("?resources=/buckets/b&last_event_id=abc", "last_event_id"),
        ("?resources=/buckets/b&last_event_id=1.2.3", "last_event_id"),
    ],
)
def test_bad_parameters_are_refused_before_the_stream_starts(app, query, field):
    body = assert_error_stream(EventStream(app.app.registry.stream_url + query, headers=ALICE), 400, 107)
    assert body["details"][0]["name"] == field
    direct = app.get("/v1/changes/stream" + query, headers=ALICE, status=400)
    assert_error(direct, 400, 107)


def test_more_than_a_hundred_resources_are_refused(app):
    many = ",".join(f"/buckets/b{i}" for i in range(101))
    assert_error(app.get(f"/v1/changes/stream?resources={many}", headers=ALICE, status=400), 400, 107)


def test_who_may_not_read_is_refused_as_by_a_get(app):
    assert_error_stream(EventStream(stream_url(app), headers={}), 401, 104)
    assert_error_stream(EventStream(stream_url(app), headers=MARY), 403, 121)
    missing = EventStream(stream_url(app, "/buckets/b/collections/missing"), headers=ALICE)
    assert_error_stream(missing, 404, 110)
    assert_error(app.get("/v1/changes/stream?resources=/buckets/b/collections/c", headers=BOB, status=403), 403, 121)


def test_the_api_port_redirects_to_the_stream_server(app):
    response = app.get(f"/v1/changes/stream?resources={COLLECTION}", headers=ALICE, status=307)
    assert response.headers["Location"] == stream_url(app)


def test_other_paths_of_the_stream_server_are_404(app):
    url = app.app.registry.stream_url.replace("/changes/stream", "/buckets")
    assert_error_stream(EventStream(url, headers=ALICE), 404, 111)


def test_streams_per_user_are_limited_with_429_and_retry_after(streaming):
    app = streaming(**{"kinto.changes.stream.max_per_user": "1"})
    create_bucket(app)
    create_collection(app)
    first = open_stream(app)
    try:
        second = EventStream(stream_url(app), headers=ALICE)
        assert second.headers["retry-after"]
        assert_error_stream(second, 429, 117)
        other_user = EventStream(stream_url(app, "/buckets/b"), headers=ALICE)
        assert other_user.status == 429
        other_user.close()
    finally:
        first.close()


def test_streams_per_process_are_limited_with_503_and_retry_after(streaming):
    app = streaming(**{"kinto.changes.stream.max_per_process": "1"})
    create_bucket(app)
    create_collection(app)
    share(app, COLLECTION, [user_id("bob")])
    first = open_stream(app)
    try:
        second = EventStream(stream_url(app), headers=BOB)
        assert second.headers["retry-after"]
        assert_error_stream(second, 503, 201)
    finally:
        first.close()


def test_without_a_listen_address_the_api_answers_503(make_app):
    app = make_app(**{"kinto.includes": BASE_SETTINGS["kinto.includes"] + " kinto_server.plugins.stream"})
    create_bucket(app)
    assert_error(app.get("/v1/changes/stream?resources=/buckets/b", headers=ALICE, status=503), 503, 201)


ACCOUNTS = {
    "kinto.includes": STREAM_SETTINGS["kinto.includes"] + " kinto_server.plugins.accounts",
    "kinto.multiauth.policies": "account basicauth",
    "kinto.account_write_principals": "account:admin",
    "kinto.account_hash_rounds": "4",
    "kinto.changes.stream.recheck_seconds": "0.3",
}


def test_an_open_stream_loses_what_its_deleted_account_could_read(streaming):
    app = streaming(**ACCOUNTS)
    create_bucket(app)
    create_collection(app)
    app.put_json("/v1/accounts/bob", {"data": {"password": "s3cret"}}, status=201)
    bob = auth("bob", "s3cret")
    share(app, COLLECTION, ["account:bob"])
    stream = open_stream(app, headers=bob)
    try:
        post(app, {"n": 1})
        assert stream.changes(1)[0].data["data"]["n"] == 1
        app.delete("/v1/accounts/bob", headers=bob)
        event = stream.next(5)
        assert (event.event, event.data) == ("revoked", {"resource": COLLECTION})
        with pytest.raises(EOFError):
            stream.next(2)
    finally:
        stream.close()


def test_a_recheck_keeps_what_is_still_readable(streaming):
    app = streaming(**{"kinto.changes.stream.recheck_seconds": "0.2"})
    create_bucket(app)
    create_collection(app)
    create_collection(app, collection_id="other")
    stream = open_stream(app, resources=f"{COLLECTION},/buckets/b/collections/other")
    try:
        app.delete("/v1/buckets/b/collections/other", headers=ALICE)
        events = [stream.next(5), stream.next(5)]
        assert [e.event for e in events] == ["change", "revoked"]
        assert events[1].data == {"resource": "/buckets/b/collections/other"}
        assert stream.nothing_for(0.6)  # Rechecks go on; the collection c is still readable.
        post(app, {"n": 1})
        assert stream.changes(1)[0].data["data"]["n"] == 1
    finally:
        stream.close()


def ticket_for(app, headers):
    response = app.post_json("/v1/changes/stream/tickets", {}, headers=headers, status=201)
    assert response.headers["Cache-Control"] == "no-store"
    return response.json["ticket"]


def test_a_ticket_opens_a_private_stream_once_without_an_authorization_header(app):
    share(app, COLLECTION, [user_id("bob")])
    ticket = ticket_for(app, BOB)
    stream = open_stream(app, headers={}, ticket=ticket)
    try:
        post(app, {"n": 1})
        assert stream.changes(1)[0].data["data"]["n"] == 1
    finally:
        stream.close()
    again = EventStream(stream_url(app, ticket=ticket), headers={})
    assert_error_stream(again, 401, 104)  # Used once: anonymous now.


def test_a_ticket_is_checked_on_the_api_port_then_used_by_the_stream_server(app):
    share(app, COLLECTION, [user_id("bob")])
    ticket = ticket_for(app, BOB)
    redirect = app.get(f"/v1/changes/stream?resources={COLLECTION}&ticket={ticket}", status=307)
    stream = EventStream(redirect.headers["Location"], headers={})
    try:
        assert stream.status == 200
    finally:
        stream.close()


def test_forged_or_expired_tickets_authenticate_nobody(streaming):
    app = streaming(**{"kinto.changes.stream.ticket_seconds": "-1"})
    create_bucket(app)
    create_collection(app)
    expired = ticket_for(app, ALICE)
    assert_error_stream(EventStream(stream_url(app, ticket=expired), headers={}), 401, 104)
    payload, _, signature = expired.partition(".")
    forged = payload + "." + ("0" if signature[0] != "0" else "1") + signature[1:]
    assert_error_stream(EventStream(stream_url(app, ticket=forged), headers={}), 401, 104)


def test_tickets_are_for_authenticated_callers_and_only_open_streams(app):
    assert_error(app.post_json("/v1/changes/stream/tickets", {}, status=401), 401, 104)
    ticket = ticket_for(app, ALICE)
    assert_error(app.get(f"/v1/buckets/b?ticket={ticket}", status=401), 401, 104)
