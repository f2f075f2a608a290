import pytest
from openapi_spec_validator import validate

ALL_PLUGINS = {
    "kinto.includes": "kinto_server.plugins.default_bucket kinto_server.plugins.accounts "
    "kinto_server.plugins.history kinto_server.plugins.flush kinto_server.plugins.stream",
    "kinto.flush_endpoint_enabled": "true",
    "kinto.experimental_permissions_endpoint": "true",
}


@pytest.fixture
def spec(make_app):
    return make_app(**ALL_PLUGINS).get("/v1/__api__").json


def test_api_description_is_valid_openapi(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_every_endpoint_is_described(spec):
    expected = {
        "/",
        "/__heartbeat__",
        "/__lbheartbeat__",
        "/__version__",
        "/__api__",
        "/batch",
        "/permissions",
        "/buckets",
        "/buckets/{bucket_id}",
        "/buckets/{bucket_id}/collections",
        "/buckets/{bucket_id}/collections/{collection_id}",
        "/buckets/{bucket_id}/groups",
        "/buckets/{bucket_id}/groups/{group_id}",
        "/buckets/{bucket_id}/collections/{collection_id}/records",
        "/buckets/{bucket_id}/collections/{collection_id}/records/{record_id}",
        "/buckets/{bucket_id}/history",
        "/accounts",
        "/accounts/{id}",
        "/__flush__",
        "/changes/stream",
        "/changes/stream/tickets",
    }
    assert expected <= set(spec["paths"])
    record = spec["paths"]["/buckets/{bucket_id}/collections/{collection_id}/records/{record_id}"]
    assert {"get", "head", "put", "patch", "delete"} <= set(record)
    assert [p["name"] for p in record["parameters"]] == ["bucket_id", "collection_id", "record_id"]


def test_request_bodies_come_from_the_colander_schemas(spec):
    group_put = spec["paths"]["/buckets/{bucket_id}/groups/{group_id}"]["put"]
    body = group_put["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["data"]["properties"]["members"]["type"] == "array"
    assert set(body["properties"]["permissions"]["properties"]) == {"read", "write"}
    batch = spec["paths"]["/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert batch["required"] == ["requests"]
    listing = spec["paths"]["/buckets/{bucket_id}/collections/{collection_id}/records"]["get"]
    assert "_since" in [p["name"] for p in listing["parameters"]]


def test_path_parameters_carry_the_id_rules(spec):
    record = spec["paths"]["/buckets/{bucket_id}/collections/{collection_id}/records/{record_id}"]
    patterns = {p["name"]: p["schema"]["pattern"] for p in record["parameters"]}
    assert patterns == dict.fromkeys(("bucket_id", "collection_id", "record_id"), "^[a-zA-Z0-9][a-zA-Z0-9_-]*$")
    account = spec["paths"]["/accounts/{id}"]["parameters"][0]
    assert account["schema"]["pattern"] == "^[a-zA-Z0-9][+.@a-zA-Z0-9_-]*$"
    history = spec["paths"]["/buckets/{bucket_id}/history"]["parameters"][0]
    assert history["schema"]["pattern"] == "^[a-zA-Z0-9][a-zA-Z0-9_-]*$"


def test_the_change_stream_is_described_with_its_parameters_and_events(spec):
    get = spec["paths"]["/changes/stream"]["get"]
    assert [(p["name"], p["required"]) for p in get["parameters"]] == [
        ("resources", True),
        ("ticket", False),
        ("last_event_id", False),
    ]
    assert "text/event-stream" in get["responses"]["200"]["content"]
    assert "revoked" in get["responses"]["200"]["description"]
