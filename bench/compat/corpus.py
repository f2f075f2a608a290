"""The requests replayed against Kinto and against this server, in order.

Grouped by what they exercise; every group leaves the data the next ones
build on. Steps only read what earlier steps wrote, so the corpus can grow
by appending to any group.
"""

import urllib.parse

import requests
from steps import Flow, Step

ORIGIN = {"Origin": "http://app.example"}
JSON = {"Content-Type": "application/json"}
B = "/buckets/compat"
C = B + "/collections/tasks"
R = C + "/records"


def s(label, method, path, body=None, **options):
    return Step(label, method, path, body, **options)


def service():
    return [
        s("root anonymous", "GET", "/", auth=None),
        s("root authenticated", "GET", "/"),
        s("root without slash", "GET", "", auth=None),
        s("root HEAD", "HEAD", "/", auth=None),
        s("root with Origin", "GET", "/", auth=None, headers=ORIGIN),
        s("heartbeat", "GET", "/__heartbeat__", auth=None),
        s("lbheartbeat", "GET", "/__lbheartbeat__", auth=None),
        s("version", "GET", "/__version__", auth=None),
        s("contribute", "GET", "/contribute.json", auth=None),
        s("openapi", "GET", "/__api__", auth=None, compare_body=False),
        s("unknown path", "GET", "/nothing-here", auth=None),
        s("unknown path with Origin", "GET", "/nothing-here", auth=None, headers=ORIGIN),
        s("trailing slash redirect", "GET", "/buckets/", auth=None),
        s("trailing slash redirect keeps query", "GET", "/buckets/?_limit=1", auth=None),
        s("POST on root", "POST", "/", {}, auth=None),
        s("bad Authorization scheme", "GET", "/", auth=None, headers={"Authorization": "Token abc"}),
        s("malformed basic auth", "GET", "/", auth=None, headers={"Authorization": "Basic !!!"}),
        s("basic auth without colon", "GET", "/buckets", auth="nocolon"),
    ]


def buckets():
    return [
        s("list buckets anonymous", "GET", "/buckets", auth=None),
        s("list buckets empty", "GET", "/buckets"),
        s("create bucket anonymous", "PUT", B, {}, auth=None),
        s("create bucket", "PUT", B, {"data": {"title": "Compat"}}, save={"b_etag": "etag:ETag"}),
        s("create same bucket again", "PUT", B, {"data": {"title": "Compat"}}),
        s("get bucket", "GET", B),
        s("get bucket with Origin", "GET", B, headers=ORIGIN),
        s("head bucket", "HEAD", B),
        s("get bucket 304", "GET", B, headers={"If-None-Match": '"{b_etag}"'}),
        s("get bucket 304 with Origin", "GET", B, headers={"If-None-Match": '"{b_etag}"', **ORIGIN}),
        s("get bucket If-Match stale", "GET", B, headers={"If-Match": '"1"'}),
        s("get bucket bob", "GET", B, auth="bob"),
        s("get bucket bob with Origin", "GET", B, auth="bob", headers=ORIGIN),
        s("get bucket anonymous", "GET", B, auth=None),
        s("get bucket anonymous with Origin", "GET", B, auth=None, headers=ORIGIN),
        s("get missing bucket", "GET", "/buckets/missing"),
        s("get missing bucket with Origin", "GET", "/buckets/missing", headers=ORIGIN),
        s("get bucket _fields", "GET", B + "?_fields=title"),
        s("patch bucket", "PATCH", B, {"data": {"color": "blue"}}),
        s("patch bucket empty body", "PATCH", B, {}),
        s("patch bucket empty body with Origin", "PATCH", B, {}, headers=ORIGIN),
        s("patch bucket data not object", "PATCH", B, {"data": "x"}),
        s(
            "patch bucket merge-patch",
            "PATCH",
            B,
            {"data": {"color": None}},
            headers={"Content-Type": "application/merge-patch+json"},
        ),
        s(
            "patch bucket json-patch",
            "PATCH",
            B,
            [{"op": "add", "path": "/data/size", "value": 3}],
            headers={"Content-Type": "application/json-patch+json"},
        ),
        s(
            "patch bucket json-patch permissions",
            "PATCH",
            B,
            [{"op": "add", "path": "/permissions/read/system.Everyone"}],
            headers={"Content-Type": "application/json-patch+json"},
        ),
        s(
            "patch bucket json-patch permissions with value",
            "PATCH",
            B,
            [{"op": "add", "path": "/permissions/read/bob", "value": "bob"}],
            headers={"Content-Type": "application/json-patch+json"},
        ),
        s(
            "patch bucket json-patch remove permission",
            "PATCH",
            B,
            [{"op": "remove", "path": "/permissions/read/system.Everyone"}],
            headers={"Content-Type": "application/json-patch+json"},
        ),
        s(
            "patch bucket json-patch invalid op",
            "PATCH",
            B,
            [{"op": "frobnicate", "path": "/data/size"}],
            headers={"Content-Type": "application/json-patch+json"},
        ),
        s(
            "patch bucket json-patch not a list",
            "PATCH",
            B,
            {"op": "add"},
            headers={"Content-Type": "application/json-patch+json"},
        ),
        s("patch bucket If-Match stale", "PATCH", B, {"data": {"a": 1}}, headers={"If-Match": '"1"'}),
        s("patch bucket bob", "PATCH", B, {"data": {"a": 1}}, auth="bob"),
        s("put bucket invalid id", "PUT", "/buckets/no%20space", {}),
        s("put bucket invalid id with Origin", "PUT", "/buckets/no%20space", {}, headers=ORIGIN),
        s("put bucket body id mismatch", "PUT", "/buckets/other", {"data": {"id": "another"}}),
        s("put bucket invalid JSON", "PUT", "/buckets/broken", raw=b'{"data": ', headers=JSON),
        s(
            "put bucket invalid JSON with Origin",
            "PUT",
            "/buckets/broken",
            raw=b'{"data": ',
            headers={**JSON, **ORIGIN},
        ),
        s("put bucket body not an object", "PUT", "/buckets/broken", raw=b"[1, 2]", headers=JSON),
        s("put bucket text/plain", "PUT", "/buckets/broken", raw=b"{}", headers={"Content-Type": "text/plain"}),
        s("get bucket Accept text/html", "GET", B, headers={"Accept": "text/html"}),
        s("put bucket data not object", "PUT", "/buckets/broken", {"data": [1]}),
        s("put bucket permissions not object", "PUT", "/buckets/broken", {"permissions": [1]}),
        s("put bucket unknown permission", "PUT", "/buckets/broken", {"permissions": {"frob": ["bob"]}}),
        s("put bucket permission not a list", "PUT", "/buckets/broken", {"permissions": {"read": "bob"}}),
        s("put bucket If-None-Match star existing", "PUT", B, {}, headers={"If-None-Match": "*"}),
        s("put bucket If-Match on missing", "PUT", "/buckets/ghost", {}, headers={"If-Match": '"123"'}),
        s("post bucket", "POST", "/buckets", {"data": {"id": "posted"}}),
        s("post bucket existing", "POST", "/buckets", {"data": {"id": "posted"}}),
        s(
            "post bucket generated id",
            "POST",
            "/buckets",
            {"data": {"kind": "generated"}},
            save={"gen_bucket": "data.id"},
        ),
        s("delete generated bucket", "DELETE", "/buckets/{gen_bucket}"),
        s("post bucket invalid id", "POST", "/buckets", {"data": {"id": "a b"}}),
        s("list buckets", "GET", "/buckets", save={"list_etag": "etag:ETag"}),
        s("list buckets with Origin", "GET", "/buckets", headers=ORIGIN),
        s("list buckets 304", "GET", "/buckets", headers={"If-None-Match": '"{list_etag}"'}),
        s("list buckets _limit", "GET", "/buckets?_limit=1&_sort=id", save={"next": "header:Next-Page"}),
        s("list buckets _fields", "GET", "/buckets?_fields=title&_sort=id"),
        s("head buckets", "HEAD", "/buckets"),
        s("head buckets with Origin", "HEAD", "/buckets", headers=ORIGIN),
        s("list buckets _limit not a number", "GET", "/buckets?_limit=abc"),
        s("list buckets _limit huge", "GET", "/buckets?_limit=99999999999999999999"),
        s("list buckets bad _token", "GET", "/buckets?_token=garbage"),
        s("list buckets unknown param", "GET", "/buckets?_foo=1"),
        s("list buckets _since not int", "GET", "/buckets?_since=abc"),
        s("delete posted bucket bob", "DELETE", "/buckets/posted", auth="bob"),
        s("delete posted bucket", "DELETE", "/buckets/posted"),
        s("delete posted bucket again", "DELETE", "/buckets/posted"),
        s("delete bucket If-Match stale", "DELETE", B, headers={"If-Match": '"1"'}),
        s("method not allowed on bucket", "POST", B, {}),
        s("method not allowed on bucket with Origin", "POST", B, {}, headers=ORIGIN),
        s("method not allowed on buckets", "PATCH", "/buckets", {}),
    ]


SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "done": {"type": "boolean"}, "n": {"type": "integer"}},
    "required": ["title"],
}


def collections():
    return [
        s("list collections empty", "GET", B + "/collections"),
        s("create collection", "PUT", C, {"data": {"schema": SCHEMA}}, save={"c_etag": "etag:ETag"}),
        s("create collection with invalid schema", "PUT", B + "/collections/bad", {"data": {"schema": {"type": 42}}}),
        s("create collection with schema not object", "PUT", B + "/collections/bad", {"data": {"schema": "x"}}),
        s("create collection in missing bucket", "PUT", "/buckets/missing/collections/c", {}),
        s("create collection bob", "PUT", B + "/collections/bobs", {}, auth="bob"),
        s("create collection cache_expires", "PUT", B + "/collections/cached", {"data": {"cache_expires": 3600}}),
        s(
            "create collection cache_expires invalid",
            "PUT",
            B + "/collections/cached2",
            {"data": {"cache_expires": "x"}},
        ),
        s("get collection", "GET", C),
        s("get collection 304", "GET", C, headers={"If-None-Match": '"{c_etag}"'}),
        s("list collections", "GET", B + "/collections"),
        s("head collections", "HEAD", B + "/collections"),
        s("patch collection", "PATCH", C, {"data": {"displayFields": ["title"]}}),
        s("delete cached collection", "DELETE", B + "/collections/cached"),
        s("list collections _since", "GET", B + "/collections?_since={c_etag}"),
        s("collection in missing bucket GET", "GET", "/buckets/missing/collections/c"),
        s("collections of missing bucket", "GET", "/buckets/missing/collections"),
        s("collections of missing bucket bob", "GET", "/buckets/missing/collections", auth="bob"),
    ]


def records():
    return [
        s("list records empty", "GET", R, save={"r0_etag": "etag:ETag"}),
        s("list records empty with Origin", "GET", R, headers=ORIGIN),
        s("create record", "PUT", R + "/r1", {"data": {"title": "one", "done": False, "n": 1}}),
        s("create record invalid against schema", "PUT", R + "/bad", {"data": {"done": True}}),
        s("create record wrong type", "PUT", R + "/bad", {"data": {"title": 3}}),
        s("post record", "POST", R, {"data": {"title": "two", "done": True, "n": 2}}, save={"r2": "data.id"}),
        s("post record with id", "POST", R, {"data": {"id": "r3", "title": "three", "n": 3}}),
        s("post record with invalid id", "POST", R, {"data": {"id": "a b", "title": "x"}}),
        s("post record existing id", "POST", R, {"data": {"id": "r3", "title": "other"}}),
        s("post record bob", "POST", R, {"data": {"title": "x"}}, auth="bob"),
        s(
            "put record last_modified given",
            "PUT",
            R + "/r4",
            {"data": {"title": "four", "n": 4, "last_modified": 1600000000000}},
        ),
        s(
            "put record If-None-Match star",
            "PUT",
            R + "/r5",
            {"data": {"title": "five", "n": 5}},
            headers={"If-None-Match": "*"},
        ),
        s(
            "put record If-None-Match star again",
            "PUT",
            R + "/r5",
            {"data": {"title": "five"}},
            headers={"If-None-Match": "*"},
        ),
        s("get record", "GET", R + "/r1", save={"r1_etag": "etag:ETag"}),
        s("get record _fields", "GET", R + "/r1?_fields=title"),
        s("get record 304", "GET", R + "/r1", headers={"If-None-Match": '"{r1_etag}"'}),
        s("get record If-Match ok", "GET", R + "/r1", headers={"If-Match": '"{r1_etag}"'}),
        s("patch record If-Match ok", "PATCH", R + "/r1", {"data": {"n": 10}}, headers={"If-Match": '"{r1_etag}"'}),
        s("patch record If-Match stale", "PATCH", R + "/r1", {"data": {"n": 11}}, headers={"If-Match": '"{r1_etag}"'}),
        s(
            "patch record If-Match stale with Origin",
            "PATCH",
            R + "/r1",
            {"data": {"n": 11}},
            headers={"If-Match": '"{r1_etag}"', **ORIGIN},
        ),
        s("patch record invalid etag", "PATCH", R + "/r1", {"data": {"n": 11}}, headers={"If-Match": "abc"}),
        s("patch record schema violation", "PATCH", R + "/r1", {"data": {"title": 5}}),
        s("patch missing record", "PATCH", R + "/missing", {"data": {"title": "x"}}),
        s("put missing record If-Match", "PUT", R + "/missing", {"data": {"title": "x"}}, headers={"If-Match": '"1"'}),
        s("get missing record", "GET", R + "/missing"),
        s("get missing record with Origin", "GET", R + "/missing", headers=ORIGIN),
        s("get record bob", "GET", R + "/r1", auth="bob"),
        s("get record anonymous", "GET", R + "/r1", auth=None),
        s("get record invalid id", "GET", R + "/a%20b"),
        s("records of missing collection", "GET", B + "/collections/missing/records"),
        s("record in missing collection", "GET", B + "/collections/missing/records/r1"),
        s("list records", "GET", R + "?_sort=n"),
        s("list records default sort", "GET", R),
        s("list records sort desc", "GET", R + "?_sort=-n,title"),
        s("list records sort unknown field", "GET", R + "?_sort=nope"),
        s("list records filter eq", "GET", R + "?title=one"),
        s("list records filter min", "GET", R + "?min_n=3&_sort=n"),
        s("list records filter max", "GET", R + "?max_n=3&_sort=n"),
        s("list records filter lt gt", "GET", R + "?lt_n=4&gt_n=1&_sort=n"),
        s("list records filter not", "GET", R + "?not_n=3&_sort=n"),
        s("list records filter in", "GET", R + "?in_n=1,3,5&_sort=n"),
        s("list records filter exclude", "GET", R + "?exclude_n=1,3&_sort=n"),
        s("list records filter like", "GET", R + "?like_title=*o*&_sort=n"),
        s("list records filter has", "GET", R + "?has_done=true&_sort=n"),
        s("list records filter has false", "GET", R + "?has_done=false&_sort=n"),
        s("list records filter eq bool", "GET", R + "?done=true"),
        s("list records filter min not a number", "GET", R + "?min_n=abc"),
        s("list records filter unknown operator", "GET", R + "?frob_n=1"),
        s("list records filter on id", "GET", R + "?id=r1"),
        s("list records filter in on id", "GET", R + "?in_id=r1,r3&_sort=id"),
        s("list records filter contains", "GET", R + "?contains_title=one"),
        s("list records _fields", "GET", R + "?_fields=title&_sort=n"),
        s("list records _limit", "GET", R + "?_limit=2&_sort=n", save={"page2": "header:Next-Page"}),
        s("list records _limit zero", "GET", R + "?_limit=0"),
        s("list records _limit negative", "GET", R + "?_limit=-1"),
        s("head records", "HEAD", R),
        s("head records filtered", "HEAD", R + "?min_n=3"),
        s("head records with Origin", "HEAD", R, headers=ORIGIN),
        s("list records _since", "GET", R + "?_since={r0_etag}&_sort=n"),
        s("list records _before", "GET", R + "?_before={r1_etag}"),
        s("list records _to", "GET", R + "?_to={r1_etag}"),
        s("list records _since quoted", "GET", R + '?_since="{r0_etag}"&_sort=n'),
        s("list records 304", "GET", R, headers={"If-None-Match": '"{r1_etag}"'}),
        s("list records If-Match stale", "GET", R, headers={"If-Match": '"1"'}),
        s("delete record", "DELETE", R + "/r5"),
        s("delete record again", "DELETE", R + "/r5"),
        s("delete record If-Match stale", "DELETE", R + "/r4", headers={"If-Match": '"1"'}),
        s("list records _since tombstones", "GET", R + "?_since={r1_etag}&_sort=last_modified"),
        s("list records _since deleted filter", "GET", R + "?_since={r0_etag}&deleted=true"),
        s("put record data not object", "PUT", R + "/r9", {"data": 3}),
        s("put record no body", "PUT", R + "/r9"),
        s("put record empty object", "PUT", R + "/r9", {}),
        s("put record unicode", "PUT", R + "/r10", {"data": {"title": "caf\u00e9 \u2603", "n": 10}}),
        s("post records method on record", "POST", R + "/r1", {}),
        s("delete records page", "DELETE", R + "?_limit=1&_sort=n"),
        s("delete records filtered", "DELETE", R + "?n=10"),
        s("list records after deletes", "GET", R + "?_sort=n"),
        s("delete records", "DELETE", R),
        s("list records after delete all", "GET", R),
    ]


def nested_records():
    """Nested fields and arrays: filters, _sort and _fields on them."""
    N = B + "/collections/deep/records"
    rows = [
        ("d1", {"author": {"name": "ann", "age": 30}, "tags": ["a", "b"], "score": 1.5, "label": "x*y"}),
        ("d2", {"author": {"name": "bob", "age": 25}, "tags": ["b", "c"], "score": 2, "label": "x_y"}),
        ("d3", {"author": {"name": "cid"}, "tags": [], "score": None, "label": "100%"}),
        ("d4", {"author": "nobody", "tags": ["a"], "score": "high"}),
    ]
    return [
        s("create nested collection", "PUT", B + "/collections/deep", {}),
        *[s(f"create nested record {rid}", "PUT", f"{N}/{rid}", {"data": data}) for rid, data in rows],
        s("nested filter eq", "GET", N + "?author.name=ann"),
        s("nested filter min", "GET", N + "?min_author.age=26"),
        s("nested filter has", "GET", N + "?has_author.age=true&_sort=id"),
        s("nested filter has false", "GET", N + "?has_author.age=false&_sort=id"),
        s("nested _sort", "GET", N + "?_sort=author.age,id"),
        s("nested _sort desc", "GET", N + "?_sort=-author.name,id"),
        s("nested _fields", "GET", N + "?_fields=author.name&_sort=id"),
        s("nested _fields two", "GET", N + "?_fields=author.name,tags&_sort=id"),
        s("nested _fields on record", "GET", N + "/d1?_fields=author.age"),
        s("nested _fields missing", "GET", N + "/d1?_fields=author.nope"),
        s("filter contains array", "GET", N + '?contains_tags=["a"]&_sort=id'),
        s("filter contains value", "GET", N + "?contains_tags=b&_sort=id"),
        s("filter contains_any", "GET", N + '?contains_any_tags=["a","c"]&_sort=id'),
        s("filter contains_any not a list", "GET", N + "?contains_any_tags=a&_sort=id"),
        s("filter eq empty array", "GET", N + "?tags=[]"),
        s("filter eq float", "GET", N + "?score=1.5"),
        s("filter eq null", "GET", N + "?score=null&_sort=id"),
        s("filter eq quoted string", "GET", N + '?score="high"'),
        s("filter in strings", "GET", N + '?in_author.name="ann","cid"&_sort=id'),
        s("filter like star literal", "GET", N + "?like_label=x*&_sort=id"),
        s("filter like underscore", "GET", N + "?like_label=x_y&_sort=id"),
        s("filter like percent", "GET", N + "?like_label=100%25&_sort=id"),
        s("filter gt mixed types", "GET", N + "?gt_score=1&_sort=id"),
        s("filter not nested", "GET", N + "?not_author.name=ann&_sort=id"),
        s("filter exclude nested", "GET", N + "?exclude_author.name=ann,bob&_sort=id"),
        s("filter on last_modified", "GET", N + "?gt_last_modified=0&_sort=id&_limit=2"),
        s("filter last_modified not a number", "GET", N + "?gt_last_modified=abc"),
        s("page on nested sort", "GET", N + "?_sort=author.name&_limit=1", save={"deep_page": "header:Next-Page"}),
        s("nested _fields with _since", "GET", N + "?_since=0&_fields=tags&_sort=id"),
    ]


def groups():
    G = B + "/groups"
    return [
        s("list groups empty", "GET", G),
        s("create group", "PUT", G + "/friends", {"data": {"members": ["basicauth:bobsid"]}}),
        s("create group no members", "PUT", G + "/empty", {"data": {}}),
        s("create group members not list", "PUT", G + "/bad", {"data": {"members": "x"}}),
        s("create group member is group", "PUT", G + "/bad", {"data": {"members": ["/buckets/compat/groups/friends"]}}),
        s("create group member system", "PUT", G + "/bad", {"data": {"members": ["system.Everyone"]}}),
        s("get group", "GET", G + "/friends"),
        s("patch group", "PATCH", G + "/friends", {"data": {"members": ["x", "y"]}}),
        s("list groups", "GET", G),
        s("group of missing bucket", "GET", "/buckets/missing/groups/g"),
        s("delete group", "DELETE", G + "/empty"),
        s("delete groups", "DELETE", G),
    ]


def sharing():
    """The tutorial's sharing: alice gives bob read access, bob reads."""
    return [
        s("whoami bob", "GET", "/", auth="bob", save={"bob_id": "user.id"}),
        s("create shared collection", "PUT", B + "/collections/shared", {"permissions": {"read": ["{bob_id}"]}}),
        s("create shared record", "PUT", B + "/collections/shared/records/s1", {"data": {"title": "hello"}}),
        s("bob reads shared record", "GET", B + "/collections/shared/records/s1", auth="bob"),
        s("bob lists shared records", "GET", B + "/collections/shared/records", auth="bob"),
        s("bob cannot write shared", "PUT", B + "/collections/shared/records/s2", {"data": {}}, auth="bob"),
        s("bob cannot read bucket", "GET", B, auth="bob"),
        s("bob lists buckets", "GET", "/buckets", auth="bob"),
        s("bob lists collections", "GET", B + "/collections", auth="bob"),
        s("anonymous lists shared records", "GET", B + "/collections/shared/records", auth=None),
        s(
            "group grants write",
            "PUT",
            B + "/groups/writers",
            {"data": {"members": ["{bob_id}"]}},
        ),
        s(
            "collection write for group",
            "PATCH",
            B + "/collections/shared",
            {"permissions": {"write": ["/buckets/compat/groups/writers"]}},
        ),
        s("bob writes through group", "PUT", B + "/collections/shared/records/s2", {"data": {"by": "bob"}}, auth="bob"),
        s(
            "record:create for everyone",
            "PATCH",
            B + "/collections/shared",
            {"permissions": {"record:create": ["system.Everyone"]}},
        ),
        s("anonymous creates record", "POST", B + "/collections/shared/records", {"data": {"anon": True}}, auth=None),
        s("permissions of record", "GET", B + "/collections/shared/records/s2"),
    ]


def default_bucket():
    D = "/buckets/default"
    return [
        s("default bucket anonymous", "GET", D, auth=None),
        s("default bucket", "GET", D),
        s(
            "default bucket tutorial post",
            "POST",
            D + "/collections/tasks/records",
            {"data": {"description": "Write", "status": "todo"}},
            save={"task": "data.id"},
        ),
        s("default bucket list", "GET", D + "/collections/tasks/records"),
        s("default bucket collection", "GET", D + "/collections/tasks"),
        s("default bucket put collection", "PUT", D + "/collections/notes", {}),
        s("default bucket put collection again", "PUT", D + "/collections/notes", {}),
        s("default bucket patch task", "PATCH", D + "/collections/tasks/records/{task}", {"data": {"status": "done"}}),
        s("default bucket list collections", "GET", D + "/collections"),
        s("default bucket delete task", "DELETE", D + "/collections/tasks/records/{task}"),
        s("default bucket other user", "GET", D + "/collections/tasks/records", auth="bob"),
        s("default bucket id invalid", "GET", "/buckets/default/collections/a%20b/records"),
        s("default bucket delete", "DELETE", D),
    ]


def batch():
    return [
        s(
            "batch",
            "POST",
            "/batch",
            {
                "defaults": {"method": "PUT", "path": "/buckets/compat/collections/bulk/records/x"},
                "requests": [
                    {"method": "PUT", "path": "/buckets/compat/collections/bulk"},
                    {"body": {"data": {"a": 1}}},
                    {"method": "GET"},
                    {"method": "GET", "path": "/buckets/compat/collections/bulk/records/missing"},
                    {"method": "PATCH", "body": {"data": {"b": 2}}, "headers": {"If-Match": '"1"'}},
                ],
            },
        ),
        s(
            "batch on a collection whose name holds /batch",
            "POST",
            "/batch",
            {"requests": [{"method": "GET", "path": "/buckets/compat/collections/batched"}]},
        ),
        s("batch empty", "POST", "/batch", {"requests": []}),
        s("batch not a list", "POST", "/batch", {"requests": "x"}),
        s("batch missing path", "POST", "/batch", {"requests": [{"method": "GET"}]}),
        s("batch bad method", "POST", "/batch", {"requests": [{"method": "FROB", "path": "/"}]}),
        s("batch nested", "POST", "/batch", {"requests": [{"method": "POST", "path": "/batch"}]}),
        s("batch anonymous", "POST", "/batch", {"requests": [{"method": "GET", "path": "/buckets/compat"}]}, auth=None),
        s("batch unknown path", "POST", "/batch", {"requests": [{"method": "GET", "path": "/nothing"}]}),
        s("batch with /v1 prefix", "POST", "/batch", {"requests": [{"method": "GET", "path": "/v1/buckets/compat"}]}),
        s("batch invalid JSON", "POST", "/batch", raw=b"{", headers=JSON),
        s("batch too many", "POST", "/batch", {"requests": [{"method": "GET", "path": "/"}] * 30}),
        s("batch GET", "GET", "/batch"),
        s(
            "batch create then read with ETags",
            "POST",
            "/batch",
            {
                "defaults": {"path": "/buckets/compat/collections/bulk/records/y"},
                "requests": [
                    {"method": "PUT", "body": {"data": {"v": 1}}},
                    {"method": "GET"},
                    {"method": "PUT", "body": {"data": {"v": 2}}, "headers": {"If-None-Match": "*"}},
                    {"method": "DELETE", "headers": {"If-Match": '"1"'}},
                    {"method": "GET", "path": "/buckets/compat/collections/bulk/records?_sort=v"},
                ],
            },
            save={"y_etag": "responses.1.headers.ETag"},
        ),
        s(
            "batch If-Match current",
            "POST",
            "/batch",
            {
                "requests": [
                    {
                        "method": "PATCH",
                        "path": "/buckets/compat/collections/bulk/records/y",
                        "body": {"data": {"v": 3}},
                        "headers": {"If-Match": "{y_etag}"},
                    },
                    {
                        "method": "PATCH",
                        "path": "/buckets/compat/collections/bulk/records/y",
                        "body": {"data": {"v": 4}},
                        "headers": {"If-Match": "{y_etag}"},
                    },
                ]
            },
        ),
        s(
            "batch sub-request errors",
            "POST",
            "/batch",
            {
                "requests": [
                    {"method": "PUT", "path": "/buckets/compat/collections/bulk/records/z", "body": {"data": 3}},
                    {"method": "PUT", "path": "/buckets/compat/collections/a%20b"},
                    {"method": "POST", "path": "/buckets/compat/collections/bulk/records", "body": "x"},
                    {"method": "GET", "path": "/buckets/compat/collections/bulk/records?_limit=abc"},
                    {"method": "DELETE", "path": "/buckets/compat/collections/bulk/records/missing"},
                ]
            },
        ),
        s(
            "batch defaults headers and body merge",
            "POST",
            "/batch",
            {
                "defaults": {
                    "method": "POST",
                    "path": "/buckets/compat/collections/bulk/records",
                    "body": {"data": {"kind": "default"}},
                },
                "requests": [{"body": {"data": {"n": 1}}}, {"body": {"permissions": {"read": ["system.Everyone"]}}}],
            },
        ),
        s(
            "batch as bob",
            "POST",
            "/batch",
            {
                "requests": [
                    {"method": "GET", "path": "/buckets/compat/collections/bulk/records"},
                    {"method": "PUT", "path": "/buckets/compat/collections/bulk/records/b1", "body": {"data": {}}},
                ]
            },
            auth="bob",
        ),
        s("batch unknown attribute", "POST", "/batch", {"requests": [{"method": "GET", "path": "/", "frob": 1}]}),
        s("batch defaults unknown attribute", "POST", "/batch", {"defaults": {"frob": 1}, "requests": [{"path": "/"}]}),
        s("batch defaults not a mapping", "POST", "/batch", {"defaults": "x", "requests": [{"path": "/"}]}),
        s("batch defaults bad method", "POST", "/batch", {"defaults": {"method": "FROB"}, "requests": [{"path": "/"}]}),
        s("batch path without slash", "POST", "/batch", {"requests": [{"method": "GET", "path": "buckets"}]}),
        s("batch lowercase method", "POST", "/batch", {"requests": [{"method": "get", "path": "/buckets"}]}),
    ]


def cors():
    preflight = {"Origin": "http://app.example", "Access-Control-Request-Method": "PUT"}
    return [
        s("preflight records", "OPTIONS", R, auth=None, headers=preflight),
        s(
            "preflight with headers",
            "OPTIONS",
            R,
            auth=None,
            headers={**preflight, "Access-Control-Request-Headers": "Authorization, If-Match, Content-Type"},
        ),
        s("preflight bucket", "OPTIONS", B, auth=None, headers=preflight),
        s("preflight root", "OPTIONS", "/", auth=None, headers={**preflight, "Access-Control-Request-Method": "GET"}),
        s(
            "preflight batch",
            "OPTIONS",
            "/batch",
            auth=None,
            headers={**preflight, "Access-Control-Request-Method": "POST"},
        ),
        s("options without preflight headers", "OPTIONS", B, auth=None),
        s("options with origin only", "OPTIONS", B, auth=None, headers=ORIGIN),
        s("preflight unknown path", "OPTIONS", "/nothing", auth=None, headers=preflight),
        s(
            "preflight disallowed method",
            "OPTIONS",
            B,
            auth=None,
            headers={**preflight, "Access-Control-Request-Method": "FROB"},
        ),
    ]


def permissions_endpoint():
    return [
        s("permissions alice", "GET", "/permissions?_sort=uri"),
        s("permissions bob", "GET", "/permissions?_sort=uri", auth="bob"),
        s("permissions anonymous", "GET", "/permissions?_sort=uri", auth=None),
        s("permissions filtered", "GET", "/permissions?resource_name=record&_sort=uri"),
        s("permissions limit", "GET", "/permissions?_limit=1&_sort=uri"),
        s("permissions head", "HEAD", "/permissions"),
        s("permissions with Origin", "GET", "/permissions?_sort=uri", headers=ORIGIN),
    ]


def history():
    H = B + "/history"
    return [
        s("history", "GET", H + "?_sort=last_modified&_limit=5", save={"h0": "etag:ETag"}),
        s("history filtered", "GET", H + "?resource_name=collection&_sort=last_modified"),
        s("history bob", "GET", H, auth="bob"),
        s("history anonymous", "GET", H, auth=None),
        s("history head", "HEAD", H),
        s("history of missing bucket", "GET", "/buckets/missing/history"),
        s("history delete", "DELETE", H),
        s("history after delete", "GET", H, save={"h1": "etag:ETag"}),
        s(
            "history write after purge",
            "PUT",
            B + "/collections/hist",
            {"data": {"v": 1}},
            save={"h_etag": "etag:ETag"},
        ),
        s("history record created", "PUT", B + "/collections/hist/records/h1", {"data": {"v": 1}}),
        s("history record updated", "PATCH", B + "/collections/hist/records/h1", {"data": {"v": 2}}),
        s("history record deleted", "DELETE", B + "/collections/hist/records/h1"),
        s("history _since purge _fields", "GET", H + "?_since={h0}&_sort=last_modified&_fields=action"),
        s("history _since", "GET", H + "?_since={h1}&_sort=last_modified"),
        s("history _before _fields", "GET", H + "?_before={h1}&_sort=last_modified&_fields=action"),
        s("history count since purge", "HEAD", H + "?_since={h0}"),
        s("history filter action", "GET", H + "?action=delete"),
        s("history filter uri", "GET", H + "?uri=/buckets/compat/collections/hist/records/h1&_sort=last_modified"),
        s("history filter target field", "GET", H + "?target.data.v=2"),
        s("history filter collection_id", "GET", H + "?collection_id=hist&_sort=-last_modified"),
        s("history filter in action", "GET", H + "?in_action=create,update&_sort=last_modified"),
        s("history _fields", "GET", H + "?_fields=action,uri&_sort=last_modified"),
        s("history paginated", "GET", H + "?_limit=2&_sort=last_modified", save={"h_page": "header:Next-Page"}),
        s("history since not a number", "GET", H + "?_since=abc"),
        s("history of a record by bob", "GET", H + "?resource_name=record", auth="bob"),
        s("history entry by id", "GET", H + "/abc"),
        s("history POST", "POST", H, {}),
    ]


def accounts():
    A = "/accounts"
    return [
        s("create account anonymous", "PUT", A + "/carol", {"data": {"password": "carol-pw"}}, auth=None),
        s("create account admin", "PUT", A + "/admin", {"data": {"password": "admin-pw-1"}}, auth=None),
        s("create account no password", "PUT", A + "/dave", {"data": {}}, auth=None),
        s("create account invalid id", "PUT", A + "/a%20b", {"data": {"password": "x"}}, auth=None),
        s("create account id mismatch", "PUT", A + "/erin", {"data": {"id": "frank", "password": "x"}}, auth=None),
        s("create existing account", "PUT", A + "/carol", {"data": {"password": "again"}}, auth=None),
        s("post account", "POST", A, {"data": {"id": "gina", "password": "gina-pw"}}, auth=None),
        s("post account without id", "POST", A, {"data": {"password": "x"}}, auth=None),
        s("login carol", "GET", "/", auth="carol:carol-pw"),
        s("login carol wrong password", "GET", "/buckets", auth="carol:nope"),
        s("carol reads own account", "GET", A + "/carol", auth="carol:carol-pw"),
        s("carol reads other account", "GET", A + "/gina", auth="carol:carol-pw"),
        s("carol lists accounts", "GET", A, auth="carol:carol-pw"),
        s("admin lists accounts", "GET", A + "?_sort=id", auth="admin"),
        s("carol changes password", "PATCH", A + "/carol", {"data": {"password": "carol-pw2"}}, auth="carol:carol-pw"),
        s("carol old password", "GET", "/buckets", auth="carol:carol-pw"),
        s("carol new password", "GET", A + "/carol", auth="carol:carol-pw2"),
        s("carol permissions", "GET", "/permissions?_sort=uri", auth="carol:carol-pw2"),
        s("carol creates bucket", "PUT", "/buckets/carols", {}, auth="carol:carol-pw2"),
        s("carol deletes own account", "DELETE", A + "/carol", auth="carol:carol-pw2"),
        s("admin deletes gina", "DELETE", A + "/gina", auth="admin"),
        s("accounts anonymous", "GET", A, auth=None),
        s("admin creates account for hal", "PUT", A + "/hal", {"data": {"password": "hal-pw"}}, auth="admin"),
        s("admin posts account", "POST", A, {"data": {"id": "ivy", "password": "ivy-pw"}}, auth="admin"),
        s("admin reads hal", "GET", A + "/hal", auth="admin"),
        s("admin resets hal password", "PATCH", A + "/hal", {"data": {"password": "hal-pw2"}}, auth="admin"),
        s("hal with new password", "GET", A + "/hal", auth="hal:hal-pw2"),
        s("hal creates another account", "PUT", A + "/jay", {"data": {"password": "jay-pw"}}, auth="hal:hal-pw2"),
        s("hal posts another account", "POST", A, {"data": {"id": "kim", "password": "x"}}, auth="hal:hal-pw2"),
        s("hal patches ivy", "PATCH", A + "/ivy", {"data": {"password": "x"}}, auth="hal:hal-pw2"),
        s("hal puts own account", "PUT", A + "/hal", {"data": {"password": "hal-pw3"}}, auth="hal:hal-pw2"),
        s("hal patch without password", "PATCH", A + "/hal", {"data": {"nick": "h"}}, auth="hal:hal-pw3"),
        s("hal password not a string", "PATCH", A + "/hal", {"data": {"password": 3}}, auth="hal:hal-pw3"),
        s(
            "hal changes permissions",
            "PATCH",
            A + "/hal",
            {"permissions": {"read": ["system.Everyone"]}},
            auth="hal:hal-pw3",
        ),
        s("anonymous reads shared account", "GET", A + "/hal", auth=None),
        s(
            "hal json-patch",
            "PATCH",
            A + "/hal",
            [{"op": "add", "path": "/data/mood", "value": "ok"}],
            headers={"Content-Type": "application/json-patch+json"},
            auth="hal:hal-pw3",
        ),
        s(
            "hal merge-patch",
            "PATCH",
            A + "/hal",
            {"data": {"mood": None}},
            headers={"Content-Type": "application/merge-patch+json"},
            auth="hal:hal-pw3",
        ),
        s("hal empty patch", "PATCH", A + "/hal", {}, auth="hal:hal-pw3"),
        s("hal unknown permission", "PATCH", A + "/hal", {"permissions": {"frob": []}}, auth="hal:hal-pw3"),
        s("admin permissions", "GET", "/permissions?resource_name=account&_sort=uri", auth="admin"),
        s("admin head accounts", "HEAD", A, auth="admin"),
        s("admin accounts filtered", "GET", A + "?id=hal", auth="admin"),
        s("admin accounts _fields", "GET", A + "?_fields=id&_sort=id", auth="admin"),
        s("admin deletes accounts", "DELETE", A + "?id=ivy", auth="admin"),
        s("admin reads missing account", "GET", A + "/nobody", auth="admin"),
        s("hal plural delete", "DELETE", A, auth="hal:hal-pw3"),
        s("hal gone", "GET", A + "/hal", auth="admin"),
        s("admin accounts after deletes", "GET", A + "?_sort=id&_fields=id", auth="admin"),
        s("delete missing account anonymous", "DELETE", A + "/nobody", auth=None),
    ]


def cleanup():
    return [
        s("delete bucket bob", "DELETE", B, auth="bob"),
        s("delete bucket", "DELETE", B),
        s("get deleted bucket", "GET", B),
        s("delete buckets", "DELETE", "/buckets"),
        s("flush", "POST", "/__flush__", auth=None),
        s("after flush", "GET", "/buckets"),
    ]


def changes():
    """kinto-changes: the monitor/changes overview and changesets (run with
    the plugin on, watching /buckets/watched and one private collection)."""
    W, P = "/buckets/watched", "/buckets/hidden"
    M = "/buckets/monitor/collections/changes"
    return [
        s("changes setup bucket", "PUT", W, {"permissions": {"read": ["system.Everyone"]}}),
        s("changes setup cfr", "PUT", W + "/collections/cfr", {}),
        s("changes setup certificates", "PUT", W + "/collections/certificates", {}),
        s("changes setup hidden", "PUT", P, {}),
        s("changes setup secret", "PUT", P + "/collections/secret", {}),
        s("changes setup record", "PUT", W + "/collections/cfr/records/r1", {"data": {"n": 1}}),
        s("changes overview", "GET", M + "/records?_sort=collection", save={"m_etag": "etag:ETag"}),
        s("changes overview anonymous", "GET", M + "/records?_sort=collection", auth=None),
        s("changes overview 304", "GET", M + "/records", headers={"If-None-Match": '"{m_etag}"'}),
        s("changes overview head", "HEAD", M + "/records"),
        s("changes overview filtered", "GET", M + "/records?collection=cfr"),
        s("changes overview _fields", "GET", M + "/records?_fields=bucket&_sort=collection"),
        s("changes overview old _since", "GET", M + "/records?_since=42&_expected=1", auth=None),
        s("changes overview recent _since", "GET", M + '/records?_since="{m_etag}"'),
        s("changes overview POST", "POST", M + "/records", {"data": {}}),
        s("changes setup second record", "PUT", W + "/collections/cfr/records/r2", {"data": {"n": 2}}),
        s("changes overview after a write", "GET", M + "/records?_since={m_etag}"),
        s("changeset", "GET", W + "/collections/cfr/changeset?_expected=1", auth=None),
        s("changeset _limit", "GET", W + "/collections/cfr/changeset?_expected=1&_limit=1", auth=None),
        s("changeset no _expected", "GET", W + "/collections/cfr/changeset", auth=None),
        s("changeset _since unquoted", "GET", W + "/collections/cfr/changeset?_expected=1&_since=42", auth=None),
        s("changeset _since", "GET", W + '/collections/cfr/changeset?_expected=1&_since="{m_etag}"', auth=None),
        s("changeset missing collection", "GET", W + "/collections/nope/changeset?_expected=1", auth=None),
        s("changeset private anonymous", "GET", P + "/collections/secret/changeset?_expected=1", auth=None),
        s("changeset private bob", "GET", P + "/collections/secret/changeset?_expected=1", auth="bob"),
        s("changeset private alice", "GET", P + "/collections/secret/changeset?_expected=1"),
        s("changeset of monitor", "GET", M + "/changeset?_expected=1&bucket=watched"),
        s("changes cleanup", "DELETE", W),
        s("changes cleanup hidden", "DELETE", P),
    ]


def response_behavior():
    """PATCH with Response-Behavior, without the history plugin (with it,
    Kinto answers 500 to light and diff)."""
    rb = R + "/rb"
    merge = {"Content-Type": "application/merge-patch+json"}
    json_patch = {"Content-Type": "application/json-patch+json"}
    replace_a = [{"op": "replace", "path": "/data/a", "value": 12}]
    return [
        s("response-behavior bucket", "PUT", B, {}),
        s("response-behavior collection", "PUT", C, {}),
        s("response-behavior put", "PUT", rb, {"data": {"title": "rb", "a": 1, "b": 2}}),
        s("patch light", "PATCH", rb, {"data": {"a": 10, "b": 2, "d": 4}}, headers={"Response-Behavior": "light"}),
        s("patch light unchanged", "PATCH", rb, {"data": {"b": 2}}, headers={"Response-Behavior": "light"}),
        s("patch diff", "PATCH", rb, {"data": {"a": 11, "last_modified": 5}}, headers={"Response-Behavior": "diff"}),
        s("patch full", "PATCH", rb, {"data": {"a": 12}}, headers={"Response-Behavior": "full"}),
        s("patch empty behavior", "PATCH", rb, {"data": {"a": 13}}, headers={"Response-Behavior": ""}),
        s("patch unknown behavior", "PATCH", rb, {"data": {"a": 14}}, headers={"Response-Behavior": "LIGHT"}),
        s("patch unknown behavior bad body", "PATCH", rb, {"data": [1]}, headers={"Response-Behavior": "x"}),
        s("patch unknown behavior missing", "PATCH", R + "/nope", {"data": {}}, headers={"Response-Behavior": "x"}),
        s("json-patch light", "PATCH", rb, replace_a, headers={"Response-Behavior": "light", **json_patch}),
        s("merge-patch diff", "PATCH", rb, {"data": {"a": 15}}, headers={"Response-Behavior": "diff", **merge}),
        s("put ignores behavior", "PUT", rb, {"data": {"a": 16}}, headers={"Response-Behavior": "bogus"}),
        s("patch light bucket", "PATCH", B, {"data": {"rb": 1}}, headers={"Response-Behavior": "light"}),
    ]


def record_caching():
    """Cache headers of record reads (the run sets the record_cache_expires_seconds settings)."""
    public = {"permissions": {"read": ["system.Everyone"]}}
    steps = [
        s("caching bucket", "PUT", "/buckets/cb", public),
        s("caching other bucket", "PUT", "/buckets/other", public),
        s("caching own expiry", "PUT", "/buckets/cb/collections/own", {"data": {"cache_expires": 120}}),
        s("caching precise", "PUT", "/buckets/cb/collections/precise", {}),
        s("caching plain", "PUT", "/buckets/cb/collections/plain", {}),
        s("caching elsewhere", "PUT", "/buckets/other/collections/x", {}),
        s("caching record", "PUT", "/buckets/cb/collections/own/records/r", {"data": {"a": 1}}),
    ]
    for collection in ("cb/collections/own", "cb/collections/precise", "cb/collections/plain", "other/collections/x"):
        steps.append(s(f"caching list {collection} anonymous", "GET", f"/buckets/{collection}/records", auth=None))
        steps.append(s(f"caching head {collection} anonymous", "HEAD", f"/buckets/{collection}/records", auth=None))
        steps.append(s(f"caching list {collection}", "GET", f"/buckets/{collection}/records"))
    return steps + [
        s("caching record anonymous", "GET", "/buckets/cb/collections/own/records/r", auth=None),
        s("caching record _fields anonymous", "GET", "/buckets/cb/collections/own/records/r?_fields=a", auth=None),
        s("caching missing record anonymous", "GET", "/buckets/cb/collections/own/records/nope", auth=None),
        s("caching collection anonymous", "GET", "/buckets/cb/collections/own", auth=None),
        s("caching zero", "PATCH", "/buckets/cb/collections/own", {"data": {"cache_expires": 0}}),
        s("caching list zero anonymous", "GET", "/buckets/cb/collections/own/records", auth=None),
        s("caching zero no setting", "PUT", "/buckets/other/collections/zero", {"data": {"cache_expires": 0}}),
        s("caching zero elsewhere anonymous", "GET", "/buckets/other/collections/zero/records", auth=None),
    ]


def history_settings():
    """The history's settings and snapshots (the run excludes bob, two URIs,
    and trims to 3 entries per resource name past a threshold of 1)."""
    C = "/buckets/hs/collections/c"
    snap = "/buckets/hs/snapshot/collections/c@"
    return [
        s("hs root", "GET", "/", auth=None),
        s("hs bucket", "PUT", "/buckets/hs", {"permissions": {"write": ["system.Authenticated"]}}),
        s("hs collection", "PUT", C, {}),
        s("hs excluded collection", "PUT", "/buckets/hs/collections/quiet", {}),
        s("hs excluded record", "PUT", "/buckets/hs/collections/quiet/records/q", {"data": {}}),
        s("hs excluded bucket", "PUT", "/buckets/silent", {}),
        s("hs excluded bucket history", "GET", "/buckets/silent/history"),
        s("hs r1", "PUT", C + "/records/r1", {"data": {"v": 1}}, save={"t1": "data.last_modified"}),
        s("hs r1 update", "PATCH", C + "/records/r1", {"data": {"v": 2}}, save={"t2": "data.last_modified"}),
        s("hs r2 by bob", "PUT", C + "/records/r2", {"data": {"v": 1}}, auth="bob"),
        s("hs r3", "PUT", C + "/records/r3", {"data": {"v": 1}}, save={"t3": "data.last_modified"}),
        s("hs r1 delete", "DELETE", C + "/records/r1", save={"t4": "data.last_modified"}),
        s("hs history before trim", "GET", "/buckets/hs/history?resource_name=record&_fields=action,record_id"),
        s("hs r4", "PUT", C + "/records/r4", {"data": {"v": 1}}),
        s("hs history trimmed", "GET", "/buckets/hs/history?_fields=action,record_id,resource_name"),
        s("hs history trimmed since", "GET", "/buckets/hs/history?_since=0&_fields=action,record_id"),
        s("hs history head", "HEAD", "/buckets/hs/history"),
        s("hs snapshot t1", "GET", snap + "{t1}"),
        s("hs snapshot t2", "GET", snap + "{t2}"),
        s("hs snapshot t3", "GET", snap + "{t3}"),
        s("hs snapshot t4", "GET", snap + "{t4}"),
        s("hs snapshot head", "HEAD", snap + "{t4}"),
        s("hs snapshot zero", "GET", snap + "0"),
        s("hs snapshot future", "GET", snap + "99999999999999"),
        s("hs snapshot querystring", "GET", snap + "{t4}?_limit=1&v=1&_sort=v"),
        s("hs snapshot bob", "GET", snap + "{t4}", auth="bob"),
        s("hs snapshot mary", "GET", snap + "{t4}", auth="mary:pw"),
        s("hs snapshot anonymous", "GET", snap + "{t4}", auth=None),
        s("hs snapshot missing collection", "GET", "/buckets/hs/snapshot/collections/nope@0"),
        s("hs snapshot missing bucket", "GET", "/buckets/nope/snapshot/collections/c@0"),
        s("hs snapshot bad timestamp", "GET", snap + "abc"),
        s("hs snapshot negative timestamp", "GET", snap + "-1"),
        s("hs snapshot decimal timestamp", "GET", snap + "1.5"),
        s("hs snapshot post", "POST", snap + "0", {}),
        s("hs snapshot invalid bucket id", "GET", "/buckets/a%20b/snapshot/collections/c@0"),
        s("hs snapshot personal bucket", "GET", "/buckets/default/snapshot/collections/c@0"),
    ]


def user_data(bob):
    """DELETE /__user_data__/<bob> by an allowed principal (the run allows
    admin, over Basic Auth). ``bob`` is bob's user id."""
    alice_write = {"permissions": {"write": [bob], "read": [bob]}}
    return [
        s("ud bob bucket", "PUT", "/buckets/ud-bob", {"permissions": {"read": ["system.Authenticated"]}}, auth="bob"),
        s("ud bob collection", "PUT", "/buckets/ud-bob/collections/c", {}, auth="bob"),
        s("ud bob record", "PUT", "/buckets/ud-bob/collections/c/records/r", {"data": {}}, auth="bob"),
        s("ud shared bucket", "PUT", "/buckets/ud-shared", alice_write),
        s("ud bob's collection there", "PUT", "/buckets/ud-shared/collections/bobs", {}, auth="bob"),
        s("ud alice's collection", "PUT", "/buckets/ud-shared/collections/alices", {"permissions": {"read": [bob]}}),
        s("ud group", "PUT", "/buckets/ud-shared/groups/g", {"data": {"members": [bob, "system.Authenticated"]}}),
        s("ud anonymous", "DELETE", f"/__user_data__/{bob}", auth=None),
        s("ud alice", "DELETE", f"/__user_data__/{bob}"),
        s("ud get", "GET", f"/__user_data__/{bob}", auth="admin"),
        s("ud plural", "DELETE", "/__user_data__", auth="admin"),
        s("ud delete bob", "DELETE", f"/__user_data__/{bob}", auth="admin"),
        s("ud bob bucket after", "GET", "/buckets/ud-bob"),
        s("ud bob records after", "GET", "/buckets/ud-shared/collections?_since=0&_sort=last_modified"),
        s("ud shared bucket after", "GET", "/buckets/ud-shared"),
        s("ud alice's collection after", "GET", "/buckets/ud-shared/collections/alices"),
        s("ud group after", "GET", "/buckets/ud-shared/groups/g"),
        s("ud bob root after", "GET", "/", auth="bob"),
        s("ud nobody", "DELETE", "/__user_data__/nobody", auth="admin"),
    ]


def counters():
    """GET /__counters__ (the run includes kinto.plugins.counters and the history)."""
    C = "/buckets/cnt/collections/c"
    return [
        s("counters empty", "GET", "/__counters__", auth=None),
        s("counters bucket", "PUT", "/buckets/cnt", {}),
        s("counters collection", "PUT", C, {}),
        s("counters record 1", "PUT", C + "/records/r1", {"data": {}}),
        s("counters record 2", "PUT", C + "/records/r2", {"data": {}}),
        s("counters group", "PUT", "/buckets/cnt/groups/g", {"data": {"members": []}}),
        s("counters record deleted", "DELETE", C + "/records/r1"),
        s("counters", "GET", "/__counters__", auth=None),
        s("counters authenticated", "GET", "/__counters__"),
        s("counters head", "HEAD", "/__counters__"),
        s("counters post", "POST", "/__counters__", {}),
    ]


def openid(provider):
    """kinto.plugins.openid with the provider ``auth0`` (tests/oidc_provider.py,
    on loopback): Bearer tokens, the login and token endpoints, the dance."""
    callback = urllib.parse.quote("http://localhost:3000/#tokens=", safe="")
    login = f"/openid/auth0/login?callback={callback}&scope=openid+email"
    token, expired = provider.issue_token(), provider.issue_token(expires_in=-10)
    bob, uncached = provider.issue_token({"sub": "bob"}), provider.issue_token({"sub": "carol"})

    def bearer(value):
        return {"Authorization": f"Bearer {value}"}

    def login_state(session, base):
        answer = session.get(base + login, allow_redirects=False, timeout=10)
        return answer.headers["Location"]

    def at_provider(location):
        """The provider consents at once and sends the browser back."""
        return requests.get(location, allow_redirects=False, timeout=10).headers["Location"]

    def dance(session, base, saved):
        back = at_provider(login_state(session, base))
        saved["token_url"] = back
        return session.get(back, allow_redirects=False, timeout=10)

    def state_reused(session, base, saved):
        return session.get(saved["token_url"], allow_redirects=False, timeout=10)

    def with_state(query):
        def flow(session, base, saved):
            state = urllib.parse.parse_qs(urllib.parse.urlsplit(login_state(session, base)).query)["state"][0]
            return session.get(f"{base}/openid/auth0/token?state={state}&{query}", allow_redirects=False, timeout=10)

        return flow

    def refused(session, base, saved):
        provider.refuse = "access_denied"
        try:
            return dance(session, base, saved)
        finally:
            provider.refuse = None

    def provider_down(session, base, saved):
        provider.stop()
        try:
            return session.get(base + "/", headers=bearer(uncached), timeout=10)
        finally:
            provider.start()

    T = "/openid/auth0/token"
    return [
        s("openid root anonymous", "GET", "/", auth=None),
        s("openid root bearer", "GET", "/", auth=None, headers=bearer(token)),
        s("openid root bearer again", "GET", "/", auth=None, headers=bearer(token)),
        s("openid root lowercase scheme", "GET", "/", auth=None, headers={"Authorization": f"bearer {token}"}),
        s("openid root basic auth profile", "GET", "/"),
        s("openid root expired token", "GET", "/", auth=None, headers=bearer(expired)),
        s("openid root garbage token", "GET", "/", auth=None, headers=bearer("garbage")),
        s("openid buckets expired token", "GET", "/buckets", auth=None, headers=bearer(expired)),
        s("openid buckets anonymous", "GET", "/buckets", auth=None),
        s("openid bucket create", "PUT", "/buckets/oid", {}, auth=None, headers=bearer(token)),
        s("openid bucket read", "GET", "/buckets/oid", auth=None, headers=bearer(token)),
        s("openid bucket other user", "GET", "/buckets/oid", auth=None, headers=bearer(bob)),
        s("openid default bucket", "GET", "/buckets/default", auth=None, headers=bearer(token)),
        s(
            "openid batch",
            "POST",
            "/batch",
            {"requests": [{"method": "GET", "path": "/buckets/oid"}]},
            auth=None,
            headers=bearer(token),
        ),
        s("openid login no query", "GET", "/openid/auth0/login", auth=None),
        s("openid login not a URL", "GET", "/openid/auth0/login?callback=notaurl&scope=openid", auth=None),
        s("openid login untrusted", "GET", "/openid/auth0/login?callback=http://evil.com/&scope=openid", auth=None),
        s(
            "openid login userinfo in URL",
            "GET",
            "/openid/auth0/login?callback=http://localhost:3000@evil.com/&scope=openid",
            auth=None,
        ),
        s("openid login scopes", "GET", login.replace("openid+email", "openid+offline_access+zzz"), auth=None),
        s("openid login prompt", "GET", login + "&prompt=login", auth=None),
        s("openid login prompt none", "GET", login + "&prompt=none", auth=None),
        s("openid login unknown provider", "GET", "/openid/nope/login", auth=None),
        s("openid login basicauth provider", "GET", login.replace("auth0", "basicauth"), auth=None),
        s("openid login", "GET", login, auth=None),
        s("openid login POST", "POST", login, {}, auth=None),
        s("openid token no query", "GET", T, auth=None),
        s("openid token state only", "GET", T + "?state=x", auth=None),
        s("openid token code only", "GET", T + "?code=c", auth=None),
        s("openid token code and error", "GET", T + "?state=x&code=c&error=e", auth=None),
        s("openid token invalid state", "GET", T + "?state=x&code=c", auth=None),
        s("openid token invalid state error", "GET", T + "?state=x&error=access_denied", auth=None),
        s("openid token unknown provider", "GET", "/openid/nope/token", auth=None),
        Flow("openid dance", "GET", T, auth=None, flow=dance),
        Flow("openid dance state reused", "GET", T, auth=None, flow=state_reused),
        Flow("openid dance refused", "GET", T, auth=None, flow=refused),
        Flow(
            "openid token error forwarded",
            "GET",
            T,
            auth=None,
            flow=with_state("error=access_denied&error_description=No+way"),
        ),
        Flow("openid token bad code", "GET", T, auth=None, flow=with_state("code=forged")),
        Flow("openid provider down", "GET", "/", auth=None, flow=provider_down),
    ]


def corpus():
    return (
        service()
        + buckets()
        + collections()
        + records()
        + nested_records()
        + groups()
        + sharing()
        + default_bucket()
        + batch()
        + cors()
        + permissions_endpoint()
        + history()
        + accounts()
        + cleanup()
    )


def operations():
    """A short tour for servers in a special state (read-only, back-off,
    end of service): reads, writes of every kind, batch, probes, CORS."""
    preflight = {"Origin": "http://app.example", "Access-Control-Request-Method": "PUT"}
    return [
        s("ops root", "GET", "/"),
        s("ops root anonymous", "GET", "/", auth=None),
        s("ops heartbeat", "GET", "/__heartbeat__", auth=None),
        s("ops lbheartbeat", "GET", "/__lbheartbeat__", auth=None),
        s("ops list buckets", "GET", "/buckets"),
        s("ops head buckets", "HEAD", "/buckets"),
        s("ops put bucket", "PUT", B, {}),
        s("ops post bucket", "POST", "/buckets", {"data": {"id": "x"}}),
        s("ops patch bucket", "PATCH", B, {"data": {"a": 1}}),
        s("ops delete bucket", "DELETE", B),
        s("ops delete buckets", "DELETE", "/buckets"),
        s("ops get missing bucket", "GET", B),
        s("ops records of missing", "GET", R),
        s(
            "ops batch",
            "POST",
            "/batch",
            {"requests": [{"method": "GET", "path": "/buckets"}, {"method": "PUT", "path": B}]},
        ),
        s("ops create account", "PUT", "/accounts/olga", {"data": {"password": "pw"}}, auth=None),
        s("ops permissions", "GET", "/permissions?_sort=uri"),
        s("ops flush", "POST", "/__flush__", auth=None),
        s("ops preflight", "OPTIONS", B, auth=None, headers=preflight),
        s("ops with Origin", "GET", "/buckets", headers=ORIGIN),
    ]
