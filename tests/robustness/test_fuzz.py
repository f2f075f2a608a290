"""Hostile input never breaks the server: generated requests of every shape
(methods, paths, ids, querystrings, bodies, content types, headers) on every
backend. Each answer is below 500, errors are Kinto's JSON, and what is
stored only changes through successful writes."""

import json
import os
import time
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness.conftest import FUZZ_STATS
from tests.support import ALICE, BOB, create_bucket, create_collection

EXAMPLES = int(os.environ.get("KINTO_FUZZ_EXAMPLES", "400"))

text = st.text(st.characters(codec="utf-8"), max_size=30)
# Percent-escapes are sent as they are: some decode to bytes that are not UTF-8.
ESCAPES = ["%00", "%FF", "%C3%28", "%E2%82", "%C0%AF", "%ZZ", "%"]
ids = st.one_of(st.sampled_from(["b", "c", "r1", "default", "a" * 300, "é", "a b", "..", "_x", "-", *ESCAPES]), text)
segments = st.sampled_from(["buckets", "collections", "groups", "records", "history", "batch", "__api__", "accounts"])
paths = st.one_of(
    st.sampled_from(
        [
            "/v1/",
            "/v1/buckets",
            "/v1/buckets/b",
            "/v1/buckets/b/collections",
            "/v1/buckets/b/collections/c",
            "/v1/buckets/b/collections/c/records",
            "/v1/buckets/b/collections/c/records/r1",
            "/v1/buckets/b/groups/g",
            "/v1/batch",
            "/v1/permissions",
            "/v1/__heartbeat__",
        ]
    ),
    st.lists(st.one_of(segments, ids), max_size=6).map(lambda parts: "/v1/" + "/".join(parts)),
)
params = st.sampled_from(
    [
        "_limit",
        "_sort",
        "_since",
        "_before",
        "_to",
        "_token",
        "_fields",
        "status",
        "in_id",
        "gt_n",
        "has_x",
        "like_title",
        "contains_tags",
        "contains_any_tags",
        "not_a",
        "exclude_b",
        "min_n",
        "max_n",
        "eq_x",
        "_x",
        "a.b.c",
    ]
)
querystrings = st.dictionaries(
    st.one_of(params, text),
    st.one_of(text, st.sampled_from(["-1", "0", "abc", '"1"', "[1,", "{}", "1e999", "NaN", "[Infinity]"])),
    max_size=4,
)
raw_queries = st.one_of(st.just(""), st.lists(st.sampled_from([*ESCAPES, "_since=", "&", "=", "_sort=a"]), max_size=4))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(text, children, max_size=3)),
    max_leaves=12,
)
bodies = st.one_of(
    st.none(),
    json_values.map(json.dumps),
    st.fixed_dictionaries({"data": json_values}).map(json.dumps),
    st.fixed_dictionaries({"data": st.dictionaries(text, json_values, max_size=3), "permissions": json_values}).map(
        json.dumps
    ),
    st.sampled_from(
        [
            "{",
            "[]",
            '{"data": {"id": 1}}',
            '{"requests": [{"path": "/buckets"}]}',
            '{"requests": 5}',
            '[{"op": "add", "path": "/data/x", "value": 1}]',
            '{"data": "\\u0000"}',
            "\x00",
            "null",
            '{"data": {"n": NaN}}',
            '{"data": {"n": -Infinity, "m": 1e999}}',
        ]
    ),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/merge-patch+json",
        "application/json-patch+json",
        "text/plain",
        "",
        "application/json; charset=latin-1",
    ]
)
methods = st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
headers = st.fixed_dictionaries(
    {},
    optional={
        "If-Match": st.sampled_from(['"1"', "*", "abc", '"', "\x7f"]),
        "If-None-Match": st.sampled_from(['"1"', "*", "x"]),
        "Authorization": st.sampled_from(
            [ALICE["Authorization"], BOB["Authorization"], "Basic !!!", "Bearer x", "Basic Og=="]
        ),
        "Accept": st.sampled_from(["text/html", "*/*", "application/json", ";;"]),
        "Origin": st.sampled_from(["http://x", ""]),
    },
)


@pytest.fixture
def seeded_app(app):
    create_bucket(app)
    create_collection(app)
    app.put_json("/v1/buckets/b/collections/c/records/r1", {"data": {"n": 1, "tags": ["a"]}}, headers=ALICE)
    return app


def stored_state(app):
    listing = app.get("/v1/buckets/b/collections/c/records?_since=0", headers=ALICE, expect_errors=True)
    buckets = app.get("/v1/buckets", headers=ALICE, expect_errors=True)
    return listing.status_code, listing.body, buckets.body


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=methods,
    path=paths,
    query=querystrings,
    raw=raw_queries,
    body=bodies,
    content_type=content_types,
    extra=headers,
)
def test_generated_requests_never_fail_the_server(seeded_app, method, path, query, raw, body, content_type, extra):
    app = seeded_app
    before = stored_state(app)
    request_headers = {**{"Authorization": ALICE["Authorization"]}, **extra}
    if content_type:
        request_headers["Content-Type"] = content_type
    querystring = "&".join(filter(None, [urlencode(query), "".join(raw)]))
    url = quote(path, safe="/%") + ("?" + querystring if querystring else "")
    encoded = None if body is None else body.encode("utf-8")
    response = app.request(url, method=method, body=encoded, headers=request_headers, expect_errors=True)
    FUZZ_STATS["hypothesis requests"] += 1
    FUZZ_STATS["hypothesis 5xx"] += response.status_code >= 500
    assert response.status_code < 500, (method, path, query, body, response.body[:300])
    if response.status_code >= 400 and method != "HEAD":
        error = response.json
        # A missing object's 404 names it in details, with no message (as Kinto).
        described = "message" in error or (response.status_code == 404 and "id" in error["details"])
        assert {"code", "errno", "error"} <= set(error) and described
        assert error["code"] == response.status_code
    if response.status_code >= 400 or method in ("GET", "HEAD", "OPTIONS"):
        assert stored_state(app) == before


# Costly shapes: each must be answered (any status but a 5xx) within a bound.
COSTLY_BOUND = 2.0  # seconds, in-process, for one request
fields = st.sampled_from(["s", "n", "id", "last_modified", "a.b", "tags", "missing"])
sorts = st.lists(st.tuples(st.booleans(), st.one_of(fields, text)), min_size=1, max_size=60).map(
    lambda parts: ",".join(("-" if desc else "") + name for desc, name in parts)
)
in_lists = st.tuples(st.sampled_from(["in_", "exclude_", "contains_any_"]), fields, st.integers(1, 20_000)).map(
    lambda t: {f"{t[0]}{t[1]}": ",".join(str(i) for i in range(t[2]))}
)
likes = st.tuples(st.integers(1, 60), st.sampled_from(["b", "", "a", "%", "_"]), st.booleans()).map(
    lambda t: {"like_s": ("*" if t[2] else "") + "a*" * t[0] + t[1]}
)
BATCH_SPELLINGS = ["/batch", "/%62atch", "/v1/%62atch", "//batch", "/v1/./batch", "/BATCH", "/v1/x/../batch", "/batch/"]
nested_batches = st.tuples(st.sampled_from(BATCH_SPELLINGS), st.integers(1, 25), st.integers(1, 3)).map(
    lambda t: _nested_batch(*t)
)
PATCHED = [
    "/v1/buckets/b",
    "/v1/buckets/b/collections/c",
    "/v1/buckets/b/groups/g",
    "/v1/buckets/b/collections/c/records/r1",
]
patch_paths = st.sampled_from(
    [
        "/data/members/-",
        "/data/members",
        "/data/x",
        "/permissions/read",
        "/permissions/read/bob",
        "/data/last_modified",
        "/data/schema",
    ]
)
patches = st.lists(
    st.fixed_dictionaries(
        {"op": st.sampled_from(["add", "replace", "remove", "copy", "move"]), "path": patch_paths, "value": json_values}
    ),
    min_size=1,
    max_size=4,
)


def _nested_batch(path, width, depth):
    body = {"requests": [{"path": "/buckets/b/collections/c/records"}] * width}
    for _ in range(depth):
        body = {"defaults": {"method": "POST", "path": path, "body": body}, "requests": [{}] * width}
    return body


@pytest.fixture
def costly_app(seeded_app):
    app = seeded_app
    app.put_json("/v1/buckets/b/groups/g", {"data": {"members": ["alice"]}}, headers=ALICE)
    records = [
        {"method": "POST", "path": "/buckets/b/collections/c/records", "body": {"data": {"s": "a" * 200, "n": i}}}
        for i in range(25)
    ]
    app.post_json("/v1/batch", {"requests": records}, headers=ALICE)
    return app


@settings(
    max_examples=max(EXAMPLES // 4, 20), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    shape=st.one_of(
        sorts.map(lambda s: ("GET", "/v1/buckets/b/collections/c/records", {"_sort": s, "_limit": "1"}, None, None)),
        in_lists.map(lambda q: ("GET", "/v1/buckets/b/collections/c/records", q, None, None)),
        likes.map(lambda q: ("GET", "/v1/buckets/b/collections/c/records", q, None, None)),
        nested_batches.map(lambda b: ("POST", "/v1/batch", {}, b, "application/json")),
        st.tuples(st.sampled_from(PATCHED), patches).map(
            lambda t: ("PATCH", t[0], {}, t[1], "application/json-patch+json")
        ),
    )
)
def test_generated_costly_requests_are_answered_quickly(costly_app, shape):
    app = costly_app
    method, path, query, body, content_type = shape
    before = stored_state(app)
    request_headers = {**ALICE, **({"Content-Type": content_type} if content_type else {})}
    url = path + ("?" + urlencode(query) if query else "")
    encoded = None if body is None else json.dumps(body).encode("utf-8")
    start = time.monotonic()
    response = app.request(url, method=method, body=encoded, headers=request_headers, expect_errors=True)
    took = time.monotonic() - start
    FUZZ_STATS["hypothesis costly requests"] += 1
    FUZZ_STATS["hypothesis costly 5xx"] += response.status_code >= 500
    assert response.status_code < 500, (method, path, query, body, response.body[:300])
    assert took < COSTLY_BOUND, f"{method} {url[:200]} took {took:.2f} s"
    assert len(response.body) < 1_000_000
    if response.status_code >= 400:
        assert stored_state(app) == before
        assert response.json["code"] == response.status_code
    if path == "/v1/buckets/b/groups/g" and response.status_code < 400:
        members = app.get(path, headers=ALICE).json["data"]["members"]
        assert all(isinstance(m, str) and m != "system.Everyone" and "/groups/" not in m for m in members)
